/**
 * Reads one CSV file as a stream of chunks: the records of up to `chunkSize` rows as a core
 * `Batch`, with the problems of the rows that were rejected (file, line, column, reason).
 * Parsing is csv-parse's streaming parser (RFC 4180: quoted fields, embedded newlines, doubled
 * quotes), so a file of any size is read in bounded memory.
 *
 * @since 0.1.0
 */
import type { Domain } from "@acd-bridge/core"
import type * as DateTime from "effect/DateTime"
import type * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import type { CsvConfig } from "./CsvConfig.js"
import type { CsvFileError } from "./CsvError.js"
import type { Resolution } from "./internal/mapping.js"

/**
 * Where a configured column was found (`index` null: not in the header).
 *
 * @since 0.1.0 @category models
 */
export type ColumnResolution = Resolution
import * as internal from "./internal/reader.js"

/**
 * A rejected row, or a problem of the whole file (`line` null, or the header's line).
 *
 * @since 0.1.0 @category models
 */
export interface CsvProblem {
  /** the file's name */
  readonly file: string
  /** 1-based line where the row starts */
  readonly line: number | null
  /** the column (header name, or `column N`) */
  readonly column: string | null
  readonly reason: string
}

/**
 * Up to `chunkSize` rows of a file: what they import and which of them were rejected.
 *
 * @since 0.1.0 @category models
 */
export interface CsvChunk {
  readonly _tag: "Chunk"
  readonly batch: Domain.Batch
  readonly problems: ReadonlyArray<CsvProblem>
  /** data rows read (imported + rejected) */
  readonly rows: number
  readonly rejected: number
  /** the last line the chunk covers: a file's progress */
  readonly lastLine: number
  /** reading stopped: the rest of the file can't be read (see `problems`) */
  readonly fatal: boolean
}

/**
 * What was found at the top of the file: the delimiter (detected when `auto`), the header's
 * columns, and where each configured column was found (`index` null: missing).
 *
 * @since 0.1.0 @category models
 */
export interface CsvHeader {
  readonly _tag: "Header"
  readonly delimiter: string
  readonly encoding: string
  readonly columns: ReadonlyArray<string> | null
  readonly resolutions: ReadonlyArray<ColumnResolution>
}

/** @since 0.1.0 @category models */
export type CsvEvent = CsvHeader | CsvChunk

/** @since 0.1.0 @category models */
export interface ReadOptions {
  /** zone of timestamps without an offset when the config names none; default UTC */
  readonly timezone?: string | undefined
  /** rows ending at or before this line are checked but not imported (resuming a file) */
  readonly fromLine?: number | undefined
  /** stop after this many data rows */
  readonly maxRows?: number | undefined
}

/**
 * The zone a file's wall-clock timestamps are read in: the config's, else `fallback`.
 *
 * @since 0.1.0 @category accessors
 */
export const zoneOf: (config: CsvConfig, fallback: string | undefined) => DateTime.TimeZone = internal.zoneOf

/** @since 0.1.0 @category errors */
export const fileError: (file: string, operation: string) => (cause: unknown) => CsvFileError = internal.fileError

const toChunk = (chunk: internal.Chunk): CsvChunk => ({
  _tag: "Chunk",
  batch: internal.toBatch(chunk),
  problems: chunk.problems,
  rows: chunk.rows,
  rejected: chunk.rejected,
  lastLine: chunk.lastLine,
  fatal: chunk.fatal
})

/**
 * The header, then the chunks of a file.
 *
 * @since 0.1.0 @category reading
 */
export const events = (
  file: string,
  config: CsvConfig,
  options: ReadOptions = {}
): Stream.Stream<CsvEvent, CsvFileError> =>
  internal.streamFile(file, config, options).pipe(Stream.map((event): CsvEvent => event._tag === "Header" ? event : toChunk(event)))

/**
 * The chunks of a file.
 *
 * @since 0.1.0 @category reading
 */
export const read = (
  file: string,
  config: CsvConfig,
  options: ReadOptions = {}
): Stream.Stream<CsvChunk, CsvFileError> =>
  events(file, config, options).pipe(Stream.filter((e): e is CsvChunk => e._tag === "Chunk"))

/**
 * A summary of a whole file read without importing it.
 *
 * @since 0.1.0 @category models
 */
export interface CsvSummary {
  readonly header: CsvHeader | undefined
  readonly rows: number
  readonly records: number
  readonly rejected: number
  /** the first `maxProblems` problems */
  readonly problems: ReadonlyArray<CsvProblem>
  readonly fatal: boolean
}

/**
 * Reads a file to its end, keeping counts and the first `maxProblems` problems (validation
 * pass of strict mode).
 *
 * @since 0.1.0 @category reading
 */
export const summarize = (
  file: string,
  config: CsvConfig,
  options: ReadOptions & { readonly maxProblems?: number | undefined } = {}
): Effect.Effect<CsvSummary, CsvFileError> =>
  // counts come from the chunks' columns: no records are built for a validation pass
  Stream.runFold(
    internal.streamFile(file, config, options),
    { header: undefined, rows: 0, records: 0, rejected: 0, problems: [], fatal: false } as CsvSummary,
    (acc, event) =>
      event._tag === "Header" ? { ...acc, header: event } : {
        header: acc.header,
        rows: acc.rows + event.rows,
        records: acc.records + event.contacts.length + event.aggregates.length + event.statuses.length,
        rejected: acc.rejected + event.rejected,
        problems: acc.problems.length >= (options.maxProblems ?? 1_000)
          ? acc.problems
          : [...acc.problems, ...event.problems].slice(0, options.maxProblems ?? 1_000),
        fatal: acc.fatal || event.fatal
      }
  )

/**
 * A problem as core keeps it on an `ImportRun`: `record` is `file.csv:12`.
 *
 * @since 0.1.0 @category conversions
 */
export const toCoreProblem = (p: CsvProblem): Domain.RejectedRecord => ({
  record: p.line === null ? p.file : `${p.file}:${p.line}`,
  field: p.column,
  reason: p.reason
})

/**
 * A problem in words: `calls.csv:12 (Duration): "abc" is not a number of seconds`.
 *
 * @since 0.1.0 @category conversions
 */
export const formatProblem = (p: CsvProblem): string =>
  `${p.file}${p.line === null ? "" : `:${p.line}`}${p.column === null ? "" : ` (${p.column})`}: ${p.reason}`

/** @since 0.1.0 @category accessors */
export const fileName = (file: string): string => path.basename(file)
