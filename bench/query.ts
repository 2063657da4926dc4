/**
 * `GET /v1/intervals` over stored quarter-hour data: the engine's HTTP API
 * (`@acd-bridge/http` over `SqlStorage.layerSqlite`) against a bare `node:http` server running
 * the same aggregation as one raw SQL statement on the same file (better-sqlite3: `GROUP BY`
 * queue, channel and the interval start in the zone, labels formatted, `JSON.stringify`).
 *
 * The data: BENCH_QUERY_QUEUES (default 20; `--quick` 2) queues of one integration, a row per
 * queue and quarter-hour over BENCH_QUERY_DAYS (default 1,096, three years; `--quick` 60; "a
 * year" is the whole range when it is shorter),
 * written with raw inserts into the engine's own tables before either server answers.
 * Queries, each BENCH_QUERY_REPEAT times (default 30; `--quick` 3; the month BENCH_QUERY_MONTH_REPEAT
 * times, default 200, so that its p99 is not merely the slowest of 30), one at a time, after
 * a tenth as many untimed ones (at most 20: a warm server's latencies), timed to each answer's
 * last byte with `node:http`:
 * one queue for a month at 15 minutes; one queue for a year at 60 minutes in Europe/Berlin;
 * all queues for a year at 60 minutes; all queues for the whole range at 60 minutes (once,
 * with the servers' peak RSS). Rows: p99 latency (targets from issue 20), time of the whole
 * range, peak RSS, and bytes per answered row. BENCH_PROFILE=<dir> runs both servers under
 * `node --cpu-prof` and writes their profiles there.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { Domain } from "@acd-bridge/core"
import type { Row } from "./_lib.js"
import { adminToken, below, offsetTable, percentile, report, rssMbOf, servePushEngine, size, startChild } from "./_lib.js"

const QUEUES = size("BENCH_QUERY_QUEUES", 20, 2)
const DAYS = size("BENCH_QUERY_DAYS", 1_096, 60)
const REPEAT = size("BENCH_QUERY_REPEAT", 30, 3)
/** the month's requests: a p99 of 30 is their slowest, so the month (cheap) gets enough for a real one */
const MONTH_REPEAT = size("BENCH_QUERY_MONTH_REPEAT", 200, 3)
const ZONE = "Europe/Berlin"
const T0 = Date.parse("2024-01-01T00:00:00Z")
const QUARTER = 900_000

// ---------------------------------------------------------------------------
// servers (children: `query.ts serve engine|baseline <dir>`)
// ---------------------------------------------------------------------------

const serveEngine = (dir: string) =>
  servePushEngine(dir, { http: { rateLimit: false, maxIntervalRows: 10_000_000 }, integration: { timezone: ZONE } })

const measureColumns = [
  ["offered", "offered"],
  ["handled", "handled"],
  ["handling_ms", "handlingSeconds"],
  ["unhandled_ms", "unhandledSeconds"],
  ["talk_ms", "talkSeconds"],
  ["hold_ms", "holdSeconds"],
  ["after_call_work_ms", "afterCallWorkSeconds"],
  ["wait_ms", "waitSeconds"],
  ["abandoned", "abandoned"],
  ["short_abandoned", "shortAbandoned"],
  ["breakout", "breakout"],
  ["answered_in_threshold", "answeredInThreshold"]
] as const

/** The same answer by hand: one GROUP BY with the zone's offsets as a CASE, labels formatted, JSON. */
const serveBaseline = async (dir: string) => {
  const { default: Database } = await import("better-sqlite3")
  const db = new Database(path.join(dir, "engine.sqlite"), { readonly: true })
  const queues = new Map(
    (db.prepare("SELECT id, identifier, name FROM queues").all() as Array<{ id: string; identifier: string; name: string }>)
      .map((q) => [q.id, q])
  )
  const offset = offsetTable(ZONE, T0 - 86_400_000, T0 + (DAYS + 2) * 86_400_000)
  const pad = (n: number, w = 2) => String(n).padStart(w, "0")
  const label = (ms: number) => {
    const o = offset(ms)
    const d = new Date(ms + o)
    const sign = o < 0 ? "-" : "+"
    const abs = Math.abs(o) / 60_000
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${
      pad(d.getUTCMinutes())
    }:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  }
  const channels = Domain.Channel.literals.map((c) => `'${c}'`).join(", ")
  // whole-hour offsets in Berlin: an interval of `length` minutes starts where local time is a multiple of it
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    const from = Date.parse(url.searchParams.get("from")!)
    const to = Date.parse(url.searchParams.get("to")!)
    const lengthMs = Number(url.searchParams.get("length") ?? "15") * 60_000
    const queueId = url.searchParams.get("queueId")
    const o = offset(from)
    const sums = measureColumns.map(([c]) => `SUM(${c}) AS ${c}`).join(", ")
    // one queue: read by the table's key (queue, channel, start), every channel named; `+` keeps
    // the tenant a filter, else SQLite (no statistics) reads every queue's rows of the range
    // through (tenant, start) and drops 19 of 20: 2.5–4× slower, not what a careful hand would write
    const rows = db.prepare(
      `SELECT queue_id, channel, start_ms - ((start_ms + ${o}) % ${lengthMs}) AS bucket, ${sums}
       FROM interval_stats WHERE ${queueId === null ? "tenant_id = ?" : `+tenant_id = ? AND queue_id = ? AND channel IN (${channels})`}
       AND start_ms >= ? AND start_ms < ?
       GROUP BY queue_id, channel, bucket ORDER BY bucket, queue_id, channel`
    ).all(...(queueId === null ? ["bench", from, to] : ["bench", queueId, from, to])) as Array<Record<string, number | string>>
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify(rows.map((r) => {
      const q = queues.get(r["queue_id"] as string)!
      const start = r["bucket"] as number
      const out: Record<string, unknown> = {
        queueId: q.id,
        queueIdentifier: q.identifier,
        queueName: q.name,
        channel: r["channel"],
        start: label(start),
        end: label(start + lengthMs)
      }
      for (const [c, f] of measureColumns) out[f] = f.endsWith("Seconds") ? (r[c] as number) / 1000 : r[c]
      out["ahtSeconds"] = (r["handled"] as number) === 0 ? null : (r["handling_ms"] as number) / (r["handled"] as number) / 1000
      return out
    })))
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 })}\n`)
  })
}

// ---------------------------------------------------------------------------
// data and load
// ---------------------------------------------------------------------------

interface Started {
  readonly port: number
  readonly integrationId: string
  readonly pid: number | undefined
  readonly stop: () => Promise<void>
}

const startServer = async (kind: "engine" | "baseline", dir: string): Promise<Started> => {
  const child = await startChild<{ port: number; integrationId?: string }>(fileURLToPath(import.meta.url), [kind, dir], {
    profileDir: process.env["BENCH_PROFILE"]
  })
  return { port: child.info.port, integrationId: child.info.integrationId ?? "", pid: child.pid, stop: child.stop }
}

/** Queues and a row per queue and quarter-hour, written raw into the engine's tables. */
const fill = async (dir: string, integrationId: string) => {
  const { default: Database } = await import("better-sqlite3")
  const db = new Database(path.join(dir, "engine.sqlite"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  const insertQueue = db.prepare(
    "INSERT INTO queues (id, tenant_id, integration_id, identifier, name, channel, created_by_integration, created_at) VALUES (?, 'bench', ?, ?, ?, 'calls', 1, ?)"
  )
  const insertRow = db.prepare(
    `INSERT INTO interval_stats (queue_id, channel, start_ms, integration_id, tenant_id, length_minutes, offered, handled,
      handling_ms, unhandled_ms, talk_ms, hold_ms, after_call_work_ms, wait_ms, abandoned, answered_in_threshold)
     VALUES (?, 'calls', ?, ?, 'bench', 15, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`
  )
  const quarters = DAYS * 96
  db.transaction(() => {
    for (let q = 0; q < QUEUES; q++) insertQueue.run(`queue-${q}`, integrationId, `q-${String(q).padStart(2, "0")}`, `Queue ${q}`, T0)
    for (let k = 0; k < quarters; k++) {
      for (let q = 0; q < QUEUES; q++) {
        const n = k * QUEUES + q
        const offered = 1 + (n % 13)
        const handled = offered - (n % 3 === 0 ? 1 : 0)
        insertRow.run(`queue-${q}`, T0 + k * QUARTER, integrationId, offered, handled, handled * 240_000, handled * 200_000, handled * 10_000, handled * 30_000, offered * 20_000, offered - handled, handled)
      }
    }
  })()
  db.close()
  return quarters * QUEUES
}

interface Query {
  readonly name: string
  readonly queueId: string | undefined
  readonly from: number
  readonly to: number
  readonly length: 15 | 60
  readonly repeat: number
  readonly target: number | undefined
}

const iso = (ms: number) => new Date(ms).toISOString()

/** One kept-alive connection per server, as `fetch` had */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One request: its time to the last byte; the answer read (parsed and counted) only when `read`. */
const ask = async (server: Started, kind: "engine" | "baseline", q: Query, read: boolean) => {
  const params = new URLSearchParams({ from: iso(q.from), to: iso(q.to), length: String(q.length), timezone: ZONE })
  if (q.queueId !== undefined) params.set("queueId", q.queueId)
  const url = `http://127.0.0.1:${server.port}/${kind === "engine" ? "v1/intervals" : ""}?${params}`
  // node:http, the body kept as bytes until its last one arrived: `fetch` added about 15 ms
  // per 1 MB answer of its own (web streams, text decoding) to both servers' figures
  const t = performance.now()
  const { body, status } = await new Promise<{ readonly status: number; readonly body: Buffer }>((resolve, reject) => {
    http.get(url, { headers: { authorization: `Bearer ${adminToken}` }, agent }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }))
      response.on("error", reject)
    }).on("error", reject)
  })
  const ms = performance.now() - t
  if (status !== 200) throw new Error(`${kind} ${status}: ${body.toString("utf8", 0, 300)}`)
  if (!read) return { ms, bytes: body.length, rows: 0, offered: 0 }
  const rows = (JSON.parse(body.toString("utf8")) as Array<{ offered: number }>)
  return { ms, bytes: body.length, rows: rows.length, offered: rows.reduce((n, r) => n + r.offered, 0) }
}

const run = async (server: Started, kind: "engine" | "baseline", q: Query) => {
  const times: Array<number> = []
  let last = { bytes: 0, rows: 0, offered: 0 }
  let peak = (await rssMbOf(server.pid)) ?? 0
  // sampled only where the peak is a row (the single whole-range query): reading another
  // process's /proc status every 20 ms takes its memory map's lock, which its page faults wait for
  const sampler = q.repeat === 1
    ? setInterval(() => void rssMbOf(server.pid).then((mb) => (peak = Math.max(peak, mb ?? 0))), 20)
    : undefined
  // warm-up, untimed: a tenth of the timed requests (at most 20). The rows are a warm server's
  // latencies; a server's first requests of a kind run before V8 has optimised their path
  // (the month's first 10–15 took 45–65 ms against a p50 near 21)
  for (let i = 0; i < Math.min(20, Math.ceil(q.repeat / 10)); i++) await ask(server, kind, q, false)
  // only the last answer is parsed and counted (for the comparison of both servers): parsing
  // 1 MB each time left garbage whose collection fell into the next request's time
  for (let i = 0; i < q.repeat; i++) {
    const r = await ask(server, kind, q, i === q.repeat - 1)
    times.push(r.ms)
    last = r
  }
  clearInterval(sampler)
  peak = Math.max(peak, (await rssMbOf(server.pid)) ?? 0)
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), p99: percentile(times, 99), peak, ...last }
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-query-"))
  try {
    const engine = await startServer("engine", dir)
    const t = performance.now()
    const stored = await fill(dir, engine.integrationId)
    process.stderr.write(
      `query: ${stored.toLocaleString("en")} quarter-hour rows (${QUEUES} queues × ${DAYS} days) written in ${
        ((performance.now() - t) / 1000).toFixed(1)
      } s\n`
    )
    const baseline = await startServer("baseline", dir)
    const DAY = 86_400_000
    const end = T0 + DAYS * DAY
    const year = Math.min(365 * DAY, (DAYS - 1) * DAY)
    const queries: Array<Query> = [
      { name: "query: one queue, a month at 15 min", queueId: "queue-0", from: end - 31 * DAY, to: end, length: 15, repeat: MONTH_REPEAT, target: 50 },
      { name: "query: one queue, a year at 60 min (DST zone)", queueId: "queue-0", from: end - year, to: end, length: 60, repeat: REPEAT, target: 300 },
      { name: "query: all queues, a year at 60 min", queueId: undefined, from: end - year, to: end, length: 60, repeat: Math.max(2, Math.ceil(REPEAT / 6)), target: undefined },
      { name: "query: all queues, whole range at 60 min", queueId: undefined, from: T0, to: end, length: 60, repeat: 1, target: undefined }
    ]
    const rows: Array<Row> = []
    try {
      for (const q of queries) {
        const base = await run(baseline, "baseline", q)
        const ours = await run(engine, "engine", q)
        if (ours.rows !== base.rows || ours.offered !== base.offered) {
          throw new Error(`${q.name}: engine answered ${ours.rows} rows (${ours.offered} offered), baseline ${base.rows} (${base.offered})`)
        }
        const note = `${ours.rows.toLocaleString("en")} rows, ${(ours.bytes / 1048576).toFixed(1)} MB; ${QUEUES} queues × ${DAYS} days stored`
        process.stderr.write(
          `  ${q.name}: engine p50 ${ours.p50.toFixed(1)} ms p99 ${ours.p99.toFixed(1)} ms, baseline p50 ${base.p50.toFixed(1)} p99 ${
            base.p99.toFixed(1)
          } ms; ${note}; server peak RSS ${ours.peak.toFixed(0)} / ${base.peak.toFixed(0)} MB\n`
        )
        if (q.repeat > 1) {
          rows.push({ name: `${q.name}: p99`, unit: "ms", engine: ours.p99, baseline: base.p99, target: q.target === undefined ? null : below(q.target, "engine"), note })
        } else {
          rows.push(
            { name: `${q.name}: time`, unit: "ms", engine: ours.p50, baseline: base.p50, target: null, note },
            { name: `${q.name}: server peak RSS`, unit: "MB", engine: ours.peak, baseline: base.peak, target: null, note }
          )
          if (q.to - q.from > year) {
            rows.push({ name: "query: answer bytes per row", unit: "bytes", engine: ours.bytes / Math.max(1, ours.rows), baseline: base.bytes / Math.max(1, base.rows), target: null, note })
          }
        }
      }
    } finally {
      await engine.stop()
      await baseline.stop()
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
  await main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
