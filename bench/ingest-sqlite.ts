/**
 * Ingest throughput into SQLite: contact records through the engine (core's `Ingest` over
 * `SqlStorage.layerSqlite`) against raw better-sqlite3 prepared statements, in the same run,
 * on the same schema, with the same pragmas (WAL, synchronous=FULL, foreign keys on).
 *
 * - engine: `Ingest.importWindow` per batch (validation, plan, one transaction with the
 *   queue lookup, the interval upserts and the import-run record);
 * - raw, per record: one prepared `INSERT … ON CONFLICT DO UPDATE SET offered = offered + …`
 *   per contact, one transaction per batch (what a hand-written importer does);
 * - raw, pre-summed: the same rows the engine writes (contacts summed per queue and
 *   quarter-hour in JavaScript first), one prepared upsert per row, one transaction per batch.
 *
 * BENCH_RECORDS (default 1,000,000) contact records in batches of BENCH_BATCH (default 1,000);
 * BENCH_SYNCHRONOUS=normal runs both sides with `synchronous=NORMAL` (no fsync per commit).
 */
import { ConnectorRegistry, type Domain, Engine, Ingest, Storage } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import Database from "better-sqlite3"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { benchIntegration, atLeast, report, size } from "./_lib.js"

const RECORDS = size("BENCH_RECORDS", 1_000_000, 30_000)
const BATCH = size("BENCH_BATCH", 1_000, 1_000)
const SYNCHRONOUS = process.env["BENCH_SYNCHRONOUS"] === "normal" ? "normal" : "full"
const QUEUES = 20
const T0 = Date.parse("2026-01-05T00:00:00Z")
/** one contact every 2.6 s: a million contacts are a month of a 20-queue contact centre */
const STEP_MS = 2_600
const QUARTER = 900_000

interface Raw {
  readonly queue: number
  readonly at: number
  readonly handled: boolean
  readonly durationMs: number
}

const record = (r: number): Raw => ({
  queue: (r * 7) % QUEUES,
  at: T0 + r * STEP_MS,
  handled: r % 5 !== 0,
  durationMs: 30_000 + ((r * 7_919) % 570_000)
})

const rawBatch = (b: number): Array<Raw> => {
  const out: Array<Raw> = []
  for (let r = b * BATCH; r < Math.min(RECORDS, (b + 1) * BATCH); r++) out.push(record(r))
  return out
}

const batches = Math.ceil(RECORDS / BATCH)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-bench-"))
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }))

const rss = () => process.memoryUsage().rss

const integration = benchIntegration({ id: "bench-integration", tenantId: "bench-tenant", name: "Bench", at: T0 })

/** Creates the store's schema in a fresh file and registers the integration. */
const prepare = (filename: string) =>
  Effect.runPromise(
    Effect.flatMap(Storage.Storage, (s) => s.integrations.insert(integration)).pipe(
      Effect.provide(SqlStorage.layerSqlite({ filename, synchronous: SYNCHRONOUS }))
    )
  )

interface Result {
  readonly name: string
  readonly seconds: number
  readonly peakRss: number
  readonly offered: number
}

const engine = async (): Promise<Result> => {
  const filename = path.join(tmp, "engine.sqlite")
  await prepare(filename)
  const App = Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(SqlStorage.layerSqlite({ filename, synchronous: SYNCHRONOUS }), ConnectorRegistry.layer())
    )
  )
  return Effect.runPromise(
    Effect.gen(function*() {
      const ingest = yield* Ingest.Ingest
      const storage = yield* Storage.Storage
      let elapsed = 0
      let peak = rss()
      for (let b = 0; b < batches; b++) {
        const contacts: Array<Domain.ContactEvent> = rawBatch(b).map((r) => ({
          queueIdentifier: `queue-${r.queue}`,
          queueName: `Queue ${r.queue}`,
          channel: "calls",
          timestamp: DateTime.unsafeMake(r.at),
          offered: true,
          handled: r.handled,
          durationMs: r.durationMs
        }))
        const started = performance.now()
        yield* ingest.importWindow({ integration, batch: { contacts, aggregates: [], statuses: [] }, kind: "pull" })
        elapsed += performance.now() - started
        if (b % 10 === 0) peak = Math.max(peak, rss())
      }
      const rows = yield* storage.data.intervalStats({
        tenantId: integration.tenantId,
        integrationId: integration.id,
        from: 0,
        to: 8_000_000_000_000
      })
      return {
        name: "engine (Ingest.importWindow → SqlStorage)",
        seconds: elapsed / 1000,
        peakRss: Math.max(peak, rss()),
        offered: rows.reduce((n, r) => n + r.offered, 0)
      }
    }).pipe(Effect.provide(App))
  )
}

const measureColumns = [
  "offered",
  "handled",
  "handling_ms",
  "unhandled_ms",
  "talk_ms",
  "hold_ms",
  "after_call_work_ms",
  "wait_ms",
  "abandoned",
  "answered_in_threshold"
]

const raw = async (mode: "per-record" | "pre-summed"): Promise<Result> => {
  const filename = path.join(tmp, `raw-${mode}.sqlite`)
  await prepare(filename)
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma(`synchronous = ${SYNCHRONOUS.toUpperCase()}`)
  db.pragma("foreign_keys = ON")
  db.pragma("busy_timeout = 5000")
  const findQueue = db.prepare(
    "SELECT id FROM queues WHERE integration_id = ? AND created_by_integration = 1 AND identifier = ? AND name = ?"
  ).pluck()
  const insertQueue = db.prepare(
    "INSERT INTO queues (id, tenant_id, integration_id, identifier, name, channel, created_by_integration, created_at) " +
      "VALUES (?, ?, ?, ?, ?, 'calls', 1, ?)"
  )
  const upsert = db.prepare(
    `INSERT INTO interval_stats (queue_id, channel, start_ms, integration_id, tenant_id, length_minutes, ${
      measureColumns.join(", ")
    }) VALUES (?, 'calls', ?, ?, ?, 15, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0)
    ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET ${
      measureColumns.map((c) => `${c} = interval_stats.${c} + excluded.${c}`).join(", ")
    }`
  )
  const queueIds = new Map<number, string>()
  const queueId = (q: number): string => {
    let id = queueIds.get(q)
    if (id === undefined) {
      id = findQueue.get(integration.id, `queue-${q}`, `Queue ${q}`) as string | undefined
      if (id === undefined) {
        id = `raw-queue-${q}`
        insertQueue.run(id, integration.tenantId, integration.id, `queue-${q}`, `Queue ${q}`, T0)
      }
      queueIds.set(q, id)
    }
    return id
  }
  const perRecord = db.transaction((rows: ReadonlyArray<Raw>) => {
    for (const r of rows) {
      upsert.run(
        queueId(r.queue),
        r.at - (r.at % QUARTER),
        integration.id,
        integration.tenantId,
        1,
        r.handled ? 1 : 0,
        r.handled ? r.durationMs : 0,
        r.handled ? 0 : r.durationMs
      )
    }
  })
  const preSummed = db.transaction((rows: ReadonlyArray<Raw>) => {
    const sums = new Map<string, [number, number, number, number, number, number]>()
    for (const r of rows) {
      const start = r.at - (r.at % QUARTER)
      const key = `${r.queue}|${start}`
      const s = sums.get(key) ?? [r.queue, start, 0, 0, 0, 0]
      s[2] += 1
      s[3] += r.handled ? 1 : 0
      s[4] += r.handled ? r.durationMs : 0
      s[5] += r.handled ? 0 : r.durationMs
      sums.set(key, s)
    }
    for (const [q, start, offered, handled, handlingMs, unhandledMs] of sums.values()) {
      upsert.run(queueId(q), start, integration.id, integration.tenantId, offered, handled, handlingMs, unhandledMs)
    }
  })
  let elapsed = 0
  let peak = rss()
  for (let b = 0; b < batches; b++) {
    const rows = rawBatch(b)
    const started = performance.now()
    if (mode === "per-record") perRecord(rows)
    else preSummed(rows)
    elapsed += performance.now() - started
    if (b % 10 === 0) peak = Math.max(peak, rss())
  }
  const offered = db.prepare("SELECT SUM(offered) FROM interval_stats").pluck().get() as number
  db.close()
  return { name: `raw better-sqlite3, ${mode}`, seconds: elapsed / 1000, peakRss: Math.max(peak, rss()), offered }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const perSecond = (r: Result) => RECORDS / r.seconds

const main = async () => {
  process.stderr.write(
    `ingest-sqlite: ${RECORDS.toLocaleString("en")} contact records, batches of ${BATCH}, synchronous=${SYNCHRONOUS}\n`
  )
  const results: Array<Result> = []
  results.push(await raw("per-record"))
  results.push(await raw("pre-summed"))
  results.push(await engine())
  for (const r of results) {
    if (r.offered !== RECORDS) throw new Error(`${r.name} stored ${r.offered} offered, expected ${RECORDS}`)
    process.stderr.write(
      `  ${r.name.padEnd(44)} ${Math.round(perSecond(r)).toLocaleString("en").padStart(10)} records/s  ${
        r.seconds.toFixed(2).padStart(7)
      } s  peak RSS ${mb(r.peakRss)}\n`
    )
  }
  const [perRecordResult, preSummedResult, engineResult] = results as [Result, Result, Result]
  const note = `${RECORDS.toLocaleString("en")} contacts, batches of ${BATCH}, synchronous=${SYNCHRONOUS}`
  report([
    {
      name: "ingest → SQLite vs raw pre-summed upserts",
      unit: "records/s",
      engine: perSecond(engineResult),
      baseline: perSecond(preSummedResult),
      target: atLeast(0.5),
      note
    },
    {
      name: "ingest → SQLite vs raw per-record upserts",
      unit: "records/s",
      engine: perSecond(engineResult),
      baseline: perSecond(perRecordResult),
      target: null,
      note
    }
  ])
}
main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
