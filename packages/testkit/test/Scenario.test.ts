import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Scenario from "../src/Scenario.js"

const queues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 40 },
  { identifier: "q-support", name: "Support", channel: "calls", dailyPeak: 25, talkMeanSeconds: 360 },
  { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 10 }
]

const week = {
  seed: 42,
  from: "2026-03-02T08:00:00Z",
  to: "2026-03-09T08:00:00Z",
  timezone: "America/Los_Angeles",
  queues,
  agents: 14
} satisfies Scenario.Options

const scenario = Scenario.generate(week)

describe("Scenario.generate", () => {
  it("is deterministic per seed and differs between seeds", () => {
    assert.deepStrictEqual(Scenario.generate(week), scenario)
    const other = Scenario.generate({ ...week, seed: 43 })
    assert.notDeepEqual(other.contacts.map((c) => c.arrival), scenario.contacts.map((c) => c.arrival))
  })

  it("produces a busy but plausible week: handled, abandoned, transferred, held", () => {
    const c = scenario.contacts
    assert.isAbove(c.length, 1500)
    const handled = c.filter((x) => x.handled).length
    const abandoned = c.filter((x) => x.abandoned).length
    assert.strictEqual(handled + abandoned, c.length)
    assert.isAbove(abandoned, 5)
    assert.isBelow(abandoned / c.length, 0.3)
    assert.isAbove(c.filter((x) => x.legs.length === 2).length, 5)
    assert.isAbove(c.filter((x) => x.legs.some((l) => l.holdMs > 0)).length, 50)
    for (const x of c) {
      assert.isTrue(x.arrival >= scenario.from && x.arrival < scenario.to)
      assert.strictEqual(x.arrival % 1000, 0)
      assert.strictEqual(x.waitMs % 1000, 0)
      if (x.handled) assert.strictEqual(x.legs[0]!.start, x.arrival + x.waitMs)
      else assert.strictEqual(x.legs.length, 0)
    }
    // in arrival order
    for (let i = 1; i < c.length; i++) assert.isTrue(c[i - 1]!.arrival <= c[i]!.arrival)
  })

  it("follows a daily curve: nothing at night, more at 11:00 than at 8:00 local", () => {
    const byHour = new Array<number>(24).fill(0)
    for (const x of scenario.contacts) {
      const h = Number(
        new Intl.DateTimeFormat("en-US", { timeZone: week.timezone, hour: "numeric", hourCycle: "h23" }).format(
          x.arrival
        )
      )
      byHour[h]!++
    }
    assert.strictEqual(byHour.slice(0, 7).reduce((a, b) => a + b, 0), 0)
    assert.strictEqual(byHour.slice(20).reduce((a, b) => a + b, 0), 0)
    assert.isAbove(byHour[11]!, byHour[7]! * 1.3)
  })

  it("agent timelines agree with the contacts: every leg is Talk (and Hold) then ACW of its agent", () => {
    const byAgent = new Map<string, Array<Scenario.AgentState>>()
    for (const s of scenario.states) {
      if (!byAgent.has(s.agentId)) byAgent.set(s.agentId, [])
      byAgent.get(s.agentId)!.push(s)
    }
    for (const contact of scenario.contacts.slice(0, 400)) {
      for (const leg of contact.legs) {
        const states = byAgent.get(leg.agentId)!
        const talk = states.find((s) => s.activity === "Talk" && s.start === leg.start)
        assert.isDefined(talk, `talk of ${contact.id}`)
        const end = leg.start + leg.talkMs + leg.holdMs
        const acw = states.find((s) => s.activity === "AfterCallWork" && s.start === end)
        assert.isDefined(acw, `acw of ${contact.id}`)
        assert.strictEqual(acw!.end - acw!.start, leg.afterCallWorkMs)
      }
    }
  })

  it("raw states overlap only by the Five9 artefact; trimmed states never overlap", () => {
    const artefacts = scenario.states.filter((s) => s.artefact)
    assert.isAbove(artefacts.length, 10)
    for (const a of artefacts) {
      assert.strictEqual(a.activity, "Ready")
      assert.strictEqual(a.end - a.start, 5000)
      assert.isDefined(scenario.states.find((s) => s.agentId === a.agentId && s.activity === "Talk" && s.start === a.start))
    }
    const segments = Scenario.expectedSegments(scenario)
    for (let i = 1; i < segments.length; i++) {
      const p = segments[i - 1]!, s = segments[i]!
      if (p.agentIdentifier === s.agentIdentifier) assert.isTrue(p.end! <= s.start, `overlap at ${i}`)
    }
    // the trimmed Talk starts where the artefact ends
    const a = artefacts[0]!
    const talk = segments.find((s) => s.agentIdentifier === a.agentId && s.activityIdentifier === "Talk" && s.start === a.end)
    assert.isDefined(talk)
    // merged states are the same timeline
    assert.strictEqual(Scenario.mergedStates(scenario).length, segments.length)
  })

  it("breaks and lunch happen once per shift each", () => {
    const agent = scenario.agents[0]!
    assert.isAbove(agent.shifts.length, 3)
    const shift = agent.shifts[0]!
    const inShift = scenario.states.filter((s) =>
      s.agentId === agent.id && s.start >= shift.login && s.start < shift.logout + 3_600_000
    )
    assert.strictEqual(inShift.filter((s) => s.activity === "Lunch").length, 1)
    assert.strictEqual(inShift.filter((s) => s.activity === "Break").length, 2)
    assert.strictEqual(inShift[0]!.start, shift.login)
  })
})

describe("Scenario.expectedIntervals", () => {
  it("counts each contact once, in the interval of its arrival, with handling = talk + hold + ACW", () => {
    const rows = Scenario.expectedIntervals(scenario, { length: 15 })
    const offered = rows.reduce((a, r) => a + r.offered, 0)
    assert.strictEqual(offered, scenario.contacts.length)
    const handled = scenario.contacts.filter((c) => c.handled)
    assert.strictEqual(rows.reduce((a, r) => a + r.handled, 0), handled.length)
    const handling = handled.reduce((a, c) => {
      const t = Scenario.totals(c)
      return a + t.talkMs + t.holdMs + t.afterCallWorkMs
    }, 0)
    assert.strictEqual(rows.reduce((a, r) => a + r.handlingMs, 0), handling)
    assert.strictEqual(
      rows.reduce((a, r) => a + r.unhandledMs, 0),
      scenario.contacts.filter((c) => !c.handled).reduce((a, c) => a + c.waitMs, 0)
    )
    assert.strictEqual(rows.reduce((a, r) => a + r.answeredInThreshold, 0), 0)
    const sl = Scenario.expectedIntervals(scenario, { length: 15, serviceLevelSeconds: 20 })
    assert.strictEqual(
      sl.reduce((a, r) => a + r.answeredInThreshold, 0),
      handled.filter((c) => c.waitMs <= 20_000).length
    )
  })

  it("aligns to the zone and handles the DST change (2026-03-08 in Los Angeles)", () => {
    const hours = Scenario.expectedIntervals(scenario, { length: 60 })
    for (const r of hours) {
      // Los Angeles is UTC-8 before 2026-03-08T10:00Z and UTC-7 after: local hours start at :00 UTC
      assert.strictEqual(r.start % 3_600_000, 0)
      assert.strictEqual(r.end - r.start, 3_600_000)
    }
    const berlin = Scenario.expectedIntervals(scenario, { length: 60, timezone: "Asia/Kolkata" })
    for (const r of berlin) assert.strictEqual((r.start + 5.5 * 3_600_000) % 3_600_000, 0)
    // an hour is the exact sum of its quarters
    const quarters = Scenario.expectedIntervals(scenario, { length: 15 })
    for (const h of hours.slice(0, 50)) {
      const parts = quarters.filter((q) =>
        q.queueIdentifier === h.queueIdentifier && q.start >= h.start && q.start < h.end
      )
      assert.strictEqual(parts.reduce((a, q) => a + q.offered, 0), h.offered)
      assert.strictEqual(parts.reduce((a, q) => a + q.handlingMs, 0), h.handlingMs)
    }
  })

  it("the completion instant moves contacts later, never earlier", () => {
    const a = Scenario.expectedIntervals(scenario, { length: 15, instant: "arrival" })
    const c = Scenario.expectedIntervals(scenario, { length: 15, instant: "completion" })
    assert.strictEqual(a.reduce((x, r) => x + r.offered, 0), c.reduce((x, r) => x + r.offered, 0))
    assert.isTrue(c[0]!.start >= a[0]!.start)
  })

  it("interval starts: DST days have 92 and 100 quarter-hours; the repeated hour gives two intervals", () => {
    const quarterStarts = (from: number, to: number, tz: string) => {
      const set = new Set<number>()
      for (let t = from; t < to; t += 60_000) set.add(Scenario.intervalStart(t, 15, tz))
      return set.size
    }
    assert.strictEqual(quarterStarts(Date.parse("2026-03-08T08:00:00Z"), Date.parse("2026-03-09T07:00:00Z"), "America/Los_Angeles"), 92)
    assert.strictEqual(quarterStarts(Date.parse("2026-11-01T07:00:00Z"), Date.parse("2026-11-02T08:00:00Z"), "America/Los_Angeles"), 100)
    // 2026-11-01 01:00-02:00 local happens twice: 08:00Z and 09:00Z are both hour starts
    assert.strictEqual(Scenario.intervalStart(Date.parse("2026-11-01T08:30:00Z"), 60, "America/Los_Angeles"), Date.parse("2026-11-01T08:00:00Z"))
    assert.strictEqual(Scenario.intervalStart(Date.parse("2026-11-01T09:30:00Z"), 60, "America/Los_Angeles"), Date.parse("2026-11-01T09:00:00Z"))
    // :45 offset
    assert.strictEqual(Scenario.intervalStart(Date.parse("2026-03-02T00:20:00Z"), 30, "Asia/Kathmandu"), Date.parse("2026-03-02T00:15:00Z"))
  })

  it("property: any seed gives consistent totals", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const s = Scenario.generate({
          seed,
          from: "2026-03-02T00:00:00Z",
          to: "2026-03-03T00:00:00Z",
          timezone: "Europe/Berlin",
          queues: [{ identifier: "q", name: "Q", channel: "calls", dailyPeak: 20 }],
          agents: 5
        })
        const rows = Scenario.expectedIntervals(s, { length: 30 })
        return rows.reduce((a, r) => a + r.offered, 0) === s.contacts.length &&
          rows.every((r) => r.handled + r.abandoned === r.offered)
      }),
      { numRuns: 20 }
    )
  })
})
