/**
 * Cell values: durations to integer milliseconds (exact decimal arithmetic, no float
 * rounding), counts, booleans and channels. Each parser returns the value or a reason.
 *
 * @internal
 */
import type { Domain } from "@acd-bridge/core"

type Channel = Domain.Channel

/** Why a cell can't be read. @internal */
export class Invalid {
  constructor(readonly reason: string) {}
}

/**
 * A parsed value, or `Invalid` (the value itself, not a wrapper: these run several times per
 * row, and every allocation there shows in the garbage collector's share).
 *
 * @internal
 */
export type Result<A> = A | Invalid

/**
 * A cell as a reason quotes it: whole when short, else its first 60 characters and its length,
 * so a hostile megabyte cell doesn't become a megabyte reason (kept on the run, written to
 * errors.csv, logged).
 *
 * @internal
 */
export const shown = (text: string): string => {
  if (text.length <= 80) return `"${text}"`
  const cut = /[\uD800-\uDBFF]/.test(text.charAt(59)) ? 59 : 60 // don't split a surrogate pair
  return `"${text.slice(0, cut)}…" (${text.length.toLocaleString("en-US")} characters)`
}

const ok = <A>(value: A): Result<A> => value
const fail = (reason: string): Invalid => new Invalid(reason)

/** How durations are written. @internal */
export type DurationFormat = "seconds" | "hh:mm:ss" | "ms"

/**
 * A decimal number as an integer number of thousandths, exactly: "200.1" → 200100,
 * "0.0005" → 1 (half up). Undefined when the text is not a non-negative decimal.
 */
const thousandths = (text: string, separator: "." | ","): number | undefined => {
  const sep = text.indexOf(separator)
  const whole = sep === -1 ? text : text.slice(0, sep)
  const frac = sep === -1 ? "" : text.slice(sep + 1)
  if (!/^\d+$/.test(whole) && !(whole === "" && frac !== "")) return undefined
  if (sep !== -1 && !/^\d+$/.test(frac)) return undefined
  const head = Number(`${whole || "0"}${frac.slice(0, 3).padEnd(3, "0")}`)
  const roundUp = frac.length > 3 && frac.charCodeAt(3) >= 53 /* "5" */
  const value = head + (roundUp ? 1 : 0)
  return Number.isSafeInteger(value) ? value : undefined
}

const CLOCK = /^(\d+):([0-5]\d):([0-5]\d)(?:[.,](\d{1,9}))?$/

/**
 * A duration cell as integer milliseconds. Empty is 0. `seconds` are decimal (with a decimal
 * comma when `decimalComma`), `hh:mm:ss` has unbounded hours (interval sums pass 24 h) and
 * optional fractions, `ms` is an integer or decimal number of milliseconds.
 *
 * @internal
 */
export const duration = (text: string, format: DurationFormat, decimalComma: boolean): Result<number> => {
  if (text === "") return ok(0)
  if (text.startsWith("-")) return fail(`${shown(text)} is negative; durations must be ≥ 0`)
  const separator = decimalComma ? "," : "."
  switch (format) {
    case "seconds": {
      const value = thousandths(text, separator)
      return value === undefined
        ? fail(`${shown(text)} is not a number of seconds${decimalComma ? " (decimal comma expected, e.g. 12,5)" : " (e.g. 12.5)"}`)
        : ok(value)
    }
    case "ms": {
      const value = thousandths(text, separator)
      return value === undefined ? fail(`${shown(text)} is not a number of milliseconds`) : ok(Math.round(value / 1000))
    }
    case "hh:mm:ss": {
      const m = CLOCK.exec(text)
      if (!m) return fail(`${shown(text)} is not a duration of the form hh:mm:ss`)
      const fraction = m[4] === undefined ? 0 : Math.round(Number(`0.${m[4]}`) * 1000)
      return ok(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + fraction)
    }
  }
}

/**
 * A count cell (interval layouts): a non-negative integer; empty is 0; "12.0" is 12.
 *
 * @internal
 */
export const count = (text: string, decimalComma: boolean): Result<number> => {
  if (text === "") return ok(0)
  const value = thousandths(text, decimalComma ? "," : ".")
  if (value === undefined || value % 1000 !== 0) return fail(`${shown(text)} is not a whole number ≥ 0`)
  return ok(value / 1000)
}

const TRUE = new Set(["1", "true", "t", "yes", "y", "x", "ja", "j", "wahr", "oui", "si", "sí"])
const FALSE = new Set(["0", "false", "f", "no", "n", "", "nein", "falsch", "non", "-"])

/**
 * A flag cell: 1/0, true/false, yes/no, y/n, x/empty (and ja/nein); case-insensitive.
 *
 * @internal
 */
export const flag = (text: string): Result<boolean> => {
  if (text === "1") return true
  if (text === "0" || text === "") return false
  const lower = text.toLowerCase()
  if (TRUE.has(lower)) return ok(true)
  if (FALSE.has(lower)) return ok(false)
  return fail(`${shown(text)} is not a yes/no value (1/0, true/false, yes/no, x or empty)`)
}

const CHANNELS: ReadonlyArray<Channel> = [
  "calls",
  "chats",
  "emails",
  "social_media",
  "documents",
  "cases",
  "back_office"
]

/**
 * A channel cell: a configured mapping first (exact, then case-insensitive), then the wire
 * values themselves (case-insensitive, spaces and dashes read as `_`).
 *
 * @internal
 */
export const makeChannel = (mapping: Readonly<Record<string, Channel>> | undefined) => {
  const lower = new Map<string, Channel>()
  for (const [k, v] of Object.entries(mapping ?? {})) lower.set(k.toLowerCase(), v)
  return (text: string): Result<Channel> => {
    const mapped = mapping?.[text] ?? lower.get(text.toLowerCase())
    if (mapped !== undefined) return ok(mapped)
    const wire = text.toLowerCase().replace(/[\s-]+/g, "_")
    const found = CHANNELS.find((c) => c === wire)
    if (found !== undefined) return ok(found)
    return fail(`${shown(text)} is not a channel (expected ${CHANNELS.join(", ")}, or map it with channelValues)`)
  }
}

/** The channel wire values. @internal */
export const channels = CHANNELS
