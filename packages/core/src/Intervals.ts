/**
 * Interval statistics as a WFM system reads them: per queue and channel, in 15/30/60-minute
 * intervals of a reporting time zone, with averages derived from the stored sums.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Bucketing from "./Bucketing.js"
import type { Channel, IntegrationId, IntervalMinutes, Measures, Queue, QueueId, TenantId } from "./Domain.js"
import { emptyMeasures } from "./Domain.js"
import { InvalidRequest } from "./Errors.js"
import { addMeasures } from "./Plan.js"
import { Storage } from "./Storage.js"

/** @since 0.1.0 @category models */
export interface IntervalQuery {
  readonly integrationId?: IntegrationId | undefined
  readonly queueId?: QueueId | undefined
  /** intervals starting in [from, to) are returned */
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
  readonly length: IntervalMinutes
  /** IANA zone the intervals are aligned to and labelled in */
  readonly timezone: string
  /** "zero": intervals without data are returned with zeros (otherwise left out) */
  readonly fill?: "none" | "zero" | undefined
}

/**
 * One interval of one queue and channel. Seconds are decimal (ms precision); `ahtSeconds` is
 * null when nothing was handled.
 *
 * @since 0.1.0 @category models
 */
export interface IntervalRow {
  readonly queueId: QueueId
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  /** ISO-8601 local time with offset */
  readonly start: string
  readonly end: string
  readonly offered: number
  readonly handled: number
  readonly handlingSeconds: number
  readonly ahtSeconds: number | null
  readonly unhandledSeconds: number
  readonly talkSeconds: number
  readonly holdSeconds: number
  readonly afterCallWorkSeconds: number
  readonly waitSeconds: number
  readonly abandoned: number
  readonly shortAbandoned: number
  readonly breakout: number
  readonly answeredInThreshold: number
}

const seconds = (ms: number) => ms / 1000

/** Formats summed measures as a row. */
const toRow = (
  queue: Queue,
  channel: Channel,
  start: number,
  end: number,
  zone: DateTime.TimeZone,
  m: Measures
): IntervalRow => ({
  queueId: queue.id,
  queueIdentifier: queue.identifier,
  queueName: queue.name,
  channel,
  start: Bucketing.label(start, zone),
  end: Bucketing.label(end, zone),
  offered: m.offered,
  handled: m.handled,
  handlingSeconds: seconds(m.handlingMs),
  ahtSeconds: m.handled === 0 ? null : m.handlingMs / m.handled / 1000,
  unhandledSeconds: seconds(m.unhandledMs),
  talkSeconds: seconds(m.talkMs),
  holdSeconds: seconds(m.holdMs),
  afterCallWorkSeconds: seconds(m.afterCallWorkMs),
  waitSeconds: seconds(m.waitMs),
  abandoned: m.abandoned,
  shortAbandoned: m.shortAbandoned,
  breakout: m.breakout,
  answeredInThreshold: m.answeredInThreshold
})

/** Measures summed into one interval of one queue and channel. */
interface Sum {
  readonly queueId: QueueId
  readonly channel: Channel
  readonly start: number
  measures: Measures
}

/** Longest interval: stored rows that start up to this long after `to` may still belong to an interval before it. */
const maxLengthMs = 60 * 60_000

/**
 * @since 0.1.0 @category services
 */
export class Intervals extends Effect.Service<Intervals>()("@acd-bridge/core/Intervals", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage

    const query = Effect.fn("Intervals.query")(function*(tenantId: TenantId, q: IntervalQuery) {
      const zone = yield* Either.mapLeft(
        Bucketing.zone(q.timezone),
        () => new InvalidRequest({ field: "timezone", reason: `"${q.timezone}" is not an IANA time zone` })
      )
      const from = DateTime.toEpochMillis(q.from)
      const to = DateTime.toEpochMillis(q.to)
      if (to <= from) return yield* new InvalidRequest({ field: "to", reason: "to must be after from" })
      const queues = new Map<string, Queue>(
        (yield* storage.queues.list({ tenantId, integrationId: q.integrationId })).map((x) => [x.id, x])
      )
      const stats = yield* storage.data.intervalStats({
        tenantId,
        integrationId: q.integrationId,
        queueIds: q.queueId ? [q.queueId] : undefined,
        from,
        to: to + maxLengthMs
      })
      const sums = new Map<string, Sum>()
      for (const row of stats) {
        const start = Bucketing.intervalStart(row.start, q.length, zone)
        if (start < from || start >= to) continue
        const key = `${row.queueId}|${row.channel}|${start}`
        const sum = sums.get(key)
        if (sum) sum.measures = addMeasures(sum.measures, row)
        else sums.set(key, { queueId: row.queueId, channel: row.channel, start, measures: addMeasures(emptyMeasures, row) })
      }
      if (q.fill === "zero") {
        const scope = Array.from(queues.values()).filter((x) => q.queueId === undefined || x.id === q.queueId)
        const channels = new Map<QueueId, Set<Channel>>()
        for (const x of scope) channels.set(x.id, new Set([x.channel]))
        for (const s of sums.values()) channels.get(s.queueId)?.add(s.channel)
        for (const interval of Bucketing.intervals(from, to, q.length, zone)) {
          for (const [queueId, chans] of channels) {
            for (const channel of chans) {
              const key = `${queueId}|${channel}|${interval.start}`
              if (!sums.has(key)) sums.set(key, { queueId, channel, start: interval.start, measures: emptyMeasures })
            }
          }
        }
      }
      const found: Array<{ readonly queue: Queue; readonly sum: Sum }> = []
      for (const sum of sums.values()) {
        const queue = queues.get(sum.queueId)
        if (queue) found.push({ queue, sum })
      }
      // order by the epoch start, not the formatted label: labels in other offsets don't sort as text
      found.sort((a, b) =>
        a.sum.start - b.sum.start || a.queue.identifier.localeCompare(b.queue.identifier) ||
        a.queue.name.localeCompare(b.queue.name) || a.sum.channel.localeCompare(b.sum.channel)
      )
      return found.map(({ queue, sum }): IntervalRow =>
        toRow(queue, sum.channel, sum.start, Bucketing.intervalEnd(sum.start, q.length, zone), zone, sum.measures)
      )
    })

    return { query } as const
  })
}) {}
