/**
 * The link's durable outbox (a SQLite file): a window's result is written here before it is
 * uploaded, and deleted only after the engine confirmed its commit, so an engine or network
 * outage (or a link restart) loses no work already done. A result the engine refuses as bad
 * data (a 4xx) is parked with the reason instead of being retried forever.
 *
 * @since 0.3.0
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * One result waiting for its commit: the task, the upload's id, its parts (each a
 * `Domain.BatchJson` text) and their record count.
 *
 * @since 0.3.0 @category models
 */
export interface Entry {
  readonly taskId: string
  readonly integrationId: string
  readonly resultId: string
  readonly parts: ReadonlyArray<string>
  readonly records: number
  readonly createdAt: number
  /** a file's result: rows the link could not read, with the first problems (sent with the commit) */
  readonly rejected?: number | undefined
  readonly problems?: ReadonlyArray<{ readonly record: string; readonly field: string | null; readonly reason: string }> | undefined
  /** a file's result: the file, moved to archive or failed once the engine answered */
  readonly file?: FileMeta | undefined
}

/**
 * The file an outbox entry came from, and what the link found wrong in it (for
 * `<name>.errors.csv`).
 *
 * @since 0.3.0 @category models
 */
export interface FileMeta {
  readonly path: string
  readonly sha256: string
  readonly problems: ReadonlyArray<{ readonly file: string; readonly line: number | null; readonly column: string | null; readonly reason: string }>
  readonly omitted: number
}

/**
 * The file ledger: what became of each content (by SHA-256) the link offered for an
 * integration. Content `committed` before is not offered again; `refused` content goes to
 * `failed/` again.
 *
 * @since 0.3.0 @category models
 */
export interface LedgerEntry {
  readonly integrationId: string
  readonly sha256: string
  readonly name: string
  readonly state: "committed" | "refused"
  readonly reason: string | null
  readonly at: number
}

/** A parked result: the engine refused it. @since 0.3.0 @category models */
export interface Parked {
  readonly taskId: string
  readonly integrationId: string
  readonly records: number
  readonly reason: string
}

/** @since 0.3.0 @category models */
export interface OutboxShape {
  /** Keeps the result durably (a repeat of the task replaces it). */
  readonly put: (entry: Entry) => Effect.Effect<void>
  /** The results still to upload, oldest first. */
  readonly ready: Effect.Effect<ReadonlyArray<Entry>>
  /** Deletes a result the engine committed (or whose task ended). */
  readonly remove: (taskId: string) => Effect.Effect<void>
  /** Parks a result the engine refused, with the reason. */
  readonly park: (taskId: string, reason: string) => Effect.Effect<void>
  readonly parked: Effect.Effect<ReadonlyArray<Parked>>
  /** Results waiting for upload. */
  readonly depth: Effect.Effect<number>
  /** What became of a content the link offered for the integration, if anything. */
  readonly ledger: (integrationId: string, sha256: string) => Effect.Effect<LedgerEntry | undefined>
  /** Records what became of a content (a repeat replaces it). */
  readonly recordFile: (entry: LedgerEntry) => Effect.Effect<void>
}

/** @since 0.3.0 @category tags */
export class Outbox extends Context.Tag("@acd-bridge/link/Outbox")<Outbox, OutboxShape>() {}

interface Row {
  readonly task_id: string
  readonly integration_id: string
  readonly result_id: string
  readonly parts: string
  readonly records: number
  readonly created_at: number
  readonly reason: string | null
  readonly meta: string | null
}

/**
 * The outbox over the `SqlClient` in context (its table is created when missing). A storage
 * failure of the outbox is a defect: a link that can't keep its results must stop, not go on.
 *
 * @since 0.3.0 @category constructors
 */
export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS outbox (
    task_id TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL,
    result_id TEXT NOT NULL,
    parts TEXT NOT NULL,
    records INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT
  )`.pipe(Effect.orDie)
  // outboxes written by releases before file results have no `meta` column yet
  const columns = yield* sql<{ readonly name: string }>`PRAGMA table_info(outbox)`.pipe(Effect.orDie)
  if (!columns.some((c) => c.name === "meta")) yield* sql`ALTER TABLE outbox ADD COLUMN meta TEXT`.pipe(Effect.orDie)
  yield* sql`CREATE TABLE IF NOT EXISTS files (
    integration_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (integration_id, sha256)
  )`.pipe(Effect.orDie)
  const toEntry = (r: Row): Entry => {
    const meta = r.meta === null ? {} : JSON.parse(r.meta) as Pick<Entry, "rejected" | "problems" | "file">
    return {
      taskId: r.task_id,
      integrationId: r.integration_id,
      resultId: r.result_id,
      parts: JSON.parse(r.parts) as Array<string>,
      records: r.records,
      createdAt: r.created_at,
      ...meta
    }
  }
  const shape: OutboxShape = {
    put: (e) =>
      sql`INSERT INTO outbox ${
        sql.insert({
          task_id: e.taskId,
          integration_id: e.integrationId,
          result_id: e.resultId,
          parts: JSON.stringify(e.parts),
          records: e.records,
          created_at: e.createdAt,
          state: "ready",
          reason: null,
          meta: e.file === undefined && e.rejected === undefined
            ? null
            : JSON.stringify({ rejected: e.rejected, problems: e.problems, file: e.file })
        })
      } ON CONFLICT (task_id) DO UPDATE SET result_id = excluded.result_id, parts = excluded.parts,
        records = excluded.records, state = 'ready', reason = NULL, meta = excluded.meta`.pipe(
        Effect.asVoid,
        Effect.orDie
      ),
    ready: sql<Row>`SELECT * FROM outbox WHERE state = 'ready' ORDER BY created_at, task_id`.pipe(
      Effect.map((rows) => rows.map(toEntry)),
      Effect.orDie
    ),
    remove: (taskId) => sql`DELETE FROM outbox WHERE task_id = ${taskId}`.pipe(Effect.asVoid, Effect.orDie),
    park: (taskId, reason) =>
      sql`UPDATE outbox SET state = 'parked', reason = ${reason} WHERE task_id = ${taskId}`.pipe(
        Effect.asVoid,
        Effect.orDie
      ),
    parked: sql<Row>`SELECT * FROM outbox WHERE state = 'parked' ORDER BY created_at`.pipe(
      Effect.map((rows) =>
        rows.map((r) => ({
          taskId: r.task_id,
          integrationId: r.integration_id,
          records: r.records,
          reason: r.reason ?? ""
        }))
      ),
      Effect.orDie
    ),
    depth: sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM outbox WHERE state = 'ready'`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      Effect.orDie
    ),
    ledger: (integrationId, sha256) =>
      sql<{ readonly integration_id: string; readonly sha256: string; readonly name: string; readonly state: "committed" | "refused"; readonly reason: string | null; readonly at: number }>`
        SELECT * FROM files WHERE integration_id = ${integrationId} AND sha256 = ${sha256}`.pipe(
        Effect.map((rows) => {
          const r = rows[0]
          return r === undefined ? undefined : {
            integrationId: r.integration_id,
            sha256: r.sha256,
            name: r.name,
            state: r.state,
            reason: r.reason,
            at: Number(r.at)
          }
        }),
        Effect.orDie
      ),
    recordFile: (e) =>
      sql`INSERT INTO files ${
        sql.insert({ integration_id: e.integrationId, sha256: e.sha256, name: e.name, state: e.state, reason: e.reason, at: e.at })
      } ON CONFLICT (integration_id, sha256) DO UPDATE SET name = excluded.name, state = excluded.state,
        reason = excluded.reason, at = excluded.at`.pipe(Effect.asVoid, Effect.orDie)
  }
  return shape
})

/**
 * The outbox in a SQLite file (WAL, full sync: a result the link wrote survives a power loss).
 *
 * @since 0.3.0 @category layers
 */
export const layer = (filename: string): Layer.Layer<Outbox> =>
  Layer.effect(Outbox, make).pipe(
    Layer.provide(
      SqliteClient.layer({ filename }).pipe(
        Layer.tap((context) => Context.get(context, SqliteClient.SqliteClient)`PRAGMA synchronous = FULL`.pipe(Effect.orDie)),
        Layer.orDie
      )
    )
  )
