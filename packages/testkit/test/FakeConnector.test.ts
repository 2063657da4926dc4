import { Connector, type Domain } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { ConnectorSuite, FakeConnector, FakeSource, Scenario } from "../src/index.js"

const source = (options: FakeSource.Options = {}) => FakeSource.layer({ seed: 42, ...options })
const toggle = (error: Connector.ConnectorError) => Effect.flatMap(FakeSource.FakeSource, (s) => s.fail(error))

ConnectorSuite.suite("FakeConnector", {
  connector: FakeConnector.connector,
  config: FakeConnector.config,
  badCredentialsConfig: FakeConnector.badCredentials,
  invalidConfigs: [{ config: {}, field: "apiKey" }, { config: { apiKey: "abc" }, field: "apiKey" }, { config: 42 }],
  layer: source(),
  windows: [
    { from: "2026-03-02T00:00:00Z", to: "2026-03-02T06:00:00Z" },
    { from: "2026-03-02T06:00:00Z", to: "2026-03-03T00:00:00Z" }
  ],
  dstWindow: { from: "2026-03-28T22:00:00Z", to: "2026-03-29T04:00:00Z" },
  now: "2026-04-01T00:00:00Z",
  rateLimit: toggle(new Connector.RateLimited({ retryAfterMs: 30_000 })),
  transient: toggle(new Connector.Transient({ reason: "503" })),
  malformed: Effect.flatMap(FakeSource.FakeSource, (s) => s.setMalformed(true))
})

ConnectorSuite.suite("FakeConnector with interval aggregates", {
  connector: FakeConnector.connector,
  config: { apiKey: "another-secret", account: "Acme" },
  layer: source({ shape: "aggregates", apiKey: "another-secret", agents: 0 }),
  windows: [{ from: "2026-03-02T08:00:00Z", to: "2026-03-02T20:00:00Z" }],
  now: "2026-03-03T00:00:00Z",
  realtime: false
})

// a source that keeps ten days: an older window is empty
ConnectorSuite.suite("FakeConnector over a source that keeps ten days", {
  connector: FakeConnector.connector,
  config: FakeConnector.config,
  layer: source({ keepsDays: 10 }),
  windows: [{ from: "2026-03-05T00:00:00Z", to: "2026-03-05T12:00:00Z" }],
  emptyWindow: { from: "2026-02-01T00:00:00Z", to: "2026-02-02T00:00:00Z" },
  now: "2026-03-10T00:00:00Z"
})

const t = (s: string) => DateTime.toEpochMillis(DateTime.unsafeMake(s))

describe("FakeSource", () => {
  it.effect("is a pure function of the seed and the time", () =>
    Effect.gen(function*() {
      const a = yield* FakeSource.make({ seed: 1 })
      const b = yield* FakeSource.make({ seed: 1 })
      const c = yield* FakeSource.make({ seed: 2 })
      yield* TestClock.setTime(t("2026-03-10T00:00:00Z"))
      const window = { from: t("2026-03-02T00:00:00Z"), to: t("2026-03-03T00:00:00Z") }
      const x = yield* a.truth(window)
      assert.deepStrictEqual(yield* b.truth(window), x)
      assert.notDeepEqual(yield* c.truth(window), x)
      // about 3 contacts per queue and quarter: 2 queues × 96 quarters × 3
      assert.isTrue(x.contacts.length > 400 && x.contacts.length < 800, String(x.contacts.length))
      assert.isAbove(x.statuses.length, 30)
      // some contacts sit exactly on a quarter's first instant
      assert.isTrue(x.contacts.some((e) => DateTime.toEpochMillis(e.timestamp) % 900_000 === 0))
    }))

  it.effect("aggregates are exactly the sums of the contacts", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t("2026-03-10T00:00:00Z"))
      const window = { from: t("2026-03-02T08:00:00Z"), to: t("2026-03-02T12:00:00Z") }
      const contacts = yield* (yield* FakeSource.make({ seed: 5 })).truth(window)
      const aggregates = yield* (yield* FakeSource.make({ seed: 5, shape: "aggregates" })).truth(window)
      assert.strictEqual(aggregates.contacts.length, 0)
      assert.strictEqual(aggregates.aggregates.reduce((n, a) => n + a.offered, 0), contacts.contacts.length)
      assert.strictEqual(
        aggregates.aggregates.reduce((n, a) => n + a.handlingMs, 0),
        contacts.contacts.filter((e) => e.handled).reduce((n, e) => n + e.durationMs, 0)
      )
    }))

  it.effect("restates a share of quarters after the correction delay", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSource.make({ seed: 3, corrections: { share: 0.5, delay: "2 hours" } })
      const window = { from: t("2026-03-02T08:00:00Z"), to: t("2026-03-02T09:00:00Z") }
      const early = yield* fake.truth(window, t("2026-03-02T09:30:00Z"))
      const late = yield* fake.truth(window, t("2026-03-02T11:30:00Z"))
      assert.isAbove(late.contacts.length, early.contacts.length)
      assert.isAbove(
        late.contacts.reduce((n, e) => n + e.durationMs, 0),
        early.contacts.reduce((n, e) => n + e.durationMs, 0)
      )
    }))

  it.effect("nothing from the future; statuses still running are open", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSource.make({ seed: 8, agents: 5 })
      const now = t("2026-03-02T10:07:13Z")
      const batch = yield* fake.truth({ from: t("2026-03-02T08:00:00Z"), to: t("2026-03-02T12:00:00Z") }, now)
      assert.isTrue(batch.contacts.every((e) => DateTime.toEpochMillis(e.timestamp) < now))
      assert.isTrue(batch.statuses.every((s) => DateTime.toEpochMillis(s.start) < now))
      assert.isTrue(batch.statuses.some((s) => s.end === null))
    }))

  it.effect("switches: injected failures in order, a rotated key, and counters", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSource.make({ seed: 1, pageSize: 50 })
      yield* TestClock.setTime(t("2026-03-10T00:00:00Z"))
      const window = { from: t("2026-03-02T00:00:00Z"), to: t("2026-03-02T06:00:00Z") }
      const read = (key = "fake-secret") => Effect.either(Stream.runCollect(fake.read(key, window)))
      yield* fake.fail(new Connector.Transient({ reason: "a" }), 2)
      yield* fake.fail(new Connector.RateLimited({ retryAfterMs: 5 }))
      const tags: Array<string> = []
      for (let i = 0; i < 4; i++) {
        const r = yield* read()
        tags.push(r._tag === "Left" ? r.left._tag : "ok")
      }
      assert.deepStrictEqual(tags, ["Transient", "Transient", "RateLimited", "ok"])
      const denied = yield* read("wrong")
      assert.isTrue(denied._tag === "Left" && denied.left._tag === "AuthFailed")
      yield* fake.setApiKey("rotated")
      const old = yield* read()
      assert.isTrue(old._tag === "Left" && old.left._tag === "AuthFailed")
      assert.strictEqual(yield* fake.calls, 6)
      assert.strictEqual((yield* fake.windows).length, 6)
      assert.isAbove(yield* fake.served, 0)
    }))
})

// ---------------------------------------------------------------------------
// scenario mode: contacts whose visits and legs fall in several windows
// ---------------------------------------------------------------------------

const v2 = Scenario.generate({
  ...Scenario.allFeatures,
  seed: 11,
  from: "2026-03-02T08:00:00Z",
  to: "2026-03-04T08:00:00Z",
  timezone: "America/Los_Angeles",
  queues: [
    { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 14 },
    { identifier: "q-care", name: "Care", channel: "calls", dailyPeak: 10 },
    { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 5 }
  ],
  agents: 5,
  longTalkShare: 0.1
})
const dayRange = { from: t("2026-03-02T08:00:00Z"), to: t("2026-03-03T08:00:00Z") }
const afterAll = t("2026-03-06T00:00:00Z")

/** Cuts a connector must survive: between the visits of a transferred contact, inside long legs. */
const hardCuts: Array<Array<number>> = (() => {
  const inRange = (x: number) => x > dayRange.from && x < dayRange.to
  const multi = v2.contacts.filter((c) => c.visits.length > 1 && inRange(c.visits[1]!.enteredAt)).slice(0, 3)
  const long = v2.contacts.flatMap((c) => c.visits.flatMap((v) => v.legs)).filter((l) => l.talkMs > 30 * 60_000)
  return [
    multi.map((c) => c.visits[1]!.enteredAt - 1000),
    long.slice(0, 3).map((l) => l.start + Math.round(l.talkMs / 2000) * 1000).filter(inRange)
  ]
})()

ConnectorSuite.suite("FakeConnector over a scenario (multi-visit, long and consulted contacts)", {
  connector: FakeConnector.connector,
  config: FakeConnector.config,
  badCredentialsConfig: FakeConnector.badCredentials,
  layer: source({ scenario: v2 }),
  windows: [dayRange],
  now: afterAll,
  splits: { cutSets: 6, cuts: hardCuts },
  malformed: Effect.flatMap(FakeSource.FakeSource, (s) => s.setMalformed(true)),
  realtime: false
})

/**
 * A connector that makes the mistake the splits case is for: it groups the legs of a visit
 * only within the window it reads, so a visit whose legs run past the window's end loses their
 * time (and a connector counting one contact per leg group would count it again later).
 */
const naive = Connector.make({
  key: "naive",
  displayName: "Naive (counts legs per window)",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts"],
  configSchema: FakeConnector.Config,
  pull: (config, window) =>
    Stream.unwrap(Effect.map(FakeSource.FakeSource, (s) =>
      s.records(config.apiKey, { from: window.from.epochMillis, to: window.to.epochMillis }).pipe(
        Stream.runCollect,
        Effect.map((pages) => {
          const records = Chunk.toReadonlyArray(pages).flat()
          const contacts = records.flatMap((v) => {
            if (v.kind !== "visit") return []
            const legs = records.filter((l) =>
              l.kind === "leg" && l.legKind === "agent" && l.contactId === v.contactId && l.visit === v.visit
            )
            const handling = legs.reduce((n, l) => n + (l.kind === "leg" ? l.talkMs + l.holdMs + l.afterCallWorkMs : 0), 0)
            const handled = v.outcome === "answered"
            return [{
              queueIdentifier: v.queueIdentifier,
              queueName: v.queueName,
              channel: v.channel,
              timestamp: DateTime.unsafeMake(v.at),
              offered: true,
              handled,
              durationMs: handled ? handling : v.waitMs
            }]
          })
          return { contacts, aggregates: [], statuses: [] }
        }),
        Stream.fromEffect
      )))
})

const pullWith = <C, I>(connector: Connector.Connector<C, I, FakeSource.FakeSource>, config: unknown) =>
  (from: number, to: number) =>
    Effect.gen(function*() {
      const c = yield* Effect.orDie(Schema.decodeUnknown(connector.configSchema)(config))
      const batches = yield* Stream.runCollect(connector.pull!(c, { from: DateTime.unsafeMake(from), to: DateTime.unsafeMake(to) }))
      return {
        contacts: Chunk.toReadonlyArray(batches).flatMap((b) => b.contacts),
        aggregates: Chunk.toReadonlyArray(batches).flatMap((b) => b.aggregates),
        statuses: Chunk.toReadonlyArray(batches).flatMap((b) => b.statuses)
      }
    })

describe("FakeSource in scenario mode", () => {
  it.effect("the scenario has what the splits case needs: multi-visit, long, consulted contacts in the range", () =>
    Effect.sync(() => {
      const inDay = v2.contacts.filter((c) => c.start >= dayRange.from && c.start < dayRange.to)
      assert.isAbove(inDay.filter((c) => c.visits.length > 1).length, 3)
      assert.isAbove(inDay.flatMap((c) => c.visits).filter((v) => v.legs.some((l) => l.kind === "consult")).length, 2)
      assert.isAbove(inDay.flatMap((c) => c.visits.flatMap((v) => v.legs)).filter((l) => l.talkMs > 30 * 60_000).length, 2)
      assert.isAbove(hardCuts.flat().length, 3)
    }))

  it.effect("a read equals the scenario's ground truth for the range (Scenario.expectedIntervals)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(afterAll)
      const batch = yield* pullWith(FakeConnector.connector, FakeConnector.config)(dayRange.from, dayRange.to)
      const sum = (f: (e: Domain.ContactEvent) => number) => batch.contacts.reduce((n, e) => n + f(e), 0)
      const rows = Scenario.expectedIntervals(v2, { length: 15, from: dayRange.from, to: dayRange.to })
      const total = (k: keyof Domain.Measures) => rows.reduce((n, r) => n + r[k], 0)
      assert.strictEqual(batch.contacts.length, total("offered"))
      assert.strictEqual(sum((e) => (e.handled ? e.durationMs : 0)), total("handlingMs"))
      assert.strictEqual(sum((e) => (e.breakout ? 1 : 0)), total("breakout"))
      assert.strictEqual(sum((e) => (e.shortAbandoned ? 1 : 0)), total("shortAbandoned"))
    }).pipe(Effect.provide(source({ scenario: v2 }))))

  it.effect("the splits check finds the naive connector's mistake and none in FakeConnector's", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(afterAll)
      const cuts = (whole: Domain.Batch) => [...ConnectorSuite.randomCutSets(dayRange, whole, 6, 1), ...hardCuts]
      const good = yield* ConnectorSuite.checkSplits(pullWith(FakeConnector.connector, FakeConnector.config), dayRange, cuts)
      assert.deepStrictEqual(good, [])
      const bad = yield* ConnectorSuite.checkSplits(pullWith(naive, FakeConnector.config), dayRange, cuts)
      assert.isAbove(bad.length, 0)
      assert.isTrue(bad.some((p) => p.includes("handlingMs")), bad[0])
    }).pipe(Effect.provide(source({ scenario: v2 }))))

  it.effect("statuses overlapping a window come back whole, LoggedOut nights included; open ones have no end", () =>
    Effect.gen(function*() {
      // a night in Los Angeles: every agent is logged out, since the end of their shift
      const now = t("2026-03-03T07:17:31Z")
      yield* TestClock.setTime(now)
      const w = { from: t("2026-03-03T06:00:00Z"), to: t("2026-03-03T07:00:00Z") }
      const batch = yield* pullWith(FakeConnector.connector, FakeConnector.config)(w.from, w.to)
      const loggedOut = batch.statuses.filter((s) => s.activityIdentifier === "LoggedOut")
      assert.strictEqual(loggedOut.length, v2.agents.length)
      assert.isTrue(loggedOut.every((s) => s.end === null && DateTime.toEpochMillis(s.start) < w.from - 3_600_000))
      for (const s of batch.statuses) {
        const start = DateTime.toEpochMillis(s.start)
        const whole = Scenario.timeline(v2).find((x) => x.agentId === s.agentIdentifier && x.start === start)
        assert.isDefined(whole)
        assert.strictEqual(s.end === null ? null : DateTime.toEpochMillis(s.end), whole!.end <= now ? whole!.end : null)
      }
    }).pipe(Effect.provide(source({ scenario: v2 }))))

  it.effect("finished contacts show once written; liveContacts shows running ones as far as they got", () =>
    Effect.gen(function*() {
      const running = v2.contacts.find((c) => c.completion - c.start > 3_600_000 && c.visits[0]!.outcome === "answered")!
      const now = running.visits[0]!.legs[0]!.start + 60_000
      yield* TestClock.setTime(now)
      const w = { from: running.visits[0]!.enteredAt, to: running.visits[0]!.enteredAt + 1000 }
      const written = yield* (yield* FakeSource.make({ scenario: v2 })).truth(w)
      assert.strictEqual(written.contacts.length, 0)
      const live = yield* (yield* FakeSource.make({ scenario: v2, liveContacts: true })).truth(w)
      assert.strictEqual(live.contacts.length, 1)
      assert.isTrue(live.contacts[0]!.handled)
      assert.strictEqual(live.contacts[0]!.talkMs, 60_000)
    }))
})
