/**
 * Push throughput over HTTP on loopback into PostgreSQL: the engine's push API
 * (`@acd-bridge/http` + `@acd-bridge/api-push` over `SqlStorage.layerPg`) against a baseline in
 * the same run on the same PostgreSQL server: a bare `node:http` server doing `JSON.parse` and
 * one multi-row `pg` INSERT of the request's records (the plain way to write a batch into
 * PostgreSQL: a statement per record would be a round trip per record). Each side writes into a
 * fresh database; both pools have BENCH_PG_POOL (default 4) connections, one per client.
 *
 * The shape mirrors `push-http.ts` (its SQLite twin): each server in its own Node process, this
 * process the load generator, BENCH_CLIENTS (default 4) concurrent clients sending
 * BENCH_PG_PUSH_RECORDS (default 100,000; `--quick` 20,000) contact events in batches of
 * BENCH_BATCH (default 1,000), bodies serialised before the clock starts, BENCH_WARMUP
 * (default 20) untimed batches first. Rows: records/s (target ≥ 0.5 of the baseline), p99
 * request latency (target ≤ 3× the baseline's) and each server's CPU time per 1,000 records.
 *
 * The engine does more than the baseline, as it must: the API key, the strict body and record
 * checks, the integration's window, queues, contacts pre-summed per quarter-hour and upserted,
 * and an import-run record, in one transaction.
 *
 * The server is `ACD_BRIDGE_TEST_PG_URL`, or a throwaway cluster (fsync off) when unset.
 * BENCH_ONLY=engine|baseline runs one server; BENCH_PROFILE=<dir> runs the servers under
 * `node --cpu-prof`.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { atLeast, atMost, freshDatabase, percentile, postgresServer, report, rssMbOf, size } from "./_lib.js"

const RECORDS = size("BENCH_PG_PUSH_RECORDS", 100_000, 20_000)
const POOL = size("BENCH_PG_POOL", 4, 4)
const BATCH = size("BENCH_BATCH", 1_000, 1_000)
const CLIENTS = size("BENCH_CLIENTS", 4, 4)
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

const serveEngine = async (url: string) => {
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
      SqlStorage.layerPg({ url, maxConnections: POOL }),
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

const serveBaseline = async (url: string) => {
  const { default: pg } = await import("pg")
  const http = await import("node:http")
  const pool = new pg.Pool({ connectionString: url, max: POOL })
  await pool.query(`CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY, integration_id TEXT NOT NULL, queue_identifier TEXT NOT NULL, queue_name TEXT NOT NULL,
    channel TEXT NOT NULL, ts BIGINT NOT NULL, offered BOOLEAN NOT NULL, handled BOOLEAN NOT NULL, duration_ms BIGINT NOT NULL)`)
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
  // 8 parameters a record: 8,000 for a batch of 1,000, far below PostgreSQL's 65,535
  const write = (body: Wire) => {
    const values: Array<unknown> = []
    const tuples: Array<string> = []
    for (const r of body.data) {
      const n = values.length
      tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8})`)
      values.push(
        String(body.meta.integrationConfigurationId),
        r.queueIdentifier,
        r.queueName,
        r.channel,
        Date.parse(r.timestamp),
        r.properties.offered,
        r.properties.handled,
        Math.round(r.properties.duration * 1000)
      )
    }
    return pool.query(
      `INSERT INTO contacts (integration_id, queue_identifier, queue_name, channel, ts, offered, handled, duration_ms) VALUES ${
        tuples.join(", ")
      }`,
      values
    )
  }
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      let body: Wire
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Wire
      } catch (error) {
        res.writeHead(400).end(String(error))
        return
      }
      write(body).then(
        () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ accepted: body.data.length })),
        (error: unknown) => res.writeHead(500).end(String(error))
      )
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

const startServer = (kind: "engine" | "baseline", url: string): Promise<Started> =>
  new Promise((resolve, reject) => {
    const profile = PROFILE === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", PROFILE]
    const child = spawn(process.execPath, [...profile, "--import", "tsx", fileURLToPath(import.meta.url), "serve", kind, url], {
      cwd: here,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined && out.includes("\n")) {
        const info = JSON.parse(line) as { port: number; apiKey: string; integrationId: string }
        void rssMbOf(child.pid).then((rssIdle) => resolve({
          ...info,
          pid: child.pid,
          rssIdle: rssIdle ?? 0,
          cpuMs: () => cpuMsOf(child.pid),
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
  const note = `${RECORDS.toLocaleString("en")} records, batches of ${BATCH}, ${CLIENTS} clients, pools of ${POOL}`
  process.stderr.write(`push over HTTP into PostgreSQL: ${note} (${os.cpus().length} CPUs, Node ${process.version})\n`)
  const postgres = await postgresServer()
  try {
    const results: Record<string, Result> = {}
    for (const kind of ["baseline", "engine"] as const) {
      if (ONLY !== undefined && ONLY !== kind) continue
      const database = await freshDatabase(postgres.url)
      try {
        const server = await startServer(kind, database.url)
        try {
          results[kind] = await drive(server, false)
        } finally {
          await server.stop()
        }
      } finally {
        await database.drop()
      }
    }
    const line = (name: string, r: Result) =>
      `${name.padEnd(44)} ${Math.round(r.recordsPerSecond).toLocaleString("en").padStart(10)} rec/s   ` +
      `p50 ${r.p50.toFixed(1).padStart(7)} ms   p99 ${r.p99.toFixed(1).padStart(7)} ms` +
      (r.cpuMsPer1000 === undefined ? "" : `   server CPU ${r.cpuMsPer1000.toFixed(1).padStart(5)} ms / 1,000 records`)
    const baseline = results["baseline"]
    const engine = results["engine"]
    if (baseline) process.stderr.write(`${line("baseline: node:http + JSON.parse + pg multi-row insert", baseline)}\n`)
    if (engine) process.stderr.write(`${line("engine: HttpAdapter + api-push + SqlStorage (pg)", engine)}\n`)
    const rows: Array<Row> = baseline === undefined || engine === undefined ? [] : [
      { name: "push HTTP → PostgreSQL", unit: "records/s", engine: engine.recordsPerSecond, baseline: baseline.recordsPerSecond, target: atLeast(0.5), note },
      { name: "push HTTP → PostgreSQL: p99 latency", unit: "ms", engine: engine.p99, baseline: baseline.p99, target: atMost(3), note },
      { name: "push HTTP → PostgreSQL: server CPU", unit: "ms/1k records", engine: engine.cpuMsPer1000 ?? 0, baseline: baseline.cpuMsPer1000 ?? null, target: null, note: "CPU time of the server process per 1,000 records (steadier than wall time on a shared machine)" }
    ]
    report(rows)
  } finally {
    postgres.stop()
  }
}

if (process.argv[2] === "serve") {
  // a normal exit on SIGTERM, so `--cpu-prof` can write its profile
  process.on("SIGTERM", () => process.exit(0))
  const kind = process.argv[3]
  const url = process.argv[4]!
  if (kind === "engine") await serveEngine(url)
  else await serveBaseline(url)
} else {
  await main()
}
