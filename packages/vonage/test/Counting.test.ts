/**
 * The counting rule (docs/counting.md) for the defects issue 13 found in this connector, each
 * against the simulator rendering the Scenario model: visits counted at their queue entry (not
 * the interaction's start), each visit at its own queue with its own legs, breakouts apart
 * from abandons, consults counting nowhere, and agent states that come back whole however
 * long they are. The oracle is `Scenario.visitEvents`, computed from the model.
 */
import type { Domain } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Vonage } from "../src/index.js"
import { VonageSimulator } from "../src/simulator.js"

const HOUR = 3_600_000
const MINUTE = 60_000
const QUARTER = 15 * MINUTE
const tz = "America/Los_Angeles"

// Vonage names queues only: the identifiers are the names
const queues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "Sales", name: "Sales", channel: "calls", dailyPeak: 30 },
  { identifier: "Care", name: "Care", channel: "calls", dailyPeak: 20 }
]
const dayFrom = Date.parse("2026-03-03T08:00:00Z")
const dayTo = Date.parse("2026-03-04T08:00:00Z")
// short abandons as the connector counts them by default (under 5 s)
const base = { seed: 5, from: dayFrom, to: dayTo, timezone: tz, queues, agents: 6, shortAbandonSeconds: 5 } as const

const pull = (
  sim: VonageSimulator.VonageSimulator,
  from: number,
  to: number,
  overrides: Partial<Vonage.ConfigEncoded> = {}
) =>
  Stream.runCollect(
    Vonage.make().pull!(Schema.decodeUnknownSync(Vonage.Config)(sim.config(overrides)), {
      from: DateTime.unsafeMake(from),
      to: DateTime.unsafeMake(to)
    })
  ).pipe(
    Effect.map((batches) => {
      const all = Chunk.toReadonlyArray(batches)
      return { contacts: all.flatMap((b) => b.contacts), statuses: all.flatMap((b) => b.statuses) }
    }),
    Effect.provide(FetchHttpClient.layer)
  )

const ms = (t: DateTime.Utc) => DateTime.toEpochMillis(t)

/** A contact event as comparable text (instants as epoch ms, absent flags as false). */
const text = (e: Domain.ContactEvent) =>
  JSON.stringify([
    e.queueIdentifier,
    e.queueName,
    e.channel,
    ms(e.timestamp),
    e.offered,
    e.handled,
    e.durationMs,
    e.talkMs ?? 0,
    e.holdMs ?? 0,
    e.afterCallWorkMs ?? 0,
    e.waitMs ?? 0,
    e.abandoned ?? false,
    e.shortAbandoned ?? false,
    e.breakout ?? false
  ])

/** The model's events of the visits that entered their queue in [from, to). */
const expectedEvents = (scenario: Scenario.Scenario, from: number, to: number) =>
  scenario.contacts.flatMap((c) => Scenario.visitEvents(c)).filter((e) => ms(e.timestamp) >= from && ms(e.timestamp) < to)

const assertSameEvents = (actual: ReadonlyArray<Domain.ContactEvent>, expected: ReadonlyArray<Domain.ContactEvent>) => {
  const a = actual.map(text).sort()
  const e = expected.map(text).sort()
  const missing = e.filter((x) => !a.includes(x))
  const extra = a.filter((x) => !e.includes(x))
  assert.deepStrictEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] })
  assert.strictEqual(a.length, e.length)
}

describe("Vonage counts each queue visit as docs/counting.md says", () => {
  it.scoped("a visit counts at the instant it entered the queue, not at the interaction's start (IVR time)", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, ivrMaxSeconds: 60 })
      const sim = yield* VonageSimulator.make(scenario)
      // contacts whose IVR time crosses a quarter-hour: counted in the quarter of their queue entry
      const crossing = scenario.contacts.filter((c) =>
        Math.floor(c.start / QUARTER) !== Math.floor(c.arrival / QUARTER)
      )
      assert.isAbove(crossing.length, 3)
      const { contacts } = yield* pull(sim, dayFrom, dayTo)
      const at = new Set(contacts.map((c) => ms(c.timestamp)))
      for (const c of crossing) {
        assert.isTrue(at.has(c.arrival), `contact ${c.id} is counted at its queue entry`)
        assert.isFalse(at.has(c.start), `contact ${c.id} is not counted at its start, before the IVR`)
      }
      assertSameEvents(contacts, expectedEvents(scenario, dayFrom, dayTo))
      // a window that ends between a contact's start and its queue entry leaves it to the next one
      const edge = crossing[0]!
      const cut = Math.floor(edge.arrival / QUARTER) * QUARTER
      const before = yield* pull(sim, dayFrom, cut)
      const after = yield* pull(sim, cut, dayTo)
      assert.isFalse(before.contacts.some((c) => ms(c.timestamp) === edge.arrival))
      assert.isTrue(after.contacts.some((c) => ms(c.timestamp) === edge.arrival))
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("a transfer to another queue counts at each queue, at its own entry, with its own agent legs only", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, queueTransferRate: 0.4 })
      const sim = yield* VonageSimulator.make(scenario)
      const transferred = scenario.contacts.filter((c) => c.visits.length > 1 && c.visits[0]!.outcome === "answered")
      assert.isAbove(transferred.length, 3)
      const { contacts } = yield* pull(sim, dayFrom, dayTo)
      for (const c of transferred) {
        for (const visit of c.visits) {
          const event = contacts.find((e) => ms(e.timestamp) === visit.enteredAt && e.queueName === visit.queueName)
          assert.isDefined(event, `visit of ${c.id} at ${visit.queueName} is counted there`)
          const legs = visit.legs.filter((l) => l.kind === "agent")
          assert.strictEqual(event!.handled, visit.outcome === "answered")
          assert.strictEqual(event!.talkMs, legs.reduce((n, l) => n + l.talkMs, 0), `talk of ${c.id} at ${visit.queueName}`)
          assert.strictEqual(
            event!.afterCallWorkMs,
            legs.reduce((n, l) => n + l.afterCallWorkMs, 0),
            `after-call work of ${c.id} at ${visit.queueName}`
          )
          assert.strictEqual(event!.waitMs, visit.waitMs)
        }
      }
      assertSameEvents(contacts, expectedEvents(scenario, dayFrom, dayTo))
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("breakouts are breakouts, not abandons; short abandons are abandons too", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, breakoutRate: 0.5, patienceMeanSeconds: 30 })
      const sim = yield* VonageSimulator.make(scenario)
      const visits = scenario.contacts.flatMap((c) => c.visits)
      assert.isAbove(visits.filter((v) => v.outcome === "breakout").length, 5)
      assert.isAbove(visits.filter((v) => v.shortAbandoned).length, 0)
      const { contacts } = yield* pull(sim, dayFrom, dayTo)
      assert.strictEqual(contacts.filter((c) => c.breakout).length, visits.filter((v) => v.outcome === "breakout").length)
      assert.isTrue(contacts.every((c) => !(c.breakout && c.abandoned)), "a breakout is never an abandon")
      assert.strictEqual(contacts.filter((c) => c.abandoned).length, visits.filter((v) => v.outcome === "abandoned").length)
      assert.strictEqual(contacts.filter((c) => c.shortAbandoned).length, visits.filter((v) => v.shortAbandoned).length)
      assertSameEvents(contacts, expectedEvents(scenario, dayFrom, dayTo))
    }).pipe(Effect.provide(Vonage.layer)))

  for (const consults of ["channel", "interaction"] as const) {
    it.scoped(`consults count nowhere (a consult shown as ${consults === "channel" ? "an agent channel" : "an interaction of its own"})`, () =>
      Effect.gen(function*() {
        const scenario = Scenario.generate({ ...base, consultRate: 0.5, transferRate: 0.2 })
        const sim = yield* VonageSimulator.make(scenario, { consults })
        const consulted = scenario.contacts.filter((c) => c.legs.some((l) => l.kind === "consult"))
        assert.isAbove(consulted.length, 5)
        const { contacts } = yield* pull(sim, dayFrom, dayTo)
        for (const c of consulted) {
          const event = contacts.find((e) => ms(e.timestamp) === c.arrival && e.queueName === c.queueName)!
          const t = Scenario.totals(c)
          assert.strictEqual(event.talkMs, t.talkMs, `talk of ${c.id} without its consult`)
          assert.strictEqual(event.durationMs, t.talkMs + t.holdMs + t.afterCallWorkMs)
        }
        assertSameEvents(contacts, expectedEvents(scenario, dayFrom, dayTo))
      }).pipe(Effect.provide(Vonage.layer)))
  }

  it.scoped("hold and wrap events under other names ([U]) are read with the eventTypes setting", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, holdRate: 0.5 })
      const sim = yield* VonageSimulator.make(scenario, { eventNames: { hold: "OnHold", wrap: "WrapUp" } })
      const expected = expectedEvents(scenario, dayFrom, dayTo)
      const defaults = yield* pull(sim, dayFrom, dayTo)
      assert.strictEqual(defaults.contacts.reduce((n, c) => n + (c.holdMs ?? 0) + (c.afterCallWorkMs ?? 0), 0), 0)
      const named = yield* pull(sim, dayFrom, dayTo, {
        eventTypes: { queue: "Queue", connected: "Connected", hold: "OnHold", wrap: "WrapUp" }
      })
      assertSameEvents(named.contacts, expected)
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("visits listed as soon as they leave the queue ([U]) count the same once everything is written", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, ...Scenario.allFeatures })
      const midday = Date.parse("2026-03-03T20:07:00Z")
      const decided = yield* VonageSimulator.make(scenario, { queueTimes: "decided", now: midday })
      const written = yield* VonageSimulator.make(scenario, { now: midday })
      const early = (yield* pull(decided, dayFrom, dayTo)).contacts
      const late = (yield* pull(written, dayFrom, dayTo)).contacts
      // at midday the decided view shows visits the source has not written yet
      assert.isAbove(early.length, late.length)
      const running = early.filter((c) => c.handled && Scenario.runningAt(scenario, midday).some((r) => r.visits.some((v) => v.enteredAt === ms(c.timestamp))))
      assert.isAbove(running.length, 0, "answered visits whose legs still run at midday")
      decided.setNow(VonageSimulator.settledAt(scenario))
      assertSameEvents((yield* pull(decided, dayFrom, dayTo)).contacts, expectedEvents(scenario, dayFrom, dayTo))
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("a visit whose interaction is not read counts from queue-times alone, without handling, and says so", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, ivrMaxSeconds: 60 })
      const sim = yield* VonageSimulator.make(scenario)
      const logged: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logged.push(String(message))))
      // no read-behind: an interaction that started before the window's first answered visit is not listed
      const { contacts } = yield* pull(sim, dayFrom, dayTo, { maxContactSpanHours: 0 }).pipe(Effect.provide(capture))
      const expected = expectedEvents(scenario, dayFrom, dayTo)
      assert.strictEqual(contacts.length, expected.length)
      assert.strictEqual(contacts.filter((c) => c.handled).length, expected.filter((e) => e.handled).length)
      assert.deepStrictEqual(contacts.map((c) => c.waitMs).sort(), expected.map((e) => e.waitMs).sort())
      const bare = contacts.filter((c) => c.handled && c.durationMs === 0)
      assert.strictEqual(bare.length, 1, "the first answered visit's interaction started before it")
      assert.strictEqual(logged.length, 1)
      assert.match(logged[0]!, /1 answered queue visit\(s\) have no Queue event .* check the eventTypes setting and maxContactSpanHours/)
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("contactSource interactions: the same visits from the Queue events alone", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({
        ...base,
        ivrMaxSeconds: 60,
        queueTransferRate: 0.3,
        consultRate: 0.3,
        transferRate: 0.2,
        longTalkShare: 0.05
      })
      const sim = yield* VonageSimulator.make(scenario)
      const { contacts } = yield* pull(sim, dayFrom, dayTo, { contactSource: "interactions" })
      assertSameEvents(contacts, expectedEvents(scenario, dayFrom, dayTo))
      // nothing but interactions was read
      assert.isFalse(sim.requests.some((r) => r.path === "/stats/queue-times"))
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("contactSource interactions: an overflow is a breakout; a breakout out of the centre reads as an abandon", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, breakoutRate: 0.6, overflowShare: 0.5 })
      const sim = yield* VonageSimulator.make(scenario)
      const overflows = scenario.contacts.filter((c) => c.visits.slice(0, -1).some((v) => v.outcome === "breakout"))
      const leaving = scenario.contacts.filter((c) => c.visits.at(-1)!.outcome === "breakout")
      assert.isAbove(overflows.length, 2)
      assert.isAbove(leaving.length, 2)
      // what the interaction records can tell: the last visit's breakout looks like an abandon
      const expected = scenario.contacts.flatMap((c) =>
        Scenario.visitEvents(c).map((e, i) =>
          i === c.visits.length - 1 && e.breakout
            ? { ...e, breakout: false, abandoned: true, shortAbandoned: (e.waitMs ?? 0) < 5000 }
            : e
        )
      ).filter((e) => ms(e.timestamp) >= dayFrom && ms(e.timestamp) < dayTo)
      const { contacts } = yield* pull(sim, dayFrom, dayTo, { contactSource: "interactions" })
      assertSameEvents(contacts, expected)
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("every feature on: a day read whole, and cut at arbitrary instants, gives the model's events", () =>
    Effect.gen(function*() {
      const scenario = Scenario.generate({ ...base, ...Scenario.allFeatures })
      const sim = yield* VonageSimulator.make(scenario)
      assertSameEvents((yield* pull(sim, dayFrom, dayTo)).contacts, expectedEvents(scenario, dayFrom, dayTo))
      // cuts inside the longest contacts: their legs fall in later windows
      const longest = [...scenario.contacts].sort((a, b) => (b.completion - b.start) - (a.completion - a.start))
      const cuts = longest.slice(0, 4).map((c) => Math.round((c.arrival + c.completion) / 2000) * 1000).sort((a, b) => a - b)
      const edges = [dayFrom, ...cuts, dayTo]
      const pieces: Array<Domain.ContactEvent> = []
      for (let i = 0; i + 1 < edges.length; i++) pieces.push(...(yield* pull(sim, edges[i]!, edges[i + 1]!)).contacts)
      assertSameEvents(pieces, expectedEvents(scenario, dayFrom, dayTo))
    }).pipe(Effect.provide(Vonage.layer)))
})

describe("Vonage agent states come back whole, however long", () => {
  // Thursday to Tuesday around a weekend: every third agent is logged out from Friday to Monday
  const from = Date.parse("2026-03-05T08:00:00Z")
  const to = Date.parse("2026-03-10T07:00:00Z")
  const scenario = Scenario.generate({ seed: 9, from, to, timezone: tz, queues, agents: 6, loggedOutStates: true })
  const weekend = scenario.loggedOut.filter((s) => s.end - s.start >= 50 * HOUR && Number.isFinite(s.end))

  it("the scenario has LoggedOut weekends of more than 50 hours", () => {
    assert.isAbove(weekend.length, 0)
  })

  it.scoped("a LoggedOut weekend comes back whole in every window it overlaps, however far its start lies back", () =>
    Effect.gen(function*() {
      const sim = yield* VonageSimulator.make(scenario)
      const state = weekend[0]!
      for (const offset of [13 * HOUR, 30 * HOUR, state.end - state.start - HOUR]) {
        const window = { from: state.start + offset, to: state.start + offset + HOUR }
        const { statuses } = yield* pull(sim, window.from, window.to, { skipStates: [] })
        const found = statuses.filter((s) => s.agentIdentifier === state.agentId)
        assert.deepStrictEqual(
          found.map((s) => ({ activity: s.activityIdentifier, start: ms(s.start), end: s.end === null ? null : ms(s.end) })),
          [{ activity: "LoggedOut", start: state.start, end: state.end }],
          `${state.agentId} ${offset / HOUR} h into the weekend`
        )
      }
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("a state still open comes back open, started days before the window", () =>
    Effect.gen(function*() {
      const last = scenario.loggedOut.filter((s) => s.end === Number.POSITIVE_INFINITY)
      const earliest = [...last].sort((a, b) => a.start - b.start)[0]!
      const now = earliest.start + 3 * 24 * HOUR
      const sim = yield* VonageSimulator.make(scenario, { now })
      const { statuses } = yield* pull(sim, now - HOUR, now)
      const found = statuses.find((s) => s.agentIdentifier === earliest.agentId)
      assert.isDefined(found, "the open LoggedOut state")
      assert.strictEqual(found!.activityIdentifier, "LoggedOut")
      assert.strictEqual(ms(found!.start), earliest.start)
      assert.isNull(found!.end)
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("LoggedOut is a status like any other by default; skipStates still leaves it out", () =>
    Effect.gen(function*() {
      const sim = yield* VonageSimulator.make(scenario)
      const state = weekend[0]!
      const window = { from: state.start + 20 * HOUR, to: state.start + 21 * HOUR }
      const byDefault = yield* pull(sim, window.from, window.to)
      assert.isTrue(byDefault.statuses.some((s) => s.agentIdentifier === state.agentId && s.activityIdentifier === "LoggedOut"))
      const skipped = yield* pull(sim, window.from, window.to, { skipStates: ["LoggedOut"] })
      assert.isFalse(skipped.statuses.some((s) => s.activityIdentifier === "LoggedOut"))
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("the whole scenario's segments equal the model's: every state whole, the last ones open", () =>
    Effect.gen(function*() {
      const sim = yield* VonageSimulator.make(scenario)
      const seen = new Map<string, Domain.AgentStatus>()
      // day windows, as a history import reads them
      for (let t = from; t < to; t += 24 * HOUR) {
        for (const s of (yield* pull(sim, t, Math.min(to, t + 24 * HOUR))).statuses) {
          seen.set(`${s.agentIdentifier}|${ms(s.start)}`, s)
        }
      }
      const actual = [...seen.values()].map((s) => ({
        agentIdentifier: s.agentIdentifier,
        activityIdentifier: s.activityIdentifier,
        start: ms(s.start),
        end: s.end === null ? null : ms(s.end)
      })).sort((a, b) => (a.agentIdentifier < b.agentIdentifier ? -1 : a.agentIdentifier > b.agentIdentifier ? 1 : 0) || a.start - b.start)
      const expected = Scenario.expectedSegments(scenario, {
        activityOf: (s) => {
          const v = VonageSimulator.stateOf(s.activity)
          return Vonage.activityIdentifier(v.state, v.description)
        },
        mergeAdjacent: true
      })
      assert.deepStrictEqual(actual, [...expected])
    }).pipe(Effect.provide(Vonage.layer)))
})
