import { Errors, Queues, Storage } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  admin,
  adminToken,
  call,
  contactRecord,
  type IntegrationBody,
  type LogLine,
  type Problem,
  pushContacts,
  pushIntegration,
  pushStatuses,
  startServer,
  tenantId,
  type TestServer
} from "./helpers.js"

const assertProblem = (answer: { status: number; headers: Headers; body: unknown }, status: number) => {
  assert.strictEqual(answer.status, status, JSON.stringify(answer.body))
  assert.strictEqual(answer.headers.get("content-type"), "application/problem+json")
  const body = answer.body as Problem
  assert.strictEqual(body.status, status)
  assert.match(body.type, /^urn:acd-bridge:problem:/)
  assert.isString(body.title)
  assert.isString(body.detail)
  assert.notMatch(JSON.stringify(body), /\bat .*\.(ts|js):\d+/, "no stack trace in problem bodies")
  return body
}

describe("admin API", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  describe("authentication", () => {
    it("401 without credentials, with a wrong token, and for an API key on an admin route (same body)", async () => {
      const { apiKey } = await pushIntegration(server, { name: "auth" })
      const none = await call(server, "GET", "/v1/integrations")
      const wrong = await call(server, "GET", "/v1/integrations", { token: "not-a-token" })
      const key = await call(server, "GET", "/v1/integrations", { token: apiKey })
      const unknownPat = await call(server, "GET", "/v1/integrations", { token: "acdp_unknownunknownunknown" })
      for (const answer of [none, wrong, key, unknownPat]) {
        assertProblem(answer, 401)
        assert.strictEqual(answer.headers.get("www-authenticate"), "Bearer")
      }
      assert.deepStrictEqual(wrong.body, key.body)
      assert.deepStrictEqual(wrong.body, unknownPat.body)
    })

    it("a personal access token acts within its tenant only", async () => {
      const mine = await server.pat()
      const other = await server.pat("tenant-b")
      const created = await admin(server).post<IntegrationBody>("/v1/integrations", { name: "PAT visible", connector: "api-push" })
      const listed = await call<Array<IntegrationBody>>(server, "GET", "/v1/integrations", { token: mine })
      assert.strictEqual(listed.status, 200)
      assert.isTrue(listed.body.some((i) => i.id === created.body.id))
      const foreign = await call<Array<IntegrationBody>>(server, "GET", "/v1/integrations", { token: other })
      assert.strictEqual(foreign.status, 200)
      assert.isFalse(foreign.body.some((i) => i.id === created.body.id))
      assertProblem(await call(server, "GET", `/v1/integrations/${created.body.id}`, { token: other }), 404)
    })
  })

  describe("integrations", () => {
    it("POST creates (201) with warnings for a duplicate name", async () => {
      const first = await admin(server).post<IntegrationBody>("/v1/integrations", {
        name: "Twice",
        connector: "api-push",
        timezone: "Europe/Berlin"
      })
      assert.strictEqual(first.status, 201)
      assert.deepStrictEqual(first.body.warnings, [])
      assert.strictEqual(first.body.timezone, "Europe/Berlin")
      assert.strictEqual(first.body.status, "active")
      const second = await admin(server).post<IntegrationBody>("/v1/integrations", { name: "Twice", connector: "api-push" })
      assert.strictEqual(second.status, 201)
      assert.notStrictEqual(second.body.id, first.body.id)
      assert.strictEqual(second.body.warnings?.length, 1)
      assert.match(second.body.warnings![0]!, /Twice/)
    })

    it("POST answers 422 naming the field, 400 for malformed JSON", async () => {
      const unknown = assertProblem(await admin(server).post("/v1/integrations", { name: "x", connector: "nope" }), 422)
      assert.strictEqual(unknown.field, "connector")
      const mode = assertProblem(
        await admin(server).post("/v1/integrations", { name: "x", connector: "api-push", deliveryMode: "on-premise" }),
        422
      )
      assert.strictEqual(mode.field, "deliveryMode")
      const zone = assertProblem(
        await admin(server).post("/v1/integrations", { name: "x", connector: "api-push", timezone: "Mars/Olympus" }),
        422
      )
      assert.strictEqual(zone.field, "timezone")
      const missing = assertProblem(await admin(server).post("/v1/integrations", { connector: "api-push" }), 422)
      assert.strictEqual(missing.field, "name")
      const config = assertProblem(
        await admin(server).post("/v1/integrations", { name: "files", connector: "files", config: { folder: "/in" } }),
        422
      )
      assert.strictEqual(config.field, "config.password")
      assertProblem(
        await call(server, "POST", "/v1/integrations", { token: adminToken, raw: "{\"name\": " }),
        400
      )
    })

    it("GET lists and reads, never with keys or secrets", async () => {
      const created = await admin(server).post<IntegrationBody & { config: unknown }>("/v1/integrations", {
        name: "Files",
        connector: "files",
        config: { folder: "/in", password: "hunter2-secret" }
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const key = await admin(server).post<{ apiKey: string }>(`/v1/integrations/${created.body.id}/api-key`)
      const one = await admin(server).get<IntegrationBody & { config: unknown }>(`/v1/integrations/${created.body.id}`)
      assert.strictEqual(one.status, 200)
      assert.deepStrictEqual(one.body.config, { folder: "/in", password: "<redacted>" })
      const all = await admin(server).get<Array<IntegrationBody>>("/v1/integrations")
      assert.strictEqual(all.status, 200)
      for (const text of [JSON.stringify(created.body), JSON.stringify(one.body), JSON.stringify(all.body)]) {
        assert.notInclude(text, "hunter2-secret")
        assert.notInclude(text, key.body.apiKey)
      }
      assertProblem(await admin(server).get("/v1/integrations/does-not-exist"), 404)
    })

    it("POST api-key answers 201 once; a new key revokes the old one", async () => {
      const created = await admin(server).post<IntegrationBody>("/v1/integrations", { name: "Keys", connector: "api-push" })
      const first = await admin(server).post<{ apiKey: string; prefix: string }>(`/v1/integrations/${created.body.id}/api-key`)
      assert.strictEqual(first.status, 201)
      assert.match(first.body.apiKey, /^acdb_/)
      assert.isTrue(first.body.apiKey.startsWith(first.body.prefix))
      const record = contactRecord({ timestamp: "2026-03-02T09:00:00Z" })
      assert.strictEqual((await pushContacts(server, first.body.apiKey, created.body.id, [record])).status, 200)
      const second = await admin(server).post<{ apiKey: string }>(`/v1/integrations/${created.body.id}/api-key`)
      assert.strictEqual(second.status, 201)
      assertProblem(await pushContacts(server, first.body.apiKey, created.body.id, [record]), 401)
      assert.strictEqual((await pushContacts(server, second.body.apiKey, created.body.id, [record])).status, 200)
      assertProblem(await admin(server).post("/v1/integrations/nope/api-key"), 404)
    })

    it("pause and resume answer 200 with the integration and are no-ops when repeated; delete 204 then 410", async () => {
      const created = await admin(server).post<IntegrationBody>("/v1/integrations", { name: "Life", connector: "api-push" })
      const id = created.body.id
      const paused = await admin(server).post<IntegrationBody>(`/v1/integrations/${id}/pause`)
      assert.strictEqual(paused.status, 200)
      assert.strictEqual(paused.body.status, "paused")
      assert.strictEqual((await admin(server).post<IntegrationBody>(`/v1/integrations/${id}/pause`)).body.status, "paused")
      const resumed = await admin(server).post<IntegrationBody>(`/v1/integrations/${id}/resume`)
      assert.strictEqual(resumed.status, 200)
      assert.strictEqual(resumed.body.status, "active")
      assert.strictEqual((await admin(server).post<IntegrationBody>(`/v1/integrations/${id}/resume`)).body.status, "active")
      const deleted = await admin(server).del(`/v1/integrations/${id}`)
      assert.strictEqual(deleted.status, 204)
      assert.strictEqual(deleted.body, "")
      assert.strictEqual((await admin(server).get<IntegrationBody>(`/v1/integrations/${id}`)).body.status, "deleted")
      assertProblem(await admin(server).del(`/v1/integrations/${id}`), 410)
      assertProblem(await admin(server).post(`/v1/integrations/${id}/pause`), 410)
      assertProblem(await admin(server).post(`/v1/integrations/${id}/resume`), 410)
      assertProblem(await admin(server).post(`/v1/integrations/${id}/api-key`), 410)
      for (const path of ["pause", "resume"]) assertProblem(await admin(server).post(`/v1/integrations/nope/${path}`), 404)
      assertProblem(await admin(server).del("/v1/integrations/nope"), 404)
    })

    it("GET runs lists import runs, newest first", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "Runs" })
      await pushContacts(server, apiKey, id, [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })])
      await pushContacts(server, apiKey, id, [
        contactRecord({ timestamp: "2026-03-02T09:00:00Z" }),
        contactRecord({ timestamp: "2026-03-02T09:10:00Z" })
      ])
      const runs = await admin(server).get<Array<{ kind: string; read: number; applied: number; error: null }>>(
        `/v1/integrations/${id}/runs`
      )
      assert.strictEqual(runs.status, 200)
      assert.deepStrictEqual(runs.body.map((r) => [r.kind, r.read, r.applied, r.error]), [["push", 2, 2, null], [
        "push",
        1,
        1,
        null
      ]])
      const limited = await admin(server).get<Array<unknown>>(`/v1/integrations/${id}/runs?limit=1`)
      assert.strictEqual(limited.body.length, 1)
      assertProblem(await admin(server).get(`/v1/integrations/${id}/runs?limit=0`), 400)
      assertProblem(await admin(server).get("/v1/integrations/nope/runs"), 404)
    })
  })

  describe("queues and workloads", () => {
    it("queues list with workloads; integration queues can't be deleted; workloads group them", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "Queues" })
      await pushContacts(server, apiKey, id, [
        contactRecord({ timestamp: "2026-03-02T09:00:00Z", queueIdentifier: "q1", queueName: "One" }),
        contactRecord({ timestamp: "2026-03-02T09:00:00Z", queueIdentifier: "q2", queueName: "Two", channel: "chats" })
      ])
      type QueueBody = { id: string; identifier: string; channel: string; createdByIntegration: boolean; workloadIds: Array<string> }
      const queues = await admin(server).get<Array<QueueBody>>(`/v1/queues?integrationId=${id}`)
      assert.strictEqual(queues.status, 200)
      assert.deepStrictEqual(queues.body.map((q) => [q.identifier, q.channel, q.createdByIntegration]).sort(), [
        ["q1", "calls", true],
        ["q2", "chats", true]
      ])
      const [q1, q2] = [queues.body.find((q) => q.identifier === "q1")!, queues.body.find((q) => q.identifier === "q2")!]

      const workload = await admin(server).post<{ id: string; name: string; queueIds: Array<string> }>("/v1/workloads", {
        name: "Support",
        queueIds: [q1.id]
      })
      assert.strictEqual(workload.status, 201)
      assert.deepStrictEqual(workload.body.queueIds, [q1.id])
      const updated = await admin(server).put<{ queueIds: Array<string> }>(`/v1/workloads/${workload.body.id}/queues`, {
        queueIds: [q1.id, q2.id]
      })
      assert.strictEqual(updated.status, 200)
      assert.deepStrictEqual(updated.body.queueIds, [q1.id, q2.id])
      const listed = await admin(server).get<Array<QueueBody>>(`/v1/queues?integrationId=${id}`)
      for (const q of listed.body) assert.deepStrictEqual(q.workloadIds, [workload.body.id])
      assert.strictEqual((await admin(server).get<{ id: string }>(`/v1/workloads/${workload.body.id}`)).body.id, workload.body.id)
      assert.isTrue((await admin(server).get<Array<{ id: string }>>("/v1/workloads")).body.some((w) => w.id === workload.body.id))

      assertProblem(await admin(server).del(`/v1/queues/${q1.id}`), 409)
      assertProblem(await admin(server).del("/v1/queues/nope"), 404)
      assertProblem(await admin(server).get("/v1/queues?integrationId=nope"), 404)
      const unknownQueue = assertProblem(await admin(server).post("/v1/workloads", { name: "W", queueIds: ["nope"] }), 422)
      assert.strictEqual(unknownQueue.field, "queueIds")
      assertProblem(await admin(server).post("/v1/workloads", { queueIds: [] }), 422)
      assertProblem(await admin(server).put("/v1/workloads/nope/queues", { queueIds: [] }), 404)
      assertProblem(await admin(server).put(`/v1/workloads/${workload.body.id}/queues`, { queueIds: ["nope"] }), 422)
      assertProblem(await admin(server).get("/v1/workloads/nope"), 404)
    })

    it("a queue made by hand can be deleted (204)", async () => {
      const queue = await server.runtime.runPromise(Effect.gen(function*() {
        return yield* (yield* Queues.Queues).create(tenantId, { identifier: "bo", name: "Back office", channel: "back_office" })
      }))
      const listed = await admin(server).get<Array<{ id: string; createdByIntegration: boolean }>>("/v1/queues")
      assert.isFalse(listed.body.find((q) => q.id === queue.id)!.createdByIntegration)
      const deleted = await admin(server).del(`/v1/queues/${queue.id}`)
      assert.strictEqual(deleted.status, 204)
      assertProblem(await admin(server).del(`/v1/queues/${queue.id}`), 404)
    })
  })

  describe("mappings and agent statuses", () => {
    it("unmapped ids are reported and mappings apply to stored statuses", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "Mappings" })
      const pushed = await pushStatuses(server, apiKey, id, [
        { agentIdentifier: "a-7", activityIdentifier: "BREAK", startTime: "2026-03-02T09:00:00Z", endTime: "2026-03-02T09:15:00Z" },
        { agentIdentifier: "a-7", activityIdentifier: "READY", startTime: "2026-03-02T09:15:00Z", endTime: null },
        { agentIdentifier: "a-8", activityIdentifier: "READY", startTime: "2026-03-02T09:05:00Z" }
      ])
      assert.strictEqual(pushed.status, 200)
      type StatusBody = {
        agentIdentifier: string
        activityIdentifier: string
        startTime: string
        endTime: string | null
        employeeId: string | null
        activityId: string | null
      }
      const range = "from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"
      const before = await admin(server).get<Array<StatusBody>>(`/v1/agent-statuses?integrationId=${id}&${range}`)
      assert.strictEqual(before.status, 200)
      assert.deepStrictEqual(
        before.body.map((s) => [s.agentIdentifier, s.activityIdentifier, s.startTime, s.endTime, s.employeeId, s.activityId]),
        [
          ["a-7", "BREAK", "2026-03-02T09:00:00.000Z", "2026-03-02T09:15:00.000Z", null, null],
          ["a-7", "READY", "2026-03-02T09:15:00.000Z", null, null, null],
          ["a-8", "READY", "2026-03-02T09:05:00.000Z", null, null, null]
        ]
      )
      const unmapped = await admin(server).get<{ agents: Array<{ externalId: string; segments: number }>; activities: Array<{ externalId: string; segments: number }> }>(
        `/v1/integrations/${id}/unmapped`
      )
      assert.strictEqual(unmapped.status, 200)
      assert.deepStrictEqual(unmapped.body.agents.map((a) => [a.externalId, a.segments]).sort(), [["a-7", 2], ["a-8", 1]])
      assert.deepStrictEqual(unmapped.body.activities.map((a) => [a.externalId, a.segments]).sort(), [["BREAK", 1], ["READY", 2]])

      const agents = await admin(server).put<Array<{ externalId: string; employeeId: string }>>(
        `/v1/integrations/${id}/mappings/agents`,
        [{ externalId: "a-7", employeeId: "emp-1" }]
      )
      assert.strictEqual(agents.status, 200)
      assert.deepStrictEqual(agents.body, [{ externalId: "a-7", employeeId: "emp-1" }])
      const activities = await admin(server).put(`/v1/integrations/${id}/mappings/activities`, [
        { externalId: "BREAK", activityId: "wfm-break" }
      ])
      assert.strictEqual(activities.status, 200)
      const after = await admin(server).get<Array<StatusBody>>(`/v1/agent-statuses?integrationId=${id}&${range}`)
      assert.deepStrictEqual(after.body.map((s) => [s.agentIdentifier, s.employeeId, s.activityId]), [
        ["a-7", "emp-1", "wfm-break"],
        ["a-7", "emp-1", null],
        ["a-8", null, null]
      ])
      const remaining = await admin(server).get<{ agents: Array<{ externalId: string }>; activities: Array<{ externalId: string }> }>(
        `/v1/integrations/${id}/unmapped`
      )
      assert.deepStrictEqual(remaining.body.agents.map((a) => a.externalId), ["a-8"])
      assert.deepStrictEqual(remaining.body.activities.map((a) => a.externalId), ["READY"])

      assertProblem(await admin(server).put("/v1/integrations/nope/mappings/agents", []), 404)
      assertProblem(await admin(server).put("/v1/integrations/nope/mappings/activities", []), 404)
      const invalid = assertProblem(
        await admin(server).put(`/v1/integrations/${id}/mappings/agents`, [{ externalId: "a-9" }]),
        422
      )
      assert.strictEqual(invalid.field, "0.employeeId")
      assertProblem(await admin(server).get("/v1/integrations/nope/unmapped"), 404)
      assertProblem(await admin(server).get(`/v1/agent-statuses?integrationId=nope&${range}`), 404)
      assertProblem(await admin(server).get(`/v1/agent-statuses?integrationId=${id}&from=yesterday&to=2026-03-03T00:00:00Z`), 400)
      assertProblem(await admin(server).get(`/v1/agent-statuses?integrationId=${id}&from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z`), 422)
    })
  })

  describe("intervals", () => {
    it("answers the documented shape, validates its parameters", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "Intervals", timezone: "Europe/Berlin" })
      await pushContacts(server, apiKey, id, [
        contactRecord({ timestamp: "2026-03-02T08:01:00Z", duration: 100 }),
        contactRecord({ timestamp: "2026-03-02T08:20:00Z", duration: 300 }),
        contactRecord({ timestamp: "2026-03-02T08:40:00Z", handled: false, duration: 30 })
      ])
      type Row = { queueId: string; start: string; end: string; offered: number; handled: number; handlingSeconds: number; ahtSeconds: number | null; unhandledSeconds: number }
      const q = (params: string) => admin(server).get<Array<Row>>(`/v1/intervals?integrationId=${id}&${params}`)
      const hourly = await q("from=2026-03-02T00:00:00&to=2026-03-03T00:00:00&length=60")
      assert.strictEqual(hourly.status, 200)
      assert.strictEqual(hourly.body.length, 1)
      const row = hourly.body[0]!
      assert.strictEqual(row.start, "2026-03-02T09:00:00+01:00")
      assert.strictEqual(row.end, "2026-03-02T10:00:00+01:00")
      assert.deepStrictEqual([row.offered, row.handled, row.handlingSeconds, row.ahtSeconds, row.unhandledSeconds], [3, 2, 400, 200, 30])
      const quarters = await q("from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&timezone=UTC")
      assert.deepStrictEqual(quarters.body.map((r) => r.start), ["2026-03-02T08:00:00+00:00", "2026-03-02T08:15:00+00:00", "2026-03-02T08:30:00+00:00"])
      const filled = await admin(server).get<Array<Row>>(
        `/v1/intervals?queueId=${row.queueId}&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&timezone=UTC&length=30&fill=zero`
      )
      assert.strictEqual(filled.body.length, 48)
      assert.strictEqual(filled.body.filter((r) => r.offered > 0).length, 2)

      assertProblem(await q("from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&length=45"), 400)
      assertProblem(await q("to=2026-03-03T00:00:00Z"), 400)
      assertProblem(await q("from=2026-13-02&to=2026-03-03T00:00:00Z"), 400)
      assertProblem(await q("from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&fill=maybe"), 400)
      assert.strictEqual(assertProblem(await q("from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&timezone=Nowhere/Else"), 422).field, "timezone")
      assertProblem(await q("from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z"), 422)
      assertProblem(await q("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"), 422)
      assertProblem(await admin(server).get("/v1/intervals?integrationId=nope&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"), 404)
      assertProblem(await admin(server).get("/v1/intervals?queueId=nope&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"), 404)
    })
  })

  describe("health, OpenAPI, request ids", () => {
    it("GET /health needs no credentials", async () => {
      const health = await call(server, "GET", "/health")
      assert.strictEqual(health.status, 200)
      const body = health.body as {
        status: string
        storage: { latencyMs: number }
        scheduler: boolean
        startedAt: string
        uptimeSeconds: number
      }
      assert.deepStrictEqual(Object.keys(body).sort(), ["scheduler", "startedAt", "status", "storage", "uptimeSeconds"])
      assert.strictEqual(body.status, "ok")
      assert.isAtLeast(body.storage.latencyMs, 0)
      assert.isBelow(body.storage.latencyMs, 5_000)
      assert.isFalse(body.scheduler, "this test server runs no scheduler")
      assert.isAtMost(Date.parse(body.startedAt), Date.now())
      assert.isAtLeast(body.uptimeSeconds, 0)
      assert.approximately(body.uptimeSeconds, (Date.now() - Date.parse(body.startedAt)) / 1_000, 5)
    })

    it("GET /openapi.json documents every route from the same definition", async () => {
      const doc = await call<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
        server,
        "GET",
        "/openapi.json"
      )
      assert.strictEqual(doc.status, 200)
      assert.match(doc.body.openapi, /^3\./)
      const routes = Object.entries(doc.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      for (
        const route of [
          "POST /external-systems/contact-events",
          "POST /external-systems/agent-statuses",
          "POST /v1/integrations",
          "GET /v1/integrations",
          "GET /v1/integrations/{id}",
          "POST /v1/integrations/{id}/api-key",
          "POST /v1/integrations/{id}/pause",
          "POST /v1/integrations/{id}/resume",
          "DELETE /v1/integrations/{id}",
          "GET /v1/integrations/{id}/runs",
          "GET /v1/queues",
          "DELETE /v1/queues/{id}",
          "POST /v1/workloads",
          "PUT /v1/workloads/{id}/queues",
          "PUT /v1/integrations/{id}/mappings/agents",
          "PUT /v1/integrations/{id}/mappings/activities",
          "GET /v1/integrations/{id}/unmapped",
          "GET /v1/intervals",
          "GET /v1/agent-statuses",
          "GET /v1/agent-statuses/stream",
          "GET /health"
        ]
      ) assert.include(routes, route)
      const push = doc.body.paths["/external-systems/contact-events"]!["post"]!
      for (const status of ["200", "400", "401", "403", "404", "409", "410", "413", "422", "429", "500"]) {
        assert.property(push.responses, status)
      }
    })

    it("echoes x-request-id, or makes one", async () => {
      const given = await call(server, "GET", "/health", { headers: { "x-request-id": "req-42" } })
      assert.strictEqual(given.headers.get("x-request-id"), "req-42")
      const made = await call(server, "GET", "/v1/integrations")
      assert.match(made.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
      const junk = await call(server, "GET", "/health", { headers: { "x-request-id": "bad id with spaces" } })
      assert.notStrictEqual(junk.headers.get("x-request-id"), "bad id with spaces")
    })

    it("unknown routes are 404 problems", async () => {
      assertProblem(await admin(server).get("/v1/nothing-here"), 404)
    })
  })
})

describe("storage failure", () => {
  const logs: Array<LogLine> = []
  let server: TestServer
  beforeAll(async () => {
    const failing = Layer.effect(
      Storage.Storage,
      Effect.map(Storage.Storage, (store) => ({
        ...store,
        queues: {
          ...store.queues,
          list: () => Effect.fail(new Errors.StorageError({ operation: "list queues", reason: "disk on fire at /var/db" }))
        }
      }))
    ).pipe(Layer.provide(Storage.layerMemory))
    server = await startServer({ storage: failing, logs })
  })
  afterAll(() => server.close())

  it("answers 500 with a generic detail (nothing of the cause leaks)", async () => {
    const answer = await admin(server).get("/v1/queues")
    const problem = assertProblem(answer, 500)
    assert.notInclude(JSON.stringify(problem), "disk on fire")
    assert.notInclude(JSON.stringify(problem), "/var/db")
    // the log has the cause, under the request's id
    const requestId = answer.headers.get("x-request-id")
    const logged = logs.filter((l) => l.level === "ERROR" && l.annotations["requestId"] === requestId)
    assert.isTrue(logged.some((l) => JSON.stringify(l.message).includes("disk on fire")))
  })
})
