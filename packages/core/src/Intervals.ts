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
import * as IntervalSums from "./internal/intervalSums.js"
import type { IntervalSum } from "./Storage.js"
import { Storage } from "./Storage.js"
import * as Time from "./Time.js"

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

/**
 * The rows of an interval query, each made when it is read: `at(i)` builds row `i` (a new
 * object each time). An answer written row by row as it is read holds only the sums, not every
 * row with its two labels: a month of one queue at 15 minutes is 2,976 rows, and keeping them
 * all while the answer's text was written made every young-generation GC copy them.
 *
 * @since 0.3.0 @category models
 */
export interface IntervalRows {
  readonly length: number
  /** row `index` (0 ≤ index < length); rows read in order are the cheapest (labels share their day's text) */
  readonly at: (index: number) => IntervalRow
}

/**
 * The rows of `rows` as one array.
 *
 * @since 0.3.0 @category constructors
 */
export const toArray = (rows: IntervalRows): Array<IntervalRow> => {
  const out = new Array<IntervalRow>(rows.length)
  for (let i = 0; i < rows.length; i++) out[i] = rows.at(i)
  return out
}

const seconds = (ms: number) => ms / 1000

/** Formats summed measures as a row. */
const toRow = (
  queue: Queue,
  channel: Channel,
  start: number,
  end: number,
  label: (at: number) => string,
  m: Measures
): IntervalRow => ({
  queueId: queue.id,
  queueIdentifier: queue.identifier,
  queueName: queue.name,
  channel,
  start: label(start),
  end: label(end),
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

/**
 * @since 0.1.0 @category services
 */
export class Intervals extends Effect.Service<Intervals>()("@acd-bridge/core/Intervals", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage

    const rows = Effect.fn("Intervals.rows")(function*(tenantId: TenantId, q: IntervalQuery) {
      const zone = yield* Either.mapLeft(
        Bucketing.zone(q.timezone),
        () => new InvalidRequest({ field: "timezone", reason: `"${q.timezone}" is not an IANA time zone` })
      )
      const from = DateTime.toEpochMillis(q.from)
      const to = DateTime.toEpochMillis(q.to)
      if (to <= from) return yield* new InvalidRequest({ field: "to", reason: "to must be after from" })
      const listed = yield* storage.queues.list({ tenantId, integrationId: q.integrationId })
      const queues = new Map<string, Queue>(listed.map((x) => [x.id, x]))
      const scope = listed.filter((x) => q.queueId === undefined || x.id === q.queueId)
      // summed in the store, over the queues in scope (which lets it read them by its key)
      const summed = yield* storage.data.intervalSums({
        tenantId,
        integrationId: q.integrationId,
        queueIds: q.queueId !== undefined ? [q.queueId] : scope.map((x) => x.id),
        from,
        to,
        lengthMinutes: q.length,
        pieces: IntervalSums.pieces(from, to + q.length * 60_000, zone)
      })
      // the store's sums are one per queue, channel and interval: keyed only to zero-fill around them
      let sums: ReadonlyArray<IntervalSum> = summed
      if (q.fill === "zero") {
        const keyed = new Map<string, IntervalSum>()
        for (const sum of sums) keyed.set(`${sum.queueId}|${sum.channel}|${sum.start}`, sum)
        const channels = new Map<QueueId, Set<Channel>>()
        for (const x of scope) channels.set(x.id, new Set([x.channel]))
        for (const s of keyed.values()) channels.get(s.queueId)?.add(s.channel)
        for (const interval of Bucketing.intervals(from, to, q.length, zone)) {
          for (const [queueId, chans] of channels) {
            for (const channel of chans) {
              const key = `${queueId}|${channel}|${interval.start}`
              if (!keyed.has(key)) keyed.set(key, { ...emptyMeasures, queueId, channel, start: interval.start })
            }
          }
        }
        sums = Array.from(keyed.values())
      }
      // queues in answer order once (identifier, then name, as people read them), so rows sort by numbers
      const rank = new Map<string, number>(
        [...listed]
          .sort((a, b) =>
            a.identifier.localeCompare(b.identifier) || a.name.localeCompare(b.name) ||
            (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
          )
          .map((x, i) => [x.id, i])
      )
      // order by the epoch start, not the formatted label: labels in other offsets don't sort as text
      // (the store's order is by start already: a sort of what is in order is one pass)
      const found = sums
        .filter((sum) => rank.has(sum.queueId))
        .sort((a, b) => a.start - b.start || rank.get(a.queueId)! - rank.get(b.queueId)! || a.channel.localeCompare(b.channel))
      // rows in interval order: the labeller keeps the day's and the offset's text between them
      const label = Time.labeller(zone)
      const answer: IntervalRows = {
        length: found.length,
        at: (index) => {
          const sum = found[index]!
          return toRow(queues.get(sum.queueId)!, sum.channel, sum.start, Bucketing.intervalEnd(sum.start, q.length, zone), label, sum)
        }
      }
      return answer
    })

    /** The rows of the intervals of `q` with data (or all of them with `fill: "zero"`), ordered by interval, queue and channel. */
    const query = Effect.fn("Intervals.query")(function*(tenantId: TenantId, q: IntervalQuery) {
      return toArray(yield* rows(tenantId, q))
    })

    return {
      query,
      /**
       * `query`'s answer, each row made when it is read (see `IntervalRows`): for answers written
       * as they are read.
       *
       * @since 0.3.0
       */
      rows
    } as const
  })
}) {}
