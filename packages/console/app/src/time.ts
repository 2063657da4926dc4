/**
 * Days in a time zone. The API reads a `from`/`to` without an offset in the requested zone,
 * so a day is asked as local midnight to the next local midnight, and the answer has 92 or
 * 100 quarter-hours on the days clocks change. The helpers here only format and place what the
 * API answered.
 */

/** The zones this browser knows, the browser's own first. */
export const zones = (): ReadonlyArray<string> => {
  const supported = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []
  const all = supported.includes("UTC") ? supported : ["UTC", ...supported]
  return all
}

export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone

/** `YYYY-MM-DD` of an instant in `zone`. */
export const dateIn = (instant: number, zone: string): string =>
  new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant)

/** The calendar day after `date` (`YYYY-MM-DD`). */
export const nextDay = (date: string): string => {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)
}

/** Minutes `zone` is ahead of UTC at `instant`. */
const offsetMinutes = (instant: number, zone: string): number => {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric"
  }).formatToParts(instant)
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  const asUtc = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"))
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000)
}

/** The instant of local midnight starting `date` in `zone` (the first instant of that day). */
export const midnight = (date: string, zone: string): number => {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number]
  const guess = Date.UTC(y, m - 1, d)
  const first = guess - offsetMinutes(guess, zone) * 60_000
  // a second pass settles days whose midnight sits on the other side of a change
  const second = guess - offsetMinutes(first, zone) * 60_000
  // where the clocks skip midnight (America/Santiago) the second pass lands on the day before:
  // the day starts at the earliest candidate that is on it
  const onDay = [first, second].filter((t) => dateIn(t, zone) === date)
  return onDay.length === 0 ? second : Math.min(...onDay)
}

/** [start, end) of `date` in `zone` as instants: 23, 24 or 25 hours long. */
export const dayBounds = (date: string, zone: string): { readonly start: number; readonly end: number } => ({
  start: midnight(date, zone),
  end: midnight(nextDay(date), zone)
})

/** `HH:MM` of an instant in `zone`. */
export const clock = (instant: number, zone: string): string =>
  new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(instant)

/** A date and time for people, in `zone`. */
export const dateTime = (iso: string | null, zone?: string): string =>
  iso === null
    ? "never"
    : new Intl.DateTimeFormat("en-GB", {
      ...(zone === undefined ? {} : { timeZone: zone }),
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "short"
    }).format(Date.parse(iso))

/** A duration for people: `3 h 5 min`, `42 s`. */
export const duration = (ms: number): string => {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const min = Math.floor(s / 60)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  if (h < 48) return `${h} h ${min % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

/**
 * The label of an interval row's start (`2026-10-25T02:00:00+02:00` → `02:00`), with the
 * offset when the same clock time occurs twice on the day (the hour clocks go back).
 */
export const intervalLabels = (starts: ReadonlyArray<string>): ReadonlyArray<string> => {
  const clocks = starts.map((s) => s.slice(11, 16))
  const seen = new Map<string, number>()
  for (const c of clocks) seen.set(c, (seen.get(c) ?? 0) + 1)
  return starts.map((s, i) => {
    const c = clocks[i]!
    return (seen.get(c) ?? 0) > 1 ? `${c} (${s.slice(19) || "Z"})` : c
  })
}
