/**
 * The memo tables behind `Time`'s offsets, one pair per zone (see `Time`'s module note): the
 * offset of each UTC day met (or the instant it changes inside the day) and the resolution of
 * each local hour met. Shared by the whole process and emptied when full.
 */
import * as DateTime from "effect/DateTime"

const DAY_MS = 86_400_000

// the offset over one UTC day, or the exact instant it changes inside it (at most once a day,
// see the module note)
export interface Shift {
  readonly at: number
  readonly before: number
  readonly after: number
}

// the resolution of one local hour: its offset when it has one throughout, else null (a
// change inside it: each wall clock resolved from the day offsets)
export type LocalHour = number | null

interface Memo {
  readonly zoneId: string
  readonly utcDays: Map<number, number | Shift>
  readonly localHours: Map<number, LocalHour>
}

const CACHE_LIMIT = 100_000
const memos = new Map<string, Memo>()
let memoSize = 0
// the zone of the previous call: a run of timestamps is almost always in one zone
let lastMemo: Memo | undefined

export const memoOf = (zone: DateTime.TimeZone.Named): Memo => {
  if (lastMemo !== undefined && lastMemo.zoneId === zone.id) return lastMemo
  let memo = memos.get(zone.id)
  if (memo === undefined) {
    memo = { zoneId: zone.id, utcDays: new Map(), localHours: new Map() }
    memos.set(zone.id, memo)
  }
  lastMemo = memo
  return memo
}

// a long-running process that meets many zones and years must not grow without bound;
// emptying everything when full is crude but cheap, and refilling is fast
export const reserve = (): void => {
  if (memoSize >= CACHE_LIMIT) {
    memos.clear()
    lastMemo = undefined
    memoSize = 0
  }
  memoSize++
}

const intlOffset = (epochMs: number, zone: DateTime.TimeZone): number =>
  DateTime.zonedOffset(DateTime.unsafeMakeZoned(epochMs, { timeZone: zone }))

export const utcDayEntry = (dayStart: number, zone: DateTime.TimeZone): number | Shift => {
  const before = intlOffset(dayStart, zone)
  const after = intlOffset(dayStart + DAY_MS - 1, zone)
  if (before === after) return before
  // tz transitions are on whole seconds but not always on quarters: search to the millisecond
  let lo = dayStart
  let hi = dayStart + DAY_MS - 1
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (intlOffset(mid, zone) === before) lo = mid
    else hi = mid
  }
  return { at: hi, before, after }
}
