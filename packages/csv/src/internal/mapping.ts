/**
 * Turns parsed rows into domain records, following the configured column mapping. A mapping is
 * compiled once per file (after its header row); each row then adds its record to the chunk
 * being built (`Sink`) or yields the first problem found in it (column and reason), adding
 * nothing.
 *
 * @internal
 */
import { Bucketing, Time } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import type * as DateTime from "effect/DateTime"
import type { Column, CsvConfig, TimestampColumns } from "../CsvConfig.js"
import type { ContactColumns } from "./contactColumns.js"
import type { Parsed, TimestampParser } from "./timestamps.js"
import { makeParser } from "./timestamps.js"
import type { DurationFormat, Result } from "./values.js"
import { count, duration, flag, Invalid, makeChannel } from "./values.js"

/** Where mapped records go: contact rows into columns, the other layouts as records. @internal */
export interface Sink {
  readonly contacts: ContactColumns
  readonly aggregate: (record: Domain.IntervalAggregate) => void
  readonly status: (record: Domain.AgentStatus) => void
}

/** Why a row was rejected. @internal */
export interface RowProblem {
  readonly column: string | null
  readonly reason: string
}

/** A resolved column. @internal */
interface Cell {
  readonly index: number
  readonly label: string
}

/** How each configured field resolved against the header. @internal */
export interface Resolution {
  readonly field: string
  readonly column: Column
  readonly index: number | null
  readonly label: string
}

/** A compiled mapping. @internal */
export interface Mapper {
  readonly resolutions: ReadonlyArray<Resolution>
  /** header columns the mapping needs but the file lacks */
  readonly missing: ReadonlyArray<Resolution>
  /** adds the row's record to the sink, or returns why the row is rejected (nothing added) */
  readonly map: (row: ReadonlyArray<string>) => RowProblem | undefined
}

const MAX_TEXT = 255

const describe = (c: Column) => typeof c === "number" ? `column ${c}` : `"${c}"`

/**
 * Resolves a column reference: a name against the header (exact, then trimmed and
 * case-insensitive), a number as a position.
 */
const resolveColumn = (header: ReadonlyArray<string> | undefined, c: Column): number | null => {
  if (typeof c === "number") {
    if (header !== undefined && c > header.length) return null
    return c - 1
  }
  if (header === undefined) return null
  const exact = header.indexOf(c)
  if (exact !== -1) return exact
  const wanted = c.trim().toLowerCase()
  const loose = header.findIndex((h) => h.trim().toLowerCase() === wanted)
  return loose === -1 ? null : loose
}

/**
 * Compiles the mapping of `config` for a file with `header` (undefined without a header row).
 *
 * @internal
 */
export const compile = (
  config: CsvConfig,
  zone: DateTime.TimeZone,
  header: ReadonlyArray<string> | undefined,
  sink: Sink
): Mapper => {
  const resolutions: Array<Resolution> = []
  const cell = (field: string, c: Column): Cell => {
    const index = resolveColumn(header, c)
    const label = header !== undefined && index !== null && index < header.length
      ? header[index]!.trim()
      : typeof c === "number"
      ? `column ${c}`
      : c
    resolutions.push({ field, column: c, index, label })
    return { index: index ?? -1, label }
  }
  const optionalCell = (field: string, c: Column | undefined): Cell | undefined =>
    c === undefined ? undefined : cell(field, c)

  const parser: TimestampParser = makeParser(config.timestampFormat, zone)
  const timestampCell = (
    field: string,
    spec: TimestampColumns
  ): { readonly single: Cell; readonly date?: undefined; readonly time?: undefined } | {
    readonly single?: undefined
    readonly date: Cell
    readonly time: Cell
  } =>
    typeof spec === "object"
      ? { date: cell(`${field}.date`, spec.date), time: cell(`${field}.time`, spec.time) }
      : { single: cell(field, spec) }

  const decimalComma = config.decimalComma
  const durationFormat: DurationFormat = config.durationFormat

  class Reject {
    constructor(readonly column: string | null, readonly reason: string) {}
  }

  let row: ReadonlyArray<string> = []
  const text = (c: Cell): string => {
    if (c.index >= row.length) {
      throw new Reject(c.label, `missing: the row has ${row.length} field${row.length === 1 ? "" : "s"}`)
    }
    return row[c.index]!.trim()
  }
  const take = <A>(c: Cell, r: Result<A>): A => {
    if (r instanceof Invalid) throw new Reject(c.label, r.reason)
    return r
  }
  /**
   * Text the store keeps as it is: no NUL (PostgreSQL can't store it, so a file holding one
   * failed on every attempt), and no U+FFFD, which decoding puts where the file has bytes that
   * are not in its encoding (an identifier the source never sent).
   */
  const kept = (c: Cell, what: string, value: string): string => {
    if (value.includes("\u0000")) throw new Reject(c.label, `${what} contains a NUL character (U+0000), which can't be stored`)
    if (value.includes("\uFFFD")) {
      throw new Reject(
        c.label,
        `${what} contains U+FFFD, the replacement for bytes that are not ${config.encoding}: is the file in another encoding (set \`encoding\`, e.g. windows-1252)?`
      )
    }
    return value
  }
  const nonEmpty = (c: Cell, what: string): string => {
    const value = text(c)
    if (value === "") throw new Reject(c.label, `${what} is empty`)
    if (value.length > MAX_TEXT) throw new Reject(c.label, `${what} is longer than ${MAX_TEXT} characters`)
    return kept(c, what, value)
  }
  const labelOf = (spec: ReturnType<typeof timestampCell>) =>
    spec.single !== undefined ? spec.single.label : `${spec.date.label} + ${spec.time.label}`
  const timestamp = (spec: ReturnType<typeof timestampCell>): Exclude<Parsed, { _tag: "Invalid" }> => {
    const value = spec.single !== undefined ? text(spec.single) : `${text(spec.date)} ${text(spec.time)}`.trim()
    if (value === "") throw new Reject(labelOf(spec), "timestamp is empty")
    const parsed = parser.parse(value)
    if (parsed._tag === "Invalid") throw new Reject(labelOf(spec), parsed.reason)
    return parsed
  }
  const durationOf = (c: Cell | undefined): number => c === undefined ? 0 : take(c, duration(text(c), durationFormat, decimalComma))
  const optionalDuration = (c: Cell | undefined): number | undefined =>
    c === undefined ? undefined : take(c, duration(text(c), durationFormat, decimalComma))
  const optionalFlag = (c: Cell | undefined): boolean | undefined => c === undefined ? undefined : take(c, flag(text(c)))
  const countOf = (c: Cell | undefined): number => c === undefined ? 0 : take(c, count(text(c), decimalComma))

  const guard = (body: () => void) => (r: ReadonlyArray<string>): RowProblem | undefined => {
    row = r
    try {
      body()
      return undefined
    } catch (e) {
      if (e instanceof Reject) return { column: e.column, reason: e.reason }
      throw e
    }
  }

  const queueFields = (
    columns: { readonly queueIdentifier: Column; readonly queueName?: Column | undefined; readonly channel?: Column | undefined },
    fixedChannel: Domain.Channel | undefined,
    channelValues: Readonly<Record<string, Domain.Channel>> | undefined
  ) => {
    const id = cell("queueIdentifier", columns.queueIdentifier)
    const name = optionalCell("queueName", columns.queueName)
    const channelCell = optionalCell("channel", columns.channel)
    const channelOf = makeChannel(channelValues)
    // a file names few queues in millions of rows: keep one copy of each name, so the records
    // of a chunk share them instead of holding one string each
    const interned = new Map<string, string>()
    const intern = (value: string) => {
      const known = interned.get(value)
      if (known !== undefined) return known
      if (interned.size < 10_000) interned.set(value, value)
      return value
    }
    return () => {
      const queueIdentifier = intern(nonEmpty(id, "queue identifier"))
      const queueName = name === undefined ? queueIdentifier : intern(kept(name, "queue name", text(name)))
      if (queueName.length > MAX_TEXT) throw new Reject(name!.label, `queue name is longer than ${MAX_TEXT} characters`)
      let channel: Domain.Channel
      if (channelCell === undefined) channel = fixedChannel!
      else {
        const value = text(channelCell)
        if (value === "") {
          if (fixedChannel === undefined) throw new Reject(channelCell.label, "channel is empty")
          channel = fixedChannel
        } else channel = take(channelCell, channelOf(value))
      }
      return { queueIdentifier, queueName, channel }
    }
  }

  let map: (row: ReadonlyArray<string>) => RowProblem | undefined
  switch (config.layout) {
    case "contacts": {
      const c = config.columns
      const queue = queueFields(c, config.channel, config.channelValues)
      const ts = timestampCell("timestamp", c.timestamp)
      const offered = optionalCell("offered", c.offered)
      const handled = cell("handled", c.handled)
      const dur = optionalCell("duration", c.duration)
      const talk = optionalCell("talkTime", c.talkTime)
      const hold = optionalCell("holdTime", c.holdTime)
      const acw = optionalCell("afterCallWorkTime", c.afterCallWorkTime)
      const wait = optionalCell("waitTime", c.waitTime)
      const abandoned = optionalCell("abandoned", c.abandoned)
      const shortAbandoned = optionalCell("shortAbandoned", c.shortAbandoned)
      const breakout = optionalCell("breakout", c.breakout)
      const inThreshold = optionalCell("answeredInThreshold", c.answeredInThreshold)
      map = guard(() => {
        const q = queue()
        const parsed = timestamp(ts)
        // a local time in the repeated hour: the first occurrence (document: prefer offsets)
        const at = parsed._tag === "Ambiguous" ? parsed.earlier : parsed.ms
        // every field is read (and may reject the row) before the row is added
        const isOffered = offered === undefined ? true : take(offered, flag(text(offered)))
        const isHandled = take(handled, flag(text(handled)))
        const durationMs = durationOf(dur)
        const talkMs = optionalDuration(talk)
        const holdMs = optionalDuration(hold)
        const acwMs = optionalDuration(acw)
        const waitMs = optionalDuration(wait)
        const ab = optionalFlag(abandoned)
        const th = optionalFlag(inThreshold)
        const sa = optionalFlag(shortAbandoned)
        const bo = optionalFlag(breakout)
        sink.contacts.push(
          q.queueIdentifier,
          q.queueName,
          q.channel,
          at,
          isOffered,
          isHandled,
          durationMs,
          talkMs,
          holdMs,
          acwMs,
          waitMs,
          ab,
          th,
          sa,
          bo
        )
      })
      break
    }
    case "intervals": {
      const c = config.columns
      const length = config.intervalMinutes
      const queue = queueFields(c, config.channel, config.channelValues)
      const ts = timestampCell("intervalStart", c.intervalStart)
      const offered = cell("offered", c.offered)
      const handled = cell("handled", c.handled)
      const handling = optionalCell("handlingTime", c.handlingTime)
      const unhandled = optionalCell("unhandledTime", c.unhandledTime)
      const talk = optionalCell("talkTime", c.talkTime)
      const hold = optionalCell("holdTime", c.holdTime)
      const acw = optionalCell("afterCallWorkTime", c.afterCallWorkTime)
      const wait = optionalCell("waitTime", c.waitTime)
      const abandoned = optionalCell("abandoned", c.abandoned)
      const shortAbandoned = optionalCell("shortAbandoned", c.shortAbandoned)
      const breakout = optionalCell("breakout", c.breakout)
      const inThreshold = optionalCell("answeredInThreshold", c.answeredInThreshold)
      // a wall-clock start in the repeated hour: its first row is the first occurrence, a second
      // row for the same queue and wall-clock start is the second one
      const seenAmbiguous = new Set<string>()
      map = guard(() => {
        const q = queue()
        const parsed = timestamp(ts)
        let start: number
        if (parsed._tag === "Ambiguous") {
          const key = `${q.queueIdentifier}\u0000${q.queueName}\u0000${q.channel}\u0000${parsed.local}`
          start = seenAmbiguous.has(key) ? parsed.later : parsed.earlier
          seenAmbiguous.add(key)
        } else start = parsed.ms
        if (Bucketing.intervalStart(start, length, zone) !== start) {
          throw new Reject(labelOf(ts), `${Time.label(start, zone)} is not the start of a ${length}-minute interval`)
        }
        sink.aggregate({
          queueIdentifier: q.queueIdentifier,
          queueName: q.queueName,
          channel: q.channel,
          start: Time.utc(start),
          lengthMinutes: length,
          offered: countOf(offered),
          handled: countOf(handled),
          handlingMs: durationOf(handling),
          unhandledMs: durationOf(unhandled),
          talkMs: durationOf(talk),
          holdMs: durationOf(hold),
          afterCallWorkMs: durationOf(acw),
          waitMs: durationOf(wait),
          abandoned: countOf(abandoned),
          shortAbandoned: countOf(shortAbandoned),
          breakout: countOf(breakout),
          answeredInThreshold: countOf(inThreshold)
        })
      })
      break
    }
    case "agentStatuses": {
      const c = config.columns
      const agent = cell("agentId", c.agentId)
      const activity = cell("activityId", c.activityId)
      const startSpec = timestampCell("start", c.start)
      const endSpec = c.end === undefined ? undefined : timestampCell("end", c.end)
      const dur = optionalCell("duration", c.duration)
      map = guard(() => {
        const agentIdentifier = nonEmpty(agent, "agent id")
        const activityIdentifier = nonEmpty(activity, "activity id")
        const parsed = timestamp(startSpec)
        const start = parsed._tag === "Ambiguous" ? parsed.earlier : parsed.ms
        let end: number | null = null
        const endText = endSpec === undefined
          ? ""
          : endSpec.single !== undefined
          ? text(endSpec.single)
          : `${text(endSpec.date)} ${text(endSpec.time)}`.trim()
        if (endSpec !== undefined && endText !== "") {
          const e = timestamp(endSpec)
          end = e._tag === "Ambiguous" ? (e.earlier >= start ? e.earlier : e.later) : e.ms
          if (end < start) throw new Reject(labelOf(endSpec), "the end is before the start")
        } else if (dur !== undefined && text(dur) !== "") {
          end = start + durationOf(dur)
        }
        sink.status({
          agentIdentifier,
          activityIdentifier,
          start: Time.utc(start),
          end: end === null ? null : Time.utc(end)
        })
      })
      break
    }
  }
  const missing = resolutions.filter((r) => r.index === null)
  return { resolutions, missing, map }
}

/** A label for a configured column in messages. @internal */
export const columnLabel = describe
