/**
 * The defects issue 13 found in the Five9 connector, each against the simulator rendering the
 * call log as Five9 does (one row per leg, each with its own TIMESTAMP):
 *
 * - transfer legs grouped per window: a call whose later rows fall after `to` was counted again
 *   in the next window;
 * - the row cap trusted the configured `maxRows`: a smaller cap at the server dropped rows;
 * - a password outside Latin-1 crashed Basic auth (`btoa`) as a defect, retried forever;
 * - agent states with a fixed 12-hour look-back: longer states and logged-out weekends cut.
 */
import { Bucketing, ConnectorRegistry } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import {
  assertSameIntervals,
  assertSameSegments,
  createIntegration,
  engineIntervals,
  engineLayer,
  engineSegments,
  importWindow
} from "@acd-bridge/e2e-harness"
import { Five9 } from "../src/index.js"
import { Five9Simulator } from "../src/simulator.js"
import {
  activityOf,
  asCampaignCalls,
  byCampaign,
  bySkill,
  day,
  DAY,
  dayFrom,
  dayTo,
  decode,
  expectedEvents,
  HOUR,
  pullAll,
  quarters,
  segmentsOf,
  skillConfig,
  tz
} from "./fixtures/scenarios.js"

const withEngine = <A, E, R>(connector: Five9.Five9Connector, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provide(engineLayer(ConnectorRegistry.layer(connector)).pipe(Layer.provideMerge(FetchHttpClient.layer)))
  )

describe("Five9: a call counts once, whole, in the window of its start", () => {
  it.scoped("a call whose later rows fall after the window's end is not counted again in the next window", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(day)
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      const config = decode(sim, { ...skillConfig, import: ["contacts"] })
      // a call transferred to another skill: its second skill's row is stamped when it got there
      const call = day.contacts.find((c) =>
        c.visits.length > 1 && c.visits[0]!.outcome === "answered" &&
        Math.floor(c.visits[1]!.enteredAt / (15 * 60_000)) > Math.floor(c.start / (15 * 60_000))
      )!
      assert.isDefined(call)
      const cut = call.visits[1]!.enteredAt
      const first = yield* pullAll(connector, config, dayFrom, cut)
      const second = yield* pullAll(connector, config, cut, dayTo)
      // every visit of every call of the day once, at its skill, at its call's start
      assert.deepStrictEqual(
        quarters([...first.contacts, ...second.contacts]),
        quarters(expectedEvents(day, dayFrom, dayTo))
      )
      assert.deepStrictEqual(quarters(first.contacts), quarters(expectedEvents(day, dayFrom, cut)))
      assert.deepStrictEqual(quarters(second.contacts), quarters(expectedEvents(day, cut, dayTo)))
      // the window after the cut saw the call's later rows (read behind) and left them to the first
      for (const e of second.contacts) assert.isAtLeast(DateTime.toEpochMillis(e.timestamp), cut)
    }).pipe(Effect.provide(Five9.layer)))

  it.scoped("a steady look-back: every window re-read with a look-back holds exactly the calls that started in it", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(day)
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      const config = decode(sim, { ...skillConfig, import: ["contacts"] })
      // 15-minute windows at an odd offset, each read with a 2-hour look-back as a schedule
      // does: the last read of each window replaces the earlier ones, so each read must hold
      // exactly the calls that started in it, whatever it cuts
      const start = dayFrom + 13 * HOUR + 7 * 60_000 + 13_000
      for (let t = start; t < start + 3 * HOUR; t += 15 * 60_000) {
        const batch = yield* pullAll(connector, config, t - 2 * HOUR, t + 15 * 60_000)
        assert.deepStrictEqual(quarters(batch.contacts), quarters(expectedEvents(day, t - 2 * HOUR, t + 15 * 60_000)))
      }
    }).pipe(Effect.provide(Five9.layer)))
})

describe("Five9: the row cap", () => {
  it.scoped("a server cap below the configured maxRows is detected: the range is split, nothing lost or doubled", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(day, { maxRows: 120 })
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          // maxRows stays at its default (50,000): the connector must not trust it
          const integration = yield* createIntegration("five9", sim.config({ ...skillConfig }), tz)
          yield* importWindow(integration, dayFrom, dayTo)
          const results = sim.requests.filter((r) => r.operation === "getReportResultCsv")
          assert.isTrue(results.some((r) => r.rows === 120), "some results were cut at the server's cap")
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            bySkill(Scenario.expectedIntervals(day, { length: 15, instant: "contactStart" }))
          )
          assertSameSegments(yield* engineSegments(integration, dayFrom - DAY, dayTo + DAY), segmentsOf(day))
        })
      )
    }).pipe(Effect.provide(Five9.layer)))

  it.scoped("a smallest range still at the cap fails with InvalidData, importing nothing", () =>
    Effect.gen(function*() {
      // every row of a call stamped with its start: a call of several rows fills one second
      const call = day.contacts.reduce((best, c) => (rowsOf(c) > rowsOf(best) ? c : best))
      const cap = rowsOf(call) - 1
      assert.isAtLeast(cap, 2)
      const sim = yield* Five9Simulator.make(day, { maxRows: cap, legTimestamps: "call" })
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      const config = decode(sim, { ...skillConfig, import: ["contacts"] })
      const error = yield* Effect.flip(pullAll(connector, config, call.start - HOUR, call.start + HOUR))
      assert.strictEqual(error._tag, "InvalidData")
      if (error._tag === "InvalidData") {
        // the one second it could not split, and a call of the model that fills it
        const range = /^Shared Reports\/Call Log with Skills \[(\S+), (\S+)\)$/.exec(error.record)
        assert.isNotNull(range, error.record)
        const [second, next] = [Date.parse(range![1]!), Date.parse(range![2]!)]
        assert.strictEqual(next - second, 1000)
        // the last report run was that second's, and Five9 cut it at the cap
        const runs = sim.requests.filter((r) => r.operation === "runReport")
        const last = JSON.stringify(runs.at(-1)!.params["criteria"])
        const local = (t: number) => Bucketing.label(t, Either.getOrThrow(Bucketing.zone(tz)))
        assert.include(last, local(second))
        assert.include(last, local(next))
        assert.strictEqual(sim.requests.filter((r) => r.operation === "getReportResultCsv").at(-1)!.rows, cap)
        assert.isTrue(day.contacts.some((c) => c.start === second), "a call starts then")
        assert.match(error.reason, new RegExp(`returned ${cap} rows for one second \\(${range![1]!.replace(/[.]/g, "\\.")}\\)`))
        assert.match(error.reason, /nothing of the window was imported/)
      }
    }).pipe(Effect.provide(Five9.layer)))
})

/** The call log rows the simulator writes for a call: a row per agent leg and consult, one per unanswered visit, one for leaving the centre. */
const rowsOf = (c: Scenario.Contact) =>
  c.visits.reduce(
    (n, v, i) => n + (v.legs.length > 0 ? v.legs.length : v.outcome === "breakout" && i === c.visits.length - 1 ? 2 : 1),
    0
  )

describe("Five9: credentials and defects", () => {
  it.scoped("a password outside Latin-1 is sent as UTF-8 (base64 of its UTF-8 bytes)", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(day, { password: "pässwörd-€-密码" })
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      const batch = yield* pullAll(connector, decode(sim, { ...skillConfig, import: ["contacts"] }), dayFrom, dayTo)
      assert.deepStrictEqual(quarters(batch.contacts), quarters(expectedEvents(day, dayFrom, dayTo)))
    }).pipe(Effect.provide(Five9.layer)))

  it.effect("a defect while calling Five9 is a typed InvalidData naming the operation, not retried", () =>
    Effect.gen(function*() {
      let calls = 0
      const dying = HttpClient.make(() =>
        Effect.suspend(() => {
          calls++
          return Effect.die(new TypeError("Cannot convert argument to a ByteString"))
        })
      )
      yield* TestClock.setTime(dayTo + DAY)
      const connector = Five9.make()
      const config = Schema.decodeUnknownSync(Five9.Config)({
        username: "api.user@example.com",
        password: "p",
        baseUrl: "http://five9.test"
      })
      const error = yield* Effect.flip(
        Stream.runCollect(connector.pull!(config, { from: DateTime.unsafeMake(dayFrom), to: DateTime.unsafeMake(dayTo) })).pipe(
          Effect.provideService(HttpClient.HttpClient, dying)
        )
      )
      assert.strictEqual(error._tag, "InvalidData")
      if (error._tag === "InvalidData") {
        assert.strictEqual(error.record, "runReport")
        assert.match(error.reason, /Cannot convert argument to a ByteString/)
      }
      assert.strictEqual(calls, 1)
    }).pipe(Effect.provide(Five9.layer)))
})

describe("Five9: agent statuses come back whole", () => {
  // Friday to Tuesday: every third agent is logged out for the whole weekend
  const from = Date.parse("2026-03-06T08:00:00Z")
  const to = Date.parse("2026-03-10T07:00:00Z")
  const weekend = Scenario.generate({
    seed: 3,
    from,
    to,
    timezone: tz,
    queues: [{ identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 6 }],
    agents: 6,
    loggedOutStates: true
  })

  it.scoped("a Sunday window gives the weekend's LoggedOut (60 hours and more) whole, and every status overlapping it", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(weekend)
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      const w = { from: Date.parse("2026-03-08T18:00:00Z"), to: Date.parse("2026-03-08T18:15:00Z") }
      const batch = yield* pullAll(connector, decode(sim, { import: ["agentStatuses"] }), w.from, w.to)
      const expected = segmentsOf(weekend).filter((s) => s.start < w.to && (s.end === null || s.end > w.from))
      const long = expected.filter((s) => s.activityIdentifier === "Logged Out" && s.end !== null && s.end - s.start >= 60 * HOUR)
      assert.isAbove(long.length, 0)
      const got = batch.statuses.map((s) => ({
        agentIdentifier: s.agentIdentifier,
        activityIdentifier: s.activityIdentifier,
        start: DateTime.toEpochMillis(s.start),
        end: s.end === null ? null : DateTime.toEpochMillis(s.end)
      })).sort((a, b) => (a.agentIdentifier < b.agentIdentifier ? -1 : 1) || a.start - b.start)
      assert.deepStrictEqual(got, [...expected])
    }).pipe(Effect.provide(Five9.layer)))

  it.scoped("a Not Ready state of 18 hours comes back whole in a window at its end; the open LoggedOut after the last shift stays open", () =>
    Effect.gen(function*() {
      const t0 = Date.parse("2026-03-03T15:00:00Z")
      const state = (activity: Scenario.Activity, start: number, end: number): Scenario.AgentState => ({
        agentId: "agent-01",
        activity,
        start,
        end,
        artefact: false
      })
      const scenario: Scenario.Scenario = {
        ...weekend,
        from: dayFrom,
        to: dayTo + DAY,
        agents: [{ id: "agent-01", name: "Agent 01", shifts: [{ login: t0, logout: t0 + 20 * HOUR }] }],
        contacts: [],
        corrections: [],
        states: [
          state("Ready", t0, t0 + HOUR),
          state("Break", t0 + HOUR, t0 + 19 * HOUR),
          state("Ready", t0 + 19 * HOUR, t0 + 20 * HOUR)
        ],
        loggedOut: [
          { agentId: "agent-01", activity: "LoggedOut", start: dayFrom, end: t0, artefact: false },
          { agentId: "agent-01", activity: "LoggedOut", start: t0 + 20 * HOUR, end: Number.POSITIVE_INFINITY, artefact: false }
        ]
      }
      const sim = yield* Five9Simulator.make(scenario, { now: t0 + 30 * HOUR })
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      const config = decode(sim, { import: ["agentStatuses"] })
      const late = yield* pullAll(connector, config, t0 + 18 * HOUR, t0 + 18 * HOUR + 15 * 60_000)
      assert.deepStrictEqual(
        late.statuses.map((s) => [s.activityIdentifier, DateTime.toEpochMillis(s.start), s.end && DateTime.toEpochMillis(s.end)]),
        [["Not Ready:Break", t0 + HOUR, t0 + 19 * HOUR]]
      )
      const after = yield* pullAll(connector, config, t0 + 25 * HOUR, t0 + 26 * HOUR)
      assert.deepStrictEqual(
        after.statuses.map((s) => [s.activityIdentifier, DateTime.toEpochMillis(s.start), s.end]),
        [["Logged Out", t0 + 20 * HOUR, null]]
      )
      assertSameSegments(
        late.statuses.concat(after.statuses).map((s) => ({
          agentIdentifier: s.agentIdentifier,
          activityIdentifier: s.activityIdentifier,
          start: DateTime.toEpochMillis(s.start),
          end: s.end === null ? null : DateTime.toEpochMillis(s.end)
        })),
        Scenario.expectedSegments(scenario, { activityOf, loggedOut: "Logged Out" }).filter((s) =>
          s.start === t0 + HOUR || s.start === t0 + 20 * HOUR
        )
      )
    }).pipe(Effect.provide(Five9.layer)))
})

describe("Five9: what the call log can't say, and the [U]nverified facts", () => {
  it.scoped("the stock call log by CAMPAIGN: a call stays in its campaign, one visit of it per call (documented adapter)", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(day)
      yield* TestClock.setTime(sim.now())
      const connector = Five9.make()
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("five9", sim.config(), tz)
          yield* importWindow(integration, dayFrom, dayTo)
          for (const length of [15, 60] as const) {
            assertSameIntervals(
              yield* engineIntervals(integration, dayFrom, dayTo, length, tz),
              byCampaign(Scenario.expectedIntervals(asCampaignCalls(day, 5), { length, instant: "contactStart" }))
            )
          }
        })
      )
    }).pipe(Effect.provide(Five9.layer)))

  for (
    const variant of [
      { legTimestamps: "call", criteria: "row" },
      { legTimestamps: "leg", criteria: "call" },
      { legTimestamps: "call", criteria: "call" }
    ] as const
  ) {
    it.scoped(`later rows stamped with the ${variant.legTimestamps === "call" ? "call's start" : "leg's start"}, criteria selecting by ${variant.criteria}: the same figures, cut anywhere`, () =>
      Effect.gen(function*() {
        const sim = yield* Five9Simulator.make(day, variant)
        yield* TestClock.setTime(sim.now())
        const connector = Five9.make()
        const config = decode(sim, { ...skillConfig })
        const cut = day.contacts.find((c) => c.visits.length > 1 && c.visits[0]!.outcome === "answered")!.visits[1]!.enteredAt
        const first = yield* pullAll(connector, config, dayFrom, cut)
        const second = yield* pullAll(connector, config, cut, dayTo)
        assert.deepStrictEqual(quarters(first.contacts), quarters(expectedEvents(day, dayFrom, cut)))
        assert.deepStrictEqual(quarters(second.contacts), quarters(expectedEvents(day, cut, dayTo)))
        assertSameSegments(statusesOf(second.statuses), segmentsOf(day).filter((s) => s.end === null || s.end > cut))
      }).pipe(Effect.provide(Five9.layer)))
  }

  it.scoped("running states shown with their duration so far: the agents' present states end at now, the rest is whole", () =>
    Effect.gen(function*() {
      const now = dayFrom + 10 * HOUR + 17 * 60_000
      const sim = yield* Five9Simulator.make(day, { now, runningStates: "soFar" })
      yield* TestClock.setTime(now)
      const connector = Five9.make()
      const batch = yield* pullAll(connector, decode(sim, { import: ["agentStatuses"] }), now - HOUR, now)
      const known = Scenario.asKnownAt(day, now)
      const running = known.states.filter((s) => s.end === null && s.activity !== "LoggedOut")
      assert.isAbove(running.length, 0)
      const got = statusesOf(batch.statuses)
      for (const s of running) {
        assert.isTrue(
          got.some((g) => g.agentIdentifier === s.agentId && g.start === s.start && g.end === now),
          `${s.agentId} ${s.activity} since ${new Date(s.start).toISOString()}`
        )
      }
      // the closed ones are as in the model
      const closed = segmentsOf(day).filter((s) => s.end !== null && s.end <= now && s.end > now - HOUR)
      for (const s of closed) assert.deepInclude(got, s)
    }).pipe(Effect.provide(Five9.layer)))
})

const statusesOf = (statuses: ReadonlyArray<Domain.AgentStatus>) =>
  statuses.map((s) => ({
    agentIdentifier: s.agentIdentifier,
    activityIdentifier: s.activityIdentifier,
    start: DateTime.toEpochMillis(s.start),
    end: s.end === null ? null : DateTime.toEpochMillis(s.end)
  })).sort((a, b) => (a.agentIdentifier < b.agentIdentifier ? -1 : a.agentIdentifier > b.agentIdentifier ? 1 : 0) || a.start - b.start)
