/**
 * Watched folders: for every `csv` integration whose source is a folder, the link looks at
 * the folder every `watchSeconds` and offers each new file to the engine as a task of its own
 * (`POST /v1/link/files`), uploads its rows in parts and commits them; the engine applies them
 * through the same ingest path as a window's and records the run.
 *
 * The file ledger stays here: the content's SHA-256 names the upload, so the same content
 * offered again (under any name) finds the task that imported it and changes nothing; the
 * outbox's `files` table remembers what became of each content; a file whose result was
 * committed moves to `archive/` (a copy of content imported before to `archive/duplicates/`),
 * one the engine refused to `failed/` with `<name>.errors.csv` beside it listing its bad rows.
 * A file is read only once its size and modification time were the same at two looks in a
 * row (a file still being written waits).
 *
 * @since 0.3.0
 */
import { CsvConfig, CsvFiles, CsvImporter, CsvReader } from "@acd-bridge/csv"
import type { Domain } from "@acd-bridge/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import type { Client, Uploaded } from "./Agent.js"
import type { LinkConfig } from "./LinkConfig.js"
import type { Entry } from "./Outbox.js"
import { toParts } from "./internal/partText.js"
import { Outbox } from "./Outbox.js"

const decodeCsv = Schema.decodeUnknownEither(CsvConfig.CsvConfig)

/** Problems kept per file for `<name>.errors.csv` and the engine's run. */
const keptProblems = 1_000

/** A watched integration: its id and its decoded csv config with a folder source. */
interface Watched {
  readonly id: string
  readonly csv: CsvConfig.CsvConfig
  readonly folder: string
  readonly pattern: string
}

/**
 * The integrations of the configuration whose folders the link watches: `csv` ones with a
 * `source.folder` (a config the connector refuses is reported by `acd-link check`).
 *
 * @since 0.3.0 @category accessors
 */
export const watched = (config: LinkConfig): ReadonlyArray<Watched> =>
  config.integrations.flatMap((entry) => {
    if (entry.connector !== "csv") return []
    const decoded = decodeCsv(entry.config)
    if (Either.isLeft(decoded) || !("folder" in decoded.right.source)) return []
    const source = decoded.right.source
    return [{ id: entry.id, csv: decoded.right, folder: source.folder, pattern: source.pattern }]
  })

/** Moves the file into the folder, unless it is gone already (an earlier settle moved it). */
const moveQuietly = (file: string, folder: string, hash: string) =>
  CsvFiles.moveInto(file, folder, hash).pipe(
    Effect.map((moved): string | null => moved),
    Effect.catchAll((error) => Effect.as(Effect.logWarning(`could not move ${file}: ${error.message}`), null))
  )

/**
 * What follows an uploaded file result: committed, the file moves to `archive/` and its
 * content is `committed` in the ledger; refused (parked), it moves to `failed/` with its
 * errors report and the content is `refused` with the engine's reason.
 *
 * @since 0.3.0 @category constructors
 */
export const settle = (config: LinkConfig, entry: Entry, outcome: Uploaded) =>
  Effect.gen(function*() {
    const file = entry.file
    const integration = watched(config).find((w) => w.id === entry.integrationId)
    if (file === undefined || integration === undefined || outcome._tag === "Dropped") return
    const outbox = yield* Outbox
    const folders = CsvImporter.foldersFor(integration.csv, file.path)
    const at = yield* Clock.currentTimeMillis
    const name = path.basename(file.path)
    if (outcome._tag === "Committed") {
      yield* moveQuietly(file.path, folders.archive, file.sha256)
      yield* outbox.recordFile({ integrationId: entry.integrationId, sha256: file.sha256, name, state: "committed", reason: null, at })
      yield* Effect.logInfo("file imported").pipe(Effect.annotateLogs({ integrationId: entry.integrationId, file: name, records: entry.records }))
      return
    }
    const moved = yield* moveQuietly(file.path, folders.failed, file.sha256)
    if (moved !== null && file.problems.length > 0) {
      yield* CsvFiles.writeErrors(moved, file.problems, file.omitted).pipe(
        Effect.catchAll((error) => Effect.logWarning(`could not write the errors report: ${error.message}`))
      )
    }
    yield* outbox.recordFile({ integrationId: entry.integrationId, sha256: file.sha256, name, state: "refused", reason: outcome.reason, at })
    yield* Effect.logWarning(`file refused, moved to ${folders.failed}: ${outcome.reason}`).pipe(
      Effect.annotateLogs({ integrationId: entry.integrationId, file: name })
    )
  })

/** Reads a whole file: its records, and the rows it could not read. */
const readFile = (file: string, csv: CsvConfig.CsvConfig) =>
  Stream.runFold(
    CsvReader.read(file, csv, { timezone: csv.timezone ?? "UTC" }),
    {
      batch: { contacts: [], aggregates: [], statuses: [] } as {
        contacts: Array<Domain.ContactEvent>
        aggregates: Array<Domain.IntervalAggregate>
        statuses: Array<Domain.AgentStatus>
      },
      rows: 0,
      rejected: 0,
      problems: [] as Array<CsvReader.CsvProblem>,
      omitted: 0
    },
    (acc, chunk) => {
      acc.batch.contacts.push(...chunk.batch.contacts)
      acc.batch.aggregates.push(...chunk.batch.aggregates)
      acc.batch.statuses.push(...chunk.batch.statuses)
      acc.rows += chunk.rows
      // a problem that stops the reading (missing columns) counts as a rejected row
      acc.rejected += chunk.rejected === 0 && chunk.fatal ? 1 : chunk.rejected
      for (const p of chunk.problems) {
        if (acc.problems.length < keptProblems) acc.problems.push(p)
        else acc.omitted++
      }
      return acc
    }
  )

/**
 * Offers one file: a content the ledger knows is moved at once (imported before: to
 * `archive/duplicates/`; refused before: to `failed/`); otherwise it is read, offered, kept in
 * the outbox and uploaded with `deliver`.
 */
const offer = (
  client: Client,
  config: LinkConfig,
  integration: Watched,
  file: string,
  deliver: (entry: Entry) => Effect.Effect<void, never, Outbox>
) =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    const name = path.basename(file)
    const sha256 = yield* CsvFiles.sha256(file)
    const folders = CsvImporter.foldersFor(integration.csv, file)
    const known = yield* outbox.ledger(integration.id, sha256)
    const at = yield* Clock.currentTimeMillis
    const annotate = Effect.annotateLogs({ integrationId: integration.id, file: name, sha256 })
    const duplicate = Effect.gen(function*() {
      yield* moveQuietly(file, path.join(folders.archive, "duplicates"), sha256)
      yield* Effect.logInfo("same content was imported before; not offered again").pipe(annotate)
    })
    if (known?.state === "committed") return yield* duplicate
    if (known?.state === "refused") {
      yield* moveQuietly(file, folders.failed, sha256)
      return yield* Effect.logWarning(`same content was refused before: ${known.reason ?? ""}`).pipe(annotate)
    }
    const read = yield* readFile(file, integration.csv)
    const task = yield* client.offerFile({ integrationId: integration.id, name, sha256 })
    if (task.state === "committed") {
      yield* outbox.recordFile({ integrationId: integration.id, sha256, name, state: "committed", reason: null, at })
      // committed, and the archive lacks it: this is the file whose move was cut short (the link
      // stopped between the commit and the move), so it goes to the archive `pull` reads
      const archived = yield* CsvFiles.findContent(folders.archive, file, sha256)
      if (Option.isNone(archived)) {
        yield* moveQuietly(file, folders.archive, sha256)
        return yield* Effect.logInfo("committed before, its move was cut short: archived now").pipe(annotate)
      }
      return yield* duplicate
    }
    if (task.state !== "leased" && task.state !== "pending") {
      // refused before (the ledger was lost): failed again, with the engine's reason
      yield* outbox.recordFile({ integrationId: integration.id, sha256, name, state: "refused", reason: task.error, at })
      yield* moveQuietly(file, folders.failed, sha256)
      return yield* Effect.logWarning(`the engine refused this content before: ${task.error ?? task.state}`).pipe(annotate)
    }
    const records = read.batch.contacts.length + read.batch.aggregates.length + read.batch.statuses.length
    const entry: Entry = {
      taskId: task.taskId,
      integrationId: integration.id,
      resultId: task.resultId,
      parts: toParts(read.batch, config.partSize),
      records,
      createdAt: at,
      rejected: read.rejected,
      problems: read.problems.map(CsvReader.toCoreProblem),
      file: { path: file, sha256, problems: read.problems, omitted: read.omitted }
    }
    // durable first: a restart uploads it from the outbox and then moves the file
    yield* outbox.put(entry)
    yield* Effect.logInfo("file read").pipe(annotate, Effect.annotateLogs({ records, rejected: read.rejected }))
    yield* deliver(entry)
  })

/**
 * Watches the folders of the configuration's csv integrations until interrupted, taking a
 * turn of `turns` for each file so that files and windows of this link never overlap.
 *
 * @since 0.3.0 @category constructors
 */
export const watch = (
  client: Client,
  config: LinkConfig,
  deliver: (entry: Entry) => Effect.Effect<void, never, Outbox>,
  turns: Effect.Semaphore
): Effect.Effect<void, never, Outbox> =>
  Effect.gen(function*() {
    const integrations = watched(config)
    if (integrations.length === 0) return
    /** per folder: the files seen at the last look, with size and modification time */
    const seen = new Map<string, Map<string, CsvFiles.FileStat>>()
    const look = (integration: Watched) =>
      Effect.gen(function*() {
        const files = yield* CsvFiles.listFolder(integration.folder, integration.pattern)
        const previous = seen.get(integration.id) ?? new Map<string, CsvFiles.FileStat>()
        const next = new Map<string, CsvFiles.FileStat>()
        const ready: Array<CsvFiles.FileStat> = []
        for (const f of files) {
          const before = previous.get(f.path)
          if (before !== undefined && before.size === f.size && before.mtimeMs === f.mtimeMs) ready.push(f)
          else next.set(f.path, f)
        }
        ready.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))
        for (const f of ready) {
          const done = yield* turns.withPermits(1)(offer(client, config, integration, f.path, deliver)).pipe(
            Effect.as(true),
            Effect.catchAll((error) =>
              Effect.as(Effect.logWarning(`file not offered, trying again at the next look: ${error.message}`), false)
            )
          )
          // not offered (unreadable, the engine unreachable or refusing): looked at again next time
          if (!done) next.set(f.path, f)
        }
        seen.set(integration.id, next)
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning(`could not look at the folder ${integration.folder}: ${error.message}`)),
        Effect.annotateLogs({ integrationId: integration.id })
      )
    while (true) {
      yield* Effect.forEach(integrations, look, { discard: true })
      yield* Effect.sleep(Duration.millis(Math.round(config.watchSeconds * 1000)))
    }
  })
