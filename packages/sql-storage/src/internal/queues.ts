/** Queue rows: by hand (upsert by id) and the ones integrations create (unique identity). */
import { Domain, type StorageDriver } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { Dialect } from "./dialect.js"
import { chunks, edge } from "./dialect.js"
import * as Rows from "./rows.js"

const queueRow = (q: Domain.Queue, bool: Dialect["bool"]) => ({
  id: q.id,
  tenant_id: q.tenantId,
  integration_id: q.integrationId,
  identifier: q.identifier,
  name: q.name,
  channel: q.channel,
  created_by_integration: bool(q.createdByIntegration),
  created_at: Rows.millis(q.createdAt)
})

export const make = ({ bool, isPg, sql }: Dialect): StorageDriver.StorageDriverShape["queues"] => {
  const columns = sql.literal(Rows.queueColumns)
  // Every batch looks its queues up: one statement whatever their number (the identifiers as
  // one JSON parameter), and the flag written as the literal of the partial identity index's
  // WHERE so the planner may use that index (a bound parameter doesn't prove it).
  const findOwnText = isPg
    ? `SELECT id, identifier, name FROM queues WHERE integration_id = $1 AND created_by_integration = true
        AND identifier IN (SELECT jsonb_array_elements_text($2::jsonb))`
    : `SELECT id, identifier, name FROM queues WHERE integration_id = ? AND created_by_integration = 1
        AND identifier IN (SELECT value FROM json_each(?))`
  return {
    insert: (queue) =>
      sql`INSERT INTO queues ${sql.insert(queueRow(queue, bool))}
        ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, integration_id = excluded.integration_id,
        identifier = excluded.identifier, name = excluded.name, channel = excluded.channel,
        created_by_integration = excluded.created_by_integration, created_at = excluded.created_at`.pipe(
        Effect.asVoid,
        edge("queues.insert")
      ),
    get: (id) =>
      sql<Rows.QueueRow>`SELECT ${columns} FROM queues WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.queueFromRow(rows[0]!)))),
        edge("queues.get")
      ),
    list: (tenantId, integrationId) =>
      sql<Rows.QueueRow>`SELECT ${columns} FROM queues WHERE tenant_id = ${tenantId}${
        integrationId === undefined ? sql.literal("") : sql` AND integration_id = ${integrationId}`
      } ORDER BY seq`.pipe(
        Effect.flatMap((rows) => Effect.forEach(rows, Rows.queueFromRow)),
        edge("queues.list")
      ),
    delete: (id) => sql`DELETE FROM queues WHERE id = ${id}`.pipe(Effect.asVoid, edge("queues.delete")),
    findOwn: (integrationId, identifiers) =>
      identifiers.length === 0
        ? Effect.succeed([])
        : sql.unsafe<{ readonly id: string; readonly identifier: string; readonly name: string }>(
          findOwnText,
          [integrationId, JSON.stringify(identifiers)]
        ).pipe(
          Effect.map((rows) =>
            rows.map((row) => ({ id: Domain.QueueId.make(row.id), identifier: row.identifier, name: row.name }))
          ),
          edge("queues.findOwn")
        ),
    insertOwn: (queues) =>
      Effect.gen(function*() {
        const inserted = new Set<Domain.QueueId>()
        for (const chunk of chunks(queues)) {
          // a queue another transaction created first is skipped (its identity is unique)
          const rows = yield* sql<{ readonly id: string }>`INSERT INTO queues ${
            sql.insert(chunk.map((q) => queueRow(q, bool)))
          } ON CONFLICT DO NOTHING RETURNING id`
          for (const row of rows) inserted.add(Domain.QueueId.make(row.id))
        }
        return inserted as ReadonlySet<Domain.QueueId>
      }).pipe(edge("queues.insertOwn"))
  }
}
