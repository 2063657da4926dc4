/**
 * Interval arithmetic. Storage keys are UTC quarter-hours; reporting intervals of 15, 30 or 60
 * minutes are aligned to a time zone's wall clock: an interval starts where the local time is a
 * multiple of its length, or where the zone's offset changes. So DST days have 92 or 100
 * quarter-hours, the repeated hour gives two intervals, and zones with :30/:45 offsets work.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { IntervalMinutes } from "./Domain.js"

const MINUTE = 60_000
const QUARTER = 15 * MINUTE

/**
 * The UTC quarter-hour that contains an instant (epoch ms): the storage key of contact rows.
 *
 * @since 0.1.0 @category storage keys
 */
export const quarterKey = (ms: number): number => Math.floor(ms / QUARTER) * QUARTER

/**
 * A named IANA zone, or `Left` when the name is not one.
 *
 * @since 0.1.0 @category zones
 */
export const zone = (name: string): Either.Either<DateTime.TimeZone, string> =>
  Option.match(DateTime.zoneMakeNamed(name), {
    onNone: () => Either.left(name),
    onSome: (z) => Either.right(z)
  })

const offsetCache = new WeakMap<DateTime.TimeZone, Map<number, number>>()

/**
 * The zone's offset from UTC in ms at an instant (memoised per zone and quarter-hour: offsets
 * change on quarter-hour boundaries at most, and `Intl` is slow).
 *
 * @since 0.1.0 @category zones
 */
export const offsetAt = (ms: number, tz: DateTime.TimeZone): number => {
  let cache = offsetCache.get(tz)
  if (!cache) {
    cache = new Map()
    offsetCache.set(tz, cache)
  }
  const key = Math.floor(ms / QUARTER)
  let o = cache.get(key)
  if (o === undefined) {
    o = DateTime.zonedOffset(DateTime.unsafeMakeZoned(key * QUARTER, { timeZone: tz }))
    cache.set(key, o)
  }
  return o
}

/**
 * The start (epoch ms) of the interval of `length` minutes in zone `tz` that contains `ms`.
 *
 * @since 0.1.0 @category intervals
 */
export const intervalStart = (ms: number, length: IntervalMinutes, tz: DateTime.TimeZone): number => {
  let s = quarterKey(ms)
  for (;;) {
    const localMinutes = Math.floor((s + offsetAt(s, tz)) / MINUTE)
    if (((localMinutes % length) + length) % length === 0) return s
    if (offsetAt(s - 1, tz) !== offsetAt(s, tz)) return s
    s -= QUARTER
  }
}

/**
 * The end (epoch ms, exclusive) of the interval that starts at `start`.
 *
 * @since 0.1.0 @category intervals
 */
export const intervalEnd = (start: number, length: IntervalMinutes, tz: DateTime.TimeZone): number => {
  let e = start + QUARTER
  while (intervalStart(e, length, tz) === start) e += QUARTER
  return e
}

/**
 * The intervals that start in [from, to).
 *
 * @since 0.1.0 @category intervals
 */
export const intervals = (
  from: number,
  to: number,
  length: IntervalMinutes,
  tz: DateTime.TimeZone
): Array<{ readonly start: number; readonly end: number }> => {
  const out: Array<{ start: number; end: number }> = []
  let start = intervalStart(from, length, tz)
  if (start < from) start = intervalEnd(start, length, tz)
  while (start < to) {
    const end = intervalEnd(start, length, tz)
    out.push({ start, end })
    start = end
  }
  return out
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0")

/**
 * An instant as local time with offset, ISO-8601 (`2026-03-29T02:00:00+02:00`).
 *
 * @since 0.1.0 @category labels
 */
export const label = (ms: number, tz: DateTime.TimeZone): string => {
  const offset = offsetAt(ms, tz)
  const local = new Date(ms + offset)
  const sign = offset < 0 ? "-" : "+"
  const offMinutes = Math.abs(offset) / MINUTE
  const ms3 = local.getUTCMilliseconds()
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${
    pad(local.getUTCHours())
  }:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${ms3 === 0 ? "" : `.${pad(ms3, 3)}`}${sign}${
    pad(Math.floor(offMinutes / 60))
  }:${pad(offMinutes % 60)}`
}

/** @since 0.1.0 @category models */
export interface LocalTime {
  readonly year: number
  /** 1-12 */
  readonly month: number
  readonly day: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
  readonly millis?: number | undefined
}

/**
 * A wall-clock time of a zone as an instant (epoch ms). A time that doesn't exist in the zone
 * (the spring-forward gap) is `Left("nonexistent")`; a repeated time (fall back) takes the
 * earlier instant unless `prefer: "later"`.
 *
 * @since 0.1.0 @category parsing
 */
export const fromLocal = (
  t: LocalTime,
  tz: DateTime.TimeZone,
  options: { readonly prefer?: "earlier" | "later" | undefined } = {}
): Either.Either<number, "nonexistent"> => {
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hours, t.minutes, t.seconds, t.millis ?? 0)
  const candidates = new Set<number>()
  // the offsets in force within a day and a half of the wall time (both sides of a DST change)
  for (const probe of [wall - 36 * 60 * MINUTE, wall, wall + 36 * 60 * MINUTE]) {
    const guess = wall - offsetAt(probe, tz)
    if (guess + offsetAt(guess, tz) === wall) candidates.add(guess)
  }
  if (candidates.size === 0) return Either.left("nonexistent")
  const sorted = Array.from(candidates).sort((a, b) => a - b)
  return Either.right(options.prefer === "later" ? sorted[sorted.length - 1]! : sorted[0]!)
}
