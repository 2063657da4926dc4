import { ConnectorRegistry } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Vonage } from "../src/index.js"
import { VonageSimulator } from "../src/simulator.js"
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

// Vonage identifies queues by name only: the scenario's identifiers are the names
const queues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "Sales", name: "Sales", channel: "calls", dailyPeak: 30 },
  { identifier: "Support", name: "Support", channel: "calls", dailyPeak: 20, talkMeanSeconds: 330 },
  { identifier: "Web chat", name: "Web chat", channel: "chats", dailyPeak: 8 }
]

// the week of the 2026 spring-forward in Los Angeles (Sunday 2026-03-08, 02:00 → 03:00)
const from = Date.parse("2026-03-02T08:00:00Z")
const to = Date.parse("2026-03-09T07:00:00Z")
// abandons under 5 s are short, as the connector counts them by default
const week = Scenario.generate({ seed: 7, from, to, timezone: tz, queues, agents: 10, shortAbandonSeconds: 5 })
const day = Scenario.generate({
  seed: 11,
  from: "2026-03-03T08:00:00Z",
  to: "2026-03-04T08:00:00Z",
  timezone: tz,
  queues,
  agents: 6,
  shortAbandonSeconds: 5
})
const dayFrom = Date.parse("2026-03-03T08:00:00Z")
const dayTo = Date.parse("2026-03-04T08:00:00Z")

const activityOf = (s: Scenario.AgentState) => {
  const v = VonageSimulator.stateOf(s.activity)
  return Vonage.activityIdentifier(v.state, v.description)
}
const expectedSegments = (scenario: Scenario.Scenario) =>
  Scenario.expectedSegments(scenario, { activityOf, mergeAdjacent: true })

/** A fresh connector instance (its own token cache and gate) and engine per test. */
const setup = (scenario: Scenario.Scenario, simOptions: VonageSimulator.Options = {}) =>
  Effect.gen(function*() {
    const sim = yield* VonageSimulator.make(scenario, simOptions)
    const connector = Vonage.make()
    return { sim, connector }
  })

const withEngine = <A, E, R>(connector: Vonage.VonageConnector, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provide(engineLayer(ConnectorRegistry.layer(connector)).pipe(Layer.provideMerge(FetchHttpClient.layer)))
  )

const decode = (sim: VonageSimulator.VonageSimulator, overrides: Partial<Vonage.ConfigEncoded> = {}) =>
  Schema.decodeUnknownSync(Vonage.Config)(sim.config(overrides))

describe("Vonage connector, end to end against the simulator", () => {
  it.scoped("a DST week: every queue and interval equals the scenario; agent segments too", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(week)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("vonage", sim.config({ pageSize: 250 }), tz)
          yield* importRange(integration, from, to, DAY)
          for (const length of [15, 60] as const) {
            const actual = yield* engineIntervals(integration, from, to, length, tz)
            assertSameIntervals(actual, Scenario.expectedIntervals(week, { length }))
          }
          // the short day: 23 hours in Los Angeles
          const dst = (yield* engineIntervals(integration, Date.parse("2026-03-08T08:00:00Z"), Date.parse("2026-03-09T07:00:00Z"), 60, tz))
          assert.isTrue(dst.every((r) => r.end - r.start === HOUR))
          assertSameSegments(yield* engineSegments(integration, from - DAY, to + DAY), expectedSegments(week))
          // several pages were read, nothing beyond 31 days was asked
          assert.isAbove(sim.requests.filter((r) => r.query["page"] === "2").length, 3)
          assert.isTrue(sim.requests.every((r) => r.status !== 400))
        })
      )
    }).pipe(Effect.provide(Vonage.layer)), 120_000)

  it.scoped("records that change after delivery replace the stored ones; re-imports never double", () =>
    Effect.gen(function*() {
      const midday = Date.parse("2026-03-03T20:07:00Z")
      const { connector, sim } = yield* setup(day, { now: midday })
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("vonage", sim.config(), tz)
          const window = [Date.parse("2026-03-03T19:00:00Z"), Date.parse("2026-03-03T20:15:00Z")] as const
          const early = yield* importWindow(integration, window[0], window[1])
          // as of 20:07 some states are open and some interactions ongoing
          assert.isTrue(early.statuses.some((s) => s.end === null))
          const ongoing = early.contacts.filter((c) => !c.handled && !c.abandoned)
          assert.isAbove(ongoing.length + early.statuses.filter((s) => s.end === null).length, 0)
          // later the source has the final records: the re-import replaces
          sim.setNow(dayTo + DAY)
          yield* importWindow(integration, window[0], window[1])
          yield* importWindow(integration, window[0], window[1])
          const expected = Scenario.expectedIntervals(day, { length: 15, from: window[0], to: window[1] })
          assertSameIntervals(yield* engineIntervals(integration, window[0], window[1], 15, tz), expected)
          const segments = (yield* engineSegments(integration, window[0], window[1]))
          assert.isTrue(segments.every((s) => s.end !== null))
        })
      )
    }).pipe(Effect.provide(Vonage.layer)))

  it.scopedLive("realtime polls from upTo, emits open states and carries the position", () =>
    Effect.gen(function*() {
      const now = Date.parse("2026-03-03T20:07:00Z")
      const { connector, sim } = yield* setup(day, { now })
      const config = decode(sim, { pollSeconds: 1 })
      const first = yield* connector.realtime!(config, now - 10 * 60_000).pipe(
        Stream.take(2),
        Stream.runCollect,
        Effect.provide(FetchHttpClient.layer)
      )
      const batches = Chunk.toReadonlyArray(first)
      assert.strictEqual(batches.length, 2)
      assert.strictEqual(batches[0]!.position, now)
      assert.isTrue(batches[0]!.statuses.some((s) => s.end === null))
      const processed = sim.requests.filter((r) => r.query["include"] === "Processed")
      assert.strictEqual(processed[0]!.query["start"], new Date(now - 10 * 60_000).toISOString())
      assert.strictEqual(processed[1]!.query["start"], new Date(now).toISOString())
    }).pipe(Effect.provide(Vonage.layer)))
})

describe("Vonage connector faults", () => {
  it.scoped("an expired token mid-run is refreshed once, the run goes on", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("vonage", sim.config({ pageSize: 100 }), tz)
          yield* importWindow(integration, dayFrom, dayFrom + 12 * HOUR)
          sim.faults.expireTokens()
          yield* importWindow(integration, dayFrom + 12 * HOUR, dayTo)
          assert.strictEqual((yield* connector.stats(decode(sim))).tokenRequests, 2)
          assert.strictEqual(sim.requests.filter((r) => r.status === 401).length, 1)
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            Scenario.expectedIntervals(day, { length: 15 })
          )
        })
      )
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("a token rejected again after the refresh is AuthFailed", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      sim.faults.rejectTokens = true
      const error = yield* Effect.flip(
        Stream.runDrain(connector.pull!(decode(sim), { from: DateTime.unsafeMake(dayFrom), to: DateTime.unsafeMake(dayTo) }))
          .pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(sim.requests.filter((r) => r.status === 401).length, 2)
      assert.strictEqual((yield* connector.stats(decode(sim))).tokenRequests, 2)
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("bad credentials: AuthFailed, and check says what to fix", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      const config = decode(sim, { clientSecret: "wrong" })
      const error = yield* Effect.flip(
        Stream.runDrain(connector.pull!(config, { from: DateTime.unsafeMake(dayFrom), to: DateTime.unsafeMake(dayTo) }))
          .pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.strictEqual(error._tag, "AuthFailed")
      const report = yield* connector.check!(config).pipe(Effect.provide(FetchHttpClient.layer))
      assert.isFalse(report.ok)
      assert.strictEqual(report.items[0]!.name, "credentials")
      assert.match(report.items[0]!.detail, /refused client "acd-bridge".*check the client id and secret/)
      // never shows the secret
      assert.notInclude(JSON.stringify(report), "wrong")
      const good = yield* connector.check!(decode(sim)).pipe(Effect.provide(FetchHttpClient.layer))
      assert.isTrue(good.ok, JSON.stringify(good))
      assert.deepStrictEqual(good.items.map((i) => i.name), ["credentials", "agent states", "queue times", "interactions"])
      const wrongPath = yield* connector.check!(decode(sim, { apiBaseUrl: `${sim.url}/v0` })).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      assert.isFalse(wrongPath.ok)
      assert.match(wrongPath.items[1]!.detail, /does not exist \(HTTP 404\): check the region or the apiBaseUrl/)
    }).pipe(Effect.provide(Vonage.layer)))

  it.scopedLive("a 429 storm is waited out: Retry-After holds back every endpoint of the instance", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("vonage", sim.config({ pageSize: 100 }), tz)
          yield* importWindow(integration, dayFrom, dayFrom + 6 * HOUR)
          sim.clearLog()
          sim.faults.rateLimit(3, 1)
          // contacts and agent states read concurrently by two pulls of the same instance
          const statesOnly = decode(sim, { pageSize: 100, import: ["agentStatuses"] })
          const window = { from: DateTime.unsafeMake(dayFrom + 6 * HOUR), to: DateTime.unsafeMake(dayTo) }
          yield* Effect.all([
            importWindow(integration, dayFrom + 6 * HOUR, dayTo),
            Stream.runDrain(connector.pull!(statesOnly, window))
          ], { concurrency: 2 })
          const limited = sim.requests.filter((r) => r.status === 429)
          assert.strictEqual(limited.length, 3)
          // after each 429 nothing reached the server before Retry-After had passed (a request
          // already in flight when the 429 was answered may land within a few ms of it)
          for (const l of limited) {
            const tooEarly = sim.requests.filter((r) => r.at > l.at + 100 && r.at < l.at + 950)
            assert.strictEqual(tooEarly.length, 0, `requests within Retry-After of a 429 at ${l.at}`)
          }
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            Scenario.expectedIntervals(day, { length: 15 })
          )
        })
      )
    }).pipe(Effect.provide(Vonage.layer)), 30_000)

  it.scopedLive("a storm longer than the retry budget is RateLimited with the wait", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      sim.faults.rateLimit(10, 1)
      const error = yield* Effect.flip(
        Stream.runDrain(
          connector.pull!(decode(sim, { maxRateLimitRetries: 1 }), {
            from: DateTime.unsafeMake(dayFrom),
            to: DateTime.unsafeMake(dayTo)
          })
        ).pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterMs, 1000)
    }).pipe(Effect.provide(Vonage.layer)), 30_000)

  it.scopedLive("connections closed mid-response are retried; nothing is doubled", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("vonage", sim.config({ pageSize: 100 }), tz)
          sim.faults.dropConnections(3)
          yield* importWindow(integration, dayFrom, dayTo)
          assert.strictEqual((yield* connector.stats(decode(sim))).retries, 3)
          assertSameIntervals(
            yield* engineIntervals(integration, dayFrom, dayTo, 15, tz),
            Scenario.expectedIntervals(day, { length: 15 })
          )
          assertSameSegments(yield* engineSegments(integration, dayFrom - DAY, dayTo + DAY), expectedSegments(day))
        })
      )
    }).pipe(Effect.provide(Vonage.layer)))

  it.scopedLive("a server that keeps closing connections is Transient after the retries", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      sim.faults.dropConnections(100)
      const error = yield* Effect.flip(
        Stream.runDrain(
          connector.pull!(decode(sim, { maxRetries: 2 }), {
            from: DateTime.unsafeMake(dayFrom),
            to: DateTime.unsafeMake(dayTo)
          })
        ).pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.strictEqual(error._tag, "Transient")
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("malformed rows are InvalidData naming the record; nothing of the window is applied", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      yield* withEngine(
        connector,
        Effect.gen(function*() {
          const integration = yield* createIntegration("vonage", sim.config(), tz)
          const bad = day.contacts[5]!
          sim.faults.malformed.add(bad.id)
          const error = yield* Effect.flip(importWindow(integration, dayFrom, dayTo))
          assert.strictEqual(error._tag, "InvalidData")
          if (error._tag === "InvalidData") {
            assert.match(error.record, /GET \/stats\/queue-times\?.* item \d+$/)
            assert.match(error.reason, /start/)
          }
          assert.strictEqual((yield* engineIntervals(integration, dayFrom, dayTo, 15, tz)).length, 0)
          sim.faults.malformed.clear()
          const state = day.states.find((s) => s.activity === "Lunch")!
          sim.faults.malformed.add(`${state.agentId}|${new Date(state.start).toISOString()}`)
          const stateError = yield* Effect.flip(importWindow(integration, dayFrom, dayTo))
          assert.strictEqual(stateError._tag, "InvalidData")
          if (stateError._tag === "InvalidData") assert.match(stateError.reason, /duration/)
        })
      )
    }).pipe(Effect.provide(Vonage.layer)))
})

describe("Vonage connector contract", () => {
  it("decodes its config: defaults, region, redacted secret; refuses a bad one", () => {
    const c = Schema.decodeUnknownSync(Vonage.Config)({ clientId: "id", clientSecret: "secret" })
    assert.strictEqual(c.region, "emea")
    assert.strictEqual(c.pageSize, 1000)
    assert.deepStrictEqual(c.skipStates, [])
    assert.strictEqual(c.stateLookbackHours, 168)
    assert.strictEqual(c.maxContactSpanHours, 4)
    assert.strictEqual(c.shortAbandonSeconds, 5)
    assert.strictEqual(c.queueType, "ACD")
    assert.isTrue(Redacted.isRedacted(c.clientSecret))
    assert.notInclude(String(c.clientSecret), "secret")
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Vonage.Config)({ clientId: "id", clientSecret: "s", region: "mars" })))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Vonage.Config)({ clientId: "id" })))
  })

  it.effect("config errors name the field and say what is allowed, at config time", () =>
    Effect.gen(function*() {
      const context = yield* Effect.context<HttpClient.HttpClient | Vonage.Sessions>()
      const registered = ConnectorRegistry.register(Vonage.make(), context)
      const good = { clientId: "id", clientSecret: "secret" }
      const refused = (overrides: Record<string, unknown>) => {
        const result = registered.configure({ ...good, ...overrides })
        if (Either.isRight(result)) return assert.fail(`accepted ${JSON.stringify(overrides)}`)
        assert.strictEqual(result.left.connector, "vonage")
        return { field: result.left.field, reason: result.left.reason }
      }
      assert.isTrue(Either.isRight(registered.configure({ ...good, apiBaseUrl: "https://emea.api.newvoicemedia.com" })))
      // URLs: http(s) with a host
      for (const [field, value] of [
        ["apiBaseUrl", "ftp://emea.api.newvoicemedia.com"],
        ["apiBaseUrl", "emea.api.newvoicemedia.com"],
        ["authBaseUrl", "https://"],
        ["authBaseUrl", "file:///etc/passwd"]
      ] as const) {
        const issue = refused({ [field]: value })
        assert.strictEqual(issue.field, field)
        assert.match(issue.reason, /must be an http\(s\) URL with a host/)
      }
      // enums list the allowed values
      const region = refused({ region: "mars" })
      assert.strictEqual(region.field, "region")
      assert.match(region.reason, /must be one of "emea", "nam", "apac" \(got "mars"\)/)
      const queueType = refused({ queueType: "acd" })
      assert.strictEqual(queueType.field, "queueType")
      assert.match(queueType.reason, /"ACD", "Virtual", "All".*did you mean "ACD"\?/)
      const kinds = refused({ import: ["contact"] })
      assert.strictEqual(kinds.field, "import.0")
      assert.match(kinds.reason, /"contacts", "agentStatuses".*did you mean "contacts"\?/)
      const channel = refused({ mediumChannels: { Phone: "call" } })
      assert.strictEqual(channel.field, "mediumChannels.Phone")
      assert.match(channel.reason, /"calls"/)
      assert.strictEqual(refused({ activity: "states" }).field, "activity")
      // numbers within their ranges
      for (const [field, value] of [
        ["pageSize", 0],
        ["pageSize", 5001],
        ["maxContactSpanHours", -1],
        ["maxContactSpanHours", 49],
        ["stateLookbackHours", -1],
        ["shortAbandonSeconds", 601],
        ["serviceLevelSeconds", -5],
        ["pollSeconds", 0],
        ["concurrency", 17]
      ] as const) {
        const issue = refused({ [field]: value })
        assert.strictEqual(issue.field, field, `${field} = ${value}`)
        assert.match(issue.reason, /between|greater|less/, `${field} = ${value}: ${issue.reason}`)
      }
      // unknown keys are refused with the closest known one
      const typo = refused({ skipState: ["LoggedOut"] })
      assert.strictEqual(typo.field, "skipState")
      assert.match(typo.reason, /did you mean "skipStates"\?/)
    }).pipe(Effect.provide(Vonage.layer), Effect.provide(FetchHttpClient.layer)))

  it("splits windows longer than 31 days", () => {
    const parts = Vonage.splitWindow(0, 40 * DAY)
    assert.deepStrictEqual(parts, [{ from: 0, to: 31 * DAY }, { from: 31 * DAY, to: 40 * DAY }])
  })

  it.scoped("a 40-day window is read in two requests per endpoint; two reads give the same result", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      const config = decode(sim)
      const window = { from: DateTime.unsafeMake(dayTo - 40 * DAY), to: DateTime.unsafeMake(dayTo) }
      const read = Stream.runCollect(connector.pull!(config, window)).pipe(Effect.provide(FetchHttpClient.layer))
      const a = yield* read
      const b = yield* read
      assert.deepStrictEqual(a, b)
      assert.isTrue(sim.requests.every((r) => r.status === 200))
      assert.isTrue(
        sim.requests.filter((r) => r.path === "/stats/interactions").every((r) =>
          Date.parse(r.query["end"]!) - Date.parse(r.query["start"]!) <= 31 * DAY
        )
      )
    }).pipe(Effect.provide(Vonage.layer)))

  it.scoped("resuming from any intermediate checkpoint gives the same data; a future window yields nothing", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      const config = decode(sim)
      const collect = (f: number, t: number) =>
        Stream.runCollect(connector.pull!(config, { from: DateTime.unsafeMake(f), to: DateTime.unsafeMake(t) })).pipe(
          Effect.map((c) => Chunk.toReadonlyArray(c).flatMap((b) => b.contacts)),
          Effect.provide(FetchHttpClient.layer)
        )
      const whole = yield* collect(dayFrom, dayTo)
      for (const cut of [3, 11, 17].map((h) => dayFrom + h * HOUR)) {
        const parts = [...(yield* collect(dayFrom, cut)), ...(yield* collect(cut, dayTo))]
        assert.deepStrictEqual(parts, whole)
      }
      assert.deepStrictEqual(yield* collect(dayTo + 2 * DAY, dayTo + 3 * DAY), [])
    }).pipe(Effect.provide(Vonage.layer)))

  it.effect("the token is cached and refreshed 5 minutes before its 2-hour expiry", () =>
    Effect.gen(function*() {
      const { connector, sim } = yield* setup(day)
      const config = decode(sim, { import: ["agentStatuses"] })
      const read = Stream.runDrain(
        connector.pull!(config, { from: DateTime.unsafeMake(dayFrom), to: DateTime.unsafeMake(dayFrom + HOUR) })
      ).pipe(Effect.provide(FetchHttpClient.layer))
      yield* read
      yield* TestClock.adjust("60 minutes")
      yield* read
      assert.strictEqual((yield* connector.stats(config)).tokenRequests, 1)
      yield* TestClock.adjust("56 minutes")
      yield* read
      assert.strictEqual((yield* connector.stats(config)).tokenRequests, 2)
      const tokenCalls = sim.requests.filter((r) => r.path === "/Auth/connect/token")
      assert.strictEqual(tokenCalls.length, 2)
    }).pipe(Effect.provide(Vonage.layer), Effect.scoped))
})
