/**
 * Reading driver values (timestamps, flags, numbers) and writing the window parameters.
 * Timestamp text is read and resolved in the source zone with core's `Time`, as every
 * connector does.
 */
import { Time } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/** @internal */
export type NumericTimestamps = "epoch_seconds" | "epoch_millis"

/** @internal */
export interface TimeContext {
  /** zone of timestamps that carry no offset */
  readonly zone: DateTime.TimeZone
  /** what a bare number in a timestamp column means */
  readonly numeric: NumericTimestamps
}

const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid date" : value.toISOString()
  if (typeof value === "bigint") return value.toString()
  return String(value)
}

/** A short, human description of a driver value for error messages. @internal */
export const describe = show

const fromEpoch = (n: number, numeric: NumericTimestamps): Either.Either<DateTime.Utc, string> => {
  const ms = numeric === "epoch_seconds" ? n * 1000 : n
  if (!Number.isFinite(ms)) return Either.left(`${n} is not a time`)
  return Option.match(DateTime.make(Math.round(ms)), {
    onNone: () => Either.left(`${n} is out of range as ${numeric === "epoch_seconds" ? "epoch seconds" : "epoch ms"}`),
    onSome: (d) => Either.right(DateTime.toUtc(d))
  })
}

/**
 * Reads a timestamp: a driver `Date` is an instant; a number is epoch seconds or ms; a
 * string with an offset (`Z`, `+02:00`, `+0200`, `+02`) is taken as given; one without an
 * offset is wall-clock time in the source zone, and a wall-clock time that does not exist
 * there (the spring-forward gap) is refused.
 *
 * @internal
 */
export const readTimestamp = (value: unknown, ctx: TimeContext): Either.Either<DateTime.Utc, string> => {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? Either.left("it is an invalid date") : Either.right(DateTime.unsafeMake(value))
  }
  if (typeof value === "number") return fromEpoch(value, ctx.numeric)
  if (typeof value === "bigint") return fromEpoch(Number(value), ctx.numeric)
  if (typeof value !== "string") return Either.left(`${show(value)} is not a timestamp`)
  const text = value.trim()
  if (/^-?\d+(\.\d+)?$/.test(text)) return fromEpoch(Number(text), ctx.numeric)
  const reading = Time.readIso(text, { lenient: true })
  if (Either.isLeft(reading)) {
    return Either.left(
      reading.left.calendar === true
        ? `${show(value)} is not a valid date and time`
        : `${show(value)} is not a timestamp (expected e.g. 2026-03-02T09:15:00Z)`
    )
  }
  const { localMs, offsetMs } = reading.right
  if (offsetMs !== undefined) return Either.right(Time.utc(localMs - offsetMs))
  const resolved = Time.resolve(localMs, ctx.zone)
  switch (resolved._tag) {
    case "Unique":
      return Either.right(Time.utc(resolved.epochMs))
    case "Repeated":
      // the text can't tell the two apart: the earlier one, as core's Time reads it
      return Either.right(Time.utc(resolved.earlier))
    case "Skipped":
      return Either.left(
        `${show(value)} does not exist in the time zone ${DateTime.zoneToString(ctx.zone)} (clocks skip it)`
      )
  }
}

const truthy = new Set(["true", "t", "1", "yes", "y"])
const falsy = new Set(["false", "f", "0", "no", "n"])

/** true/false, 1/0 (number, bigint or text), t/f, yes/no. @internal */
export const readBoolean = (value: unknown): Either.Either<boolean, string> => {
  if (typeof value === "boolean") return Either.right(value)
  if (typeof value === "number" || typeof value === "bigint") {
    if (Number(value) === 1) return Either.right(true)
    if (Number(value) === 0) return Either.right(false)
  }
  if (typeof value === "string") {
    const t = value.trim().toLowerCase()
    if (truthy.has(t)) return Either.right(true)
    if (falsy.has(t)) return Either.right(false)
  }
  if (value instanceof Uint8Array && value.length === 1) return Either.right(value[0] === 1)
  return Either.left(`${show(value)} is not true/false or 1/0`)
}

/**
 * Numeric text: one way only to match each digit (`\d+(\.\d*)?`, not `\d+\.?\d*`), so a
 * megabyte of digits followed by a letter fails in linear time instead of backtracking for
 * hours.
 */
const numericText = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/

/**
 * A finite number from a number, bigint or numeric text (drivers return DECIMAL and BIGINT as
 * text). NaN and ±Infinity are refused, and so are integers past 2^53 and text that only
 * overflows to Infinity: they can't be kept exactly.
 *
 * @internal
 */
export const readNumber = (value: unknown): Either.Either<number, string> => {
  if (typeof value === "number") return Number.isFinite(value) ? Either.right(value) : Either.left(`${value} is not a number`)
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Either.right(Number(value))
      : Either.left(`${show(value)} is too large to be kept exactly`)
  }
  if (typeof value === "string" && numericText.test(value)) {
    const n = Number(value)
    return Number.isFinite(n) ? Either.right(n) : Either.left(`${show(value)} is too large`)
  }
  return Either.left(`${show(value)} is not a number`)
}

/** A text identifier: text, or a number/bigint written as text. @internal */
export const readText = (value: unknown): Either.Either<string, string> => {
  if (typeof value === "string") return Either.right(value)
  if (typeof value === "number" && Number.isFinite(value)) return Either.right(String(value))
  if (typeof value === "bigint") return Either.right(value.toString())
  if (value instanceof Uint8Array) return Either.left("it is binary data, not text")
  return Either.left(`${show(value)} is not text`)
}

/**
 * How `:from`/`:to` are passed.
 *
 * - `iso`: ISO-8601 text with its offset (`2026-03-02T09:00:00.000Z`, or `…+01:00` in a zone)
 * - `timestamp`: wall-clock text without offset in the zone (`2026-03-02 10:00:00`)
 * - `epoch_seconds` / `epoch_millis`: numbers
 *
 * @internal
 */
export type ParameterFormat = "iso" | "timestamp" | "epoch_seconds" | "epoch_millis"

/** @internal */
export const formatParameter = (
  instant: DateTime.Utc,
  format: ParameterFormat,
  zone: DateTime.TimeZone
): string | number => {
  const ms = DateTime.toEpochMillis(instant)
  switch (format) {
    case "epoch_seconds":
      return ms / 1000
    case "epoch_millis":
      return ms
    case "iso": {
      if (DateTime.zoneToString(zone) === "UTC") return DateTime.formatIso(instant)
      return DateTime.formatIsoOffset(DateTime.setZone(instant, zone))
    }
    case "timestamp":
      return Time.formatLocal(ms, zone)
  }
}
