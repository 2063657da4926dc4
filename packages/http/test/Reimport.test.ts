import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { admin, type IntegrationBody, type Problem, pushIntegration, startServer, type TestServer } from "./helpers.js"

const QUARTER = 15 * 60_000

describe("POST /v1/integrations/{id}/reimport", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", scheduler: true })
  })
  afterAll(() => server.close())

  it("accepts a range aligned outward to the integration's intervals (202)", async () => {
    const created = await admin(server).post<IntegrationBody>("/v1/integrations", {
      name: "Pulled",
      connector: "fake",
      config: { apiKey: "fake-secret" },
      schedule: { type: "historical", everyMinutes: 15 },
      historyDepthDays: 1
    })
    assert.strictEqual(created.status, 201)
    const now = Date.now()
    const from = new Date(now - 2 * 86_400_000 + 7 * 60_000).toISOString()
    const to = new Date(now - 86_400_000 + 3 * 60_000).toISOString()
    const answer = await admin(server).post<{ from: string; to: string }>(
      `/v1/integrations/${created.body.id}/reimport`,
      { from, to }
    )
    assert.strictEqual(answer.status, 202)
    const accepted = { from: Date.parse(answer.body.from), to: Date.parse(answer.body.to) }
    assert.strictEqual(accepted.from % QUARTER, 0)
    assert.strictEqual(accepted.to % QUARTER, 0)
    assert.isAtMost(accepted.from, Date.parse(from))
    assert.isAbove(accepted.from, Date.parse(from) - QUARTER)
    assert.isAtLeast(accepted.to, Date.parse(to))
    assert.isBelow(accepted.to, Date.parse(to) + QUARTER)
  })

  it("names what is wrong: to before from (422), unknown integration (404), push integration (422)", async () => {
    const created = await admin(server).post<IntegrationBody>("/v1/integrations", {
      name: "Pulled 2",
      connector: "fake",
      config: { apiKey: "fake-secret" },
      historyDepthDays: 1
    })
    const backwards = await admin(server).post<Problem>(`/v1/integrations/${created.body.id}/reimport`, {
      from: "2026-11-02T00:00:00Z",
      to: "2026-11-01T00:00:00Z"
    })
    assert.deepStrictEqual([backwards.status, backwards.body.field], [422, "to"])
    const missing = await admin(server).post<Problem>("/v1/integrations/no-such-id/reimport", {
      from: "2026-11-01T00:00:00Z",
      to: "2026-11-02T00:00:00Z"
    })
    assert.strictEqual(missing.status, 404)
    const { id } = await pushIntegration(server, { name: "pushed" })
    const push = await admin(server).post<Problem>(`/v1/integrations/${id}/reimport`, {
      from: "2026-11-01T00:00:00Z",
      to: "2026-11-02T00:00:00Z"
    })
    assert.strictEqual(push.status, 422)
    assert.match(push.body.detail, /can't re-import a range: push the range again/)
    const malformed = await admin(server).post<Problem>(`/v1/integrations/${id}/reimport`, { from: "yesterday" })
    assert.strictEqual(malformed.status, 422)
  })
})

describe("POST /v1/integrations/{id}/reimport without a scheduler", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory" })
  })
  afterAll(() => server.close())

  it("answers 422 saying the engine runs no scheduler", async () => {
    const { id } = await pushIntegration(server, { name: "pushed" })
    const answer = await admin(server).post<Problem>(`/v1/integrations/${id}/reimport`, {
      from: "2026-11-01T00:00:00Z",
      to: "2026-11-02T00:00:00Z"
    })
    assert.strictEqual(answer.status, 422)
    assert.match(answer.body.detail, /runs no scheduler/)
  })
})
