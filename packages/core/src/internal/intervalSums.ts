/**
 * The intervals of a reporting zone as a database can compute them: the zone's offsets over a
 * range as pieces (`Storage.OffsetPiece`), the interval of a stored row from them, and the sum
 * of rows into intervals for drivers that don't sum in the database. `Bucketing` holds the
 * rule (a boundary is a local multiple of the length or an offset change); a test checks that
 * `bucketOf` agrees with `Bucketing.intervalStart` everywhere.
 */
import type * as DateTime from "effect/DateTime"
import type { IntervalStatQuery, IntervalSum, IntervalSumQuery, OffsetPiece } from "../Storage.js"
import * as Bucketing from "../Bucketing.js"
import type { IntervalMinutes, IntervalStat } from "../Domain.js"
import { emptyMeasures } from "../Domain.js"
import { addMeasures } from "../BatchPlan.js"

const QUARTER = Bucketing.QUARTER_MS
const DAY = 86_400_000

/** Offsets off the quarter-hour are rounded to it, as `Bucketing` does. */
const aligned = (offset: number) => (offset % QUARTER === 0 ? offset : Math.round(offset / QUARTER) * QUARTER)

/**
 * The zone's offsets over the quarters of [from, to): a piece per offset, each starting at
 * the first quarter that has it. Offsets are sampled a day apart and the day of a change
 * searched quarter by quarter (no zone changes its offset twice within a day).
 */
export const pieces = (from: number, to: number, zone: DateTime.TimeZone): ReadonlyArray<OffsetPiece> => {
  const first = Bucketing.quarterKey(from)
  const out: Array<OffsetPiece> = [{ start: first, offsetMs: aligned(Bucketing.offsetMs(first, zone)) }]
  if (zone._tag === "Offset") return out
  let current = Bucketing.offsetMs(first, zone)
  for (let day = first; day < to; day += DAY) {
    const next = Math.min(day + DAY, Bucketing.quarterKey(to - 1) + QUARTER)
    if (Bucketing.offsetMs(next, zone) === current && Bucketing.offsetMs(next - QUARTER, zone) === current) continue
    for (let q = day + QUARTER; q <= next; q += QUARTER) {
      const offset = Bucketing.offsetMs(q, zone)
      if (offset !== current) {
        out.push({ start: q, offsetMs: aligned(offset) })
        current = offset
      }
    }
  }
  return out
}

/** The start of the interval of `length` minutes that a row starting at `start` falls in. */
export const bucketOf = (list: ReadonlyArray<OffsetPiece>, length: IntervalMinutes, start: number): number => {
  const quarter = Bucketing.quarterKey(start)
  if (length === 15) return quarter
  let index = 0
  while (index + 1 < list.length && list[index + 1]!.start <= quarter) index++
  const piece = list[index]!
  const lengthMs = length * 60_000
  const aligned = quarter - ((((quarter + piece.offsetMs) % lengthMs) + lengthMs) % lengthMs)
  // an offset change is a boundary; the first piece's start is only where the list begins
  return index === 0 ? aligned : Math.max(piece.start, aligned)
}

/** The rows to read for `q`: [from, to + the length). */
export const rowRange = (q: IntervalSumQuery): IntervalStatQuery => ({
  tenantId: q.tenantId,
  integrationId: q.integrationId,
  queueIds: q.queueIds,
  from: q.from,
  to: q.to + q.lengthMinutes * 60_000
})

/** Sums rows into intervals as `IntervalSumQuery` says, ordered by start, queue id, channel. */
export const sum = (q: IntervalSumQuery, rows: ReadonlyArray<IntervalStat>): ReadonlyArray<IntervalSum> => {
  const sums = new Map<string, IntervalSum>()
  for (const row of rows) {
    const start = bucketOf(q.pieces, q.lengthMinutes, row.start)
    if (start < q.from || start >= q.to) continue
    const key = `${row.queueId}|${row.channel}|${start}`
    const known = sums.get(key)
    sums.set(key, {
      queueId: row.queueId,
      channel: row.channel,
      start,
      ...addMeasures(known ?? emptyMeasures, row)
    })
  }
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return Array.from(sums.values()).sort((a, b) =>
    a.start - b.start || byText(a.queueId, b.queueId) || byText(a.channel, b.channel)
  )
}
