/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL, to drop connections on demand.
 */
import * as Effect from "effect/Effect"
import * as net from "node:net"

export interface Proxy {
  readonly port: number
  /** destroys every open connection and refuses new ones until `restore` */
  readonly cut: Effect.Effect<void>
  readonly restore: Effect.Effect<void>
  /** connections accepted so far */
  readonly accepted: () => number
}

export const makeProxy = (target: { readonly host: string; readonly port: number }) =>
  Effect.acquireRelease(
    Effect.async<{ proxy: Proxy; close: () => Promise<void> }>((resume) => {
      const sockets = new Set<net.Socket>()
      let blocked = false
      let accepted = 0
      const track = (s: net.Socket) => {
        sockets.add(s)
        s.on("close", () => sockets.delete(s))
        s.on("error", () => s.destroy())
      }
      const server = net.createServer((client) => {
        track(client)
        if (blocked) {
          client.destroy()
          return
        }
        accepted++
        const upstream = net.connect(target.port, target.host)
        track(upstream)
        client.pipe(upstream)
        upstream.pipe(client)
        client.on("close", () => upstream.destroy())
        upstream.on("close", () => client.destroy())
      })
      const destroyAll = () => {
        for (const s of sockets) s.destroy()
        sockets.clear()
      }
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          proxy: {
            port,
            cut: Effect.sync(() => {
              blocked = true
              destroyAll()
            }),
            restore: Effect.sync(() => {
              blocked = false
            }),
            accepted: () => accepted
          },
          close: () =>
            new Promise<void>((done) => {
              destroyAll()
              server.close(() => done())
            })
        }))
      })
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ proxy }) => proxy))
