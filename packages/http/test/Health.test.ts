import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { admin, type IntegrationBody, type Problem, pushIntegration, startServer, type TestServer } from "./helpers.js"

interface Progress {
  readonly done: boolean
  readonly windowsDone: number
  readonly windowsTotal: number
  readonly records: number
  readonly recordsPerSecond: number | null
  readonly etaSeconds: number | null
}

interface HealthBody {
  readonly integrationId: string
  readonly status: string
  readonly failing: string | null
  readonly scheduled: boolean
  readonly waitingForLink: boolean
  readonly watermark: string | null
  readonly lagMs: number | null
  readonly stalled: boolean
  readonly warnings: ReadonlyArray<string>
  readonly history: Progress | null
  readonly reimport: Progress | null
  readonly lastRun: { readonly kind: string } | null
  readonly lastError: { readonly message: string; readonly kind: string } | null
}

const until = async <T>(read: () => Promise<T>, done: (t: T) => boolean, what: string, ms = 20_000): Promise<T> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe("GET /v1/integrations/{id}/health", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "sqlite", scheduler: true })
  })
  afterAll(() => server.close())

  const health = (id: string) => admin(server).get<HealthBody>(`/v1/integrations/${id}/health`)

  it("wrong credentials show as failing with the reason; a PATCHed config recovers and the history completes", async () => {
    const created = await admin(server).post<IntegrationBody>("/v1/integrations", {
      name: "pulled",
      connector: "fake",
      config: { apiKey: "wrong-key" },
      historyDepthDays: 2
    })
    assert.strictEqual(created.status, 201)
    const id = created.body.id
    const failing = await until(() => health(id), (h) => h.body.failing !== null, "failing")
    assert.strictEqual(failing.status, 200)
    assert.match(failing.body.failing!, /does not know this API key/)
    assert.match(failing.body.warnings.join("\n"), /^failing: /m)
    assert.match(failing.body.lastError?.message ?? "", /does not know this API key/)
    const fixed = await admin(server).patch<{ failing: string | null }>(`/v1/integrations/${id}`, {
      config: { apiKey: "fake-secret" }
    })
    assert.deepStrictEqual([fixed.status, fixed.body.failing], [200, null])
    const done = await until(() => health(id), (h) => h.body.history?.done === true, "history done")
    const h = done.body
    assert.deepStrictEqual([h.status, h.failing, h.scheduled, h.stalled], ["active", null, true, false])
    assert.isString(h.watermark)
    assert.isBelow(h.lagMs!, 60 * 60_000)
    assert.strictEqual(h.history!.windowsDone, h.history!.windowsTotal)
    assert.strictEqual(h.history!.windowsTotal, 2)
    assert.isAbove(h.history!.records, 0)
    assert.isNumber(h.history!.recordsPerSecond)
    assert.isNull(h.history!.etaSeconds)
    assert.isNotNull(h.lastRun)
    assert.isNull(h.lastError)
    // a re-import shows as its own progress
    const now = Date.now()
    const asked = await admin(server).post(`/v1/integrations/${id}/reimport`, {
      from: new Date(now - 86_400_000).toISOString(),
      to: new Date(now - 3_600_000).toISOString()
    })
    assert.strictEqual(asked.status, 202)
    const reimported = await until(() => health(id), (x) => x.body.reimport?.done === true, "re-import done")
    assert.isAbove(reimported.body.reimport!.records, 0)
  })

  it("a push integration: not scheduled, its last run; 404 for an unknown integration", async () => {
    const { id } = await pushIntegration(server, { name: "pushed" })
    const h = await health(id)
    assert.deepStrictEqual([h.status, h.body.scheduled, h.body.watermark, h.body.history], [200, false, null, null])
    assert.isFalse(h.body.waitingForLink)
    const engine = await admin(server).get<{ status: string; scheduler: boolean }>("/health")
    assert.deepStrictEqual([engine.status, engine.body.status, engine.body.scheduler], [200, "ok", true])
    const missing = await admin(server).get<Problem>("/v1/integrations/nope/health")
    assert.strictEqual(missing.status, 404)
  })

  it("an on-premise integration this engine leaves to a link says it waits for one", async () => {
    const created = await admin(server).post<IntegrationBody>("/v1/integrations", {
      name: "folder in the call centre",
      connector: "files",
      config: { folder: "/exports", password: "p" }
    })
    assert.strictEqual(created.status, 201)
    const h = await health(created.body.id)
    assert.deepStrictEqual([h.status, h.body.scheduled, h.body.waitingForLink], [200, false, true])
    assert.match(h.body.warnings.join("\n"), /^waiting for a link: /m)
  })
})

describe("GET /v1/integrations/{id}/health without a scheduler", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory" })
  })
  afterAll(() => server.close())

  it("answers what storage knows", async () => {
    const { id } = await pushIntegration(server, { name: "pushed" })
    const h = await admin(server).get<HealthBody>(`/v1/integrations/${id}/health`)
    assert.deepStrictEqual(
      [h.status, h.body.status, h.body.scheduled, h.body.failing, h.body.lastRun, h.body.warnings],
      [200, "active", false, null, null, []]
    )
    assert.isFalse(h.body.waitingForLink)
  })

  it("an on-premise integration waits for a link", async () => {
    const created = await admin(server).post<IntegrationBody>("/v1/integrations", {
      name: "folder",
      connector: "files",
      config: { folder: "/exports", password: "p" }
    })
    const h = await admin(server).get<HealthBody>(`/v1/integrations/${created.body.id}/health`)
    assert.deepStrictEqual([h.status, h.body.waitingForLink], [200, true])
    assert.match(h.body.warnings.join("\n"), /^waiting for a link: /m)
  })
})
