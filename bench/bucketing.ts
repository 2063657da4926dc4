/**
 * Bucketing contact records into 15-minute intervals in a zone with DST (Europe/Berlin, over
 * both of its changes): local timestamps as a file or a push carries them, read in the zone and
 * summed per queue and quarter-hour.
 *
 * - engine: `Bucketing.parseTimestamp` (the zone's rules, a repeated hour read as the earlier
 *   instant), the records as `ContactEvent`s and `BatchPlan.plan` per 10,000 (what the CSV importer
 *   and the push API do before storing), its rows summed;
 * - baseline: a hand-written loop: the digits read by char codes, the offset from a table of
 *   the zone's changes made once with `Intl`, the quarter by arithmetic, sums in a `Map`.
 *
 * BENCH_BUCKET_RECORDS (default 10,000,000; `--quick` 200,000) records, one every 3.1 s.
 */
import { Bucketing, BatchPlan } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import { performance } from "node:perf_hooks"
import { atLeast, offsetTable, report, size } from "./_lib.js"

const RECORDS = size("BENCH_BUCKET_RECORDS", 10_000_000, 200_000)
const ZONE = "Europe/Berlin"
const QUEUES = 20
const QUARTER = 900_000
/** a spring-forward and a fall-back inside the range, whatever its size */
const T0 = Date.parse("2026-03-20T00:00:00Z")
const STEP = Math.max(3_100, Math.floor((Date.parse("2026-11-10T00:00:00Z") - T0) / RECORDS))
const CHUNK = 10_000

const pad = (n: number) => (n < 10 ? `0${n}` : String(n))
/** The local wall-clock text of each record (skipping nothing: made from real instants). */
const texts = (() => {
  const offset = offsetTable(ZONE, T0 - 86_400_000, T0 + RECORDS * STEP + 86_400_000)
  const out: Array<string> = new Array(RECORDS)
  for (let r = 0; r < RECORDS; r++) {
    const utc = T0 + r * STEP
    const d = new Date(utc + offset(utc))
    out[r] = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${
      pad(d.getUTCMinutes())
    }:${pad(d.getUTCSeconds())}`
  }
  return out
})()
const queueOf = (r: number) => (r * 7) % QUEUES

const engine = () => {
  const zone = Either.getOrThrow(Bucketing.zone(ZONE))
  const sums = new Map<string, number>()
  let chunk: Array<Domain.ContactEvent> = []
  const flush = () => {
    for (const row of BatchPlan.plan({ contacts: chunk, aggregates: [], statuses: [] }).contactRows) {
      const key = `${row.queue.identifier}|${row.start}`
      sums.set(key, (sums.get(key) ?? 0) + row.measures.offered)
    }
    chunk = []
  }
  for (let r = 0; r < RECORDS; r++) {
    const at = Either.getOrThrow(Bucketing.parseTimestamp(texts[r]!, zone))
    const q = queueOf(r)
    chunk.push({
      queueIdentifier: `q-${q}`,
      queueName: `Queue ${q}`,
      channel: "calls",
      timestamp: DateTime.unsafeMake(at),
      offered: true,
      handled: true,
      durationMs: 60_000
    })
    if (chunk.length === CHUNK) flush()
  }
  flush()
  return sums
}

const baseline = () => {
  const offset = offsetTable(ZONE, T0 - 86_400_000, T0 + RECORDS * STEP + 86_400_000)
  const sums = new Map<number, number>()
  const digits = (s: string, i: number, n: number) => {
    let x = 0
    for (let k = 0; k < n; k++) x = x * 10 + s.charCodeAt(i + k) - 48
    return x
  }
  for (let r = 0; r < RECORDS; r++) {
    const s = texts[r]!
    const local = Date.UTC(digits(s, 0, 4), digits(s, 5, 2) - 1, digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2))
    // the earlier instant of a repeated hour: try the offset before the change first
    let utc = local - offset(local - 14 * 3_600_000)
    if (utc + offset(utc) !== local) utc = local - offset(utc)
    const quarter = utc - (utc % QUARTER)
    const key = queueOf(r) * 1e13 + quarter
    sums.set(key, (sums.get(key) ?? 0) + 1)
  }
  return sums
}

const time = <A>(f: () => A): readonly [A, number] => {
  const t = performance.now()
  const a = f()
  return [a, (performance.now() - t) / 1000]
}

// a warm-up of both on the same data would double the run; each runs once, the baseline first
const [base, baseSeconds] = time(baseline)
const [ours, engineSeconds] = time(engine)
const total = (m: Map<unknown, number>) => Array.from(m.values()).reduce((a, b) => a + b, 0)
if (total(base) !== RECORDS || total(ours) !== RECORDS || base.size !== ours.size) {
  throw new Error(`sums differ: baseline ${total(base)} in ${base.size} rows, engine ${total(ours)} in ${ours.size}`)
}
report([{
  name: "bucketing: contacts → 15-min intervals, DST zone",
  unit: "records/s",
  engine: RECORDS / engineSeconds,
  baseline: RECORDS / baseSeconds,
  target: atLeast(0.5),
  note: `${RECORDS.toLocaleString("en")} local timestamps in ${ZONE} over both DST changes`
}])
