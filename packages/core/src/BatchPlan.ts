/**
 * Turns a batch into the row operations a store performs. Every store (memory, SQLite,
 * PostgreSQL) applies the same plan, so the domain rules live here once:
 *
 * - queue identity is (integration, queue identifier, queue name); the channel of first
 *   sight is the queue's channel;
 * - contact events are pre-summed per queue, channel and UTC quarter-hour (additive rows);
 * - interval aggregates replace the row at their start (the last one in the batch wins);
 * - agent statuses are grouped per agent, in batch order (the overlap rules are order-dependent).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import { QUARTER_MS } from "./Bucketing.js"
import type { Batch, Channel, ContactEvent, IntervalMinutes, Measures } from "./Domain.js"
import { emptyMeasures, measureKeys } from "./Domain.js"

/** @since 0.1.0 @category models */
export interface QueueRef {
  readonly identifier: string
  readonly name: string
  readonly channel: Channel
}

/** @since 0.1.0 @category models */
export interface ContactRow {
  readonly queue: QueueRef
  readonly channel: Channel
  /** UTC quarter-hour start, epoch ms */
  readonly start: number
  readonly measures: Measures
}

/** @since 0.1.0 @category models */
export interface AggregateRow {
  readonly queue: QueueRef
  readonly channel: Channel
  readonly start: number
  readonly lengthMinutes: IntervalMinutes
  readonly measures: Measures
}

/** @since 0.1.0 @category models */
export interface StatusRow {
  readonly activityIdentifier: string
  readonly start: number
  readonly end: number | null
}

/** @since 0.1.0 @category models */
export interface BatchPlan {
  /** distinct queues of the batch in order of first sight */
  readonly queues: ReadonlyArray<QueueRef>
  readonly contactRows: ReadonlyArray<ContactRow>
  readonly aggregateRows: ReadonlyArray<AggregateRow>
  /** per agent, in batch order */
  readonly statuses: ReadonlyMap<string, ReadonlyArray<StatusRow>>
}

/**
 * The key that identifies a queue within an integration. JSON keeps identifiers that contain
 * any separator character apart.
 *
 * @since 0.1.0 @category queue identity
 */
export const queueKey = (identifier: string, name: string): string => JSON.stringify([identifier, name])

/** Adds what one contact event contributes to `sum`, in place (no intermediate object). */
const addContact = (sum: Record<keyof Measures, number>, event: ContactEvent): void => {
  if (event.offered) sum.offered += 1
  if (event.handled) {
    sum.handled += 1
    sum.handlingMs += event.durationMs
  } else sum.unhandledMs += event.durationMs
  // absent durations are common (a volume-only source): no write at all for them
  if (event.talkMs !== undefined) sum.talkMs += event.talkMs
  if (event.holdMs !== undefined) sum.holdMs += event.holdMs
  if (event.afterCallWorkMs !== undefined) sum.afterCallWorkMs += event.afterCallWorkMs
  if (event.waitMs !== undefined) sum.waitMs += event.waitMs
  if (event.abandoned) sum.abandoned += 1
  if (event.shortAbandoned) sum.shortAbandoned += 1
  if (event.breakout) sum.breakout += 1
  if (event.answeredInThreshold) sum.answeredInThreshold += 1
}

/**
 * What one contact event adds to its interval: the one summing rule, also used by testkit's
 * conformance checks to compare what connectors read.
 *
 * @since 0.1.0 @category measures
 */
export const contactMeasures = (event: ContactEvent): Measures => {
  const out: Record<keyof Measures, number> = { ...emptyMeasures }
  addContact(out, event)
  return out
}

/** @since 0.1.0 @category measures */
export const addMeasures = (a: Measures, b: Measures): Measures => {
  const out: Record<keyof Measures, number> = { ...emptyMeasures }
  for (const k of measureKeys) out[k] = a[k] + b[k]
  return out
}

/**
 * Only the measures of a record that carries more (an aggregate).
 *
 * @since 0.1.0 @category measures
 */
export const pickMeasures = (m: Measures): Measures => {
  const out: Record<keyof Measures, number> = { ...emptyMeasures }
  for (const k of measureKeys) out[k] = m[k]
  return out
}

/** A queue's sums per quarter number: its first channel's inline, any other channel's in `others`. */
interface QueueSums {
  readonly channel: Channel
  readonly byQuarter: Map<number, Record<keyof Measures, number>>
  others: Map<Channel, Map<number, Record<keyof Measures, number>>> | undefined
}

/** The queue and sums an identifier's last event went to. */
interface LastSeen {
  readonly name: string
  readonly channel: Channel
  readonly queue: QueueRef
  readonly byQuarter: Map<number, Record<keyof Measures, number>>
}

const quartersOf = (
  sumsByQueue: Map<QueueRef, QueueSums>,
  queue: QueueRef,
  channel: Channel
): Map<number, Record<keyof Measures, number>> => {
  const sums = sumsByQueue.get(queue)
  if (sums === undefined) {
    const byQuarter = new Map<number, Record<keyof Measures, number>>()
    sumsByQueue.set(queue, { channel, byQuarter, others: undefined })
    return byQuarter
  }
  if (sums.channel === channel) return sums.byQuarter
  sums.others ??= new Map()
  let byQuarter = sums.others.get(channel)
  if (byQuarter === undefined) {
    byQuarter = new Map()
    sums.others.set(channel, byQuarter)
  }
  return byQuarter
}

/**
 * @since 0.1.0 @category constructors
 */
export const plan = (batch: Batch): BatchPlan => {
  const queues = new Map<string, QueueRef>()
  // identifier → name → queue: looking a contact's queue up costs no key building
  const byIdentifier = new Map<string, Map<string, QueueRef>>()
  const ref = (identifier: string, name: string, channel: Channel): QueueRef => {
    let byName = byIdentifier.get(identifier)
    if (byName === undefined) {
      byName = new Map()
      byIdentifier.set(identifier, byName)
    }
    const known = byName.get(name)
    if (known) return known
    const key = queueKey(identifier, name)
    const created: QueueRef = queues.get(key) ?? { identifier, name, channel }
    queues.set(key, created)
    byName.set(name, created)
    return created
  }

  // contacts are summed in place, per queue, channel and quarter, with no object or key string
  // per event (a batch may hold many thousands): the queue's entry holds the quarters of its
  // first channel (a queue almost always has one), keyed by the quarter's number, a small
  // integer that V8 hashes without boxing. The last queue and channel seen per identifier are
  // one look-up away (an identifier almost always has one name and one channel, and events of
  // many queues come interleaved). `rows` keeps the order of first sight.
  const rows: Array<{ queue: QueueRef; channel: Channel; start: number; measures: Record<keyof Measures, number> }> = []
  const sumsByQueue = new Map<QueueRef, QueueSums>()
  const lastByIdentifier = new Map<string, LastSeen>()
  // a run of events of one queue and channel (a source's usual order) skips even that look-up
  let previous: LastSeen | undefined
  let previousIdentifier = ""
  for (const event of batch.contacts) {
    let seen = previous !== undefined && event.queueIdentifier === previousIdentifier ? previous : lastByIdentifier.get(event.queueIdentifier)
    if (seen === undefined || seen.name !== event.queueName || seen.channel !== event.channel) {
      const queue = ref(event.queueIdentifier, event.queueName, event.channel)
      seen = { name: event.queueName, channel: event.channel, queue, byQuarter: quartersOf(sumsByQueue, queue, event.channel) }
      lastByIdentifier.set(event.queueIdentifier, seen)
    }
    previous = seen
    previousIdentifier = event.queueIdentifier
    const queue = seen.queue
    const byQuarter = seen.byQuarter
    const quarter = Math.floor(DateTime.toEpochMillis(event.timestamp) / QUARTER_MS)
    const sum = byQuarter.get(quarter)
    if (sum) addContact(sum, event)
    else {
      const measures: Record<keyof Measures, number> = { ...emptyMeasures }
      addContact(measures, event)
      byQuarter.set(quarter, measures)
      rows.push({ queue, channel: event.channel, start: quarter * QUARTER_MS, measures })
    }
  }

  const aggregateRows = new Map<string, AggregateRow>()
  for (const agg of batch.aggregates) {
    const queue = ref(agg.queueIdentifier, agg.queueName, agg.channel)
    const start = DateTime.toEpochMillis(agg.start)
    const key = `${queueKey(agg.queueIdentifier, agg.queueName)}|${agg.channel}|${start}`
    // delete first so the later aggregate also takes the later position
    aggregateRows.delete(key)
    aggregateRows.set(key, { queue, channel: agg.channel, start, lengthMinutes: agg.lengthMinutes, measures: pickMeasures(agg) })
  }

  const statuses = new Map<string, Array<StatusRow>>()
  for (const status of batch.statuses) {
    const rows = statuses.get(status.agentIdentifier) ?? []
    rows.push({
      activityIdentifier: status.activityIdentifier,
      start: DateTime.toEpochMillis(status.start),
      end: status.end === null ? null : DateTime.toEpochMillis(status.end)
    })
    statuses.set(status.agentIdentifier, rows)
  }

  return {
    queues: Array.from(queues.values()),
    contactRows: rows,
    aggregateRows: Array.from(aggregateRows.values()),
    statuses
  }
}
