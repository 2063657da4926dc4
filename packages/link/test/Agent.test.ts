import { Connector, ConnectorRegistry, Domain, Engine, LinkModel, LinkTasks, Scheduler } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Agent from "../src/Agent.js"
import type { LinkConfig } from "../src/LinkConfig.js"
import * as Outbox from "../src/Outbox.js"

const adminToken = "link-test-admin-token-0123456789"
const tenantId = Domain.TenantId.make("tenant-link")

/** Two contacts per quarter-hour of [from, to): the source's ground truth. */
const truth = (from: number, to: number) => {
  const contacts = []
  for (let t = from; t < to; t += 900_000) {
    for (const handled of [true, false]) {
      contacts.push({
        queueIdentifier: "q1",
        queueName: "Level 1",
        channel: "calls" as const,
        timestamp: DateTime.unsafeMake(t + 60_000),
        offered: true,
        handled,
        durationMs: handled ? 100_000 : 30_000
      })
    }
  }
  return contacts
}

/** The source as the link reads it; `gate` holds the read until the test opens it. */
const makeSource = Effect.gen(function*() {
  const reading = yield* Deferred.make<void>()
  const gate = yield* Deferred.make<void>()
  const connector = Connector.make({
    key: "sql",
    displayName: "customer database (test)",
    deliveryModes: ["on-premise"],
    dataKinds: ["contacts", "agentStatuses"],
    configSchema: Schema.Struct({ dsn: Schema.String }),
    pull: (config, window) =>
      Stream.fromEffect(Effect.gen(function*() {
        yield* Deferred.succeed(reading, undefined)
        yield* Deferred.await(gate)
        const from = DateTime.toEpochMillis(window.from)
        return {
          contacts: truth(from, DateTime.toEpochMillis(window.to)),
          aggregates: [],
          // a database with a broken row: a status that ends before it starts
          statuses: config.dsn === "broken"
            ? [{
              agentIdentifier: "a-1",
              activityIdentifier: "BREAK",
              start: DateTime.unsafeMake(from + 600_000),
              end: DateTime.unsafeMake(from + 300_000)
            }]
            : []
        }
      }))
  })
  return { connector, reading, gate }
})

type SourceConnector = Effect.Effect.Success<typeof makeSource>["connector"]

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** The engine (server, SQLite store, scheduler in link mode) on a fixed port, so it can be stopped and started again. */
const startEngine = async (
  file: string,
  port: number,
  connector: SourceConnector,
  lease: Duration.DurationInput = "60 seconds"
) => {
  const registry = ConnectorRegistry.layer(connector)
  const core = Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        SqlStorage.layerSqlite({ filename: file }),
        registry,
        LinkModel.layerOnPremise("link"),
        LinkTasks.layerOptions({ lease })
      )
    )
  )
  const engine = Layer.merge(core, Scheduler.layer({ tenants: [tenantId], pollInterval: "100 millis" }).pipe(Layer.provide(core)))
  const runtime = ManagedRuntime.make(
    HttpAdapter.layer({ port, host: "127.0.0.1", rateLimit: false, shutdownGrace: "10 millis" }).pipe(
      Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
      Layer.provideMerge(engine),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
  )
  await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  return runtime
}

const call = async <T>(port: number, method: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return (await response.json()) as T
}

const until = async (check: () => Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 200))
  }
  return false
}

describe("acd-link agent", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-agent-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("engine down while a window is read: the result waits in the outbox, then lands exactly once", async () => {
    const source = await Effect.runPromise(makeSource)
    const port = await freePort()
    const engineFile = join(dir, "engine.sqlite")
    let engine = await startEngine(engineFile, port, source.connector)
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "site" })
    const integration = await call<{ id: string }>(port, "POST", "/v1/integrations", {
      name: "Customer DB",
      connector: "sql",
      deliveryMode: "on-premise",
      historyDepthDays: 1,
      linkId: link.id,
      config: {}
    })
    const config: LinkConfig = {
      engine: { url: `http://127.0.0.1:${port}`, token: Redacted.make(link.token) },
      outbox: join(dir, "outbox.sqlite"),
      wait: 1,
      watchSeconds: 10,
      partSize: 10,
      integrations: [{ id: integration.id, connector: "sql", config: { dsn: "file:customer.db" } }]
    }
    const agentLayer = Layer.mergeAll(
      Outbox.layer(config.outbox),
      ConnectorRegistry.layer(source.connector),
      FetchHttpClient.layer,
      Logger.minimumLogLevel(LogLevel.Error)
    )
    const agent = Effect.runFork(Agent.run(config).pipe(Effect.provide(agentLayer)))
    const outbox = ManagedRuntime.make(Outbox.layer(config.outbox))
    try {
      await Effect.runPromise(Deferred.await(source.reading))
      // the engine goes down while the link reads the window
      await engine.dispose()
      await Effect.runPromise(Deferred.succeed(source.gate, undefined))
      assert.isTrue(await until(() => outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.depth)).then((n) => n === 1), 20_000))
      const kept = await outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.ready))
      // 96 quarter-hours × 2 contacts, in parts of 10
      assert.strictEqual(kept[0]?.records, 192)
      assert.strictEqual(kept[0]?.parts.length, 20)

      engine = await startEngine(engineFile, port, source.connector)
      assert.isTrue(await until(() => outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.depth)).then((n) => n === 0), 60_000))
      const runs = await call<ReadonlyArray<{ kind: string; applied: number; windowStart: string; windowEnd: string }>>(
        port,
        "GET",
        `/v1/integrations/${integration.id}/runs`
      )
      const history = runs.filter((r) => r.kind === "history")
      assert.strictEqual(history.length, 1)
      assert.strictEqual(history[0]!.applied, 192)
      const rows = await call<ReadonlyArray<{ offered: number; handled: number; handlingSeconds: number }>>(
        port,
        "GET",
        `/v1/intervals?integrationId=${integration.id}&from=${history[0]!.windowStart}&to=${history[0]!.windowEnd}`
      )
      assert.strictEqual(rows.reduce((n, r) => n + r.offered, 0), 192)
      assert.strictEqual(rows.reduce((n, r) => n + r.handled, 0), 96)
      assert.strictEqual(rows.reduce((n, r) => n + r.handlingSeconds, 0), 96 * 100)
    } finally {
      await Effect.runPromise(Fiber.interrupt(agent))
      await outbox.dispose()
      await engine.dispose()
    }
  }, 120_000)

  it("a result the engine refuses (422) is parked with its reason; the other integration's windows still flow", async () => {
    const source = await Effect.runPromise(makeSource)
    await Effect.runPromise(Deferred.succeed(source.gate, undefined))
    const port = await freePort()
    const engine = await startEngine(join(dir, "engine-422.sqlite"), port, source.connector)
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "site" })
    const create = (name: string) =>
      call<{ id: string }>(port, "POST", "/v1/integrations", {
        name,
        connector: "sql",
        deliveryMode: "on-premise",
        historyDepthDays: 1,
        config: {}
      })
    const broken = await create("Broken DB")
    const healthy = await create("Healthy DB")
    const config: LinkConfig = {
      engine: { url: `http://127.0.0.1:${port}`, token: Redacted.make(link.token) },
      outbox: join(dir, "outbox-422.sqlite"),
      wait: 1,
      watchSeconds: 10,
      partSize: 1_000,
      integrations: [
        { id: broken.id, connector: "sql", config: { dsn: "broken" } },
        { id: healthy.id, connector: "sql", config: { dsn: "fine" } }
      ]
    }
    const agent = Effect.runFork(Agent.run(config).pipe(Effect.provide(Layer.mergeAll(
      Outbox.layer(config.outbox),
      ConnectorRegistry.layer(source.connector),
      FetchHttpClient.layer,
      Logger.minimumLogLevel(LogLevel.Error)
    ))))
    const outbox = ManagedRuntime.make(Outbox.layer(config.outbox))
    try {
      const runsOf = (id: string) =>
        call<ReadonlyArray<{ kind: string; applied: number; error: string | null }>>(port, "GET", `/v1/integrations/${id}/runs`)
      assert.isTrue(await until(async () => (await runsOf(healthy.id)).some((r) => r.applied === 192), 30_000))
      assert.isTrue(
        await until(() => outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.parked)).then((p) => p.length === 1), 30_000)
      )
      const parked = await outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.parked))
      assert.strictEqual(parked[0]?.integrationId, broken.id)
      assert.include(parked[0]?.reason ?? "", "422")
      assert.include(parked[0]?.reason ?? "", "endTime")
      assert.strictEqual(await outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.depth)), 0)
      // the refusal is the broken integration's run error; nothing of it was applied
      const runs = await runsOf(broken.id)
      assert.isTrue(runs.length >= 1 && runs.every((r) => r.applied === 0))
      assert.include(runs[0]?.error ?? "", "endTime")
    } finally {
      await Effect.runPromise(Fiber.interrupt(agent))
      await outbox.dispose()
      await engine.dispose()
    }
  }, 120_000)

  it("history: the next window is read while the last result uploads; every window lands once, in order", async () => {
    // when each window's read started, by window start
    const reads = new Map<number, number>()
    const connector = Connector.make({
      key: "sql",
      displayName: "customer database (test)",
      deliveryModes: ["on-premise"],
      dataKinds: ["contacts", "agentStatuses"],
      configSchema: Schema.Struct({ dsn: Schema.String }),
      pull: (_config, window) =>
        Stream.fromEffect(Effect.sync(() => {
          const from = DateTime.toEpochMillis(window.from)
          reads.set(from, Date.now())
          return { contacts: truth(from, DateTime.toEpochMillis(window.to)), aggregates: [], statuses: [] }
        }))
    })
    const port = await freePort()
    const engine = await startEngine(join(dir, "engine-ahead.sqlite"), port, connector as unknown as SourceConnector)
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "site" })
    const integration = await call<{ id: string }>(port, "POST", "/v1/integrations", {
      name: "Customer DB",
      connector: "sql",
      deliveryMode: "on-premise",
      historyDepthDays: 3,
      config: {}
    })
    const config: LinkConfig = {
      engine: { url: `http://127.0.0.1:${port}`, token: Redacted.make(link.token) },
      outbox: join(dir, "outbox-ahead.sqlite"),
      wait: 1,
      watchSeconds: 10,
      // small parts: each upload takes a while
      partSize: 4,
      integrations: [{ id: integration.id, connector: "sql", config: { dsn: "fine" } }]
    }
    const agent = Effect.runFork(Agent.run(config).pipe(Effect.provide(Layer.mergeAll(
      Outbox.layer(config.outbox),
      ConnectorRegistry.layer(connector),
      FetchHttpClient.layer,
      Logger.minimumLogLevel(LogLevel.Error)
    ))))
    try {
      type Run = { kind: string; applied: number; windowStart: string; startedAt: string }
      const runsOf = () => call<ReadonlyArray<Run>>(port, "GET", `/v1/integrations/${integration.id}/runs`)
      assert.isTrue(await until(async () => (await runsOf()).filter((r) => r.kind === "history").length === 3, 60_000))
      const history = (await runsOf()).filter((r) => r.kind === "history")
        .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
      assert.deepStrictEqual(history.map((r) => r.applied), [192, 192, 192])
      // newest first, committed in that order
      const starts = history.map((r) => Date.parse(r.windowStart))
      assert.deepStrictEqual(starts, [...starts].sort((a, b) => b - a))
      assert.strictEqual(reads.size, 3)
      // the second window (offered ahead of the first's commit) was read before the first was
      // committed (a link's run starts at the commit)
      const readAt = reads.get(starts[1]!)
      assert.isDefined(readAt)
      assert.isBelow(readAt!, Date.parse(history[0]!.startedAt))
      const rows = await call<ReadonlyArray<{ offered: number }>>(
        port,
        "GET",
        `/v1/intervals?integrationId=${integration.id}&from=${new Date(starts[2]!).toISOString()}&to=${new Date(starts[0]! + 86_400_000).toISOString()}`
      )
      assert.strictEqual(rows.reduce((n, r) => n + r.offered, 0), 3 * 192)
    } finally {
      await Effect.runPromise(Fiber.interrupt(agent))
      await engine.dispose()
    }
  }, 120_000)

  it("a slow read keeps its lease: renewals stop another link from taking the window", async () => {
    const source = await Effect.runPromise(makeSource)
    const port = await freePort()
    const engine = await startEngine(join(dir, "engine-renew.sqlite"), port, source.connector, "2 seconds")
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "reader" })
    const other = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "other" })
    const integration = await call<{ id: string }>(port, "POST", "/v1/integrations", {
      name: "Slow DB",
      connector: "sql",
      deliveryMode: "on-premise",
      historyDepthDays: 1,
      config: {}
    })
    const config: LinkConfig = {
      engine: { url: `http://127.0.0.1:${port}`, token: Redacted.make(link.token) },
      outbox: join(dir, "outbox-renew.sqlite"),
      wait: 1,
      watchSeconds: 10,
      partSize: 1_000,
      integrations: [{ id: integration.id, connector: "sql", config: { dsn: "slow" } }]
    }
    const agent = Effect.runFork(Agent.run(config).pipe(Effect.provide(Layer.mergeAll(
      Outbox.layer(config.outbox),
      ConnectorRegistry.layer(source.connector),
      FetchHttpClient.layer,
      Logger.minimumLogLevel(LogLevel.Error)
    ))))
    try {
      await Effect.runPromise(Deferred.await(source.reading))
      // three lease times pass while the source is read; the other link polls all along
      const until = Date.now() + 6_000
      while (Date.now() < until) {
        const response = await fetch(`http://127.0.0.1:${port}/v1/link/tasks?wait=0&integrations=${integration.id}`, {
          headers: { authorization: `Bearer ${other.token}`, [LinkModel.protocolHeader]: "1" }
        })
        const body = (await response.json()) as { tasks: ReadonlyArray<unknown> }
        assert.deepStrictEqual(body.tasks, [])
        await new Promise((r) => setTimeout(r, 300))
      }
      await Effect.runPromise(Deferred.succeed(source.gate, undefined))
    } finally {
      await Effect.runPromise(Fiber.interrupt(agent))
      await engine.dispose()
    }
  }, 120_000)
})
