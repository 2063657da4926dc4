/**
 * Agent-status segment resolution. One agent's segments never overlap: the segment received
 * last replaces whatever part of older ones it covers, and an open segment (no end yet) covers
 * everything from its start on, so a new open segment closes the previous open one at its
 * start. Because the last writer wins everywhere it covers, applying the same sequence of
 * segments again gives the same result.
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import type { IntervalLength } from "./Bucketing.js"
import { intervalEnd, intervalStart } from "./Bucketing.js"

/**
 * A span of time in UTC epoch milliseconds; `end: null` means still open (unbounded).
 *
 * @since 0.1.0
 * @category models
 */
export interface Segment {
  readonly start: number
  readonly end: number | null
}

const endOf = (s: Segment): number => s.end ?? Number.POSITIVE_INFINITY

/**
 * Applies one incoming segment to one agent's segments (sorted by start, non-overlapping).
 * Every existing segment keeps only its parts before `incoming.start` and after `incoming.end`
 * (an open incoming segment has no "after"); the incoming segment fills the rest. A segment
 * with `end <= start` changes nothing. The result is sorted by start, non-overlapping and has
 * no zero-length pieces; untouched segments are returned as the same objects.
 *
 * @since 0.1.0
 * @category combinators
 */
export const apply = <S extends Segment>(existing: ReadonlyArray<S>, incoming: S): ReadonlyArray<S> => {
  const start = incoming.start
  const end = endOf(incoming)
  if (end <= start) return existing
  const out: Array<S> = []
  let placed = false
  for (const segment of existing) {
    const segmentEnd = endOf(segment)
    if (segmentEnd <= start) {
      out.push(segment)
      continue
    }
    if (segment.start >= end) {
      if (!placed) {
        out.push(incoming)
        placed = true
      }
      out.push(segment)
      continue
    }
    if (segment.start < start) out.push({ ...segment, end: start })
    if (segmentEnd > end) {
      if (!placed) {
        out.push(incoming)
        placed = true
      }
      out.push({ ...segment, start: end })
    }
  }
  if (!placed) out.push(incoming)
  return out
}

/**
 * Applies incoming segments in order.
 *
 * @since 0.1.0
 * @category combinators
 */
export const applyAll = <S extends Segment>(existing: ReadonlyArray<S>, incomings: Iterable<S>): ReadonlyArray<S> => {
  let current = existing
  for (const incoming of incomings) current = apply(current, incoming)
  return current
}

/**
 * Removes the parts of one agent's segments that lie in [from, to), for a re-imported window
 * that replaces what was stored for it. A closed segment reaching past `to` keeps its part
 * after `to`. An open segment is cut at `from` when it started earlier and removed when it
 * started inside the window: its "still running" claim came from the data being replaced, and
 * the re-import says what happened instead.
 *
 * The cut never stays as an end the source did not report, provided the windows re-read
 * cover the instant where the source ended the status: a status that still overlaps the
 * window comes back whole with it (pull connectors return overlapping statuses whole) and
 * covers the cut again, and one the source ended before `from` is set whole, with its real
 * end, by the window that holds that end. So the scheduler re-reads from the old watermark
 * minus the look-back after any gap (see `docs/scheduler.md`); windows may be applied in any
 * order.
 *
 * @since 0.1.0
 * @category combinators
 */
export const clearWindow = <S extends Segment>(existing: ReadonlyArray<S>, from: number, to: number): ReadonlyArray<S> => {
  if (to <= from) return existing
  const out: Array<S> = []
  for (const segment of existing) {
    const segmentEnd = endOf(segment)
    if (segmentEnd <= from || segment.start >= to) {
      out.push(segment)
      continue
    }
    if (segment.start < from) out.push({ ...segment, end: from })
    if (segment.end !== null && segment.end > to) out.push({ ...segment, start: to })
  }
  return out
}

/**
 * Splits a segment at the boundaries of `length`-minute intervals in `zone`: how many
 * milliseconds of it fall into each interval, in order. An open segment runs until
 * `openUntil`. The parts add up to the segment's duration exactly; a segment of no duration
 * gives none.
 *
 * @since 0.1.0
 * @category combinators
 */
export const splitAtBoundaries = (
  segment: Segment,
  length: IntervalLength,
  zone: DateTime.TimeZone,
  openUntil: number
): ReadonlyArray<{ readonly intervalStart: number; readonly ms: number }> => {
  const end = segment.end ?? openUntil
  const out: Array<{ readonly intervalStart: number; readonly ms: number }> = []
  let at = segment.start
  let interval = intervalStart(at, length, zone)
  while (at < end) {
    const next = intervalEnd(interval, length, zone)
    const until = next < end ? next : end
    out.push({ intervalStart: interval, ms: until - at })
    at = until
    interval = next
  }
  return out
}
