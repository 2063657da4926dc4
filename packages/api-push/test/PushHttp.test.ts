import { Integrations, Principal } from "@acd-bridge/core"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { PushApi, type PushWire } from "../src/index.js"
import { tenantId, TestEngine } from "./engine.js"

// The push group mounted in a host's own API, without @acd-bridge/http: every caller is the
// tenant's admin, and errors are answered as {error, ...fields} with 422.
class TestApi extends HttpApi.make("test").add(PushApi.group) {}

const handle = (kind: PushWire.Kind, request: HttpServerRequest.HttpServerRequest, idempotencyKey: string | undefined) =>
  Effect.flatMap(Effect.orDie(request.text), (body) =>
    PushApi.push(kind, Principal.Admin({ tenantId }), body, { idempotencyKey })).pipe(
      Effect.catchAll((error) => Effect.succeed(HttpServerResponse.unsafeJson({ ...error, error: error._tag }, { status: 422 })))
    )

const PushLive = HttpApiBuilder.group(TestApi, "push", (handlers) =>
  handlers
    .handleRaw("contactEvents", ({ headers, request }) => handle("contactEvents", request, headers["idempotency-key"]))
    .handleRaw("agentStatuses", ({ headers, request }) => handle("agentStatuses", request, headers["idempotency-key"])))

describe("the push group over HTTP", () => {
  let url: string
  let server: Http.Server
  let dispose: () => Promise<void>

  beforeAll(async () => {
    // the first integration gets id "4711" (see engine.ts)
    const seeded = Layer.effectDiscard(
      Effect.flatMap(Integrations.Integrations, (s) => s.create(tenantId, { name: "ACD", connector: "api-push", timezone: "Europe/Berlin" }))
    )
    const web = HttpApiBuilder.toWebHandler(
      Layer.mergeAll(HttpApiBuilder.api(TestApi).pipe(Layer.provide(PushLive)), HttpServer.layerContext, seeded).pipe(
        Layer.provideMerge(TestEngine)
      )
    )
    dispose = web.dispose
    // a plain node:http server in front of the web handler: real requests on 127.0.0.1
    server = Http.createServer(async (req, res) => {
      const chunks: Array<Buffer> = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value)
      const response = await web.handler(new Request(`http://127.0.0.1${req.url}`, {
        method: req.method!,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {})
      }))
      res.writeHead(response.status, Object.fromEntries(response.headers))
      res.end(Buffer.from(await response.arrayBuffer()))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await dispose()
  })

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body)
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))

  it("documents both routes in OpenAPI", () => {
    const spec = OpenApi.fromApi(TestApi)
    assert.property(spec.paths, "/external-systems/contact-events")
    assert.property(spec.paths, "/external-systems/agent-statuses")
  })

  const contact = {
    properties: { offered: true, handled: true, duration: 200.1 },
    queueName: "Level 1 support",
    queueIdentifier: "1337_99",
    timestamp: "2026-03-29T01:30:00Z",
    channel: "calls"
  }

  it("accepts the DESIGN §4 bodies and answers {accepted: N}", async () => {
    const contacts = await post("/external-systems/contact-events", {
      data: [contact, { ...contact, timestamp: "2026-03-29T03:30:00" }],
      meta: { integrationConfigurationId: "4711" }
    })
    assert.deepStrictEqual(contacts, { status: 200, body: { accepted: 2 } })
    const statuses = await post("/external-systems/agent-statuses", {
      data: [
        { agentIdentifier: "a-7", activityIdentifier: "BREAK", startTime: "2026-03-02T09:00:00Z", endTime: "2026-03-02T09:15:00Z" },
        { agentIdentifier: "a-7", activityIdentifier: "READY", startTime: "2026-03-02T09:15:00Z", endTime: null }
      ],
      meta: { integrationConfigurationId: 4711, externalSystem: "acd" }
    })
    assert.deepStrictEqual(statuses, { status: 200, body: { accepted: 2 } })
  })

  it("honours Idempotency-Key and names the bad record", async () => {
    const batch = { data: [contact], meta: { integrationConfigurationId: 4711 } }
    const first = await post("/external-systems/contact-events", batch, { "idempotency-key": "once" })
    const again = await post("/external-systems/contact-events", batch, { "idempotency-key": "once" })
    assert.deepStrictEqual([first.body, again.body], [{ accepted: 1 }, { accepted: 1 }])
    const other = await post("/external-systems/contact-events", { ...batch, data: [contact, contact] }, { "idempotency-key": "once" })
    assert.deepStrictEqual([other.status, other.body.error], [422, "IdempotencyKeyReused"])
    const gap = await post("/external-systems/contact-events", {
      data: [contact, { ...contact, timestamp: "2026-03-29T02:30:00" }],
      meta: { integrationConfigurationId: 4711 }
    })
    assert.deepStrictEqual([gap.status, gap.body.error, gap.body.index, gap.body.field], [422, "InvalidRecord", 1, "timestamp"])
    const missing = await post("/external-systems/contact-events", { data: [contact], meta: { integrationConfigurationId: 1 } })
    assert.deepStrictEqual([missing.status, missing.body.error], [422, "IntegrationNotFound"])
  })
})
