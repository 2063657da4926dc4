/**
 * CSV import end to end: a generated contact-based CSV file (BENCH_CSV_MB megabytes, default
 * 1024; written to a temporary folder, streaming) imported by `CsvImporter.importFile` into the
 * engine over `SqlStorage.layerSqlite` (hash, csv-parse, mapping, `Ingest.importWindow` per
 * 5,000 rows with the file's watermark, the import run), against a baseline in the same run:
 * csv-parse → raw better-sqlite3 inserts of every row, one transaction per 5,000 rows, same
 * pragmas (WAL, synchronous=FULL).
 *
 * Each side runs in its own Node process, so its peak RSS (sampled every 20 ms during the import)
 * is its own.
 * The processes run this file compiled into a JavaScript bundle (esbuild, as a deployment
 * would), not under the tsx loader, whose TypeScript compiler alone takes ~110 MB of RSS; the
 * RSS of the same process just before the import starts is shown beside the peak.
 *
 * BENCH_CSV_TZ (default UTC) is the zone the engine reads the file's wall-clock timestamps in
 * (`Europe/Berlin` exercises the DST rules of core's `Time`; the baseline reads them as UTC).
 *
 *   BENCH_CSV_MB=64 pnpm bench csv-import
 */
import { ConnectorRegistry, Engine, Integrations, Storage } from "@acd-bridge/core"
import { CsvConnector, CsvImporter } from "@acd-bridge/csv"
import { SqlStorage } from "@acd-bridge/sql-storage"
import Database from "better-sqlite3"
import { parse } from "csv-parse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { atLeast, below, report, size } from "./_lib.js"

const MB = size("BENCH_CSV_MB", 1024, 4)
const TZ = process.env["BENCH_CSV_TZ"] ?? "UTC"
const CHUNK = 5_000
const QUEUES = 20
const T0 = Date.parse("2025-01-06T00:00:00Z")
/** one contact every 2.6 s */
const STEP_MS = 2_600

interface Result {
  readonly name: string
  readonly seconds: number
  readonly records: number
  readonly offered: number
  readonly peakRssMb: number
  /** RSS when the import starts (modules loaded, store open) */
  readonly startRssMb: number
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024)

/** Samples RSS every 20 ms while `run` runs: the peak of the import itself (not of the checks after it). */
const sampled = async <A>(run: () => Promise<A>): Promise<readonly [A, number]> => {
  let peak = rssMb()
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb())
  }, 20)
  try {
    const result = await run()
    return [result, Math.max(peak, rssMb())] as const
  } finally {
    clearInterval(timer)
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0")
const stamp = (ms: number) => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}`
}

/** Writes rows until the file reaches `bytes`; returns the number of rows. */
const generate = async (file: string, bytes: number): Promise<number> => {
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 })
  out.write("Start,Queue,Queue name,Channel,Offered,Handled,Duration\n")
  let written = 0
  let rows = 0
  while (written < bytes) {
    let block = ""
    for (let i = 0; i < 10_000; i++, rows++) {
      const q = (rows * 7) % QUEUES
      const handled = rows % 5 !== 0
      const seconds = 30 + ((rows * 7_919) % 570_000) / 1000
      block += `${stamp(T0 + rows * STEP_MS)},queue-${q},"Queue ${q}",calls,1,${handled ? 1 : 0},${seconds.toFixed(3)}\n`
    }
    written += Buffer.byteLength(block)
    if (!out.write(block)) await new Promise<void>((resolve) => out.once("drain", () => resolve()))
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
  return rows
}

/** csv-parse → raw prepared inserts, one transaction per 5,000 rows. */
const baseline = async (file: string, dir: string): Promise<Result> => {
  const db = new Database(path.join(dir, "baseline.sqlite"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.exec(
    "CREATE TABLE contacts (queue_identifier TEXT NOT NULL, queue_name TEXT NOT NULL, channel TEXT NOT NULL, ts INTEGER NOT NULL, offered INTEGER NOT NULL, handled INTEGER NOT NULL, duration_ms INTEGER NOT NULL)"
  )
  const insert = db.prepare("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?)")
  const startRssMb = rssMb()
  const flush = db.transaction((rows: ReadonlyArray<ReadonlyArray<string>>) => {
    for (const r of rows) {
      insert.run(r[1], r[2], r[3], Date.parse(`${r[0]!.replace(" ", "T")}Z`), Number(r[4]), Number(r[5]), Math.round(Number(r[6]) * 1000))
    }
  })
  const started = performance.now()
  const [records, peakRssMb] = await sampled(async () => {
    const parser = fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(parse({ delimiter: ",", from_line: 2 }))
    let pending: Array<Array<string>> = []
    let count = 0
    for await (const row of parser as AsyncIterable<Array<string>>) {
      pending.push(row)
      if (pending.length >= CHUNK) {
        flush(pending)
        count += pending.length
        pending = []
      }
    }
    flush(pending)
    return count + pending.length
  })
  const seconds = (performance.now() - started) / 1000
  const offered = db.prepare("SELECT SUM(offered) FROM contacts").pluck().get() as number
  db.close()
  return {
    name: "baseline: csv-parse → better-sqlite3 inserts",
    seconds,
    records,
    offered,
    peakRssMb,
    startRssMb
  }
}

/** The engine: CsvImporter.importFile over SqlStorage (SQLite). */
const engine = async (file: string, dir: string): Promise<Result> => {
  const tenant = "bench" as Parameters<Integrations.Integrations["create"]>[0]
  const App = CsvImporter.CsvImporter.Default.pipe(
    Layer.provideMerge(Engine.layer),
    Layer.provideMerge(
      Layer.mergeAll(
        SqlStorage.layerSqlite({ filename: path.join(dir, "engine.sqlite") }),
        ConnectorRegistry.layer(CsvConnector.connector)
      )
    )
  )
  return Effect.runPromise(
    Effect.gen(function*() {
      const { integration } = yield* (yield* Integrations.Integrations).create(tenant, {
        name: "CSV bench",
        connector: "csv",
        timezone: TZ,
        config: {
          source: { folder: path.dirname(file) },
          layout: "contacts",
          delimiter: ",",
          timestampFormat: "YYYY-MM-DD HH:mm:ss",
          timezone: TZ,
          chunkSize: CHUNK,
          columns: {
            queueIdentifier: "Queue",
            queueName: "Queue name",
            channel: "Channel",
            timestamp: "Start",
            offered: "Offered",
            handled: "Handled",
            duration: "Duration"
          }
        }
      })
      const importer = yield* CsvImporter.CsvImporter
      const runtime = yield* Effect.runtime<never>()
      const startRssMb = rssMb()
      const started = performance.now()
      const [result, peakRssMb] = yield* Effect.promise(() =>
        sampled(() => Runtime.runPromise(runtime)(importer.importFile(integration, file, { move: false })))
      )
      const seconds = (performance.now() - started) / 1000
      if (result.rejected > 0) throw new Error(`rows rejected: ${JSON.stringify(result.problems.slice(0, 3))}`)
      const stats = yield* (yield* Storage.Storage).data.intervalStats({
        tenantId: integration.tenantId,
        integrationId: integration.id,
        from: 0,
        to: 8_000_000_000_000
      })
      return {
        name: "engine: CsvImporter → Ingest → SqlStorage",
        seconds,
        records: result.applied,
        offered: stats.reduce((n, r) => n + r.offered, 0),
        peakRssMb,
        startRssMb
      }
    }).pipe(Effect.provide(App))
  )
}

const self = fileURLToPath(import.meta.url)

/** The part of esbuild's API used here (esbuild comes with tsx). */
interface Esbuild {
  readonly build: (options: {
    readonly entryPoints: ReadonlyArray<string>
    readonly bundle: boolean
    readonly platform: "node"
    readonly format: "esm"
    readonly splitting: boolean
    readonly minifyWhitespace: boolean
    readonly target: string
    readonly outdir: string
    readonly outExtension: Readonly<Record<string, string>>
    readonly logLevel: "error"
    readonly banner: { readonly js: string }
    readonly plugins: ReadonlyArray<{
      readonly name: string
      readonly setup: (build: {
        readonly onResolve: (
          options: { readonly filter: RegExp },
          resolve: () => { readonly path: string; readonly external: boolean }
        ) => void
      }) => void
    }>
  }) => Promise<unknown>
}

/**
 * Compiles this file and the workspace sources into ES modules (better-sqlite3 stays native), the
 * way a deployment bundle would: modules loaded by `import()` (database drivers) are chunks of
 * their own, loaded when used; comments are dropped, because a single non-ASCII character in one
 * library's comment would otherwise make V8 keep the whole bundle's source as a two-byte string
 * (3.6 MB of live heap instead of 1.8 MB), which no unbundled deployment pays.
 */
const bundle = async (outdir: string): Promise<void> => {
  const here = createRequire(import.meta.url)
  const esbuild = createRequire(here.resolve("tsx/package.json"))("esbuild") as Esbuild
  const betterSqlite3 = here.resolve("better-sqlite3")
  await esbuild.build({
    entryPoints: [self],
    bundle: true,
    platform: "node",
    format: "esm",
    splitting: true,
    minifyWhitespace: true,
    target: "node20",
    outdir,
    // ES modules, whatever package.json governs the temporary folder
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
    banner: { js: "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);" },
    plugins: [{
      name: "native",
      setup: (build) => build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: betterSqlite3, external: true }))
    }]
  })
}
const [phase, file, dir] = process.argv.slice(2)

if (phase === "baseline" || phase === "engine") {
  const result = await (phase === "baseline" ? baseline(file!, dir!) : engine(file!, dir!))
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
} else {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-csv-bench-"))
  try {
    const inbox = path.join(tmp, "in")
    fs.mkdirSync(inbox)
    const csv = path.join(inbox, "contacts.csv")
    const generatedAt = performance.now()
    const rows = await generate(csv, MB * 1024 * 1024)
    const bytes = fs.statSync(csv).size
    process.stderr.write(
      `generated ${(bytes / 1024 / 1024).toFixed(0)} MB, ${rows.toLocaleString("en")} contact rows in ${
        ((performance.now() - generatedAt) / 1000).toFixed(1)
      } s\n`
    )
    const bundled = path.join(tmp, "bundle")
    await bundle(bundled)
    const compiled = path.join(bundled, "csv-import.mjs")
    const run = (which: "baseline" | "engine"): Result => {
      const child = spawnSync(process.execPath, [compiled, which, csv, tmp], {
        encoding: "utf8",
        maxBuffer: 1 << 26,
        env: process.env
      })
      const line = child.stdout.split("\n").find((l) => l.startsWith("RESULT "))
      if (child.status !== 0 || line === undefined) {
        throw new Error(`${which} failed (exit ${child.status}): ${child.stderr.slice(-4000)}`)
      }
      return JSON.parse(line.slice(7)) as Result
    }
    const results = [run("baseline"), run("engine")]
    for (const r of results) {
      if (r.records !== rows || r.offered !== rows) throw new Error(`${r.name}: ${r.records} records, ${r.offered} offered, expected ${rows}`)
    }
    const [base, ours] = results as [Result, Result]
    for (const r of results) {
      process.stderr.write(
        `${r.name.padEnd(48)} ${r.seconds.toFixed(1).padStart(7)} s  ${
          Math.round(r.records / r.seconds).toLocaleString("en").padStart(10)
        } records/s  peak RSS ${String(r.peakRssMb).padStart(4)} MB (${r.startRssMb} MB at start)\n`
      )
    }
    const note = `${(bytes / 1024 / 1024).toFixed(0)} MB, ${rows.toLocaleString("en")} contact rows`
    report([
      {
        name: "CSV file end to end",
        unit: "records/s",
        engine: ours.records / ours.seconds,
        baseline: base.records / base.seconds,
        target: atLeast(0.8),
        note
      },
      {
        name: "CSV file end to end: peak RSS",
        unit: "MB",
        engine: ours.peakRssMb,
        baseline: base.peakRssMb,
        target: below(200, "engine"),
        note
      }
    ])
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}
