import parsePrometheus from "parse-prometheus-text-format"
import * as Redacted from "effect/Redacted"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  admin,
  adminToken,
  call,
  contactRecord,
  type IntegrationBody,
  type LogLine,
  pushContacts,
  pushIntegration,
  pushStatuses,
  startServer,
  type TestServer
} from "./helpers.js"

const metricsToken = "metrics-scraper-token-0123456789"

const scrape = async (server: TestServer, token = metricsToken) => {
  const answer = await call<string>(server, "GET", "/metrics", { token })
  assert.strictEqual(answer.status, 200, String(answer.body))
  assert.match(answer.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
  return parsePrometheus(answer.body)
}

type Families = ReturnType<typeof parsePrometheus>

const value = (families: Families, name: string, labels: Record<string, string> = {}): number | undefined => {
  const family = families.find((f) => f.name === name)
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  if (sample === undefined) return undefined
  return Number(sample.value ?? sample.count)
}

describe("GET /metrics", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({
      storage: "sqlite",
      scheduler: true,
      instrumented: true,
      metrics: { token: Redacted.make(metricsToken), tenants: ["tenant-a"] }
    })
  })
  afterAll(() => server.close())

  it("parses as Prometheus text and its counters move: requests, push records, import runs, lag, SSE subscribers", async () => {
    const before = await scrape(server)
    const { apiKey, id } = await pushIntegration(server, { name: "metered" })
    const now = Date.now()
    const at = (m: number) => new Date(now - m * 60_000).toISOString()
    assert.strictEqual((await pushContacts(server, apiKey, id, [contactRecord({ timestamp: at(5) }), contactRecord({ timestamp: at(6) })])).status, 200)
    assert.strictEqual((await pushStatuses(server, apiKey, id, [{ agentIdentifier: "a", activityIdentifier: "R", startTime: at(3) }])).status, 200)
    const bad = await pushContacts(server, apiKey, id, [contactRecord({ timestamp: at(5) }), contactRecord({ timestamp: "never" }), contactRecord({ timestamp: at(1) })])
    assert.strictEqual(bad.status, 422)
    const pulled = await admin(server).post<IntegrationBody>("/v1/integrations", {
      name: "pulled",
      connector: "fake",
      config: { apiKey: "fake-secret" },
      historyDepthDays: 1
    })
    const stream = new AbortController()
    const subscribed = await fetch(`${server.url}/v1/agent-statuses/stream`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: stream.signal
    })
    await subscribed.body!.getReader().read()
    // the pulled integration imports its history (runs recorded through the instrumented store)
    let after = await scrape(server)
    for (let i = 0; i < 100 && (value(after, "acd_bridge_integration_lag_seconds", { integration_id: pulled.body.id }) ?? -1) < 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
      after = await scrape(server)
    }
    const accepted = (kind: string, f: Families) => value(f, "acd_bridge_push_records_total", { kind, outcome: "accepted" }) ?? 0
    assert.strictEqual(accepted("contactEvents", after) - accepted("contactEvents", before), 2)
    assert.strictEqual(accepted("agentStatuses", after) - accepted("agentStatuses", before), 1)
    assert.strictEqual(value(after, "acd_bridge_push_records_total", { kind: "contactEvents", outcome: "rejected" }), 3)
    assert.isAtLeast(
      value(after, "acd_bridge_http_requests_total", { route: "/external-systems/contact-events", status: "200" }) ?? 0,
      1
    )
    assert.strictEqual(
      value(after, "acd_bridge_http_requests_total", { route: "/external-systems/contact-events", status: "422" }),
      1
    )
    assert.isAtLeast(value(after, "acd_bridge_http_requests_total", { route: "/v1/integrations/{id}/api-key", method: "POST" }) ?? 0, 1)
    assert.isAtLeast(value(after, "acd_bridge_import_runs_total", { kind: "push", outcome: "succeeded" }) ?? 0, 2)
    assert.isAtLeast(value(after, "acd_bridge_import_runs_total", { kind: "history", outcome: "succeeded" }) ?? 0, 1)
    assert.isBelow(value(after, "acd_bridge_integration_lag_seconds", { integration_id: pulled.body.id })!, 3_600)
    assert.strictEqual(value(after, "acd_bridge_integration_failing", { integration_id: pulled.body.id }), 0)
    assert.strictEqual(value(after, "acd_bridge_sse_subscribers"), 1)
    // the parser merges labelled histograms (prom-client writes `le` first): read the count line itself
    const raw = (await call<string>(server, "GET", "/metrics", { token: metricsToken })).body
    const ingests = /^acd_bridge_storage_operation_seconds_count\{operation="data\.ingest"\} (\d+)$/m.exec(raw)
    assert.isAtLeast(Number(ingests?.[1] ?? 0), 3)
    assert.isDefined(value(after, "process_cpu_user_seconds_total"))
    stream.abort()
    let closed = await scrape(server)
    for (let i = 0; i < 50 && value(closed, "acd_bridge_sse_subscribers") !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
      closed = await scrape(server)
    }
    assert.strictEqual(value(closed, "acd_bridge_sse_subscribers"), 0)
    // staged records of a paused integration
    await admin(server).post(`/v1/integrations/${id}/pause`)
    await pushContacts(server, apiKey, id, [contactRecord({ timestamp: at(2) })])
    assert.strictEqual(value(await scrape(server), "acd_bridge_staged_records", { integration_id: id }), 1)
  })

  it("takes the metrics token, the admin token or a personal access token; nothing else", async () => {
    assert.strictEqual((await call(server, "GET", "/metrics")).status, 401)
    assert.strictEqual((await call(server, "GET", "/metrics", { token: "metrics-scraper-token-wrong-one" })).status, 401)
    const { apiKey } = await pushIntegration(server, { name: "key" })
    assert.strictEqual((await call(server, "GET", "/metrics", { token: apiKey })).status, 401)
    const byAdmin = await scrape(server, adminToken)
    assert.isDefined(byAdmin.find((f) => f.name === "acd_bridge_http_requests_total"))
    await scrape(server, await server.pat())
  })
})

describe("access log", () => {
  const logs: Array<LogLine> = []
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", logs })
  })
  afterAll(() => server.close())

  it("one Info line per request, with route and status, and never a credential", async () => {
    const { apiKey, id } = await pushIntegration(server, { name: "logged" })
    const pat = await server.pat()
    await pushContacts(server, apiKey, id, [contactRecord({ timestamp: new Date(Date.now() - 60_000).toISOString() })])
    await call(server, "GET", "/v1/integrations", { token: pat })
    await call(server, "GET", "/v1/integrations?token=url-secret-123", { token: "acdp_wrong-guessed-token-value" })
    await call(server, "GET", `/v1/integrations/${id}`, { token: adminToken, headers: { "x-api-key": "header-secret-456" } })
    const access = logs.filter((l) => l.message === "http request" || (Array.isArray(l.message) && l.message.includes("http request")))
    assert.isAtLeast(access.length, 5)
    assert.isTrue(access.every((l) => l.level === "INFO"))
    const line = access.find((l) => l.annotations["route"] === "/v1/integrations/{id}" && l.annotations["method"] === "GET")!
    assert.deepStrictEqual([line.annotations["status"], line.annotations["path"]], [200, `/v1/integrations/${id}`])
    assert.isString(line.annotations["requestId"])
    const everything = JSON.stringify(logs)
    for (const secret of [adminToken, apiKey, pat, "acdp_wrong-guessed-token-value", "url-secret-123", "header-secret-456"]) {
      assert.notInclude(everything, secret)
    }
  })
})
