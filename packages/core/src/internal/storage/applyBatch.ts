/**
 * Applying a batch's plan (`BatchPlan.plan`) through a driver's primitives, inside the caller's
 * transaction: queues found or created, aggregates replacing their intervals, contacts added,
 * statuses folded with `Segments.apply`, and a re-import's window cleared first. Every store
 * applies a batch through this one function.
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type { AgentSegment, Batch, Integration, QueueId } from "../../Domain.js"
import { Queue, QueueId as QueueIdSchema } from "../../Domain.js"
import { StorageError } from "../../Errors.js"
import * as BatchPlan from "../../BatchPlan.js"
import * as Segments from "../../Segments.js"
import type { StatRange, StatRow, StorageDriverShape, StoredSegment } from "../../StorageDriver.js"

/** What applying a batch did. */
export interface Applied {
  readonly createdQueues: ReadonlyArray<Queue>
  /** statuses applied to segments */
  readonly statuses: number
}

/** A window to replace, epoch ms. */
export interface Window {
  readonly from: number
  readonly to: number
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Queue, channel, start: a fixed order, so concurrent writers of the same rows wait instead of deadlocking. */
const byStatKey = (a: StatRow, b: StatRow) =>
  compareText(a.queueId, b.queueId) || compareText(a.channel, b.channel) || a.start - b.start

const segmentKey = (s: AgentSegment) => `${s.activityIdentifier}|${s.start}|${s.end ?? ""}`

/** Stored segments per agent, each agent's sorted by start (as `Segments.apply` needs them). */
const groupByAgent = (stored: ReadonlyArray<StoredSegment>) => {
  const out = new Map<string, Array<StoredSegment>>()
  for (const s of stored) {
    const list = out.get(s.segment.agentIdentifier)
    if (list) list.push(s)
    else out.set(s.segment.agentIdentifier, [s])
  }
  for (const list of out.values()) list.sort((a, b) => a.segment.start - b.segment.start)
  return out
}

interface SegmentChange {
  readonly before: ReadonlyArray<StoredSegment>
  readonly after: ReadonlyArray<AgentSegment>
}

/** The segments to delete and to insert so that what is stored becomes `after`. */
const diff = (changes: ReadonlyArray<SegmentChange>) => {
  const deletes: Array<StoredSegment["ref"]> = []
  const inserts: Array<AgentSegment> = []
  for (const { after, before } of changes) {
    const stored = new Map<string, Array<StoredSegment["ref"]>>()
    for (const b of before) {
      const key = segmentKey(b.segment)
      const refs = stored.get(key)
      if (refs) refs.push(b.ref)
      else stored.set(key, [b.ref])
    }
    for (const a of after) {
      const refs = stored.get(segmentKey(a))
      if (refs && refs.length > 0) refs.pop()
      else inserts.push(a)
    }
    for (const refs of stored.values()) deletes.push(...refs)
  }
  return { deletes, inserts }
}

/** `apply(integration, batch, now, window?)` over `driver`; `newId` names created queues. */
export const make = (driver: StorageDriverShape, newId: () => string) => {
  const writeDiff = (integration: Integration, changes: ReadonlyArray<SegmentChange>) => {
    const { deletes, inserts } = diff(changes)
    return deletes.length === 0 && inserts.length === 0
      ? Effect.void
      : driver.segments.write(integration, deletes, inserts)
  }

  /** Finds or creates the batch's queues; their ids by `BatchPlan.queueKey`, and the ones created. */
  const resolveQueues = (integration: Integration, refs: ReadonlyArray<BatchPlan.QueueRef>, now: number) =>
    Effect.gen(function*() {
      const ids = new Map<string, QueueId>()
      const created: Array<Queue> = []
      if (refs.length === 0) return { ids, created }
      const lookup = (identifiers: ReadonlyArray<string>) =>
        Effect.map(driver.queues.findOwn(integration.id, identifiers), (rows) => {
          for (const row of rows) ids.set(BatchPlan.queueKey(row.identifier, row.name), row.id)
        })
      yield* lookup(Array.from(new Set(refs.map((r) => r.identifier))))
      const missing = refs.filter((r) => !ids.has(BatchPlan.queueKey(r.identifier, r.name)))
      if (missing.length === 0) return { ids, created }

      const queues = missing.map((ref) =>
        new Queue({
          id: QueueIdSchema.make(newId()),
          tenantId: integration.tenantId,
          integrationId: integration.id,
          identifier: ref.identifier,
          name: ref.name,
          channel: ref.channel,
          createdByIntegration: true,
          createdAt: DateTime.unsafeMake(now)
        })
      )
      // a fixed order, so concurrent creators wait on each other instead of deadlocking
      const ordered = [...queues].sort((a, b) => compareText(a.identifier, b.identifier) || compareText(a.name, b.name))
      const inserted = yield* driver.queues.insertOwn(ordered)
      for (const q of queues) {
        if (inserted.has(q.id)) {
          created.push(q)
          ids.set(BatchPlan.queueKey(q.identifier, q.name), q.id)
        }
      }
      if (created.length < queues.length) {
        // another transaction created some of them first: use theirs
        yield* lookup(Array.from(new Set(queues.filter((q) => !inserted.has(q.id)).map((q) => q.identifier))))
      }
      const unresolved = refs.find((r) => !ids.has(BatchPlan.queueKey(r.identifier, r.name)))
      if (unresolved) {
        return yield* new StorageError({
          operation: "resolve queues",
          reason: `queue ${unresolved.identifier} / ${unresolved.name} could be neither found nor created`
        })
      }
      return { ids, created }
    })

  const queueIdOf = (ids: ReadonlyMap<string, QueueId>, ref: BatchPlan.QueueRef): QueueId =>
    ids.get(BatchPlan.queueKey(ref.identifier, ref.name))!

  /** Aggregates replace the row at their start and every finer row inside their interval. */
  const applyAggregates = (
    integration: Integration,
    rows: ReadonlyArray<BatchPlan.AggregateRow>,
    ids: ReadonlyMap<string, QueueId>
  ) => {
    if (rows.length === 0) return Effect.void
    // in batch order, a later aggregate removes earlier ones inside its interval (as if applied one by one)
    const pending: Array<StatRow & { readonly end: number }> = []
    const ranges: Array<StatRange> = []
    for (const row of rows) {
      const queueId = queueIdOf(ids, row.queue)
      const end = row.start + row.lengthMinutes * 60_000
      for (let i = pending.length - 1; i >= 0; i--) {
        const p = pending[i]!
        if (p.queueId === queueId && p.channel === row.channel && p.start >= row.start && p.start < end) {
          pending.splice(i, 1)
        }
      }
      pending.push({
        queueId,
        channel: row.channel,
        start: row.start,
        end,
        lengthMinutes: row.lengthMinutes,
        measures: row.measures
      })
      ranges.push({ queueId, channel: row.channel, start: row.start, end })
    }
    return driver.stats.replace(integration, ranges, pending.sort(byStatKey))
  }

  /** Contact rows (summed per queue, channel and quarter by the plan) add to what is stored. */
  const applyContacts = (
    integration: Integration,
    rows: ReadonlyArray<BatchPlan.ContactRow>,
    ids: ReadonlyMap<string, QueueId>
  ) => {
    if (rows.length === 0) return Effect.void
    const adds: Array<StatRow> = rows.map((row) => ({
      queueId: queueIdOf(ids, row.queue),
      channel: row.channel,
      start: row.start,
      lengthMinutes: 15,
      measures: row.measures
    }))
    return driver.stats.add(integration, adds.sort(byStatKey))
  }

  /** Applies the batch's statuses per agent with `Segments.apply`, in batch order. */
  const applyStatuses = (integration: Integration, statuses: ReadonlyMap<string, ReadonlyArray<BatchPlan.StatusRow>>) =>
    Effect.gen(function*() {
      if (statuses.size === 0) return 0
      const agents = Array.from(statuses.keys()).sort()
      yield* driver.lock("integration", integration.id, "shared")
      for (const agent of agents) yield* driver.lock("agent", `${integration.id}|${agent}`, "exclusive")
      let from = Number.POSITIVE_INFINITY
      let to = Number.NEGATIVE_INFINITY
      let open = false
      for (const rows of statuses.values()) {
        for (const row of rows) {
          from = Math.min(from, row.start)
          if (row.end === null) open = true
          else to = Math.max(to, row.end)
        }
      }
      // every stored segment the new ones can touch: overlapping or adjacent, plus open ones
      const existing = groupByAgent(yield* driver.segments.load(integration.id, agents, from, open ? null : to))
      let applied = 0
      const changes: Array<SegmentChange> = []
      for (const agent of agents) {
        const before = existing.get(agent) ?? []
        let current: ReadonlyArray<AgentSegment> = before.map((b) => b.segment)
        for (const row of statuses.get(agent) ?? []) {
          current = Segments.apply(current, {
            integrationId: integration.id,
            agentIdentifier: agent,
            activityIdentifier: row.activityIdentifier,
            start: row.start,
            end: row.end
          })
          applied++
        }
        changes.push({ before, after: current })
      }
      yield* writeDiff(integration, changes)
      return applied
    })

  /** Re-import: removes the integration's interval rows starting in the window and the segment parts inside it. */
  const clearWindow = (integration: Integration, window: Window) =>
    Effect.gen(function*() {
      yield* driver.lock("integration", integration.id, "exclusive")
      yield* driver.stats.clearWindow(integration.id, window.from, window.to)
      const stored = yield* driver.segments.loadWindow(integration.id, window.from, window.to)
      if (stored.length === 0) return
      const changes = Array.from(groupByAgent(stored).values(), (before) => ({
        before,
        after: Segments.clearWindow(before.map((b) => b.segment), window.from, window.to)
      }))
      yield* writeDiff(integration, changes)
    })

  return (
    integration: Integration,
    batch: Batch,
    now: number,
    replaceWindow?: Window | undefined
  ): Effect.Effect<Applied, StorageError> =>
    Effect.gen(function*() {
      const p = BatchPlan.plan(batch)
      if (replaceWindow) yield* clearWindow(integration, replaceWindow)
      const { created, ids } = yield* resolveQueues(integration, p.queues, now)
      yield* applyAggregates(integration, p.aggregateRows, ids)
      yield* applyContacts(integration, p.contactRows, ids)
      const statuses = yield* applyStatuses(integration, p.statuses)
      return { createdQueues: created, statuses }
    })
}
