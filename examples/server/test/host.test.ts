/**
 * The README's embedding example (`src/host.ts`) runs: the server with a host's own connector
 * and authenticator serves the host's users, offers the connector, and refuses other tokens.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { HostLive } from "../src/host.js"

const dir = mkdtempSync(join(tmpdir(), "acd-host-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("examples/server/src/host.ts", () => {
  it("serves the host's users with its own authenticator and connector", async () => {
    process.env["ACD_BRIDGE_DATABASE_URL"] = join(dir, "host.sqlite")
    const program = Effect.gen(function*() {
      const address = (yield* HttpServer.HttpServer).address
      const url = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const call = (path: string, token: string, body?: unknown) =>
        Effect.promise(async () => {
          const response = await fetch(`${url}${path}`, {
            method: body === undefined ? "GET" : "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
          })
          return { status: response.status, body: await response.json() as unknown }
        })
      const created = yield* call("/v1/integrations", "token-of-alice-in-acme", {
        name: "Acme",
        connector: "acme",
        config: { tenantCode: "X1" }
      })
      const refused = yield* call("/v1/integrations", "someone-else")
      const listed = yield* call("/v1/integrations", "token-of-alice-in-acme")
      return { created, refused, listed }
    })
    const { created, listed, refused } = await Effect.runPromise(
      program.pipe(Effect.provide(HostLive(0)), Effect.scoped)
    )
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    assert.strictEqual((created.body as { connector: string }).connector, "acme")
    assert.strictEqual(refused.status, 401)
    assert.deepStrictEqual((listed.body as Array<{ name: string }>).map((i) => i.name), ["Acme"])
  }, 60_000)
})

