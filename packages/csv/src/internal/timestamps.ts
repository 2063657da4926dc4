/**
 * Timestamp parsing for CSV cells: ISO-8601, patterns such as `DD.MM.YYYY HH:mm`, epoch
 * seconds or milliseconds. Wall-clock times are resolved in the source zone; a time in a
 * spring-forward gap is rejected, a time in a repeated (fall-back) hour is reported as
 * ambiguous with both candidates so the caller can choose.
 *
 * Wall-clock times are resolved with core's `Bucketing.fromLocal` (one implementation of the DST
 * rules for the whole engine), cached per local hour: an hour whose first and last millisecond
 * resolve to the same offset without ambiguity has one offset throughout; any other hour (a
 * transition inside it) is resolved row by row.
 *
 * @internal
 */
import { Bucketing } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import { shown } from "./values.js"

/** The result of parsing one timestamp. @internal */
export type Parsed =
  | { readonly _tag: "Instant"; readonly ms: number; readonly local: number }
  | { readonly _tag: "Ambiguous"; readonly earlier: number; readonly later: number; readonly local: number }
  | { readonly _tag: "Invalid"; readonly reason: string }

const invalid = (reason: string): Parsed => ({ _tag: "Invalid", reason })

/** A compiled timestamp format. @internal */
export interface TimestampParser {
  readonly format: string
  readonly parse: (text: string) => Parsed
}

const HOUR = 3_600_000

interface Parts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
  readonly millis: number
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Wall-clock parts as epoch ms of the same wall clock in UTC, or undefined when out of range. */
const localMillis = (
  year: number,
  month: number,
  day: number,
  hours: number,
  minutes: number,
  seconds: number,
  millis: number
): number | undefined => {
  if (month < 1 || month > 12 || day < 1 || hours > 23 || minutes > 59 || seconds > 59) return undefined
  const leap = month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)
  if (day > DAYS[month - 1]! + (leap ? 1 : 0)) return undefined
  return Date.UTC(year, month - 1, day, hours, minutes, seconds, millis)
}

type HourInfo = { readonly offset: number } | "irregular"

/**
 * Resolves wall-clock times (as "local epoch ms": the wall clock read as if it were UTC) in one
 * zone with core's `Bucketing.fromLocal`, cached per local hour.
 *
 * @internal
 */
export const makeResolver = (zone: DateTime.TimeZone) => {
  const cache = new Map<number, HourInfo>()

  const candidates = (local: number): readonly [number, number] | undefined => {
    const d = new Date(local)
    const t = {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hours: d.getUTCHours(),
      minutes: d.getUTCMinutes(),
      seconds: d.getUTCSeconds(),
      millis: d.getUTCMilliseconds()
    }
    const earlier = Bucketing.fromLocal(t, zone, { prefer: "earlier" })
    const later = Bucketing.fromLocal(t, zone, { prefer: "later" })
    return Either.isRight(earlier) && Either.isRight(later) ? [earlier.right, later.right] : undefined
  }

  const slow = (local: number): Parsed => {
    const found = candidates(local)
    if (found === undefined) {
      return invalid(`does not exist in ${DateTime.zoneToString(zone)} (the clocks skip it when daylight saving time starts)`)
    }
    const [earlier, later] = found
    return earlier === later ? { _tag: "Instant", ms: earlier, local } : { _tag: "Ambiguous", earlier, later, local }
  }

  const hourInfo = (hour: number): HourInfo => {
    const start = candidates(hour * HOUR)
    const end = candidates(hour * HOUR + HOUR - 1)
    if (start === undefined || end === undefined || start[0] !== start[1] || end[0] !== end[1]) return "irregular"
    const a = hour * HOUR - start[0]
    const b = hour * HOUR + HOUR - 1 - end[0]
    return a === b ? { offset: a } : "irregular"
  }

  return (local: number): Parsed => {
    const hour = Math.floor(local / HOUR)
    let info = cache.get(hour)
    if (info === undefined) {
      if (cache.size > 200_000) cache.clear()
      info = hourInfo(hour)
      cache.set(hour, info)
    }
    return info === "irregular" ? slow(local) : { _tag: "Instant", ms: local - info.offset, local }
  }
}

const fraction = (text: string | undefined): number => text === undefined ? 0 : Math.floor(Number(`0.${text}`) * 1000)

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

const parseOffset = (text: string): number => {
  if (text === "Z" || text === "z") return 0
  const sign = text[0] === "-" ? -1 : 1
  const digits = text.slice(1).replace(":", "")
  const hours = Number(digits.slice(0, 2))
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
  return sign * (hours * 60 + minutes) * 60_000
}

const TOKENS: ReadonlyArray<readonly [string, string, keyof Parts]> = [
  ["YYYY", "(\\d{4})", "year"],
  ["SSS", "(\\d{1,3})", "millis"],
  ["MM", "(\\d{2})", "month"],
  ["DD", "(\\d{2})", "day"],
  ["HH", "(\\d{2})", "hours"],
  ["mm", "(\\d{2})", "minutes"],
  ["ss", "(\\d{2})", "seconds"],
  ["M", "(\\d{1,2})", "month"],
  ["D", "(\\d{1,2})", "day"],
  ["H", "(\\d{1,2})", "hours"]
]

/**
 * Compiles a pattern of `YYYY MM M DD D HH H mm ss SSS` and literal characters into a regular
 * expression and the order of its groups. Undefined when the pattern lacks a date part.
 *
 * @internal
 */
export const compilePattern = (
  pattern: string
): { readonly regex: RegExp; readonly fields: ReadonlyArray<keyof Parts> } | undefined => {
  let regex = "^"
  const fields: Array<keyof Parts> = []
  let i = 0
  outer: while (i < pattern.length) {
    for (const [token, group, field] of TOKENS) {
      if (pattern.startsWith(token, i)) {
        if (fields.includes(field)) return undefined
        regex += group
        fields.push(field)
        i += token.length
        continue outer
      }
    }
    const ch = pattern[i]!
    regex += /\s/.test(ch) ? "\\s+" : ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")
    i++
  }
  if (!fields.includes("year") || !fields.includes("month") || !fields.includes("day")) return undefined
  return { regex: new RegExp(`${regex}$`), fields }
}

/** Named formats besides patterns. @internal */
export const namedFormats = ["iso", "epoch-seconds", "epoch-millis"] as const

/** Whether `format` is a named format or a valid pattern. @internal */
export const isValidFormat = (format: string): boolean =>
  (namedFormats as ReadonlyArray<string>).includes(format) || compilePattern(format) !== undefined

/**
 * A parser for one format, resolving wall-clock times in `zone`.
 *
 * @internal
 */
export const makeParser = (format: string, zone: DateTime.TimeZone): TimestampParser => {
  const resolve = makeResolver(zone)
  const expected = `expected ${format === "iso" ? "an ISO-8601 timestamp such as 2026-03-02T09:15:00" : format}`
  if (format === "epoch-seconds" || format === "epoch-millis") {
    const factor = format === "epoch-seconds" ? 1000 : 1
    return {
      format,
      parse: (text) => {
        if (!/^\d+(\.\d+)?$/.test(text)) return invalid(`${shown(text)} is not a number of ${format.slice(6)} (${expected})`)
        const ms = Math.round(Number(text) * factor)
        return { _tag: "Instant", ms, local: ms }
      }
    }
  }
  if (format === "iso") {
    return {
      format,
      parse: (text) => {
        const m = ISO.exec(text)
        if (!m) return invalid(`${shown(text)} is not a timestamp (${expected})`)
        const local = localMillis(
          Number(m[1]),
          Number(m[2]),
          Number(m[3]),
          m[4] === undefined ? 0 : Number(m[4]),
          m[5] === undefined ? 0 : Number(m[5]),
          m[6] === undefined ? 0 : Number(m[6]),
          fraction(m[7])
        )
        if (local === undefined) return invalid(`${shown(text)} is not a valid date and time`)
        if (m[8] !== undefined) {
          const ms = local - parseOffset(m[8])
          return { _tag: "Instant", ms, local }
        }
        return withText(resolve(local), text)
      }
    }
  }
  const compiled = compilePattern(format)
  if (compiled === undefined) throw new Error(`invalid timestamp format ${format}`)
  const { fields, regex } = compiled
  // the group of each part (0: not in the pattern)
  const group = (field: keyof Parts) => fields.indexOf(field) + 1
  const [y, mo, d, h, mi, se, ms] = [
    group("year"),
    group("month"),
    group("day"),
    group("hours"),
    group("minutes"),
    group("seconds"),
    group("millis")
  ]
  return {
    format,
    parse: (text) => {
      const m = regex.exec(text)
      if (!m) return invalid(`${shown(text)} does not match the format ${format}`)
      const local = localMillis(
        Number(m[y]),
        Number(m[mo]),
        Number(m[d]),
        h === 0 ? 0 : Number(m[h]),
        mi === 0 ? 0 : Number(m[mi]),
        se === 0 ? 0 : Number(m[se]),
        ms === 0 ? 0 : Number(m[ms]!.padEnd(3, "0"))
      )
      if (local === undefined) return invalid(`${shown(text)} is not a valid date and time`)
      return withText(resolve(local), text)
    }
  }
}

const withText = (parsed: Parsed, text: string): Parsed =>
  parsed._tag === "Invalid" ? invalid(`${shown(text)} ${parsed.reason}`) : parsed
