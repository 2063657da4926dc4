/**
 * Five9's time formats. Report values are wall-clock times of the data centre's zone without an
 * offset (`Fri, 21 Aug 2026 09:00:12`, weekday optional; Statistics WS `2026-08-21 09:00:12`);
 * durations are `HH:MM:SS`, sometimes with milliseconds (`00:00:04.235`), hours may pass 24.
 * The text is Five9's; the wall clock is resolved with core's `Time` (a time the DST change
 * skips is refused, a repeated one is the earlier instant).
 */
import { Time } from "@acd-bridge/core"
import type * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

const REPORT = /^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})\s*$/
const ISO_LOCAL = /^\s*(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/

/**
 * A Five9 timestamp (report or statistics format) in `zone` as epoch ms, or the reason it
 * can't be read (unknown format, or a time the zone skips).
 */
export const parseTimestamp = (text: string, zone: DateTime.TimeZone): Either.Either<number, string> => {
  const m = REPORT.exec(text)
  if (m) {
    const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase())
    if (month < 0) return Either.left(`"${text}" has an unknown month`)
    return Either.mapLeft(
      Time.fromLocal({
        year: Number(m[3]),
        month: month + 1,
        day: Number(m[1]),
        hours: Number(m[4]),
        minutes: Number(m[5]),
        seconds: Number(m[6]),
        millis: 0
      }, zone),
      (e) =>
        e.reason === "nonexistent-local-time"
          ? `"${text}" does not exist in the data centre's zone (skipped by the DST change)`
          : `"${text}" is not a valid date and time`
    )
  }
  const i = ISO_LOCAL.exec(text)
  if (i) {
    return Either.mapLeft(
      Time.fromLocal({
        year: Number(i[1]),
        month: Number(i[2]),
        day: Number(i[3]),
        hours: Number(i[4]),
        minutes: Number(i[5]),
        seconds: i[6] === undefined ? 0 : Number(i[6]),
        millis: 0
      }, zone),
      () => `"${text}" is not a valid date and time in the data centre's zone`
    )
  }
  return Either.left(`"${text}" is not a Five9 timestamp (expected like "Fri, 21 Aug 2026 09:00:12")`)
}

const DURATION = /^\s*(\d+):([0-5]\d):([0-5]\d)(?:\.(\d{1,3}))?\s*$/

/** `HH:MM:SS[.mmm]` as ms; an empty cell is 0. */
export const parseDuration = (text: string | undefined): Either.Either<number, string> => {
  if (text === undefined || text.trim() === "") return Either.right(0)
  const m = DURATION.exec(text)
  if (!m) return Either.left(`"${text}" is not a duration (HH:MM:SS)`)
  const millis = m[4] === undefined ? 0 : Number(m[4].padEnd(3, "0"))
  return Either.right(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + millis)
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0")

/** Epoch ms as a Five9 report timestamp in `zone` (`Fri, 21 Aug 2026 09:00:12`). */
export const formatTimestamp = (ms: number, zone: DateTime.TimeZone): string => {
  const d = new Date(Time.toLocalMs(ms, zone))
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${
    pad(d.getUTCHours())
  }:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** Epoch ms as a Statistics WS local time (`2026-08-21 09:00:12`). */
export const formatStatisticsTime = (ms: number, zone: DateTime.TimeZone): string =>
  Time.formatLocal(Math.floor(ms / 1000) * 1000, zone)

/** ms as `HH:MM:SS` (or `HH:MM:SS.mmm`). */
export const formatDuration = (ms: number, withMillis = false): string => {
  const s = Math.floor(ms / 1000)
  const base = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
  return withMillis ? `${base}.${pad(ms % 1000, 3)}` : base
}
