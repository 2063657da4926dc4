/**
 * The configuration of a CSV integration: where the files are, which layout they have
 * (contact-based, interval-based or agent statuses), how the columns map, and how the text is
 * written (delimiter, header, encoding, decimal comma, timestamp and duration formats).
 *
 * @example
 * ```ts
 * import { CsvConfig } from "@acd-bridge/csv"
 * import * as Schema from "effect/Schema"
 *
 * const config = Schema.decodeUnknownSync(CsvConfig.CsvConfig)({
 *   source: { folder: "/data/acd/export" },
 *   layout: "contacts",
 *   delimiter: ";",
 *   decimalComma: true,
 *   timestampFormat: "DD.MM.YYYY HH:mm",
 *   timezone: "Europe/Berlin",
 *   channel: "calls",
 *   columns: { queueIdentifier: "Queue", timestamp: "Start", handled: "Answered", duration: "Talk time" }
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Connector, Domain, Time } from "@acd-bridge/core"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import iconv from "iconv-lite"
import { isValidFormat } from "./internal/timestamps.js"

/**
 * A column: its header name (when the file has a header row) or its 1-based position.
 *
 * @since 0.1.0 @category models
 */
export const Column = Schema.Union(
  Schema.String.pipe(Schema.minLength(1)),
  Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))
).annotations({ description: "a header name, or a 1-based column number" })
/** @since 0.1.0 @category models */
export type Column = typeof Column.Type

// what a setting means and its default, in the config's JSON Schema
const { describeSetting: describe, settingWithDefault: withDefault } = Connector

/** A column setting and what the column holds. */
const column = (description: string) => Column.pipe(describe(`${description} (a header name, or a 1-based column number).`))

/**
 * Where a timestamp is: one column, or a date column and a time column (joined with a space
 * before `timestampFormat` is applied, so `DD.MM.YYYY HH:mm` reads `02.03.2026` + `09:15`).
 *
 * @since 0.1.0 @category models
 */
export const TimestampColumns = Schema.Union(
  Column,
  Schema.Struct({
    date: column("The column with the date"),
    time: column("The column with the time of day; joined to the date with a space before `timestampFormat` applies")
  })
)
/** @since 0.1.0 @category models */
export type TimestampColumns = typeof TimestampColumns.Type

/**
 * Which files: every file matching `pattern` in `folder` (a drop folder: imported files move
 * to `archive/`, rejected ones to `failed/`), or an explicit list of files.
 *
 * @since 0.1.0 @category models
 */
export const Source = Schema.Union(
  Schema.Struct({
    folder: Schema.String.pipe(Schema.minLength(1)).pipe(describe("The drop folder whose files are imported (a path on the server running the engine).")),
    /** file names to pick, `*` and `?` wildcards, case-insensitive; default `*.csv` */
    pattern: withDefault(
      Schema.String.pipe(Schema.minLength(1)),
      "*.csv",
      "Which file names in the folder to import: `*` and `?` wildcards, case-insensitive."
    ),
    /** where imported files go; default `<folder>/archive` */
    archiveFolder: Schema.optional(
      Schema.String.pipe(Schema.minLength(1)).pipe(describe("Where imported files are moved; by default `<folder>/archive`."))
    ),
    /** where rejected files go; default `<folder>/failed` */
    failedFolder: Schema.optional(
      Schema.String.pipe(Schema.minLength(1)).pipe(describe("Where rejected files are moved; by default `<folder>/failed`."))
    )
  }),
  Schema.Struct({
    files: Schema.Array(Schema.String.pipe(Schema.minLength(1))).pipe(Schema.minItems(1)).pipe(describe("An explicit list of files to import (paths on the server running the engine); they are not moved."))
  })
).pipe(describe("Which files: a drop folder (`folder`, imported files move to `archive/`, rejected ones to `failed/`) or a list of `files`."))
/** @since 0.1.0 @category models */
export type Source = typeof Source.Type

const Encoding = Schema.String.pipe(
  Schema.filter((name) => iconv.encodingExists(name) || `"${name}" is not an encoding iconv-lite knows (e.g. utf-8, windows-1252)`)
)

const TimeZoneName = Schema.String.pipe(
  Schema.filter((name) =>
    Either.isRight(Time.zone(name)) || `"${name}" is not an IANA time zone (e.g. Europe/Berlin)`
  )
)

const TimestampFormat = Schema.String.pipe(
  Schema.filter((format) =>
    isValidFormat(format) ||
    `"${format}" is not a timestamp format: use iso, epoch-seconds, epoch-millis or a pattern of YYYY MM DD HH mm ss SSS (e.g. DD.MM.YYYY HH:mm)`
  )
)

const ChannelValues = Schema.Record({ key: Schema.String, value: Domain.Channel })

const common = {
  source: Source,
  /** `auto` detects `,` `;` tab or `|` from the first lines */
  delimiter: withDefault(
    Schema.Literal(",", ";", "\t", "|", "auto"),
    "auto",
    "The field delimiter; `auto` detects `,` `;` tab or `|` from the first lines."
  ),
  /** whether the first row names the columns */
  header: withDefault(Schema.Boolean, true, "Whether the first row names the columns (without it, columns are numbers)."),
  /** `utf-8` (a BOM is skipped), `windows-1252`, or any encoding iconv-lite knows */
  encoding: withDefault(
    Encoding,
    "utf-8",
    "The files' text encoding: `utf-8` (a BOM is skipped), `windows-1252`, or any encoding iconv-lite knows."
  ),
  /** decimals are written `12,5` */
  decimalComma: withDefault(Schema.Boolean, false, "Whether decimals are written with a comma (`12,5`)."),
  /** reject the whole file when any row is bad (default: import the good rows, report the bad) */
  strict: withDefault(
    Schema.Boolean,
    false,
    "Reject the whole file when any row is bad; off, the good rows are imported and the bad ones reported."
  ),
  /** zone of timestamps without an offset; default the integration's time zone (UTC in `pull`) */
  timezone: Schema.optional(
    TimeZoneName.pipe(describe("The IANA time zone of timestamps written without an offset; by default the integration's time zone (UTC in the connector's `pull`)."))
  ),
  /** `iso`, `epoch-seconds`, `epoch-millis`, or a pattern such as `YYYY-MM-DD HH:mm:ss`, `DD.MM.YYYY HH:mm` */
  timestampFormat: withDefault(
    TimestampFormat,
    "iso",
    "How timestamps are written: `iso`, `epoch-seconds`, `epoch-millis`, or a pattern such as `YYYY-MM-DD HH:mm:ss` or `DD.MM.YYYY HH:mm`."
  ),
  /** how durations are written: decimal `seconds`, `hh:mm:ss`, or `ms` */
  durationFormat: withDefault(
    Schema.Literal("seconds", "hh:mm:ss", "ms"),
    "seconds",
    "How durations are written: decimal `seconds`, `hh:mm:ss`, or milliseconds (`ms`)."
  ),
  /** records per batch (one transaction each, with the file's progress) */
  chunkSize: withDefault(
    Schema.Int.pipe(Schema.between(1, 100_000)),
    5_000,
    "Records per batch; each batch is stored in one transaction with the file's progress."
  )
}

const queueColumns = {
  queueIdentifier: column("The column with the queue's identifier"),
  /** default: the queue identifier */
  queueName: Schema.optional(column("The column with the queue's display name; by default the identifier")),
  /** a column with the channel; or set the fixed `channel` */
  channel: Schema.optional(column("The column with the channel (mapped by `channelValues`); or set the fixed `channel`"))
}

const channelFields = {
  /** the channel of every row (or of rows whose channel cell is empty) */
  channel: Schema.optional(
    Domain.Channel.pipe(describe("The channel of every row, or of rows whose channel cell is empty. One of it and `columns.channel` is needed."))
  ),
  /** source channel values to channels, e.g. `{ "Voice": "calls", "E-Mail": "emails" }` */
  channelValues: Schema.optional(
    ChannelValues.pipe(describe("Maps the channel column's values to channels, e.g. `{ \"Voice\": \"calls\", \"E-Mail\": \"emails\" }`."))
  )
}

/**
 * One row per contact event: offered/handled flags, a duration, the instant it counts at.
 *
 * @since 0.1.0 @category models
 */
export const ContactsLayout = Schema.Struct({
  ...common,
  layout: Schema.Literal("contacts").pipe(describe("`contacts`: one row per contact event (offered/handled flags, durations, the instant it counts at).")),
  ...channelFields,
  columns: Schema.Struct({
    ...queueColumns,
    timestamp: TimestampColumns.pipe(describe("The column with the instant the contact counts at, or `{ date, time }` columns (a header name or a 1-based column number each).")),
    /** default: every row is offered */
    offered: Schema.optional(column("A flag column: whether the contact was offered; by default every row is offered")),
    handled: column("A flag column: whether the contact was handled"),
    /** seconds of handling (default 0) */
    duration: Schema.optional(column("The contact's handling time, in `durationFormat`; by default 0")),
    talkTime: Schema.optional(column("The talk time, in `durationFormat`")),
    holdTime: Schema.optional(column("The hold time, in `durationFormat`")),
    afterCallWorkTime: Schema.optional(column("The after-call work time, in `durationFormat`")),
    waitTime: Schema.optional(column("The time in queue, in `durationFormat`")),
    abandoned: Schema.optional(column("A flag column: whether the contact was abandoned")),
    /** an abandon within the source's short-abandon threshold (a flag; also an abandon) */
    shortAbandoned: Schema.optional(column("A flag column: an abandon within the source's short-abandon threshold (also an abandon)")),
    /** left the queue without an agent and without hanging up: routed elsewhere (a flag) */
    breakout: Schema.optional(column("A flag column: the contact left the queue without an agent and without hanging up (routed elsewhere)")),
    answeredInThreshold: Schema.optional(column("A flag column: answered within the service level threshold"))
  }).pipe(describe("Which column holds what, for the contacts layout."))
})

/**
 * One row per queue and interval: counts and second sums, replacing that interval's figures
 * when imported again.
 *
 * @since 0.1.0 @category models
 */
export const IntervalsLayout = Schema.Struct({
  ...common,
  layout: Schema.Literal("intervals").pipe(describe("`intervals`: one row per queue and interval, replacing that interval's figures when imported again.")),
  ...channelFields,
  intervalMinutes: withDefault(Domain.IntervalMinutes, 15, "The length of the file's intervals, in minutes."),
  columns: Schema.Struct({
    ...queueColumns,
    intervalStart: TimestampColumns.pipe(describe("The column with the interval's start, or `{ date, time }` columns (a header name or a 1-based column number each).")),
    offered: column("The number of contacts offered in the interval"),
    handled: column("The number of contacts handled in the interval"),
    /** sum of the handling time of handled contacts */
    handlingTime: Schema.optional(column("The sum of the handling time of handled contacts, in `durationFormat`")),
    /** sum of the time of contacts not handled */
    unhandledTime: Schema.optional(column("The sum of the time of contacts not handled, in `durationFormat`")),
    talkTime: Schema.optional(column("The sum of talk time, in `durationFormat`")),
    holdTime: Schema.optional(column("The sum of hold time, in `durationFormat`")),
    afterCallWorkTime: Schema.optional(column("The sum of after-call work time, in `durationFormat`")),
    waitTime: Schema.optional(column("The sum of time in queue, in `durationFormat`")),
    abandoned: Schema.optional(column("The number of contacts abandoned")),
    /** abandons within the source's short-abandon threshold (a subset of `abandoned`) */
    shortAbandoned: Schema.optional(column("The number of abandons within the source's short-abandon threshold (a subset of `abandoned`)")),
    /** contacts that left the queue without an agent and without hanging up (routed elsewhere) */
    breakout: Schema.optional(column("The number of contacts that left the queue without an agent and without hanging up (routed elsewhere)")),
    answeredInThreshold: Schema.optional(column("The number of contacts answered within the service level threshold"))
  }).pipe(describe("Which column holds what, for the intervals layout."))
})

/**
 * One row per agent status: agent, activity, start, and an end or a duration (an empty end
 * is an open status).
 *
 * @since 0.1.0 @category models
 */
export const AgentStatusesLayout = Schema.Struct({
  ...common,
  layout: Schema.Literal("agentStatuses").pipe(describe("`agentStatuses`: one row per agent status (an empty end is an open status).")),
  columns: Schema.Struct({
    agentId: column("The column with the agent's identifier"),
    activityId: column("The column with the activity (status) identifier"),
    start: TimestampColumns.pipe(describe("The column with the status's start, or `{ date, time }` columns (a header name or a 1-based column number each).")),
    end: Schema.optional(
      TimestampColumns.pipe(describe("The column with the status's end (empty: still open), or `{ date, time }` columns; this or `duration` is needed."))
    ),
    duration: Schema.optional(column("The status's duration, in `durationFormat`; this or `end` is needed"))
  }).pipe(describe("Which column holds what, for the agent statuses layout."))
})

const columnRefs = (config: {
  readonly columns: Readonly<Record<string, TimestampColumns | undefined>>
}): ReadonlyArray<Column> =>
  Object.values(config.columns).flatMap((c) =>
    c === undefined ? [] : typeof c === "object" ? [c.date, c.time] : [c]
  )

/**
 * The connector configuration.
 *
 * @since 0.1.0 @category schemas
 */
export const CsvConfig = Schema.Union(ContactsLayout, IntervalsLayout, AgentStatusesLayout).pipe(
  Schema.filter((config) => {
    if (!config.header) {
      const named = columnRefs(config).find((c) => typeof c === "string")
      if (named !== undefined) {
        return { path: ["columns"], message: `the file has no header row, so columns are numbers (1 = first); got "${named}"` }
      }
    }
    if (config.layout !== "agentStatuses" && config.columns.channel === undefined && config.channel === undefined) {
      return { path: ["channel"], message: "set a channel column (columns.channel) or a fixed channel" }
    }
    if (config.layout === "agentStatuses" && config.columns.end === undefined && config.columns.duration === undefined) {
      return { path: ["columns"], message: "agent statuses need an end column or a duration column" }
    }
    if (config.decimalComma && config.delimiter === ",") {
      return {
        path: ["delimiter"],
        message: "a decimal comma needs another delimiter (; or tab), or leave it on auto"
      }
    }
    return true
  })
)
/** @since 0.1.0 @category models */
export type CsvConfig = typeof CsvConfig.Type
/** @since 0.1.0 @category models */
export type CsvConfigEncoded = typeof CsvConfig.Encoded

/** @since 0.1.0 @category models */
export type Layout = CsvConfig["layout"]

/**
 * The data kind a layout imports.
 *
 * @since 0.1.0 @category accessors
 */
export const dataKind = (config: CsvConfig): Domain.DataKind =>
  config.layout === "agentStatuses" ? "agentStatuses" : "contacts"
