/**
 * Link upload records/s (issue 17): a customer database read through an on-premise link
 * against the same database read by the engine itself.
 *
 * The customer database is a SQLite file with BENCH_LINK_DAYS (default 30) days of contacts,
 * BENCH_LINK_PER_QUARTER (default 40) per quarter-hour over 10 queues; the integration is the
 * `sql` connector with a query per data kind, history BENCH_LINK_DAYS days. Both sides run the
 * engine in a process of its own (this file's `serve` side: `Engine` over a SQLite store, the
 * `sql` connector, the scheduler and the HTTP API, as `packages/link/test/Kill.test.ts` runs
 * it; the built `acd-bridge serve` does not wire `ACD_BRIDGE_ON_PREMISE=link` to the link
 * model yet, so it offers no tasks):
 *
 * - **engine (link)**: `LinkModel.layerOnPremise("link")` and the built `acd-link run` process
 *   next to the customer database: it leases each window, reads it, keeps the result in its
 *   SQLite outbox, uploads it in parts (default part size) and commits it;
 * - **baseline (local)**: `LinkModel.layerOnPremise("local")`, the scheduler running the
 *   `on-premise` delivery mode: it pulls the same windows with the same connector itself (the
 *   integration's config holds the connection).
 *
 * The integration is created paused (and, with the link, the link is started and has polled
 * once), then resumed: the clock runs from the resume until the integration's health says the
 * history is done. Records/s = contacts imported / seconds; both sides must import the same
 * count, give or take the one quarter-hour that may close between the two runs. Target: the
 * link ≥ 0.5 of the local pull.
 *
 * BENCH_LINK_PROF=<dir> runs both engines and the link under `node --cpu-prof` and writes their
 * profiles there (they are stopped with SIGTERM so Node writes them).
 */
import Database from "better-sqlite3"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { adminCall, atLeast, adminToken, cpuMsOf, report, size, spawnBuilt, startChild, waitFor } from "./_lib.js"

const DAYS = size("BENCH_LINK_DAYS", 30, 3)
const PER_QUARTER = size("BENCH_LINK_PER_QUARTER", 40, 10)
const QUEUES = 10
const DAY = 86_400_000
const QUARTER = 900_000

const query =
  "SELECT queue_id AS queue_identifier, queue_name, channel, ts AS timestamp, offered, handled, seconds AS duration FROM contacts WHERE ts >= :from AND ts < :to"

/** The customer's database: contacts over the last DAYS + 1 days, up to an hour ago. */
const customerDatabase = (file: string): number => {
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  db.exec("CREATE TABLE contacts (queue_id TEXT, queue_name TEXT, channel TEXT, ts TEXT, offered INTEGER, handled INTEGER, seconds REAL)")
  db.exec("CREATE INDEX contacts_ts ON contacts (ts)")
  const insert = db.prepare("INSERT INTO contacts VALUES (?, ?, 'calls', ?, 1, ?, ?)")
  const now = Date.now()
  const start = now - (DAYS + 1) * DAY - (now % QUARTER)
  let n = 0
  db.transaction(() => {
    for (let t = start; t < now - 3_600_000; t += QUARTER) {
      for (let i = 0; i < PER_QUARTER; i++) {
        const q = (n * 7) % QUEUES
        insert.run(`q${q}`, `Queue ${q}`, new Date(t + Math.floor((i * QUARTER) / PER_QUARTER)).toISOString(), n % 5 === 0 ? 0 : 1, 30 + (n % 600))
        n++
      }
    }
  })()
  db.close()
  return n
}

// ---------------------------------------------------------------------------
// the engine (run in a child process: `link.ts serve local|link <dir>`)
// ---------------------------------------------------------------------------

const serveEngine = async (mode: "local" | "link", dir: string) => {
  const { ConnectorRegistry, Domain, Engine, LinkModel, Scheduler } = await import("@acd-bridge/core")
  const { Authenticator, HttpAdapter } = await import("../packages/http/src/index.js")
  const { SqlConnector } = await import("../packages/sql-source/src/index.js")
  const { SqlStorage } = await import("@acd-bridge/sql-storage")
  const HttpServer = await import("@effect/platform/HttpServer")
  const Effect = await import("effect/Effect")
  const Layer = await import("effect/Layer")
  const Logger = await import("effect/Logger")
  const LogLevel = await import("effect/LogLevel")
  const Redacted = await import("effect/Redacted")
  const tenantId = Domain.TenantId.make("bench")
  const core = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(
    SqlStorage.layerSqlite({ filename: path.join(dir, `${mode}.sqlite`) }),
    ConnectorRegistry.layer(SqlConnector.connector),
    LinkModel.layerOnPremise(mode)
  )))
  const scheduler = Scheduler.layer({
    tenants: [tenantId],
    pollInterval: "1 second",
    deliveryModes: mode === "local" ? ["cloud", "on-premise"] : ["cloud"]
  }).pipe(Layer.provide(core))
  const server = HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
    Layer.provideMerge(Layer.merge(core, scheduler))
  )
  const program = Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    process.stdout.write(`${JSON.stringify({ port: address._tag === "TcpAddress" ? address.port : 0 })}\n`)
    return yield* Effect.never
  })
  // stopped with SIGTERM when profiled (BENCH_LINK_PROF): exit so Node writes the profile
  process.on("SIGTERM", () => process.exit(0))
  await Effect.runPromise(program.pipe(Effect.provide(server), Logger.withMinimumLogLevel(LogLevel.Error)))
}

/** The engine's process, at its URL. */
interface EngineProcess {
  readonly url: string
  readonly pid: number | undefined
  readonly stop: () => Promise<void>
}

const profileDir = process.env["BENCH_LINK_PROF"]

const startEngine = async (mode: "local" | "link", dir: string): Promise<EngineProcess> => {
  const child = await startChild<{ port: number }>(fileURLToPath(import.meta.url), [mode, dir], { profileDir })
  return { url: `http://127.0.0.1:${child.info.port}`, pid: child.pid, stop: child.stop }
}

// ---------------------------------------------------------------------------
// the measurement
// ---------------------------------------------------------------------------

interface Health {
  readonly history: { readonly done: boolean } | null
}

interface Measured {
  readonly seconds: number
  readonly records: number
  readonly windows: number
  /** mean time from a window's start to its commit (its run), and between one commit and the next window's start, ms */
  readonly runMs: number
  readonly gapMs: number
  readonly engineCores: number
  readonly linkCores: number | undefined
}

/** Creates the integration paused, `ready()`, resumes it and times the history. */
const measure = async (
  server: EngineProcess,
  config: Record<string, unknown>,
  ready: (integrationId: string) => Promise<{ readonly pid: number | undefined } | undefined>
): Promise<Measured> => {
  const created = await adminCall<{ id: string }>(server, "POST", "/v1/integrations", {
    name: "Customer DB",
    connector: "sql",
    deliveryMode: "on-premise",
    schedule: { type: "historical", everyMinutes: 15 },
    historyDepthDays: DAYS,
    timezone: "UTC",
    dataKinds: ["contacts"],
    config
  })
  await adminCall(server, "POST", `/v1/integrations/${created.id}/pause`)
  const link = await ready(created.id)
  const engineCpu0 = cpuMsOf(server.pid) ?? 0
  const linkCpu0 = cpuMsOf(link?.pid)
  const t0 = performance.now()
  await adminCall(server, "POST", `/v1/integrations/${created.id}/resume`)
  await waitFor(async () => {
    const h = await adminCall<Health>(server, "GET", `/v1/integrations/${created.id}/health`)
    return h.history?.done === true ? true : undefined
  }, 900_000, "the history to be done", 50)
  const wallMs = performance.now() - t0
  const linkCpu1 = cpuMsOf(link?.pid)
  const engineCores = ((cpuMsOf(server.pid) ?? 0) - engineCpu0) / wallMs
  const runs = (await adminCall<ReadonlyArray<{ error?: unknown; startedAt: string; durationMs: number }>>(
    server,
    "GET",
    `/v1/integrations/${created.id}/runs?limit=1000`
  )).filter((r) => r.error === undefined || r.error === null)
    .map((r) => ({ from: Date.parse(r.startedAt), to: Date.parse(r.startedAt) + r.durationMs }))
    .sort((a, b) => a.from - b.from)
  const gaps = runs.slice(1).map((r, i) => r.from - runs[i]!.to)
  const rows = await adminCall<ReadonlyArray<{ offered: number }>>(
    server,
    "GET",
    `/v1/intervals?integrationId=${created.id}&from=${new Date(Date.now() - (DAYS + 2) * DAY).toISOString()}&to=${new Date(Date.now() + DAY).toISOString()}&length=60`
  )
  return {
    seconds: wallMs / 1000,
    records: rows.reduce((n, r) => n + r.offered, 0),
    windows: runs.length,
    runMs: runs.reduce((n, r) => n + r.to - r.from, 0) / Math.max(1, runs.length),
    gapMs: gaps.reduce((n, g) => n + g, 0) / Math.max(1, gaps.length),
    engineCores,
    linkCores: linkCpu0 === undefined || linkCpu1 === undefined ? undefined : (linkCpu1 - linkCpu0) / wallMs
  }
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-link-bench-"))
  const stops: Array<() => Promise<void>> = []
  try {
    const customer = path.join(dir, "customer.sqlite")
    const inDatabase = customerDatabase(customer)
    process.stderr.write(
      `link upload: ${inDatabase.toLocaleString("en")} contacts in the customer database (${DAYS} days of history imported, ${PER_QUARTER} per quarter-hour) ` +
        `(${os.cpus().length} CPUs, Node ${process.version})\n`
    )
    const sqlConfig = { driver: "sqlite", connection: { filename: customer }, contacts: { query } }

    // baseline: the engine pulls the windows itself
    const local = await startEngine("local", dir)
    stops.push(local.stop)
    const baseline = await measure(local, sqlConfig, () => Promise.resolve(undefined))
    await local.stop()

    // engine: a link reads them and uploads them
    const cloud = await startEngine("link", dir)
    stops.push(cloud.stop)
    const engine = await measure(cloud, {}, async (integrationId) => {
      const link = await adminCall<{ id: string; token: string }>(cloud, "POST", "/v1/links", { name: "bench link" })
      const configFile = path.join(dir, "link.yaml")
      fs.writeFileSync(configFile, JSON.stringify({
        engine: { url: cloud.url, token: link.token },
        outbox: path.join(dir, "outbox.sqlite"),
        wait: 30,
        integrations: [{ id: integrationId, connector: "sql", config: sqlConfig }]
      }))
      const child = spawnBuilt(
        "packages/link/dist/bin.js",
        ["run", "--config", configFile],
        {},
        profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir]
      )
      let output = ""
      child.stdout!.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-20_000)))
      child.stderr!.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-20_000)))
      const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
      stops.push(async () => {
        // a profiled link (BENCH_LINK_PROF) exits cleanly so Node writes the profile
        if (child.exitCode === null && child.signalCode === null) child.kill(profileDir === undefined ? "SIGKILL" : "SIGTERM")
        await exited
      })
      // the link has started and asked for work once
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`acd-link exited (${child.exitCode}):\n${output}`)
        const links = await adminCall<ReadonlyArray<{ id: string; lastSeenAt: string | null }>>(cloud, "GET", "/v1/links")
        return links.some((l) => l.id === link.id && l.lastSeenAt !== null) ? true : undefined
      }, 60_000, "the link to poll")
      return { pid: child.pid }
    })

    for (const [label, m] of [["local pull (baseline)", baseline], ["through the link", engine]] as const) {
      process.stderr.write(
        `  ${label.padEnd(22)} ${m.records.toLocaleString("en")} records, ${m.windows} windows in ${m.seconds.toFixed(2)} s = ` +
          `${Math.round(m.records / m.seconds).toLocaleString("en")} records/s; a window ${m.runMs.toFixed(0)} ms, ` +
          `${m.gapMs.toFixed(0)} ms to the next; cores busy: engine ${m.engineCores.toFixed(2)}` +
          `${m.linkCores === undefined ? "" : `, link ${m.linkCores.toFixed(2)}`}\n`
      )
    }
    // each side's history ends at the last closed quarter when it runs, so a quarter-hour that
    // passes between the two measurements adds one quarter's records (PER_QUARTER) to the second
    if (engine.records === 0 || Math.abs(engine.records - baseline.records) > PER_QUARTER) {
      throw new Error(`the link imported ${engine.records} records, the local pull ${baseline.records}`)
    }
    report([{
      name: "link upload: records/s vs the engine pulling locally",
      unit: "records/s",
      engine: engine.records / engine.seconds,
      baseline: baseline.records / baseline.seconds,
      target: atLeast(0.5),
      note: `${engine.records.toLocaleString("en")} contacts, ${DAYS} days of history (${engine.windows} windows) from a SQLite customer database, sql connector; acd-link with its default part size`
    }])
  } finally {
    for (const stop of stops.reverse()) await stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === "serve") {
  await serveEngine(process.argv[3] === "link" ? "link" : "local", process.argv[4]!)
} else {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
