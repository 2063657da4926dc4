import { AccessTokens, Domain, Storage } from "@acd-bridge/core"
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import * as Effect from "effect/Effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { admin, adminToken, call, type IntegrationBody, type Problem, startServer, type TestServer } from "./helpers.js"

interface ConnectorBody {
  readonly key: string
  readonly displayName: string
  readonly deliveryModes: ReadonlyArray<string>
  readonly dataKinds: ReadonlyArray<string>
  readonly pull: boolean
  readonly realtime: boolean
  readonly check: boolean
  readonly push: boolean
  readonly settleDelaySeconds: number | null
  readonly historyLimitDays: number | null
  readonly configSchema: Record<string, unknown>
}

interface Integration extends IntegrationBody {
  readonly version: number
  readonly failing: string | null
  readonly config: Record<string, unknown>
  readonly schedule: unknown
  readonly historyDepthDays: number
}

interface Report {
  readonly ok: boolean
  readonly items: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly detail: string }>
}

const nestedConfig = (password: string) => ({
  connection: { host: "db.example", user: "reader", password },
  region: "emea",
  token: "api-token-123"
})

describe("admin API: connectors, check, PATCH", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "sqlite", scheduler: true })
  })
  afterAll(() => server.close())

  const create = async (body: Record<string, unknown>) => {
    const created = await admin(server).post<Integration>("/v1/integrations", body)
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    return created.body
  }

  it("GET /v1/connectors lists every connector with its capabilities and config as valid JSON Schema", async () => {
    const answer = await admin(server).get<Array<ConnectorBody>>("/v1/connectors")
    assert.strictEqual(answer.status, 200)
    const byKey = new Map(answer.body.map((c) => [c.key, c]))
    assert.deepStrictEqual([...byKey.keys()].sort(), ["api-push", "fake", "files", "nested"])
    const push = byKey.get("api-push")!
    assert.deepStrictEqual(
      [push.displayName, push.deliveryModes, push.dataKinds, push.pull, push.realtime, push.push],
      ["Push API", ["cloud"], ["contacts", "agentStatuses"], false, false, true]
    )
    assert.deepStrictEqual(push.configSchema["properties"], {})
    const fake = byKey.get("fake")!
    assert.deepStrictEqual([fake.pull, fake.push], [true, false])
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats.default(ajv)
    const nested = byKey.get("nested")!
    const validate = ajv.compile(nested.configSchema)
    assert.isTrue(validate(nestedConfig("pw")), JSON.stringify(validate.errors))
    assert.isFalse(validate({ ...nestedConfig("pw"), region: "mars" }))
    assert.isFalse(validate({ ...nestedConfig("pw"), typo: 1 }))
    const properties = nested.configSchema["properties"] as Record<string, Record<string, unknown>>
    const connection = properties["connection"]!["properties"] as Record<string, Record<string, unknown>>
    assert.strictEqual(connection["password"]!["writeOnly"], true)
    assert.strictEqual(properties["token"]!["writeOnly"], true)
    assert.notProperty(connection["host"]!, "writeOnly")
    assert.deepStrictEqual(properties["region"]!["enum"], ["emea", "nam"])
    // every listed schema compiles
    for (const connector of answer.body) ajv.compile(connector.configSchema)
  })

  it("GET /v1/connectors needs credentials", async () => {
    assert.strictEqual((await call(server, "GET", "/v1/connectors")).status, 401)
  })

  it("POST …/check runs the connector's check with the stored config and never shows a secret", async () => {
    const wrong = await create({ name: "db", connector: "nested", config: nestedConfig("s3cret-Passw0rd") })
    const failed = await admin(server).post<Report>(`/v1/integrations/${wrong.id}/check`)
    assert.strictEqual(failed.status, 200)
    assert.isFalse(failed.body.ok)
    assert.strictEqual(failed.body.items[0]!.name, "login")
    assert.match(failed.body.items[0]!.detail, /logged in to db\.example as reader with <redacted>/)
    assert.notInclude(JSON.stringify(failed.body), "s3cret-Passw0rd")
    const right = await create({ name: "db ok", connector: "nested", config: nestedConfig("right-password") })
    const passed = await admin(server).post<Report>(`/v1/integrations/${right.id}/check`)
    assert.deepStrictEqual([passed.status, passed.body.ok], [200, true])
    assert.notInclude(JSON.stringify(passed.body), "right-password")
  })

  it("POST …/check: 404 for an unknown integration, 410 for a deleted one, a plain config check without a check of its own", async () => {
    assert.strictEqual((await admin(server).post("/v1/integrations/nope/check")).status, 404)
    const files = await create({ name: "files", connector: "files", deliveryMode: "on-premise", config: { folder: "/x", password: "pw-files" } })
    const report = await admin(server).post<Report>(`/v1/integrations/${files.id}/check`)
    assert.deepStrictEqual([report.status, report.body.ok], [200, true])
    assert.strictEqual((await admin(server).del(`/v1/integrations/${files.id}`)).status, 204)
    assert.strictEqual((await admin(server).post(`/v1/integrations/${files.id}/check`)).status, 410)
  })

  it("PATCH changes name, schedule, time zone and history depth, with a new version and ETag", async () => {
    const created = await create({ name: "pull", connector: "fake", config: { apiKey: "fake-secret" }, historyDepthDays: 1 })
    const patched = await admin(server).patch<Integration>(`/v1/integrations/${created.id}`, {
      name: "renamed",
      schedule: { type: "historical", everyMinutes: 60 },
      timezone: "Europe/Berlin",
      historyDepthDays: 30
    })
    assert.strictEqual(patched.status, 200, JSON.stringify(patched.body))
    assert.deepStrictEqual(
      [patched.body.name, patched.body.schedule, patched.body.timezone, patched.body.historyDepthDays],
      ["renamed", { type: "historical", everyMinutes: 60 }, "Europe/Berlin", 30]
    )
    assert.isAbove(patched.body.version, created.version)
    assert.strictEqual(patched.headers.get("etag"), `"${patched.body.version}"`)
    const read = await admin(server).get<Integration>(`/v1/integrations/${created.id}`)
    assert.deepStrictEqual([read.body.name, read.headers.get("etag")], ["renamed", `"${patched.body.version}"`])
  })

  it("PATCH config keeps omitted secrets at every nesting level and clears failing", async () => {
    const created = await create({ name: "merge", connector: "nested", config: nestedConfig("old-password") })
    // a new host only: the nested password and the top-level token stay
    const moved = await admin(server).patch<Integration>(`/v1/integrations/${created.id}`, {
      config: { connection: { host: "db2.example" } }
    })
    assert.strictEqual(moved.status, 200, JSON.stringify(moved.body))
    assert.deepStrictEqual(moved.body.config, {
      connection: { host: "db2.example", user: "reader", password: "<redacted>" },
      region: "emea",
      token: "<redacted>"
    })
    const check = await admin(server).post<Report>(`/v1/integrations/${created.id}/check`)
    assert.match(check.body.items[0]!.detail, /db2\.example as reader/)
    // the GET body sent back as it is (placeholders included) changes nothing secret
    const roundTrip = await admin(server).patch<Integration>(`/v1/integrations/${created.id}`, { config: moved.body.config })
    assert.strictEqual(roundTrip.status, 200)
    // null removes an optional key; a new password replaces the stored one
    const rotated = await admin(server).patch<Integration>(`/v1/integrations/${created.id}`, {
      config: { region: null, connection: { password: "right-password" } }
    })
    assert.strictEqual(rotated.status, 200)
    assert.notProperty(rotated.body.config, "region")
    const ok = await admin(server).post<Report>(`/v1/integrations/${created.id}/check`)
    assert.isTrue(ok.body.ok)
    assert.notInclude(JSON.stringify([moved.body, roundTrip.body, rotated.body, ok.body]), "password\":\"right")
  })

  it("PATCH config clears the failing mark", async () => {
    const created = await create({ name: "failing", connector: "nested", config: nestedConfig("pw") })
    await server.runtime.runPromise(
      Effect.flatMap(Storage.Storage, (s) =>
        s.integrations.markFailing(Domain.IntegrationId.make(created.id), "the source rejected the credentials", Date.now()))
    )
    assert.isString((await admin(server).get<Integration>(`/v1/integrations/${created.id}`)).body.failing)
    const renamed = await admin(server).patch<Integration>(`/v1/integrations/${created.id}`, { name: "still failing" })
    assert.isString(renamed.body.failing)
    const fixed = await admin(server).patch<Integration>(`/v1/integrations/${created.id}`, {
      config: { connection: { password: "right-password" } }
    })
    assert.strictEqual(fixed.body.failing, null)
  })

  it("PATCH validates like create: 422 naming the field, with the allowed values", async () => {
    const created = await create({ name: "v", connector: "nested", config: nestedConfig("pw") })
    const path = `/v1/integrations/${created.id}`
    const zone = await admin(server).patch<Problem>(path, { timezone: "Mars/Olympus" })
    assert.deepStrictEqual([zone.status, zone.body.field], [422, "timezone"])
    const schedule = await admin(server).patch<Problem>(path, { schedule: { type: "historical", everyMinutes: 20 } })
    assert.strictEqual(schedule.status, 422)
    assert.match(schedule.body.detail, /15.*30.*60/)
    const region = await admin(server).patch<Problem>(path, { config: { region: "mars" } })
    assert.deepStrictEqual([region.status, region.body.field], [422, "config.region"])
    assert.match(region.body.detail, /"emea", "nam"/)
    const depth = await admin(server).patch<Problem>(path, { historyDepthDays: 0 })
    assert.deepStrictEqual([depth.status, depth.body.field], [422, "historyDepthDays"])
    const name = await admin(server).patch<Problem>(path, { name: "  " })
    assert.deepStrictEqual([name.status, name.body.field], [422, "name"])
    const connector = await admin(server).patch<Problem>(path, { connector: "api-push" })
    assert.deepStrictEqual([connector.status, connector.body.field], [422, "connector"])
    // a placeholder where no secret is stored is refused, not stored as a password
    const placeholder = await admin(server).patch<Problem>(path, { config: { token: null } })
    assert.strictEqual(placeholder.status, 200)
    const noSecret = await admin(server).patch<Problem>(path, { config: { token: "<redacted>" } })
    assert.deepStrictEqual([noSecret.status, noSecret.body.field], [422, "config.token"])
    // nothing of a refused PATCH was applied
    const after = await admin(server).get<Integration>(path)
    assert.deepStrictEqual([after.body.name, after.body.timezone], ["v", "UTC"])
    const realtimeOnly = await admin(server).patch<Problem>(path, { schedule: { type: "realtime" } })
    assert.strictEqual(realtimeOnly.status, 200)
  })

  it("PATCH with If-Match: 409 when the integration changed since that version; 404 and 410", async () => {
    const created = await create({ name: "cas", connector: "nested", config: nestedConfig("pw") })
    const path = `/v1/integrations/${created.id}`
    const first = await admin(server).patch<Integration>(path, { name: "one" }, { "if-match": `"${created.version}"` })
    assert.strictEqual(first.status, 200)
    const stale = await admin(server).patch<Problem>(path, { name: "two" }, { "if-match": `"${created.version}"` })
    assert.strictEqual(stale.status, 409)
    assert.match(stale.body.detail, /changed since it was read/)
    const bad = await admin(server).patch<Problem>(path, { name: "two" }, { "if-match": "yesterday" })
    assert.strictEqual(bad.status, 400)
    assert.strictEqual((await admin(server).get<Integration>(path)).body.name, "one")
    assert.strictEqual((await admin(server).patch("/v1/integrations/nope", { name: "x" })).status, 404)
    await admin(server).del(path)
    assert.strictEqual((await admin(server).patch(path, { name: "x" })).status, 410)
  })

  it("PATCH: concurrent changes without If-Match all land (each merged onto the other)", async () => {
    const created = await create({ name: "race", connector: "nested", config: nestedConfig("pw") })
    const path = `/v1/integrations/${created.id}`
    const answers = await Promise.all([
      admin(server).patch<Integration>(path, { name: "race-1" }),
      admin(server).patch<Integration>(path, { timezone: "Europe/Paris" }),
      admin(server).patch<Integration>(path, { config: { connection: { host: "h3" } } }),
      admin(server).post<Integration>(`${path}/pause`)
    ])
    assert.deepStrictEqual(answers.map((a) => a.status), [200, 200, 200, 200])
    const after = await admin(server).get<Integration>(path)
    assert.deepStrictEqual(
      [after.body.name, after.body.timezone, (after.body.config["connection"] as Record<string, unknown>)["host"], after.body.status],
      ["race-1", "Europe/Paris", "h3", "paused"]
    )
    assert.strictEqual(after.body.version, created.version + 4)
  })

  it("PATCH body rules: JSON only (415); merge-patch media type accepted", async () => {
    const created = await create({ name: "m", connector: "nested", config: nestedConfig("pw") })
    const path = `/v1/integrations/${created.id}`
    const text = await call(server, "PATCH", path, {
      token: adminToken,
      raw: "{\"name\":\"x\"}",
      headers: { "content-type": "text/plain" }
    })
    assert.strictEqual(text.status, 415)
    const merge = await call<Integration>(server, "PATCH", path, {
      token: adminToken,
      raw: "{\"name\":\"merged\"}",
      headers: { "content-type": "application/merge-patch+json" }
    })
    assert.deepStrictEqual([merge.status, merge.body.name], [200, "merged"])
  })
})

interface TokenBody {
  readonly id: string
  readonly name: string
  readonly userId: string
  readonly prefix: string
  readonly createdAt: string
  readonly revokedAt: string | null
  readonly token?: string
}

describe("admin API: personal access tokens", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "sqlite" })
  })
  afterAll(() => server.close())

  it("create (shown once), list (never the token), use on admin and push routes, revoke", async () => {
    const created = await admin(server).post<TokenBody>("/v1/access-tokens", { name: "ci", userId: "jane" })
    assert.strictEqual(created.status, 201)
    const token = created.body.token!
    assert.match(token, /^acdp_/)
    assert.deepStrictEqual([created.body.name, created.body.userId, created.body.revokedAt], ["ci", "jane", null])
    assert.isTrue(token.startsWith(created.body.prefix))
    const listed = await admin(server).get<Array<TokenBody>>("/v1/access-tokens")
    assert.strictEqual(listed.status, 200)
    const mine = listed.body.find((t) => t.id === created.body.id)!
    assert.deepStrictEqual(mine.name, "ci")
    assert.notInclude(JSON.stringify(listed.body), token)
    assert.notProperty(mine, "token")
    assert.notProperty(mine, "hash")
    // the token works on the admin API and pushes into the tenant's integrations
    assert.strictEqual((await call(server, "GET", "/v1/integrations", { token })).status, 200)
    const pushTarget = await admin(server).post<{ id: string }>("/v1/integrations", { name: "p", connector: "api-push" })
    const pushed = await call(server, "POST", "/external-systems/agent-statuses", {
      token,
      body: {
        data: [{ agentIdentifier: "a", activityIdentifier: "READY", startTime: new Date(Date.now() - 60_000).toISOString() }],
        meta: { integrationConfigurationId: pushTarget.body.id }
      }
    })
    assert.strictEqual(pushed.status, 200)
    // a token can't manage tokens
    assert.strictEqual((await call(server, "GET", "/v1/access-tokens", { token })).status, 403)
    assert.strictEqual((await call(server, "POST", "/v1/access-tokens", { token, body: { name: "more" } })).status, 403)
    // revoked: 204, at once 401, listed with its revocation time; revoking again changes nothing
    assert.strictEqual((await admin(server).del(`/v1/access-tokens/${created.body.id}`)).status, 204)
    assert.strictEqual((await call(server, "GET", "/v1/integrations", { token })).status, 401)
    assert.strictEqual((await admin(server).del(`/v1/access-tokens/${created.body.id}`)).status, 204)
    const after = await admin(server).get<Array<TokenBody>>("/v1/access-tokens")
    assert.isString(after.body.find((t) => t.id === created.body.id)!.revokedAt)
    assert.strictEqual((await admin(server).del("/v1/access-tokens/nope")).status, 404)
  })

  it("names what is wrong: 422 for a blank name; another tenant's token is not found", async () => {
    const blank = await admin(server).post<Problem>("/v1/access-tokens", { name: " " })
    assert.deepStrictEqual([blank.status, blank.body.field], [422, "name"])
    const defaulted = await admin(server).post<TokenBody>("/v1/access-tokens", { name: "default user" })
    assert.strictEqual(defaulted.body.userId, "admin")
    const foreign = await server.runtime.runPromise(
      Effect.flatMap(AccessTokens.AccessTokens, (t) =>
        t.create({ tenantId: Domain.TenantId.make("tenant-b"), userId: Domain.UserId.make("u"), name: "theirs" }))
    )
    assert.strictEqual((await admin(server).del(`/v1/access-tokens/${foreign.record.id}`)).status, 404)
    const listed = await admin(server).get<Array<TokenBody>>("/v1/access-tokens")
    assert.isFalse(listed.body.some((t) => t.id === foreign.record.id))
  })
})
