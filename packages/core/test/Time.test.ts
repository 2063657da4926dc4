/**
 * The time module against the runtime's `Intl.DateTimeFormat`, used directly here (not through
 * `effect/DateTime`, which the module is built on): random instants and wall-clock times in
 * zones with DST and with :30/:45 offsets, many of them near the zones' offset changes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import * as nodeAssert from "node:assert"
import type { IntervalLength } from "../src/Bucketing.js"
import * as Bucketing from "../src/Bucketing.js"
import * as Instant from "../src/internal/instant.js"
import * as IsoScan from "../src/internal/isoScan.js"
import * as Time from "../src/Time.js"

const MIN = 60_000
const HOUR = 3_600_000
const Q = 15 * MIN

const zoneNames = [
  "Europe/Berlin",
  "America/New_York",
  "America/Los_Angeles",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Asia/Kolkata",
  "Pacific/Chatham"
] as const
type ZoneName = typeof zoneNames[number]

const zoneOf = (name: string): DateTime.TimeZone => Either.getOrThrow(Time.zone(name))

// ---------------------------------------------------------------------------------------------
// the oracle: Intl alone

const formats = new Map<string, Intl.DateTimeFormat>()
const intlFormat = (name: string): Intl.DateTimeFormat => {
  let f = formats.get(name)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    })
    formats.set(name, f)
  }
  return f
}

/** The wall clock of an instant, per Intl. */
const intlParts = (t: number, name: string): Time.LocalParts => {
  const parts: Record<string, number> = {}
  for (const p of intlFormat(name).formatToParts(t)) if (p.type !== "literal") parts[p.type] = Number(p.value)
  return {
    year: parts["year"]!,
    month: parts["month"]!,
    day: parts["day"]!,
    hours: parts["hour"]!,
    minutes: parts["minute"]!,
    seconds: parts["second"]!,
    millis: ((t % 1000) + 1000) % 1000
  }
}
const intlLocalMs = (t: number, name: string): number => {
  const p = intlParts(t, name)
  return Date.UTC(p.year, p.month - 1, p.day, p.hours, p.minutes, p.seconds, p.millis)
}
const intlOffset = (t: number, name: string): number => intlLocalMs(t, name) - t

/** Every instant with this wall clock: offsets of these zones are multiples of 15 minutes within ±14 h. */
const intlReadings = (localMs: number, name: string): ReadonlyArray<number> => {
  const out: Array<number> = []
  for (let o = -14 * HOUR; o <= 14 * HOUR; o += Q) {
    const t = localMs - o
    if (intlLocalMs(t, name) === localMs) out.push(t)
  }
  return out.sort((a, b) => a - b)
}

/** The offset changes of a zone in [from, to), to the millisecond. */
const transitionsOf = (name: string, from: number, to: number): ReadonlyArray<number> => {
  const out: Array<number> = []
  const step = 6 * HOUR
  for (let t = from; t < to; t += step) {
    if (intlOffset(t, name) === intlOffset(t + step, name)) continue
    let lo = t
    let hi = t + step
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      if (intlOffset(mid, name) === intlOffset(lo, name)) lo = mid
      else hi = mid
    }
    out.push(hi)
  }
  return out
}

const Y2020 = Date.UTC(2020, 0, 1)
const Y2030 = Date.UTC(2030, 0, 1)
const transitions: ReadonlyArray<readonly [ZoneName, number]> = zoneNames.flatMap((name) =>
  transitionsOf(name, Date.UTC(2025, 0, 1), Date.UTC(2028, 0, 1)).map((t) => [name, t] as const)
)

// ---------------------------------------------------------------------------------------------
// arbitraries

/** A zone and an instant: anywhere in 2020-2030, or within three hours of an offset change. */
const instant: fc.Arbitrary<readonly [ZoneName, number]> = fc.oneof(
  fc.tuple(fc.constantFrom(...zoneNames), fc.integer({ min: Y2020, max: Y2030 })),
  fc.tuple(fc.constantFrom(...transitions), fc.integer({ min: -3 * HOUR, max: 3 * HOUR }))
    .map(([[name, at], d]) => [name, at + d] as const),
  fc.tuple(fc.constantFrom(...transitions), fc.constantFrom(-1, 0, 1)).map(([[name, at], d]) => [name, at + d] as const)
)

/**
 * A zone and a wall clock (local ms) to the second: anywhere in 2020-2030, or around an offset
 * change, where it may fall in the skipped or the repeated span.
 */
const wallClock: fc.Arbitrary<readonly [ZoneName, number]> = fc.oneof(
  fc.tuple(fc.constantFrom(...zoneNames), fc.integer({ min: Y2020 / 1000, max: Y2030 / 1000 }))
    .map(([name, s]) => [name, s * 1000] as const),
  fc.tuple(fc.constantFrom(...transitions), fc.integer({ min: -3 * 3600, max: 3 * 3600 }))
    .map(([[name, at], s]) => [name, at + intlOffset(at - 1, name) + s * 1000] as const),
  // exactly at the edges of the change, in either offset
  fc.tuple(fc.constantFrom(...transitions), fc.constantFrom(-1, 0, 1), fc.boolean())
    .map(([[name, at], d, after]) => [name, at + intlOffset(after ? at : at - 1, name) + d] as const)
)

const length = fc.constantFrom<IntervalLength>(15, 30, 60)

const pad = (n: number, w = 2) => String(n).padStart(w, "0")
const isoOf = (p: Time.LocalParts, sep = "T") =>
  `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}${sep}${pad(p.hours)}:${pad(p.minutes)}:${pad(p.seconds)}` +
  `.${pad(p.millis, 3)}`
const offsetText = (offset: number, colon: boolean) => {
  const abs = Math.abs(offset) / MIN
  return `${offset < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}${colon ? ":" : ""}${pad(abs % 60)}`
}

// ---------------------------------------------------------------------------------------------

describe("Time against Intl", () => {
  it("found offset changes in every zone with DST, none in Kathmandu and Kolkata", () => {
    const count = (name: ZoneName) => transitions.filter(([n]) => n === name).length
    for (const name of ["Europe/Berlin", "America/New_York", "America/Los_Angeles", "Australia/Lord_Howe", "Pacific/Chatham"] as const) {
      assert.strictEqual(count(name), 6, name)
    }
    assert.strictEqual(count("Asia/Kathmandu"), 0)
    assert.strictEqual(count("Asia/Kolkata"), 0)
  })

  it("property: instant → offset and local parts", () => {
    fc.assert(
      fc.property(instant, ([name, t]) => {
        const zone = zoneOf(name)
        assert.strictEqual(Time.offsetMs(t, zone), intlOffset(t, name))
        assert.deepStrictEqual(Time.toLocalParts(t, zone), intlParts(t, name))
        assert.strictEqual(Time.toLocalMs(t, zone), intlLocalMs(t, name))
      }),
      { numRuns: 2000 }
    )
  })

  it("property: wall clock → instant: one reading, two in the repeated span, none in the skipped one", () => {
    fc.assert(
      fc.property(wallClock, ([name, local]) => {
        const zone = zoneOf(name)
        const readings = intlReadings(local, name)
        const resolved = Time.resolve(local, zone)
        const parts = Time.partsOfLocalMs(local)
        const earlier = Time.fromLocal(parts, zone)
        const later = Time.fromLocal(parts, zone, { repeated: "later" })
        switch (readings.length) {
          case 0: {
            assert.deepStrictEqual(resolved, { _tag: "Skipped" })
            for (const result of [earlier, later]) {
              assert.isTrue(Either.isLeft(result))
              if (Either.isLeft(result)) {
                assert.strictEqual(result.left.reason, "nonexistent-local-time")
                assert.strictEqual(result.left.zone, name)
              }
            }
            break
          }
          case 1: {
            assert.deepStrictEqual(resolved, { _tag: "Unique", epochMs: readings[0]! })
            assert.deepStrictEqual(earlier, Either.right(readings[0]!))
            assert.deepStrictEqual(later, Either.right(readings[0]!))
            break
          }
          case 2: {
            assert.deepStrictEqual(resolved, { _tag: "Repeated", earlier: readings[0]!, later: readings[1]! })
            assert.deepStrictEqual(earlier, Either.right(readings[0]!))
            assert.deepStrictEqual(later, Either.right(readings[1]!))
            break
          }
          default:
            assert.fail(`${readings.length} readings of ${local} in ${name}`)
        }
      }),
      { numRuns: 600 }
    )
  })

  it("property: the generated wall clocks do reach the skipped and the repeated spans", () => {
    const seen = { Unique: 0, Repeated: 0, Skipped: 0 }
    fc.assert(
      fc.property(wallClock, ([name, local]) => {
        seen[Time.resolve(local, zoneOf(name))._tag]++
      }),
      { numRuns: 2000, seed: 7 }
    )
    assert.isAbove(seen.Repeated, 20)
    assert.isAbove(seen.Skipped, 20)
  })

  it("property: interval starts and ends for 15, 30 and 60 minutes follow Intl's wall clock", () => {
    // a quarter starts an interval where the wall clock is on a multiple of the length, or
    // where the offset changed since the quarter before
    const boundary = (q: number, l: number, name: string) => {
      const p = intlParts(q, name)
      return intlOffset(q - Q, name) !== intlOffset(q, name) || (p.hours * 60 + p.minutes) % l === 0
    }
    fc.assert(
      fc.property(instant, length, ([name, t], l) => {
        const zone = zoneOf(name)
        let start = Bucketing.quarterKey(t)
        while (!boundary(start, l, name)) start -= Q
        let end = start + Q
        while (!boundary(end, l, name)) end += Q
        assert.strictEqual(Bucketing.intervalStart(t, l, zone), start)
        assert.strictEqual(Bucketing.intervalEnd(start, l, zone), end)
        assert.isTrue(end - start <= l * MIN)
      }),
      { numRuns: 1000 }
    )
  })

  it("property: ISO-8601 with an offset is the instant, whatever the zone", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...zoneNames), fc.boolean(), ([name, t], other, colon) => {
        const written = `${isoOf(intlParts(t, name))}${offsetText(intlOffset(t, name), colon)}`
        assert.deepStrictEqual(Time.parseIso(written, zoneOf(other)), Either.right(t), written)
        assert.deepStrictEqual(Time.parseIso(new Date(t).toISOString(), zoneOf(other)), Either.right(t))
        assert.deepStrictEqual(Time.parseIso(written.replace("T", " "), zoneOf(other), { lenient: true }), Either.right(t))
      }),
      { numRuns: 1000 }
    )
  })

  it("property: ISO-8601 without an offset is the wall clock in the zone: earlier reading, or refused in the gap", () => {
    fc.assert(
      fc.property(wallClock, ([name, local]) => {
        const text = isoOf(Time.partsOfLocalMs(local))
        const readings = intlReadings(local, name)
        const parsed = Time.parseIso(text, zoneOf(name))
        if (readings.length === 0) {
          assert.isTrue(Either.isLeft(parsed) && parsed.left.reason === "nonexistent-local-time", text)
        } else {
          assert.deepStrictEqual(parsed, Either.right(readings[0]!), text)
          assert.deepStrictEqual(
            Time.parseIso(text, zoneOf(name), { repeated: "later" }),
            Either.right(readings[readings.length - 1]!)
          )
        }
      }),
      { numRuns: 600 }
    )
  })

  it("property: a date is valid exactly when the calendar has it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2100 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (year, month, day) => {
          const exists = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day
          const text = `${year}-${pad(month)}-${pad(day)}T12:00:00Z`
          assert.strictEqual(Either.isRight(Time.parseIso(text, zoneOf("Europe/Berlin"))), exists, text)
        }
      ),
      { numRuns: 1000 }
    )
  })
})

// the reader as it was before it read common shapes by char codes: the two patterns alone
const STRICT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/
const LENIENT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2})(?::?(\d{2}))?)?$/
const patternReading = (text: string, lenient: boolean): { localMs: number; offsetMs: number | undefined } | string => {
  const m = (lenient ? LENIENT : STRICT).exec(text)
  if (m === null) return "invalid-format"
  const localMs = Time.localMsOf({
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hours: m[4] === undefined ? 0 : Number(m[4]),
    minutes: m[5] === undefined ? 0 : Number(m[5]),
    seconds: m[6] === undefined ? 0 : Number(m[6]),
    millis: m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0").slice(0, 3))
  })
  if (localMs === undefined) return "calendar"
  if (m[8] !== undefined) return { localMs, offsetMs: 0 }
  if (m[9] === undefined) return { localMs, offsetMs: undefined }
  const hours = Number(m[10])
  const minutes = m[11] === undefined ? 0 : Number(m[11])
  if (hours > 23 || minutes > 59) return "invalid-format"
  return { localMs, offsetMs: (m[9] === "-" ? -1 : 1) * (hours * HOUR + minutes * MIN) }
}

describe("Time.readIso against the patterns", () => {
  // timestamps of every shape the reader knows, many of them one character off
  const piece = (values: ReadonlyArray<string>) => fc.constantFrom(...values)
  const text = fc.tuple(
    piece(["2026", "0099", "0100", "1999", "2400", "2100", "202", "20261"]),
    piece(["-"]),
    piece(["01", "02", "12", "13", "00", "1"]),
    piece(["-", "/"]),
    piece(["01", "28", "29", "30", "31", "32", "00"]),
    piece(["T", "t", " ", "", "X", "  "]),
    piece(["00", "09", "23", "24", "9", ""]),
    piece([":", ""]),
    piece(["00", "15", "59", "60", ""]),
    piece([":00", ":59", ":60", ":5", "", ":"]),
    piece(["", ".1", ".12", ".123", ".1234", ",5", ".123456789", ".1234567890", ".", ".x"]),
    piece(["", "Z", "z", "UTC", "GMT", " UTC", " +01:00", "+01:00", "+0100", "+01", "-03:30", "+23:59", "+24:00", "+01:60", "+01:", "+1", "Zx", "+01:00x", "\n"])
  ).map((parts) => parts.join(""))

  it("property: reads every text as the patterns do, strict and lenient", () => {
    fc.assert(
      fc.property(text, fc.boolean(), (input, lenient) => {
        const expected = patternReading(input, lenient)
        const actual = Time.readIso(input, { lenient })
        if (typeof expected === "string") {
          assert.isTrue(Either.isLeft(actual), input)
          if (Either.isLeft(actual)) assert.strictEqual(actual.left.calendar === true, expected === "calendar", input)
        } else assert.deepStrictEqual(Either.getOrThrow(actual), expected, input)
      }),
      { numRuns: 5000 }
    )
  })

  it("property: parseIso agrees with readIso then resolve", () => {
    fc.assert(
      fc.property(text, fc.constantFrom(...zoneNames), (input, name) => {
        const zone = zoneOf(name)
        const expected = Either.flatMap(Time.readIso(input), (r) => {
          if (r.offsetMs !== undefined) return Either.right(r.localMs - r.offsetMs)
          const resolution = Time.resolve(r.localMs, zone)
          return resolution._tag === "Unique"
            ? Either.right(resolution.epochMs)
            : resolution._tag === "Repeated"
            ? Either.right(resolution.earlier)
            : Either.left("skipped")
        })
        const actual = Time.parseIso(input, zone)
        assert.strictEqual(Either.isRight(actual), Either.isRight(expected), input)
        if (Either.isRight(actual) && Either.isRight(expected)) assert.strictEqual(actual.right, expected.right, input)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("Time examples", () => {
  const berlin = zoneOf("Europe/Berlin")
  const lordHowe = zoneOf("Australia/Lord_Howe")
  const chatham = zoneOf("Pacific/Chatham")

  it("resolve: the skipped and repeated spans of Berlin, Lord Howe (30 minutes) and Chatham (+12:45/+13:45)", () => {
    const local = (s: string) => Date.parse(`${s}Z`)
    assert.deepStrictEqual(Time.resolve(local("2026-03-29T02:30:00"), berlin), { _tag: "Skipped" })
    assert.deepStrictEqual(Time.resolve(local("2026-10-25T02:30:00"), berlin), {
      _tag: "Repeated",
      earlier: Date.parse("2026-10-25T00:30:00Z"),
      later: Date.parse("2026-10-25T01:30:00Z")
    })
    assert.deepStrictEqual(Time.resolve(local("2026-10-04T02:15:00"), lordHowe), { _tag: "Skipped" })
    assert.deepStrictEqual(Time.resolve(local("2026-04-05T01:45:00"), lordHowe), {
      _tag: "Repeated",
      earlier: Date.parse("2026-04-04T14:45:00Z"),
      later: Date.parse("2026-04-04T15:15:00Z")
    })
    // Chatham moves from +12:45 to +13:45 at 02:45 local on the last Sunday of September
    assert.deepStrictEqual(Time.resolve(local("2026-09-27T03:00:00"), chatham), { _tag: "Skipped" })
    assert.deepStrictEqual(Time.resolve(local("2026-09-27T03:45:00"), chatham), {
      _tag: "Unique",
      epochMs: Date.parse("2026-09-26T14:00:00Z")
    })
  })

  it("readIso: strict and lenient forms", () => {
    const reading = (text: string, lenient = false) => Either.getOrThrow(Time.readIso(text, { lenient }))
    assert.deepStrictEqual(reading("2026-03-02T09:15:00+0530"), {
      localMs: Date.parse("2026-03-02T09:15:00Z"),
      offsetMs: 5.5 * HOUR
    })
    assert.deepStrictEqual(reading("2026-03-02 09:15"), { localMs: Date.parse("2026-03-02T09:15:00Z"), offsetMs: undefined })
    assert.deepStrictEqual(reading("2026-03-02T09:15:00.123456789-03"), {
      localMs: Date.parse("2026-03-02T09:15:00.123Z"),
      offsetMs: -3 * HOUR
    })
    for (const lenientOnly of ["2026-03-02", "2026-03-02 09:15:00 +01:00", "2026-03-02 09:15:00 UTC", "2026-03-02 09:15:00GMT"]) {
      assert.isTrue(Either.isLeft(Time.readIso(lenientOnly)), lenientOnly)
      assert.isTrue(Either.isRight(Time.readIso(lenientOnly, { lenient: true })), lenientOnly)
    }
    assert.deepStrictEqual(reading("2026-03-02", true), { localMs: Date.parse("2026-03-02T00:00:00Z"), offsetMs: undefined })
    assert.deepStrictEqual(reading("2026-03-02 09:15:00 UTC", true).offsetMs, 0)
    for (const bad of ["2026-3-2T09:15:00", "2026-03-02T9:15", "2026-03-02T09:15:00+24:00", "2026-03-02T09:15:00+01:60", "x"]) {
      assert.isTrue(Either.isLeft(Time.readIso(bad, { lenient: true })), bad)
    }
  })

  it("localMsOf: calendar times only, years 0-99 as written", () => {
    const parts = { year: 2028, month: 2, day: 29, hours: 23, minutes: 59, seconds: 59, millis: 999 }
    assert.strictEqual(Time.localMsOf(parts), Date.parse("2028-02-29T23:59:59.999Z"))
    assert.isUndefined(Time.localMsOf({ ...parts, year: 2026 }))
    assert.isUndefined(Time.localMsOf({ ...parts, hours: 24 }))
    assert.isUndefined(Time.localMsOf({ ...parts, millis: 0.5 }))
    assert.strictEqual(Time.localMsOf({ ...parts, year: 99, month: 1, day: 1 }), Date.parse("0099-01-01T23:59:59.999Z"))
  })

  it("fromLocal: invalid parts are invalid-format, not a gap", () => {
    const result = Time.fromLocal({ year: 2026, month: 2, day: 30, hours: 0, minutes: 0, seconds: 0, millis: 0 }, berlin)
    assert.isTrue(Either.isLeft(result) && result.left.reason === "invalid-format")
  })

  it("formatLocal and label", () => {
    const t = Date.parse("2026-10-25T01:30:00.250Z")
    assert.strictEqual(Time.formatLocal(t, berlin), "2026-10-25 02:30:00.250")
    assert.strictEqual(Time.label(t, berlin), "2026-10-25T02:30:00+01:00")
    assert.strictEqual(Time.label(t - HOUR, berlin), "2026-10-25T02:30:00+02:00")
    assert.strictEqual(Time.formatLocal(Date.parse("2026-01-01T00:00:00Z"), chatham), "2026-01-01 13:45:00")
  })

  it("labeller writes what label writes, for instants in order or not", () => {
    const zones: Array<DateTime.TimeZone> = ["Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns", "Europe/Amsterdam", "UTC"]
      .map((name): DateTime.TimeZone => DateTime.zoneUnsafeMakeNamed(name))
      .concat([DateTime.zoneMakeOffset(-(3 * HOUR + 30 * 60_000)), DateTime.zoneMakeOffset(0)])
    // from before 1900 (offsets with seconds: Amsterdam +00:19:32) to 2100, quarters and any millisecond
    const instant = fc.oneof(
      fc.integer({ min: -2_300_000_000, max: 4_100_000_000 }).map((s) => s * 1000),
      fc.integer({ min: -2_300_000, max: 4_100_000 }).map((k) => k * 900_000),
      fc.integer({ min: -2_300_000_000_000, max: 4_100_000_000_000 })
    )
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.array(instant, { maxLength: 40 }), fc.boolean(), (zone, instants, inOrder) => {
        const label = Time.labeller(zone)
        for (const at of inOrder ? [...instants].sort((a, b) => a - b) : instants) {
          assert.strictEqual(label(at), Time.label(at, zone))
        }
      }),
      { numRuns: 400 }
    )
    // a month of quarter-hours across a DST change, in order, as an answer labels them
    const berlin = DateTime.zoneUnsafeMakeNamed("Europe/Berlin")
    const label = Time.labeller(berlin)
    const start = Date.parse("2026-10-01T00:00:00Z")
    for (let k = 0; k < 31 * 96; k++) assert.strictEqual(label(start + k * 900_000), Time.label(start + k * 900_000, berlin))
    // an answer labels each row's start, then its end, which is the next row's start: the
    // same instant twice in a row, then a new one, across the same change
    const pairs = Time.labeller(berlin)
    for (let k = 0; k < 31 * 96; k++) {
      for (const at of [start + k * 900_000, start + (k + 1) * 900_000]) assert.strictEqual(pairs(at), Time.label(at, berlin))
    }
  })

  it("IsoInstant: an offset is required; encodes in UTC", () => {
    const decode = Schema.decodeUnknownEither(Time.IsoInstant)
    const decoded = decode("2026-03-02T10:15:00+01:00")
    assert.deepStrictEqual(Either.map(decoded, DateTime.toEpochMillis), Either.right(Date.parse("2026-03-02T09:15:00Z")))
    assert.isTrue(Either.isLeft(decode("2026-03-02T10:15:00")))
    assert.isTrue(Either.isLeft(decode("March 2, 2026")))
    assert.isTrue(Either.isLeft(decode(1772442900000)))
    assert.strictEqual(
      Schema.encodeSync(Time.IsoInstant)(DateTime.unsafeMake(Date.parse("2026-03-02T09:15:00Z"))),
      "2026-03-02T09:15:00.000Z"
    )
  })

  it("a long run of timestamps across a year agrees with the uncached path", () => {
    // every hour of 2026, twice: the memo tables answer the second round
    for (let round = 0; round < 2; round++) {
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += HOUR + 7 * MIN) {
        const local = intlLocalMs(t, "Europe/Berlin")
        const r = Time.resolve(local, berlin)
        assert.isTrue(r._tag === "Unique" ? r.epochMs === t : r._tag === "Repeated" && (r.earlier === t || r.later === t))
      }
    }
  })
})

describe("Time.utc", () => {
  // what a caller of either can observe: type, prototype, instant, text, equality, hash, own
  // enumerable properties, before and after Effect caches the parts on them
  const same = (ms: number) => {
    const made = Time.utc(ms)
    const expected = DateTime.unsafeMake(ms)
    nodeAssert.deepStrictEqual(made, expected)
    assert.deepStrictEqual(Object.keys(made), Object.keys(expected))
    assert.isTrue(DateTime.isDateTime(made) && DateTime.isUtc(made))
    assert.isTrue(Schema.is(Schema.DateTimeUtcFromSelf)(made))
    assert.strictEqual(Object.getPrototypeOf(made), Object.getPrototypeOf(expected))
    assert.strictEqual(DateTime.toEpochMillis(made), DateTime.toEpochMillis(expected))
    assert.strictEqual(DateTime.formatIso(made), DateTime.formatIso(expected))
    assert.strictEqual(JSON.stringify(made), JSON.stringify(expected))
    assert.isTrue(Equal.equals(made, expected))
    assert.strictEqual(Hash.hash(made), Hash.hash(expected))
    assert.deepStrictEqual(DateTime.toPartsUtc(made), DateTime.toPartsUtc(expected))
    // the cached parts stay out of sight, as on Effect's own value
    assert.deepStrictEqual(Object.keys(made), ["epochMillis"])
    // (each value's cached hash is a function of its own, so string keys only)
    const described = (value: object) => Object.getOwnPropertyNames(value).map((key) => [key, Object.getOwnPropertyDescriptor(value, key)])
    assert.deepStrictEqual(described(made), described(expected))
    nodeAssert.deepStrictEqual(made, expected)
    assert.isTrue(Instant.sameAsEffects(Time.utc(ms)))
  }

  it("takes the cheap path on this Effect (its layout is the one internal/instant.ts checks)", () => {
    assert.isTrue(Instant.fast)
  })

  it("leaves the values Effect makes as they were", () => {
    const effects = DateTime.unsafeMake(1_767_225_600_000)
    const own = Object.getOwnPropertyDescriptor(effects, "partsUtc")
    assert.deepStrictEqual(own, { value: undefined, writable: true, enumerable: false, configurable: false })
    const parts = DateTime.toPartsUtc(effects)
    assert.strictEqual(parts.year, 2026)
    assert.strictEqual(DateTime.toPartsUtc(effects), parts)
    assert.deepStrictEqual(Object.keys(effects), ["epochMillis"])
    const zoned = DateTime.unsafeMakeZoned(1_767_225_600_000, { timeZone: "Europe/Berlin" })
    assert.strictEqual(DateTime.formatIsoZoned(zoned), "2026-01-01T01:00:00.000+01:00[Europe/Berlin]")
  })

  it("is DateTime.unsafeMake of the same milliseconds", () => {
    for (const ms of [0, -1, 1, 1_767_225_600_000, -62_135_596_800_000, 8_640_000_000_000_000, -8_640_000_000_000_000]) {
      same(ms)
    }
    fc.assert(fc.property(fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }), (ms) => same(ms)))
    // fractions are truncated as a Date truncates them
    same(1.9)
    same(-1.9)
  })

  it("refuses what DateTime.unsafeMake refuses", () => {
    for (const ms of [Number.NaN, Infinity, 8_640_000_000_000_001, -8_640_000_000_000_001]) {
      assert.throws(() => DateTime.unsafeMake(ms))
      assert.throws(() => Time.utc(ms))
    }
  })
})

describe("the ISO scanner (internal/isoScan.ts)", () => {
  it("reads every calendar time from year 100 to 9999 as Date.UTC counts it", () => {
    const text = (n: number, width: number) => String(n).padStart(width, "0")
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 999 }),
        (year, month, dayWanted, hours, minutes, seconds, millis) => {
          const day = Math.min(dayWanted, Time.daysInMonth(year, month))
          const written = `${text(year, 4)}-${text(month, 2)}-${text(day, 2)}T${text(hours, 2)}:${text(minutes, 2)}:${
            text(seconds, 2)
          }.${text(millis, 3)}Z`
          assert.isTrue(IsoScan.scan(written), written)
          const utc = new Date(0)
          utc.setUTCFullYear(year, month - 1, day)
          utc.setUTCHours(hours, minutes, seconds, millis)
          assert.strictEqual(IsoScan.scanned.localMs, utc.getTime(), written)
          assert.strictEqual(IsoScan.scanned.offsetMs, 0)
        }
      ),
      { numRuns: 5_000 }
    )
    // the turns of centuries and leap days, where a day count goes wrong first
    for (const written of ["0100-03-01T00:00Z", "1600-02-29T12:00Z", "1900-02-28T23:59Z", "2000-02-29T00:00Z", "2100-03-01T00:00Z", "9999-12-31T23:59Z"]) {
      assert.isTrue(IsoScan.scan(written), written)
      assert.strictEqual(IsoScan.scanned.localMs, Date.parse(written.replace("Z", ":00Z")), written)
    }
  })
})
