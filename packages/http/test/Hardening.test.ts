/**
 * What a careless or hostile client sends (issue 14): deep nesting, malformed UTF-8 and UTF-16,
 * duplicate keys, wrong content types, timestamps far from now, made-up Authorization schemes,
 * the admin token on the push routes. Each answer is a 4xx problem body naming what is wrong,
 * nothing of a refused request is stored, and the server keeps serving.
 */
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

const day = { from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z", timezone: "UTC" } as const
const contactsPath = "/external-systems/contact-events"
const statusesPath = "/external-systems/agent-statuses"

describe("hostile and careless input", () => {
  let server: TestServer
  let id: string
  let apiKey: string
  beforeAll(async () => {
    server = await startServer()
    ;({ id, apiKey } = await pushIntegration(server, { name: "hardening" }))
  })
  afterAll(() => server.close())

  const good = (minute: number, queueIdentifier = "q-good") =>
    contactRecord({ timestamp: `2026-03-02T09:${String(minute).padStart(2, "0")}:00Z`, queueIdentifier })

  const queueIdentifiers = async (integrationId: string) =>
    (await admin(server).get<Array<{ identifier: string }>>(`/v1/queues?integrationId=${integrationId}`)).body
      .map((q) => q.identifier)
      .sort()

  const stillServing = async () => {
    assert.strictEqual((await call(server, "GET", "/health")).status, 200)
    const target = await pushIntegration(server, { name: "still serving" })
    assert.strictEqual((await pushContacts(server, target.apiKey, target.id, [good(0)])).status, 200)
  }

  describe("nesting", () => {
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

    it("a deeply nested push body is 400, not 500, and the server keeps serving", async () => {
      for (const depth of [100_000, 65]) {
        const raw = `{"data":[{"properties":${nested(depth)}}],"meta":{"integrationConfigurationId":"${id}"}}`
        const answer = await call(server, "POST", contactsPath, { token: apiKey, raw })
        assert.strictEqual(answer.status, 400, `depth ${depth}: ${JSON.stringify(answer.body).slice(0, 300)}`)
        assert.match((answer.body as Problem).detail, /nest/i)
      }
      await stillServing()
    })

    it("a deeply nested admin body is 400 on every JSON route; moderate nesting is read", async () => {
      const deep = `{"a":`.repeat(100_000) + "1" + "}".repeat(100_000)
      const integration = await call(server, "POST", "/v1/integrations", {
        token: adminToken,
        raw: `{"name":"deep","connector":"api-push","config":${deep}}`
      })
      assert.strictEqual(integration.status, 400, JSON.stringify(integration.body).slice(0, 300))
      assert.match((integration.body as Problem).detail, /nest/i)
      const mappings = await call(server, "PUT", `/v1/integrations/${id}/mappings/agents`, { token: adminToken, raw: nested(100_000) })
      assert.strictEqual(mappings.status, 400)
      const workload = await call(server, "POST", "/v1/workloads", { token: adminToken, raw: `{"name":"w","queueIds":${nested(5_000)}}` })
      assert.strictEqual(workload.status, 400)
      // 10 levels are fine (the config is the connector's business: api-push ignores unknown keys)
      const moderate = await call(server, "POST", "/v1/integrations", {
        token: adminToken,
        raw: `{"name":"moderate","connector":"api-push","config":${`{"a":`.repeat(9)}1${"}".repeat(9)}}`
      })
      assert.strictEqual(moderate.status, 201, JSON.stringify(moderate.body))
      await stillServing()
    })
  })

  describe("text encodings", () => {
    it("a lone surrogate in an identifier is 422 naming the record; the queue is not poisoned", async () => {
      const target = await pushIntegration(server, { name: "surrogates" })
      // JSON.stringify writes lone surrogates as \ud800 escapes, which JSON.parse reads back as lone surrogates
      for (const bad of ["q\ud800", "q\udfff-x", "\udc00\ud800"]) {
        const answer = await pushContacts(server, target.apiKey, target.id, [good(0), good(1, bad)])
        const problem = answer.body as Problem
        assert.deepStrictEqual([answer.status, problem.index, problem.field], [422, 1, "queueIdentifier"], JSON.stringify(problem))
        assert.match(problem.detail, /UTF-16|surrogate/i)
      }
      const status = await pushStatuses(server, target.apiKey, target.id, [
        { agentIdentifier: "a\ud83d", activityIdentifier: "READY", startTime: "2026-03-02T09:00:00Z" }
      ])
      assert.deepStrictEqual([status.status, (status.body as Problem).index, (status.body as Problem).field], [422, 0, "agentIdentifier"])
      // a well-formed pair (an emoji) is fine, and the same queue keeps working afterwards
      for (let i = 0; i < 3; i++) {
        const answer = await pushContacts(server, target.apiKey, target.id, [good(i, "q\ud83c\udfa7")])
        assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      }
      assert.deepStrictEqual(await queueIdentifiers(target.id), ["q🎧"])
      assert.strictEqual((await intervals(server, target.id, day)).reduce((n, r) => n + r.offered, 0), 3)
    })

    it("a lone surrogate in an admin body is 422 naming the field", async () => {
      const answer = await admin(server).post("/v1/integrations", { name: "bad \ud800 name", connector: "api-push" })
      assert.deepStrictEqual([answer.status, (answer.body as Problem).field], [422, "name"])
    })

    // PostgreSQL can't keep U+0000 in text (it answered 500 there, SQLite stored it): refused
    // at the JSON edge on every store, so a body means the same thing wherever it lands
    it("a NUL in an admin body is 422 naming the field, and nothing is created", async () => {
      const before = (await admin(server).get<Array<unknown>>("/v1/integrations")).body.length
      const named = await admin(server).post("/v1/integrations", { name: "bad \u0000 name", connector: "api-push" })
      assert.deepStrictEqual([named.status, (named.body as Problem).field], [422, "name"], JSON.stringify(named.body))
      assert.match((named.body as Problem).detail, /NUL/)
      const nested = await admin(server).post("/v1/integrations", {
        name: "fine",
        connector: "csv",
        config: { source: { folder: "/tmp/x\u0000" } }
      })
      assert.deepStrictEqual([nested.status, (nested.body as Problem).field], [422, "config.source.folder"], JSON.stringify(nested.body))
      // a key holding NUL is named by the object that holds it (the key itself can't be printed)
      const key = await admin(server).post("/v1/integrations", { name: "fine", connector: "api-push", config: { "k\u0000": 1 } })
      assert.deepStrictEqual([key.status, (key.body as Problem).field], [422, "config"], JSON.stringify(key.body))
      // an escaped backslash before "u0000" is six plain characters, not a NUL
      const literal = await admin(server).post("/v1/integrations", { name: "back\\u0000slash", connector: "api-push" })
      assert.strictEqual(literal.status, 201, JSON.stringify(literal.body))
      assert.strictEqual((literal.body as { name: string }).name, "back\\u0000slash")
      assert.strictEqual((await admin(server).get<Array<unknown>>("/v1/integrations")).body.length, before + 1)
    })

    it("a NUL in a path or query is 400 naming where", async () => {
      for (const [path, field] of [["/v1/integrations/ab%00cd", "path"], ["/v1/queues?integrationId=a%00b", "query"]] as const) {
        const answer = await call(server, "GET", path, { token: adminToken })
        assert.deepStrictEqual([answer.status, (answer.body as Problem).field], [400, field], `${path}: ${JSON.stringify(answer.body)}`)
      }
      await stillServing()
    })

    it("bytes that are not UTF-8 are 400 (never silently replaced with U+FFFD)", async () => {
      const target = await pushIntegration(server, { name: "utf-8" })
      const record = (queueIdentifier: string) =>
        `{"properties":{"offered":true,"handled":true,"duration":1},"queueName":"n","queueIdentifier":"${queueIdentifier}",` +
        `"timestamp":"2026-03-02T09:00:00Z","channel":"calls"}`
      const invalid = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]
      for (const bytes of invalid) {
        const [head, tail] = `{"data":[${record("bad-\u0000-x")}],"meta":{"integrationConfigurationId":"${target.id}"}}`.split("\u0000")
        const raw = Buffer.concat([Buffer.from(head!), Buffer.from(bytes), Buffer.from(tail!)])
        const answer = await call(server, "POST", contactsPath, {
          token: target.apiKey,
          raw,
          headers: { "content-type": "application/json" }
        })
        assert.strictEqual(answer.status, 400, `${bytes.join(",")}: ${JSON.stringify(answer.body)}`)
        assert.match((answer.body as Problem).detail, /UTF-8/)
      }
      const adminAnswer = await call(server, "POST", "/v1/integrations", {
        token: adminToken,
        raw: Buffer.concat([Buffer.from(`{"name":"x`), Buffer.from([0xff]), Buffer.from(`","connector":"api-push"}`)]),
        headers: { "content-type": "application/json" }
      })
      assert.strictEqual(adminAnswer.status, 400)
      assert.deepStrictEqual(await queueIdentifiers(target.id), [])
      const fine = Buffer.from(`{"data":[${record("ünï-ok")}],"meta":{"integrationConfigurationId":"${target.id}"}}`)
      const ok = await call(server, "POST", contactsPath, { token: target.apiKey, raw: fine, headers: { "content-type": "application/json" } })
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(await queueIdentifiers(target.id), ["ünï-ok"])
    })
  })

  describe("the envelope", () => {
    it("meta.externalSystem must be a string (422 naming it)", async () => {
      const status = { agentIdentifier: "a-1", activityIdentifier: "READY", startTime: "2026-03-02T09:00:00Z" }
      for (const externalSystem of [5, true, { name: "acd" }]) {
        const answer = await call(server, "POST", statusesPath, {
          token: apiKey,
          body: { data: [status], meta: { integrationConfigurationId: id, externalSystem } }
        })
        assert.deepStrictEqual([answer.status, (answer.body as Problem).field], [422, "meta.externalSystem"], JSON.stringify(answer.body))
        const contacts = await call(server, "POST", contactsPath, {
          token: apiKey,
          body: { data: [good(0)], meta: { integrationConfigurationId: id, externalSystem } }
        })
        assert.deepStrictEqual([contacts.status, (contacts.body as Problem).field], [422, "meta.externalSystem"])
      }
      const named = await call(server, "POST", statusesPath, {
        token: apiKey,
        body: { data: [status], meta: { integrationConfigurationId: id, externalSystem: "my-acd" } }
      })
      assert.strictEqual(named.status, 200)
    })

    it("a body that is not declared as JSON is 415, on push and admin routes", async () => {
      const body = JSON.stringify({ data: [good(0)], meta: { integrationConfigurationId: id } })
      for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=iso-8859-1", "application/jsonx"]) {
        const answer = await call(server, "POST", contactsPath, { token: apiKey, raw: body, headers: { "content-type": contentType } })
        assert.strictEqual(answer.status, 415, contentType)
        assert.strictEqual((answer.body as Problem).status, 415)
        assert.match((answer.body as Problem).detail, /application\/json/)
      }
      // no Content-Type at all (a byte body: fetch adds none)
      const none = await fetch(`${server.url}${contactsPath}`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}` },
        body: new TextEncoder().encode(body)
      })
      assert.strictEqual(none.status, 415)
      const adminText = await call(server, "POST", "/v1/integrations", {
        token: adminToken,
        raw: JSON.stringify({ name: "text", connector: "api-push" }),
        headers: { "content-type": "text/plain" }
      })
      assert.strictEqual(adminText.status, 415)
      for (const contentType of ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"]) {
        const answer = await call(server, "POST", contactsPath, { token: apiKey, raw: body, headers: { "content-type": contentType } })
        assert.strictEqual(answer.status, 200, contentType)
      }
    })

    it("timestamps outside the acceptance window are 422 naming the record", async () => {
      const target = await pushIntegration(server, { name: "window" })
      const now = Date.now()
      const iso = (ms: number) => new Date(ms).toISOString()
      const cases: Array<[string, string]> = [
        ["0001-01-01T00:00:00Z", "older"],
        ["9999-12-31T23:59:59Z", "future"],
        [iso(now + 2 * 86_400_000), "future"],
        [iso(now - 6 * 366 * 86_400_000), "older"]
      ]
      for (const [timestamp, reason] of cases) {
        const answer = await pushContacts(server, target.apiKey, target.id, [good(0), contactRecord({ timestamp })])
        const problem = answer.body as Problem
        assert.deepStrictEqual([answer.status, problem.index, problem.field], [422, 1, "timestamp"], timestamp)
        assert.include(problem.detail, reason)
      }
      const status = (startTime: string, endTime: string | null) => [{ agentIdentifier: "a", activityIdentifier: "b", startTime, endTime }]
      const start = await pushStatuses(server, target.apiKey, target.id, status("0001-01-01T00:00:00Z", null))
      assert.deepStrictEqual([start.status, (start.body as Problem).field], [422, "startTime"])
      const end = await pushStatuses(server, target.apiKey, target.id, status("2026-03-02T09:00:00Z", "9999-01-01T00:00:00Z"))
      assert.deepStrictEqual([end.status, (end.body as Problem).field], [422, "endTime"])
      assert.deepStrictEqual(await queueIdentifiers(target.id), [])
      // inside the window: 4 years ago, and an hour ahead (a source's clock running fast)
      const inside = await pushContacts(server, target.apiKey, target.id, [
        contactRecord({ timestamp: iso(now - 4 * 365 * 86_400_000) }),
        contactRecord({ timestamp: iso(now + 3_600_000) })
      ])
      assert.strictEqual(inside.status, 200, JSON.stringify(inside.body))
    })

    it("duplicate keys are 400 naming the key, wherever they are", async () => {
      const { id, apiKey } = await pushIntegration(server, { name: "duplicates" })
      const record = JSON.stringify(good(0))
      const cases: Array<[string, string, string]> = [
        [
          `{"data":[${record},${record.replace("\"duration\":200.1", "\"duration\":-5,\"duration\":1")}],"meta":{"integrationConfigurationId":"${id}"}}`,
          "data.1.properties.duration",
          contactsPath
        ],
        [
          `{"data":[${record}],"meta":{"integrationConfigurationId":"other","integrationConfigurationId":"${id}"}}`,
          "meta.integrationConfigurationId",
          contactsPath
        ],
        // the same key spelled with an escape is the same key
        [`{"data":[${record}],"data":[],"meta":{"integrationConfigurationId":"${id}"}}`, "data", contactsPath],
        [`{"data":[${record}],"met\\u0061":{},"meta":{"integrationConfigurationId":"${id}"}}`, "meta", contactsPath],
        [`{"name":"a","name":"b","connector":"api-push"}`, "name", "/v1/integrations"]
      ]
      for (const [raw, field, path] of cases) {
        const answer = await call(server, "POST", path, { token: path === contactsPath ? apiKey : adminToken, raw })
        const problem = answer.body as Problem
        assert.deepStrictEqual([answer.status, problem.field], [400, field], raw.slice(0, 200))
        assert.match(problem.detail, /duplicate/i)
      }
      assert.deepStrictEqual(await intervals(server, id, day), [])
    })
  })

  describe("validation messages", () => {
    it("name every allowed value, not only the first", async () => {
      const channel = await pushContacts(server, apiKey, id, [{ ...good(0), channel: "fax" }])
      for (const value of ["calls", "chats", "emails", "social_media", "documents", "cases"]) {
        assert.include((channel.body as Problem).detail, value)
      }
      const length = await call(server, "GET", `/v1/intervals?integrationId=${id}&from=${day.from}&to=${day.to}&length=45`, { token: adminToken })
      assert.strictEqual(length.status, 400)
      for (const value of ["15", "30", "60"]) assert.include((length.body as Problem).detail, value)
      const fill = await call(server, "GET", `/v1/intervals?integrationId=${id}&from=${day.from}&to=${day.to}&fill=all`, { token: adminToken })
      assert.strictEqual(fill.status, 400)
      for (const value of ["zero", "none"]) assert.include((fill.body as Problem).detail, value)
      const mode = await admin(server).post("/v1/integrations", { name: "mode", connector: "api-push", deliveryMode: "carrier-pigeon" })
      assert.strictEqual(mode.status, 422)
      for (const value of ["cloud", "on-premise"]) assert.include((mode.body as Problem).detail, value)
    })
  })
})

describe("authorization header", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory" })
  })
  afterAll(() => server.close())

  const push = (authorization: string, integrationId: string) =>
    call(server, "POST", contactsPath, {
      headers: { authorization },
      body: { data: [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })], meta: { integrationConfigurationId: integrationId } }
    })

  it("accepts exactly `Bearer <token>` (scheme in any case, one space)", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "schemes" })
    for (const refused of [`Digest ${apiKey}`, `Basic  ${apiKey}`, `BearerX${apiKey}`, `Bearer  ${apiKey}`, `Bearer${apiKey}`, `Token ${apiKey}`, apiKey, `Bearer ${apiKey} x`]) {
      const answer = await push(refused, id)
      assert.strictEqual(answer.status, 401, refused.replace(apiKey, "<key>"))
      assert.strictEqual(answer.headers.get("www-authenticate"), "Bearer")
    }
    const admins = await call(server, "GET", "/v1/integrations", { headers: { authorization: `Basic  ${adminToken}` } })
    assert.strictEqual(admins.status, 401)
    for (const accepted of [`Bearer ${apiKey}`, `bearer ${apiKey}`, `BEARER ${apiKey}`]) {
      assert.strictEqual((await push(accepted, id)).status, 200, accepted.replace(apiKey, "<key>"))
    }
  })

  it("the admin token is refused on the push routes (403): push with an API key or a personal access token", async () => {
    const { id } = await pushIntegration(server, { name: "admin push" })
    const answer = await push(`Bearer ${adminToken}`, id)
    const problem = answer.body as Problem
    assert.deepStrictEqual([answer.status, problem.status], [403, 403])
    assert.match(problem.detail, /API key/)
    assert.match(problem.detail, /personal access token/)
    const statuses = await call(server, "POST", statusesPath, {
      token: adminToken,
      body: { data: [{ agentIdentifier: "a", activityIdentifier: "b", startTime: "2026-03-02T09:00:00Z" }], meta: { integrationConfigurationId: id } }
    })
    assert.strictEqual(statuses.status, 403)
    assert.strictEqual((await push(`Bearer ${await server.pat()}`, id)).status, 200)
  })
})
