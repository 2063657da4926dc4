import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import * as Bucketing from "../src/Bucketing.js"
import type { IntervalStat } from "../src/Domain.js"
import { emptyMeasures, IntegrationId, QueueId } from "../src/Domain.js"
import * as IntervalSums from "../src/internal/intervalSums.js"

const QUARTER = 900_000
const DAY = 86_400_000
/** DST with whole hours, a 30-minute shift, :30 and :45 offsets, the southern hemisphere, a historical LMT offset, and UTC */
const zones = [
  "Europe/Berlin",
  "America/New_York",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Pacific/Chatham",
  "America/Santiago",
  "Europe/Amsterdam",
  "UTC"
]

describe("intervalSums", () => {
  it("bucketOf agrees with Bucketing.intervalStart over a year (every quarter of the days around offset changes, and of every 9th day), in zones with odd offsets and DST", () => {
    for (const name of zones) {
      const zone = Either.getOrThrow(Bucketing.zone(name))
      const from = Date.parse(name === "Europe/Amsterdam" ? "1937-01-01T00:00:00Z" : "2026-01-01T00:00:00Z")
      const to = from + 366 * DAY
      const pieces = IntervalSums.pieces(from, to, zone)
      const nearChange = (q: number) => pieces.some((p, i) => i > 0 && Math.abs(p.start - q) <= DAY)
      for (const length of [15, 30, 60] as const) {
        for (let q = from; q < to; q += QUARTER) {
          if (Math.floor((q - from) / DAY) % 9 !== 0 && !nearChange(q)) continue
          assert.strictEqual(
            IntervalSums.bucketOf(pieces, length, q),
            Bucketing.intervalStart(q, length, zone),
            `${name}, ${length} min, ${new Date(q).toISOString()}`
          )
        }
      }
    }
  })

  it("pieces of any sub-range give the same intervals as the whole year's", () => {
    const zone = Either.getOrThrow(Bucketing.zone("Australia/Lord_Howe"))
    const year = Date.parse("2026-01-01T00:00:00Z")
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 360 * 96 }), fc.integer({ min: 1, max: 20 * 96 }), fc.constantFrom(30, 60), (a, n, length) => {
        const from = year + a * QUARTER
        const to = from + n * QUARTER
        const pieces = IntervalSums.pieces(from, to + length * 60_000, zone)
        for (let q = from; q < to; q += QUARTER) {
          assert.strictEqual(IntervalSums.bucketOf(pieces, length as 30 | 60, q), Bucketing.intervalStart(q, length as 30 | 60, zone))
        }
      }),
      { numRuns: 50 }
    )
  })

  it("sum: rows of an interval add up, intervals outside [from, to) are left out, ordered by start, queue, channel", () => {
    const zone = Either.getOrThrow(Bucketing.zone("Europe/Berlin"))
    // Berlin's fall-back: 01:00 UTC is 02:00 local twice; the repeated hour is an interval of its own
    const t = Date.parse("2026-10-25T00:00:00Z")
    const row = (queue: string, start: number, offered: number): IntervalStat => ({
      ...emptyMeasures,
      integrationId: IntegrationId.make("i"),
      queueId: QueueId.make(queue),
      channel: "calls",
      start,
      lengthMinutes: 15,
      offered
    })
    const q = {
      tenantId: "t" as never,
      from: t,
      to: t + 3 * 3_600_000,
      lengthMinutes: 60 as const,
      pieces: IntervalSums.pieces(t, t + 4 * 3_600_000, zone)
    }
    const sums = IntervalSums.sum(q, [
      row("b", t + 3 * QUARTER, 1),
      row("a", t, 2),
      row("a", t + QUARTER, 3),
      row("a", t + 4 * QUARTER, 4),
      row("a", t + 12 * QUARTER, 100), // starts at `to`: another interval
      row("a", t - QUARTER, 100) // before `from`
    ])
    assert.deepStrictEqual(sums.map((s) => [s.queueId, s.start, s.offered]), [
      ["a", t, 5],
      ["b", t, 1],
      ["a", t + 3_600_000, 4]
    ])
  })
})
