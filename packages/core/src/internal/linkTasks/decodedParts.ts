/**
 * Parts decoded when they were uploaded (by the HTTP API, which must validate them anyway),
 * by task: the commit takes them as they are instead of parsing and decoding the stored text
 * again. A cache only: bounded in records, dropped when the task ends, and checked against
 * the stored text (another engine process or a repeated upload may have stored another part).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Batch } from "../../Domain.js"
import type { DecodedParts } from "./assemble.js"

interface Kept {
  readonly body: string
  readonly batch: Batch
  readonly records: number
}

/** A cache of decoded parts holding at most `limit` records (a part over it is not kept). */
export const make = (limit: number) => {
  const byTask = new Map<string, Map<string, Kept>>()
  let records = 0
  const partKey = (resultId: string, n: number) => `${n}\u0000${resultId}`
  const drop = (taskId: string) => {
    for (const kept of byTask.get(taskId)?.values() ?? []) records -= kept.records
    byTask.delete(taskId)
  }
  /** Forgets every part of the task (it ended, or its result failed). */
  const forget = (taskId: string) => Effect.sync(() => drop(taskId))
  /** Keeps a part (a repeat of `n` replaces it); the oldest tasks' parts go first when over the limit. */
  const keep = (taskId: string, resultId: string, n: number, body: string, batch: Batch, count: number) =>
    Effect.sync(() => {
      if (count > limit) return
      let parts = byTask.get(taskId)
      if (parts === undefined) byTask.set(taskId, parts = new Map())
      const key = partKey(resultId, n)
      records -= parts.get(key)?.records ?? 0
      parts.set(key, { body, batch, records: count })
      records += count
      // a Map iterates in insertion order: the oldest task first (its commit decodes from storage)
      for (const id of byTask.keys()) {
        if (records <= limit) break
        drop(id)
      }
    })
  const decoded: DecodedParts = { get: (taskId, resultId, n) => byTask.get(taskId)?.get(partKey(resultId, n)) }
  return { keep, forget, decoded } as const
}
