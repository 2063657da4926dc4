/**
 * A dry run an administrator can look at before the first import: which file would be read,
 * the delimiter and encoding, the columns found, where each configured column was found, the
 * first records as they would be imported, and the problems of the first rows. `check` turns
 * it into the connector's `CheckReport`.
 *
 * @since 0.1.0
 */
import type { Connector } from "@acd-bridge/core"
import { Domain } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import type { CsvConfig } from "./CsvConfig.js"
import type { CsvFileError } from "./CsvError.js"
import type { ColumnResolution, CsvProblem } from "./CsvReader.js"
import * as CsvReader from "./CsvReader.js"
import * as Files from "./internal/files.js"
import { decodeSample, readSample } from "./internal/reader.js"

/** A record as it would be imported, in JSON-friendly form (ISO instants, decimal seconds). @since 0.1.0 @category models */
export type PreviewRecord = Readonly<Record<string, string | number | boolean | null>>

/**
 * @since 0.1.0 @category models
 */
export interface Preview {
  /** the file read; null when there is none to read */
  readonly file: string | null
  readonly delimiter: string | null
  readonly encoding: string
  /** the header row; null without one */
  readonly columns: ReadonlyArray<string> | null
  readonly mapping: ReadonlyArray<ColumnResolution>
  readonly records: ReadonlyArray<PreviewRecord>
  readonly problems: ReadonlyArray<CsvProblem>
  /** things that look wrong but don't stop an import (e.g. text that isn't valid UTF-8) */
  readonly warnings: ReadonlyArray<string>
}

const iso = (d: DateTime.Utc) => DateTime.formatIso(d)
const seconds = (ms: number | undefined) => ms === undefined ? null : ms / 1000

const contactRecord = (c: Domain.ContactEvent): PreviewRecord => ({
  queueIdentifier: c.queueIdentifier,
  queueName: c.queueName,
  channel: c.channel,
  timestamp: iso(c.timestamp),
  offered: c.offered,
  handled: c.handled,
  durationSeconds: c.durationMs / 1000,
  ...(c.talkMs === undefined ? {} : { talkSeconds: seconds(c.talkMs) }),
  ...(c.holdMs === undefined ? {} : { holdSeconds: seconds(c.holdMs) }),
  ...(c.afterCallWorkMs === undefined ? {} : { afterCallWorkSeconds: seconds(c.afterCallWorkMs) }),
  ...(c.waitMs === undefined ? {} : { waitSeconds: seconds(c.waitMs) }),
  ...(c.abandoned === undefined ? {} : { abandoned: c.abandoned }),
  ...(c.shortAbandoned === undefined ? {} : { shortAbandoned: c.shortAbandoned }),
  ...(c.breakout === undefined ? {} : { breakout: c.breakout }),
  ...(c.answeredInThreshold === undefined ? {} : { answeredInThreshold: c.answeredInThreshold })
})

const aggregateRecord = (a: Domain.IntervalAggregate): PreviewRecord => ({
  queueIdentifier: a.queueIdentifier,
  queueName: a.queueName,
  channel: a.channel,
  start: iso(a.start),
  lengthMinutes: a.lengthMinutes,
  offered: a.offered,
  handled: a.handled,
  handlingSeconds: a.handlingMs / 1000,
  unhandledSeconds: a.unhandledMs / 1000,
  talkSeconds: a.talkMs / 1000,
  holdSeconds: a.holdMs / 1000,
  afterCallWorkSeconds: a.afterCallWorkMs / 1000,
  waitSeconds: a.waitMs / 1000,
  abandoned: a.abandoned,
  shortAbandoned: a.shortAbandoned,
  breakout: a.breakout,
  answeredInThreshold: a.answeredInThreshold
})

const statusRecord = (s: Domain.AgentStatus): PreviewRecord => ({
  agentIdentifier: s.agentIdentifier,
  activityIdentifier: s.activityIdentifier,
  startTime: iso(s.start),
  endTime: s.end === null ? null : iso(s.end)
})

/**
 * The records of a batch in preview form.
 *
 * @since 0.1.0 @category conversions
 */
export const previewRecords = (batch: Domain.Batch): Array<PreviewRecord> => [
  ...batch.contacts.map(contactRecord),
  ...batch.aggregates.map(aggregateRecord),
  ...batch.statuses.map(statusRecord)
]

/**
 * The files a config points at, oldest first (a folder's matching files; the listed files
 * that exist).
 *
 * @since 0.1.0 @category accessors
 */
export const sourceFiles = (config: CsvConfig): Effect.Effect<ReadonlyArray<string>, CsvFileError> =>
  ("folder" in config.source
    ? Files.listFolder(config.source.folder, config.source.pattern)
    : Files.statFiles(config.source.files)).pipe(
      Effect.map((files) =>
        [...files].sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path)).map((f) => f.path)
      )
    )

/** @since 0.1.0 @category models */
export interface PreviewOptions {
  /** the file to read; default the oldest file of the source */
  readonly file?: string | undefined
  /** default zone when the config names none */
  readonly timezone?: string | undefined
  /** how many records to show (default 5) */
  readonly records?: number | undefined
  /** read at most this many rows looking for them (default 100) */
  readonly maxRows?: number | undefined
}

/**
 * Reads the first rows of a file and shows what an import would make of them. Nothing is
 * imported, moved or recorded.
 *
 * @since 0.1.0 @category preview
 */
export const preview = (config: CsvConfig, options: PreviewOptions = {}): Effect.Effect<Preview, CsvFileError> =>
  Effect.gen(function*() {
    const wanted = options.records ?? 5
    const file = options.file ?? (yield* sourceFiles(config))[0]
    const empty: Preview = {
      file: null,
      delimiter: null,
      encoding: config.encoding,
      columns: null,
      mapping: [],
      records: [],
      problems: [],
      warnings: []
    }
    if (file === undefined) return empty
    const sample = yield* Effect.tryPromise({ try: () => readSample(file), catch: CsvReader.fileError(file, "read") })
    const warnings: Array<string> = []
    const text = decodeSample(sample, config.encoding)
    if (text.includes("\uFFFD")) {
      warnings.push(
        `${path.basename(file)} has bytes that are not valid ${config.encoding}; is it Windows-1252? Set "encoding": "windows-1252".`
      )
    }
    const events = yield* Stream.runCollect(
      CsvReader.events(file, { ...config, chunkSize: 1 }, {
        timezone: options.timezone,
        maxRows: options.maxRows ?? 100
      }).pipe(
        Stream.scan(
          { records: 0, event: undefined as CsvReader.CsvEvent | undefined },
          (acc, event) => ({
            records: acc.records + (event._tag === "Chunk" ? Domain.batchSize(event.batch) : 0),
            event
          })
        ),
        Stream.takeUntil((s) => s.records >= wanted),
        Stream.filterMap((s) => Option.fromNullable(s.event))
      )
    )
    let header: CsvReader.CsvHeader | undefined = undefined
    const records: Array<PreviewRecord> = []
    const problems: Array<CsvProblem> = []
    for (const event of events) {
      if (event._tag === "Header") header = event
      else {
        records.push(...previewRecords(event.batch))
        problems.push(...event.problems)
      }
    }
    return {
      file,
      delimiter: header?.delimiter ?? null,
      encoding: config.encoding,
      columns: header?.columns ?? null,
      mapping: header?.resolutions ?? [],
      records: records.slice(0, wanted),
      problems,
      warnings
    }
  })

const describeDelimiter = (d: string) => d === "\t" ? "tab" : `"${d}"`

/**
 * The connector's `check`: the source is there, a file can be read, every configured column is
 * in it, and the first rows import. The preview is in the items' details. Never fails.
 *
 * @since 0.1.0 @category preview
 */
export const check = (config: CsvConfig): Effect.Effect<Connector.CheckReport> =>
  Effect.gen(function*() {
    const items: Array<Connector.CheckItem> = []
    const source = config.source
    if ("folder" in source) {
      const readable = yield* Effect.promise(() =>
        fs.promises.access(source.folder, fs.constants.R_OK).then(() => true, () => false)
      )
      items.push({
        name: "folder",
        ok: readable,
        detail: readable ? `${source.folder} is readable` : `${source.folder} does not exist or can't be read`
      })
      if (!readable) return { ok: false, items }
    }
    const result = yield* Effect.either(preview(config))
    if (result._tag === "Left") {
      items.push({ name: "file", ok: false, detail: result.left.message })
      return { ok: false, items }
    }
    const p = result.right
    if (p.file === null) {
      items.push({
        name: "file",
        ok: true,
        detail: "folder" in source
          ? `no file matching ${source.pattern} is waiting in ${source.folder}; the mapping is checked against the next one`
          : `none of the listed files exists yet: ${source.files.join(", ")}`
      })
      return { ok: true, items }
    }
    items.push({
      name: "file",
      ok: true,
      detail: `${path.basename(p.file)}: encoding ${p.encoding}, delimiter ${describeDelimiter(p.delimiter ?? ",")}${
        p.delimiter !== null && config.delimiter === "auto" ? " (detected)" : ""
      }`
    })
    if (p.columns !== null) {
      items.push({ name: "columns", ok: p.columns.length > 0, detail: `header: ${p.columns.join(" | ")}` })
    }
    for (const m of p.mapping) {
      items.push({
        name: `column ${m.field}`,
        ok: m.index !== null,
        detail: m.index !== null
          ? `${m.field} ← ${m.label} (column ${m.index + 1})`
          : `${m.field}: column ${typeof m.column === "number" ? m.column : `"${m.column}"`} is not in the file`
      })
    }
    for (const w of p.warnings) items.push({ name: "encoding", ok: false, detail: w })
    const missing = p.mapping.some((m) => m.index === null)
    if (!missing) {
      items.push({
        name: "records",
        ok: p.records.length > 0,
        detail: p.records.length > 0
          ? `the first ${p.records.length} record${p.records.length === 1 ? "" : "s"} as imported:\n${
            p.records.map((r) => JSON.stringify(r)).join("\n")
          }`
          : "no row of the first rows could be imported"
      })
      for (const problem of p.problems.slice(0, 20)) {
        items.push({ name: "row", ok: !config.strict && p.records.length > 0, detail: CsvReader.formatProblem(problem) })
      }
    }
    return { ok: items.every((i) => i.ok), items }
  })
