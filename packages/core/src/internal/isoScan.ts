/**
 * The ISO-8601 timestamps `Time.parseIso` meets most often, read by char codes without a
 * regular expression (`Time` keeps the expressions for every other form and for errors).
 */

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar, as `Date.UTC` counts them
 * (by eras of 400 years, H. Hinnant's `days_from_civil`): plain arithmetic, where `Date.UTC` is
 * a call into the runtime that took a third of a timestamp's reading.
 */
const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468
}

/**
 * Days in a month of the proleptic Gregorian calendar (month 1-12); `Time.daysInMonth`.
 *
 * @internal
 */
export const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28)
    : month === 4 || month === 6 || month === 9 || month === 11
    ? 30
    : 31

/**
 * The scanner's answer, left in this one object rather than a new one per call: the push path
 * and the CSV import read millions of timestamps, one after the other, on one thread.
 *
 * @internal
 */
export const scanned: { localMs: number; offsetMs: number | undefined } = { localMs: 0, offsetMs: undefined }

// two ASCII digits at i as a number, else -1 (past the end too: NaN fails both tests)
const digits2 = (text: string, i: number): number => {
  const a = text.charCodeAt(i) - 48
  const b = text.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/**
 * The common timestamps read by char codes, without the regular expression: exactly what
 * `STRICT` accepts (which `LENIENT` accepts alike), with a calendar time of year 100 or later and
 * an offset within ±23:59; the answer is in `scanned`. Anything else
 * (another shape, an error, years 0-99) answers false and takes the regular expression, so
 * errors and lenient forms are read exactly as before.
 *
 * @internal
 */
export const scan = (text: string): boolean => {
  const n = text.length
  if (n < 16) return false
  const century = digits2(text, 0)
  const yy = digits2(text, 2)
  const month = digits2(text, 5)
  const day = digits2(text, 8)
  const hours = digits2(text, 11)
  const minutes = digits2(text, 14)
  const sep = text.charCodeAt(10)
  if (
    century < 1 || yy < 0 || month < 1 || month > 12 || day < 1 || hours < 0 || hours > 23 || minutes < 0 ||
    minutes > 59 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 ||
    (sep !== 84 && sep !== 116 && sep !== 32)
  ) return false
  const year = century * 100 + yy
  if (day > daysInMonth(year, month)) return false
  let i = 16
  let seconds = 0
  let millis = 0
  if (i < n && text.charCodeAt(i) === 58) {
    seconds = digits2(text, i + 1)
    if (seconds < 0 || seconds > 59) return false
    i += 3
    const dot = text.charCodeAt(i)
    if (i < n && (dot === 46 || dot === 44)) {
      const from = ++i
      while (i < n && i - from < 9) {
        const c = text.charCodeAt(i) - 48
        if (c < 0 || c > 9) break
        if (i - from < 3) millis = millis * 10 + c
        i++
      }
      if (i === from) return false
      for (let k = i - from; k < 3; k++) millis *= 10
    }
  }
  let offset: number | undefined = undefined
  if (i < n) {
    const c = text.charCodeAt(i)
    if (c === 90 || c === 122) {
      if (i + 1 !== n) return false
      offset = 0
    } else if (c === 43 || c === 45) {
      const oh = digits2(text, i + 1)
      if (oh < 0 || oh > 23) return false
      i += 3
      let om = 0
      if (i < n) {
        if (text.charCodeAt(i) === 58) i++
        om = digits2(text, i)
        if (om < 0 || om > 59) return false
        i += 2
      }
      if (i !== n) return false
      offset = (c === 45 ? -1 : 1) * (oh * HOUR_MS + om * MINUTE_MS)
    } else return false
  }
  scanned.localMs = daysFromCivil(year, month, day) * DAY_MS + hours * HOUR_MS + minutes * MINUTE_MS + seconds * 1000 + millis
  scanned.offsetMs = offset
  return true
}
