/** Agent and activity mappings: upserts by (integration, external id), listed in insertion order. */
import type { StorageDriver } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { Dialect } from "./dialect.js"
import { chunks, edge } from "./dialect.js"

export const make = ({ isPg, sql }: Dialect): StorageDriver.StorageDriverShape["mappings"] => ({
  putAgents: (id, ms) =>
    Effect.forEach(
      chunks(ms),
      (chunk) =>
        sql`INSERT INTO agent_mappings ${
          sql.insert(chunk.map((m) => ({ integration_id: id, external_id: m.externalId, employee_id: m.employeeId })))
        } ON CONFLICT (integration_id, external_id) DO UPDATE SET employee_id = excluded.employee_id`,
      { discard: true }
    ).pipe(edge("mappings.putAgents")),
  putActivities: (id, ms) =>
    Effect.forEach(
      chunks(ms),
      (chunk) =>
        sql`INSERT INTO activity_mappings ${
          sql.insert(chunk.map((m) => ({ integration_id: id, external_id: m.externalId, activity_id: m.activityId })))
        } ON CONFLICT (integration_id, external_id) DO UPDATE SET activity_id = excluded.activity_id`,
      { discard: true }
    ).pipe(edge("mappings.putActivities")),
  agents: (id) =>
    sql<{ readonly external_id: string; readonly employee_id: string }>`SELECT external_id, employee_id
      FROM agent_mappings WHERE integration_id = ${id} ORDER BY seq`.pipe(
      Effect.map((rows) => rows.map((r) => ({ externalId: r.external_id, employeeId: r.employee_id }))),
      edge("mappings.agents")
    ),
  activities: (id) =>
    sql<{ readonly external_id: string; readonly activity_id: string }>`SELECT external_id, activity_id
      FROM activity_mappings WHERE integration_id = ${id} ORDER BY seq`.pipe(
      Effect.map((rows) => rows.map((r) => ({ externalId: r.external_id, activityId: r.activity_id }))),
      edge("mappings.activities")
    ),
  // one statement for both kinds, the ids as one JSON parameter each: a batch's few ids, found
  // through the (integration_id, external_id) keys
  lookup: (id, ids) => {
    const list = (values: ReadonlyArray<string>) =>
      isPg
        ? sql`(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`
        : sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`
    return sql<{ readonly kind: string; readonly external_id: string; readonly mapped_id: string }>`SELECT
        'agent' AS kind, external_id, employee_id AS mapped_id FROM agent_mappings
        WHERE integration_id = ${id} AND external_id IN ${list(ids.agents)}
      UNION ALL SELECT 'activity' AS kind, external_id, activity_id AS mapped_id FROM activity_mappings
        WHERE integration_id = ${id} AND external_id IN ${list(ids.activities)}`.pipe(
      Effect.map((rows) => {
        const agents = new Map<string, string>()
        const activities = new Map<string, string>()
        for (const r of rows) (r.kind === "agent" ? agents : activities).set(r.external_id, r.mapped_id)
        return { agents, activities }
      }),
      edge("mappings.lookup")
    )
  }
})
