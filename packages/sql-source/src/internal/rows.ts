/**
 * Source rows (column aliases as documented) decoded into the core's records.
 */
import { Domain } from "@acd-bridge/core"
import type * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import type { Row } from "./source.js"
import type { TimeContext } from "./values.js"
import { describe, readBoolean, readNumber, readText, readTimestamp } from "./values.js"

/** @internal */
export type Layout = "contact" | "interval" | "status"

/** A column the queries must or may return. @internal */
export interface ColumnSpec {
  readonly name: string
  readonly required: boolean
  /** what the administrator reads when it is missing or mistyped */
  readonly expects: string
  readonly accepts: ReadonlyArray<"text" | "number" | "boolean" | "timestamp" | "date">
}

const channels = Domain.Channel.literals.join(", ")
const text = (name: string, expects: string): ColumnSpec => ({
  name,
  required: true,
  expects,
  accepts: ["text", "number"]
})
const time = (name: string, required = true): ColumnSpec => ({
  name,
  required,
  expects: "a timestamp (with an offset, or wall-clock time in the configured zone, or epoch seconds)",
  accepts: ["timestamp", "text", "number"]
})
const count = (name: string, required = true): ColumnSpec => ({
  name,
  required,
  expects: "a whole number ≥ 0",
  accepts: ["number"]
})
const seconds = (name: string, required = true, what = "seconds"): ColumnSpec => ({
  name,
  required,
  expects: `${what} as a number ≥ 0 (decimals allowed)`,
  accepts: ["number"]
})
const flag = (name: string, required = true): ColumnSpec => ({
  name,
  required,
  expects: "true/false or 1/0",
  accepts: ["boolean", "number", "text"]
})

const queueColumns: ReadonlyArray<ColumnSpec> = [
  text("queue_identifier", "the queue's id in the source (text or number)"),
  { ...text("queue_name", "the queue's name (text)"), accepts: ["text", "number"] },
  { ...text("channel", `one of ${channels}`), accepts: ["text"] }
]

/** The columns of each layout. @internal */
export const columnSpecs = (layout: Layout, intervalMinutesConfigured: boolean): ReadonlyArray<ColumnSpec> => {
  switch (layout) {
    case "contact":
      return [
        ...queueColumns,
        time("timestamp"),
        flag("offered"),
        flag("handled"),
        seconds("duration", true, "the contact's duration in seconds"),
        seconds("talk_seconds", false),
        seconds("hold_seconds", false),
        seconds("after_call_work_seconds", false),
        seconds("wait_seconds", false),
        flag("abandoned", false),
        flag("short_abandoned", false),
        flag("breakout", false),
        flag("answered_in_threshold", false)
      ]
    case "interval":
      return [
        ...queueColumns,
        time("interval_start"),
        { ...count("interval_minutes", !intervalMinutesConfigured), expects: "15, 30 or 60" },
        count("offered"),
        count("handled"),
        seconds("duration", true, "the summed duration of the handled contacts in seconds"),
        seconds("unhandled_duration", false, "the summed duration of contacts not handled in seconds"),
        seconds("talk_seconds", false),
        seconds("hold_seconds", false),
        seconds("after_call_work_seconds", false),
        seconds("wait_seconds", false),
        count("abandoned", false),
        count("short_abandoned", false),
        count("breakout", false),
        count("answered_in_threshold", false)
      ]
    case "status":
      return [
        text("agent_identifier", "the agent's id in the source (text or number)"),
        text("activity_identifier", "the activity's (status, reason code) id in the source (text or number)"),
        time("start_time"),
        { ...time("end_time"), expects: "a timestamp, or NULL while the activity is ongoing" }
      ]
  }
}

/** Column names compared case-insensitively (drivers differ in how they fold aliases). @internal */
export const normalize = (row: Row): Map<string, unknown> => {
  const m = new Map<string, unknown>()
  for (const key of Object.keys(row)) m.set(key.toLowerCase(), row[key])
  return m
}

/** A row problem: which column and why. @internal */
export interface RowProblem {
  readonly column: string
  readonly reason: string
}

class Problem {
  constructor(readonly column: string, readonly reason: string) {}
}

const get = (row: Map<string, unknown>, column: string): unknown => {
  if (!row.has(column)) throw new Problem(column, "the column is missing from the result")
  const v = row.get(column)
  if (v === null || v === undefined) throw new Problem(column, "it is empty (NULL)")
  return v
}
const optional = (row: Map<string, unknown>, column: string): unknown => {
  const v = row.get(column)
  return v === null || v === undefined ? undefined : v
}
const orThrow = <A>(column: string, e: Either.Either<A, string>): A => {
  if (Either.isLeft(e)) throw new Problem(column, e.left)
  return e.right
}

/** a UTF-16 surrogate without its other half */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Identifiers and names are kept verbatim — formula-like text, control characters, any script
 * — except what can't be kept as it was: NUL (PostgreSQL stores can't hold it), U+FFFD (what
 * drivers make of bytes that are not valid text in the source's encoding: two different
 * broken names would become one queue), and lone UTF-16 surrogates (malformed text).
 */
const checkedText = (column: string, s: string): string => {
  if (s.length > 255) throw new Problem(column, "it is longer than 255 characters")
  if (s.includes("\u0000")) throw new Problem(column, `${describe(s)} contains a NUL character (U+0000), which can't be stored`)
  if (s.includes("\uFFFD")) {
    throw new Problem(
      column,
      `${describe(s)} contains U+FFFD, the replacement for bytes that are not valid text ` +
        "(is the source's text in another encoding than the database declares?)"
    )
  }
  if (loneSurrogate.test(s)) throw new Problem(column, `${describe(s)} contains a lone UTF-16 surrogate: malformed text`)
  return s
}

const textOf = (row: Map<string, unknown>, column: string, min = 1): string => {
  const s = orThrow(column, readText(get(row, column)))
  if (s.length < min) throw new Problem(column, "it is empty")
  return checkedText(column, s)
}
const queueNameOf = (row: Map<string, unknown>): string => {
  const v = optional(row, "queue_name")
  if (!row.has("queue_name")) throw new Problem("queue_name", "the column is missing from the result")
  if (v === undefined) return ""
  return checkedText("queue_name", orThrow("queue_name", readText(v)))
}
const channelOf = (row: Map<string, unknown>): Domain.Channel => {
  const v = get(row, "channel")
  const s = typeof v === "string" ? v.trim().toLowerCase() : v
  const found = Domain.Channel.literals.find((c) => c === s)
  if (!found) throw new Problem("channel", `${describe(v)} is not a channel (expected one of ${channels})`)
  return found
}
const secondsToMs = (column: string, v: unknown): number => {
  const n = orThrow(column, readNumber(v))
  if (n < 0) throw new Problem(column, `${n} is negative`)
  const ms = Math.round(n * 1000)
  // kept as integer milliseconds: past 2^53 they are no longer exact
  if (!Number.isSafeInteger(ms)) throw new Problem(column, `${n} seconds is too large`)
  return ms
}
const countOf = (column: string, v: unknown): number => {
  const n = orThrow(column, readNumber(v))
  if (!Number.isInteger(n) || n < 0) throw new Problem(column, `${n} is not a whole number ≥ 0`)
  if (!Number.isSafeInteger(n)) throw new Problem(column, `${n} is too large`)
  return n
}
const timeOf = (column: string, v: unknown, ctx: TimeContext): DateTime.Utc => orThrow(column, readTimestamp(v, ctx))

const optionalMs = (row: Map<string, unknown>, column: string): number | undefined => {
  const v = optional(row, column)
  return v === undefined ? undefined : secondsToMs(column, v)
}
const optionalFlag = (row: Map<string, unknown>, column: string): boolean | undefined => {
  const v = optional(row, column)
  return v === undefined ? undefined : orThrow(column, readBoolean(v))
}

const attempt = <A>(f: () => A): Either.Either<A, RowProblem> => {
  try {
    return Either.right(f())
  } catch (e) {
    if (e instanceof Problem) return Either.left({ column: e.column, reason: e.reason })
    throw e
  }
}

/** @internal */
export const decodeContact = (row: Row, ctx: TimeContext): Either.Either<Domain.ContactEvent, RowProblem> =>
  attempt(() => {
    const r = normalize(row)
    const event: {
      -readonly [K in keyof Domain.ContactEvent]: Domain.ContactEvent[K]
    } = {
      queueIdentifier: textOf(r, "queue_identifier"),
      queueName: queueNameOf(r),
      channel: channelOf(r),
      timestamp: timeOf("timestamp", get(r, "timestamp"), ctx),
      offered: orThrow("offered", readBoolean(get(r, "offered"))),
      handled: orThrow("handled", readBoolean(get(r, "handled"))),
      durationMs: secondsToMs("duration", get(r, "duration"))
    }
    const talk = optionalMs(r, "talk_seconds")
    if (talk !== undefined) event.talkMs = talk
    const hold = optionalMs(r, "hold_seconds")
    if (hold !== undefined) event.holdMs = hold
    const acw = optionalMs(r, "after_call_work_seconds")
    if (acw !== undefined) event.afterCallWorkMs = acw
    const wait = optionalMs(r, "wait_seconds")
    if (wait !== undefined) event.waitMs = wait
    const abandoned = optionalFlag(r, "abandoned")
    if (abandoned !== undefined) event.abandoned = abandoned
    const shortAbandoned = optionalFlag(r, "short_abandoned")
    if (shortAbandoned !== undefined) event.shortAbandoned = shortAbandoned
    const breakout = optionalFlag(r, "breakout")
    if (breakout !== undefined) event.breakout = breakout
    const inThreshold = optionalFlag(r, "answered_in_threshold")
    if (inThreshold !== undefined) event.answeredInThreshold = inThreshold
    return event
  })

/** @internal */
export const decodeAggregate = (
  row: Row,
  ctx: TimeContext,
  defaultMinutes: Domain.IntervalMinutes | undefined
): Either.Either<Domain.IntervalAggregate, RowProblem> =>
  attempt(() => {
    const r = normalize(row)
    const minutesValue = optional(r, "interval_minutes")
    let lengthMinutes: Domain.IntervalMinutes
    if (minutesValue === undefined) {
      if (defaultMinutes === undefined) {
        throw new Problem("interval_minutes", "it is missing and contacts.intervalMinutes is not configured")
      }
      lengthMinutes = defaultMinutes
    } else {
      const n = countOf("interval_minutes", minutesValue)
      if (n !== 15 && n !== 30 && n !== 60) throw new Problem("interval_minutes", `${n} is not 15, 30 or 60`)
      lengthMinutes = n
    }
    const start = timeOf("interval_start", get(r, "interval_start"), ctx)
    const ms = (start.epochMillis % (15 * 60_000) + 15 * 60_000) % (15 * 60_000)
    if (ms !== 0) {
      throw new Problem("interval_start", `${describe(get(r, "interval_start"))} is not on a quarter-hour boundary`)
    }
    const optMs = (c: string) => optionalMs(r, c) ?? 0
    const optCount = (c: string) => {
      const v = optional(r, c)
      return v === undefined ? 0 : countOf(c, v)
    }
    return {
      queueIdentifier: textOf(r, "queue_identifier"),
      queueName: queueNameOf(r),
      channel: channelOf(r),
      start,
      lengthMinutes,
      offered: countOf("offered", get(r, "offered")),
      handled: countOf("handled", get(r, "handled")),
      handlingMs: secondsToMs("duration", get(r, "duration")),
      unhandledMs: optMs("unhandled_duration"),
      talkMs: optMs("talk_seconds"),
      holdMs: optMs("hold_seconds"),
      afterCallWorkMs: optMs("after_call_work_seconds"),
      waitMs: optMs("wait_seconds"),
      abandoned: optCount("abandoned"),
      shortAbandoned: optCount("short_abandoned"),
      breakout: optCount("breakout"),
      answeredInThreshold: optCount("answered_in_threshold")
    }
  })

/** @internal */
export const decodeStatus = (row: Row, ctx: TimeContext): Either.Either<Domain.AgentStatus, RowProblem> =>
  attempt(() => {
    const r = normalize(row)
    if (!r.has("end_time")) throw new Problem("end_time", "the column is missing from the result")
    const endValue = optional(r, "end_time")
    const start = timeOf("start_time", get(r, "start_time"), ctx)
    const end = endValue === undefined ? null : timeOf("end_time", endValue, ctx)
    if (end !== null && end.epochMillis < start.epochMillis) {
      throw new Problem("end_time", "it is before start_time")
    }
    return {
      agentIdentifier: textOf(r, "agent_identifier"),
      activityIdentifier: textOf(r, "activity_identifier"),
      start,
      end
    }
  })
