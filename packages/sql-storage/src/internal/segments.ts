/** Agent segments: the rows a batch's statuses (or a window replace) can touch, their diff, the queries. */
import type { Storage, StorageDriver } from "@acd-bridge/core"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type { Dialect } from "./dialect.js"
import { chunks, edge } from "./dialect.js"
import * as Rows from "./rows.js"

/** The segment query: segments overlapping [from, to) (exported for the index tests). */
export const segmentsStatement = (sql: SqlClient.SqlClient, q: Storage.SegmentQuery) =>
  sql<Rows.SegmentRow>`SELECT ${sql.literal(Rows.segmentColumns)} FROM agent_segments
    WHERE tenant_id = ${q.tenantId}${
    q.integrationId === undefined ? sql.literal("") : sql` AND integration_id = ${q.integrationId}`
  }${q.agentIdentifier === undefined ? sql.literal("") : sql` AND agent_identifier = ${q.agentIdentifier}`}
    AND start_ms < ${q.to} AND (end_ms IS NULL OR end_ms > ${q.from})
    ORDER BY integration_id, agent_identifier, start_ms`

const stored = (row: Rows.SegmentRow): StorageDriver.StoredSegment => ({
  ref: Rows.num(row.seq),
  segment: Rows.segmentFromRow(row)
})

export const make = ({ sql }: Dialect): StorageDriver.StorageDriverShape["segments"] => {
  const columns = sql.literal(Rows.segmentColumns)
  return {
    load: (id, agents, from, to) =>
      Effect.forEach(chunks(agents), (chunk) =>
        sql<Rows.SegmentRow>`SELECT ${columns} FROM agent_segments
          WHERE integration_id = ${id} AND agent_identifier IN ${sql.in(chunk)}
          AND (end_ms IS NULL OR (end_ms >= ${from}${to === null ? sql.literal("") : sql` AND start_ms <= ${to}`}))`).pipe(
        Effect.map((results) => results.flat().map(stored)),
        edge("segments.load")
      ),
    loadWindow: (id, from, to) =>
      sql<Rows.SegmentRow>`SELECT ${columns} FROM agent_segments
        WHERE integration_id = ${id} AND start_ms < ${to} AND (end_ms IS NULL OR end_ms > ${from})`.pipe(
        Effect.map((rows) => rows.map(stored)),
        edge("segments.loadWindow")
      ),
    write: (integration, deletes, inserts) =>
      Effect.gen(function*() {
        for (const chunk of chunks(deletes)) yield* sql`DELETE FROM agent_segments WHERE seq IN ${sql.in(chunk)}`
        for (const chunk of chunks(inserts)) {
          yield* sql`INSERT INTO agent_segments ${
            sql.insert(chunk.map((s) => ({
              integration_id: integration.id,
              tenant_id: integration.tenantId,
              agent_identifier: s.agentIdentifier,
              activity_identifier: s.activityIdentifier,
              start_ms: s.start,
              end_ms: s.end
            })))
          }`
        }
      }).pipe(edge("segments.write")),
    query: (q) => segmentsStatement(sql, q).pipe(Effect.map((rows) => rows.map(Rows.segmentFromRow)), edge("segments.query")),
    counts: (id, by) => {
      const column = sql.literal(by === "agent" ? "agent_identifier" : "activity_identifier")
      return sql<{ readonly external_id: string; readonly segments: Rows.Num }>`SELECT ${column} AS external_id,
        COUNT(*) AS segments FROM agent_segments WHERE integration_id = ${id} GROUP BY ${column}`.pipe(
        Effect.map((rows) => rows.map((r) => ({ externalId: r.external_id, segments: Rows.num(r.segments) }))),
        edge("segments.counts")
      )
    }
  }
}
