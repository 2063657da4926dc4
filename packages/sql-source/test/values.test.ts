import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import { formatParameter, readBoolean, readNumber, readTimestamp } from "../src/internal/values.js"

const berlin = { zone: DateTime.zoneUnsafeMakeNamed("Europe/Berlin"), numeric: "epoch_seconds" as const }
const kolkata = { zone: DateTime.zoneUnsafeMakeNamed("Asia/Kolkata"), numeric: "epoch_millis" as const }
const iso = (e: Either.Either<DateTime.Utc, string>) => DateTime.formatIso(Either.getOrThrow(e))

describe("reading timestamps", () => {
  it("takes offsets as given", () => {
    assert.strictEqual(iso(readTimestamp("2026-03-02T09:15:00Z", berlin)), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(iso(readTimestamp("2026-03-02 10:15:00+01:00", berlin)), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(iso(readTimestamp("2026-03-02 10:15:00.250+0100", berlin)), "2026-03-02T09:15:00.250Z")
    // PostgreSQL's text form of timestamptz: "+00" without minutes
    assert.strictEqual(iso(readTimestamp("2026-03-02 09:15:00+00", berlin)), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(iso(readTimestamp(new Date("2026-03-02T09:15:00Z"), berlin)), "2026-03-02T09:15:00.000Z")
  })
  it("reads wall-clock time without offset in the source zone, :30 zones included", () => {
    assert.strictEqual(iso(readTimestamp("2026-03-02 10:15:00", berlin)), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(iso(readTimestamp("2026-07-02T10:15:00", berlin)), "2026-07-02T08:15:00.000Z")
    assert.strictEqual(iso(readTimestamp("2026-03-02 10:15:00", kolkata)), "2026-03-02T04:45:00.000Z")
  })
  it("refuses a wall-clock time in the spring-forward gap, takes the earlier of a repeated one", () => {
    const gap = readTimestamp("2026-03-29 02:30:00", berlin)
    assert.isTrue(Either.isLeft(gap))
    assert.include(Either.isLeft(gap) ? gap.left : "", "does not exist in the time zone Europe/Berlin")
    assert.strictEqual(iso(readTimestamp("2026-10-25 02:30:00", berlin)), "2026-10-25T00:30:00.000Z")
    assert.strictEqual(iso(readTimestamp("2026-10-25 02:30:00+01:00", berlin)), "2026-10-25T01:30:00.000Z")
  })
  it("reads numbers as epoch seconds or ms, as configured", () => {
    assert.strictEqual(iso(readTimestamp(1772442900, berlin)), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(iso(readTimestamp("1772442900", berlin)), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(iso(readTimestamp(1772442900000n, kolkata)), "2026-03-02T09:15:00.000Z")
  })
  it("refuses what is not a time", () => {
    for (const v of ["yesterday", "2026-02-30 10:00:00", "2026-13-01", true, {}, new Date("x")]) {
      assert.isTrue(Either.isLeft(readTimestamp(v, berlin)), String(v))
    }
  })
})

describe("reading flags and numbers", () => {
  it("flags", () => {
    for (const v of [true, 1, 1n, "1", "true", "T", "yes"]) assert.isTrue(Either.getOrThrow(readBoolean(v)))
    for (const v of [false, 0, 0n, "0", "false", "f", "No"]) assert.isFalse(Either.getOrThrow(readBoolean(v)))
    for (const v of [2, "maybe", null]) assert.isTrue(Either.isLeft(readBoolean(v)))
  })
  it("numbers, including DECIMAL text and bigint", () => {
    assert.strictEqual(Either.getOrThrow(readNumber("200.125")), 200.125)
    assert.strictEqual(Either.getOrThrow(readNumber(12n)), 12)
    assert.isTrue(Either.isLeft(readNumber("12s")))
    assert.isTrue(Either.isLeft(readNumber(Number.NaN)))
  })
})

describe("writing :from / :to", () => {
  const instant = DateTime.unsafeMake("2026-03-02T09:15:00Z")
  const utc = DateTime.zoneUnsafeMakeNamed("UTC")
  const zone = DateTime.zoneUnsafeMakeNamed("Europe/Berlin")
  it("iso in UTC or with the zone's offset", () => {
    assert.strictEqual(formatParameter(instant, "iso", utc), "2026-03-02T09:15:00.000Z")
    assert.strictEqual(formatParameter(instant, "iso", zone), "2026-03-02T10:15:00.000+01:00")
  })
  it("wall-clock timestamp text in the zone", () => {
    assert.strictEqual(formatParameter(instant, "timestamp", utc), "2026-03-02 09:15:00")
    assert.strictEqual(formatParameter(instant, "timestamp", zone), "2026-03-02 10:15:00")
  })
  it("epoch numbers", () => {
    assert.strictEqual(formatParameter(instant, "epoch_seconds", zone), 1772442900)
    assert.strictEqual(formatParameter(instant, "epoch_millis", zone), 1772442900000)
  })
})
