import { Bucketing, ConnectorRegistry } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Five9 } from "../src/index.js"
import { Five9Simulator } from "../src/simulator.js"
import { contactsOf, parseCsv, statesOf } from "../src/internal/reports.js"
import { parseDuration, parseTimestamp } from "../src/internal/time.js"
import {
  assertSameIntervals,
  assertSameSegments,
  createIntegration,
  engineIntervals,
  engineLayer,
  engineSegments,
  importRange,
  importWindow
} from "@acd-bridge/e2e-harness"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const tz = "America/Los_Angeles"
const la = Either.getOrThrow(Bucketing.zone(tz))

// skills and campaigns differ: the stock report groups by campaign (= queue name here), the
// custom copy by skill (= queue identifier here)
const queues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 30 },
  { identifier: "SK Support", name: "Inbound Support", channel: "calls", dailyPeak: 20, talkMeanSeconds: 330 },
  { identifier: "SK Billing", name: "Inbound Billing", channel: "calls", dailyPeak: 8 }
]

const from = Date.parse("2026-03-02T08:00:00Z")
const to = Date.parse("2026-03-09T07:00:00Z")
const week = Scenario.generate({ seed: 5, from, to, timezone: tz, queues, agents: 10 })
const dayFrom = Date.parse("2026-03-03T08:00:00Z")
const dayTo = Date.parse("2026-03-04T08:00:00Z")
const day = Scenario.generate({ seed: 13, from: dayFrom, to: dayTo, timezone: tz, queues, agents: 6 })

const byCampaign = (rows: ReadonlyArray<Scenario.ExpectedInterval>) =>
  rows.map((r) => ({ ...r, queueIdentifier: r.queueName }))
const bySkill = (rows: ReadonlyArray<Scenario.ExpectedInterval>) =>
  rows.map((r) => ({ ...r, queueName: r.queueIdentifier }))

const activityOf = (s: Scenario.AgentState) => {
  const v = Five9Simulator.stateOf(s.activity)
  return Five9.activityIdentifier(v.state, v.reason)
}

/**
 * The scenarios of this file predate LoggedOut states and short abandons: logged-out time is
 * not part of their truth and no abandon is short, so the connector is told so
 * (Counting.test.ts and the cadence suite cover both).
 */
const legacy = { agentStates: { loggedOut: false as const }, shortAbandonSeconds: 0 }

const setup = (scenario: Scenario.Scenario, options: Five9Simulator.Options = {}) =>
  Effect.map(Five9Simulator.make(scenario, options), (sim) => ({
    sim: { ...sim, config: (o: Partial<Five9.ConfigEncoded> = {}) => sim.config({ ...legacy, ...o }) },
    connector: Five9.make()
  }))

/** The connector's present (the `TestClock`) is the source's. */
const present = (sim: Five9Simulator.Five9Simulator) => TestClock.setTime(sim.now())

const withEngine = <A, E, R>(connector: Five9.Five9Connector, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provide(engineLayer(ConnectorRegistry.layer(connector)).pipe(Layer.provideMerge(FetchHttpClient.layer)))
  )

const decode = (sim: Five9Simulator.Five9Simulator, overrides: Partial<Five9.ConfigEncoded> = {}) =>
  Schema.decodeUnknownSync(Five9.Config)(sim.config(overrides))

const pullAll = (connector: Five9.Five9Connector, config: Five9.Config, f: number, t: number) =>
  Stream.runCollect(connector.pull!(config, { from: DateTime.unsafeMake(f), to: DateTime.unsafeMake(t) })).pipe(
    Effect.map((c) => Chunk.toReadonlyArray(c)),
    Effect.provide(FetchHttpClient.layer)
  )

describe("Five9 connector, end to end against the SOAP simulator", () => {
  it.scoped("a DST week by campaign: every queue and interval equals the scenario; agent segments too", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(week)
      yield* present(sim)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("five9", sim.config(), tz)
          yield* importRange(integration, from, to, DAY)
          for (const length of [15, 30, 60] as const) {
            assertSameIntervals(
              yield* engineIntervals(integration, from, to, length, tz),
              byCampaign(Scenario.expectedIntervals(week, { length }))
            )
          }
          assertSameSegments(
            yield* engineSegments(integration, from - DAY, to + DAY),
            Scenario.expectedSegments(week, { activityOf })
          )
          // report times were sent with the data centre's offset: -08:00 before the change, -07:00 after
          const runs = sim.requests.filter((r) => r.operation === "runReport")
          const starts = runs.map((r) => JSON.stringify(r.params["criteria"]))
          assert.isTrue(starts.some((s) => s.includes("-08:00")))
          assert.isTrue(starts.some((s) => s.includes("-07:00")))
        })
      )
    }).pipe(Effect.provide(Five9.layer)), 120_000)

  it.scoped("a custom call log with SKILL groups by skill", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* present(sim)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration(
            "five9",
            sim.config({
              callLog: { folder: "Shared Reports", report: "Call Log with Skills", queueColumn: "SKILL" },
              import: ["contacts"]
            }),
            tz
          )
          yield* importWindow(integration, dayFrom, dayTo)
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            bySkill(Scenario.expectedIntervals(day, { length: 15 }))
          )
        })
      )
    }).pipe(Effect.provide(Five9.layer)))

  it.scoped("the 50,000-row cap: a capped result is read again in halves, nothing lost or doubled", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day, { maxRows: 300 })
      yield* present(sim)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("five9", sim.config({ maxRows: 300 }), tz)
          yield* importWindow(integration, dayFrom, dayTo)
          assert.isAbove(sim.requests.filter((r) => r.operation === "runReport").length, 4)
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            byCampaign(Scenario.expectedIntervals(day, { length: 15 }))
          )
          assertSameSegments(
            yield* engineSegments(integration, dayFrom - DAY, dayTo + DAY),
            Scenario.expectedSegments(day, { activityOf })
          )
        })
      )
    }).pipe(Effect.provide(Five9.layer)))

  it.scopedLive("realtime: a snapshot, then long-polled changes as open statuses", () =>
    Effect.gen(function*() {
      const t1 = Date.parse("2026-03-03T19:30:00Z")
      const t2 = t1 + 10 * 60_000
      const { connector, sim } = yield* setup(day, { now: t1 })
      const pull = yield* Stream.toPull(
        connector.realtime!(decode(sim, { statistics: { longPollSeconds: 1 } })).pipe(
          Stream.provideLayer(Layer.merge(FetchHttpClient.layer, Five9.layer))
        )
      )
      const first = Chunk.toReadonlyArray(yield* pull).flatMap((b) => b.statuses)
      const segments = Scenario.expectedSegments(day, { activityOf })
      const at = (agent: string, t: number) =>
        segments.find((s) => s.agentIdentifier === agent && s.start <= t && s.end! > t)
      assert.strictEqual(first.length, day.agents.length)
      for (const s of first) {
        assert.isNull(s.end)
        const want = at(s.agentIdentifier, t1)
        if (want) {
          assert.strictEqual(s.activityIdentifier, want.activityIdentifier)
          assert.strictEqual(DateTime.toEpochMillis(s.start), want.start)
        } else assert.strictEqual(s.activityIdentifier, "Logged Out")
      }
      sim.setNow(t2)
      let second: ReadonlyArray<{ agentIdentifier: string; activityIdentifier: string; start: DateTime.Utc }> = []
      for (let i = 0; i < 5 && second.length === 0; i++) second = Chunk.toReadonlyArray(yield* pull).flatMap((b) => b.statuses)
      assert.isAbove(second.length, 0)
      for (const s of second) {
        const want = at(s.agentIdentifier, t2)
        if (want) {
          assert.strictEqual(s.activityIdentifier, want.activityIdentifier)
          assert.strictEqual(DateTime.toEpochMillis(s.start), want.start)
        }
      }
      const ops = sim.requests.filter((r) => r.service === "supervisor").map((r) => r.operation)
      assert.deepStrictEqual(ops.slice(0, 3), ["setSessionParameters", "getStatistics", "getStatisticsUpdate"])
    }).pipe(Effect.provide(Five9.layer)), 30_000)
})

describe("Five9 connector faults", () => {
  it.scoped("OperationsLimitExceededFault is RateLimited with the configured back-off", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* present(sim)
      sim.faults.operationsLimit(1)
      const error = yield* Effect.flip(pullAll(connector, decode(sim, { operationsLimitBackoffSeconds: 600 }), dayFrom, dayTo))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterMs, 600_000)
    }).pipe(Effect.provide(Five9.layer)))

  it.scopedLive("SessionClosedFault and ResultIsNotReadyFault are waited out; calls of one user never overlap", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      sim.faults.sessionClosed(1)
      sim.faults.notReady(2)
      const config = decode(sim)
      // contacts and states of the same user read concurrently: the instance serialises them
      const [a, b] = yield* Effect.all([
        pullAll(connector, decode(sim, { import: ["contacts"] }), dayFrom, dayTo),
        pullAll(connector, decode(sim, { import: ["agentStatuses"] }), dayFrom, dayTo)
      ], { concurrency: 2 })
      const faults = sim.requests.flatMap((r) => (r.fault ? [r.fault] : []))
      assert.deepStrictEqual(faults.sort(), ["ResultIsNotReadyFault", "ResultIsNotReadyFault", "SessionClosedFault"])
      assert.strictEqual(a.flatMap((x) => x.contacts).length, day.contacts.length)
      assert.isAbove(b.flatMap((x) => x.statuses).length, 100)
      assert.isAtLeast((yield* connector.stats(config)).retries, 1)
    }).pipe(Effect.provide(Five9.layer)), 30_000)

  it.scopedLive("connections closed mid-response are retried; nothing is doubled", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("five9", sim.config(), tz)
          sim.faults.dropConnections(3)
          yield* importWindow(integration, dayFrom, dayTo)
          yield* importWindow(integration, dayFrom, dayTo)
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            byCampaign(Scenario.expectedIntervals(day, { length: 15 }))
          )
          assertSameSegments(
            yield* engineSegments(integration, dayFrom - DAY, dayTo + DAY),
            Scenario.expectedSegments(day, { activityOf })
          )
        })
      )
    }).pipe(Effect.provide(Five9.layer)), 30_000)

  it.scoped("malformed rows are InvalidData naming line, CALL ID and column; nothing is applied", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* present(sim)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("five9", sim.config(), tz)
          const bad = day.contacts.find((c) => c.handled)!
          sim.faults.malformedCalls.add(bad.id)
          const error = yield* Effect.flip(importWindow(integration, dayFrom, dayTo))
          assert.strictEqual(error._tag, "InvalidData")
          if (error._tag === "InvalidData") {
            assert.match(error.record, new RegExp(`Call Log Reports/Call Log line \\d+ \\(CALL ID ${bad.id}\\), TALK TIME`))
            assert.match(error.reason, /"4 min" is not a duration/)
          }
          assert.strictEqual((yield* engineIntervals(integration, dayFrom, dayTo, 15, tz)).length, 0)
        })
      )
    }).pipe(Effect.provide(Five9.layer)))

  it.scoped("check: bad credentials, a wrong report name and missing columns in plain words", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day, { agentStateColumns: ["AGENT", "TIMESTAMP", "STATE", "REASON CODE"] })
      yield* present(sim)
      const run = (config: Five9.Config) => Effect.provide(connector.check!(config), FetchHttpClient.layer)
      const badPassword = yield* run(decode(sim, { password: "nope" }))
      assert.isFalse(badPassword.ok)
      assert.match(badPassword.items[0]!.detail, /Five9 refused user "api.user@example.com" \(HTTP 401\): check the user name and password/)
      assert.notInclude(JSON.stringify(badPassword), "nope")
      const pullError = yield* Effect.flip(pullAll(connector, decode(sim, { password: "nope" }), dayFrom, dayTo))
      assert.strictEqual(pullError._tag, "AuthFailed")

      const wrongReport = yield* run(decode(sim, { callLog: { report: "Call Log (copy)" } }))
      assert.isFalse(wrongReport.ok)
      const callLogItem = wrongReport.items.find((i) => i.name === "call log report")!
      assert.match(callLogItem.detail, /Five9 has no report "Call Log \(copy\)" in folder "Call Log Reports"/)
      const states = wrongReport.items.find((i) => i.name === "agent state report")!
      assert.isFalse(states.ok)
      assert.match(states.detail, /lacks the column "AGENT STATE TIME": add it to the report in Five9/)

      const wrongHost = yield* run(decode(sim, { baseUrl: `${sim.url}/not-five9` }))
      assert.match(wrongHost.items[0]!.detail, /There is no Five9 web service at .*check the data centre host/)

      const skillMissing = yield* run(decode(sim, { callLog: { queueColumn: "SKILL" }, import: ["contacts"] }))
      assert.isFalse(skillMissing.ok)
      assert.match(skillMissing.items[1]!.detail, /lacks the column "SKILL"/)
    }).pipe(Effect.provide(Five9.layer)))
})

describe("Five9 quirks", () => {
  it("report times are the data centre's wall clock, DST-aware; the gap is refused", () => {
    assert.strictEqual(Either.getOrThrow(parseTimestamp("Fri, 21 Aug 2026 09:00:12", la)), Date.parse("2026-08-21T16:00:12Z"))
    assert.strictEqual(Either.getOrThrow(parseTimestamp("21 Jan 2026 09:00:12", la)), Date.parse("2026-01-21T17:00:12Z"))
    assert.strictEqual(Either.getOrThrow(parseTimestamp("2026-03-08 03:00:00", la)), Date.parse("2026-03-08T10:00:00Z"))
    assert.match(Either.getLeft(parseTimestamp("Sun, 08 Mar 2026 02:30:00", la)).pipe(Option.getOrThrow), /DST/)
    assert.isTrue(Either.isLeft(parseTimestamp("Fri, 32 Aug 2026 09:00:12", la)))
    const berlin = Either.getOrThrow(Bucketing.zone("Europe/London"))
    assert.strictEqual(Either.getOrThrow(parseTimestamp("Fri, 21 Aug 2026 09:00:12", berlin)), Date.parse("2026-08-21T08:00:12Z"))
  })

  it("durations: HH:MM:SS, with milliseconds, past 24 hours, empty", () => {
    assert.strictEqual(Either.getOrThrow(parseDuration("00:03:05")), 185_000)
    assert.strictEqual(Either.getOrThrow(parseDuration("00:00:00.235")), 235)
    assert.strictEqual(Either.getOrThrow(parseDuration("26:00:00")), 26 * HOUR)
    assert.strictEqual(Either.getOrThrow(parseDuration("")), 0)
    assert.isTrue(Either.isLeft(parseDuration("3 min")))
  })

  it("several rows per CALL ID count once; [None] is not handled; outbound calls are not queue contacts", () => {
    const csv = [
      "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,ABANDONED",
      "1,\"Tue, 03 Mar 2026 09:00:00\",Sales,Inbound,ann,00:00:10.500,00:01:00,00:00:20,00:00:05,0",
      "1,\"Tue, 03 Mar 2026 09:00:00\",Sales,Inbound,bob,00:00:00,00:02:00,00:00:00,00:00:30,0",
      "2,\"Tue, 03 Mar 2026 09:01:00\",Sales,Inbound,[None],00:00:07,00:00:00,00:00:00,00:00:00,1",
      "3,\"Tue, 03 Mar 2026 09:02:00\",Sales,Outbound,ann,,00:01:00,00:00:00,00:00:00,0"
    ].join("\n")
    const table = Either.getOrThrow(parseCsv(csv, "test"))
    const events = Either.getOrThrow(
      contactsOf(table, {
        report: "test",
        zone: la,
        queueColumn: "CAMPAIGN",
        callTypes: ["Inbound"],
        channel: "calls",
        serviceLevelSeconds: 20,
        shortAbandonSeconds: 5
      })
    )
    assert.strictEqual(events.length, 2)
    const [transferred, abandoned] = events
    assert.deepStrictEqual(
      { ...transferred!, timestamp: DateTime.formatIso(transferred!.timestamp) },
      {
        queueIdentifier: "Sales",
        queueName: "Sales",
        channel: "calls",
        timestamp: "2026-03-03T17:00:00.000Z",
        offered: true,
        handled: true,
        durationMs: 235_000,
        talkMs: 180_000,
        holdMs: 20_000,
        afterCallWorkMs: 35_000,
        waitMs: 10_500,
        abandoned: false,
        shortAbandoned: false,
        breakout: false,
        answeredInThreshold: true
      }
    )
    assert.strictEqual(abandoned!.handled, false)
    assert.strictEqual(abandoned!.abandoned, true)
    assert.strictEqual(abandoned!.shortAbandoned, false)
    assert.strictEqual(abandoned!.breakout, false)
    assert.strictEqual(abandoned!.durationMs, 7_000)
  })

  it("overlapping agent states: the longer one is trimmed to start where the shorter ends", () => {
    const csv = [
      "AGENT,TIMESTAMP,STATE,REASON CODE,AGENT STATE TIME",
      "ann,\"Tue, 03 Mar 2026 13:00:00\",On Call,,00:03:00",
      "ann,\"Tue, 03 Mar 2026 13:00:00\",Ready,,00:00:05",
      "ann,\"Tue, 03 Mar 2026 13:03:00\",Not Ready,Lunch,00:30:00",
      "ann,\"Tue, 03 Mar 2026 13:33:00\",Logout,,00:00:00"
    ].join("\n")
    const spans = Either.getOrThrow(statesOf(Either.getOrThrow(parseCsv(csv, "t")), {
      report: "t",
      zone: la,
      columns: { agent: "AGENT", timestamp: "TIMESTAMP", state: "STATE", reason: "REASON CODE", duration: "AGENT STATE TIME" },
      skipStates: ["Logout"]
    }))
    const t = (hms: string) => Date.parse(`2026-03-03T${hms}Z`)
    assert.deepStrictEqual(spans, [
      { agent: "ann", activity: "Ready", start: t("21:00:00"), end: t("21:00:05") },
      { agent: "ann", activity: "On Call", start: t("21:00:05"), end: t("21:03:00") },
      { agent: "ann", activity: "Not Ready:Lunch", start: t("21:03:00"), end: t("21:33:00") }
    ])
  })

  it("decodes its config with defaults and a redacted password; refuses a bad zone", () => {
    const c = Schema.decodeUnknownSync(Five9.Config)({ username: "u", password: "p" })
    assert.strictEqual(c.timezone, "America/Los_Angeles")
    assert.strictEqual(c.callLog.folder, "Call Log Reports")
    assert.strictEqual(c.callLog.queueColumn, "CAMPAIGN")
    assert.strictEqual(c.agentStates.report, "Agent State Details")
    assert.strictEqual(c.maxRows, 50_000)
    assert.isTrue(Redacted.isRedacted(c.password))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Five9.Config)({ username: "u", password: "p", timezone: "Mars/Olympus" })))
  })

  it.scoped("two reads give the same result; cuts at any hour give the same contacts; the future is empty", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* present(sim)
      const config = decode(sim)
      const a = yield* pullAll(connector, config, dayFrom, dayTo)
      const b = yield* pullAll(connector, config, dayFrom, dayTo)
      assert.deepStrictEqual(a, b)
      const contacts = (batches: ReadonlyArray<{ contacts: ReadonlyArray<unknown> }>) => batches.flatMap((x) => x.contacts)
      for (const cut of [5, 13].map((h) => dayFrom + h * HOUR)) {
        const parts = [...contacts(yield* pullAll(connector, config, dayFrom, cut)), ...contacts(yield* pullAll(connector, config, cut, dayTo))]
        assert.deepStrictEqual(parts, contacts(a))
      }
      assert.deepStrictEqual(yield* pullAll(connector, config, dayTo + 2 * DAY, dayTo + 3 * DAY), [])
    }).pipe(Effect.provide(Five9.layer)))
})
