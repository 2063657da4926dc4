/**
 * The console's day arithmetic and status merging, in Node (no browser): days that are 23,
 * 24, 24.5 or 25 hours long, the labels of the hour that happens twice, and a streamed status
 * replacing what it overlaps.
 */
import { assert, describe, it } from "vitest"
import { applyStatus } from "../app/src/statuses.js"
import { clock, dateIn, dayBounds, intervalLabels, midnight, nextDay } from "../app/src/time.js"
import type { AgentStatus } from "../app/src/types.js"

const HOUR = 3_600_000

describe("days in a time zone", () => {
  it("starts each day at local midnight and makes it as long as the clocks say", () => {
    const cases: ReadonlyArray<[string, string, string, number]> = [
      ["2026-03-29", "Europe/Berlin", "2026-03-29T00:00:00+01:00", 23],
      ["2026-10-25", "Europe/Berlin", "2026-10-25T00:00:00+02:00", 25],
      ["2026-06-01", "Europe/Berlin", "2026-06-01T00:00:00+02:00", 24],
      ["2026-03-08", "America/New_York", "2026-03-08T00:00:00-05:00", 23],
      ["2026-11-01", "America/New_York", "2026-11-01T00:00:00-04:00", 25],
      // Lord Howe Island moves its clocks by half an hour
      ["2026-04-05", "Australia/Lord_Howe", "2026-04-05T00:00:00+11:00", 24.5],
      ["2026-03-29", "UTC", "2026-03-29T00:00:00Z", 24],
      ["2026-03-29", "Asia/Kolkata", "2026-03-29T00:00:00+05:30", 24]
    ]
    for (const [day, zone, start, hours] of cases) {
      const bounds = dayBounds(day, zone)
      assert.strictEqual(new Date(bounds.start).toISOString(), new Date(start).toISOString(), `${day} ${zone}`)
      assert.strictEqual((bounds.end - bounds.start) / HOUR, hours, `${day} ${zone}`)
      assert.strictEqual(dateIn(bounds.start, zone), day)
      assert.strictEqual(dateIn(bounds.end - 1, zone), day)
    }
  })

  it("finds midnight where a zone skips it (Santiago moves its clocks at midnight)", () => {
    // 2026-09-06 00:00 does not exist in America/Santiago: the day starts at 01:00 (-03:00)
    const start = midnight("2026-09-06", "America/Santiago")
    assert.strictEqual(dateIn(start, "America/Santiago"), "2026-09-06")
    assert.strictEqual(dateIn(start - 1, "America/Santiago"), "2026-09-05")
  })

  it("steps over month and year ends", () => {
    assert.strictEqual(nextDay("2026-12-31"), "2027-01-01")
    assert.strictEqual(nextDay("2028-02-28"), "2028-02-29")
    assert.strictEqual(clock(Date.parse("2026-10-25T01:30:00Z"), "Europe/Berlin"), "02:30")
  })

  it("labels the hour that happens twice with its offset, and no other", () => {
    assert.deepStrictEqual(
      intervalLabels([
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00"
      ]),
      ["01:00", "02:00 (+02:00)", "02:00 (+01:00)", "03:00"]
    )
  })
})

const status = (agent: string, activity: string, start: string, end: string | null): AgentStatus => ({
  integrationId: "i1",
  agentIdentifier: agent,
  activityIdentifier: activity,
  startTime: start,
  endTime: end,
  employeeId: null,
  activityId: null
})

describe("applyStatus", () => {
  it("ends an ongoing status where the new one starts, and leaves other agents alone", () => {
    const before = [
      status("a", "READY", "2026-03-01T09:00:00.000Z", "2026-03-01T10:00:00.000Z"),
      status("a", "LUNCH", "2026-03-01T10:00:00.000Z", null),
      status("b", "LUNCH", "2026-03-01T10:00:00.000Z", null)
    ]
    const after = applyStatus(before, status("a", "TALK", "2026-03-01T10:30:00.000Z", null))
    assert.deepStrictEqual(
      after.map((s) => [s.agentIdentifier, s.activityIdentifier, s.startTime.slice(11, 16), s.endTime?.slice(11, 16) ?? null]),
      [
        ["a", "READY", "09:00", "10:00"],
        ["a", "LUNCH", "10:00", "10:30"],
        ["b", "LUNCH", "10:00", null],
        ["a", "TALK", "10:30", null]
      ]
    )
  })

  it("cuts a hole into a longer status, drops one it covers, and replaces one with the same start", () => {
    const before = [
      status("a", "READY", "2026-03-01T09:00:00.000Z", "2026-03-01T12:00:00.000Z"),
      status("a", "BREAK", "2026-03-01T12:00:00.000Z", "2026-03-01T12:10:00.000Z")
    ]
    const hole = applyStatus(before, status("a", "TALK", "2026-03-01T10:00:00.000Z", "2026-03-01T10:05:00.000Z"))
    assert.deepStrictEqual(
      hole.map((s) => [s.activityIdentifier, s.startTime.slice(11, 16), s.endTime?.slice(11, 16)]).sort(),
      [["BREAK", "12:00", "12:10"], ["READY", "09:00", "10:00"], ["READY", "10:05", "12:00"], ["TALK", "10:00", "10:05"]]
    )
    const covered = applyStatus(before, status("a", "MEETING", "2026-03-01T11:55:00.000Z", "2026-03-01T12:30:00.000Z"))
    assert.deepStrictEqual(
      covered.map((s) => [s.activityIdentifier, s.startTime.slice(11, 16), s.endTime?.slice(11, 16)]),
      [["READY", "09:00", "11:55"], ["MEETING", "11:55", "12:30"]]
    )
    const same = applyStatus(before, status("a", "WRAP", "2026-03-01T12:00:00.000Z", "2026-03-01T12:10:00.000Z"))
    assert.deepStrictEqual(same.map((s) => s.activityIdentifier), ["READY", "WRAP"])
  })
})
