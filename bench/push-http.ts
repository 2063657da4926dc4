/**
 * Push throughput over HTTP on loopback into SQLite: the engine's push API
 * (`@acd-bridge/http` + `@acd-bridge/api-push` over `SqlStorage.layerSqlite`) against a
 * baseline in the same run: a bare `node:http` server doing `JSON.parse` and raw better-sqlite3
 * inserts (one prepared INSERT per record, one transaction per request, same pragmas).
 *
 * Each server runs in its own Node process; this process is the load generator: BENCH_CLIENTS
 * (default 4) concurrent clients send BENCH_RECORDS (default 200,000) contact events in
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
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { atLeast, atMost, cpuMsOf, percentile, pushBodies, report, rssMbOf, servePushEngine, size, startChild } from "./_lib.js"

const RECORDS = size("BENCH_RECORDS", 200_000, 20_000)
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

// ---------------------------------------------------------------------------
// load generator
// ---------------------------------------------------------------------------

interface Started {
  readonly pid: number | undefined
  /** RSS once listening, before any request, MB */
  readonly rssIdle: number
  readonly port: number
  readonly apiKey: string
  readonly integrationId: string
  /** CPU time the server process has used so far, ms (user + system; undefined without /proc) */
  readonly cpuMs: () => number | undefined
  readonly stop: () => Promise<void>
}

const startServer = async (kind: "engine" | "baseline", dir: string): Promise<Started> => {
  const child = await startChild<{ port: number; apiKey: string; integrationId: string }>(fileURLToPath(import.meta.url), [kind, dir], {
    profileDir: PROFILE
  })
  return { ...child.info, pid: child.pid, rssIdle: (await rssMbOf(child.pid)) ?? 0, cpuMs: () => cpuMsOf(child.pid), stop: child.stop }
}

const bodies = (integrationId: string) => pushBodies(integrationId, 0, RECORDS, BATCH)

const drive = async (server: Started, idempotency: boolean) => {
  const url = `http://127.0.0.1:${server.port}/external-systems/contact-events`
  const headers = (i: number): Record<string, string> => ({
    authorization: `Bearer ${server.apiKey}`,
    "content-type": "application/json",
    ...(idempotency ? { "idempotency-key": `bench-${i}` } : {})
  })
  const send = async (body: string, i: number) => {
    const response = await fetch(url, { method: "POST", headers: headers(i), body })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`${response.status}: ${text.slice(0, 300)}`)
  }
  // warm-up (JIT, connections), not timed, the same for both servers: other queues, same shape
  const warm = bodies(server.integrationId).slice(0, WARMUP).map((b) => b.replaceAll("\"q-", "\"warm-"))
  let w = 0
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (w < warm.length) {
      const i = w++
      await send(warm[i]!, -1 - i)
    }
  }))

  const all = bodies(server.integrationId)
  const latencies: Array<number> = []
  let next = 0
  const rssWarm = (await rssMbOf(server.pid)) ?? 0
  let rssPeak = rssWarm
  const sampler = setInterval(() => {
    void rssMbOf(server.pid).then((mb) => {
      rssPeak = Math.max(rssPeak, mb ?? 0)
    })
  }, 50)
  const started = performance.now()
  const cpuBefore = server.cpuMs()
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < all.length) {
      const i = next++
      const t = performance.now()
      await send(all[i]!, i)
      latencies.push(performance.now() - t)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  const cpuAfter = server.cpuMs()
  clearInterval(sampler)
  const rssAfter = (await rssMbOf(server.pid)) ?? 0
  latencies.sort((a, b) => a - b)
  return {
    rssIdle: server.rssIdle,
    rssPeak: Math.max(rssPeak, rssAfter),
    rssGrowth: rssAfter - rssWarm,
    recordsPerSecond: RECORDS / seconds,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    // the server's CPU time per 1,000 records (the clock ticks are 10 ms: meaningful over a whole run)
    cpuMsPer1000: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / RECORDS
  }
}

type Result = Awaited<ReturnType<typeof drive>>

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
      const results: Record<string, Result> = {}
      // fresh database files for each mode
      const modeDir = path.join(dir, idempotency ? "idempotency" : "plain")
      fs.mkdirSync(modeDir)
      for (const kind of ["baseline", "engine"] as const) {
        if (ONLY !== undefined && ONLY !== kind) continue
        const server = await startServer(kind, modeDir)
        try {
          results[kind] = await drive(server, idempotency)
        } finally {
          await server.stop()
        }
      }
      const line = (name: string, r: Result) =>
        `${name.padEnd(44)} ${Math.round(r.recordsPerSecond).toLocaleString("en").padStart(10)} rec/s   ` +
        `p50 ${r.p50.toFixed(1).padStart(7)} ms   p99 ${r.p99.toFixed(1).padStart(7)} ms` +
        (r.cpuMsPer1000 === undefined ? "" : `   server CPU ${r.cpuMsPer1000.toFixed(1).padStart(5)} ms / 1,000 records`) +
        `   RSS idle ${r.rssIdle.toFixed(0)} MB, peak ${r.rssPeak.toFixed(0)} MB`
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
            engine: (engine.rssGrowth * 1_000_000) / RECORDS,
            baseline: null,
            target: atMost(64, "engine"),
            note: `RSS after the run minus after the warm-up, scaled to 1M records (${note})`
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
  // a normal exit on SIGTERM, so `--cpu-prof` can write its profile
  process.on("SIGTERM", () => process.exit(0))
  const kind = process.argv[3]
  const dir = process.argv[4]!
  if (kind === "engine") await serveEngine(dir)
  else await serveBaseline(dir)
} else {
  await main()
}
