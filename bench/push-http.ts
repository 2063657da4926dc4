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
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { atLeast, atMost, percentile, report, rssMbOf, size } from "./_lib.js"

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
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
const here = path.dirname(fileURLToPath(import.meta.url))

// ---------------------------------------------------------------------------
// servers (run in a child process: `push-http.ts serve engine|baseline <dir>`)
// ---------------------------------------------------------------------------

const serveEngine = async (dir: string) => {
  const { PushConnector } = await import("../packages/api-push/src/index.js")
  const { ApiKeys, ConnectorRegistry, Domain, Engine, Integrations } = await import("@acd-bridge/core")
  const { Authenticator, HttpAdapter } = await import("../packages/http/src/index.js")
  const { SqlStorage } = await import("@acd-bridge/sql-storage")
  const HttpServer = await import("@effect/platform/HttpServer")
  const Effect = await import("effect/Effect")
  const Layer = await import("effect/Layer")
  const Logger = await import("effect/Logger")
  const LogLevel = await import("effect/LogLevel")
  const Redacted = await import("effect/Redacted")
  const tenantId = Domain.TenantId.make("bench")
  const engine = Engine.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      SqlStorage.layerSqlite({ filename: path.join(dir, "engine.sqlite") }),
      ConnectorRegistry.layer(PushConnector.connector)
    ))
  )
  const server = HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false, maxBodyBytes: 64 * 1024 * 1024 }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(ADMIN_TOKEN), tenantId })),
    Layer.provideMerge(engine)
  )
  const program = Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    const { integration } = yield* (yield* Integrations.Integrations).create(tenantId, { name: "bench", connector: "api-push" })
    const { apiKey } = yield* (yield* ApiKeys.ApiKeys).generate(tenantId, integration.id)
    process.stdout.write(`${JSON.stringify({ port: address._tag === "TcpAddress" ? address.port : 0, apiKey, integrationId: integration.id })}\n`)
    return yield* Effect.never
  })
  await Effect.runPromise(program.pipe(Effect.provide(server), Logger.withMinimumLogLevel(LogLevel.Warning)))
}

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
  /** the server's heap and RSS after full GCs, MB */
  readonly memory: () => Promise<{ readonly heapMb: number; readonly rssMb: number }>
  readonly stop: () => Promise<void>
}

/** A process's CPU time from /proc (Linux): less sensitive to other load on the machine than wall time. */
const cpuMsOf = (pid: number | undefined): number | undefined => {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return undefined
  }
}

const startServer = (kind: "engine" | "baseline", dir: string): Promise<Started> =>
  new Promise((resolve, reject) => {
    const profile = PROFILE === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", PROFILE]
    const child = spawn(process.execPath, [...profile, "--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "serve", kind, dir], {
      cwd: here,
      stdio: ["pipe", "pipe", "inherit"]
    })
    let out = ""
    const probes: Array<(m: { heapMb: number; rssMb: number }) => void> = []
    let lines = ""
    child.stdout.on("data", (chunk: Buffer) => {
      lines += chunk.toString()
      for (let end = lines.indexOf("\n"); end >= 0; end = lines.indexOf("\n")) {
        const line = lines.slice(0, end)
        lines = lines.slice(end + 1)
        if (line.startsWith("{\"heapMb\"")) probes.shift()?.(JSON.parse(line) as { heapMb: number; rssMb: number })
      }
    })
    child.stdout.on("data", (chunk: Buffer) => {
      if (out.includes("\n")) return
      out += chunk.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined && out.includes("\n")) {
        const info = JSON.parse(line) as { port: number; apiKey: string; integrationId: string }
        void rssMbOf(child.pid).then((rssIdle) => resolve({
          ...info,
          pid: child.pid,
          rssIdle: rssIdle ?? 0,
          cpuMs: () => cpuMsOf(child.pid),
          memory: () =>
            new Promise((answered) => {
              probes.push(answered)
              child.stdin.write("probe\n")
            }),
          stop: () =>
            new Promise((done) => {
              child.on("exit", () => done())
              // SIGTERM lets a profiled server write its profile (it exits on SIGTERM)
              child.kill(PROFILE === undefined ? "SIGKILL" : "SIGTERM")
            })
        }))
      }
    })
    child.on("exit", (code) => reject(new Error(`${kind} server exited (${code}): ${out}`)))
  })

const QUEUES = 20
const T0 = Date.parse("2026-01-05T00:00:00Z")
const CHANNELS = ["calls", "chats", "emails"] as const

const bodies = (integrationId: string): Array<string> => {
  const out: Array<string> = []
  for (let start = 0; start < RECORDS; start += BATCH) {
    const data = []
    for (let r = start; r < Math.min(RECORDS, start + BATCH); r++) {
      const q = (r * 7) % QUEUES
      data.push({
        properties: { offered: true, handled: r % 5 !== 0, duration: 30 + ((r * 7_919) % 570_000) / 1000 },
        queueName: `Queue ${q}`,
        queueIdentifier: `q-${q}`,
        timestamp: new Date(T0 + r * 2_600).toISOString(),
        channel: CHANNELS[q % 3]!
      })
    }
    out.push(JSON.stringify({ data, meta: { integrationConfigurationId: integrationId } }))
  }
  return out
}

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
  // in four parts: the memory after a full GC at the end of each (untimed), so the growth is
  // the slope after the first quarter (caches and heap filled), not the warm-up's
  const afterPart: Array<{ readonly heapMb: number; readonly rssMb: number }> = []
  let seconds = 0
  let cpuMs: number | undefined = 0
  for (let part = 1; part <= 4; part++) {
    const end = Math.round((all.length * part) / 4)
    const started = performance.now()
    const cpuBefore = server.cpuMs()
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < end) {
        const i = next++
        const t = performance.now()
        await send(all[i]!, i)
        latencies.push(performance.now() - t)
      }
    }))
    seconds += (performance.now() - started) / 1000
    const cpuAfter = server.cpuMs()
    cpuMs = cpuMs === undefined || cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuMs + cpuAfter - cpuBefore
    afterPart.push(await server.memory())
  }
  clearInterval(sampler)
  const rssAfter = (await rssMbOf(server.pid)) ?? 0
  latencies.sort((a, b) => a - b)
  const first = afterPart[0]!
  const last = afterPart[3]!
  // records pushed between the first and the last measure
  const measured = RECORDS - Math.min(RECORDS, Math.round(all.length / 4) * BATCH)
  return {
    rssIdle: server.rssIdle,
    rssPeak: Math.max(rssPeak, rssAfter),
    rssGrowthPer1M: measured === 0 ? 0 : ((last.rssMb - first.rssMb) * 1_000_000) / measured,
    heapGrowthPer1M: measured === 0 ? 0 : ((last.heapMb - first.heapMb) * 1_000_000) / measured,
    heapAfter: last.heapMb,
    measured,
    recordsPerSecond: RECORDS / seconds,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    // the server's CPU time per 1,000 records (the clock ticks are 10 ms: meaningful over a whole run)
    cpuMsPer1000: cpuMs === undefined ? undefined : (cpuMs * 1000) / RECORDS
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

/**
 * In a server child: a line on stdin asks for its memory after two full GCs 250 ms apart (it
 * runs with `--expose-gc`); the answer is a line `{"heapMb":…,"rssMb":…}` on stdout.
 */
const answerMemoryProbes = () => {
  let pending = ""
  process.stdin.on("data", (chunk: Buffer) => {
    pending += chunk.toString()
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      pending = pending.slice(end + 1)
      void probe()
    }
  })
  const probe = async () => {
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    // V8 frees dead array buffers (the request bodies, tens of MB under load) on a background
    // sweeper after the GC: measured right away, the RSS counted up to ~60 MB of them at random
    // (+109 MB "growth" per 1M records in one run, -4 MB once they are swept)
    await new Promise((resolve) => setTimeout(resolve, 250))
    gc?.()
    const m = process.memoryUsage()
    process.stdout.write(`${JSON.stringify({ heapMb: m.heapUsed / 1048576, rssMb: m.rss / 1048576 })}\n`)
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
