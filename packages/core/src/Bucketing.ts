/**
 * Interval math. Stored statistics are keyed by 15-minute UTC quarters (UTC epoch
 * milliseconds); reports group them into 15/30/60-minute intervals that follow the wall clock
 * of a reporting IANA time zone.
 *
 * Every zone in use today has an offset that is a whole number of quarter-hours (the
 * "strangest" are +05:45, +08:45, +12:45 and Lord Howe's 30-minute DST), so every local
 * 15/30/60-minute boundary is also a UTC quarter boundary and a stored quarter always falls
 * into exactly one reporting interval.
 *
 * Historical offsets that are not whole quarter-hours (local mean time before ~1900, Liberia's
 * -00:44:30 until 1972) are rounded to the nearest quarter-hour for alignment only: intervals
 * still start on UTC quarters, last at most `length` minutes and cover every instant exactly
 * once, but their labels show the true local time, which is then not on a round minute. An
 * offset change that does not fall on a UTC quarter (Newfoundland's 00:01 transitions before
 * 2011) starts a new interval at the next quarter.
 *
 * Offsets, labels and timestamp parsing come from `Time`, the engine's one time module; the
 * names re-exported here (`zone`, `offsetMs`, `label`, `fromLocal`, `parseTimestamp`) are the
 * same functions, kept for existing callers.
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import type * as Either from "effect/Either"
import * as Time from "./Time.js"

/**
 * Reporting interval length in minutes.
 *
 * @since 0.1.0
 * @category models
 */
export type IntervalLength = 15 | 30 | 60

/**
 * One storage quarter in milliseconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const QUARTER_MS = 900_000

const MINUTE_MS = 60_000

/**
 * An IANA time zone name that the runtime does not know (`Time.UnknownTimeZone`).
 *
 * @since 0.1.0
 * @category errors
 */
export const UnknownTimeZone = Time.UnknownTimeZone

/**
 * @since 0.1.0
 * @category errors
 */
export type UnknownTimeZone = Time.UnknownTimeZone

/**
 * A timestamp that cannot be read (`Time.TimestampError`).
 *
 * @since 0.1.0
 * @category errors
 */
export const TimestampError = Time.TimestampError

/**
 * @since 0.1.0
 * @category errors
 */
export type TimestampError = Time.TimestampError

/**
 * Floors an instant to its 15-minute UTC quarter.
 *
 * @since 0.1.0
 * @category keys
 */
export const quarterKey = (epochMs: number): number => {
  const r = epochMs % QUARTER_MS
  return r < 0 ? epochMs - r - QUARTER_MS : epochMs - r
}

/**
 * Resolves an IANA zone name: `Time.zone`, kept here for existing callers.
 *
 * @since 0.1.0
 * @category time zones
 */
export const zone: (name: string) => Either.Either<DateTime.TimeZone, Time.UnknownTimeZone> = Time.zone

/**
 * The zone's UTC offset in milliseconds at an instant: `Time.offsetMs`, kept here for existing callers.
 *
 * @since 0.1.0
 * @category time zones
 */
export const offsetMs: (epochMs: number, zone: DateTime.TimeZone) => number = Time.offsetMs

const offsetAt = Time.offsetMs

const alignOffset = (offset: number): number =>
  offset % QUARTER_MS === 0 ? offset : Math.round(offset / QUARTER_MS) * QUARTER_MS

const isAligned = (quarter: number, offset: number, lengthMs: number): boolean =>
  (quarter + alignOffset(offset)) % lengthMs === 0

/**
 * Whether an interval of `length` minutes starts at this instant: it is a UTC quarter and
 * either the local wall clock is on a multiple of `length` minutes since local midnight, or
 * the zone's offset changed since the previous quarter.
 *
 * Offset changes are boundaries so that intervals never overlap or skip time: on Berlin's
 * fall-back day the repeated 02:00 hour gives two intervals (`02:00+02:00` and `02:00+01:00`),
 * and Lord Howe's 30-minute shift gives one 30-minute interval instead of an overlap. For a
 * change on a quarter this is `offset(t - 1ms) !== offset(t)`; comparing with the previous
 * quarter also catches the rare change between quarters (see the module note).
 *
 * Every 60-minute boundary is a 30- and 15-minute boundary, and every quarter is a 15-minute
 * boundary, so coarser intervals are exact unions of finer ones.
 *
 * @since 0.1.0
 * @category intervals
 */
export const isBoundary = (epochMs: number, length: IntervalLength, zone: DateTime.TimeZone): boolean => {
  if (epochMs % QUARTER_MS !== 0) return false
  if (length === 15) return true
  const offset = offsetAt(epochMs, zone)
  return offsetAt(epochMs - QUARTER_MS, zone) !== offset || isAligned(epochMs, offset, length * MINUTE_MS)
}

/**
 * UTC start of the interval containing the instant.
 *
 * @since 0.1.0
 * @category intervals
 */
export const intervalStart = (epochMs: number, length: IntervalLength, zone: DateTime.TimeZone): number => {
  const quarter = quarterKey(epochMs)
  if (length === 15) return quarter
  const steps = length / 15
  const lengthMs = length * MINUTE_MS
  let candidate = quarter
  let offset = offsetAt(candidate, zone)
  // boundaries are never more than `steps` quarters apart (aligned quarters recur every `steps`
  // quarters on either side of an offset change, and the change itself is one), so the
  // last candidate needs no test
  for (let k = 0; k < steps - 1; k++) {
    const previous = offsetAt(candidate - QUARTER_MS, zone)
    if (previous !== offset || isAligned(candidate, offset, lengthMs)) return candidate
    candidate -= QUARTER_MS
    offset = previous
  }
  return candidate
}

/**
 * UTC end of the interval starting at `startMs`: the next boundary after it.
 *
 * @since 0.1.0
 * @category intervals
 */
export const intervalEnd = (startMs: number, length: IntervalLength, zone: DateTime.TimeZone): number => {
  let candidate = quarterKey(startMs) + QUARTER_MS
  if (length === 15) return candidate
  const steps = length / 15
  const lengthMs = length * MINUTE_MS
  let previous = offsetAt(candidate - QUARTER_MS, zone)
  for (let k = 0; k < steps - 1; k++) {
    const offset = offsetAt(candidate, zone)
    if (previous !== offset || isAligned(candidate, offset, lengthMs)) return candidate
    candidate += QUARTER_MS
    previous = offset
  }
  return candidate
}

/**
 * Every interval whose start lies in [fromMs, toMs), in order; they are contiguous.
 *
 * @since 0.1.0
 * @category intervals
 */
export const intervals = (
  fromMs: number,
  toMs: number,
  length: IntervalLength,
  zone: DateTime.TimeZone
): ReadonlyArray<{ readonly start: number; readonly end: number }> => {
  const out: Array<{ readonly start: number; readonly end: number }> = []
  let start = intervalStart(fromMs, length, zone)
  if (start < fromMs) start = intervalEnd(start, length, zone)
  while (start < toMs) {
    const end = intervalEnd(start, length, zone)
    out.push({ start, end })
    start = end
  }
  return out
}

/**
 * ISO-8601 local time with offset, to the second: `2026-03-29T03:00:00+02:00`; the same as
 * `Time.label`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const label: (epochMs: number, zone: DateTime.TimeZone) => string = Time.label

/**
 * A wall-clock time (month 1-12); the same as `Time.LocalParts`.
 *
 * @since 0.1.0
 * @category models
 */
export type LocalParts = Time.LocalParts

/**
 * The instant of a wall-clock time in a zone: `Time.fromLocal` with `prefer` for `repeated`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromLocal = (
  parts: Time.LocalParts,
  zone: DateTime.TimeZone,
  options?: { readonly prefer?: "earlier" | "later" | undefined }
): Either.Either<number, Time.TimestampError> => Time.fromLocal(parts, zone, { repeated: options?.prefer })

/**
 * Reads a strict ISO-8601 timestamp to UTC epoch milliseconds; the same as `Time.parseIso`
 * (an offset is taken as given; without one, the wall clock in `sourceZone`: a skipped time is
 * refused, a repeated one is the earlier instant).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTimestamp = (text: string, sourceZone: DateTime.TimeZone): Either.Either<number, Time.TimestampError> =>
  Time.parseIso(text, sourceZone)
