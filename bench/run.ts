/**
 * The benchmark instrument: runs every bench file in this folder (each `*.ts` but this one and
 * the `_` helpers), each in its own Node process and several times, takes the median of each
 * row over the runs, prints one table and writes it with the machine's facts to
 * `bench/results/latest.json` (`--quick`: `bench/results/quick.json`).
 *
 *   pnpm bench                          # everything, full sizes, 3 runs each
 *   pnpm bench --quick                  # small sizes, 1 run: checks that every row is produced
 *   pnpm bench --runs=5 --scale=0.1     # 5 runs, a tenth of every size
 *   pnpm bench push-http query          # only the files whose name contains one of these words
 *   pnpm bench --out=/tmp/r.json        # write the results elsewhere
 *
 * Sizes of one bench can also be set exactly by its environment variables (see each file's
 * header). Exits 1 when a bench fails or a row the manifest (`_manifest.ts`) expects is
 * missing; a missed target is shown, never an error (speed depends on the machine).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row, Target } from "./_lib.js"
import { describeTarget, passes, ratioOf } from "./_lib.js"
import { expectedRows } from "./_manifest.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  return hit === undefined ? undefined : hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : "true"
}
const quick = flag("quick") !== undefined
const runs = Math.max(1, Number(flag("runs") ?? (quick ? 1 : 3)))
const scale = flag("scale")
const out = path.resolve(flag("out") ?? path.join(here, "results", quick ? "quick.json" : "latest.json"))
const filters = args.filter((a) => !a.startsWith("--"))

const files = fs.readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "run.ts" && !f.startsWith("_"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

/** The result row: medians over the runs. */
interface ResultRow {
  readonly name: string
  readonly bench: string
  readonly unit: string
  readonly engine: number
  readonly baseline: number | null
  readonly ratio: number | null
  readonly target: string | null
  readonly targetSpec: Target | null
  readonly pass: boolean | null
  readonly runs: number
  readonly note?: string | undefined
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const env = {
  ...process.env,
  ...(quick ? { BENCH_QUICK: "1" } : {}),
  ...(scale !== undefined ? { BENCH_SCALE: scale } : {})
}

const loadAverage = os.loadavg()
const startedAt = new Date().toISOString()
const started = performance.now()
const collected = new Map<string, { bench: string; rows: Array<Row> }>()
const failures: Array<string> = []

for (const file of files) {
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`=== ${file} (run ${run}/${runs})\n`)
    const t = performance.now()
    const result = spawnSync(process.execPath, ["--import", "tsx", path.join(here, file)], {
      cwd: here,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 26
    })
    const line = result.stdout.split("\n").find((l) => l.startsWith("BENCH-ROWS "))
    if (result.status !== 0 || line === undefined) {
      failures.push(`${file} run ${run}: exit ${result.status ?? result.signal}${line === undefined ? ", no rows" : ""}`)
      process.stderr.write(`${result.stdout.slice(-2000)}\n${file} failed (exit ${result.status ?? result.signal})\n`)
      break
    }
    process.stderr.write(`    ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
    for (const row of JSON.parse(line.slice("BENCH-ROWS ".length)) as Array<Row>) {
      const entry = collected.get(row.name) ?? { bench: file.replace(/\.ts$/, ""), rows: [] }
      entry.rows.push(row)
      collected.set(row.name, entry)
    }
  }
}

const rows: Array<ResultRow> = Array.from(collected.entries(), ([name, { bench, rows }]) => {
  const first = rows[0]!
  const engine = median(rows.map((r) => r.engine))
  const baselines = rows.flatMap((r) => (r.baseline === null ? [] : [r.baseline]))
  const baseline = baselines.length === 0 ? null : median(baselines)
  // the ratio of each run (engine and baseline measured side by side), then their median
  const ratios = rows.flatMap((r) => {
    const x = ratioOf(r)
    return x === null ? [] : [x]
  })
  const ratio = ratios.length === 0 ? null : median(ratios)
  const medianRow: Row = { name, unit: first.unit, engine, baseline, target: first.target, note: first.note }
  return {
    name,
    bench,
    unit: first.unit,
    engine,
    baseline,
    ratio,
    target: first.target === null ? null : describeTarget(first.target),
    targetSpec: first.target,
    pass: passes(medianRow, ratio),
    runs: rows.length,
    note: first.note
  }
})

const benches = new Set(files.map((f) => f.replace(/\.ts$/, "")))
const missing = expectedRows.filter((e) => benches.has(e.bench) && !collected.has(e.name)).map((e) => e.name)
const unexpected = rows.filter((r) => !expectedRows.some((e) => e.name === r.name)).map((r) => r.name)

const fmt = (x: number | null, unit = "") => {
  if (x === null) return "—"
  const abs = Math.abs(x)
  const text = abs >= 1000 ? Math.round(x).toLocaleString("en") : abs >= 100 ? x.toFixed(0) : abs >= 10 ? x.toFixed(1) : x.toFixed(2)
  return `${text}${unit}`
}
const table = [
  ["row", "unit", "engine", "baseline", "ratio", "target", "pass"],
  ...rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.engine),
    fmt(r.baseline),
    fmt(r.ratio),
    r.target ?? "",
    r.pass === null ? "" : r.pass ? "yes" : "NO"
  ])
]
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)))
const lines = table.map((r) => r.map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(" | "))
lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("-|-"))

const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  memoryGb: Math.round(os.totalmem() / 1024 ** 3),
  loadAverageAtStart: loadAverage.map((x) => Math.round(x * 100) / 100)
}
process.stdout.write(
  `\nacd-bridge benchmarks (${quick ? "quick" : "full"}, ${runs} run${runs > 1 ? "s" : ""} each, medians), ${machine.cpus} CPUs, ` +
    `Node ${machine.node}, load average at start ${machine.loadAverageAtStart.join(" ")}\n\n${lines.join("\n")}\n`
)
if (missing.length > 0) process.stdout.write(`\nmissing rows: ${missing.join("; ")}\n`)
if (unexpected.length > 0) process.stdout.write(`\nrows not in the manifest: ${unexpected.join("; ")}\n`)
if (failures.length > 0) process.stdout.write(`\nfailed: ${failures.join("; ")}\n`)

fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(
  out,
  `${
    JSON.stringify(
      {
        startedAt,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        mode: quick ? "quick" : "full",
        runs,
        scale: scale === undefined ? 1 : Number(scale),
        machine,
        rows: rows.map(({ targetSpec: _, ...r }) => r),
        missing,
        failures
      },
      null,
      2
    )
  }\n`
)
process.stdout.write(`\nwritten to ${path.relative(process.cwd(), out)}\n`)
process.exit(failures.length > 0 || missing.length > 0 ? 1 : 0)
