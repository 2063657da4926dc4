import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import type { IntervalLength } from "../src/Bucketing.js"
import * as Bucketing from "../src/Bucketing.js"

const Q = Bucketing.QUARTER_MS
const MIN = 60_000
const HOUR = 3_600_000

const tz = (name: string): DateTime.TimeZone => Either.getOrThrow(Bucketing.zone(name))
const utc = (iso: string): number => {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new Error(`bad test timestamp ${iso}`)
  return ms
}
const local = (text: string, zone: DateTime.TimeZone): number => Either.getOrThrow(Bucketing.parseTimestamp(text, zone))
const intlOffset = (ms: number, zone: DateTime.TimeZone): number =>
  DateTime.zonedOffset(DateTime.unsafeMakeZoned(ms, { timeZone: zone }))

const berlin = tz("Europe/Berlin")
const newYork = tz("America/New_York")
const lordHowe = tz("Australia/Lord_Howe")
const kathmandu = tz("Asia/Kathmandu")
const kolkata = tz("Asia/Kolkata")
const utcZone = tz("UTC")

const lengths: ReadonlyArray<IntervalLength> = [15, 30, 60]

/** Offset changes (UTC), some of them deliberately not on a quarter-hour. */
const transitions: ReadonlyArray<readonly [string, string]> = [
  ["Europe/Berlin", "2026-03-29T01:00:00Z"],
  ["Europe/Berlin", "2026-10-25T01:00:00Z"],
  ["America/New_York", "2026-03-08T07:00:00Z"],
  ["America/New_York", "2026-11-01T06:00:00Z"],
  ["Australia/Lord_Howe", "2026-04-04T15:00:00Z"],
  ["Australia/Lord_Howe", "2026-10-03T15:30:00Z"],
  ["Pacific/Chatham", "2026-04-04T14:00:00Z"],
  // 00:01 local: not on a quarter
  ["America/St_Johns", "2005-04-03T03:31:00Z"],
  // local mean time +00:53:28 to CET: neither the offset nor the change is on a quarter
  ["Europe/Berlin", "1893-03-31T23:06:32Z"],
  // -00:44:30 to GMT
  ["Africa/Monrovia", "1972-01-07T00:44:30Z"]
]

const zoneNames = [
  "Europe/Berlin",
  "America/New_York",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Asia/Kolkata",
  "UTC",
  "Pacific/Chatham",
  "America/St_Johns",
  "Africa/Monrovia"
] as const

/** An instant anywhere in 2020-2030, or within six hours of a listed offset change. */
const instantInZone: fc.Arbitrary<readonly [DateTime.TimeZone, number]> = fc.oneof(
  fc.tuple(fc.constantFrom(...zoneNames), fc.integer({ min: utc("2020-01-01T00:00:00Z"), max: utc("2030-01-01T00:00:00Z") }))
    .map(([name, t]) => [tz(name), t] as const),
  fc.tuple(fc.constantFrom(...transitions), fc.integer({ min: -6 * HOUR, max: 6 * HOUR }))
    .map(([[name, at], d]) => [tz(name), utc(at) + d] as const)
)
const length = fc.constantFrom<IntervalLength>(15, 30, 60)

const dayIntervals = (zone: DateTime.TimeZone, date: string, next: string, length: IntervalLength) =>
  Bucketing.intervals(local(`${date}T00:00:00`, zone), local(`${next}T00:00:00`, zone), length, zone)

describe("Bucketing.quarterKey", () => {
  it("floors to the UTC quarter, also before 1970", () => {
    assert.strictEqual(Bucketing.quarterKey(utc("2026-03-29T01:14:59.999Z")), utc("2026-03-29T01:00:00Z"))
    assert.strictEqual(Bucketing.quarterKey(utc("2026-03-29T01:15:00Z")), utc("2026-03-29T01:15:00Z"))
    assert.strictEqual(Bucketing.quarterKey(-1), -Q)
    assert.strictEqual(Bucketing.quarterKey(-Q), -Q)
    assert.strictEqual(Bucketing.quarterKey(0), 0)
  })

  it("property: the key is a quarter with key <= t < key + 15 min", () => {
    fc.assert(fc.property(fc.integer({ min: -4e12, max: 4e12 }), (t) => {
      const k = Bucketing.quarterKey(t)
      assert.strictEqual(k % Q === 0, true)
      assert.isTrue(k <= t && t < k + Q)
    }))
  })
})

describe("Bucketing.zone and offsetMs", () => {
  it("resolves IANA names and rejects others", () => {
    assert.strictEqual(DateTime.zoneToString(tz("Europe/Berlin")), "Europe/Berlin")
    for (const bad of ["Mars/Olympus_Mons", "", "+02:00x"]) {
      const result = Bucketing.zone(bad)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "UnknownTimeZone")
        assert.strictEqual(result.left.input, bad)
        assert.include(result.left.message, "is not an IANA time zone")
      }
    }
  })

  it("gives the offset in force at the instant, switching at the exact millisecond", () => {
    assert.strictEqual(Bucketing.offsetMs(utc("2026-03-29T00:59:59.999Z"), berlin), HOUR)
    assert.strictEqual(Bucketing.offsetMs(utc("2026-03-29T01:00:00Z"), berlin), 2 * HOUR)
    assert.strictEqual(Bucketing.offsetMs(utc("2026-01-01T00:00:00Z"), kathmandu), 5 * HOUR + 45 * MIN)
    const stJohns = tz("America/St_Johns")
    assert.strictEqual(Bucketing.offsetMs(utc("2005-04-03T03:30:59.999Z"), stJohns), -(3 * HOUR + 30 * MIN))
    assert.strictEqual(Bucketing.offsetMs(utc("2005-04-03T03:31:00Z"), stJohns), -(2 * HOUR + 30 * MIN))
    assert.strictEqual(Bucketing.offsetMs(0, DateTime.zoneMakeOffset(-90 * MIN)), -90 * MIN)
  })

  it("property: the memoised offset equals Intl's, also right at and next to transitions", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          instantInZone,
          fc.tuple(fc.constantFrom(...transitions), fc.constantFrom(-1, 0, 1))
            .map(([[name, at], d]) => [tz(name), utc(at) + d] as const)
        ),
        ([zone, t]) => {
          assert.strictEqual(Bucketing.offsetMs(t, zone), intlOffset(t, zone))
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("Bucketing intervals on DST and odd-offset days", () => {
  // [zone, local day, next local day, minutes in the day, 15-, 30-, 60-minute intervals]
  const days: ReadonlyArray<readonly [string, string, string, number, number, number, number]> = [
    ["Europe/Berlin", "2026-03-29", "2026-03-30", 23 * 60, 92, 46, 23],
    ["Europe/Berlin", "2026-10-25", "2026-10-26", 25 * 60, 100, 50, 25],
    ["Europe/Berlin", "2026-06-01", "2026-06-02", 24 * 60, 96, 48, 24],
    ["America/New_York", "2026-03-08", "2026-03-09", 23 * 60, 92, 46, 23],
    ["America/New_York", "2026-11-01", "2026-11-02", 25 * 60, 100, 50, 25],
    // DST ends: 02:00 +11:00 becomes 01:30 +10:30, a 24.5-hour day with one 30-minute "hour"
    ["Australia/Lord_Howe", "2026-04-05", "2026-04-06", 24 * 60 + 30, 98, 49, 25],
    // DST starts: 02:00 +10:30 becomes 02:30 +11:00, a 23.5-hour day with one 30-minute "hour"
    ["Australia/Lord_Howe", "2026-10-04", "2026-10-05", 23 * 60 + 30, 94, 47, 24],
    ["Asia/Kathmandu", "2026-01-01", "2026-01-02", 24 * 60, 96, 48, 24],
    ["Asia/Kolkata", "2026-01-01", "2026-01-02", 24 * 60, 96, 48, 24]
  ]

  for (const [name, date, next, minutes, q15, q30, q60] of days) {
    it(`${name} ${date}: ${q15} quarter-hours, ${q30} half-hours, ${q60} hours`, () => {
      const zone = tz(name)
      const from = local(`${date}T00:00:00`, zone)
      const to = local(`${next}T00:00:00`, zone)
      assert.strictEqual((to - from) / MIN, minutes)
      // the day's length in quarters and the interval counts follow from the real day length
      assert.strictEqual(minutes / 15, q15)
      const counts = lengths.map((l) => dayIntervals(zone, date, next, l).length)
      assert.deepStrictEqual(counts, [q15, q30, q60])
      for (const l of lengths) {
        const list = dayIntervals(zone, date, next, l)
        assert.strictEqual(list[0]?.start, from)
        assert.strictEqual(list[list.length - 1]?.end, to)
      }
    })
  }

  it("the Lord Howe days really are its transitions: the offset differs at the two midnights", () => {
    const offsetAtMidnight = (date: string) => Bucketing.offsetMs(local(`${date}T00:00:00`, lordHowe), lordHowe)
    assert.strictEqual(offsetAtMidnight("2026-04-05"), 11 * HOUR)
    assert.strictEqual(offsetAtMidnight("2026-04-06"), 10 * HOUR + 30 * MIN)
    assert.strictEqual(offsetAtMidnight("2026-10-04"), 10 * HOUR + 30 * MIN)
    assert.strictEqual(offsetAtMidnight("2026-10-05"), 11 * HOUR)
    // and the days around them are ordinary
    assert.strictEqual(dayIntervals(lordHowe, "2026-04-04", "2026-04-05", 15).length, 96)
    assert.strictEqual(dayIntervals(lordHowe, "2026-04-06", "2026-04-07", 15).length, 96)
  })

  it("Berlin fall-back: the repeated 02:00 hour is two intervals with their own offsets", () => {
    const hours = dayIntervals(berlin, "2026-10-25", "2026-10-26", 60)
    const labels = hours.map((i) => Bucketing.label(i.start, berlin))
    assert.deepStrictEqual(labels.slice(0, 5), [
      "2026-10-25T00:00:00+02:00",
      "2026-10-25T01:00:00+02:00",
      "2026-10-25T02:00:00+02:00",
      "2026-10-25T02:00:00+01:00",
      "2026-10-25T03:00:00+01:00"
    ])
    assert.deepStrictEqual(hours.slice(2, 4), [
      { start: utc("2026-10-25T00:00:00Z"), end: utc("2026-10-25T01:00:00Z") },
      { start: utc("2026-10-25T01:00:00Z"), end: utc("2026-10-25T02:00:00Z") }
    ])
    assert.strictEqual(Bucketing.label(hours[2]!.end, berlin), "2026-10-25T02:00:00+01:00")
  })

  it("Berlin spring-forward: 01:00 +01:00 is followed by 03:00 +02:00", () => {
    const labels = dayIntervals(berlin, "2026-03-29", "2026-03-30", 60).map((i) => Bucketing.label(i.start, berlin))
    assert.deepStrictEqual(labels.slice(0, 3), [
      "2026-03-29T00:00:00+01:00",
      "2026-03-29T01:00:00+01:00",
      "2026-03-29T03:00:00+02:00"
    ])
    assert.strictEqual(Bucketing.label(utc("2026-03-29T01:00:00Z"), berlin), "2026-03-29T03:00:00+02:00")
  })

  it("New York: 01:00 repeats in November, 02:00 is skipped in March", () => {
    const nov = dayIntervals(newYork, "2026-11-01", "2026-11-02", 60).map((i) => Bucketing.label(i.start, newYork))
    assert.deepStrictEqual(nov.slice(1, 4), ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"])
    const mar = dayIntervals(newYork, "2026-03-08", "2026-03-09", 60).map((i) => Bucketing.label(i.start, newYork))
    assert.deepStrictEqual(mar.slice(1, 3), ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"])
  })

  it("Lord Howe: the 30-minute shift gives one 30-minute interval, never an overlap", () => {
    const april = dayIntervals(lordHowe, "2026-04-05", "2026-04-06", 60)
    assert.deepStrictEqual(april.slice(1, 4).map((i) => [Bucketing.label(i.start, lordHowe), (i.end - i.start) / MIN]), [
      ["2026-04-05T01:00:00+11:00", 60],
      ["2026-04-05T01:30:00+10:30", 30],
      ["2026-04-05T02:00:00+10:30", 60]
    ])
    const october = dayIntervals(lordHowe, "2026-10-04", "2026-10-05", 60)
    assert.deepStrictEqual(october.slice(1, 4).map((i) => [Bucketing.label(i.start, lordHowe), (i.end - i.start) / MIN]), [
      ["2026-10-04T01:00:00+10:30", 60],
      ["2026-10-04T02:30:00+11:00", 30],
      ["2026-10-04T03:00:00+11:00", 60]
    ])
  })

  it("Asia/Kathmandu (+05:45): hours start at :15 UTC and are labelled on the hour", () => {
    const start = Bucketing.intervalStart(utc("2026-01-01T00:20:00Z"), 60, kathmandu)
    assert.strictEqual(start, utc("2026-01-01T00:15:00Z"))
    assert.strictEqual(Bucketing.label(start, kathmandu), "2026-01-01T06:00:00+05:45")
    assert.strictEqual(Bucketing.intervalEnd(start, 60, kathmandu), utc("2026-01-01T01:15:00Z"))
    assert.strictEqual(Bucketing.label(utc("2026-01-01T00:00:00Z"), kathmandu), "2026-01-01T05:45:00+05:45")
    for (const i of dayIntervals(kathmandu, "2026-01-01", "2026-01-02", 60)) {
      assert.strictEqual(new Date(i.start).getUTCMinutes(), 15)
      assert.match(Bucketing.label(i.start, kathmandu), /T\d\d:00:00\+05:45$/)
    }
    for (const i of dayIntervals(kathmandu, "2026-01-01", "2026-01-02", 30)) {
      assert.include([15, 45], new Date(i.start).getUTCMinutes())
    }
  })

  it("Asia/Kolkata (+05:30): hours start at :30 UTC, half-hours on the UTC half-hour", () => {
    const start = Bucketing.intervalStart(utc("2026-01-01T00:20:00Z"), 60, kolkata)
    assert.strictEqual(start, utc("2025-12-31T23:30:00Z"))
    assert.strictEqual(Bucketing.label(start, kolkata), "2026-01-01T05:00:00+05:30")
    assert.strictEqual(Bucketing.intervalStart(utc("2026-01-01T00:20:00Z"), 30, kolkata), utc("2026-01-01T00:00:00Z"))
    for (const i of dayIntervals(kolkata, "2026-01-01", "2026-01-02", 60)) {
      assert.strictEqual(new Date(i.start).getUTCMinutes(), 30)
    }
  })

  it("labels: UTC as +00:00, seconds precision, fixed offsets, historical offsets with seconds", () => {
    assert.strictEqual(Bucketing.label(utc("2026-01-01T00:00:00Z"), utcZone), "2026-01-01T00:00:00+00:00")
    assert.strictEqual(Bucketing.label(utc("2026-01-01T00:00:01.999Z"), utcZone), "2026-01-01T00:00:01+00:00")
    assert.strictEqual(Bucketing.label(utc("2026-01-01T00:00:00Z"), newYork), "2025-12-31T19:00:00-05:00")
    assert.strictEqual(Bucketing.label(0, DateTime.zoneMakeOffset(-(9 * HOUR + 30 * MIN))), "1969-12-31T14:30:00-09:30")
    assert.strictEqual(Bucketing.label(utc("1880-01-01T00:00:00Z"), berlin), "1880-01-01T00:53:28+00:53:28")
  })

  it("isBoundary: quarters only; local multiples of the length or an offset change", () => {
    assert.isFalse(Bucketing.isBoundary(utc("2026-01-01T00:00:01Z"), 15, utcZone))
    assert.isTrue(Bucketing.isBoundary(utc("2026-01-01T00:45:00Z"), 15, utcZone))
    assert.isFalse(Bucketing.isBoundary(utc("2026-01-01T00:45:00Z"), 60, utcZone))
    assert.isTrue(Bucketing.isBoundary(utc("2026-01-01T00:30:00Z"), 30, utcZone))
    // 02:00 +01:00 on the fall-back day: both a local hour and the change
    assert.isTrue(Bucketing.isBoundary(utc("2026-10-25T01:00:00Z"), 60, berlin))
    // 01:30 +10:30 on Lord Howe: only the change makes it one
    assert.isTrue(Bucketing.isBoundary(utc("2026-04-04T15:00:00Z"), 60, lordHowe))
    assert.isFalse(Bucketing.isBoundary(utc("2026-04-04T14:30:00Z"), 60, lordHowe))
  })
})

describe("Bucketing interval properties", () => {
  it("property: every instant is in exactly one interval, and that interval is well formed", () => {
    fc.assert(
      fc.property(instantInZone, length, ([zone, t], l) => {
        const start = Bucketing.intervalStart(t, l, zone)
        const end = Bucketing.intervalEnd(start, l, zone)
        assert.isTrue(start <= t && t < end, `${start} <= ${t} < ${end}`)
        assert.isTrue(Bucketing.isBoundary(start, l, zone))
        assert.isTrue(Bucketing.isBoundary(end, l, zone))
        assert.strictEqual((end - start) % Q, 0)
        assert.isTrue(end - start >= Q && end - start <= l * MIN)
        for (let q = start + Q; q < end; q += Q) assert.isFalse(Bucketing.isBoundary(q, l, zone))
        assert.strictEqual(Bucketing.intervalStart(start, l, zone), start)
        assert.strictEqual(Bucketing.intervalStart(end - 1, l, zone), start)
        const containing = Bucketing.intervals(t - 3 * HOUR, t + HOUR, l, zone).filter((i) => i.start <= t && t < i.end)
        assert.deepStrictEqual(containing, [{ start, end }])
      }),
      { numRuns: 1000 }
    )
  })

  it("property: a coarser interval is exactly the union of the finer ones inside it", () => {
    fc.assert(
      fc.property(instantInZone, ([zone, t]) => {
        const start60 = Bucketing.intervalStart(t, 60, zone)
        const end60 = Bucketing.intervalEnd(start60, 60, zone)
        for (const finer of [15, 30] as const) {
          const inside = Bucketing.intervals(start60, end60, finer, zone)
          assert.strictEqual(inside[0]?.start, start60)
          assert.strictEqual(inside[inside.length - 1]?.end, end60)
          for (let k = 1; k < inside.length; k++) assert.strictEqual(inside[k]!.start, inside[k - 1]!.end)
        }
        for (let q = Bucketing.quarterKey(t) - 2 * HOUR; q < t + 2 * HOUR; q += Q) {
          if (Bucketing.isBoundary(q, 60, zone)) assert.isTrue(Bucketing.isBoundary(q, 30, zone))
          if (Bucketing.isBoundary(q, 30, zone)) assert.isTrue(Bucketing.isBoundary(q, 15, zone))
          assert.isTrue(Bucketing.isBoundary(q, 15, zone))
        }
      }),
      { numRuns: 500 }
    )
  })

  it("property: summing quarters into 60 equals summing them into 15 and then into 60", () => {
    fc.assert(
      fc.property(
        instantInZone,
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom<30 | 60>(30, 60),
        ([zone, t], values, coarse) => {
          const first = Bucketing.quarterKey(t)
          const add = (m: Map<number, number>, k: number, v: number) => m.set(k, (m.get(k) ?? 0) + v)
          const direct = new Map<number, number>()
          const by15 = new Map<number, number>()
          values.forEach((v, i) => {
            const q = first + i * Q
            add(direct, Bucketing.intervalStart(q, coarse, zone), v)
            add(by15, Bucketing.intervalStart(q, 15, zone), v)
          })
          const twoStep = new Map<number, number>()
          for (const [start, v] of by15) add(twoStep, Bucketing.intervalStart(start, coarse, zone), v)
          assert.deepStrictEqual([...twoStep].sort((a, b) => a[0] - b[0]), [...direct].sort((a, b) => a[0] - b[0]))
          assert.strictEqual([...direct.values()].reduce((a, b) => a + b, 0), values.reduce((a, b) => a + b, 0))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("property: intervals(from, to) are contiguous, in order and start in [from, to)", () => {
    fc.assert(
      fc.property(instantInZone, fc.integer({ min: 0, max: 30 * HOUR }), length, ([zone, from], span, l) => {
        const to = from + span
        const list = Bucketing.intervals(from, to, l, zone)
        const containingFrom = Bucketing.intervalStart(from, l, zone)
        const firstStart = containingFrom === from ? from : Bucketing.intervalEnd(containingFrom, l, zone)
        if (firstStart >= to) {
          assert.deepStrictEqual(list, [])
          return
        }
        assert.strictEqual(list[0]!.start, firstStart)
        for (const [k, i] of list.entries()) {
          assert.isTrue(i.start >= from && i.start < to)
          assert.strictEqual(i.end, Bucketing.intervalEnd(i.start, l, zone))
          if (k > 0) assert.strictEqual(i.start, list[k - 1]!.end)
        }
        assert.isTrue(list[list.length - 1]!.end >= to)
      }),
      { numRuns: 300 }
    )
  })

  it("property: labels read back to the same second", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"),
        fc.integer({ min: utc("2020-01-01T00:00:00Z"), max: utc("2030-01-01T00:00:00Z") }),
        (name, t) => {
          const zone = tz(name)
          const second = Math.floor(t / 1000) * 1000
          const text = Bucketing.label(t, zone)
          assert.strictEqual(local(text, zone), second)
          // without its offset the wall clock maps back to this instant, or to the earlier
          // reading of a repeated time
          const wall = local(text.slice(0, 19), zone)
          assert.isTrue(wall <= second)
          assert.strictEqual(Bucketing.label(wall, zone).slice(0, 19), text.slice(0, 19))
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("Bucketing.parseTimestamp", () => {
  const failure = (text: string, zone: DateTime.TimeZone) => {
    const result = Bucketing.parseTimestamp(text, zone)
    if (Either.isRight(result)) throw new Error(`${text} parsed to ${result.right}`)
    return result.left
  }

  it("takes an offset or Z as given, whatever the source zone", () => {
    assert.strictEqual(local("2026-03-29T02:30:00+02:00", berlin), utc("2026-03-29T00:30:00Z"))
    assert.strictEqual(local("2026-03-29T02:30:00Z", berlin), utc("2026-03-29T02:30:00Z"))
    assert.strictEqual(local("2026-03-29t02:30:00z", newYork), utc("2026-03-29T02:30:00Z"))
    assert.strictEqual(local("2026-01-01T05:45:00+05:45", utcZone), utc("2026-01-01T00:00:00Z"))
    assert.strictEqual(local("2026-01-01T00:00:00-0930", utcZone), utc("2026-01-01T09:30:00Z"))
    assert.strictEqual(local("2026-01-01T00:00:00-03", utcZone), utc("2026-01-01T03:00:00Z"))
    assert.strictEqual(local("2026-01-01T00:00:00.123456+00:00", berlin), utc("2026-01-01T00:00:00.123Z"))
    assert.strictEqual(local("2026-01-01 00:00Z", berlin), utc("2026-01-01T00:00:00Z"))
  })

  it("reads a time without offset in the source zone", () => {
    assert.strictEqual(local("2026-03-29T01:30:00", berlin), utc("2026-03-29T00:30:00Z"))
    assert.strictEqual(local("2026-03-29T03:00:00", berlin), utc("2026-03-29T01:00:00Z"))
    assert.strictEqual(local("2026-07-01 12:00:00.5", berlin), utc("2026-07-01T10:00:00.500Z"))
    assert.strictEqual(local("2026-07-01T12:00:00,25", newYork), utc("2026-07-01T16:00:00.250Z"))
    assert.strictEqual(local("2026-01-01T06:00:00", kathmandu), utc("2026-01-01T00:15:00Z"))
    assert.strictEqual(local("2026-01-01T00:00:00", DateTime.zoneMakeOffset(2 * HOUR)), utc("2025-12-31T22:00:00Z"))
    assert.strictEqual(local("0099-01-01T00:00:00", utcZone), utc("0099-01-01T00:00:00Z"))
  })

  it("a local time in the spring-forward gap fails as nonexistent", () => {
    const e = failure("2026-03-29T02:30:00", berlin)
    assert.strictEqual(e._tag, "TimestampError")
    assert.strictEqual(e.reason, "nonexistent-local-time")
    assert.strictEqual(e.zone, "Europe/Berlin")
    assert.strictEqual(
      e.message,
      "2026-03-29T02:30:00 does not exist in Europe/Berlin (clocks jump forward at that time); send it with an explicit offset"
    )
    assert.strictEqual(failure("2026-03-29T02:00:00", berlin).reason, "nonexistent-local-time")
    assert.strictEqual(failure("2026-03-29T02:59:59.999", berlin).reason, "nonexistent-local-time")
    assert.strictEqual(failure("2026-03-08T02:15:00", newYork).reason, "nonexistent-local-time")
    assert.strictEqual(failure("2026-10-04T02:15:00", lordHowe).reason, "nonexistent-local-time")
    // the edges of the gap exist
    assert.strictEqual(local("2026-03-29T01:59:59.999", berlin), utc("2026-03-29T00:59:59.999Z"))
    assert.strictEqual(local("2026-10-04T02:30:00", lordHowe), utc("2026-10-03T15:30:00Z"))
  })

  it("a repeated local time takes the earlier instant", () => {
    assert.strictEqual(local("2026-10-25T02:30:00", berlin), utc("2026-10-25T00:30:00Z"))
    assert.strictEqual(local("2026-10-25T02:00:00", berlin), utc("2026-10-25T00:00:00Z"))
    assert.strictEqual(local("2026-10-25T03:00:00", berlin), utc("2026-10-25T02:00:00Z"))
    assert.strictEqual(local("2026-11-01T01:30:00", newYork), utc("2026-11-01T05:30:00Z"))
    assert.strictEqual(local("2026-04-05T01:45:00", lordHowe), utc("2026-04-04T14:45:00Z"))
    assert.strictEqual(local("2026-04-05T01:29:00", lordHowe), utc("2026-04-04T14:29:00Z"))
  })

  it("garbage fails as invalid-format", () => {
    for (
      const text of [
        "",
        "yesterday",
        "2026-03-29",
        "2026-13-01T00:00:00",
        "2026-02-29T00:00:00",
        "2026-04-31T00:00:00",
        "2026-01-01T24:00:00",
        "2026-01-01T00:60:00",
        "2026-01-01T00:00:60",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00 +01:00",
        " 2026-01-01T00:00:00Z",
        "1774744200000"
      ]
    ) {
      const e = failure(text, berlin)
      assert.strictEqual(e.reason, "invalid-format", text)
      assert.include(e.message, "is not an ISO-8601 timestamp")
    }
    assert.strictEqual(local("2028-02-29T00:00:00Z", berlin), utc("2028-02-29T00:00:00Z"))
  })

  it("fromLocal resolves wall-clock parts with a preference for repeated times", () => {
    const parts = { year: 2026, month: 10, day: 25, hours: 2, minutes: 30, seconds: 0, millis: 0 }
    assert.deepStrictEqual(Bucketing.fromLocal(parts, berlin), Either.right(utc("2026-10-25T00:30:00Z")))
    assert.deepStrictEqual(
      Bucketing.fromLocal(parts, berlin, { prefer: "later" }),
      Either.right(utc("2026-10-25T01:30:00Z"))
    )
    const gap = Bucketing.fromLocal({ ...parts, month: 3, day: 29 }, berlin, { prefer: "later" })
    assert.isTrue(Either.isLeft(gap) && gap.left.reason === "nonexistent-local-time")
    const invalid = Bucketing.fromLocal({ ...parts, month: 2, day: 30 }, berlin)
    assert.isTrue(Either.isLeft(invalid) && invalid.left.reason === "invalid-format")
  })
})
