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
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

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
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/**
 * An IANA time zone name that the runtime does not know.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownTimeZone extends Data.TaggedError("UnknownTimeZone")<{ readonly input: string }> {
  override get message(): string {
    return `"${this.input}" is not an IANA time zone (for example Europe/Berlin or America/New_York)`
  }
}

/**
 * A timestamp that cannot be read: not ISO-8601, or a local time that the source zone skips.
 *
 * @since 0.1.0
 * @category errors
 */
export class TimestampError extends Data.TaggedError("TimestampError")<{
  readonly input: string
  readonly reason: "invalid-format" | "nonexistent-local-time"
  readonly zone?: string
}> {
  override get message(): string {
    switch (this.reason) {
      case "invalid-format":
        return `"${this.input}" is not an ISO-8601 timestamp; expected for example 2026-03-29T14:30:00+02:00, ` +
          `2026-03-29T12:30:00Z or 2026-03-29T14:30:00 (local time of the source)`
      case "nonexistent-local-time":
        return `${this.input} does not exist in ${this.zone ?? "the source time zone"} ` +
          `(clocks jump forward at that time); send it with an explicit offset`
    }
  }
}

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
 * Resolves an IANA zone name (case-insensitive, as the runtime's Intl accepts it).
 *
 * @since 0.1.0
 * @category time zones
 */
export const zone = (name: string): Either.Either<DateTime.TimeZone, UnknownTimeZone> => {
  const named = DateTime.zoneMakeNamed(name)
  return Option.isSome(named) ? Either.right(named.value) : Either.left(new UnknownTimeZone({ input: name }))
}

// Per zone and UTC hour: the offset when it is constant over the hour, otherwise the exact
// instant the offset changes inside it.
interface Shift {
  readonly at: number
  readonly before: number
  readonly after: number
}

// Intl.DateTimeFormat#formatToParts costs ~15µs per call, and bucketing a million records asks
// for several offsets each; a zone's offset almost never changes within an hour, so one Intl
// round per (zone, UTC hour) makes lookups a pair of Map hits. The cap keeps a long-running
// process that queries many zones and years from growing without bound; clearing everything
// when full is crude but cheap, and refilling is fast.
const OFFSET_CACHE_LIMIT = 100_000
const offsetCache = new Map<string, Map<number, number | Shift>>()
let offsetCacheSize = 0

const intlOffset = (epochMs: number, zone: DateTime.TimeZone): number =>
  DateTime.zonedOffset(DateTime.unsafeMakeZoned(epochMs, { timeZone: zone }))

const hourEntry = (hourStart: number, zone: DateTime.TimeZone): number | Shift => {
  const before = intlOffset(hourStart, zone)
  const after = intlOffset(hourStart + HOUR_MS - 1, zone)
  if (before === after) return before
  // tz transitions are on whole seconds but not always on quarters, so search to the millisecond
  let lo = hourStart
  let hi = hourStart + HOUR_MS - 1
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (intlOffset(mid, zone) === before) lo = mid
    else hi = mid
  }
  return { at: hi, before, after }
}

/**
 * The zone's UTC offset in milliseconds at an instant (local = UTC + offset).
 *
 * @since 0.1.0
 * @category time zones
 */
export const offsetMs = (epochMs: number, zone: DateTime.TimeZone): number => {
  if (zone._tag === "Offset") return zone.offset
  let hours = offsetCache.get(zone.id)
  if (hours === undefined) {
    hours = new Map()
    offsetCache.set(zone.id, hours)
  }
  const hour = Math.floor(epochMs / HOUR_MS)
  let entry = hours.get(hour)
  if (entry === undefined) {
    entry = hourEntry(hour * HOUR_MS, zone)
    if (offsetCacheSize >= OFFSET_CACHE_LIMIT) {
      offsetCache.clear()
      offsetCacheSize = 0
      hours = new Map()
      offsetCache.set(zone.id, hours)
    }
    hours.set(hour, entry)
    offsetCacheSize++
  }
  return typeof entry === "number" ? entry : epochMs < entry.at ? entry.before : entry.after
}

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
  const offset = offsetMs(epochMs, zone)
  return offsetMs(epochMs - QUARTER_MS, zone) !== offset || isAligned(epochMs, offset, length * MINUTE_MS)
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
  let offset = offsetMs(candidate, zone)
  // boundaries are never more than `steps` quarters apart (aligned quarters recur every `steps`
  // quarters on either side of an offset change, and the change itself is one), so the
  // last candidate needs no test
  for (let k = 0; k < steps - 1; k++) {
    const previous = offsetMs(candidate - QUARTER_MS, zone)
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
  let previous = offsetMs(candidate - QUARTER_MS, zone)
  for (let k = 0; k < steps - 1; k++) {
    const offset = offsetMs(candidate, zone)
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

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

const formatOffset = (offset: number): string => {
  const total = Math.round(Math.abs(offset) / 1000)
  const seconds = total % 60
  const hhmm = `${offset < 0 ? "-" : "+"}${pad(Math.floor(total / 3600), 2)}:${pad(Math.floor(total / 60) % 60, 2)}`
  return seconds === 0 ? hhmm : `${hhmm}:${pad(seconds, 2)}`
}

/**
 * ISO-8601 local time with offset, to the second: `2026-03-29T03:00:00+02:00`. UTC is
 * written `+00:00` rather than `Z` so that every label has the same shape. A historical offset
 * with seconds is written `+00:53:28`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const label = (epochMs: number, zone: DateTime.TimeZone): string => {
  const offset = offsetMs(epochMs, zone)
  const local = new Date(Math.floor((epochMs + offset) / 1000) * 1000)
  return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}` +
    `T${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}` +
    formatOffset(offset)
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

/**
 * A wall-clock time (month 1-12).
 *
 * @since 0.1.0
 * @category models
 */
export interface LocalParts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
  readonly millis: number
}

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28)
    : month === 4 || month === 6 || month === 9 || month === 11
    ? 30
    : 31

const validParts = (p: LocalParts): boolean =>
  Number.isInteger(p.year) && Number.isInteger(p.month) && Number.isInteger(p.day) && Number.isInteger(p.hours) &&
  Number.isInteger(p.minutes) && Number.isInteger(p.seconds) && Number.isInteger(p.millis) &&
  p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysInMonth(p.year, p.month) &&
  p.hours >= 0 && p.hours <= 23 && p.minutes >= 0 && p.minutes <= 59 && p.seconds >= 0 && p.seconds <= 59 &&
  p.millis >= 0 && p.millis <= 999

// the wall clock read as if it were UTC; Date.UTC would map years 0-99 to 1900-1999
const wallClockMs = (p: LocalParts): number => {
  if (p.year >= 100) return Date.UTC(p.year, p.month - 1, p.day, p.hours, p.minutes, p.seconds, p.millis)
  const date = new Date(0)
  date.setUTCFullYear(p.year, p.month - 1, p.day)
  date.setUTCHours(p.hours, p.minutes, p.seconds, p.millis)
  return date.getTime()
}

const formatParts = (p: LocalParts): string =>
  `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T${pad(p.hours, 2)}:${pad(p.minutes, 2)}:${pad(p.seconds, 2)}` +
  (p.millis === 0 ? "" : `.${pad(p.millis, 3)}`)

const resolveLocal = (
  input: string,
  parts: LocalParts,
  zone: DateTime.TimeZone,
  prefer: "earlier" | "later"
): Either.Either<number, TimestampError> => {
  const wall = wallClockMs(parts)
  // Fast path through the offset cache: with no offset change within a day either side, the
  // wall clock is exactly one instant. Only records near a transition pay for Intl below.
  const before = offsetMs(wall - DAY_MS, zone)
  if (before === offsetMs(wall + DAY_MS, zone) && offsetMs(wall - before, zone) === before) {
    return Either.right(wall - before)
  }
  const exact = DateTime.makeZoned(parts, { timeZone: zone, adjustForTimeZone: true, disambiguation: "reject" })
  if (Option.isSome(exact)) return Either.right(DateTime.toEpochMillis(exact.value))
  // "reject" refuses both gaps and repeats. In a repeat, the preferred reading keeps the wall
  // clock; in a gap it lands outside the gap on a different wall clock.
  const chosen = DateTime.makeZoned(parts, { timeZone: zone, adjustForTimeZone: true, disambiguation: prefer })
  if (Option.isSome(chosen)) {
    const epoch = DateTime.toEpochMillis(chosen.value)
    if (epoch + DateTime.zonedOffset(chosen.value) === wall) return Either.right(epoch)
  }
  return Either.left(
    new TimestampError({ input, reason: "nonexistent-local-time", zone: DateTime.zoneToString(zone) })
  )
}

/**
 * The instant of a wall-clock time in a zone. A time the zone skips (spring-forward gap)
 * fails with `"nonexistent-local-time"`; a time it repeats (fall-back) gives the `prefer`red
 * of the two instants (default `"earlier"`). Invalid parts fail with `"invalid-format"`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromLocal = (
  parts: LocalParts,
  zone: DateTime.TimeZone,
  options?: { readonly prefer?: "earlier" | "later" | undefined }
): Either.Either<number, TimestampError> =>
  validParts(parts)
    ? resolveLocal(formatParts(parts), parts, zone, options?.prefer ?? "earlier")
    : Either.left(new TimestampError({ input: formatParts(parts), reason: "invalid-format" }))

/**
 * Reads an ISO-8601 timestamp to UTC epoch milliseconds.
 *
 * With an offset or `Z` it is taken as given. Without one (`2026-03-29T02:30:00`, a space
 * instead of `T` and fractional seconds allowed; digits beyond milliseconds are truncated) it
 * is a wall-clock time in `sourceZone`: a time the zone skips (spring-forward gap) fails with
 * `"nonexistent-local-time"`, and a time it repeats (fall-back) is read as the earlier of the
 * two instants, i.e. still in summer time: the text alone cannot tell them apart, and the
 * earlier one is what `Temporal` and most libraries choose.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTimestamp = (text: string, sourceZone: DateTime.TimeZone): Either.Either<number, TimestampError> => {
  const m = TIMESTAMP.exec(text)
  if (m === null) return Either.left(new TimestampError({ input: text, reason: "invalid-format" }))
  const parts: LocalParts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hours: Number(m[4]),
    minutes: Number(m[5]),
    seconds: m[6] === undefined ? 0 : Number(m[6]),
    millis: m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0").slice(0, 3))
  }
  if (!validParts(parts)) return Either.left(new TimestampError({ input: text, reason: "invalid-format" }))
  if (m[8] !== undefined) return Either.right(wallClockMs(parts))
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10])
    const offsetMinutes = m[11] === undefined ? 0 : Number(m[11])
    if (offsetHours > 23 || offsetMinutes > 59) {
      return Either.left(new TimestampError({ input: text, reason: "invalid-format" }))
    }
    const sign = m[9] === "-" ? -1 : 1
    return Either.right(wallClockMs(parts) - sign * (offsetHours * HOUR_MS + offsetMinutes * MINUTE_MS))
  }
  return resolveLocal(text, parts, sourceZone, "earlier")
}
