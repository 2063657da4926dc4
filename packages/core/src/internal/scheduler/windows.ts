/**
 * Putting a window together from the pages a connector streams, and keeping what belongs to
 * it. Pure.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import type { AgentStatus, Batch, ContactEvent, DataKind, IntervalAggregate } from "../../Domain.js"
import { batchSize } from "../../Domain.js"
import * as Plan from "../schedulePlan.js"

/** The records read so far for one window (or one realtime batch). */
export interface Collected {
  readonly contacts: Array<ContactEvent>
  readonly aggregates: Array<IntervalAggregate>
  readonly statuses: Array<AgentStatus>
  read: number
}

export const emptyCollected = (): Collected => ({ contacts: [], aggregates: [], statuses: [], read: 0 })

export const addBatch = (into: Collected, batch: Batch): void => {
  for (const c of batch.contacts) into.contacts.push(c)
  for (const a of batch.aggregates) into.aggregates.push(a)
  for (const s of batch.statuses) into.statuses.push(s)
  into.read += batchSize(batch)
}

/**
 * Keeps what belongs to the window and to the integration's data kinds: contact events and
 * aggregates starting in [from, to), agent statuses overlapping it (whole, as the connector
 * returned them). Records outside the window are rejected (they belong to another window and
 * come with it).
 */
export const fitWindow = (
  collected: Collected,
  window: { readonly from: number; readonly to: number } | undefined,
  kinds: ReadonlyArray<DataKind>
): { readonly batch: Batch; readonly rejected: number } => {
  const contactsWanted = kinds.includes("contacts")
  const statusesWanted = kinds.includes("agentStatuses")
  if (window === undefined) {
    return {
      batch: {
        contacts: contactsWanted ? collected.contacts : [],
        aggregates: contactsWanted ? collected.aggregates : [],
        statuses: statusesWanted ? collected.statuses : []
      },
      rejected: 0
    }
  }
  const inside = (ms: number) => ms >= window.from && ms < window.to
  let rejected = 0
  const keep = <A>(items: ReadonlyArray<A>, wanted: boolean, test: (a: A) => boolean): Array<A> => {
    if (!wanted) return []
    const out: Array<A> = []
    for (const item of items) {
      if (test(item)) out.push(item)
      else rejected++
    }
    return out
  }
  const contacts = keep(collected.contacts, contactsWanted, (c) => inside(DateTime.toEpochMillis(c.timestamp)))
  const aggregates = keep(collected.aggregates, contactsWanted, (a) => inside(DateTime.toEpochMillis(a.start)))
  const statuses = keep(
    collected.statuses,
    statusesWanted,
    (s) => DateTime.toEpochMillis(s.start) < window.to && (s.end === null || DateTime.toEpochMillis(s.end) > window.from)
  )
  return { batch: { contacts, aggregates, statuses }, rejected }
}

/** Streams a window's commit doesn't depend on: the realtime position and the failure streak. */
const unplanned = (stream: string): boolean => stream === Plan.streams.realtime || stream.startsWith("retry.")

/** The cursors a step was planned from (the ones its commit expects unchanged). */
export const plannedCursors = (m: ReadonlyMap<string, number>): ReadonlyMap<string, number> =>
  new Map(Array.from(m).filter(([k]) => !unplanned(k)))

/** Whether the planner's cursors are still what a step was planned from. */
export const sameCursors = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean => {
  const relevant = (m: ReadonlyMap<string, number>) => Array.from(m).filter(([k]) => !unplanned(k))
  const left = relevant(a)
  const right = relevant(b)
  return left.length === right.length && left.every(([k, v]) => b.get(k) === v)
}
