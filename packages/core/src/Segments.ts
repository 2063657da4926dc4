/**
 * Agent segments per integration and agent never overlap. The segment received last replaces
 * the part of older ones it overlaps; an open segment (no end) runs to infinity until a later
 * one cuts it, so a new open segment closes the agent's previous open one at its start.
 * Applying the same segments again changes nothing.
 *
 * @since 0.1.0
 */
import type { AgentSegment } from "./Domain.js"

const endOf = (s: AgentSegment) => (s.end === null ? Number.POSITIVE_INFINITY : s.end)

const byStart = (a: AgentSegment, b: AgentSegment) => a.start - b.start || endOf(a) - endOf(b)

/**
 * Removes the parts of `segments` inside [from, to): a segment reaching across an edge is cut
 * there, one spanning the whole range is split in two.
 *
 * @since 0.1.0 @category segments
 */
export const clearWindow = (
  segments: ReadonlyArray<AgentSegment>,
  from: number,
  to: number
): Array<AgentSegment> => {
  const out: Array<AgentSegment> = []
  for (const s of segments) {
    const end = endOf(s)
    if (end <= from || s.start >= to) {
      out.push(s)
      continue
    }
    if (s.start < from) out.push({ ...s, end: from })
    if (end > to) out.push({ ...s, start: to })
  }
  return out.sort(byStart)
}

/**
 * Applies one segment to an agent's segments (all of the same integration and agent): it
 * replaces what it overlaps. A zero-length segment changes nothing.
 *
 * @since 0.1.0 @category segments
 */
export const apply = (segments: ReadonlyArray<AgentSegment>, segment: AgentSegment): Array<AgentSegment> => {
  const end = endOf(segment)
  if (end <= segment.start) return [...segments]
  const out = clearWindow(segments, segment.start, end)
  out.push(segment)
  return out.sort(byStart)
}

/**
 * Applies segments in order, starting from `initial` (default none).
 *
 * @since 0.1.0 @category segments
 */
export const applyAll = (
  segments: Iterable<AgentSegment>,
  initial: ReadonlyArray<AgentSegment> = []
): Array<AgentSegment> => {
  let current: Array<AgentSegment> = [...initial]
  for (const s of segments) current = apply(current, s)
  return current
}

/**
 * Splits segments at the given boundaries (sorted epoch ms), e.g. interval starts, so that time
 * per activity per interval can be summed. Open segments are cut at `now`.
 *
 * @since 0.1.0 @category segments
 */
export const splitAt = (
  segments: ReadonlyArray<AgentSegment>,
  boundaries: ReadonlyArray<number>,
  now: number
): Array<AgentSegment> => {
  const out: Array<AgentSegment> = []
  for (const s of segments) {
    const end = s.end ?? Math.max(now, s.start)
    let start = s.start
    for (const b of boundaries) {
      if (b <= start) continue
      if (b >= end) break
      out.push({ ...s, start, end: b })
      start = b
    }
    if (end > start) out.push({ ...s, start, end })
  }
  return out
}
