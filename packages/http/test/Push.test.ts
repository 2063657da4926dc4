import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  admin,
  adminToken,
  call,
  contactRecord,
  intervals,
  type Problem,
  pushContacts,
  pushIntegration,
  pushStatuses,
  startServer,
  type TestServer
} from "./helpers.js"

/** A day of contacts on three queues and two channels, deterministic (seeded). */
const dataset = (count: number) => {
  let seed = 42
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  const queues = [
    { queueIdentifier: "1337_99", queueName: "Level 1 support", channel: "calls" },
    { queueIdentifier: "1337_98", queueName: "Level 2 support", channel: "calls" },
    { queueIdentifier: "chat-1", queueName: "Web chat", channel: "chats" }
  ]
  return Array.from({ length: count }, (_, i) => {
    const q = queues[i % queues.length]!
    const at = Date.UTC(2026, 2, 2, 6) + Math.floor(random() * 12 * 3_600_000)
    return contactRecord({
      ...q,
      timestamp: new Date(at).toISOString(),
      offered: random() < 0.9,
      handled: random() < 0.8,
      duration: Math.round(random() * 600_000) / 1000
    })
  })
}

const day = { from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z", timezone: "Europe/Berlin" } as const

describe("push API", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  describe("authentication", () => {
    it("401 for missing, unknown and revoked keys, with one body for all (no key oracle)", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "auth" })
      const record = [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })]
      const none = await call(server, "POST", "/external-systems/contact-events", {
        body: { data: record, meta: { integrationConfigurationId: id } }
      })
      const unknown = await pushContacts(server, "acdb_thisKeyDoesNotExistAtAll0000000000000000", id, record)
      await admin(server).post(`/v1/integrations/${id}/api-key`)
      const revoked = await pushContacts(server, apiKey, id, record)
      for (const answer of [none, unknown, revoked]) assert.strictEqual(answer.status, 401)
      assert.deepStrictEqual(unknown.body, revoked.body)
      assert.deepStrictEqual(none.body, revoked.body)
    })

    it("403 for a key of another integration; meta must name the key's integration", async () => {
      const a = await pushIntegration(server, { name: "A" })
      const b = await pushIntegration(server, { name: "B" })
      const record = [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })]
      const answer = await pushContacts(server, a.apiKey, b.id, record)
      assert.strictEqual(answer.status, 403)
      assert.strictEqual((answer.body as Problem).status, 403)
      // numbers are compared as strings: 12345 is not A's id
      assert.strictEqual((await pushContacts(server, a.apiKey, 12345, record)).status, 403)
      assert.strictEqual((await pushStatuses(server, a.apiKey, b.id, [{ agentIdentifier: "x", activityIdentifier: "y", startTime: "2026-03-02T09:00:00Z" }])).status, 403)
      assert.deepStrictEqual(await intervals(server, b.id, day), [])
    })

    it("a personal access token may push into its tenant's integrations (and 404 elsewhere)", async () => {
      const { id } = await pushIntegration(server, { name: "PAT push" })
      const pat = await server.pat()
      const record = [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })]
      const answer = await pushContacts(server, pat, id, record)
      assert.strictEqual(answer.status, 200)
      assert.deepStrictEqual(answer.body, { accepted: 1 })
      assert.strictEqual((await pushContacts(server, await server.pat("tenant-b"), id, record)).status, 404)
      assert.strictEqual((await pushContacts(server, pat, "no-such-integration", record)).status, 404)
      // the admin token is not a push credential (DESIGN §4: an API key or a PAT): see Hardening.test.ts
      assert.strictEqual((await pushContacts(server, adminToken, id, record)).status, 403)
    })
  })

  describe("idempotency", () => {
    it("one batch, 100 batches, and replays with the same Idempotency-Key give identical intervals", async () => {
      const data = dataset(1_000)
      const one = await pushIntegration(server, { name: "one batch" })
      const many = await pushIntegration(server, { name: "100 batches" })
      const replayed = await pushIntegration(server, { name: "replayed" })

      assert.deepStrictEqual((await pushContacts(server, one.apiKey, one.id, data)).body, { accepted: 1_000 })
      for (let i = 0; i < 100; i++) {
        const answer = await pushContacts(server, many.apiKey, many.id, data.slice(i * 10, i * 10 + 10), {
          "idempotency-key": `batch-${i}`
        })
        assert.strictEqual(answer.status, 200)
      }
      // the 100 batches sent again with their keys: nothing applied twice
      for (let i = 0; i < 100; i += 7) {
        const answer = await pushContacts(server, many.apiKey, many.id, data.slice(i * 10, i * 10 + 10), {
          "idempotency-key": `batch-${i}`
        })
        assert.deepStrictEqual(answer.body, { accepted: 10 })
      }
      for (let attempt = 0; attempt < 3; attempt++) {
        const answer = await pushContacts(server, replayed.apiKey, replayed.id, data, { "idempotency-key": "the-only-key" })
        assert.strictEqual(answer.status, 200)
        assert.deepStrictEqual(answer.body, { accepted: 1_000 })
      }

      for (const length of [15, 60] as const) {
        const expected = await intervals(server, one.id, { ...day, length })
        assert.isAbove(expected.length, 10)
        assert.strictEqual(expected.reduce((n, r) => n + r.offered, 0), data.filter((r) => r.properties.offered).length)
        assert.deepStrictEqual(await intervals(server, many.id, { ...day, length }), expected)
        assert.deepStrictEqual(await intervals(server, replayed.id, { ...day, length }), expected)
      }
      const runs = await admin(server).get<Array<unknown>>(`/v1/integrations/${replayed.id}/runs`)
      assert.strictEqual(runs.body.length, 1, "a replay records no second run")
    })

    it("the same key with another body is 409, and keys are scoped to the integration", async () => {
      const a = await pushIntegration(server, { name: "key A" })
      const b = await pushIntegration(server, { name: "key B" })
      const first = [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })]
      const other = [contactRecord({ timestamp: "2026-03-02T10:00:00Z" })]
      assert.strictEqual((await pushContacts(server, a.apiKey, a.id, first, { "idempotency-key": "k1" })).status, 200)
      const reused = await pushContacts(server, a.apiKey, a.id, other, { "idempotency-key": "k1" })
      assert.strictEqual(reused.status, 409)
      assert.match((reused.body as Problem).detail, /k1/)
      assert.strictEqual((await pushContacts(server, b.apiKey, b.id, other, { "idempotency-key": "k1" })).status, 200)
      assert.strictEqual((await intervals(server, a.id, day)).length, 1)
      assert.strictEqual((await intervals(server, b.id, day)).length, 1)
      const tooLong = await pushContacts(server, a.apiKey, a.id, first, { "idempotency-key": "x".repeat(300) })
      assert.strictEqual(tooLong.status, 400)
    })
  })

  describe("lifecycle", () => {
    it("pause, push, resume: accepted while paused, applied only after resume, exactly once", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "paused" })
      const data = dataset(90)
      assert.strictEqual((await admin(server).post(`/v1/integrations/${id}/pause`)).status, 200)
      const staged = [
        await pushContacts(server, apiKey, id, data.slice(0, 30)),
        await pushContacts(server, apiKey, id, data.slice(30, 60), { "idempotency-key": "while-paused" }),
        await pushContacts(server, apiKey, id, data.slice(30, 60), { "idempotency-key": "while-paused" })
      ]
      for (const answer of staged) assert.deepStrictEqual([answer.status, answer.body], [200, { accepted: 30 }])
      assert.deepStrictEqual(await intervals(server, id, day), [], "nothing applied while paused")

      assert.strictEqual((await admin(server).post(`/v1/integrations/${id}/resume`)).status, 200)
      assert.strictEqual((await pushContacts(server, apiKey, id, data.slice(60))).status, 200)
      await admin(server).post(`/v1/integrations/${id}/resume`)

      const reference = await pushIntegration(server, { name: "reference" })
      await pushContacts(server, reference.apiKey, reference.id, data)
      assert.deepStrictEqual(await intervals(server, id, day), await intervals(server, reference.id, day))
    })

    it("delete: key revoked (401), data queryable, queue stays in its workload but can't join another (409)", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "to delete" })
      await pushContacts(server, apiKey, id, [contactRecord({ timestamp: "2026-03-02T09:00:00Z", queueIdentifier: "del-q" })])
      const before = await intervals(server, id, day)
      const queues = await admin(server).get<Array<{ id: string; workloadIds: Array<string> }>>(`/v1/queues?integrationId=${id}`)
      const queueId = queues.body[0]!.id
      const workload = await admin(server).post<{ id: string }>("/v1/workloads", { name: "kept", queueIds: [queueId] })
      assert.strictEqual(workload.status, 201)
      const pat = await server.pat()

      assert.strictEqual((await admin(server).del(`/v1/integrations/${id}`)).status, 204)

      const record = [contactRecord({ timestamp: "2026-03-02T10:00:00Z" })]
      assert.strictEqual((await pushContacts(server, apiKey, id, record)).status, 401)
      const gone = await pushContacts(server, pat, id, record)
      assert.strictEqual(gone.status, 410)
      assert.strictEqual((gone.body as Problem).status, 410)
      assert.deepStrictEqual(await intervals(server, id, day), before)
      const after = await admin(server).get<Array<{ id: string; workloadIds: Array<string> }>>(`/v1/queues?integrationId=${id}`)
      assert.deepStrictEqual(after.body.map((q) => [q.id, q.workloadIds]), [[queueId, [workload.body.id]]])
      const kept = await admin(server).put<{ queueIds: Array<string> }>(`/v1/workloads/${workload.body.id}/queues`, {
        queueIds: [queueId]
      })
      assert.deepStrictEqual([kept.status, kept.body.queueIds], [200, [queueId]])
      assert.strictEqual((await admin(server).post("/v1/workloads", { name: "new", queueIds: [queueId] })).status, 409)
    })
  })
})
