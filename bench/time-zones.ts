/**
 * Reading wall-clock timestamps in a zone with DST: why core's `Time` memoises what
 * `effect/DateTime` computes.
 *
 * BENCH_TIMES (default 1,000,000) ISO-8601 timestamps without offset, one every 2.6 s from
 * 2026-03-01 (a million reach past the spring-forward change of March 29th), read in
 * Europe/Berlin three ways in the same run:
 *
 * - baseline: `Date.parse` of the same text as UTC (no zone at all: the floor);
 * - `Time.parseIso`: the engine's reader (its memo tables per UTC and local hour);
 * - `DateTime.makeZoned`: the same wall clock resolved by `effect/DateTime` for every record
 *   (`disambiguation: "earlier"`, then the offset at the result checked to refuse the gap), as
 *   the module would do without its memo tables.
 *
 * The three must agree on every instant; the run fails otherwise.
 *
 *   BENCH_TIMES=200000 pnpm bench time-zones
 */
import { Time } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { performance } from "node:perf_hooks"
import { report, size } from "./_lib.js"

const COUNT = size("BENCH_TIMES", 1_000_000, 100_000)
const T0 = Date.parse("2026-03-01T00:00:00Z")
const STEP_MS = 2_600
const zone = Either.getOrThrow(Time.zone("Europe/Berlin"))

const pad = (n: number, w = 2) => String(n).padStart(w, "0")
const wallClock = (localMs: number) => {
  const d = new Date(localMs)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}`
}

// the wall clocks of real instants, so that none falls in the gap
const texts: Array<string> = new Array(COUNT)
for (let i = 0; i < COUNT; i++) texts[i] = wallClock(Time.toLocalMs(T0 + i * STEP_MS, zone))

const run = (name: string, read: (text: string) => number) => {
  // one warm-up round on a tenth, then the timed round
  for (let i = 0; i < COUNT / 10; i++) read(texts[i]!)
  const out = new Float64Array(COUNT)
  const started = performance.now()
  for (let i = 0; i < COUNT; i++) out[i] = read(texts[i]!)
  const seconds = (performance.now() - started) / 1000
  return { name, seconds, perSecond: COUNT / seconds, out }
}

const baseline = run("baseline: Date.parse as UTC", (text) => Date.parse(`${text}Z`))

const engine = run("Time.parseIso (memoised)", (text) => {
  const parsed = Time.parseIso(text, zone)
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  return parsed.right
})

const direct = run("DateTime.makeZoned per record", (text) => {
  const parts = Time.partsOfLocalMs(Date.parse(`${text}Z`))
  const zoned = DateTime.makeZoned(parts, { timeZone: zone, adjustForTimeZone: true, disambiguation: "earlier" })
  if (Option.isNone(zoned)) throw new Error(`${text} out of range`)
  const epochMs = DateTime.toEpochMillis(zoned.value)
  if (epochMs + DateTime.zonedOffset(zoned.value) !== Date.parse(`${text}Z`)) throw new Error(`${text} is in the gap`)
  return epochMs
})

for (let i = 0; i < COUNT; i++) {
  // the texts are to the second
  const expected = Math.floor((T0 + i * STEP_MS) / 1000) * 1000
  // no wall clock repeats in March: each reads back to its instant
  if (engine.out[i] !== expected || direct.out[i] !== expected) {
    throw new Error(`${texts[i]}: expected ${expected}, Time gave ${engine.out[i]}, DateTime gave ${direct.out[i]}`)
  }
}

const line = (r: { name: string; seconds: number; perSecond: number }) =>
  `${r.name.padEnd(34)} ${r.seconds.toFixed(2).padStart(6)} s ${Math.round(r.perSecond).toLocaleString("en-US").padStart(12)} /s`
process.stdout.write(`${COUNT.toLocaleString("en-US")} wall-clock timestamps in Europe/Berlin, ${texts[0]} to ${texts[COUNT - 1]}\n`)
for (const r of [baseline, engine, direct]) process.stdout.write(`${line(r)}\n`)
process.stdout.write(
  `Time.parseIso/baseline: ${(engine.perSecond / baseline.perSecond).toFixed(2)}×; ` +
    `DateTime.makeZoned/baseline: ${(direct.perSecond / baseline.perSecond).toFixed(3)}×; ` +
    `memoised/unmemoised: ${(engine.perSecond / direct.perSecond).toFixed(1)}×\n`
)

// the runner's rows: the engine's reader and the unmemoised one, each against Date.parse
report([
  {
    name: "time zones: wall-clock timestamps read in a DST zone (Time.parseIso)",
    unit: "timestamps/s",
    engine: engine.perSecond,
    baseline: baseline.perSecond,
    target: null,
    note: `${COUNT.toLocaleString("en-US")} timestamps in Europe/Berlin; baseline Date.parse as UTC`
  },
  {
    name: "time zones: wall-clock timestamps read by DateTime.makeZoned per record",
    unit: "timestamps/s",
    engine: direct.perSecond,
    baseline: baseline.perSecond,
    target: null,
    note: "what Time would cost without its memo tables"
  }
])
