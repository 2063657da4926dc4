/**
 * Imports CSV files into the engine, one file at a time, exactly once:
 *
 * 1. the file's SHA-256 is looked up in the integration's cursors (the ledger): content that
 *    was imported before is not applied again, whatever the file's name;
 * 2. in `strict` mode the whole file is checked first, and any bad row rejects it;
 * 3. the file is read in chunks of `chunkSize` rows, each applied with `Ingest.importWindow` in
 *    one transaction together with the file's progress (the last line applied) as watermark,
 *    so a crash resumes after the last applied chunk and nothing is applied twice;
 * 4. an empty transaction marks the content `applied` and writes the file's one `ImportRun`,
 *    with its rejected rows (`problems`);
 * 5. the file moves to `archive/` (or `failed/` when nothing of it could be applied), with
 *    `<name>.errors.csv` beside it listing line, column and reason of each rejected row; a
 *    copy of content imported before goes to `archive/duplicates/`. So `archive/` holds each
 *    imported content once, which is what the connector's `pull` reads besides the folder;
 * 6. a last transaction marks the content `done`: later copies are duplicates.
 *
 * A crash between 4 and 6 leaves the content `applied`: at the next import the file is archived
 * if the archive doesn't hold that content yet (it is the same file, its move was cut short),
 * and treated as a duplicate if it does (the move had happened; this is another copy).
 *
 * `poll` and `watch` run this over a drop folder; a file is read only once its size and
 * modification time were the same at two polls in a row (a file still being written waits).
 *
 * @since 0.1.0
 */
import { ConnectorRegistry, Domain, type Errors, Ingest, Storage } from "@acd-bridge/core"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { CsvConfig } from "./CsvConfig.js"
import type { CsvFileError } from "./CsvError.js"
import type { CsvProblem } from "./CsvReader.js"
import * as CsvReader from "./CsvReader.js"
import * as Files from "./internal/files.js"
import * as Reader from "./internal/reader.js"

/** The connector key the importer's integrations use. @since 0.1.0 @category constants */
export const connectorKey = "csv"

/** Cursor value marking a file's content as completely imported and archived. @since 0.1.0 @category constants */
export const done = Number.MAX_SAFE_INTEGER

/**
 * Cursor value marking a file's content as completely applied, its archiving not yet confirmed.
 *
 * @since 0.1.0 @category constants
 */
export const applied = Number.MAX_SAFE_INTEGER - 1

/** The ledger stream (cursor name) of a content hash. @since 0.1.0 @category constants */
export const ledgerStream = (sha256: string): string => `csv:sha256:${sha256}`

/** Problems kept per file for the errors report (the run keeps the first 1,000). @since 0.1.0 @category constants */
export const maxReportedProblems = 100_000

/**
 * What happened to one file.
 *
 * - `imported`: its good rows were applied (some rows may have been rejected: `problems`);
 * - `duplicate`: the same content was imported before; nothing applied;
 * - `rejected`: nothing applied (strict mode with bad rows, missing columns, no good row).
 *
 * @since 0.1.0 @category models
 */
export interface FileImport {
  readonly file: string
  readonly sha256: string
  readonly outcome: "imported" | "duplicate" | "rejected"
  /** data rows read in this run */
  readonly read: number
  readonly applied: number
  readonly rejected: number
  /** the first 1,000 problems (the errors file lists up to 100,000) */
  readonly problems: ReadonlyArray<CsvProblem>
  /** a crash was resumed: lines up to this one had been applied before */
  readonly resumedAfterLine: number
  /** where the file was moved (null when `move: false`) */
  readonly movedTo: string | null
  /** the `<name>.errors.csv` written beside it, if any */
  readonly errorsFile: string | null
}

/** @since 0.1.0 @category models */
export interface ImportOptions {
  /** the decoded config; default: the integration's config decoded with `CsvConfig` */
  readonly config?: CsvConfig | undefined
  /** move the file to archive/failed afterwards (default true) */
  readonly move?: boolean | undefined
}

/** The errors an import can fail with (the file then stays where it is and is retried). @since 0.1.0 @category models */
export type ImportError =
  | CsvFileError
  | Errors.InvalidConfig
  | Errors.InvalidRecord
  | Errors.StorageError
  | Errors.IntegrationNotFound
  | Errors.IntegrationDeleted
  | Errors.IntegrationNotActive
  | Errors.StagingFull
  | Errors.IdempotencyKeyReused

/**
 * Decodes an integration's stored config.
 *
 * @since 0.1.0 @category constructors
 */
export const decodeConfig = (raw: unknown): Effect.Effect<CsvConfig, Errors.InvalidConfig> =>
  ConnectorRegistry.decodeConfig({ key: connectorKey, configSchema: CsvConfig }, raw)


/** The archive and failed folders of a file. @since 0.1.0 @category accessors */
export const foldersFor = (config: CsvConfig, file: string): { readonly archive: string; readonly failed: string } => {
  const source = config.source
  const base = "folder" in source ? source.folder : path.dirname(file)
  return {
    archive: ("folder" in source ? source.archiveFolder : undefined) ?? path.join(base, "archive"),
    failed: ("folder" in source ? source.failedFolder : undefined) ?? path.join(base, "failed")
  }
}

interface Tally {
  read: number
  applied: number
  rejected: number
  problems: Array<CsvProblem>
  omitted: number
  fatal: CsvProblem | undefined
  from: number
  to: number
}

const tallyChunk = (tally: Tally, chunk: Reader.Chunk, batch: Domain.Batch) => {
  tally.read += chunk.rows
  tally.rejected += chunk.rejected
  for (const p of chunk.problems) {
    if (tally.problems.length < maxReportedProblems) tally.problems.push(p)
    else tally.omitted++
  }
  if (chunk.fatal) tally.fatal = chunk.problems[chunk.problems.length - 1]
  const at = (ms: number) => {
    if (ms < tally.from) tally.from = ms
    if (ms >= tally.to) tally.to = ms + 1
  }
  for (const c of batch.contacts) at(c.timestamp.epochMillis)
  for (const a of batch.aggregates) {
    at(a.start.epochMillis)
    at(a.start.epochMillis + a.lengthMinutes * 60_000 - 1)
  }
  for (const s of batch.statuses) at(s.start.epochMillis)
}

/**
 * @since 0.1.0 @category services
 */
export class CsvImporter extends Effect.Service<CsvImporter>()("@acd-bridge/csv/CsvImporter", {
  effect: Effect.gen(function*() {
    const ingest = yield* Ingest.Ingest
    const storage = yield* Storage.Storage
    /** per integration: the files seen at the last poll, with size and mtime */
    const seen = new Map<string, Map<string, Files.FileStat>>()

    const summaryOf = (started: number, tally: Tally, error: string | null): Ingest.ImportRunSummary => ({
      started,
      read: tally.read,
      applied: tally.applied,
      rejected: tally.rejected,
      window: tally.from < tally.to ? { from: tally.from, to: tally.to } : undefined,
      error,
      problems: tally.problems.slice(0, 1_000).map(CsvReader.toCoreProblem)
    })

    /** A run on its own: a file of which nothing was applied. */
    const recordRun = (integration: Domain.Integration, started: number, tally: Tally, error: string | null) => {
      const summary = summaryOf(started, tally, error)
      return ingest.record(
        integration.id,
        "pull",
        started,
        { read: summary.read, applied: summary.applied, rejected: summary.rejected },
        summary.window,
        error,
        summary.problems
      )
    }

    const finish = (
      file: string,
      hash: string,
      folder: string,
      move: boolean,
      problems: ReadonlyArray<CsvProblem>,
      omitted: number
    ) =>
      Effect.gen(function*() {
        const movedTo = move ? yield* Files.moveInto(file, folder, hash) : null
        const errorsFile = problems.length > 0 ? yield* Files.writeErrors(movedTo ?? file, problems, omitted) : null
        return { movedTo, errorsFile }
      })

    /**
     * Imports one file for an integration. See the module documentation for the steps.
     */
    const importFile = Effect.fn("CsvImporter.importFile")(
      function*(integration: Domain.Integration, file: string, options: ImportOptions = {}) {
        const config = options.config ?? (yield* decodeConfig(integration.config))
        const move = options.move ?? true
        const folders = foldersFor(config, file)
        const started = yield* Clock.currentTimeMillis
        const hash = yield* Files.sha256(file)
        const stream = ledgerStream(hash)
        const committed = Option.getOrElse(yield* storage.cursors.get(integration.id, stream), () => 0)
        yield* Effect.annotateCurrentSpan({ integrationId: integration.id, file, sha256: hash })
        const tally: Tally = {
          read: 0,
          applied: 0,
          rejected: 0,
          problems: [],
          omitted: 0,
          fatal: undefined,
          from: Number.POSITIVE_INFINITY,
          to: Number.NEGATIVE_INFINITY
        }
        const result = (
          outcome: FileImport["outcome"],
          moved: { readonly movedTo: string | null; readonly errorsFile: string | null }
        ): FileImport => ({
          file,
          sha256: hash,
          outcome,
          read: tally.read,
          applied: tally.applied,
          rejected: tally.rejected,
          problems: tally.problems.slice(0, 1_000),
          resumedAfterLine: committed >= applied ? 0 : committed,
          ...moved
        })

        const mark = (value: number, runSummary?: Ingest.ImportRunSummary) =>
          ingest.importWindow({
            integration,
            batch: Domain.emptyBatch,
            kind: "pull",
            watermark: { stream, value },
            recordRun: false,
            runSummary
          })
        const duplicate = Effect.gen(function*() {
          yield* Effect.logInfo("same content was imported before; not applied again").pipe(
            Effect.annotateLogs({ integrationId: integration.id, file, sha256: hash })
          )
          const moved = move ? yield* Files.moveInto(file, path.join(folders.archive, "duplicates"), hash) : null
          return result("duplicate", { movedTo: moved, errorsFile: null })
        })

        if (committed === done) return yield* duplicate
        if (committed === applied) {
          // the content was applied and then the import stopped before it was marked done
          const archived = move ? yield* Files.findContent(folders.archive, file, hash) : Option.none()
          if (Option.isSome(archived)) {
            yield* mark(done)
            return yield* duplicate
          }
          yield* Effect.logInfo("content applied before, its archiving was cut short: archiving it now").pipe(
            Effect.annotateLogs({ integrationId: integration.id, file, sha256: hash })
          )
          const movedTo = move ? yield* Files.moveInto(file, folders.archive, hash) : null
          yield* mark(done)
          return result("imported", { movedTo, errorsFile: null })
        }

        const reject = (error: string) =>
          Effect.gen(function*() {
            yield* recordRun(integration, started, { ...tally, applied: 0 }, error)
            yield* Effect.logWarning(error).pipe(Effect.annotateLogs({ integrationId: integration.id, file }))
            const moved = yield* finish(file, hash, folders.failed, move, tally.problems, tally.omitted)
            return result("rejected", moved)
          })

        const readOptions = { timezone: config.timezone ?? integration.timezone }
        if (config.strict) {
          const summary = yield* CsvReader.summarize(file, config, {
            ...readOptions,
            maxProblems: maxReportedProblems
          })
          if (summary.rejected > 0 || summary.fatal) {
            tally.read = summary.rows
            tally.rejected = summary.rows
            tally.problems = [...summary.problems]
            tally.omitted = Math.max(0, summary.rejected - summary.problems.length)
            const first = summary.problems[0]
            return yield* reject(
              `strict: ${summary.rejected} row${summary.rejected === 1 ? "" : "s"} rejected, nothing of the file applied${
                first ? ` (first: ${CsvReader.formatProblem(first)})` : ""
              }`
            )
          }
        }

        const chunks = Reader.streamFile(file, config, { ...readOptions, fromLine: committed }).pipe(
          Stream.filter((event): event is Reader.Chunk => event._tag === "Chunk")
        )
        yield* Stream.runForEach(
          chunks,
          (chunk) =>
            Effect.gen(function*() {
              // the records are built here, right before their transaction, and die with it
              const batch = Reader.toBatch(chunk)
              tallyChunk(tally, chunk, batch)
              const size = Domain.batchSize(batch)
              if (size === 0) return
              yield* ingest.importWindow({
                integration,
                batch,
                kind: "pull",
                watermark: { stream, value: chunk.lastLine },
                recordRun: false
              })
              tally.applied += size
            })
        )

        if (committed === 0 && tally.applied === 0 && (tally.rejected > 0 || tally.fatal !== undefined)) {
          const first = tally.fatal ?? tally.problems[0]
          return yield* reject(
            `nothing of the file could be applied${first ? `: ${CsvReader.formatProblem(first)}` : ""}`
          )
        }

        const error = tally.fatal === undefined
          ? null
          : `reading stopped at ${CsvReader.formatProblem(tally.fatal)}; the rows before it were applied`
        // the file's run is written with the `applied` mark: both or neither survive a crash
        yield* mark(applied, summaryOf(started, tally, error))
        const moved = yield* finish(file, hash, folders.archive, move, tally.problems, tally.omitted)
        // archived: later copies are duplicates
        yield* mark(done)
        yield* Effect.logInfo("file imported").pipe(
          Effect.annotateLogs({
            integrationId: integration.id,
            file,
            applied: tally.applied,
            rejected: tally.rejected
          })
        )
        return result("imported", moved)
      }
    )

    /**
     * One poll of an integration's source: files whose size and modification time are the
     * same as at the previous poll are imported, oldest first; the others wait. Nothing is
     * imported while the integration is paused (files are still watched, so complete ones
     * import at the first poll after resume) or deleted. A file that fails to import (unreadable,
     * storage down) stays and is retried at the next poll.
     */
    const poll = Effect.fn("CsvImporter.poll")(function*(integration: Domain.Integration) {
      const current = Option.getOrElse(yield* storage.integrations.get(integration.id), () => integration)
      if (current.status === "deleted") return [] as ReadonlyArray<FileImport>
      const config = yield* decodeConfig(current.config)
      const files = "folder" in config.source
        ? yield* Files.listFolder(config.source.folder, config.source.pattern)
        : yield* Files.statFiles(config.source.files)
      const previous = seen.get(current.id) ?? new Map<string, Files.FileStat>()
      const next = new Map<string, Files.FileStat>()
      const ready: Array<Files.FileStat> = []
      for (const f of files) {
        const before = previous.get(f.path)
        // while paused, sizes are still watched, so a file that is complete imports on resume
        if (before !== undefined && before.size === f.size && before.mtimeMs === f.mtimeMs && current.status === "active") {
          ready.push(f)
        } else next.set(f.path, f)
      }
      ready.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))
      const results: Array<FileImport> = []
      for (const f of ready) {
        const outcome = yield* importFile(current, f.path, { config }).pipe(
          Effect.map(Option.some),
          Effect.catchTag("CsvFileError", (error) =>
            Effect.as(
              Effect.logWarning(`file not imported, retrying at the next poll: ${error.message}`),
              Option.none<FileImport>()
            ))
        )
        if (Option.isSome(outcome)) results.push(outcome.value)
        else next.set(f.path, f)
      }
      seen.set(current.id, next)
      return results as ReadonlyArray<FileImport>
    })

    /**
     * Polls an integration's source every `every` until interrupted. Failures are logged and
     * the next poll tries again.
     */
    const watch = (integration: Domain.Integration, every: Duration.DurationInput) =>
      poll(integration).pipe(
        Effect.catchAll((error) => Effect.logError(`CSV poll failed: ${error.message}`)),
        Effect.repeat(Schedule.spaced(every)),
        Effect.asVoid
      )

    return { importFile, poll, watch } as const
  })
}) {}
