/**
 * The streaming reader: file → (iconv-lite decoder) → csv-parse → mapped records, in chunks.
 * Plain async iteration underneath (fast, back-pressured); `CsvReader` wraps it in a Stream.
 *
 * Memory is bounded by the chunk size: csv-parse holds at most one record in progress, the
 * file is read in 64 KiB pieces, and a chunk is handed on before the next is built. Parsed
 * rows are taken from csv-parse synchronously, as many as it has, rather than one promise per
 * row, and contact rows wait in columns (`contactColumns.ts`): both keep what a chunk holds out
 * of V8's old generation, which is what a long import's peak RSS depends on.
 *
 * @internal
 */
import { type Domain, Time } from "@acd-bridge/core"
import { parse } from "csv-parse"
import type { Parser } from "csv-parse"
import type * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import iconv from "iconv-lite"
import * as fs from "node:fs"
import * as path from "node:path"
import { pipeline } from "node:stream"
import type { Readable, Transform } from "node:stream"
import type { CsvConfig } from "../CsvConfig.js"
import { CsvFileError } from "../CsvError.js"
import type { ContactBlock } from "./contactColumns.js"
import { makeContactColumns, toEvents } from "./contactColumns.js"
import type { Mapper, Resolution, Sink } from "./mapping.js"
import { compile } from "./mapping.js"
import { sniffDelimiter } from "./sniff.js"

/** One rejected row (or a problem of the whole file). @internal */
export interface Problem {
  readonly file: string
  readonly line: number | null
  readonly column: string | null
  readonly reason: string
}

/** What the reader learnt from the file's first bytes and header. @internal */
export interface Header {
  readonly _tag: "Header"
  readonly delimiter: string
  readonly encoding: string
  readonly columns: ReadonlyArray<string> | null
  readonly resolutions: ReadonlyArray<Resolution>
}

/** A chunk of records with the problems of its rows. @internal */
export interface Chunk {
  readonly _tag: "Chunk"
  /** contact rows in columns: `toBatch` turns them into events */
  readonly contacts: ContactBlock
  readonly aggregates: ReadonlyArray<Domain.IntervalAggregate>
  readonly statuses: ReadonlyArray<Domain.AgentStatus>
  readonly problems: ReadonlyArray<Problem>
  /** data rows read in this chunk (imported + rejected; rows before `fromLine` not counted) */
  readonly rows: number
  readonly rejected: number
  /** the last line this chunk covers */
  readonly lastLine: number
  /** reading stopped here: the rest of the file can't be read (the problems say why) */
  readonly fatal: boolean
}

/** @internal */
export type Event = Header | Chunk

/** A chunk's records as a core batch. @internal */
export const toBatch = (chunk: Chunk): Domain.Batch => ({
  contacts: toEvents(chunk.contacts),
  aggregates: chunk.aggregates,
  statuses: chunk.statuses
})

/** @internal */
export interface ReadOptions {
  readonly file: string
  readonly config: CsvConfig
  readonly zone: DateTime.TimeZone
  /** rows ending at or before this line are checked but not emitted (resume after a crash) */
  readonly fromLine?: number | undefined
  /** stop after this many data rows (previews) */
  readonly maxRows?: number | undefined
}

const isNativeUtf8 = (encoding: string) => /^utf-?8$/i.test(encoding.replace(/[\s_]/g, ""))

const SAMPLE_BYTES = 64 * 1024

/** The first bytes of a file, for sniffing. @internal */
export const readSample = async (file: string): Promise<Buffer> => {
  const handle = await fs.promises.open(file, "r")
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/** The sample as text (BOM dropped). @internal */
export const decodeSample = (sample: Buffer, encoding: string): string =>
  isNativeUtf8(encoding) ? sample.toString("utf8").replace(/^\uFEFF/, "") : iconv.decode(sample, encoding)

const csvReason = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  // csv-parse messages end with "at line N" and option dumps; keep the sentence
  return message.replace(/\s+at line \d+.*$/s, "").replace(/\s+undefined$/, "")
}

const emptyRow = (row: ReadonlyArray<string>) => row.every((x) => x.trim() === "")

const newlines = (row: ReadonlyArray<string>) => {
  let n = 0
  for (let f = 0; f < row.length; f++) {
    const field = row[f]!
    for (let i = field.indexOf("\n"); i !== -1; i = field.indexOf("\n", i + 1)) n++
  }
  return n
}

interface Skip {
  readonly recordsBefore: number
  readonly line: number
  readonly field: number | undefined
  readonly reason: string
}

/**
 * Reads a file as header + chunks. The caller iterates; `return()` closes the file.
 *
 * @internal
 */
export async function* read(options: ReadOptions): AsyncGenerator<Event, void, undefined> {
  const { config, zone } = options
  const name = path.basename(options.file)
  const chunkSize = config.chunkSize
  const fromLine = options.fromLine ?? 0
  const problem = (line: number | null, column: string | null, reason: string): Problem => ({
    file: name,
    line,
    column,
    reason
  })

  const sample = await readSample(options.file)
  const delimiter = config.delimiter === "auto" ? sniffDelimiter(decodeSample(sample, config.encoding)) : config.delimiter

  const skips: Array<Skip> = []
  let parser: Parser | undefined = undefined
  const onSkip = (error: unknown) => {
    const line = typeof error === "object" && error !== null && "lines" in error && typeof error.lines === "number"
      ? error.lines
      : 0
    const field = typeof error === "object" && error !== null && "index" in error && typeof error.index === "number"
      ? error.index
      : undefined
    skips.push({ recordsBefore: parser?.info.records ?? 0, line, field, reason: csvReason(error) })
    return undefined
  }
  // no `info: true`: csv-parse then builds an info object per record, which doubles its cost;
  // lines are counted here instead (empty lines come through as records for that)
  parser = parse({
    delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: false,
    skip_records_with_error: true,
    on_skip: onSkip
  })
  const source = fs.createReadStream(options.file, { highWaterMark: 64 * 1024 })
  const stages: Array<Readable | Transform> = isNativeUtf8(config.encoding)
    ? [source, parser]
    : [source, iconv.decodeStream(config.encoding) as unknown as Transform, parser]
  let pipelineError: unknown = undefined
  // errors reach the iterator through the parser; the callback only keeps the first one
  pipeline(stages, (error) => {
    if (error) pipelineError ??= error
  })

  let mapper: Mapper | undefined = undefined
  const contacts = makeContactColumns(chunkSize)
  let aggregates: Array<Domain.IntervalAggregate> = []
  let statuses: Array<Domain.AgentStatus> = []
  const sink: Sink = {
    contacts,
    aggregate: (record) => {
      aggregates.push(record)
    },
    status: (record) => {
      statuses.push(record)
    }
  }
  let problems: Array<Problem> = []
  let rows = 0
  let rejected = 0
  let lastLine = 0
  let dataRows = 0
  const take = (fatal: boolean): Chunk => {
    const chunk: Chunk = {
      _tag: "Chunk",
      contacts: contacts.take(),
      aggregates,
      statuses,
      problems,
      rows,
      rejected,
      lastLine,
      fatal
    }
    aggregates = []
    statuses = []
    problems = []
    rows = 0
    rejected = 0
    return chunk
  }
  let headerColumns: ReadonlyArray<string> | undefined = undefined
  let lastSkipLine = -1
  let nextLine = 1
  const flushSkips = (upTo: number) => {
    while (skips.length > 0 && skips[0]!.recordsBefore < upTo) {
      const skip = skips.shift()!
      // csv-parse resumes after the line where the record broke
      nextLine = Math.max(nextLine, skip.line + 1)
      // csv-parse may report one broken quote twice (where it breaks, and where the file ends)
      if (skip.line === lastSkipLine) continue
      lastSkipLine = skip.line
      if (skip.line > fromLine) {
        const column = skip.field === undefined ? null : headerColumns?.[skip.field] ?? `column ${skip.field + 1}`
        problems.push(problem(skip.line, column, skip.reason))
        rows++
        rejected++
      }
      dataRows++
    }
  }
  const header = (columns: ReadonlyArray<string> | null): Header => ({
    _tag: "Header",
    delimiter,
    encoding: config.encoding,
    columns,
    resolutions: mapper?.resolutions ?? []
  })

  // csv-parse's output is read synchronously while it has rows; `waitForRows` waits for more.
  // An event that fires while nobody waits needs no memory: the loop reads (or sees `ended`,
  // `streamError`) before it waits again, and csv-parse signals `readable` anew after a null read.
  let ended = false
  let streamError: unknown = undefined
  let wake: (() => void) | undefined = undefined
  const signal = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  parser.on("readable", signal)
  parser.on("end", () => {
    ended = true
    signal()
  })
  parser.on("error", (error) => {
    streamError ??= error
    signal()
  })
  const waitForRows = () =>
    new Promise<void>((resolve) => {
      wake = resolve
    })

  try {
    let ordinal = 0
    for (;;) {
      if (streamError !== undefined) throw streamError
      const record = parser.read() as Array<string> | null
      if (record === null) {
        if (ended) break
        await waitForRows()
        continue
      }
      ordinal++
      flushSkips(ordinal)
      const line = nextLine
      const endLine = line + newlines(record)
      nextLine = endLine + 1
      if (emptyRow(record)) continue
      if (mapper === undefined) {
        if (config.header) {
          const columns = record.map((x) => x.trim())
          headerColumns = columns
          mapper = compile(config, zone, columns, sink)
          yield header(columns)
          lastLine = endLine
          if (mapper.missing.length > 0) {
            for (const m of mapper.missing) {
              problems.push(problem(
                line,
                m.label,
                `the mapping's ${m.field} column ${typeof m.column === "number" ? `number ${m.column}` : `"${m.column}"`} is not in the header (found: ${columns.join(", ")})`
              ))
            }
            yield take(true)
            return
          }
          continue
        }
        mapper = compile(config, zone, undefined, sink)
        yield header(null)
      }
      lastLine = endLine
      dataRows++
      if (endLine <= fromLine) {
        continue
      }
      rows++
      const rejection = mapper.map(record)
      if (rejection !== undefined) {
        rejected++
        problems.push(problem(line, rejection.column, rejection.reason))
      }
      if (rows >= chunkSize) yield take(false)
      if (options.maxRows !== undefined && dataRows >= options.maxRows) break
    }
    flushSkips(Number.MAX_SAFE_INTEGER)
    if (pipelineError !== undefined) throw pipelineError
    if (mapper === undefined) {
      mapper = compile(config, zone, config.header ? [] : undefined, sink)
      yield header(config.header ? [] : null)
      if (config.header) {
        problems.push(problem(null, null, "the file is empty: no header row"))
        yield take(true)
        return
      }
    }
    yield take(false)
  } catch (error) {
    if (isCsvError(error)) {
      // a structural error (strict mode, or one csv-parse can't skip): stop here
      flushSkips(Number.MAX_SAFE_INTEGER)
      problems.push(problem(errorLine(error) ?? lastLine + 1, null, csvReason(error)))
      rows++
      rejected++
      yield take(true)
      return
    }
    throw error
  } finally {
    source.destroy()
    parser.destroy()
  }
}

const isCsvError = (error: unknown): error is Error & { readonly code: string } =>
  error instanceof Error && "code" in error && typeof error.code === "string" &&
  (error.code.startsWith("CSV_") || error.code === "INVALID_OPENING_QUOTE")

const errorLine = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && "lines" in error && typeof error.lines === "number"
    ? error.lines
    : undefined

/** A failure to read `file` as a typed error. @internal */
export const fileError = (file: string, operation: string) => (cause: unknown): CsvFileError =>
  new CsvFileError({
    path: file,
    operation,
    reason: cause instanceof Error ? cause.message : String(cause)
  })

/** The zone a file's wall-clock timestamps are read in: the config's, else `fallback`, else UTC. @internal */
export const zoneOf = (config: CsvConfig, fallback: string | undefined): DateTime.TimeZone =>
  Either.getOrElse(
    Time.zone(config.timezone ?? fallback ?? "UTC"),
    () => Either.getOrThrow(Time.zone("UTC"))
  )

/**
 * `read` of a file as a Stream (the file is opened when the stream runs); `timezone` is the
 * fallback zone when the config names none.
 *
 * @internal
 */
export const streamFile = (
  file: string,
  config: CsvConfig,
  options: {
    readonly timezone?: string | undefined
    readonly fromLine?: number | undefined
    readonly maxRows?: number | undefined
  } = {}
): Stream.Stream<Event, CsvFileError> =>
  Stream.suspend(() =>
    Stream.fromAsyncIterable(
      read({
        file,
        config,
        zone: zoneOf(config, options.timezone),
        fromLine: options.fromLine,
        maxRows: options.maxRows
      }),
      fileError(file, "read")
    )
  )
