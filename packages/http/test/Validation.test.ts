import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  admin,
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

const day = { from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z", timezone: "UTC" } as const

describe("push validation", () => {
  let server: TestServer
  let id: string
  let apiKey: string
  beforeAll(async () => {
    server = await startServer({ maxBodyBytes: 32 * 1024 * 1024 })
    ;({ id, apiKey } = await pushIntegration(server, { name: "battery", timezone: "Europe/Berlin" }))
  })
  afterAll(() => server.close())

  const good = (i: number) => contactRecord({ timestamp: `2026-03-02T09:${String(i % 60).padStart(2, "0")}:00Z` })

  /** Pushes `bad` at position 2 of a batch of good records: 422 naming index 2, nothing applied. */
  const rejects = async (bad: unknown, field: string, reason?: RegExp) => {
    const answer = await pushContacts(server, apiKey, id, [good(0), good(1), bad, good(3)])
    assert.strictEqual(answer.status, 422, JSON.stringify(answer.body))
    const problem = answer.body as Problem
    assert.strictEqual(problem.index, 2)
    assert.strictEqual(problem.field, field)
    if (reason) assert.match(problem.detail, reason)
    assert.deepStrictEqual(await intervals(server, id, day), [], "nothing of a rejected batch is applied")
    return problem
  }

  it("malformed JSON is 400", async () => {
    for (const raw of ["{\"data\": [", "not json", "", "{\"data\":[],}"]) {
      const answer = await call(server, "POST", "/external-systems/contact-events", { token: apiKey, raw })
      assert.strictEqual(answer.status, 400, raw)
      assert.strictEqual((answer.body as Problem).status, 400)
    }
  })

  it("wrong types name the record index and field", async () => {
    const record = good(2)
    await rejects({ ...record, properties: { ...record.properties, offered: 1 } }, "properties.offered", /boolean/)
    await rejects({ ...record, properties: { ...record.properties, handled: "yes" } }, "properties.handled")
    await rejects({ ...record, properties: { ...record.properties, duration: "200" } }, "properties.duration")
    await rejects({ ...record, queueIdentifier: 1337 }, "queueIdentifier")
    await rejects({ ...record, queueIdentifier: "" }, "queueIdentifier", /empty/)
    await rejects({ ...record, queueName: "x".repeat(256) }, "queueName", /255/)
    await rejects({ properties: record.properties, queueName: "q", queueIdentifier: "q", channel: "calls" }, "timestamp", /missing/)
    await rejects("a string", "record")
  })

  it("negative and non-finite durations are 422", async () => {
    const record = good(2)
    await rejects({ ...record, properties: { ...record.properties, duration: -1 } }, "properties.duration", /negative/)
    await rejects({ ...record, properties: { ...record.properties, duration: null } }, "properties.duration")
    await rejects({ ...record, properties: { ...record.properties, duration: 1e12 } }, "properties.duration")
    // ±1e400 parse to ±Infinity; they only exist as JSON text, so send it raw
    for (const infinite of ["1e400", "-1e400"]) {
      const raw = `{"data":[${JSON.stringify(good(0))},${JSON.stringify(good(1)).replace("200.1", infinite)}],` +
        `"meta":{"integrationConfigurationId":"${id}"}}`
      const answer = await call(server, "POST", "/external-systems/contact-events", { token: apiKey, raw })
      const problem = answer.body as Problem
      assert.deepStrictEqual([answer.status, problem.index, problem.field], [422, 1, "properties.duration"])
      assert.match(problem.detail, /finite/)
    }
  })

  it("an unknown channel is 422", async () => {
    const problem = await rejects({ ...good(2), channel: "fax" }, "channel")
    assert.include(problem.detail, "calls")
    await rejects({ ...good(2), channel: "back_office" }, "channel")
  })

  it("empty data, missing meta or id are 422", async () => {
    const cases: Array<[unknown, string]> = [
      [{ data: [], meta: { integrationConfigurationId: id } }, "data"],
      [{ data: [good(0)] }, "meta"],
      [{ data: [good(0)], meta: {} }, "meta.integrationConfigurationId"],
      [{ data: [good(0)], meta: { integrationConfigurationId: true } }, "meta.integrationConfigurationId"],
      [{ data: [good(0)], meta: { integrationConfigurationId: " " } }, "meta.integrationConfigurationId"],
      [{ data: "nope", meta: { integrationConfigurationId: id } }, "data"],
      [[good(0)], "body"]
    ]
    for (const [body, field] of cases) {
      const answer = await call(server, "POST", "/external-systems/contact-events", { token: apiKey, body })
      assert.strictEqual(answer.status, 422, JSON.stringify(body))
      assert.strictEqual((answer.body as Problem).field, field)
    }
  })

  it("agent statuses: endTime before startTime, missing agent, bad timestamps are 422", async () => {
    const ok = { agentIdentifier: "a-1", activityIdentifier: "READY", startTime: "2026-03-02T09:00:00Z" }
    const cases: Array<[unknown, string]> = [
      [{ ...ok, endTime: "2026-03-02T08:59:59Z" }, "endTime"],
      [{ ...ok, agentIdentifier: "" }, "agentIdentifier"],
      [{ activityIdentifier: "READY", startTime: ok.startTime }, "agentIdentifier"],
      [{ ...ok, startTime: "yesterday" }, "startTime"],
      [{ ...ok, endTime: 5 }, "endTime"]
    ]
    for (const [bad, field] of cases) {
      const answer = await pushStatuses(server, apiKey, id, [ok, bad])
      assert.strictEqual(answer.status, 422, JSON.stringify(bad))
      assert.deepStrictEqual([(answer.body as Problem).index, (answer.body as Problem).field], [1, field])
    }
    const open = await pushStatuses(server, apiKey, id, [ok, { ...ok, agentIdentifier: "a-2", endTime: null }])
    assert.deepStrictEqual([open.status, open.body], [200, { accepted: 2 }])
  })

  it("timestamps without offset are read in the integration's zone; a DST-gap time is 422 with its index", async () => {
    const local = await pushIntegration(server, { name: "local times", timezone: "Europe/Berlin" })
    const answer = await pushContacts(server, local.apiKey, local.id, [
      contactRecord({ timestamp: "2026-03-02T09:00:00" }), // CET: 08:00Z
      contactRecord({ timestamp: "2026-03-02T09:07:30.250" }),
      contactRecord({ timestamp: "2026-03-02T09:00:00+01:00" })
    ])
    assert.strictEqual(answer.status, 200)
    const rows = await intervals(server, local.id, { ...day, timezone: "UTC" })
    assert.deepStrictEqual(rows.map((r) => [r.start, r.offered]), [["2026-03-02T08:00:00+00:00", 3]])

    const gap = await pushContacts(server, local.apiKey, local.id, [
      contactRecord({ timestamp: "2026-03-29T01:59:00" }),
      contactRecord({ timestamp: "2026-03-29T02:30:00" }),
      contactRecord({ timestamp: "2026-03-29T03:00:00" })
    ])
    assert.strictEqual(gap.status, 422)
    const problem = gap.body as Problem
    assert.deepStrictEqual([problem.index, problem.field], [1, "timestamp"])
    assert.match(problem.detail, /does not exist in Europe\/Berlin/)
    const invalid = await pushContacts(server, local.apiKey, local.id, [contactRecord({ timestamp: "2026-02-30T10:00:00Z" })])
    assert.deepStrictEqual([invalid.status, (invalid.body as Problem).index], [422, 0])
  })

  it("unicode and SQL-looking queue names are stored verbatim", async () => {
    const names = [
      "Kundenservice – Ü/Ä/Ö ß",
      "客服中心 🎧",
      "'; DROP TABLE queues; --",
      "Robert'); DELETE FROM interval_stats WHERE ('1'='1",
      "  spaced  ",
      "back\\slash \"quoted\" %_ wildcard"
    ]
    const target = await pushIntegration(server, { name: "verbatim" })
    const data = names.map((name, i) =>
      contactRecord({ timestamp: "2026-03-02T09:00:00Z", queueName: name, queueIdentifier: `${name}#${i}` })
    )
    assert.strictEqual((await pushContacts(server, target.apiKey, target.id, data)).status, 200)
    const queues = await admin(server).get<Array<{ identifier: string; name: string }>>(`/v1/queues?integrationId=${target.id}`)
    assert.deepStrictEqual(queues.body.map((q) => q.name).sort(), [...names].sort())
    assert.deepStrictEqual(queues.body.map((q) => q.identifier).sort(), names.map((n, i) => `${n}#${i}`).sort())
    const rows = await intervals(server, target.id, day)
    assert.deepStrictEqual(rows.map((r) => r.queueName).sort(), [...names].sort())
    const nul = await pushContacts(server, target.apiKey, target.id, [contactRecord({ timestamp: "2026-03-02T09:00:00Z", queueName: "a\u0000b" })])
    assert.deepStrictEqual([nul.status, (nul.body as Problem).field], [422, "queueName"])
  })

  it("100,000 records in one body are accepted, reasonably fast", async () => {
    const big = await pushIntegration(server, { name: "big" })
    const data = Array.from({ length: 100_000 }, (_, i) =>
      contactRecord({
        queueIdentifier: `q${i % 20}`,
        queueName: `Queue ${i % 20}`,
        channel: i % 3 === 0 ? "chats" : "calls",
        timestamp: new Date(Date.UTC(2026, 2, 2) + (i * 863) % 86_400_000).toISOString(),
        duration: (i % 600) + 0.5
      })
    )
    const started = performance.now()
    const answer = await pushContacts(server, big.apiKey, big.id, data)
    const elapsed = performance.now() - started
    assert.deepStrictEqual([answer.status, answer.body], [200, { accepted: 100_000 }])
    assert.isBelow(elapsed, 30_000, `100k records took ${Math.round(elapsed)} ms`)
    const rows = await intervals(server, big.id, { ...day, length: 60 })
    assert.strictEqual(rows.reduce((n, r) => n + r.offered, 0), 100_000)
  }, 120_000)
})
