/**
 * The CSV connector value (`key: "csv"`, on-premise). Its `pull` reads the configured files in
 * place and returns the records of a window; its `check` is a dry-run preview.
 *
 * `pull` treats what the source holds as the truth, as the scheduler expects: for a folder, the
 * files waiting in it plus those in its archive (which holds each imported content once, see
 * `CsvImporter`), oldest first; for a file list, the listed files. So the scheduler re-reading a
 * window finds what the importer applied, and both agree.
 *
 * Rejected rows: with `strict: true` the first one fails the pull (`InvalidData` naming
 * `file:line` and the column) and the window is not applied; otherwise each is logged as a
 * warning and skipped. `CsvImporter` is the path that keeps them on the import run and writes
 * `<name>.errors.csv`.
 *
 * @since 0.1.0
 */
import { Connector, Domain } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { CsvConfig } from "./CsvConfig.js"
import type { CsvFileError } from "./CsvError.js"
import { foldersFor } from "./CsvImporter.js"
import * as CsvPreview from "./CsvPreview.js"
import * as CsvReader from "./CsvReader.js"
import * as Files from "./internal/files.js"

/**
 * The files `pull` reads, oldest first: a folder's waiting files and its archive, or the
 * listed files.
 *
 * @since 0.1.0 @category accessors
 */
export const pullFiles = (config: CsvConfig): Effect.Effect<ReadonlyArray<string>, CsvFileError> => {
  const source = config.source
  if (!("folder" in source)) return CsvPreview.sourceFiles(config)
  const { archive } = foldersFor(config, path.join(source.folder, "x"))
  return Effect.map(
    Effect.all([Files.listFolder(source.folder, source.pattern), Files.listFolder(archive, source.pattern, true)]),
    ([waiting, archived]) =>
      [...archived, ...waiting].sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path)).map((f) =>
        f.path
      )
  )
}

/**
 * The part of a batch that belongs to a window (see `Connector`'s module docs).
 *
 * @since 0.1.0 @category windows
 */
export const inWindow = (batch: Domain.Batch, window: Connector.Window): Domain.Batch => {
  const from = DateTime.toEpochMillis(window.from)
  const to = DateTime.toEpochMillis(window.to)
  const inside = (ms: number) => ms >= from && ms < to
  return {
    contacts: batch.contacts.filter((c) => inside(c.timestamp.epochMillis)),
    aggregates: batch.aggregates.filter((a) => inside(a.start.epochMillis)),
    statuses: batch.statuses.filter((s) =>
      s.start.epochMillis < to && (s.end === null || s.end.epochMillis > from)
    )
  }
}

const pullFile = (file: string, config: CsvConfig, window: Connector.Window) =>
  CsvReader.read(file, config).pipe(
    Stream.mapError((e) => new Connector.Transient({ reason: e.message })),
    Stream.mapEffect((chunk) =>
      Effect.gen(function*() {
        const first = chunk.problems[0]
        if (first !== undefined && (config.strict || (chunk.fatal && chunk.rows === 0))) {
          return yield* new Connector.InvalidData({
            record: first.line === null ? first.file : `${first.file}:${first.line}`,
            reason: `${first.column === null ? "" : `${first.column}: `}${first.reason}`
          })
        }
        for (const p of chunk.problems.slice(0, 100)) {
          yield* Effect.logWarning(`row skipped: ${CsvReader.formatProblem(p)}`)
        }
        return inWindow(chunk.batch, window)
      })
    ),
    Stream.filter((batch) => Domain.batchSize(batch) > 0)
  )

/**
 * Reads the window `[from, to)` from the configured files.
 *
 * @since 0.1.0 @category windows
 */
export const pull = (config: CsvConfig, window: Connector.Window): Stream.Stream<Domain.Batch, Connector.ConnectorError> =>
  Stream.fromEffect(
    pullFiles(config).pipe(Effect.mapError((e) => new Connector.Transient({ reason: e.message })))
  ).pipe(
    Stream.flatMap((files) => Stream.fromIterable(files)),
    Stream.flatMap((file) => pullFile(file, config, window))
  )

/**
 * The CSV connector.
 *
 * @since 0.1.0 @category connectors
 */
export const connector = Connector.make({
  key: "csv",
  displayName: "CSV files",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: CsvConfig,
  pull,
  check: CsvPreview.check
})
