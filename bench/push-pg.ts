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
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { atLeast, atMost, freshDatabase, postgresServer, report, servePushEngine, size } from "./_lib.js"
import type { PushResult } from "./_push.js"
import { drivePush, pushLine, startPushServer } from "./_push.js"

const RECORDS = size("BENCH_PG_PUSH_RECORDS", 100_000, 20_000)
const POOL = size("BENCH_PG_POOL", 4, 4)
const BATCH = size("BENCH_BATCH", 1_000, 1_000)
const CLIENTS = size("BENCH_CLIENTS", 4, 4)
const WARMUP = size("BENCH_WARMUP", 20, 10)
/** BENCH_PROFILE=<dir>: run each server under `node --cpu-prof`, writing its profile there */
const PROFILE = process.env["BENCH_PROFILE"]
/** BENCH_ONLY=engine|baseline: run one server only (e.g. to profile it) */
const ONLY = process.env["BENCH_ONLY"]

// ---------------------------------------------------------------------------
// servers (run in a child process: `push-http.ts serve engine|baseline <dir>`)
// ---------------------------------------------------------------------------

const serveEngine = (url: string) =>
  servePushEngine("", { http: { rateLimit: false, maxBodyBytes: 64 * 1024 * 1024 }, pg: { url, maxConnections: POOL } })

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



const main = async () => {
  const note = `${RECORDS.toLocaleString("en")} records, batches of ${BATCH}, ${CLIENTS} clients, pools of ${POOL}`
  process.stderr.write(`push over HTTP into PostgreSQL: ${note} (${os.cpus().length} CPUs, Node ${process.version})\n`)
  const postgres = await postgresServer()
  try {
    const results: Record<string, PushResult> = {}
    for (const kind of ["baseline", "engine"] as const) {
      if (ONLY !== undefined && ONLY !== kind) continue
      const database = await freshDatabase(postgres.url)
      try {
        const server = await startPushServer(fileURLToPath(import.meta.url), [kind, database.url], PROFILE)
        try {
          results[kind] = await drivePush(server, {
            records: RECORDS,
            batch: BATCH,
            clients: CLIENTS,
            warmup: WARMUP,
            idempotency: false,
            parts: 1
          })
        } finally {
          await server.stop()
        }
      } finally {
        await database.drop()
      }
    }
    const line = pushLine
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
