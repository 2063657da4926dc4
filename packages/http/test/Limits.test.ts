import { PushConnector } from "@acd-bridge/api-push"
import { ConnectorRegistry, Domain, Engine, Storage } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { readFileSync } from "node:fs"
import * as Https from "node:https"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Authenticator, HttpAdapter } from "../src/index.js"
import { adminToken, call, contactRecord, type Problem, pushContacts, pushIntegration, startServer, type TestServer } from "./helpers.js"

describe("body limit", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ maxBodyBytes: 64 * 1024 })
  })
  afterAll(() => server.close())

  const records = (n: number) => Array.from({ length: n }, (_, i) => contactRecord({ timestamp: `2026-03-02T09:${String(i % 60).padStart(2, "0")}:00Z` }))

  it("a body over the limit is 413 (declared length), one under it is accepted", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "limit" })
    const small = await pushContacts(server, apiKey, id, records(100))
    assert.strictEqual(small.status, 200)
    const big = await pushContacts(server, apiKey, id, records(2_000))
    assert.strictEqual(big.status, 413)
    assert.strictEqual((big.body as Problem).status, 413)
    assert.match((big.body as Problem).detail, /65536 bytes/)
    const adminBig = await call(server, "POST", "/v1/integrations", {
      token: adminToken,
      body: { name: "x".repeat(100_000), connector: "api-push" }
    })
    assert.strictEqual(adminBig.status, 413)
  })

  it("a chunked body (no Content-Length) over the limit is 413 too", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "chunked" })
    const bytes = new TextEncoder().encode(JSON.stringify({ data: records(1_000), meta: { integrationConfigurationId: id } }))
    assert.isAbove(bytes.length, 64 * 1024)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8_192) controller.enqueue(bytes.slice(i, i + 8_192))
        controller.close()
      }
    })
    const init: RequestInit & { duplex: "half" } = {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body,
      duplex: "half"
    }
    const response = await fetch(`${server.url}/external-systems/contact-events`, init)
    assert.strictEqual(response.status, 413)
    assert.strictEqual(((await response.json()) as Problem).status, 413)
  })
})

describe("rate limit", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", rateLimit: { requestsPerSecond: 1, burst: 3 } })
  })
  afterAll(() => server.close())

  it("answers 429 with Retry-After once a credential's bucket is empty; other credentials are unaffected", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "limited" })
    const record = [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })]
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await pushContacts(server, apiKey, id, record))
    const limited = answers.filter((a) => a.status === 429)
    assert.isAtLeast(limited.length, 2)
    assert.strictEqual(answers[0]!.status, 200)
    const retryAfter = Number(limited[0]!.headers.get("retry-after"))
    assert.isAtLeast(retryAfter, 1)
    const problem = limited[0]!.body as Problem & { retryAfterSeconds: number }
    assert.strictEqual(problem.status, 429)
    assert.strictEqual(problem.retryAfterSeconds, retryAfter)
    const pat = await server.pat()
    assert.strictEqual((await pushContacts(server, pat, id, record)).status, 200)
    assert.strictEqual((await call(server, "GET", "/health")).status, 200)
  })
})

describe("transport security", () => {
  const cert = readFileSync(new URL("./fixtures/localhost-cert.pem", import.meta.url), "utf8")
  const key = readFileSync(new URL("./fixtures/localhost-key.pem", import.meta.url), "utf8")

  it("serves HTTPS when given a certificate", async () => {
    const server = await startServer({ storage: "memory", tls: { cert, key } })
    try {
      assert.match(server.url, /^https:/)
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = Https.request(`${server.url}/health`, { ca: cert }, (response) => {
          let body = ""
          response.on("data", (chunk: Buffer) => (body += chunk.toString()))
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
        })
        request.on("error", reject)
        request.end()
      })
      assert.deepStrictEqual([answer.status, (JSON.parse(answer.body) as { status: string }).status], [200, "ok"])
      const plain = await fetch(server.url.replace("https:", "http:") + "/health").then(() => "answered", () => "refused")
      assert.strictEqual(plain, "refused")
    } finally {
      await server.close()
    }
  })

  const deps = Engine.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(PushConnector.connector))),
    (engine) =>
      Layer.merge(
        engine,
        Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId: Domain.TenantId.make("t") }).pipe(
          Layer.provide(engine)
        )
      )
  )
  const start = (options: HttpAdapter.Options) =>
    Effect.runPromiseExit(Effect.scoped(Layer.build(HttpAdapter.layer(options).pipe(Layer.provide(deps)))))

  it("refuses plain HTTP on a non-loopback address unless a TLS proxy is declared", async () => {
    const refused = await start({ host: "0.0.0.0", port: 0 })
    assert.isTrue(Exit.isFailure(refused))
    if (Exit.isFailure(refused)) assert.include(String(refused.cause), "InsecureListen")
    assert.isTrue(Exit.isSuccess(await start({ host: "0.0.0.0", port: 0, trustProxy: true })))
    assert.isTrue(Exit.isSuccess(await start({ host: "0.0.0.0", port: 0, tls: { cert, key } })))
    assert.isTrue(Exit.isSuccess(await start({ host: "localhost", port: 0 })))
  })

  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"]) assert.isTrue(HttpAdapter.isLoopback(host), host)
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "128.0.0.1"]) assert.isFalse(HttpAdapter.isLoopback(host), host)
  })
})
