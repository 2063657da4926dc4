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
import { Domain, Time } from "@acd-bridge/core"
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

/**
 * Where a timestamp is: one column, or a date column and a time column (joined with a space
 * before `timestampFormat` is applied, so `DD.MM.YYYY HH:mm` reads `02.03.2026` + `09:15`).
 *
 * @since 0.1.0 @category models
 */
export const TimestampColumns = Schema.Union(
  Column,
  Schema.Struct({ date: Column, time: Column })
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
    folder: Schema.String.pipe(Schema.minLength(1)),
    /** file names to pick, `*` and `?` wildcards, case-insensitive; default `*.csv` */
    pattern: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { default: () => "*.csv" }),
    /** where imported files go; default `<folder>/archive` */
    archiveFolder: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
    /** where rejected files go; default `<folder>/failed` */
    failedFolder: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
  }),
  Schema.Struct({
    files: Schema.Array(Schema.String.pipe(Schema.minLength(1))).pipe(Schema.minItems(1))
  })
)
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
  delimiter: Schema.optionalWith(Schema.Literal(",", ";", "\t", "|", "auto"), { default: () => "auto" as const }),
  /** whether the first row names the columns */
  header: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** `utf-8` (a BOM is skipped), `windows-1252`, or any encoding iconv-lite knows */
  encoding: Schema.optionalWith(Encoding, { default: () => "utf-8" }),
  /** decimals are written `12,5` */
  decimalComma: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** reject the whole file when any row is bad (default: import the good rows, report the bad) */
  strict: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** zone of timestamps without an offset; default the integration's time zone (UTC in `pull`) */
  timezone: Schema.optional(TimeZoneName),
  /** `iso`, `epoch-seconds`, `epoch-millis`, or a pattern such as `YYYY-MM-DD HH:mm:ss`, `DD.MM.YYYY HH:mm` */
  timestampFormat: Schema.optionalWith(TimestampFormat, { default: () => "iso" }),
  /** how durations are written: decimal `seconds`, `hh:mm:ss`, or `ms` */
  durationFormat: Schema.optionalWith(Schema.Literal("seconds", "hh:mm:ss", "ms"), {
    default: () => "seconds" as const
  }),
  /** records per batch (one transaction each, with the file's progress) */
  chunkSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100_000)), { default: () => 5_000 })
}

const queueColumns = {
  queueIdentifier: Column,
  /** default: the queue identifier */
  queueName: Schema.optional(Column),
  /** a column with the channel; or set the fixed `channel` */
  channel: Schema.optional(Column)
}

const channelFields = {
  /** the channel of every row (or of rows whose channel cell is empty) */
  channel: Schema.optional(Domain.Channel),
  /** source channel values to channels, e.g. `{ "Voice": "calls", "E-Mail": "emails" }` */
  channelValues: Schema.optional(ChannelValues)
}

/**
 * One row per contact event: offered/handled flags, a duration, the instant it counts at.
 *
 * @since 0.1.0 @category models
 */
export const ContactsLayout = Schema.Struct({
  ...common,
  layout: Schema.Literal("contacts"),
  ...channelFields,
  columns: Schema.Struct({
    ...queueColumns,
    timestamp: TimestampColumns,
    /** default: every row is offered */
    offered: Schema.optional(Column),
    handled: Column,
    /** seconds of handling (default 0) */
    duration: Schema.optional(Column),
    talkTime: Schema.optional(Column),
    holdTime: Schema.optional(Column),
    afterCallWorkTime: Schema.optional(Column),
    waitTime: Schema.optional(Column),
    abandoned: Schema.optional(Column),
    /** an abandon within the source's short-abandon threshold (a flag; also an abandon) */
    shortAbandoned: Schema.optional(Column),
    /** left the queue without an agent and without hanging up: routed elsewhere (a flag) */
    breakout: Schema.optional(Column),
    answeredInThreshold: Schema.optional(Column)
  })
})

/**
 * One row per queue and interval: counts and second sums, replacing that interval's figures
 * when imported again.
 *
 * @since 0.1.0 @category models
 */
export const IntervalsLayout = Schema.Struct({
  ...common,
  layout: Schema.Literal("intervals"),
  ...channelFields,
  intervalMinutes: Schema.optionalWith(Domain.IntervalMinutes, { default: () => 15 as const }),
  columns: Schema.Struct({
    ...queueColumns,
    intervalStart: TimestampColumns,
    offered: Column,
    handled: Column,
    /** sum of the handling time of handled contacts */
    handlingTime: Schema.optional(Column),
    /** sum of the time of contacts not handled */
    unhandledTime: Schema.optional(Column),
    talkTime: Schema.optional(Column),
    holdTime: Schema.optional(Column),
    afterCallWorkTime: Schema.optional(Column),
    waitTime: Schema.optional(Column),
    abandoned: Schema.optional(Column),
    /** abandons within the source's short-abandon threshold (a subset of `abandoned`) */
    shortAbandoned: Schema.optional(Column),
    /** contacts that left the queue without an agent and without hanging up (routed elsewhere) */
    breakout: Schema.optional(Column),
    answeredInThreshold: Schema.optional(Column)
  })
})

/**
 * One row per agent status: agent, activity, start, and an end or a duration (an empty end
 * is an open status).
 *
 * @since 0.1.0 @category models
 */
export const AgentStatusesLayout = Schema.Struct({
  ...common,
  layout: Schema.Literal("agentStatuses"),
  columns: Schema.Struct({
    agentId: Column,
    activityId: Column,
    start: TimestampColumns,
    end: Schema.optional(TimestampColumns),
    duration: Schema.optional(Column)
  })
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
