/**
 * Timestamp parsing for CSV cells: ISO-8601, patterns such as `DD.MM.YYYY HH:mm`, epoch
 * seconds or milliseconds. Calendar checks, ISO-8601 and the resolution of wall-clock times in
 * the source zone are core's `Time` (one set of rules for the whole engine): a time in a
 * spring-forward gap is rejected, a time in a repeated (fall-back) hour is reported as
 * ambiguous with both candidates so the caller can choose (see `mapping.ts`: the first or
 * second occurrence).
 *
 * @internal
 */
import { Time } from "@acd-bridge/core"
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

type Parts = Time.LocalParts

/**
 * Resolves wall-clock times (as local milliseconds: the wall clock read as if it were UTC) in
 * one zone with core's `Time.resolve`.
 *
 * @internal
 */
export const makeResolver = (zone: DateTime.TimeZone) => {
  const gap = `does not exist in ${DateTime.zoneToString(zone)} (the clocks skip it when daylight saving time starts)`
  return (local: number): Parsed => {
    const resolved = Time.resolve(local, zone)
    switch (resolved._tag) {
      case "Unique":
        return { _tag: "Instant", ms: resolved.epochMs, local }
      case "Repeated":
        return { _tag: "Ambiguous", earlier: resolved.earlier, later: resolved.later, local }
      case "Skipped":
        return invalid(gap)
    }
  }
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
        const reading = Time.readIso(text, { lenient: true })
        if (Either.isLeft(reading)) {
          return invalid(
            reading.left.calendar === true
              ? `${shown(text)} is not a valid date and time`
              : `${shown(text)} is not a timestamp (${expected})`
          )
        }
        const { localMs, offsetMs } = reading.right
        if (offsetMs !== undefined) return { _tag: "Instant", ms: localMs - offsetMs, local: localMs }
        return withText(resolve(localMs), text)
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
      const local = Time.localMsOf({
        year: Number(m[y]),
        month: Number(m[mo]),
        day: Number(m[d]),
        hours: h === 0 ? 0 : Number(m[h]),
        minutes: mi === 0 ? 0 : Number(m[mi]),
        seconds: se === 0 ? 0 : Number(m[se]),
        millis: ms === 0 ? 0 : Number(m[ms]!.padEnd(3, "0"))
      })
      if (local === undefined) return invalid(`${shown(text)} is not a valid date and time`)
      return withText(resolve(local), text)
    }
  }
}

const withText = (parsed: Parsed, text: string): Parsed =>
  parsed._tag === "Invalid" ? invalid(`${shown(text)} ${parsed.reason}`) : parsed
