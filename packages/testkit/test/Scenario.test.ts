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

// ---------------------------------------------------------------------------
// v2: IVR, queue visits, consults, breakouts, long calls, LoggedOut, late corrections
// ---------------------------------------------------------------------------

const HOUR = 3_600_000
const v2Options = {
  ...Scenario.allFeatures,
  seed: 77,
  from: "2026-03-05T08:00:00Z",
  to: "2026-03-12T07:00:00Z",
  timezone: "America/Los_Angeles",
  queues: [
    { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 12 },
    { identifier: "q-care", name: "Care", channel: "calls", dailyPeak: 8 },
    { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 4 }
  ],
  agents: 6
} satisfies Scenario.Options
const v2 = Scenario.generate(v2Options)
const allVisits = v2.contacts.flatMap((c) => c.visits)
const allLegs = allVisits.flatMap((v) => v.legs)

describe("Scenario v2", () => {
  it("with every v2 option off (explicitly or by default) a seed gives the scenario it always gave", () => {
    const off = Scenario.generate({
      ...week,
      ivrMaxSeconds: 0,
      queueTransferRate: 0,
      breakoutRate: 0,
      shortAbandonSeconds: 0,
      consultRate: 0,
      longTalkShare: 0,
      loggedOutStates: false,
      writeDelayMaxSeconds: 0
    })
    assert.deepStrictEqual(off, scenario)
    assert.deepStrictEqual(scenario.loggedOut, [])
    assert.deepStrictEqual(scenario.corrections, [])
    for (const c of scenario.contacts) {
      assert.strictEqual(c.visits.length, 1)
      const v = c.visits[0]!
      assert.strictEqual(c.start, c.arrival)
      assert.strictEqual(c.ivrMs, 0)
      assert.strictEqual(c.writtenAt, c.completion)
      assert.strictEqual(v.enteredAt, c.arrival)
      assert.strictEqual(v.queueIdentifier, c.queueIdentifier)
      assert.strictEqual(v.waitMs, c.waitMs)
      assert.strictEqual(v.outcome, c.handled ? "answered" : "abandoned")
      assert.isFalse(v.shortAbandoned)
      assert.strictEqual(v.legs, c.legs)
      assert.isTrue(v.legs.every((l) => l.kind === "agent"))
    }
  })

  it("has every feature in a small week, at rates that keep it plausible", () => {
    const counts = {
      multiVisit: v2.contacts.filter((c) => c.visits.length > 1).length,
      ivr: v2.contacts.filter((c) => c.ivrMs > 0).length,
      breakouts: allVisits.filter((v) => v.outcome === "breakout").length,
      shortAbandons: allVisits.filter((v) => v.shortAbandoned).length,
      consults: allLegs.filter((l) => l.kind === "consult").length,
      agentTransfers: allVisits.filter((v) => v.legs.filter((l) => l.kind === "agent").length > 1).length,
      longTalks: allLegs.filter((l) => l.talkMs >= 60 * 60_000).length,
      corrections: v2.corrections.length,
      loggedOutOver40h: v2.loggedOut.filter((s) => s.end - s.start > 40 * HOUR).length
    }
    for (const [name, n] of Object.entries(counts)) assert.isAbove(n, 2, name)
    assert.isBelow(counts.multiVisit / v2.contacts.length, 0.2)
    assert.isTrue(v2.contacts.every((c) => c.ivrMs >= 0 && c.ivrMs <= 60_000 && c.ivrMs % 1000 === 0))
  })

  it("visits follow each other: a transfer enters the next queue when the agent stops talking, an overflow when the wait breaks out", () => {
    let transfers = 0, overflows = 0
    for (const c of v2.contacts) {
      assert.strictEqual(c.visits[0]!.enteredAt, c.start + c.ivrMs)
      assert.isAtMost(c.completion - c.start, v2.maxContactSpanMs, c.id)
      assert.strictEqual(c.completion, Math.max(...c.visits.map((v) => v.end)))
      for (let i = 1; i < c.visits.length; i++) {
        const before = c.visits[i - 1]!, next = c.visits[i]!
        assert.strictEqual(next.channel, before.channel)
        assert.notStrictEqual(next.queueIdentifier, before.queueIdentifier)
        if (before.outcome === "answered") {
          const last = before.legs.filter((l) => l.kind === "agent").at(-1)!
          assert.isTrue(last.transferred)
          assert.strictEqual(next.enteredAt, Scenario.legPhases(last).talkEnd)
          transfers++
        } else {
          assert.strictEqual(before.outcome, "breakout")
          assert.strictEqual(next.enteredAt, before.enteredAt + before.waitMs)
          overflows++
        }
      }
      for (const v of c.visits) {
        if (v.outcome !== "answered") {
          assert.deepStrictEqual(v.legs, [])
          assert.strictEqual(v.end, v.enteredAt + v.waitMs)
        } else {
          assert.strictEqual(v.legs[0]!.start, v.enteredAt + v.waitMs)
        }
        assert.strictEqual(v.shortAbandoned, v.outcome === "abandoned" && v.waitMs < 5000)
        assert.isAtLeast(v.writtenAt, v.end)
      }
      assert.isAtLeast(c.writtenAt, c.completion)
    }
    assert.isAbove(transfers, 2)
    assert.isAbove(overflows, 0)
  })

  it("a consult is another agent's talk inside the primary agent's hold, in both agents' states", () => {
    const byAgent = new Map<string, Array<Scenario.AgentState>>()
    for (const s of v2.states) byAgent.set(s.agentId, [...(byAgent.get(s.agentId) ?? []), s])
    for (const v of allVisits) {
      for (const consult of v.legs.filter((l) => l.kind === "consult")) {
        const primary = v.legs.filter((l) => l.kind === "agent").at(-1)!
        const p = Scenario.legPhases(primary)
        assert.notStrictEqual(consult.agentId, primary.agentId)
        assert.strictEqual(consult.start, p.holdStart)
        assert.isAtMost(consult.start + consult.talkMs, p.holdEnd)
        assert.strictEqual(consult.afterCallWorkMs, 0)
        assert.isDefined(byAgent.get(consult.agentId)!.find((s) => s.activity === "Talk" && s.start === consult.start))
        assert.isDefined(byAgent.get(primary.agentId)!.find((s) => s.activity === "Hold" && s.start === p.holdStart))
      }
    }
  })

  it("LoggedOut fills every agent's time off: from the start, between shifts (weekends over 40 h), open after the last", () => {
    const segments = Scenario.expectedSegments(v2)
    for (const agent of v2.agents) {
      const own = segments.filter((s) => s.agentIdentifier === agent.id)
      assert.strictEqual(own[0]!.start, v2.from)
      assert.strictEqual(own[0]!.activityIdentifier, "LoggedOut")
      for (let i = 1; i < own.length; i++) assert.strictEqual(own[i]!.start, own[i - 1]!.end, `${agent.id} ${i}`)
      assert.deepStrictEqual(own.filter((s) => s.end === null).map((s) => s.activityIdentifier), ["LoggedOut"])
    }
    // every third agent is off for the weekend
    const off = v2.loggedOut.filter((s) => s.agentId === "agent-03")
    assert.isTrue(off.some((s) => s.end - s.start > 60 * HOUR))
    // no LoggedOut state overlaps a worked state
    for (const s of v2.loggedOut) {
      assert.isFalse(v2.states.some((w) => w.agentId === s.agentId && w.start < s.end && w.end > s.start))
    }
    // the LoggedOut identifier is the connector's, or none at all
    const named = Scenario.expectedSegments(v2, { loggedOut: "Logout" })
    assert.strictEqual(named.filter((s) => s.activityIdentifier === "Logout").length, v2.loggedOut.length)
    assert.strictEqual(Scenario.expectedSegments(v2, { loggedOut: false }).length, segments.length - v2.loggedOut.length)
  })

  it("corrections: written after the contact, the true value in the leg, the recorded one shorter", () => {
    const byId = new Map(v2.contacts.map((c) => [c.id, c]))
    for (const k of v2.corrections) {
      const c = byId.get(k.contactId)!
      const leg = c.visits[k.visit]!.legs[k.leg]!
      assert.strictEqual(leg.kind, "agent")
      assert.strictEqual(k.corrected, leg.afterCallWorkMs)
      assert.isBelow(k.recorded, k.corrected)
      assert.isAbove(k.at, c.writtenAt)
      assert.isAtMost(k.at - c.writtenAt, 20 * HOUR)
    }
    for (let i = 1; i < v2.corrections.length; i++) assert.isAtLeast(v2.corrections[i]!.at, v2.corrections[i - 1]!.at)
  })

  it("long corrections land only on the contacts asked for, with the delays asked for", () => {
    const s = Scenario.generate({
      ...v2Options,
      corrections: {
        share: 0,
        long: { share: 0.5, minDelaySeconds: 24 * 3600, maxDelaySeconds: 28 * 3600, contactsFrom: "2026-03-09T16:00:00Z", contactsTo: "2026-03-10T04:00:00Z" }
      }
    })
    assert.isAbove(s.corrections.length, 5)
    for (const k of s.corrections) {
      const c = s.contacts.find((x) => x.id === k.contactId)!
      assert.isTrue(c.start >= Date.parse("2026-03-09T16:00:00Z") && c.start < Date.parse("2026-03-10T04:00:00Z"))
      assert.isTrue(k.at - c.writtenAt >= 24 * HOUR && k.at - c.writtenAt <= 28 * HOUR)
    }
  })
})

describe("Scenario v2: the ground truth", () => {
  const rows = Scenario.expectedIntervals(v2, { length: 15 })
  const sum = (rs: ReadonlyArray<Scenario.ExpectedInterval>, k: keyof Scenario.ExpectedInterval) =>
    rs.reduce((n, r) => n + (r[k] as number), 0)

  it("each visit counts once, at its own queue, in the interval it entered that queue", () => {
    assert.strictEqual(sum(rows, "offered"), allVisits.length)
    const transferred = v2.contacts.find((c) => c.visits.length > 1 && c.visits[0]!.queueIdentifier !== c.visits[1]!.queueIdentifier)!
    for (const v of transferred.visits) {
      const start = Scenario.intervalStart(v.enteredAt, 15, v2.timezone)
      const row = rows.find((r) => r.queueIdentifier === v.queueIdentifier && r.start === start)
      assert.isDefined(row, `${transferred.id} at ${v.queueIdentifier}`)
    }
    // IVR time does not move a contact to an earlier interval: the queue entry decides
    const ivr = v2.contacts.filter((c) =>
      Scenario.intervalStart(c.start, 15, v2.timezone) !== Scenario.intervalStart(c.arrival, 15, v2.timezone)
    )
    assert.isAbove(ivr.length, 0)
    const byStart = Scenario.expectedIntervals(v2, { length: 15, instant: "contactStart" })
    assert.strictEqual(sum(byStart, "offered"), allVisits.length)
    assert.notDeepEqual(byStart, rows)
    for (const c of ivr.slice(0, 20)) {
      const q = c.visits[0]!.queueIdentifier
      assert.isDefined(rows.find((r) => r.queueIdentifier === q && r.start === Scenario.intervalStart(c.arrival, 15, v2.timezone)))
      assert.isDefined(byStart.find((r) => r.queueIdentifier === q && r.start === Scenario.intervalStart(c.start, 15, v2.timezone)))
    }
  })

  it("handled per answered visit; handling = the visit's agent legs only (consults count nowhere); outcomes apart", () => {
    const answered = allVisits.filter((v) => v.outcome === "answered")
    assert.strictEqual(sum(rows, "handled"), answered.length)
    const agentLegs = answered.flatMap((v) => v.legs.filter((l) => l.kind === "agent"))
    assert.strictEqual(sum(rows, "handlingMs"), agentLegs.reduce((n, l) => n + l.talkMs + l.holdMs + l.afterCallWorkMs, 0))
    assert.strictEqual(sum(rows, "talkMs"), agentLegs.reduce((n, l) => n + l.talkMs, 0))
    const consultTalk = allLegs.filter((l) => l.kind === "consult").reduce((n, l) => n + l.talkMs, 0)
    assert.isAbove(consultTalk, 0)
    assert.strictEqual(sum(rows, "unhandledMs"), allVisits.filter((v) => v.outcome !== "answered").reduce((n, v) => n + v.waitMs, 0))
    assert.strictEqual(sum(rows, "abandoned"), allVisits.filter((v) => v.outcome === "abandoned").length)
    assert.strictEqual(sum(rows, "breakout"), allVisits.filter((v) => v.outcome === "breakout").length)
    assert.strictEqual(sum(rows, "shortAbandoned"), allVisits.filter((v) => v.shortAbandoned).length)
    for (const r of rows) {
      assert.strictEqual(r.handled + r.abandoned + r.breakout, r.offered)
      assert.isAtMost(r.shortAbandoned, r.abandoned)
    }
  })

  it("knownAt: what a source of finished records shows then; the final truth once every correction is written", () => {
    const last = Math.max(...v2.contacts.map((c) => c.writtenAt), ...v2.corrections.map((k) => k.at))
    assert.deepStrictEqual(Scenario.expectedIntervals(v2, { length: 15, knownAt: last }), rows)
    const k = v2.corrections[Math.floor(v2.corrections.length / 2)]!
    const before = Scenario.expectedIntervals(v2, { length: 60, knownAt: k.at - 1 })
    const after = Scenario.expectedIntervals(v2, { length: 60, knownAt: k.at })
    assert.strictEqual(sum(after, "afterCallWorkMs") - sum(before, "afterCallWorkMs") >= k.corrected - k.recorded, true)
    // nothing written yet is counted: a quarter of the way in, fewer visits than in the end
    const early = Scenario.expectedIntervals(v2, { length: 15, knownAt: Date.parse("2026-03-07T00:00:00Z") })
    assert.isBelow(sum(early, "offered"), sum(rows, "offered"))
    assert.strictEqual(
      sum(early, "offered"),
      v2.contacts.filter((c) => c.writtenAt <= Date.parse("2026-03-07T00:00:00Z")).reduce((n, c) => n + c.visits.length, 0)
    )
  })
})

describe("Scenario.asKnownAt", () => {
  it("shows contacts as far as they got, states open while they run, corrections once written", () => {
    const c = v2.contacts.find((x) => x.visits.length > 1 && x.visits[0]!.outcome === "answered")!
    const first = c.visits[0]!
    const leg = first.legs.find((l) => l.kind === "agent")!
    const p = Scenario.legPhases(leg)
    const now = leg.start + 7_000
    const known = Scenario.asKnownAt(v2, now)
    const k = known.contacts.find((x) => x.id === c.id)!
    assert.strictEqual(k.phase, "running")
    assert.isNull(k.completion)
    assert.strictEqual(k.visits.length, 1)
    assert.strictEqual(k.visits[0]!.outcome, "answered")
    assert.isFalse(k.visits[0]!.ended)
    assert.strictEqual(k.visits[0]!.legs[0]!.talkMs, Math.min(7_000, p.holdStart - p.start))
    assert.isTrue(known.contacts.every((x) => x.start < now))
    assert.isTrue(known.states.every((s) => s.start < now && (s.end === null || s.end <= now)))
    assert.strictEqual(known.states.filter((s) => s.end === null && s.agentId === leg.agentId).length, 1)
    // still waiting: the wait so far
    const waiting = v2.contacts.find((x) => x.visits[0]!.waitMs > 20_000)!
    const w = Scenario.asKnownAt(v2, waiting.arrival + 10_000).contacts.find((x) => x.id === waiting.id)!
    assert.strictEqual(w.visits[0]!.outcome, "waiting")
    assert.strictEqual(w.visits[0]!.waitMs, 10_000)
    // finished, written later: phase "ended", then "written"
    const late = v2.contacts.find((x) => x.writtenAt > x.completion)!
    assert.strictEqual(Scenario.asKnownAt(v2, late.completion).contacts.find((x) => x.id === late.id)!.phase, "ended")
    assert.strictEqual(Scenario.asKnownAt(v2, late.writtenAt).contacts.find((x) => x.id === late.id)!.phase, "written")
    // a correction: the recorded value until it is written
    const fix = v2.corrections[0]!
    const at = (t: number) =>
      Scenario.asKnownAt(v2, t).contacts.find((x) => x.id === fix.contactId)!.visits[fix.visit]!.legs[fix.leg]!
    assert.strictEqual(at(fix.at - 1).afterCallWorkMs, fix.recorded)
    assert.isNull(at(fix.at - 1).correctedAt)
    assert.strictEqual(at(fix.at).afterCallWorkMs, fix.corrected)
    assert.strictEqual(at(fix.at).correctedAt, fix.at)
  })

  it("property: at any instant, the known durations never exceed the truth and a finished contact is whole", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse("2026-03-05T14:00:00Z") / 1000, max: Date.parse("2026-03-12T07:00:00Z") / 1000 }), (s) => {
        const now = s * 1000
        const byId = new Map(v2.contacts.map((c) => [c.id, c]))
        for (const k of Scenario.asKnownAt(v2, now).contacts) {
          const c = byId.get(k.id)!
          k.visits.forEach((v, i) => {
            const truth = c.visits[i]!
            if (v.waitMs > truth.waitMs) throw new Error(`wait of ${k.id}`)
            v.legs.forEach((l, j) => {
              const t = truth.legs[j]!
              if (l.talkMs > t.talkMs || l.holdMs > t.holdMs || l.afterCallWorkMs > t.afterCallWorkMs) throw new Error(`leg of ${k.id}`)
            })
          })
          if (k.phase !== "running" && k.visits.length !== c.visits.length) throw new Error(`visits of ${k.id}`)
        }
        return true
      }),
      { numRuns: 25 }
    )
  })
})
