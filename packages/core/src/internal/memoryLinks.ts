/**
 * The memory driver's links and link tasks: maps written through the driver's undoable
 * helpers, so a failed transaction leaves them as they were.
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { IntegrationId, LinkId, TenantId } from "../Domain.js"
import { StorageError } from "../Errors.js"
import type { LinkTask } from "../LinkModel.js"
import { Link } from "../LinkModel.js"
import type { LinksDriver, LinkTasksDriver, ResultPart } from "../LinkStorage.js"

/** The undoable writes and the unit-of-work wrapper of the memory driver. */
export interface Helpers {
  readonly atomic: <A>(f: () => A) => Effect.Effect<A>
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly set: <K, V>(map: Map<K, V>, key: K, value: V) => void
  readonly remove: <K, V>(map: Map<K, V>, key: K) => void
}

export const make = (
  { atomic, remove, set, transaction }: Helpers
): { readonly links: LinksDriver; readonly linkTasks: LinkTasksDriver } => {
  const links = new Map<LinkId, Link>()
  /** insertion order of links and tasks */
  const linkOrder: Array<LinkId> = []
  const tasks = new Map<string, LinkTask>()
  let taskSeq = 0
  const taskOrder = new Map<string, number>()
  /** task → `result|n` → part */
  const parts = new Map<string, Map<string, { readonly resultId: string; readonly part: ResultPart }>>()

  const sortedTasks = (keep: (t: LinkTask) => boolean) =>
    Array.from(tasks.values()).filter(keep).sort((a, b) => taskOrder.get(a.id)! - taskOrder.get(b.id)!)

  return {
    links: {
      insert: (link) =>
        transaction(Effect.suspend(() => {
          if (links.has(link.id)) {
            return Effect.fail(new StorageError({ operation: "links.insert", reason: `link ${link.id} exists` }))
          }
          set(links, link.id, link)
          // the order list only grows; a rolled-back insert leaves an id that `get` no longer finds
          if (!linkOrder.includes(link.id)) linkOrder.push(link.id)
          return Effect.void
        })),
      get: (id) => atomic(() => Option.fromNullable(links.get(id))),
      findByHash: (hash) =>
        atomic(() => Option.fromNullable(linkOrder.map((id) => links.get(id)).find((l) => l?.hash === hash))),
      list: (tenantId: TenantId) =>
        atomic(() => linkOrder.flatMap((id) => {
          const link = links.get(id)
          return link !== undefined && link.tenantId === tenantId ? [link] : []
        })),
      touch: (id, seen) =>
        atomic(() => {
          const link = links.get(id)
          if (link === undefined) return
          set(
            links,
            id,
            new Link({
              ...link,
              lastSeenAt: DateTime.unsafeMake(seen.at),
              agentVersion: seen.agentVersion,
              protocol: seen.protocol,
              serves: [...seen.serves]
            })
          )
        }),
      revoke: (id, at) =>
        atomic(() => {
          const link = links.get(id)
          if (link === undefined || link.revokedAt !== null) return
          set(links, id, new Link({ ...link, revokedAt: DateTime.unsafeMake(at) }))
        })
    },
    linkTasks: {
      insert: (task) =>
        transaction(Effect.suspend(() => {
          if (tasks.has(task.id)) {
            return Effect.fail(new StorageError({ operation: "linkTasks.insert", reason: `task ${task.id} exists` }))
          }
          set(tasks, task.id, task)
          if (!taskOrder.has(task.id)) taskOrder.set(task.id, ++taskSeq)
          return Effect.void
        })),
      get: (id) => atomic(() => Option.fromNullable(tasks.get(id))),
      open: (tenantId) =>
        atomic(() =>
          sortedTasks((t) => t.tenantId === tenantId && (t.state === "pending" || t.state === "leased"))
        ),
      ofIntegration: (id: IntegrationId, states) =>
        atomic(() => sortedTasks((t) => t.integrationId === id && states.includes(t.state))),
      update: (task, expected) =>
        atomic(() => {
          const stored = tasks.get(task.id)
          if (stored === undefined || stored.epoch !== expected) return false
          set(tasks, task.id, task)
          return true
        }),
      prune: (before) =>
        atomic(() => {
          for (const task of Array.from(tasks.values())) {
            if (task.finishedAt !== null && task.finishedAt < before) {
              remove(tasks, task.id)
              remove(parts, task.id)
            }
          }
        }),
      putPart: (taskId, resultId, part) =>
        atomic(() => {
          let byKey = parts.get(taskId)
          if (byKey === undefined) {
            byKey = new Map()
            set(parts, taskId, byKey)
          }
          set(byKey, `${resultId}|${part.n}`, { resultId, part })
        }),
      parts: (taskId, resultId) =>
        atomic(() =>
          Array.from(parts.get(taskId)?.values() ?? []).filter((p) => p.resultId === resultId).map((p) => p.part)
        ),
      clearParts: (taskId) => atomic(() => remove(parts, taskId))
    }
  }
}
