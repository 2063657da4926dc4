/**
 * The built server importing on its own schedule, set up over HTTP as an operator would:
 * a Five9 (cloud) integration against the local Five9 simulator, a csv folder and a sql
 * SQLite file (on-premise, run by this server: ACD_BRIDGE_ON_PREMISE=local) and a plugin
 * connector (ACD_BRIDGE_PLUGINS). Each first import reads the history, and `GET /v1/intervals`
 * holds exactly what each source holds.
 */
import { Five9Simulator } from "@acd-bridge/five9/simulator"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import Sqlite from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { api, type IntervalRow, iso, killAll, type Running, serve, stop, waitFor } from "./support.js"

const HOUR = 3_600_000
const dir = mkdtempSync(join(tmpdir(), "acd-server-pull-"))
const scope = Effect.runSync(Scope.make())
const now = Date.now()
const thisHour = Math.floor(now / HOUR) * HOUR

let server: Running
let five9: Five9Simulator.Five9Simulator
let scenario: Scenario.Scenario

beforeAll(async () => {
  // a Five9 contact centre whose day ended six hours ago: everything is written and settled
  scenario = Scenario.generate({
    seed: 7,
    from: thisHour - 30 * HOUR,
    to: thisHour - 6 * HOUR,
    timezone: "Europe/Berlin",
    queues: [
      { identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 20 },
      { identifier: "SK Support", name: "Inbound Support", channel: "calls", dailyPeak: 10 }
    ],
    agents: 6,
    openingHour: 0,
    closingHour: 24
  })
  five9 = await Effect.runPromise(Five9Simulator.make(scenario, { now }).pipe(Scope.extend(scope)))
  server = await serve({
    ACD_BRIDGE_DATABASE_URL: join(dir, "store.sqlite"),
    ACD_BRIDGE_PLUGINS: fileURLToPath(new URL("./fixtures/hourly-plugin.mjs", import.meta.url))
  })
}, 120_000)

afterAll(async () => {
  if (server !== undefined) assert.strictEqual(await stop(server), 0, server.output())
  killAll()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
})

const create = async (body: Record<string, unknown>) => {
  const created = await api<{ id: string; status: string; deliveryMode: string }>(server, "POST", "/v1/integrations", {
    schedule: { type: "historical", everyMinutes: 15 },
    timezone: "UTC",
    historyDepthDays: 2,
    ...body
  })
  assert.strictEqual(created.status, 201, JSON.stringify(created.body))
  return created.body
}

interface Health {
  readonly scheduled: boolean
  readonly failing: string | null
  readonly history: { readonly done: boolean; readonly windowsDone: number; readonly windowsTotal: number; readonly records: number } | null
}

const intervals = async (id: string) =>
  (await api<Array<IntervalRow>>(
    server,
    "GET",
    `/v1/intervals?integrationId=${id}&from=${iso(thisHour - 72 * HOUR)}&to=${iso(thisHour + HOUR)}&length=60`
  )).body

/** Offered per queue, once the stored figures add up to `total` (the history is in). */
const offeredOnce = async (id: string, total: number) =>
  waitFor(async () => {
    const rows = await intervals(id)
    const sum = rows.reduce((n, r) => n + r.offered, 0)
    if (sum !== total) return undefined
    const byQueue: Record<string, number> = {}
    for (const r of rows) byQueue[r.queueIdentifier] = (byQueue[r.queueIdentifier] ?? 0) + r.offered
    return byQueue
  }, 60_000, `${total} contacts in the intervals of ${id}`)

describe("the server's scheduler", () => {
  it("imports a Five9 (cloud) integration's history from the simulator", async () => {
    const integration = await create({
      name: "Five9",
      connector: "five9",
      deliveryMode: "cloud",
      config: five9.config({ agentStates: { loggedOut: false }, shortAbandonSeconds: 0 })
    })
    const expected: Record<string, number> = {}
    for (const c of scenario.contacts) expected[c.queueName] = (expected[c.queueName] ?? 0) + 1
    const total = scenario.contacts.length
    assert.isAbove(total, 50)
    // the operator's view: the integration's health reaches "history done"
    const health = await waitFor(async () => {
      const h = await api<Health>(server, "GET", `/v1/integrations/${integration.id}/health`)
      assert.strictEqual(h.status, 200, JSON.stringify(h.body))
      return h.body.history?.done === true ? h.body : undefined
    }, 60_000, "the Five9 history to be done")
    assert.isTrue(health.scheduled)
    assert.isNull(health.failing)
    assert.isAbove(health.history!.windowsTotal, 0)
    assert.strictEqual(health.history!.windowsDone, health.history!.windowsTotal)
    // records applied: the contacts and the agents' statuses
    assert.isAtLeast(health.history!.records, total)
    // Five9 names a queue by its skill's name
    assert.deepStrictEqual(await offeredOnce(integration.id, total), expected)
    const runs = await api<Array<{ kind: string; error: string | null }>>(server, "GET", `/v1/integrations/${integration.id}/runs`)
    assert.isTrue(runs.body.some((r) => r.kind === "history"))
    assert.isTrue(runs.body.every((r) => r.error === null), JSON.stringify(runs.body))
  }, 90_000)

  it("runs on-premise csv (a folder) and sql (a SQLite file) integrations itself", async () => {
    // the same 40 contacts, one every 30 minutes from 22 hours ago, in a CSV file and a table
    const contacts = Array.from({ length: 40 }, (_, i) => ({
      queue: i % 3 === 0 ? "billing" : "support",
      at: thisHour - 22 * HOUR + i * 30 * 60_000 + 7 * 60_000,
      handled: i % 5 !== 0,
      duration: 60 + i
    }))
    const folder = join(dir, "csv-drop")
    mkdirSync(folder)
    writeFileSync(
      join(folder, "calls.csv"),
      ["queue,time,handled,duration", ...contacts.map((c) => `${c.queue},${iso(c.at)},${c.handled ? 1 : 0},${c.duration}`)].join("\n")
    )
    const sourceDb = join(dir, "source.sqlite")
    const db = new Sqlite(sourceDb)
    db.exec("CREATE TABLE calls (queue TEXT, ts TEXT, handled INTEGER, duration REAL)")
    const insert = db.prepare("INSERT INTO calls VALUES (?, ?, ?, ?)")
    for (const c of contacts) insert.run(c.queue, iso(c.at), c.handled ? 1 : 0, c.duration)
    db.close()

    const csv = await create({
      name: "CSV drop folder",
      connector: "csv",
      deliveryMode: "on-premise",
      config: {
        source: { folder },
        layout: "contacts",
        channel: "calls",
        timezone: "UTC",
        columns: { queueIdentifier: "queue", timestamp: "time", handled: "handled", duration: "duration" }
      }
    })
    const sql = await create({
      name: "SQL",
      connector: "sql",
      deliveryMode: "on-premise",
      config: {
        driver: "sqlite",
        connection: { filename: sourceDb },
        contacts: {
          query:
            "SELECT queue AS queue_identifier, queue AS queue_name, 'calls' AS channel, ts AS timestamp, 1 AS offered, handled, duration FROM calls WHERE ts >= :from AND ts < :to"
        }
      }
    })
    const expected = { billing: 14, support: 26 }
    assert.deepStrictEqual(await offeredOnce(csv.id, 40), expected)
    assert.deepStrictEqual(await offeredOnce(sql.id, 40), expected)
    // the two paths agree to the second
    const strip = (rows: ReadonlyArray<IntervalRow>) =>
      rows.map((r) => [r.queueIdentifier, r.start, r.offered, r.handled, r.handlingSeconds]).sort()
    assert.deepStrictEqual(strip(await intervals(csv.id)), strip(await intervals(sql.id)))
  }, 90_000)

  it("imports with a plugin's connector", async () => {
    const integration = await create({ name: "Plugin", connector: "hourly", config: { queue: "plugged" }, historyDepthDays: 1 })
    // one contact at ten past every hour of the history: a day, up to the newest settled interval
    const rows = await waitFor(async () => {
      const found = await intervals(integration.id)
      return found.length >= 23 ? found : undefined
    }, 60_000, "the plugin's history")
    assert.isTrue(rows.every((r) => r.queueIdentifier === "plugged" && r.offered === 1 && r.handlingSeconds === 120))
  }, 90_000)
})
