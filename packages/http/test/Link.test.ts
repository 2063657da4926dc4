import { PushConnector } from "@acd-bridge/api-push"
import { AccessTokens, Connector, ConnectorRegistry, Domain, Engine, LinkModel, Scheduler } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Authenticator, HttpAdapter } from "../src/index.js"
import { adminToken, call, tenantId } from "./helpers.js"

/** An on-premise connector: its connection config lives in the link, the engine never pulls. */
const onPrem = Connector.make({
  key: "onprem-db",
  displayName: "On-premise database",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({ dsn: Schema.Redacted(Schema.String) }),
  pull: () => Stream.die("the engine must not pull an on-premise integration served by a link")
})

interface Server {
  readonly url: string
  readonly close: () => Promise<void>
  readonly pat: (tenant: string) => Promise<string>
}

const start = async (): Promise<Server> => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-"))
  const storage = SqlStorage.layerSqlite({ filename: join(dir, "engine.sqlite"), synchronous: "normal" })
  const registry = ConnectorRegistry.layer(PushConnector.connector, onPrem)
  const core = Engine.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(storage, registry, LinkModel.layerOnPremise("link")))
  )
  const engine = Layer.merge(
    core,
    Scheduler.layer({ tenants: [tenantId], pollInterval: "100 millis" }).pipe(Layer.provide(core))
  )
  const server = HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
    Layer.provideMerge(engine),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  )
  const runtime = ManagedRuntime.make(server)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return {
    url: `http://127.0.0.1:${address.port}`,
    pat: (tenant) =>
      runtime.runPromise(Effect.gen(function*() {
        const tokens = yield* AccessTokens.AccessTokens
        return (yield* tokens.create({
          tenantId: Domain.TenantId.make(tenant),
          userId: Domain.UserId.make("user-1"),
          name: "test"
        })).token
      })),
    close: async () => {
      await runtime.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const protocol = { [LinkModel.protocolHeader]: String(LinkModel.protocolVersion), [LinkModel.agentVersionHeader]: "0.3.0-test" }

interface TaskView {
  readonly taskId: string
  readonly integrationId: string
  readonly kind: string
  readonly window: { readonly from: string; readonly to: string } | null
  readonly leaseId: string
  readonly leaseUntil: string
}
interface Lease {
  readonly protocol: number
  readonly leaseMs: number
  readonly tasks: ReadonlyArray<TaskView>
}

const agent = (server: Server, token: string) => ({
  lease: (query: string) => call<Lease>(server, "GET", `/v1/link/tasks${query}`, { token, headers: protocol }),
  post: <T = unknown>(path: string, body: unknown) => call<T>(server, "POST", path, { token, body, headers: protocol }),
  put: <T = unknown>(path: string, body: unknown) => call<T>(server, "PUT", path, { token, body, headers: protocol })
})

/** Two contact events per quarter of the first two hours of the window. */
const contactsIn = (window: { readonly from: string }) => {
  const from = Date.parse(window.from)
  return Array.from({ length: 16 }, (_, i) => ({
    queueIdentifier: "q1",
    queueName: "Level 1",
    channel: "calls",
    timestamp: new Date(from + Math.floor(i / 2) * 900_000 + 60_000).toISOString(),
    offered: true,
    handled: i % 2 === 0,
    durationMs: 100_000
  }))
}

const batchOf = (contacts: ReadonlyArray<unknown>) => ({ contacts, aggregates: [], statuses: [] })

describe("link routes", () => {
  let server: Server
  beforeAll(async () => {
    server = await start()
  }, 60_000)
  afterAll(async () => {
    await server?.close()
  })

  it("a link registered per tenant leases the tenant's windows, uploads parts and commits once", async () => {
    const created = await call<{ token: string; id: string; prefix: string }>(server, "POST", "/v1/links", {
      token: adminToken,
      body: { name: "Berlin site" }
    })
    assert.strictEqual(created.status, 201)
    const { id: linkId, token } = created.body
    assert.isTrue(token.startsWith("acdl_"))
    assert.strictEqual(created.body.prefix, token.slice(0, 12))

    // the engine keeps no secret of an on-premise integration served by a link
    const integration = await call<{ id: string; linkId: string }>(server, "POST", "/v1/integrations", {
      token: adminToken,
      body: {
        name: "Customer DB",
        connector: "onprem-db",
        deliveryMode: "on-premise",
        timezone: "Europe/Berlin",
        historyDepthDays: 1,
        linkId,
        config: { table: "calls" }
      }
    })
    assert.strictEqual(integration.status, 201, JSON.stringify(integration.body))
    assert.strictEqual(integration.body.linkId, linkId)

    const a = agent(server, token)
    // a protocol this engine does not serve is refused with what to do
    const old = await call<{ detail: string }>(server, "GET", "/v1/link/tasks", {
      token,
      headers: { [LinkModel.protocolHeader]: "99" }
    })
    assert.strictEqual(old.status, 426)
    assert.include(old.body.detail, "upgrade the engine")
    const none = await call<{ detail: string }>(server, "GET", "/v1/link/tasks", { token })
    assert.strictEqual(none.status, 426)
    assert.include(none.body.detail, LinkModel.protocolHeader)
    assert.strictEqual((await call(server, "GET", "/v1/link/tasks", { token: "acdl_wrong", headers: protocol })).status, 401)
    // an admin token is not a link token
    assert.strictEqual((await call(server, "GET", "/v1/link/tasks", { token: adminToken, headers: protocol })).status, 401)

    const leased = await a.lease(`?wait=10&integrations=${integration.body.id}`)
    assert.strictEqual(leased.status, 200, JSON.stringify(leased.body))
    assert.strictEqual(leased.body.protocol, 1)
    assert.strictEqual(leased.body.tasks.length, 1)
    const task = leased.body.tasks[0]!
    assert.strictEqual(task.kind, "window")
    assert.strictEqual(task.integrationId, integration.body.id)
    assert.strictEqual(Date.parse(task.window!.to) - Date.parse(task.window!.from), 86_400_000)

    const listed = await call<ReadonlyArray<{ id: string; lastSeenAt: string | null; agentVersion: string; serves: Array<string>; integrations: Array<string> }>>(
      server,
      "GET",
      "/v1/links",
      { token: adminToken }
    )
    const seen = listed.body.find((l) => l.id === linkId)!
    assert.isNotNull(seen.lastSeenAt)
    assert.strictEqual(seen.agentVersion, "0.3.0-test")
    assert.deepStrictEqual(seen.serves, [integration.body.id])
    assert.deepStrictEqual(seen.integrations, [integration.body.id])
    assert.notInclude(JSON.stringify(listed.body), token)

    const renewed = await a.post<{ leaseUntil: string }>(`/v1/link/tasks/${task.taskId}/renew`, { leaseId: task.leaseId })
    assert.strictEqual(renewed.status, 200)
    assert.isAtLeast(Date.parse(renewed.body.leaseUntil), Date.parse(task.leaseUntil))
    const wrongLease = await a.post(`/v1/link/tasks/${task.taskId}/renew`, { leaseId: "not-mine" })
    assert.strictEqual(wrongLease.status, 409)

    const contacts = contactsIn(task.window!)
    const parts = [contacts.slice(0, 10), contacts.slice(10)]
    for (const [n, part] of parts.entries()) {
      const put = await a.put(`/v1/link/tasks/${task.taskId}/results/r1/parts/${n}`, batchOf(part))
      assert.strictEqual(put.status, 204, JSON.stringify(put.body))
    }
    // a commit naming more parts than were uploaded says which are missing
    const missing = await a.post<{ detail: string }>(`/v1/link/tasks/${task.taskId}/commit`, {
      resultId: "r1",
      parts: 3,
      records: contacts.length
    })
    assert.strictEqual(missing.status, 422)
    assert.include(missing.body.detail, "part 2 of 3 is missing")
    const commit = await a.post<LinkModel.TaskAnswer>(`/v1/link/tasks/${task.taskId}/commit`, {
      resultId: "r1",
      parts: 2,
      records: contacts.length
    })
    assert.strictEqual(commit.status, 200, JSON.stringify(commit.body))
    assert.deepStrictEqual([commit.body.outcome, commit.body.applied, commit.body.rejected], ["applied", 16, 0])
    // the engine's outbox answer is lost; the link commits again: same answer, nothing doubled
    const again = await a.post<LinkModel.TaskAnswer>(`/v1/link/tasks/${task.taskId}/commit`, {
      resultId: "r1",
      parts: 2,
      records: contacts.length
    })
    assert.strictEqual(again.status, 200)
    assert.deepStrictEqual(again.body, commit.body)

    const intervals = await call<ReadonlyArray<{ offered: number; handled: number }>>(
      server,
      "GET",
      `/v1/intervals?integrationId=${integration.body.id}&from=${task.window!.from}&to=${task.window!.to}`,
      { token: adminToken }
    )
    assert.strictEqual(intervals.status, 200)
    assert.strictEqual(intervals.body.reduce((n, r) => n + r.offered, 0), 16)
    assert.strictEqual(intervals.body.reduce((n, r) => n + r.handled, 0), 8)
    const runs = await call<ReadonlyArray<{ kind: string; applied: number }>>(
      server,
      "GET",
      `/v1/integrations/${integration.body.id}/runs`,
      { token: adminToken }
    )
    assert.deepStrictEqual(runs.body.map((r) => [r.kind, r.applied]), [["history", 16]])

    // the history is one window; the next is offered when its interval has closed
    const next = await a.lease(`?wait=0&integrations=${integration.body.id}`)
    assert.deepStrictEqual(next.body.tasks, [])

    // revoked: refused at once
    const revoked = await call(server, "DELETE", `/v1/links/${linkId}`, { token: adminToken })
    assert.strictEqual(revoked.status, 200)
    assert.strictEqual((await a.lease("?wait=0")).status, 401)
  }, 60_000)

  it("a link token of another tenant never leases, sees, uploads to or commits this tenant's tasks", async () => {
    const own = await call<{ token: string; id: string }>(server, "POST", "/v1/links", {
      token: adminToken,
      body: { name: "Own" }
    })
    const otherPat = await server.pat("tenant-b")
    const foreign = await call<{ token: string; id: string }>(server, "POST", "/v1/links", {
      token: otherPat,
      body: { name: "Tenant B" }
    })
    assert.strictEqual(foreign.status, 201)
    // tenant B's admin sees only its own link, and can't revoke tenant A's
    const seenByB = await call<ReadonlyArray<{ id: string }>>(server, "GET", "/v1/links", { token: otherPat })
    assert.deepStrictEqual(seenByB.body.map((l) => l.id), [foreign.body.id])
    assert.strictEqual((await call(server, "DELETE", `/v1/links/${own.body.id}`, { token: otherPat })).status, 404)

    const integration = await call<{ id: string }>(server, "POST", "/v1/integrations", {
      token: adminToken,
      body: {
        name: "Site DB",
        connector: "onprem-db",
        deliveryMode: "on-premise",
        historyDepthDays: 1,
        config: {}
      }
    })
    assert.strictEqual(integration.status, 201)
    const b = agent(server, foreign.body.token)
    const stolen = await b.lease(`?wait=2&integrations=${integration.body.id}`)
    assert.strictEqual(stolen.status, 200)
    assert.deepStrictEqual(stolen.body.tasks, [])

    const a = agent(server, own.body.token)
    const leased = await a.lease(`?wait=10&integrations=${integration.body.id}`)
    assert.strictEqual(leased.body.tasks.length, 1)
    const task = leased.body.tasks[0]!
    const contacts = contactsIn(task.window!)
    assert.strictEqual((await b.put(`/v1/link/tasks/${task.taskId}/results/x/parts/0`, batchOf(contacts))).status, 404)
    assert.strictEqual(
      (await b.post(`/v1/link/tasks/${task.taskId}/commit`, { resultId: "x", parts: 1, records: contacts.length })).status,
      404
    )
    assert.strictEqual((await b.post(`/v1/link/tasks/${task.taskId}/renew`, { leaseId: task.leaseId })).status, 404)

    // a part that is not a batch is refused before it is kept
    const bad = [{ ...contacts[0]!, timestamp: "not a time" }]
    const refusedPart = await a.put(`/v1/link/tasks/${task.taskId}/results/r/parts/0`, batchOf(bad))
    assert.strictEqual(refusedPart.status, 400)
    const negative = [{ ...contacts[0]!, durationMs: -5 }]
    assert.strictEqual((await a.put(`/v1/link/tasks/${task.taskId}/results/r/parts/0`, batchOf(negative))).status, 400)
    // the link could not read the source: recorded as the run's error, the task ends failed
    const failed = await a.post<{ detail: string }>(`/v1/link/tasks/${task.taskId}/fail`, {
      error: { _tag: "Transient", reason: "database unreachable" },
      read: 0
    })
    assert.strictEqual(failed.status, 204)
    const gone = await a.post(`/v1/link/tasks/${task.taskId}/commit`, { resultId: "r", parts: 0, records: 0 })
    assert.strictEqual(gone.status, 410)
    const runs = await call<ReadonlyArray<{ error: string | null }>>(
      server,
      "GET",
      `/v1/integrations/${integration.body.id}/runs`,
      { token: adminToken }
    )
    assert.include(runs.body[0]?.error ?? "", "database unreachable")
  }, 60_000)

  it("a file offered with a link token: its task is the link's, tenants are kept apart, a bad row is a 422 naming its line", async () => {
    const own = await call<{ token: string; id: string }>(server, "POST", "/v1/links", { token: adminToken, body: { name: "Share" } })
    const foreign = await call<{ token: string }>(server, "POST", "/v1/links", {
      token: await server.pat("tenant-c"),
      body: { name: "Tenant C" }
    })
    const integration = await call<{ id: string }>(server, "POST", "/v1/integrations", {
      token: adminToken,
      body: { name: "File share", connector: "onprem-db", deliveryMode: "on-premise", historyDepthDays: 1, config: {} }
    })
    assert.strictEqual(integration.status, 201)
    const a = agent(server, own.body.token)
    const c = agent(server, foreign.body.token)
    const sha = "ab".repeat(32)
    const offer = { integrationId: integration.body.id, name: "calls.csv", sha256: sha }
    // no link token, or a personal token: refused
    assert.strictEqual((await call(server, "POST", "/v1/link/files", { body: offer, headers: protocol })).status, 401)
    assert.strictEqual((await call(server, "POST", "/v1/link/files", { token: adminToken, body: offer, headers: protocol })).status, 401)
    // another tenant's link: the integration does not exist for it
    assert.strictEqual((await c.post("/v1/link/files", offer)).status, 404)
    assert.strictEqual((await a.post("/v1/link/files", { ...offer, sha256: "not a hash" })).status, 400)

    interface FileTask {
      readonly taskId: string
      readonly state: string
      readonly resultId: string
      readonly leaseId: string | null
    }
    const task = await a.post<FileTask>("/v1/link/files", offer)
    assert.strictEqual(task.status, 200, JSON.stringify(task.body))
    assert.strictEqual(task.body.state, "leased")
    assert.strictEqual(task.body.resultId, sha)
    const contacts = contactsIn({ from: "2026-03-01T08:00:00Z" }).slice(0, 4)
    assert.strictEqual((await c.put(`/v1/link/tasks/${task.body.taskId}/results/${sha}/parts/0`, batchOf(contacts))).status, 404)
    assert.strictEqual((await a.put(`/v1/link/tasks/${task.body.taskId}/results/${sha}/parts/0`, batchOf(contacts))).status, 204)
    // a file task is no realtime task
    const notRealtime = await a.post<{ detail: string }>(`/v1/link/tasks/${task.body.taskId}/realtime`, {
      leaseId: task.body.leaseId,
      batch: batchOf([])
    })
    assert.strictEqual(notRealtime.status, 422)
    assert.include(notRealtime.body.detail, "not realtime")
    const refused = await a.post<{ detail: string }>(`/v1/link/tasks/${task.body.taskId}/commit`, {
      resultId: sha,
      parts: 1,
      records: 4,
      rejected: 1,
      problems: [{ record: "calls.csv:6", field: "duration", reason: "\"abc\" is not a number of seconds" }]
    })
    assert.strictEqual(refused.status, 422, JSON.stringify(refused.body))
    assert.include(refused.body.detail, "calls.csv:6: duration: \"abc\" is not a number of seconds")
    // offered again: the same task, failed, with its reason; nothing was applied
    const again = await a.post<FileTask & { readonly error: string }>("/v1/link/files", { ...offer, name: "copy.csv" })
    assert.deepStrictEqual([again.body.taskId, again.body.state], [task.body.taskId, "failed"])
    assert.include(again.body.error, "calls.csv:6")
    const intervals = await call<ReadonlyArray<{ offered: number }>>(
      server,
      "GET",
      `/v1/intervals?integrationId=${integration.body.id}&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`,
      { token: adminToken }
    )
    assert.strictEqual(intervals.body.reduce((n, r) => n + r.offered, 0), 0)
  }, 60_000)
})
