/**
 * The server's `/admin` routes over real HTTP on 127.0.0.1: the console's page with its
 * Content-Security-Policy, its hashed assets, nothing outside the build directory, and no
 * console when the server is told not to serve one.
 */
import { Server } from "@acd-bridge/server"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const consoleIndex = fileURLToPath(new URL("../../packages/console/dist/app/index.html", import.meta.url))
if (!existsSync(consoleIndex)) {
  throw new Error(`${consoleIndex} is missing: the console is served from its build; run \`pnpm build\` first`)
}

const dir = mkdtempSync(join(tmpdir(), "acd-console-routes-"))
const scope = Effect.runSync(Scope.make())

const start = async (name: string, adminConsole: boolean): Promise<number> => {
  const layer = Server.layer({
    tenantId: "acme",
    adminToken: Redacted.make("console-routes-admin-token-0123456789"),
    http: { port: 0, host: "127.0.0.1", accessLog: LogLevel.Debug },
    scheduler: false,
    retention: false,
    adminConsole
  }).pipe(Layer.provide(Server.storageFromUrl(join(dir, `${name}.sqlite`))))
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return address.port
}

/** GET with the path sent exactly as given (fetch would resolve `..` before sending). */
const get = (port: number, path: string) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, method: "GET" }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    request.on("error", reject)
    request.end()
  })

let withConsole = 0
let without = 0

beforeAll(async () => {
  withConsole = await start("with", true)
  without = await start("without", false)
}, 60_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
})

describe("/admin", () => {
  it("answers the console's page, with a policy allowing this origin only, at /admin and below it", async () => {
    for (const path of ["/admin", "/admin/", "/admin/integrations?x=1"]) {
      const page = await get(withConsole, path)
      assert.strictEqual(page.status, 200, path)
      assert.match(page.headers["content-type"] ?? "", /^text\/html/)
      assert.strictEqual(page.headers["cache-control"], "no-store")
      const csp = page.headers["content-security-policy"] ?? ""
      assert.include(csp, "default-src 'none'")
      assert.include(csp, "connect-src 'self'")
      assert.include(csp, "script-src 'self'")
      assert.notMatch(csp, /https?:/)
      assert.include(page.body, `<div id="app">`)
    }
  })

  it("answers the page's assets as immutable files with their types, and nothing else", async () => {
    const page = await get(withConsole, "/admin")
    const assets = [...page.body.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    assert.isAtLeast(assets.length, 2)
    for (const asset of assets) {
      const file = await get(withConsole, asset)
      assert.strictEqual(file.status, 200, asset)
      assert.match(file.headers["content-type"] ?? "", asset.endsWith(".js") ? /^text\/javascript/ : /^text\/css/)
      assert.strictEqual(file.headers["cache-control"], "public, max-age=31536000, immutable")
      // every asset is the app's own: nothing refers to another origin
      assert.notMatch(file.body, /(?:src|href|url)\(?=?["']?https?:\/\//)
    }
    for (const path of ["/admin/assets/missing.js", "/admin/assets/../index.html", "/admin/assets/..%2F..%2Fpackage.json", "/admin/assets/%2e%2e/x.js"]) {
      const refused = await get(withConsole, path)
      assert.strictEqual(refused.status, 404, path)
      assert.notInclude(refused.body, "acd-bridge/console", path)
    }
  })

  it("is not served when the server is told not to", async () => {
    const refused = await get(without, "/admin")
    assert.strictEqual(refused.status, 404)
    // the API is still there
    assert.strictEqual((await get(without, "/health")).status, 200)
  })
})
