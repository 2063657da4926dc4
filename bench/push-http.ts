/**
 * Push throughput over HTTP on loopback into SQLite: the engine's push API
 * (`@acd-bridge/http` + `@acd-bridge/api-push` over `SqlStorage.layerSqlite`) against a
 * baseline in the same run: a bare `node:http` server doing `JSON.parse` and raw better-sqlite3
 * inserts (one prepared INSERT per record, one transaction per request, same pragmas).
 *
 * Each server runs in its own Node process; this process is the load generator: BENCH_CLIENTS
 * (default 4) concurrent clients send BENCH_RECORDS (default 1,000,000) contact events in
 * batches of BENCH_BATCH (default 1,000), bodies serialised before the clock starts. Reported:
 * records/s, the engine/baseline ratio (target ≥ 0.5), p50/p99 request latency (target: engine
 * p99 ≤ 3× the baseline's) after BENCH_WARMUP (default 20) untimed batches on each server, and
 * each server's CPU time per 1,000 records (from /proc; steadier than throughput when other
 * work shares the machine).
 *
 * The engine path per request: bearer API key (SHA-256 lookup), rate limit off, the body read
 * with the size limit and strictly (UTF-8, nesting, duplicate keys), `JSON.parse`, `meta`,
 * one read of the integration, the records checked by the predicate compiled from their
 * schema, timestamps, `Ingest.pushTo` (plan, one SQLite transaction: queues, pre-summed
 * quarter-hour upserts, import-run record). Each size runs without and with an Idempotency-Key on
 * every request (hash + idempotency record); BENCH_IDEMPOTENCY=0|1 runs one of them. Rows: records/s,
 * p99, server CPU per 1,000 records, and the server RSS (idle, peak, growth per record).
 *
 * BENCH_ONLY=engine|baseline runs one server; BENCH_PROFILE=<dir> runs the servers under
 * `node --cpu-prof` and writes their profiles there.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { answerMemoryProbes, atLeast, atMost, report, servePushEngine, size } from "./_lib.js"
import type { PushResult } from "./_push.js"
import { drivePush, pushLine, startPushServer } from "./_push.js"

// a full run pushes 1M records, so the memory row measures growth over 750k of them rather than scaling
const RECORDS = size("BENCH_RECORDS", 1_000_000, 20_000)
const BATCH = size("BENCH_BATCH", 1_000, 1_000)
const CLIENTS = size("BENCH_CLIENTS", 4, 4)
/** BENCH_IDEMPOTENCY=1: only with an Idempotency-Key, 0: only without; unset: both */
const IDEMPOTENCY_MODES = process.env["BENCH_IDEMPOTENCY"] === "1"
  ? [true]
  : process.env["BENCH_IDEMPOTENCY"] === "0"
  ? [false]
  : [false, true]
const WARMUP = size("BENCH_WARMUP", 20, 10)
/** BENCH_PROFILE=<dir>: run each server under `node --cpu-prof`, writing its profile there */
const PROFILE = process.env["BENCH_PROFILE"]
/** BENCH_ONLY=engine|baseline: run one server only (e.g. to profile it) */
const ONLY = process.env["BENCH_ONLY"]

// ---------------------------------------------------------------------------
// servers (run in a child process: `push-http.ts serve engine|baseline <dir>`)
// ---------------------------------------------------------------------------

const serveEngine = (dir: string) =>
  servePushEngine(dir, { http: { rateLimit: false, maxBodyBytes: 64 * 1024 * 1024 } })

const serveBaseline = async (dir: string) => {
  const { default: Database } = await import("better-sqlite3")
  const http = await import("node:http")
  const db = new Database(path.join(dir, "baseline.sqlite"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.pragma("foreign_keys = ON")
  db.exec(`CREATE TABLE contacts (
    id INTEGER PRIMARY KEY, integration_id TEXT NOT NULL, queue_identifier TEXT NOT NULL, queue_name TEXT NOT NULL,
    channel TEXT NOT NULL, ts INTEGER NOT NULL, offered INTEGER NOT NULL, handled INTEGER NOT NULL, duration_ms INTEGER NOT NULL)`)
  const insert = db.prepare(
    "INSERT INTO contacts (integration_id, queue_identifier, queue_name, channel, ts, offered, handled, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
  )
  interface Wire {
    readonly data: ReadonlyArray<{
      readonly properties: { readonly offered: boolean; readonly handled: boolean; readonly duration: number }
      readonly queueName: string
      readonly queueIdentifier: string
      readonly timestamp: string
      readonly channel: string
    }>
    readonly meta: { readonly integrationConfigurationId: string }
  }
  const write = db.transaction((body: Wire) => {
    for (const r of body.data) {
      insert.run(
        String(body.meta.integrationConfigurationId),
        r.queueIdentifier,
        r.queueName,
        r.channel,
        Date.parse(r.timestamp),
        r.properties.offered ? 1 : 0,
        r.properties.handled ? 1 : 0,
        Math.round(r.properties.duration * 1000)
      )
    }
  })
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Wire
        write(body)
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ accepted: body.data.length }))
      } catch (error) {
        res.writeHead(400).end(String(error))
      }
    })
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    process.stdout.write(`${JSON.stringify({ port, apiKey: "none", integrationId: "baseline" })}\n`)
  })
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-push-http-"))
  const rows: Array<Row> = []
  const note = `${RECORDS.toLocaleString("en")} records, batches of ${BATCH}, ${CLIENTS} clients`
  try {
    for (const idempotency of IDEMPOTENCY_MODES) {
      process.stderr.write(
        `push over HTTP into SQLite: ${note}${idempotency ? ", Idempotency-Key on every request" : ""} ` +
          `(${os.cpus().length} CPUs, Node ${process.version})\n`
      )
      const results: Record<string, PushResult> = {}
      // fresh database files for each mode
      const modeDir = path.join(dir, idempotency ? "idempotency" : "plain")
      fs.mkdirSync(modeDir)
      for (const kind of ["baseline", "engine"] as const) {
        if (ONLY !== undefined && ONLY !== kind) continue
        const server = await startPushServer(fileURLToPath(import.meta.url), [kind, modeDir], PROFILE)
        try {
          results[kind] = await drivePush(server, {
            records: RECORDS,
            batch: BATCH,
            clients: CLIENTS,
            warmup: WARMUP,
            idempotency,
            parts: 4
          })
        } finally {
          await server.stop()
        }
      }
      const line = (name: string, r: PushResult) =>
        pushLine(name, r) +
        `   RSS idle ${r.rssIdle.toFixed(0)} MB, peak ${r.rssPeak.toFixed(0)} MB; after GC per 1M records ` +
        `(over the last ${r.measured.toLocaleString("en")}): RSS ${r.rssGrowthPer1M.toFixed(1)} MB, heap ${r.heapGrowthPer1M.toFixed(1)} MB ` +
        `(heap ${r.heapAfter.toFixed(0)} MB at the end)`
      const baseline = results["baseline"]
      const engine = results["engine"]
      if (baseline) process.stderr.write(`${line("baseline: node:http + JSON.parse + raw inserts", baseline)}\n`)
      if (engine) process.stderr.write(`${line("engine: HttpAdapter + api-push + SqlStorage", engine)}\n`)
      if (baseline === undefined || engine === undefined) continue
      const suffix = idempotency ? ", Idempotency-Key" : ""
      rows.push(
        { name: `push HTTP → SQLite${suffix}`, unit: "records/s", engine: engine.recordsPerSecond, baseline: baseline.recordsPerSecond, target: atLeast(0.5), note },
        { name: `push HTTP → SQLite${suffix}: p99 latency`, unit: "ms", engine: engine.p99, baseline: baseline.p99, target: atMost(3), note },
        { name: `push HTTP → SQLite${suffix}: server CPU`, unit: "ms/1k records", engine: engine.cpuMsPer1000 ?? 0, baseline: baseline.cpuMsPer1000 ?? null, target: null, note: "CPU time of the server process per 1,000 records (steadier than wall time on a shared machine)" }
      )
      if (!idempotency) {
        rows.push(
          { name: "memory: server RSS idle", unit: "MB", engine: engine.rssIdle, baseline: baseline.rssIdle, target: null, note: "once listening, before any request" },
          { name: "memory: server RSS peak under push load", unit: "MB", engine: engine.rssPeak, baseline: baseline.rssPeak, target: null, note },
          {
            name: "memory: RSS growth per 1M pushed records",
            unit: "MB",
            engine: engine.rssGrowthPer1M,
            baseline: null,
            target: atMost(64, "engine"),
            note: `RSS after a full GC at the end minus after the first quarter of the run, per 1M records: measured over ${
              engine.measured.toLocaleString("en")
            } records${engine.measured < 1_000_000 ? " and scaled" : ""} (heap: ${engine.heapGrowthPer1M.toFixed(1)} MB per 1M; ${note})`
          }
        )
      }
    }
    report(rows)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === "serve") {
  answerMemoryProbes()
  // a normal exit on SIGTERM, so `--cpu-prof` can write its profile
  process.on("SIGTERM", () => process.exit(0))
  const kind = process.argv[3]
  const dir = process.argv[4]!
  if (kind === "engine") await serveEngine(dir)
  else await serveBaseline(dir)
} else {
  await main()
}
