/**
 * Bucketing contact records into 15-minute intervals in a zone with DST (Europe/Berlin, over
 * both of its changes): local timestamps as a file or a push carries them, read in the zone and
 * summed per queue and quarter-hour.
 *
 * - engine: `Bucketing.parseTimestamp` (the zone's rules, a repeated hour read as the earlier
 *   instant), the records as `ContactEvent`s (each instant a `DateTime.Utc` made by `Time.utc`)
 *   and `BatchPlan.plan` per 10,000 (what the CSV importer and the push API do before storing),
 *   its rows summed;
 * - baseline: a hand-written loop: the digits read by char codes, the offset from a table of
 *   the zone's changes made once with `Intl`, the quarter by arithmetic, a count per queue and
 *   quarter in a `Map` (every record of this input is offered and handled in 60 s, so a loop
 *   written for it needs only the count: the strongest plain form).
 *
 * Both read the same input: the timestamp texts and the queue identifiers and names, made
 * before either clock starts and handed over in blocks of 250,000 (as a reader streams a file),
 * each block to the baseline, then to the engine (both warmed up first on 100,000 records of
 * their own, untimed), after a full GC (so that neither clock pays
 * for collecting the making's garbage; the baseline allocates little, so the engine's first
 * collections in a block would). The baseline skips what the
 * engine must do for correctness and a plain loop may leave out: checking the text's shape and
 * calendar (a bad row is a typed error), refusing a time the zone skips, and the domain values
 * (`DateTime.Utc` per record) that every connector hands to the core. The two answers are
 * compared per queue and quarter (offered, handled, handling time).
 *
 * BENCH_BUCKET_RECORDS (default 10,000,000; `--quick` 200,000) records, one every 3.1 s: from
 * 2026-03-20 on (10M reach into November), or, when they are too few to reach past both of
 * Berlin's changes, in two spans of the same density around them.
 */
import { BatchPlan, Bucketing, Time } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Either from "effect/Either"
import { performance } from "node:perf_hooks"
import { atLeast, collectGarbage, offsetTable, report, size } from "./_lib.js"

const RECORDS = size("BENCH_BUCKET_RECORDS", 10_000_000, 200_000)
const ZONE = "Europe/Berlin"
const QUEUES = 20
const QUARTER = 900_000
/** a spring-forward and a fall-back inside the range, whatever its size */
const T0 = Date.parse("2026-03-20T00:00:00Z")
const T1 = Date.parse("2026-11-10T00:00:00Z")
/** one record every 3.1 s: about 14 per queue and quarter-hour, as a busy contact centre has */
const STEP = 3_100
/**
 * The instant of record `r`: from T0 on, one every STEP, when the records fill the months;
 * fewer records (`--quick`) keep the same density in two spans, one around each of Berlin's
 * changes (spring forward 2026-03-29 01:00 UTC, fall back 2026-10-25 01:00 UTC).
 */
const instantOf: (r: number) => number = RECORDS * STEP >= T1 - T0
  ? (r) => T0 + r * STEP
  : (() => {
    const half = Math.ceil(RECORDS / 2)
    const spring = Date.parse("2026-03-29T01:00:00Z") - Math.floor(half / 2) * STEP
    const fall = Date.parse("2026-10-25T01:00:00Z") - Math.floor(half / 2) * STEP
    return (r) => (r < half ? spring + r * STEP : fall + (r - half) * STEP)
  })()
const CHUNK = 10_000

const pad = (n: number) => (n < 10 ? `0${n}` : String(n))
const offset = offsetTable(ZONE, T0 - 86_400_000, Math.max(T1, T0 + RECORDS * STEP) + 86_400_000)
/**
 * The local wall-clock texts of records `from` … `to - 1` (skipping nothing: made from real
 * instants). Handed over in blocks, as a reader streams a file: 10M texts held at once would
 * make every full GC of the engine's garbage mark them all, which no import does.
 */
const textsOf = (from: number, to: number): ReadonlyArray<string> => {
  const out: Array<string> = new Array(to - from)
  for (let r = from; r < to; r++) {
    const utc = instantOf(r)
    const d = new Date(utc + offset(utc))
    out[r - from] = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${
      pad(d.getUTCMinutes())
    }:${pad(d.getUTCSeconds())}`
  }
  // a template literal makes a rope; the first read of a character flattens it. Done here, so
  // neither side's clock pays it
  let check = 0
  for (const text of out) check += text.charCodeAt(0)
  if (check === 0) throw new Error("no texts")
  return out
}
const BLOCK = 250_000
const queueOf = (r: number) => (r * 7) % QUEUES
const queueIdentifiers = Array.from({ length: QUEUES }, (_, q) => `q-${q}`)
const queueNames = Array.from({ length: QUEUES }, (_, q) => `Queue ${q}`)

/** offered, handled, handling time (ms) */
type Sums = [number, number, number]
const sumsOf = (sums: Map<string, Map<number, Sums>>, queue: string, quarter: number): Sums => {
  let byQuarter = sums.get(queue)
  if (byQuarter === undefined) {
    byQuarter = new Map()
    sums.set(queue, byQuarter)
  }
  let s = byQuarter.get(quarter)
  if (s === undefined) {
    s = [0, 0, 0]
    byQuarter.set(quarter, s)
  }
  return s
}

/** The engine's state across blocks, and a step that reads one block. */
const makeEngine = () => {
  const zone = Either.getOrThrow(Bucketing.zone(ZONE))
  const sums = new Map<string, Map<number, Sums>>()
  let chunk: Array<Domain.ContactEvent> = []
  const flush = () => {
    for (const row of BatchPlan.plan({ contacts: chunk, aggregates: [], statuses: [] }).contactRows) {
      const s = sumsOf(sums, row.queue.identifier, row.start)
      s[0] += row.measures.offered
      s[1] += row.measures.handled
      s[2] += row.measures.handlingMs
    }
    chunk = []
  }
  const step = (texts: ReadonlyArray<string>, first: number) => {
    for (let i = 0; i < texts.length; i++) {
      const at = Either.getOrThrow(Bucketing.parseTimestamp(texts[i]!, zone))
      const q = queueOf(first + i)
      chunk.push({
        queueIdentifier: queueIdentifiers[q]!,
        queueName: queueNames[q]!,
        channel: "calls",
        timestamp: Time.utc(at),
        offered: true,
        handled: true,
        durationMs: 60_000
      })
      if (chunk.length === CHUNK) flush()
    }
  }
  const end = () => {
    flush()
    return sums
  }
  return { step, end }
}

/** The baseline's state across blocks, and a step that reads one block. */
const makeBaseline = () => {
  // the queue read as a small number once, then one count per queue and quarter (every record
  // of this input is offered and handled in 60 s, so the count is all three sums)
  const queueIndex = new Map<string, number>()
  const counts = new Map<number, number>()
  const digits = (s: string, i: number, n: number) => {
    let x = 0
    for (let k = 0; k < n; k++) x = x * 10 + s.charCodeAt(i + k) - 48
    return x
  }
  const step = (texts: ReadonlyArray<string>, first: number) => {
    for (let i = 0; i < texts.length; i++) {
      const s = texts[i]!
      const local = Date.UTC(digits(s, 0, 4), digits(s, 5, 2) - 1, digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2))
      // the earlier instant of a repeated hour: try the offset before the change first
      let utc = local - offset(local - 14 * 3_600_000)
      if (utc + offset(utc) !== local) utc = local - offset(utc)
      const quarter = utc - (utc % QUARTER)
      const queue = queueIdentifiers[queueOf(first + i)]!
      let index = queueIndex.get(queue)
      if (index === undefined) {
        index = queueIndex.size
        queueIndex.set(queue, index)
      }
      const key = index * 1e13 + quarter
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }
  return { step, end: () => ({ queues: Array.from(queueIndex.keys()), counts }) }
}

/** The baseline's counts as the engine's sums, for the comparison (after the clock). */
const baselineSums = (result: ReturnType<ReturnType<typeof makeBaseline>["end"]>) => {
  const sums = new Map<string, Map<number, Sums>>()
  for (const [key, count] of result.counts) {
    const s = sumsOf(sums, result.queues[Math.floor(key / 1e13)]!, key % 1e13)
    s[0] += count
    s[1] += count
    s[2] += count * 60_000
  }
  return sums
}

const time = (f: () => void): number => {
  const t = performance.now()
  f()
  return (performance.now() - t) / 1000
}

// untimed, on state of their own: each side first reads WARMUP records, so that neither is
// timed while V8 still compiles it (the engine's path is longer: at 200,000 records it spent
// most of its time before its code was optimised, and read at 0.3 of the baseline)
const WARMUP = Math.min(RECORDS, 100_000)
{
  const texts = textsOf(0, WARMUP)
  makeBaseline().step(texts, 0)
  const warm = makeEngine()
  warm.step(texts, 0)
  warm.end()
}

// block by block, each side reading the same block (made before either clock starts); the
// baseline first in each block
const baselineRun = makeBaseline()
const engineRun = makeEngine()
let baseSeconds = 0
let engineSeconds = 0
for (let first = 0; first < RECORDS; first += BLOCK) {
  const block = textsOf(first, Math.min(RECORDS, first + BLOCK))
  collectGarbage()
  baseSeconds += time(() => baselineRun.step(block, first))
  engineSeconds += time(() => engineRun.step(block, first))
}
let ours = new Map<string, Map<number, Sums>>()
engineSeconds += time(() => {
  ours = engineRun.end()
})
const base = baselineRun.end()
const flat = (m: Map<string, Map<number, Sums>>) =>
  Array.from(m, ([queue, byQuarter]) => Array.from(byQuarter, ([quarter, s]) => `${queue}|${quarter}|${s.join(",")}`))
    .flat()
    .sort()
const baseRows = flat(baselineSums(base))
const ourRows = flat(ours)
const offered = baseRows.reduce((n, row) => n + Number(row.split("|")[2]!.split(",")[0]), 0)
if (offered !== RECORDS || baseRows.join("\n") !== ourRows.join("\n")) {
  throw new Error(`sums differ: baseline ${offered} offered in ${baseRows.length} rows, engine ${ourRows.length} rows`)
}
report([{
  name: "bucketing: contacts → 15-min intervals, DST zone",
  unit: "records/s",
  engine: RECORDS / engineSeconds,
  baseline: RECORDS / baseSeconds,
  target: atLeast(0.5),
  note: `${RECORDS.toLocaleString("en")} local timestamps in ${ZONE} over both DST changes`
}])
