/**
 * What every bench file shares with the runner (`run.ts`): its sizes (full, or `--quick`, times
 * `--scale`), and the rows it reports. A bench file prints its rows as one line
 * `BENCH-ROWS <json>`; the runner runs each file several times, takes medians and prints the
 * table. Files whose name starts with `_` are not benches.
 */
import { Domain, type Integrations } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import type { Options as HttpOptions } from "../packages/http/src/HttpAdapter.js"

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * `--quick` (BENCH_QUICK=1, which `run.ts` sets; or `--quick` given to a bench file run on its
 * own): small sizes, so CI can check that every bench still runs.
 */
export const quick = process.env["BENCH_QUICK"] === "1" || process.argv.slice(2).includes("--quick")

/** `--scale=<x>` (BENCH_SCALE): multiplies every size. */
export const scale = Number(process.env["BENCH_SCALE"] ?? 1)

/**
 * A full garbage collection, now: for a bench that makes its input between timed parts, so
 * that neither side's clock pays for collecting the making's garbage (whichever side runs
 * next would, at random). Works without `--expose-gc` on the command line.
 */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
})()

/**
 * A size: the environment variable `name` when set (exact), else `full` or, with `--quick`,
 * `small`, times `--scale` (at least 1).
 */
export const size = (name: string, full: number, small: number): number => {
  const given = process.env[name]
  if (given !== undefined && given !== "") return Number(given)
  return Math.max(1, Math.round((quick ? small : full) * scale))
}

/**
 * A target: the row passes when `on` (the engine's figure, or engine/baseline) compares with
 * `value` as `op` says.
 */
export interface Target {
  readonly on: "ratio" | "engine"
  readonly op: ">=" | "<=" | "<"
  readonly value: number
}

/** One measured figure: the engine's, and the same work done plainly in the same run. */
export interface Row {
  readonly name: string
  readonly unit: string
  readonly engine: number
  /** null when the row has no baseline (an absolute target) */
  readonly baseline: number | null
  readonly target: Target | null
  /** what the figure is, in a few words (sizes, shape) */
  readonly note?: string | undefined
}

export const atLeast = (value: number, on: Target["on"] = "ratio"): Target => ({ on, op: ">=", value })
export const atMost = (value: number, on: Target["on"] = "ratio"): Target => ({ on, op: "<=", value })
export const below = (value: number, on: Target["on"] = "ratio"): Target => ({ on, op: "<", value })

/** engine / baseline, or null without a baseline. */
export const ratioOf = (row: Pick<Row, "engine" | "baseline">): number | null =>
  row.baseline === null || row.baseline === 0 ? null : row.engine / row.baseline

/** Whether the row meets its target (null: no target). */
export const passes = (row: Row, ratio: number | null = ratioOf(row)): boolean | null => {
  const t = row.target
  if (t === null) return null
  const x = t.on === "ratio" ? ratio : row.engine
  if (x === null || !Number.isFinite(x)) return false
  return t.op === ">=" ? x >= t.value : t.op === "<=" ? x <= t.value : x < t.value
}

export const describeTarget = (t: Target | null): string =>
  t === null ? "" : `${t.on === "ratio" ? "ratio" : "engine"} ${t.op === ">=" ? "≥" : t.op === "<=" ? "≤" : "<"} ${t.value}`

/** Prints the rows for the runner (and a readable line per row for a person running the file alone). */
export const report = (rows: ReadonlyArray<Row>): void => {
  for (const r of rows) {
    const ratio = ratioOf(r)
    process.stderr.write(
      `  ${r.name}: engine ${r.engine.toFixed(2)} ${r.unit}${r.baseline === null ? "" : `, baseline ${r.baseline.toFixed(2)}`}${
        ratio === null ? "" : `, ratio ${ratio.toFixed(2)}`
      }${r.target === null ? "" : ` (${describeTarget(r.target)}: ${passes(r) ? "met" : "MISSED"})`}\n`
    )
  }
  process.stdout.write(`BENCH-ROWS ${JSON.stringify(rows)}\n`)
}

/** The p-th percentile of sorted numbers. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

/** RSS of a process in MB from /proc (Linux), or undefined. */
export const rssMbOf = async (pid: number | undefined): Promise<number | undefined> => {
  const fs = await import("node:fs")
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}

/**
 * A PostgreSQL server for the PostgreSQL rows: `ACD_BRIDGE_TEST_PG_URL` when set (the runner
 * and the tests set it), else a throwaway cluster started the way the tests start theirs
 * (`test/setup/postgres.ts`: initdb, loopback only, fsync off). Returns its URL and a stop.
 */
export const postgresServer = async (): Promise<{ readonly url: string; readonly stop: () => void }> => {
  const given = process.env["ACD_BRIDGE_TEST_PG_URL"]
  if (given !== undefined && given !== "") return { url: given, stop: () => {} }
  const { default: setup } = await import("../test/setup/postgres.js")
  let url = ""
  const teardown = await setup({ provide: (_key: string, value: string) => (url = value) } as never)
  return { url, stop: () => teardown?.() }
}

/**
 * A fresh database on the server for one bench, dropped by the returned `drop`; the fsync
 * setting is the server's (off for the throwaway cluster: both sides alike).
 */
export const freshDatabase = async (serverUrl: string): Promise<{ readonly url: string; readonly drop: () => Promise<void> }> => {
  const { default: pg } = await import("pg")
  const name = `bench_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  }
}

/**
 * A zone's UTC offset (ms, local = UTC + offset) as a hand-written program would keep it: the
 * instants it changes in [from, to), found once with `Intl` (a sample a day, then halving to
 * the millisecond), and a lookup over them. For the baselines.
 */
export const offsetTable = (zone: string, from: number, to: number): ((utcMs: number) => number) => {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric"
  })
  const offsetAt = (ms: number) => {
    const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, Number(x.value)]))
    const t = Math.floor(ms / 1000) * 1000
    return Date.UTC(p["year"]!, p["month"]! - 1, p["day"]!, p["hour"]!, p["minute"]!, p["second"]!) - t
  }
  const DAY = 86_400_000
  const at: Array<number> = []
  const offsets: Array<number> = [offsetAt(from)]
  for (let t = from; t < to; t += DAY) {
    const a = offsetAt(t)
    const b = offsetAt(Math.min(t + DAY, to))
    if (a === b) continue
    let lo = t
    let hi = Math.min(t + DAY, to)
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      if (offsetAt(mid) === a) lo = mid
      else hi = mid
    }
    at.push(hi)
    offsets.push(b)
  }
  return (utcMs) => {
    let i = 0
    while (i < at.length && utcMs >= at[i]!) i++
    return offsets[i]!
  }
}

/** A process's CPU time in ms (user + system) from /proc (Linux), or undefined. */
export const cpuMsOf = (pid: number | undefined): number | undefined => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command (clock ticks of 10 ms)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return undefined
  }
}

/**
 * The CPU time of a PostgreSQL server in ms: its postmaster's own, the finished backends' it
 * has waited for (`cutime`, `cstime`) and the live backends'. `backendPid` is any backend's
 * `pg_backend_pid()`; undefined when the server is not a process on this machine.
 */
export const postgresCpuMs = (backendPid: number): number | undefined => {
  const statOf = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    } catch {
      return undefined
    }
  }
  const backend = statOf(backendPid)
  if (backend === undefined) return undefined
  const postmaster = Number(backend[1])
  const own = statOf(postmaster)
  if (own === undefined) return undefined
  // fields 14-17 of stat: utime, stime, cutime, cstime
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const s = statOf(Number(entry))
    if (s !== undefined && Number(s[1]) === postmaster) ticks += Number(s[11]) + Number(s[12])
  }
  return (ticks * 1000) / 100
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` until it returns a value; fails after `timeoutMs` naming `what`. */
export const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, everyMs = 100): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** A bench's own server process (`<file> serve <args…>`) that prints one JSON line once it listens. */
export interface BenchChild<T> {
  readonly info: T
  readonly pid: number | undefined
  /**
   * Its JS heap and RSS after full GCs, MB (started with `memoryProbe`; the child calls
   * `answerMemoryProbes`)
   */
  readonly memory: () => Promise<MemoryProbe>
  /** SIGKILL (or SIGTERM, so a `--cpu-prof` process writes its profile) and wait for the exit */
  readonly stop: () => Promise<void>
}

/** A server's memory as `answerMemoryProbes` reports it. */
export interface MemoryProbe {
  readonly heapMb: number
  readonly rssMb: number
}

/**
 * Runs `node --import tsx <file> serve <args…>` (a bench file's server side) and resolves with
 * the first JSON line it prints on stdout. `profileDir`: under `node --cpu-prof`, stopped with
 * SIGTERM so it writes its profile. `memoryProbe`: with `--expose-gc` and a stdin on which
 * `memory()` asks for a probe.
 */
export const startChild = <T>(
  file: string,
  args: ReadonlyArray<string>,
  options: { readonly profileDir?: string | undefined; readonly memoryProbe?: boolean | undefined } = {}
): Promise<BenchChild<T>> =>
  new Promise((resolve, reject) => {
    const profile = options.profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", options.profileDir]
    const gc = options.memoryProbe === true ? ["--expose-gc"] : []
    const child = spawn(process.execPath, [...profile, ...gc, "--import", "tsx", file, "serve", ...args], {
      cwd: here,
      stdio: [options.memoryProbe === true ? "pipe" : "ignore", "pipe", "inherit"]
    })
    let info: T | undefined
    let pending = ""
    const probes: Array<(m: MemoryProbe) => void> = []
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString()
      for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
        const line = pending.slice(0, end)
        pending = pending.slice(end + 1)
        if (!line.startsWith("{")) continue
        if (info !== undefined) {
          if (line.startsWith("{\"heapMb\"")) probes.shift()?.(JSON.parse(line) as MemoryProbe)
          continue
        }
        info = JSON.parse(line) as T
        resolve({
          info,
          pid: child.pid,
          memory: () =>
            child.stdin === null
              ? Promise.reject(new Error("started without memoryProbe"))
              : new Promise((answered) => {
                probes.push(answered)
                child.stdin!.write("probe\n")
              }),
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done()
              child.on("exit", () => done())
              child.kill(options.profileDir === undefined ? "SIGKILL" : "SIGTERM")
            })
        })
      }
    })
    child.on("exit", (code) => reject(new Error(`${path.basename(file)} serve ${args.join(" ")} exited (${code})`)))
  })

/**
 * In a server child started with `memoryProbe`: each line on stdin asks for its memory after
 * two full GCs 250 ms apart; the answer is a line `{"heapMb":…,"rssMb":…}` on stdout.
 */
export const answerMemoryProbes = (): void => {
  const probe = async () => {
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    // V8 frees dead array buffers (request bodies, tens of MB under load) on a background
    // sweeper after the GC: measured right away, the RSS counted up to ~60 MB of them at random
    // (+109 MB "growth" per 1M pushed records in one run, -4 MB once they were swept)
    await sleep(250)
    gc?.()
    const m = process.memoryUsage()
    process.stdout.write(`${JSON.stringify({ heapMb: m.heapUsed / 1048576, rssMb: m.rss / 1048576 })}\n`)
  }
  let pending = ""
  process.stdin.on("data", (chunk: Buffer) => {
    pending += chunk.toString()
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      pending = pending.slice(end + 1)
      void probe()
    }
  })
}

/** The admin token of every bench's engine server (built or not). */
export const adminToken = "bench-admin-token-0123456789abcdef"

/** A built `acd-bridge serve` process (packages/server/dist) as it is published. */
export interface BuiltServer {
  readonly child: ChildProcess
  readonly pid: number
  readonly url: string
  readonly output: () => string
  /** SIGKILL, and wait for the exit */
  readonly kill: () => Promise<void>
}

const root = path.resolve(here, "..")
const publishedLayout = path.join(root, "scripts", "published-layout.mjs")

/**
 * Runs a built program of this workspace (`packages/<pkg>/…/bin.js`) on plain Node with every
 * `@acd-bridge/*` import resolved to its built `dist/`, as the tests of the server do.
 */
export const spawnBuilt = (
  bin: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  nodeArgs: ReadonlyArray<string> = []
): ChildProcess => {
  if (!existsSync(path.join(root, bin))) throw new Error(`${bin} is missing: the benches run the built programs; run \`pnpm build\` first`)
  return spawn(process.execPath, [...nodeArgs, "--import", publishedLayout, path.join(root, bin), ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
}

/**
 * Starts the built `acd-bridge serve` on 127.0.0.1 (a free port, logs at WARN (Effect's label), the bench
 * admin token) with `env` on top, and waits until it listens.
 */
export const serveBuilt = async (env: Record<string, string>): Promise<BuiltServer> => {
  const child = spawnBuilt("packages/server/bin/acd-bridge.js", ["serve"], {
    PORT: "0",
    HOST: "127.0.0.1",
    ACD_BRIDGE_ADMIN_TOKEN: adminToken,
    ACD_BRIDGE_LOG_LEVEL: "Warn",
    ...env
  })
  let output = ""
  const keep = (c: Buffer) => {
    // the start line and the last of the rest (a long run logs a lot)
    output = (output + c.toString()).slice(-200_000)
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  const server: Omit<BuiltServer, "url"> = {
    child,
    pid: child.pid!,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      await exited
    }
  }
  try {
    const url = await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`acd-bridge serve exited early (${child.exitCode}):\n${output}`)
      return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
    }, 60_000, "acd-bridge serve to listen")
    return { ...server, url }
  } catch (error) {
    await server.kill()
    throw error
  }
}

/** One admin API call (JSON in and out); fails on a status other than `expect`. */
export const adminCall = async <T = unknown>(
  server: { readonly url: string },
  method: string,
  route: string,
  body?: unknown,
  expect: ReadonlyArray<number> = [200, 201, 204]
): Promise<T> => {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!expect.includes(response.status)) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 500)}`)
  return (text.length === 0 ? null : JSON.parse(text)) as T
}

/** min, median and max of some numbers. */
export const spread = (xs: ReadonlyArray<number>): { readonly min: number; readonly median: number; readonly max: number } => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return { min: s[0] ?? 0, median: s.length % 2 === 1 ? s[m]! : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2, max: s[s.length - 1] ?? 0 }
}

/**
 * A bench's engine server (the `serve` side of push-http, push-pg, realtime and query): `Engine`
 * over a SQLite store `dir/engine.sqlite` (or PostgreSQL: `pg`) with the api-push connector, the HTTP API on 127.0.0.1
 * (`http` options on top of a free port), the bench admin token, and one api-push integration
 * (`integration` fields on top of a name); prints `{port, apiKey, integrationId}` once it
 * listens, then serves until killed.
 */
export const servePushEngine = async (
  dir: string,
  options: {
    readonly http?: Omit<HttpOptions, "port" | "host"> | undefined
    readonly integration?: Partial<Integrations.CreateIntegration> | undefined
    /** a PostgreSQL store instead of `dir/engine.sqlite` */
    readonly pg?: { readonly url: string; readonly maxConnections: number } | undefined
  } = {}
): Promise<void> => {
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
      options.pg === undefined
        ? SqlStorage.layerSqlite({ filename: path.join(dir, "engine.sqlite") })
        : SqlStorage.layerPg(options.pg),
      ConnectorRegistry.layer(PushConnector.connector)
    ))
  )
  const server = HttpAdapter.layer({ ...options.http, port: 0, host: "127.0.0.1" }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
    Layer.provideMerge(engine)
  )
  const program = Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    const { integration } = yield* (yield* Integrations.Integrations).create(tenantId, {
      ...options.integration,
      name: "bench",
      connector: "api-push"
    })
    const { apiKey } = yield* (yield* ApiKeys.ApiKeys).generate(tenantId, integration.id)
    process.stdout.write(
      `${JSON.stringify({ port: address._tag === "TcpAddress" ? address.port : 0, apiKey, integrationId: integration.id })}\n`
    )
    return yield* Effect.never
  })
  await Effect.runPromise(program.pipe(Effect.provide(server), Logger.withMinimumLogLevel(LogLevel.Warning)))
}

/**
 * An active cloud integration as the in-process benches store it (ingest, batch shapes, memory
 * store): 15-minute historical schedule, UTC, no config, created at `at` (epoch ms).
 */
export const benchIntegration = (fields: {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly at: number
  readonly connector?: string | undefined
  readonly dataKinds?: Domain.Integration["dataKinds"] | undefined
}): Domain.Integration =>
  new Domain.Integration({
    id: Domain.IntegrationId.make(fields.id),
    tenantId: Domain.TenantId.make(fields.tenantId),
    name: fields.name,
    connector: fields.connector ?? "bench",
    deliveryMode: "cloud",
    dataKinds: fields.dataKinds ?? ["contacts"],
    schedule: { type: "historical", everyMinutes: 15 },
    timezone: "UTC",
    config: {},
    historyDepthDays: 30,
    status: "active",
    failing: null,
    createdAt: DateTime.unsafeMake(fields.at),
    updatedAt: DateTime.unsafeMake(fields.at),
    deletedAt: null
  })

/**
 * Push request bodies (`POST /external-systems/contact-events`) for records `from` … `to - 1`
 * in batches of `batch`, serialised: record r is a contact at 2026-01-05 + r × 2.6 s on queue
 * `q-(7r mod 20)` (channel by queue: calls, chats, emails), a fifth unhandled.
 */
export const pushBodies = (integrationId: string, from: number, to: number, batch: number): Array<string> => {
  const t0 = Date.parse("2026-01-05T00:00:00Z")
  const channels = ["calls", "chats", "emails"] as const
  const out: Array<string> = []
  for (let start = from; start < to; start += batch) {
    const data = []
    for (let r = start; r < Math.min(to, start + batch); r++) {
      const q = (r * 7) % 20
      data.push({
        properties: { offered: true, handled: r % 5 !== 0, duration: 30 + ((r * 7_919) % 570_000) / 1000 },
        queueName: `Queue ${q}`,
        queueIdentifier: `q-${q}`,
        timestamp: new Date(t0 + r * 2_600).toISOString(),
        channel: channels[q % 3]!
      })
    }
    out.push(JSON.stringify({ data, meta: { integrationConfigurationId: integrationId } }))
  }
  return out
}
