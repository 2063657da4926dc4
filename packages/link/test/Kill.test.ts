/**
 * Real `acd-link run` processes over a SQLite "customer database" with the real `sql`
 * connector, against a real engine on 127.0.0.1: one link is SIGKILLed at random moments ten
 * times while a second keeps running; the windows of the dead link's leases are taken over,
 * and in the end every record is imported exactly once.
 */
import { ConnectorRegistry, Domain, Engine, LinkModel, LinkTasks, Scheduler, Storage } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlConnector } from "@acd-bridge/sql-source"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const adminToken = "kill-test-admin-token-0123456789"
const tenantId = Domain.TenantId.make("tenant-kill")
const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
const DAY = 86_400_000

describe("acd-link processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-kill-"))
  const children: Array<ChildProcess> = []
  afterAll(() => {
    for (const child of children) child.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  })

  it("a link SIGKILLed 10 times at random points: no loss, no doubles; the other link takes its leases over", async () => {
    // the customer database: two contacts per quarter-hour over the last 41 days
    const customer = join(dir, "customer.sqlite")
    const now = Date.now()
    const start = now - 41 * DAY - (now % 900_000)
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE contacts (queue_id TEXT, queue_name TEXT, channel TEXT, ts TEXT, offered INTEGER, handled INTEGER, seconds REAL)`
      const rows = []
      for (let t = start; t < now - 3_600_000; t += 900_000) {
        rows.push({ queue_id: "q1", queue_name: "Level 1", channel: "calls", ts: new Date(t + 60_000).toISOString(), offered: 1, handled: 1, seconds: 100 })
        rows.push({ queue_id: "q2", queue_name: "Level 2", channel: "calls", ts: new Date(t + 420_000).toISOString(), offered: 1, handled: 0, seconds: 20 })
      }
      for (let i = 0; i < rows.length; i += 200) yield* sql`INSERT INTO contacts ${sql.insert(rows.slice(i, i + 200))}`
    }).pipe(Effect.provide(SqliteClient.layer({ filename: customer }))))

    const core = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(
      SqlStorage.layerSqlite({ filename: join(dir, "engine.sqlite"), synchronous: "normal" }),
      ConnectorRegistry.layer(SqlConnector.connector),
      LinkModel.layerOnPremise("link"),
      LinkTasks.layerOptions({ lease: "3 seconds" })
    )))
    const runtime = ManagedRuntime.make(
      HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false }).pipe(
        Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
        Layer.provideMerge(Layer.merge(
          core,
          Scheduler.layer({ tenants: [tenantId], pollInterval: "200 millis", settleDelay: "1 minute" }).pipe(Layer.provide(core))
        )),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
      )
    )
    const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
    const port = address._tag === "TcpAddress" ? address.port : 0
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
      (await (await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })).json()) as T
    try {
      const integration = await call<{ id: string }>("POST", "/v1/integrations", {
        name: "Customer DB",
        connector: "sql",
        deliveryMode: "on-premise",
        historyDepthDays: 40,
        timezone: "UTC",
        config: {}
      })
      const linkIds = new Map<string, string>()
      const configFor = async (name: string) => {
        const link = await call<{ id: string; token: string }>("POST", "/v1/links", { name })
        linkIds.set(name, link.id)
        const file = join(dir, `${name}.yaml`)
        writeFileSync(file, JSON.stringify({
          engine: { url: `http://127.0.0.1:${port}`, token: link.token },
          outbox: join(dir, `${name}-outbox.sqlite`),
          wait: 1,
          partSize: 10,
          integrations: [{
            id: integration.id,
            connector: "sql",
            config: {
              driver: "sqlite",
              connection: { filename: customer },
              // a query per quarter-hour: a window takes long enough to be killed in the middle
              sliceMinutes: 15,
              contacts: {
                query: "SELECT queue_id AS queue_identifier, queue_name, channel, ts AS timestamp, offered, handled, seconds AS duration FROM contacts WHERE ts >= :from AND ts < :to"
              }
            }
          }]
        }))
        return file
      }
      const runLink = (config: string) => {
        const child = spawn(process.execPath, ["--import", "tsx", bin, "run", "--config", config], {
          stdio: ["ignore", "ignore", "pipe"]
        })
        children.push(child)
        return child
      }
      const steadyConfig = await configFor("steady")
      const flaky = await configFor("flaky")
      let steady: ChildProcess | undefined
      for (let i = 0; i < 10; i++) {
        // halfway, a second link joins: it takes over what the dead one held once the lease runs out
        if (i === 5) steady = runLink(steadyConfig)
        const child = runLink(flaky)
        // killed while it holds a lease (reading, keeping or uploading a window), at a random point
        const holding = Date.now() + 30_000
        while (Date.now() < holding) {
          const open = await runtime.runPromise(Effect.flatMap(Storage.Storage, (s) => s.linkTasks.open(tenantId)))
          if (open.some((t) => t.state === "leased" && t.leasedBy === linkIds.get("flaky"))) break
          await new Promise((r) => setTimeout(r, 50))
        }
        await new Promise((r) => setTimeout(r, Math.random() * 400))
        child.kill("SIGKILL")
        await new Promise((r) => child.once("exit", r))
      }
      // the flaky link comes back for good: its outbox is uploaded
      runLink(flaky)
      const deadline = Date.now() + 120_000
      while (Date.now() < deadline) {
        const c = await runtime.runPromise(Effect.flatMap(Scheduler.Scheduler, (s) => s.cursor(tenantId, integration.id)))
        if (
          c["backfill.history.low"] === c["backfill.history.from"] &&
          c["backfill.history.high"] === c["backfill.history.cutoff"]
        ) break
        await new Promise((r) => setTimeout(r, 500))
      }
      // leases were taken over: some committed task was leased more than once
      const committed = await runtime.runPromise(Effect.flatMap(
        Storage.Storage,
        (s) => s.linkTasks.ofIntegration(Domain.IntegrationId.make(integration.id), ["committed"])
      ))
      assert.isAtLeast(committed.length, 40)
      assert.isTrue(committed.some((t) => t.attempts > 1), JSON.stringify(committed.map((t) => t.attempts)))
      const links = await call<ReadonlyArray<{ name: string; lastSeenAt: string | null }>>("GET", "/v1/links")
      assert.isTrue(links.every((l) => l.lastSeenAt !== null))
      const cursors = await runtime.runPromise(Effect.flatMap(Scheduler.Scheduler, (s) => s.cursor(tenantId, integration.id)))
      const until = cursors.incremental!
      const historyFrom = cursors["backfill.history.from"]!
      const rows = await call<ReadonlyArray<{ offered: number; handled: number }>>(
        "GET",
        `/v1/intervals?integrationId=${integration.id}&from=${new Date(historyFrom).toISOString()}&to=${new Date(until).toISOString()}`
      )
      let truth = 0
      for (let t = start; t < now - 3_600_000; t += 900_000) {
        if (t + 60_000 >= historyFrom && t + 60_000 < until) truth++
        if (t + 420_000 >= historyFrom && t + 420_000 < until) truth++
      }
      assert.isAbove(truth, 500)
      assert.strictEqual(rows.reduce((n, r) => n + r.offered, 0), truth)
      assert.strictEqual(rows.reduce((n, r) => n + r.handled, 0), truth / 2)
      steady?.kill("SIGTERM")
    } finally {
      await runtime.dispose()
    }
  }, 300_000)
})
