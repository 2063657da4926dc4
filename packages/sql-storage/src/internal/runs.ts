/** Import runs (ids unique by the table's constraint) and cursors (with compare-and-set). */
import type { Domain, StorageDriver } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Dialect } from "./dialect.js"
import { edge } from "./dialect.js"
import * as Rows from "./rows.js"

const runColumns = [
  "id",
  "integration_id",
  "kind",
  "window_start",
  "window_end",
  "records_read",
  "records_applied",
  "records_rejected",
  "started_at",
  "duration_ms",
  "error",
  "problems"
] as const

export const runs = ({ isPg, sql }: Dialect): StorageDriver.StorageDriverShape["runs"] => {
  // every batch writes its run: one SQL text made once, not a statement built per call
  const insertText = `INSERT INTO import_runs (${runColumns.join(", ")}) VALUES (${
    runColumns.map((_, i) => (isPg ? `$${i + 1}` : "?")).join(", ")
  })`
  return {
    insert: (run) =>
      sql.unsafe(insertText, [
        run.id,
        run.integrationId,
        run.kind,
        Rows.millisOrNull(run.windowStart),
        Rows.millisOrNull(run.windowEnd),
        run.read,
        run.applied,
        run.rejected,
        Rows.millis(run.startedAt),
        run.durationMs,
        run.error,
        JSON.stringify(run.problems)
      ]).pipe(Effect.asVoid, edge("runs.insert")),
    list: (id, limit) =>
      sql<Rows.ImportRunRow>`SELECT id, integration_id, kind, window_start, window_end, records_read,
        records_applied, records_rejected, started_at, duration_ms, error, problems
        FROM import_runs WHERE integration_id = ${id} ORDER BY started_at DESC, seq ASC LIMIT ${
        Math.max(0, Math.floor(limit))
      }`.pipe(
        Effect.flatMap((rows) => Effect.forEach(rows, Rows.importRunFromRow)),
        edge("runs.list")
      ),
    integrations: (before) =>
      sql<{ readonly integration_id: string }>`SELECT DISTINCT integration_id FROM import_runs
        WHERE started_at < ${before}`.pipe(
        Effect.map((rows) => rows.map((r) => r.integration_id as Domain.IntegrationId)),
        edge("runs.integrations")
      ),
    // the keep-th newest run's start bounds what goes: a NULL bound (fewer runs) deletes nothing
    prune: (id, before, keep, limit) =>
      sql<{ readonly seq: Rows.Num }>`DELETE FROM import_runs WHERE seq IN (
        SELECT seq FROM import_runs WHERE integration_id = ${id} AND started_at < ${before}
          AND started_at < (SELECT started_at FROM import_runs WHERE integration_id = ${id}
            ORDER BY started_at DESC, seq DESC LIMIT 1 OFFSET ${Math.max(0, Math.floor(keep) - 1)})
        ORDER BY started_at LIMIT ${Math.max(0, Math.floor(limit))}
      ) RETURNING seq`.pipe(Effect.map((rows) => rows.length), edge("runs.prune"))
  }
}

export const cursors = ({ sql }: Dialect): StorageDriver.StorageDriverShape["cursors"] => ({
  get: (id, stream) =>
    sql<{ readonly value: Rows.Num }>`SELECT value FROM cursors WHERE integration_id = ${id} AND stream = ${stream}`
      .pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => Rows.num(r.value))),
        edge("cursors.get")
      ),
  list: (id) =>
    sql<{ readonly stream: string; readonly value: Rows.Num }>`SELECT stream, value FROM cursors
      WHERE integration_id = ${id} ORDER BY stream`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.stream, Rows.num(r.value)] as const))),
      edge("cursors.list")
    ),
  listMany: (ids, streams) =>
    sql<{ readonly integration_id: Domain.IntegrationId; readonly stream: string; readonly value: Rows.Num }>`
      SELECT integration_id, stream, value FROM cursors
      WHERE integration_id IN ${sql.in(ids)} AND stream IN ${sql.in(streams)}`.pipe(
      Effect.map((rows) => rows.map((r) => ({ id: r.integration_id, stream: r.stream, value: Rows.num(r.value) }))),
      edge("cursors.listMany")
    ),
  set: (id, stream, value) =>
    sql`INSERT INTO cursors ${sql.insert({ integration_id: id, stream, value })}
      ON CONFLICT (integration_id, stream) DO UPDATE SET value = excluded.value`.pipe(
      Effect.asVoid,
      edge("cursors.set")
    ),
  compareAndSet: (id, stream, expected, value) =>
    (expected === null
      ? sql<{ readonly stream: string }>`INSERT INTO cursors ${sql.insert({ integration_id: id, stream, value })}
          ON CONFLICT (integration_id, stream) DO NOTHING RETURNING stream`
      : sql<{ readonly stream: string }>`UPDATE cursors SET value = ${value}
          WHERE integration_id = ${id} AND stream = ${stream} AND value = ${expected} RETURNING stream`).pipe(
        Effect.map((rows) => rows.length > 0),
        edge("cursors.compareAndSet")
      )
})
