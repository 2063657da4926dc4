/**
 * What a historical integration should do next, as a pure function of its cursors and the
 * time. The scheduler asks again after every window, so every decision is made from the state
 * committed in storage (and a restarted engine decides exactly as the stopped one would have).
 *
 * @internal
 */
import type * as DateTime from "effect/DateTime"
import type { IntervalLength } from "../Bucketing.js"
import { intervalEnd, intervalStart } from "../Bucketing.js"
import type { ImportRunKind } from "../Domain.js"

/** Cursor stream names (see `Scheduler.streams`). */
export const streams = {
  incremental: "incremental",
  historyFrom: "backfill.history.from",
  historyCutoff: "backfill.history.cutoff",
  historyLow: "backfill.history.low",
  historyHigh: "backfill.history.high",
  gapFrom: "backfill.gap.from",
  gapNext: "backfill.gap.next",
  gapTo: "backfill.gap.to",
  gapMissing: "backfill.gap.missing",
  reimportFrom: "backfill.reimport.from",
  reimportNext: "backfill.reimport.next",
  reimportTo: "backfill.reimport.to",
  realtime: "realtime"
} as const

export type Task = "incremental" | "history" | "gap" | "reimport"

export interface Timing {
  readonly cadence: IntervalLength
  readonly zone: DateTime.TimeZone
  readonly settleMs: number
  readonly lookbackMs: number
  readonly chunkMs: number
  readonly order: "newest-first" | "oldest-first"
}

export interface PlannedWindow {
  readonly from: number
  readonly to: number
  readonly watermark?: { readonly stream: string; readonly value: number } | undefined
}

export type Step =
  /** cursors to write, in this order, before anything else */
  | {
    readonly _tag: "Write"
    readonly reason: "init" | "gap" | "history"
    readonly writes: ReadonlyArray<readonly [string, number]>
  }
  | {
    readonly _tag: "Run"
    readonly task: Task
    readonly kind: ImportRunKind
    readonly windows: ReadonlyArray<PlannedWindow>
    readonly windowsDone: number
    readonly windowsTotal: number
  }
  | { readonly _tag: "Idle"; readonly until: number }

/** The boundary at or before `t`. */
export const alignDown = (t: number, timing: Timing): number => intervalStart(t, timing.cadence, timing.zone)

/** The boundary at or after `t`. */
export const alignUp = (t: number, timing: Timing): number => {
  const down = alignDown(t, timing)
  return down === t ? t : intervalEnd(down, timing.cadence, timing.zone)
}

/** The end of the newest closed interval, capped at now minus the settle delay. */
export const lastClosed = (now: number, timing: Timing): number => alignDown(now - timing.settleMs, timing)

/** When the next interval will have closed and settled. */
export const nextRunAt = (now: number, timing: Timing): number =>
  intervalEnd(lastClosed(now, timing), timing.cadence, timing.zone) + timing.settleMs

/** The end of a window of at most a chunk starting at `from`, on a boundary, never past `limit`. */
const chunkEnd = (from: number, limit: number, timing: Timing): number => {
  const target = from + timing.chunkMs
  if (target >= limit) return limit
  const end = alignDown(target, timing)
  return end > from ? end : Math.min(limit, intervalEnd(from, timing.cadence, timing.zone))
}

/** The start of a window of at most a chunk ending at `to`, on a boundary, never before `limit`. */
const chunkStart = (to: number, limit: number, timing: Timing): number => {
  const target = to - timing.chunkMs
  if (target <= limit) return limit
  const start = alignUp(target, timing)
  return start < to ? start : Math.max(limit, alignDown(to - 1, timing))
}

/** Splits [from, to) into windows of at most a chunk, on boundaries. */
export const split = (from: number, to: number, timing: Timing): ReadonlyArray<{ from: number; to: number }> => {
  const out: Array<{ from: number; to: number }> = []
  let at = from
  while (at < to) {
    const end = chunkEnd(at, to, timing)
    out.push({ from: at, to: end })
    at = end
  }
  return out
}

const windowsIn = (span: number, timing: Timing): number => span <= 0 ? 0 : Math.ceil(span / timing.chunkMs)

export interface Pending {
  readonly from: number
  readonly next: number
  readonly to: number
}

/** A pending range (gap or re-import) from its cursors; none when done or never started. */
export const pendingRange = (
  cursors: ReadonlyMap<string, number>,
  names: { readonly from: string; readonly next: string; readonly to: string }
): Pending | undefined => {
  const next = cursors.get(names.next)
  const to = cursors.get(names.to)
  if (next === undefined || to === undefined || next >= to) return undefined
  return { from: Math.min(cursors.get(names.from) ?? next, next), next, to }
}

export const gapNames = { from: streams.gapFrom, next: streams.gapNext, to: streams.gapTo } as const
export const reimportNames = { from: streams.reimportFrom, next: streams.reimportNext, to: streams.reimportTo } as const

export interface History {
  readonly from: number
  readonly cutoff: number
  readonly low: number
  readonly high: number
}

export const history = (cursors: ReadonlyMap<string, number>): History | undefined => {
  const from = cursors.get(streams.historyFrom)
  const cutoff = cursors.get(streams.historyCutoff)
  if (from === undefined || cutoff === undefined) return undefined
  return {
    from,
    cutoff,
    low: cursors.get(streams.historyLow) ?? cutoff,
    high: cursors.get(streams.historyHigh) ?? cutoff
  }
}

export const historyPending = (h: History | undefined): boolean =>
  h !== undefined && (h.low > h.from || h.high < h.cutoff)

/** The cursors written at first connect: the history range and the cutoff where incremental starts. */
export const initialWrites = (
  now: number,
  historyDays: number,
  timing: Timing
): ReadonlyArray<readonly [string, number]> => {
  const cutoff = lastClosed(now, timing)
  const from = alignDown(cutoff - historyDays * 86_400_000, timing)
  const start = timing.order === "newest-first" ? cutoff : from
  return [
    [streams.historyFrom, from],
    [streams.historyCutoff, cutoff],
    [streams.historyLow, start],
    [streams.historyHigh, start],
    // last: its presence says the integration is initialised
    [streams.incremental, cutoff]
  ]
}

/**
 * The history range after the integration's history depth changed: a deeper history moves
 * its start back, so the part before the old start is imported next (newest first or oldest
 * first, as configured); a shallower one stops the part still to import at the new start.
 * What is imported already stays. None when the range fits the depth.
 */
export const historyDepthWrites = (
  hist: History,
  historyDays: number,
  timing: Timing
): ReadonlyArray<readonly [string, number]> | undefined => {
  const from = alignDown(hist.cutoff - historyDays * 86_400_000, timing)
  if (from < hist.from) return [[streams.historyFrom, from]]
  if (from > hist.from && historyPending(hist)) {
    // imported parts stay imported; only what is still to import is cut
    const low = Math.min(Math.max(hist.low, from), hist.cutoff)
    const high = Math.min(Math.max(hist.high, from), hist.cutoff)
    return [[streams.historyLow, low], [streams.historyHigh, Math.max(high, low)], [streams.historyFrom, Math.min(from, low)]]
  }
  return undefined
}

const rangeStep = (task: "gap" | "reimport", p: Pending, names: typeof gapNames | typeof reimportNames, timing: Timing): Step => {
  const to = chunkEnd(p.next, p.to, timing)
  return {
    _tag: "Run",
    task,
    kind: task === "gap" ? "resume" : "reimport",
    windows: [{ from: p.next, to, watermark: { stream: names.next, value: to } }],
    windowsDone: windowsIn(p.next - p.from, timing),
    windowsTotal: windowsIn(p.to - p.from, timing)
  }
}

/**
 * Where the re-read after a gap starts: the old watermark minus the look-back (on a boundary),
 * never before the history start.
 */
const rereadStart = (watermark: number, hist: History | undefined, timing: Timing): number => {
  let start = alignUp(watermark - timing.lookbackMs, timing)
  if (hist) start = Math.max(start, hist.from)
  return Math.min(start, watermark)
}

/** Removes the ranges in `holes` from [from, to); what is left, in order. */
export const subtract = (
  from: number,
  to: number,
  holes: ReadonlyArray<{ readonly from: number; readonly to: number }>
): ReadonlyArray<{ from: number; to: number }> => {
  let parts: Array<{ from: number; to: number }> = from < to ? [{ from, to }] : []
  for (const hole of holes) {
    if (!(hole.from < hole.to)) continue
    parts = parts.flatMap((p) => {
      if (hole.to <= p.from || hole.from >= p.to) return [p]
      const out: Array<{ from: number; to: number }> = []
      if (p.from < hole.from) out.push({ from: p.from, to: hole.from })
      if (hole.to < p.to) out.push({ from: hole.to, to: p.to })
      return out
    })
  }
  return parts
}

/** The ranges a backfill (history, gap, re-import) still has to import: the look-back leaves them to it. */
export const pendingRanges = (
  cursors: ReadonlyMap<string, number>
): ReadonlyArray<{ readonly from: number; readonly to: number }> => {
  const out: Array<{ from: number; to: number }> = []
  const hist = history(cursors)
  if (hist && historyPending(hist)) {
    out.push({ from: hist.from, to: hist.low }, { from: hist.high, to: hist.cutoff })
  }
  for (const names of [gapNames, reimportNames]) {
    const p = pendingRange(cursors, names)
    if (p) out.push({ from: p.next, to: p.to })
  }
  return out
}

/**
 * Where everything after the history cutoff is imported up to: the watermark, or where a
 * pending gap's missing part starts (what the gap only re-reads was imported before).
 */
export const completeUntil = (cursors: ReadonlyMap<string, number>): number | undefined => {
  const watermark = cursors.get(streams.incremental)
  if (watermark === undefined) return undefined
  const gap = pendingRange(cursors, gapNames)
  if (!gap) return watermark
  return Math.min(watermark, Math.max(gap.next, cursors.get(streams.gapMissing) ?? gap.next))
}

/**
 * The next step of a historical integration.
 *
 * - no `incremental` cursor: initialise (history range, cutoff);
 * - `resumed` (the schedule starts, or runs again after a pause or a failing mark) and more
 *   than one interval missing since the watermark: the resume gap (backfill state) is the
 *   missing range *plus the look-back before it*, `[watermark − look-back, newest)`, so that
 *   what the source corrected while nothing ran (late rows, states closed later) is read
 *   again; `backfill.gap.missing` keeps the old watermark, where the data that was never
 *   imported starts. The incremental cursor moves to the start of the newest interval;
 * - newly closed intervals: one run that imports them (in chunks, each committing the
 *   watermark), then re-imports the look-back `[watermark − look-back, watermark)` (never below
 *   the history start), except the parts a backfill still has to import (they are read then);
 *   what a backfill has imported already is re-read like any other range. While the schedule
 *   keeps running, missed intervals (failures) stay with the incremental cursor, which never
 *   passes a failed write, so the run that succeeds re-reads the look-back before them too;
 * - then, one window at a time: the resume gap (oldest first), the re-import range, the
 *   history import (in the configured order);
 * - otherwise wait for the next interval to close and settle.
 */
export const plan = (
  cursors: ReadonlyMap<string, number>,
  now: number,
  historyDays: number,
  timing: Timing,
  resumed = true
): Step => {
  const watermark = cursors.get(streams.incremental)
  if (watermark === undefined) return { _tag: "Write", reason: "init", writes: initialWrites(now, historyDays, timing) }
  const closed = lastClosed(now, timing)
  const gap = pendingRange(cursors, gapNames)
  const hist = history(cursors)
  const depth = hist === undefined ? undefined : historyDepthWrites(hist, historyDays, timing)
  if (depth !== undefined) return { _tag: "Write", reason: "history", writes: depth }
  if (closed > watermark) {
    const newest = alignDown(closed - 1, timing)
    if (resumed && newest > watermark) {
      const start = rereadStart(watermark, hist, timing)
      const next = gap ? Math.min(gap.next, start) : start
      const missing = gap ? Math.max(gap.next, cursors.get(streams.gapMissing) ?? gap.next) : watermark
      return {
        _tag: "Write",
        reason: "gap",
        writes: [
          [streams.gapFrom, gap ? Math.min(gap.from, next) : next],
          [streams.gapTo, gap ? Math.max(gap.to, newest) : newest],
          [streams.gapMissing, missing],
          [streams.gapNext, next],
          // last: it commits the decision (a crash before it plans the same gap again)
          [streams.incremental, newest]
        ]
      }
    }
    const floor = Math.min(
      alignUp(Math.max(watermark - timing.lookbackMs, hist ? hist.from : Number.NEGATIVE_INFINITY), timing),
      watermark
    )
    const lookback: Array<PlannedWindow> = subtract(floor, watermark, pendingRanges(cursors)).flatMap((part) =>
      split(part.from, part.to, timing).map((w) => ({ from: w.from, to: w.to }))
    )
    const fresh: Array<PlannedWindow> = split(watermark, closed, timing).map((w) => ({
      from: w.from,
      to: w.to,
      watermark: { stream: streams.incremental, value: w.to }
    }))
    return {
      _tag: "Run",
      task: "incremental",
      kind: "pull",
      windows: [...fresh, ...lookback],
      windowsDone: 0,
      windowsTotal: lookback.length + fresh.length
    }
  }
  if (gap) return rangeStep("gap", gap, gapNames, timing)
  const reimport = pendingRange(cursors, reimportNames)
  if (reimport) return rangeStep("reimport", reimport, reimportNames, timing)
  if (hist && historyPending(hist)) {
    const total = windowsIn(hist.cutoff - hist.from, timing)
    const done = total - windowsIn(hist.low - hist.from, timing) - windowsIn(hist.cutoff - hist.high, timing)
    const down = (): Step => {
      const from = chunkStart(hist.low, hist.from, timing)
      return {
        _tag: "Run",
        task: "history",
        kind: "history",
        windows: [{ from, to: hist.low, watermark: { stream: streams.historyLow, value: from } }],
        windowsDone: done,
        windowsTotal: total
      }
    }
    const up = (): Step => {
      const to = chunkEnd(hist.high, hist.cutoff, timing)
      return {
        _tag: "Run",
        task: "history",
        kind: "history",
        windows: [{ from: hist.high, to, watermark: { stream: streams.historyHigh, value: to } }],
        windowsDone: done,
        windowsTotal: total
      }
    }
    if (timing.order === "newest-first") return hist.low > hist.from ? down() : up()
    return hist.high < hist.cutoff ? up() : down()
  }
  return { _tag: "Idle", until: nextRunAt(now, timing) }
}
