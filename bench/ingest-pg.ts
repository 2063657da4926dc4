/**
 * Ingest throughput into PostgreSQL: contact records through the engine (core's `Ingest` over
 * `SqlStorage.layerPg`) against raw `pg` in the same run, on the same schema and server:
 * contacts summed per queue and quarter-hour in JavaScript, then one multi-row
 * `INSERT … ON CONFLICT DO UPDATE` per batch, one transaction per batch (what a careful
 * hand-written importer does, and what the engine does too).
 *
 * The server is `ACD_BRIDGE_TEST_PG_URL`, or a throwaway cluster (fsync off) when unset; each
 * side writes into a fresh database. BENCH_PG_RECORDS (default 300,000) contact records in
 * batches of BENCH_BATCH (default 1,000).
 */
import { ConnectorRegistry, type Domain, Engine, Ingest, Storage } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { benchIntegration, atLeast, freshDatabase, postgresServer, report, size } from "./_lib.js"

const RECORDS = size("BENCH_PG_RECORDS", 300_000, 20_000)
const BATCH = size("BENCH_BATCH", 1_000, 1_000)
const QUEUES = 20
const T0 = Date.parse("2026-01-05T00:00:00Z")
const STEP_MS = 2_600
const QUARTER = 900_000
const batches = Math.ceil(RECORDS / BATCH)

const record = (r: number) => ({
  queue: (r * 7) % QUEUES,
  at: T0 + r * STEP_MS,
  handled: r % 5 !== 0,
  durationMs: 30_000 + ((r * 7_919) % 570_000)
})

const integration = benchIntegration({ id: "bench-integration", tenantId: "bench-tenant", name: "Bench", at: T0 })

const storageOf = (url: string) => SqlStorage.layerPg({ url, maxConnections: 2 })

/** The store's schema and the integration, through the engine (both sides use its tables). */
const prepare = (url: string) =>
  Effect.runPromise(
    Effect.flatMap(Storage.Storage, (s) => s.integrations.insert(integration)).pipe(Effect.provide(storageOf(url)))
  )

const engine = (url: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const ingest = yield* Ingest.Ingest
      let elapsed = 0
      for (let b = 0; b < batches; b++) {
        const contacts: Array<Domain.ContactEvent> = []
        for (let r = b * BATCH; r < Math.min(RECORDS, (b + 1) * BATCH); r++) {
          const x = record(r)
          contacts.push({
            queueIdentifier: `queue-${x.queue}`,
            queueName: `Queue ${x.queue}`,
            channel: "calls",
            timestamp: DateTime.unsafeMake(x.at),
            offered: true,
            handled: x.handled,
            durationMs: x.durationMs
          })
        }
        const started = performance.now()
        yield* ingest.importWindow({ integration, batch: { contacts, aggregates: [], statuses: [] }, kind: "pull" })
        elapsed += performance.now() - started
      }
      const rows = yield* (yield* Storage.Storage).data.intervalStats({
        tenantId: integration.tenantId,
        integrationId: integration.id,
        from: 0,
        to: 8_000_000_000_000
      })
      return { seconds: elapsed / 1000, offered: rows.reduce((n, r) => n + r.offered, 0) }
    }).pipe(
      Effect.provide(Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(storageOf(url), ConnectorRegistry.layer()))))
    )
  )

const raw = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const queueIds = new Map<number, string>()
  for (let q = 0; q < QUEUES; q++) {
    const id = `raw-queue-${q}`
    await client.query(
      "INSERT INTO queues (id, tenant_id, integration_id, identifier, name, channel, created_by_integration, created_at) " +
        "VALUES ($1, $2, $3, $4, $5, 'calls', true, $6)",
      [id, integration.tenantId, integration.id, `queue-${q}`, `Queue ${q}`, T0]
    )
    queueIds.set(q, id)
  }
  let elapsed = 0
  for (let b = 0; b < batches; b++) {
    const rowsOfBatch: Array<ReturnType<typeof record>> = []
    for (let r = b * BATCH; r < Math.min(RECORDS, (b + 1) * BATCH); r++) rowsOfBatch.push(record(r))
    const started = performance.now()
    const sums = new Map<string, [number, number, number, number, number, number]>()
    for (const r of rowsOfBatch) {
      const start = r.at - (r.at % QUARTER)
      const key = `${r.queue}|${start}`
      const s = sums.get(key) ?? [r.queue, start, 0, 0, 0, 0]
      s[2] += 1
      s[3] += r.handled ? 1 : 0
      s[4] += r.handled ? r.durationMs : 0
      s[5] += r.handled ? 0 : r.durationMs
      sums.set(key, s)
    }
    const values: Array<unknown> = []
    const tuples: Array<string> = []
    for (const [q, start, offered, handled, handlingMs, unhandledMs] of sums.values()) {
      const n = values.length
      tuples.push(`($${n + 1}, 'calls', $${n + 2}, $${n + 3}, $${n + 4}, 15, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8}, 0, 0, 0, 0, 0, 0)`)
      values.push(queueIds.get(q), start, integration.id, integration.tenantId, offered, handled, handlingMs, unhandledMs)
    }
    await client.query("BEGIN")
    await client.query(
      `INSERT INTO interval_stats (queue_id, channel, start_ms, integration_id, tenant_id, length_minutes, offered, handled,
        handling_ms, unhandled_ms, talk_ms, hold_ms, after_call_work_ms, wait_ms, abandoned, answered_in_threshold)
       VALUES ${tuples.join(", ")}
       ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET offered = interval_stats.offered + excluded.offered,
        handled = interval_stats.handled + excluded.handled, handling_ms = interval_stats.handling_ms + excluded.handling_ms,
        unhandled_ms = interval_stats.unhandled_ms + excluded.unhandled_ms`,
      values
    )
    await client.query("COMMIT")
    elapsed += performance.now() - started
  }
  const offered = Number((await client.query("SELECT SUM(offered) AS n FROM interval_stats")).rows[0].n)
  await client.end()
  return { seconds: elapsed / 1000, offered }
}

const main = async () => {
  const server = await postgresServer()
  try {
    const rawDb = await freshDatabase(server.url)
    const engineDb = await freshDatabase(server.url)
    try {
      await prepare(rawDb.url)
      await prepare(engineDb.url)
      const base = await raw(rawDb.url)
      const ours = await engine(engineDb.url)
      for (const r of [base, ours]) if (r.offered !== RECORDS) throw new Error(`stored ${r.offered} offered, expected ${RECORDS}`)
      report([{
        name: "ingest → PostgreSQL vs raw pg multi-row upserts",
        unit: "records/s",
        engine: RECORDS / ours.seconds,
        baseline: RECORDS / base.seconds,
        target: atLeast(0.5),
        note: `${RECORDS.toLocaleString("en")} contacts, batches of ${BATCH}, pre-summed on both sides`
      }])
    } finally {
      await rawDb.drop()
      await engineDb.drop()
    }
  } finally {
    server.stop()
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
