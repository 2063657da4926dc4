/** Workload rows and their ordered queue lists (`workload_queues`). */
import { Domain, type StorageDriver } from "@acd-bridge/core"
import type { Statement } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Dialect } from "./dialect.js"
import { chunks, edge } from "./dialect.js"
import * as Rows from "./rows.js"

export const make = ({ forUpdate, sql }: Dialect): StorageDriver.StorageDriverShape["workloads"] => {
  const select = (where: Statement<unknown>) =>
    Effect.gen(function*() {
      const rows = yield* sql<Rows.WorkloadRow>`SELECT id, tenant_id, name, created_at
        FROM workloads WHERE ${where} ORDER BY seq`
      if (rows.length === 0) return []
      const members = new Map<string, Array<string>>()
      for (const chunk of chunks(rows.map((r) => r.id))) {
        const ms = yield* sql<{ readonly workload_id: string; readonly queue_id: string }>`SELECT workload_id, queue_id
          FROM workload_queues WHERE workload_id IN ${sql.in(chunk)} ORDER BY workload_id, position`
        for (const m of ms) {
          const list = members.get(m.workload_id)
          if (list) list.push(m.queue_id)
          else members.set(m.workload_id, [m.queue_id])
        }
      }
      return yield* Effect.forEach(rows, (row) => Rows.workloadFromRow(row, members.get(row.id) ?? []))
    })

  const writeQueues = (id: Domain.WorkloadId, queueIds: ReadonlyArray<Domain.QueueId>) =>
    Effect.gen(function*() {
      yield* sql`DELETE FROM workload_queues WHERE workload_id = ${id}`
      const rows = queueIds.map((queueId, position) => ({ workload_id: id, position, queue_id: queueId }))
      for (const chunk of chunks(rows)) yield* sql`INSERT INTO workload_queues ${sql.insert(chunk)}`
    })

  return {
    insert: (w) =>
      Effect.zipRight(
        sql`INSERT INTO workloads ${
          sql.insert({ id: w.id, tenant_id: w.tenantId, name: w.name, created_at: Rows.millis(w.createdAt) })
        } ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
          created_at = excluded.created_at`,
        writeQueues(w.id, w.queueIds)
      ).pipe(edge("workloads.insert")),
    get: (id) => select(sql`id = ${id}`).pipe(Effect.map((ws) => Option.fromNullable(ws[0])), edge("workloads.get")),
    list: (tenantId) => select(sql`tenant_id = ${tenantId}`).pipe(edge("workloads.list")),
    setQueues: (id, queueIds) =>
      Effect.gen(function*() {
        const found = yield* sql`SELECT id FROM workloads WHERE id = ${id} ${forUpdate}`
        if (found.length > 0) yield* writeQueues(id, queueIds)
      }).pipe(edge("workloads.setQueues")),
    dropQueue: (id) =>
      sql`DELETE FROM workload_queues WHERE queue_id = ${id}`.pipe(Effect.asVoid, edge("workloads.dropQueue")),
    ofQueues: (ids) =>
      Effect.gen(function*() {
        const out = new Map<Domain.QueueId, Array<Domain.WorkloadId>>()
        for (const id of ids) out.set(id, [])
        for (const chunk of chunks(ids)) {
          const rows = yield* sql<{ readonly queue_id: string; readonly workload_id: string }>`SELECT wq.queue_id,
            wq.workload_id FROM workload_queues wq JOIN workloads w ON w.id = wq.workload_id
            WHERE wq.queue_id IN ${sql.in(chunk)} ORDER BY w.seq, wq.position`
          for (const row of rows) {
            out.get(Domain.QueueId.make(row.queue_id))?.push(Domain.WorkloadId.make(row.workload_id))
          }
        }
        return out as ReadonlyMap<Domain.QueueId, ReadonlyArray<Domain.WorkloadId>>
      }).pipe(edge("workloads.ofQueues"))
  }
}
