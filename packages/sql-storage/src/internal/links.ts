/**
 * Links and link tasks. A link is kept in columns; a task as its JSON (`LinkModel.LinkTask`,
 * encoded by its schema) beside the columns the queries select on (tenant, integration,
 * state, epoch, finish), and its compare-and-set is one `UPDATE … WHERE epoch = ?`.
 */
import { Errors, LinkModel, type LinkStorage, type StorageDriver } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Dialect } from "./dialect.js"
import { edge } from "./dialect.js"
import * as Rows from "./rows.js"

interface LinkRow {
  readonly id: string
  readonly tenant_id: string
  readonly name: string
  readonly prefix: string
  readonly hash: string
  readonly created_at: Rows.Num
  readonly revoked_at: Rows.Num | null
  readonly last_seen_at: Rows.Num | null
  readonly agent_version: string | null
  readonly protocol: Rows.Num | null
  readonly serves: string
}

const linkColumns = "id, tenant_id, name, prefix, hash, created_at, revoked_at, last_seen_at, agent_version, protocol, serves"

const parseJson = (operation: string, text: string) =>
  Effect.try({
    try: (): unknown => JSON.parse(text),
    catch: (cause) => Errors.StorageError.fromCause(operation, cause, `stored JSON is unreadable: ${String(cause)}`)
  })

const decodeLink = Schema.decodeUnknown(LinkModel.Link)
const linkFromRow = (row: LinkRow) =>
  Effect.gen(function*() {
    const serves = yield* parseJson("decode link", row.serves)
    return yield* decodeLink({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      prefix: row.prefix,
      hash: row.hash,
      createdAt: DateTime.unsafeMake(Rows.num(row.created_at)),
      revokedAt: row.revoked_at === null ? null : DateTime.unsafeMake(Rows.num(row.revoked_at)),
      lastSeenAt: row.last_seen_at === null ? null : DateTime.unsafeMake(Rows.num(row.last_seen_at)),
      agentVersion: row.agent_version,
      protocol: Rows.numOrNull(row.protocol),
      serves
    })
  })

const encodeTask = Schema.encodeSync(LinkModel.LinkTask)
const decodeTask = Schema.decodeUnknown(LinkModel.LinkTask)
const taskFromBody = (body: string) =>
  Effect.flatMap(parseJson("decode link task", body), decodeTask)

export const links = ({ sql }: Dialect): LinkStorage.LinksDriver => {
  const columns = sql.literal(linkColumns)
  const one = (rows: ReadonlyArray<LinkRow>) =>
    rows.length === 0 ? Effect.succeedNone : Effect.asSome(linkFromRow(rows[0]!))
  return {
    insert: (link) =>
      sql`INSERT INTO links ${
        sql.insert({
          id: link.id,
          tenant_id: link.tenantId,
          name: link.name,
          prefix: link.prefix,
          hash: link.hash,
          created_at: Rows.millis(link.createdAt),
          revoked_at: Rows.millisOrNull(link.revokedAt),
          last_seen_at: Rows.millisOrNull(link.lastSeenAt),
          agent_version: link.agentVersion,
          protocol: link.protocol,
          serves: JSON.stringify(link.serves)
        })
      }`.pipe(Effect.asVoid, edge("links.insert")),
    get: (id) =>
      sql<LinkRow>`SELECT ${columns} FROM links WHERE id = ${id}`.pipe(Effect.flatMap(one), edge("links.get")),
    findByHash: (hash) =>
      sql<LinkRow>`SELECT ${columns} FROM links WHERE hash = ${hash} ORDER BY seq LIMIT 1`.pipe(
        Effect.flatMap(one),
        edge("links.findByHash")
      ),
    list: (tenantId) =>
      sql<LinkRow>`SELECT ${columns} FROM links WHERE tenant_id = ${tenantId} ORDER BY seq`.pipe(
        Effect.flatMap((rows) => Effect.forEach(rows, linkFromRow)),
        edge("links.list")
      ),
    touch: (id, seen) =>
      sql`UPDATE links SET last_seen_at = ${seen.at}, agent_version = ${seen.agentVersion},
        protocol = ${seen.protocol}, serves = ${JSON.stringify(seen.serves)} WHERE id = ${id}`.pipe(
        Effect.asVoid,
        edge("links.touch")
      ),
    revoke: (id, at) =>
      sql`UPDATE links SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`.pipe(
        Effect.asVoid,
        edge("links.revoke")
      )
  }
}

export const linkTasks = ({ sql }: Dialect): StorageDriver.StorageDriverShape["linkTasks"] => {
  const bodies = (rows: ReadonlyArray<{ readonly body: string }>) => Effect.forEach(rows, (r) => taskFromBody(r.body))
  return {
    insert: (task) =>
      sql`INSERT INTO link_tasks ${
        sql.insert({
          id: task.id,
          tenant_id: task.tenantId,
          integration_id: task.integrationId,
          state: task.state,
          epoch: task.epoch,
          finished_at: task.finishedAt,
          body: JSON.stringify(encodeTask(task))
        })
      }`.pipe(Effect.asVoid, edge("linkTasks.insert")),
    get: (id) =>
      sql<{ readonly body: string }>`SELECT body FROM link_tasks WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeedNone : Effect.asSome(taskFromBody(rows[0]!.body)))),
        edge("linkTasks.get")
      ),
    open: (tenantId) =>
      sql<{ readonly body: string }>`SELECT body FROM link_tasks WHERE tenant_id = ${tenantId}
        AND state IN ('pending', 'leased') ORDER BY seq`.pipe(Effect.flatMap(bodies), edge("linkTasks.open")),
    ofIntegration: (id, states) =>
      states.length === 0
        ? Effect.succeed([])
        : sql<{ readonly body: string }>`SELECT body FROM link_tasks WHERE integration_id = ${id}
        AND ${sql.in("state", states)} ORDER BY seq`.pipe(Effect.flatMap(bodies), edge("linkTasks.ofIntegration")),
    update: (task, expected) =>
      sql<{ readonly id: string }>`UPDATE link_tasks SET state = ${task.state}, epoch = ${task.epoch},
        finished_at = ${task.finishedAt}, body = ${JSON.stringify(encodeTask(task))}
        WHERE id = ${task.id} AND epoch = ${expected} RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        edge("linkTasks.update")
      ),
    prune: (before) =>
      Effect.zipRight(
        sql`DELETE FROM link_task_parts WHERE task_id IN
          (SELECT id FROM link_tasks WHERE finished_at IS NOT NULL AND finished_at < ${before})`,
        sql`DELETE FROM link_tasks WHERE finished_at IS NOT NULL AND finished_at < ${before}`
      ).pipe(Effect.asVoid, edge("linkTasks.prune")),
    putPart: (taskId, resultId, part) =>
      sql`INSERT INTO link_task_parts ${
        sql.insert({ task_id: taskId, result_id: resultId, n: part.n, records: part.records, body: part.body })
      } ON CONFLICT (task_id, result_id, n) DO UPDATE SET records = excluded.records, body = excluded.body`.pipe(
        Effect.asVoid,
        edge("linkTasks.putPart")
      ),
    parts: (taskId, resultId) =>
      sql<{ readonly n: Rows.Num; readonly records: Rows.Num; readonly body: string }>`SELECT n, records, body
        FROM link_task_parts WHERE task_id = ${taskId} AND result_id = ${resultId} ORDER BY n`.pipe(
        Effect.map((rows): ReadonlyArray<LinkStorage.ResultPart> =>
          rows.map((r) => ({ n: Rows.num(r.n), records: Rows.num(r.records), body: r.body }))
        ),
        edge("linkTasks.parts")
      ),
    clearParts: (taskId) =>
      sql`DELETE FROM link_task_parts WHERE task_id = ${taskId}`.pipe(Effect.asVoid, edge("linkTasks.clearParts"))
  }
}
