/**
 * What every bench file shares with the runner (`run.ts`): its sizes (full, or `--quick`, times
 * `--scale`), and the rows it reports. A bench file prints its rows as one line
 * `BENCH-ROWS <json>`; the runner runs each file several times, takes medians and prints the
 * table. Files whose name starts with `_` are not benches.
 */

/** `--quick` (BENCH_QUICK=1): small sizes, so CI can check that every bench still runs. */
export const quick = process.env["BENCH_QUICK"] === "1"

/** `--scale=<x>` (BENCH_SCALE): multiplies every size. */
export const scale = Number(process.env["BENCH_SCALE"] ?? 1)

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
