/**
 * The suites every connector with a simulator runs, parametrised by the connector and its
 * simulator: the testkit's conformance suite with the config's host routed to a fresh simulator
 * per case, the whole path through core's Scheduler and the HTTP API (`scheduledSuite`), and
 * that path at production cadence over a DST week, with an outage (`cadenceSuite`).
 */
import { type Connector, ConnectorRegistry, type Domain, type Engine, Scheduler, Storage } from "@acd-bridge/core"
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import {
  adminToken,
  assertSameIntervals,
  assertSameSegments,
  createIntegration,
  engineSegments,
  httpIntervals,
  runScheduler,
  serverLayer,
  serverUrl,
  tenant
} from "./Harness.js"

const DAY = 86_400_000
const tz = "America/Los_Angeles"

/** A simulator of a source reached over HTTP, as the connectors' simulators are. */
export interface Simulator {
  readonly url: string
}

/**
 * An `HttpClient` that sends every request for `host` to a simulator started with `make` (fresh
 * for each build of the layer), and `sim()`, the simulator of the latest build.
 */
export const routedSimulator = <Sim extends Simulator>(
  host: string,
  make: Effect.Effect<Sim, never, Scope.Scope>
): { readonly layer: Layer.Layer<HttpClient.HttpClient>; readonly sim: () => Sim } => {
  let current: Sim | undefined
  const sim = () => {
    if (current === undefined) throw new Error("no simulator")
    return current
  }
  const layer = Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const s = yield* make
      current = s
      const client = yield* HttpClient.HttpClient
      return HttpClient.mapRequest(client, HttpClientRequest.updateUrl((url) => url.replace(host, s.url)))
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
  return { layer, sim }
}

/** What `conformanceSuite` needs of a connector and its simulator. */
export interface ConformanceOptions<Sim extends Simulator, C, I, S = never> {
  readonly connector: Connector.Connector<C, I, HttpClient.HttpClient | S>
  /**
   * what the connector needs besides an `HttpClient` (its sessions, e.g. `Five9.layer`), built
   * afresh for each case
   */
  readonly services?: Layer.Layer<S> | undefined
  /** starts the simulator of a scenario with its clock at `now` */
  readonly simulator: (
    scenario: Scenario.Scenario,
    options: { readonly now: number }
  ) => Effect.Effect<Sim, never, Scope.Scope>
  /** the host the configs name; requests to it go to the case's simulator */
  readonly host: string
  /** the scenario's one queue */
  readonly queue: Scenario.QueueSpec
  /** a config (encoded) the simulator accepts, with retries off */
  readonly config: unknown
  /** a config whose credentials the simulator rejects */
  readonly badCredentialsConfig: unknown
  /** simulator switches: the next request is rate limited / unreadable / fails transiently */
  readonly rateLimit: (sim: Sim) => void
  readonly malformed: (sim: Sim, scenario: Scenario.Scenario) => void
  readonly transient: (sim: Sim) => void
}

/**
 * The testkit's connector conformance suite over one Los Angeles day (the spring-forward night)
 * of a one-queue, four-agent scenario, the simulator's clock a day after it.
 */
export function conformanceSuite<Sim extends Simulator, C, I>(
  name: string,
  options: ConformanceOptions<Sim, C, I>
): void
export function conformanceSuite<Sim extends Simulator, C, I, S>(
  name: string,
  options: ConformanceOptions<Sim, C, I, S> & { readonly services: Layer.Layer<S> }
): void
export function conformanceSuite<Sim extends Simulator, C, I, S>(
  name: string,
  given: ConformanceOptions<Sim, C, I, S> | ConformanceOptions<Sim, C, I>
): void {
  // the first overload is the second with `S` never
  const options = given as ConformanceOptions<Sim, C, I, S>
  const from = Date.parse("2026-03-08T08:00:00Z")
  const to = Date.parse("2026-03-09T07:00:00Z")
  const now = to + DAY
  const scenario = Scenario.generate({ seed: 31, from, to, timezone: tz, queues: [options.queue], agents: 4 })
  const { layer, sim } = routedSimulator(options.host, options.simulator(scenario, { now }))
  ConnectorSuite.suite<C, I, HttpClient.HttpClient | S, never, HttpClient.HttpClient | S>(name, {
    connector: options.connector,
    config: options.config,
    badCredentialsConfig: options.badCredentialsConfig,
    layer: Layer.merge(layer, servicesOf(options.services)),
    windows: [{ from, to }],
    emptyWindow: { from: from - 3 * DAY, to: from - 2 * DAY },
    dstWindow: { from, to },
    now,
    rateLimit: Effect.sync(() => options.rateLimit(sim())),
    malformed: Effect.sync(() => options.malformed(sim(), scenario)),
    transient: Effect.sync(() => options.transient(sim()))
  })
}

/** What the connector needs besides an `HttpClient`, or nothing (the first overloads: `S` is never). */
const servicesOf = <S>(services: Layer.Layer<S> | undefined): Layer.Layer<S> =>
  services ?? (Layer.empty as Layer.Layer<unknown> as Layer.Layer<S>)

/** What `scheduledSuite` needs of a connector and its simulator. */
export interface ScheduledOptions<Sim extends Simulator, C, I, S = never> {
  readonly connector: Connector.Connector<C, I, HttpClient.HttpClient | S>
  /** what the connector needs besides an `HttpClient` (its sessions, e.g. `Five9.layer`) */
  readonly services?: Layer.Layer<S> | undefined
  readonly simulator: (scenario: Scenario.Scenario) => Effect.Effect<Sim, never, Scope.Scope>
  /** the integration's config (encoded) for the running simulator */
  readonly config: (sim: Sim) => unknown
  readonly seed: number
  readonly queues: ReadonlyArray<Scenario.QueueSpec>
  /** an expected interval as the connector reports it (default: as it is) */
  readonly expectedInterval?: ((row: Scenario.ExpectedInterval) => Scenario.ExpectedInterval) | undefined
  /** how the connector reports the scenario's agent states */
  readonly segments: Scenario.SegmentOptions
}

/**
 * The whole path as a host runs it: the simulator, the connector registered in the engine over
 * SQLite, core's Scheduler importing three days of history on first connect (Saturday to Monday
 * over the spring-forward night, in Los Angeles), and the interval figures read back through
 * `GET /v1/intervals` (15 and 60 minutes) and the agent segments from the engine.
 */
export function scheduledSuite<Sim extends Simulator, C, I>(
  name: string,
  options: ScheduledOptions<Sim, C, I>
): void
export function scheduledSuite<Sim extends Simulator, C, I, S>(
  name: string,
  options: ScheduledOptions<Sim, C, I, S> & { readonly services: Layer.Layer<S> }
): void
export function scheduledSuite<Sim extends Simulator, C, I, S>(
  name: string,
  given: ScheduledOptions<Sim, C, I, S> | ScheduledOptions<Sim, C, I>
): void {
  // the first overload is the second with `S` never
  const options = given as ScheduledOptions<Sim, C, I, S>
  const from = Date.parse("2026-03-07T08:00:00Z")
  const to = Date.parse("2026-03-09T07:00:00Z")
  const scenario = Scenario.generate({ seed: options.seed, from, to, timezone: tz, queues: options.queues, agents: 6 })
  const expectedInterval = options.expectedInterval ?? ((row: Scenario.ExpectedInterval) => row)
  describe(`${name} through the scheduler and the HTTP API`, () => {
    it.scoped(
      "first connect imports the history; GET /v1/intervals equals the scenario for every queue and interval",
      () =>
        Effect.gen(function*() {
          const sim = yield* options.simulator(scenario)
          yield* Effect.gen(function*() {
            yield* TestClock.setTime(to + 3 * 3_600_000)
            const integration = yield* createIntegration(options.connector.key, options.config(sim), tz, 3)
            yield* runScheduler
            const url = yield* serverUrl
            for (const length of [15, 60] as const) {
              const rows = yield* httpIntervals(url, adminToken, integration.id, from, to, length, tz)
              assertSameIntervals(rows, Scenario.expectedIntervals(scenario, { length }).map(expectedInterval))
            }
            assertSameSegments(
              yield* engineSegments(integration, from - DAY, to + DAY),
              Scenario.expectedSegments(scenario, options.segments)
            )
          }).pipe(
            Effect.provide(
              serverLayer(ConnectorRegistry.layer(options.connector).pipe(Layer.provide(servicesOf(options.services))))
                .pipe(Layer.provideMerge(FetchHttpClient.layer))
            )
          )
        }),
      120_000
    )
  })
}

// ---------------------------------------------------------------------------
// production cadence
// ---------------------------------------------------------------------------

/**
 * A simulator whose present the cadence suite moves. `setNow(now)` makes the source show what
 * it shows at `now`: render `Scenario.asKnownAt(scenario, now)` (contacts written by then, and
 * running ones as far as they got if the vendor shows those; states open while they run;
 * corrections once written). The suite calls it with instants that never go back, each time
 * before it moves the `TestClock` there; the scheduler's runs in between (at each interval
 * boundary plus the settle delay) then see the source as a run that starts late would. Return
 * an `Effect` when moving the source takes work (an ETL tick), or nothing. A simulator that
 * reads the `Clock` itself (`FakeSource`) can ignore it.
 */
export interface CadenceSimulator {
  readonly setNow: (now: number) => Effect.Effect<unknown, unknown> | void
}

/** What `cadenceSuite` needs of a connector and its simulator. */
export interface CadenceOptions<Sim extends CadenceSimulator, C, I, R> {
  readonly connector: Connector.Connector<C, I, R>
  /** starts a simulator of the scenario with its present at `now` (stopped when the case ends) */
  readonly simulator: (
    scenario: Scenario.Scenario,
    options: { readonly now: number }
  ) => Effect.Effect<Sim, unknown, Scope.Scope>
  /** provides the connector's `R` for a running simulator (not needed when `R` is `HttpClient`: fetch) */
  readonly layer?: ((sim: Sim) => Layer.Layer<R, unknown>) | undefined
  /** the integration's config (encoded) for the running simulator */
  readonly config: (sim: Sim) => unknown
  /** seeds the scenario and the instants the clock moves to */
  readonly seed: number
  /** the scenario's queues (default: two call queues, which transfer and overflow to each other, and a chat queue) */
  readonly queues?: ReadonlyArray<Scenario.QueueSpec> | undefined
  /** agents (default 5) */
  readonly agents?: number | undefined
  /** scenario options over the suite's (`cadenceScenarioOptions`) */
  readonly scenario?: Partial<Omit<Scenario.Options, "seed" | "from" | "to" | "timezone" | "queues" | "agents">> | undefined
  /** the instant the connector counts visits at (default `"queueEntry"`; `"contactStart"` for a source that has only the contact's start) */
  readonly instant?: Scenario.Instant | undefined
  /** an expected interval as the connector reports it (default: as it is) */
  readonly expectedInterval?: ((row: Scenario.ExpectedInterval) => Scenario.ExpectedInterval) | undefined
  /** how the connector reports the scenario's agent states; false for a contacts-only integration (no segments expected) */
  readonly segments: Scenario.SegmentOptions | false
  /** the connector imports contacts (default true); false for a statuses-only integration (no intervals expected) */
  readonly contacts?: boolean | undefined
  /** clock moves of 15 to 50 minutes after the history import (default 16, at least 12) */
  readonly runs?: number | undefined
  /** declare the outage case (default true) */
  readonly outage?: boolean | undefined
  /** per case (default 120 s) */
  readonly timeoutMs?: number | undefined
}

/**
 * The cadence suite's calendar: a week in Los Angeles, Monday 2026-03-02 to Monday 2026-03-09,
 * whose weekend has the spring-forward night (Sunday the 8th, 02:00 PST → 03:00 PDT). The
 * weekend is at its end, so the incremental runs cross it, and the DST change, while agents
 * who are off for the weekend have been logged out since Friday.
 */
export const cadenceWeek = {
  from: Date.parse("2026-03-02T08:00:00Z"),
  to: Date.parse("2026-03-09T07:00:00Z"),
  timezone: tz,
  /** 02:00 PST, which becomes 03:00 PDT */
  dstChange: Date.parse("2026-03-08T10:00:00Z"),
  /** the cadence case connects on Saturday night (local) and runs over the change */
  firstConnect: Date.parse("2026-03-08T05:00:00Z"),
  /** the outage case connects on Saturday morning (local) and stops after its runs, Saturday afternoon */
  outageFirstConnect: Date.parse("2026-03-07T17:00:00Z"),
  /** how long the engine is stopped: longer than the 24-hour look-back (it restarts on Monday, after the change) */
  outageMs: 30 * 3_600_000
} as const

/**
 * The scenario options of the cadence suite: every v2 feature (`Scenario.allFeatures`), with
 * corrections up to 3 hours late, so the source has written everything a few hours after the
 * week ends (the outage case adds corrections 24 to 28 hours late).
 */
export const cadenceScenarioOptions = {
  ...Scenario.allFeatures,
  corrections: { share: 0.1, minDelaySeconds: 60, maxDelaySeconds: 3 * 3600 }
} as const satisfies Partial<Scenario.Options>

const MINUTE = 60_000
const HOUR = 3_600_000

const defaultCadenceQueues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 9 },
  { identifier: "q-care", name: "Care", channel: "calls", dailyPeak: 6, talkMeanSeconds: 300 },
  { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 3 }
]

/**
 * How often each counting feature occurs in a scenario's data: the cadence suite insists on
 * every one (a small scenario could lose one to chance).
 */
export const featureCounts = (scenario: Scenario.Scenario): Record<string, number> => {
  const visits = scenario.contacts.flatMap((c) => c.visits)
  const legs = visits.flatMap((v) => v.legs)
  const quarter = (t: number) => Math.floor(t / (15 * MINUTE))
  return {
    "IVR time across a quarter-hour": scenario.contacts.filter((c) => quarter(c.start) !== quarter(c.arrival)).length,
    "transfers to another queue": scenario.contacts.filter((c) =>
      c.visits.slice(0, -1).some((v) => v.outcome === "answered")
    ).length,
    "overflows after a breakout": scenario.contacts.filter((c) =>
      c.visits.slice(0, -1).some((v) => v.outcome === "breakout")
    ).length,
    "breakouts": visits.filter((v) => v.outcome === "breakout").length,
    "short abandons": visits.filter((v) => v.shortAbandoned).length,
    "consults": legs.filter((l) => l.kind === "consult").length,
    "agent-to-agent transfers": visits.filter((v) => v.legs.filter((l) => l.kind === "agent").length > 1).length,
    "talks of an hour or more": legs.filter((l) => l.talkMs >= HOUR).length,
    "late corrections": scenario.corrections.length,
    "contacts written after they end": scenario.contacts.filter((c) => c.writtenAt > c.completion).length,
    "LoggedOut states of 40 hours and more (open ones included)": scenario.loggedOut.filter((s) =>
      s.end - s.start >= 40 * HOUR
    ).length
  }
}

/** The last instant the source writes something: a contact, a correction, the end of a state. */
const lastWrite = (scenario: Scenario.Scenario): number =>
  Math.max(
    ...scenario.contacts.map((c) => c.writtenAt),
    ...scenario.corrections.map((k) => k.at),
    ...Scenario.timeline(scenario).map((s) => s.end).filter(Number.isFinite)
  )

/** Where the clock goes: moves of 15 to 50 minutes (whole seconds) from `start`, at least `count` and at least past `until`. */
const moves = (start: number, count: number, until: number, seed: number): Array<number> => {
  const random = Scenario.rng(seed)
  const out: Array<number> = []
  let at = start
  while (out.length < count || at <= until) out.push(at += random.int(15 * 60, 50 * 60) * 1000)
  return out
}

type CadenceServices =
  | Engine.Services
  | Storage.Storage
  | ConnectorRegistry.ConnectorRegistry
  | HttpServer.HttpServer
  | Scope.Scope

/**
 * Production cadence, as a host runs a pull connector, with the source's truth as the oracle.
 * The scenario (`cadenceWeek`, `cadenceScenarioOptions`) is a small DST week with every counting
 * feature in its data (`featureCounts`: IVR time, transfers between queues, breakouts and
 * overflows, short abandons, consults, talks of an hour or more whose legs land in later
 * windows, LoggedOut states of 40 hours and more, write delays, late corrections); the engine
 * runs on SQLite behind the HTTP API with core's Scheduler (15-minute schedule in Los Angeles,
 * default 24-hour look-back); the simulator's present follows the `TestClock` (`CadenceSimulator`).
 *
 * - **cadence**: first connect on Saturday night imports the week's history; then the clock
 *   moves at least `runs` times (at least 12), to seeded, non-aligned instants 15 to 50 minutes
 *   apart, over the spring-forward change, the scheduler running every interval on the way,
 *   while weekend agents stay logged out; then on, an hour or two at a time, until the source
 *   has written everything, and one more run. `GET /v1/intervals` (15 and 60 minutes) must
 *   equal `Scenario.expectedIntervals` and the engine's agent segments
 *   `Scenario.expectedSegments`, exactly.
 * - **outage**: first connect on Saturday morning, 12 moves; then the engine stops for 30 hours,
 *   longer than the look-back, while the source writes what it writes: contacts, states that
 *   close, corrections of contacts imported before the stop (some 24 to 28 hours late). After
 *   the restart has caught up, the integration must hold exactly what a clean import holds (a
 *   second integration of the same source, created then); once the source has written
 *   everything and one more run has run, the ground truth.
 */
export function cadenceSuite<Sim extends CadenceSimulator, C, I>(
  name: string,
  options: CadenceOptions<Sim, C, I, HttpClient.HttpClient>
): void
export function cadenceSuite<Sim extends CadenceSimulator, C, I, R>(
  name: string,
  options: CadenceOptions<Sim, C, I, R> & { readonly layer: (sim: Sim) => Layer.Layer<R, unknown> }
): void
export function cadenceSuite<Sim extends CadenceSimulator, C, I, R>(
  name: string,
  options: CadenceOptions<Sim, C, I, R>
): void {
  const runs = Math.max(12, options.runs ?? 16)
  const expectedInterval = options.expectedInterval ?? ((row: Scenario.ExpectedInterval) => row)
  const timeout = options.timeoutMs ?? 120_000
  const layerOf = (sim: Sim): Layer.Layer<R, unknown> =>
    // the first overload: R is HttpClient
    options.layer === undefined ? (FetchHttpClient.layer as Layer.Layer<unknown> as Layer.Layer<R>) : options.layer(sim)
  const scenarioWith = (extra: Partial<Scenario.Options> = {}) =>
    Scenario.generate({
      ...cadenceScenarioOptions,
      ...options.scenario,
      ...extra,
      seed: options.seed,
      from: cadenceWeek.from,
      to: cadenceWeek.to,
      timezone: tz,
      queues: options.queues ?? defaultCadenceQueues,
      agents: options.agents ?? 5
    })

  /** The engine (SQLite, HTTP API) with the connector over a fresh simulator, the clock at `start`. */
  const withEngine = <A>(
    scenario: Scenario.Scenario,
    start: number,
    body: (sim: Sim, clock: CadenceClock) => Effect.Effect<A, unknown, CadenceServices>
  ) =>
    Effect.gen(function*() {
      const sim = yield* options.simulator(scenario, { now: start })
      yield* asEffect(sim.setNow(start))
      yield* TestClock.setTime(start)
      const registry = ConnectorRegistry.layer(options.connector).pipe(Layer.provide(Layer.orDie(layerOf(sim))))
      return yield* body(sim, makeClock(sim, start)).pipe(Effect.provide(serverLayer(registry)))
    })

  const compareWithTruth = (scenario: Scenario.Scenario, integration: Domain.Integration, now: number) =>
    Effect.gen(function*() {
      const url = yield* serverUrl
      const to = cadenceWeek.to + scenario.maxContactSpanMs
      for (const length of [15, 60] as const) {
        assertSameIntervals(
          yield* httpIntervals(url, adminToken, integration.id, cadenceWeek.from, to, length, tz),
          options.contacts === false
            ? []
            : Scenario.expectedIntervals(scenario, { length, instant: options.instant }).map(expectedInterval)
        )
      }
      assertSameSegments(
        yield* engineSegments(integration, cadenceWeek.from - DAY, now + DAY),
        options.segments === false ? [] : Scenario.expectedSegments(scenario, options.segments)
      )
    })

  /** Moves the clock on until the source has written everything, then one more run. */
  const untilAllWritten = (
    scenario: Scenario.Scenario,
    clock: CadenceClock,
    scheduler: Scheduler.Scheduler,
    seed: number
  ) =>
    Effect.gen(function*() {
      const random = Scenario.rng(seed)
      const last = lastWrite(scenario)
      while (clock.now() < last) yield* clock.moveTo(clock.now() + random.int(3600, 2 * 3600) * 1000, scheduler)
      yield* clock.moveTo(clock.now() + 20 * MINUTE, scheduler)
    })

  describe(`${name}: production cadence over a DST week, every counting feature in the data`, () => {
    const scenario = scenarioWith()
    const start = cadenceWeek.firstConnect + Scenario.rng(options.seed).int(0, 3599) * 1000

    it("the scenario has every feature in its data", () => {
      for (const [feature, n] of Object.entries(featureCounts(scenario))) assert.isAbove(n, 0, feature)
    })

    it.scoped(
      `history on first connect, ${runs} moves to arbitrary instants, on until all is written: GET /v1/intervals and the segments equal the ground truth`,
      () =>
        withEngine(scenario, start, (sim, clock) =>
          Effect.gen(function*() {
            const integration = yield* createIntegration(options.connector.key, options.config(sim), tz, 7)
            const scheduler = yield* startScheduler
            yield* scheduler.awaitIdle
            const health = yield* Effect.orDie(scheduler.health(tenant, integration.id))
            assert.isTrue(health.history?.done, "the history import is done")
            for (const at of moves(start, runs, cadenceWeek.dstChange + HOUR, options.seed + 1)) {
              yield* clock.moveTo(at, scheduler)
            }
            yield* untilAllWritten(scenario, clock, scheduler, options.seed + 2)
            const done = yield* Effect.orDie(scheduler.health(tenant, integration.id))
            assert.isNull(done.failing)
            assert.isAtLeast(yield* incrementalRuns(integration), runs)
            yield* compareWithTruth(scenario, integration, clock.now())
          })),
      timeout
    )

    if (options.outage ?? true) {
      const first = cadenceWeek.outageFirstConnect + Scenario.rng(options.seed + 3).int(0, 3599) * 1000
      const before = moves(first, 12, first, options.seed + 4)
      const stop = before.at(-1)! + Scenario.rng(options.seed + 5).int(60, 600) * 1000
      const restart = stop + cadenceWeek.outageMs + Scenario.rng(options.seed + 6).int(0, 3599) * 1000
      const outage = scenarioWith({
        corrections: {
          ...cadenceScenarioOptions.corrections,
          ...options.scenario?.corrections,
          long: {
            share: 0.4,
            minDelaySeconds: 24 * 3600,
            maxDelaySeconds: 28 * 3600,
            contactsFrom: stop - 20 * HOUR,
            contactsTo: stop - 4 * HOUR
          }
        }
      })

      it("outage: the source writes while the engine is stopped: contacts, states that close, corrections of contacts imported before", () => {
        const during = (t: number) => t > stop && t < restart
        const corrected = outage.corrections.filter((k) => during(k.at))
        const byId = new Map(outage.contacts.map((c) => [c.id, c]))
        assert.isAbove(corrected.filter((k) => byId.get(k.contactId)!.writtenAt < stop).length, 2)
        assert.isAbove(corrected.filter((k) => k.at - byId.get(k.contactId)!.writtenAt > 24 * HOUR).length, 0)
        assert.isAbove(outage.contacts.filter((c) => during(c.writtenAt)).length, 10)
        assert.isAbove(Scenario.timeline(outage).filter((s) => s.start < stop && during(s.end)).length, 0)
      })

      it.scoped(
        "outage: stopped 30 h (longer than the look-back); after the restart the stores equal a clean import's, then the ground truth",
        () =>
          withEngine(outage, first, (sim, clock) =>
            Effect.gen(function*() {
              const integration = yield* createIntegration(options.connector.key, options.config(sim), tz, 7)
              const running = yield* Scope.make()
              const scheduler = yield* Scope.extend(startScheduler, running)
              yield* scheduler.awaitIdle
              for (const at of before) yield* clock.moveTo(at, scheduler)
              yield* clock.moveTo(stop, scheduler)
              // the engine stops; the source goes on writing
              yield* Scope.close(running, Exit.void)
              yield* clock.moveTo(restart, undefined)
              const restarted = yield* startScheduler
              yield* restarted.awaitIdle
              const clean = yield* createIntegration(options.connector.key, options.config(sim), tz, 8)
              yield* Effect.orDie(restarted.wake(tenant, clean.id))
              yield* restarted.awaitIdle
              assert.isTrue((yield* Effect.orDie(restarted.health(tenant, clean.id))).history?.done)
              yield* compareIntegrations(integration, clean, clock.now())
              yield* untilAllWritten(outage, clock, restarted, options.seed + 7)
              yield* compareWithTruth(outage, integration, clock.now())
            })),
        timeout
      )
    }
  })
}

interface CadenceClock {
  readonly now: () => number
  /**
   * moves the source, then the `TestClock`, to `at`; a running scheduler runs every interval
   * due on the way (at its boundary plus the settle delay) and is waited for
   */
  readonly moveTo: (at: number, scheduler: Scheduler.Scheduler | undefined) => Effect.Effect<void, unknown>
}

const asEffect = (result: Effect.Effect<unknown, unknown> | void): Effect.Effect<void, unknown> =>
  Effect.isEffect(result) ? Effect.asVoid(result) : Effect.void

const makeClock = (sim: CadenceSimulator, start: number): CadenceClock => {
  let now = start
  return {
    now: () => now,
    moveTo: (at, scheduler) =>
      Effect.gen(function*() {
        if (at < now) return yield* Effect.dieMessage(`the clock never goes back (${new Date(at).toISOString()})`)
        now = at
        yield* Effect.suspend(() => asEffect(sim.setNow(at)))
        yield* TestClock.setTime(at)
        if (scheduler !== undefined) yield* scheduler.awaitIdle
      })
  }
}

/**
 * The tenant's scheduler over every delivery mode, backoff without jitter; it stops with its
 * scope. Its integrations are found at start or woken (`wake`), so the discovery poll may be
 * rare: at the default 30 seconds every simulated day would cost 2,880 steps of the TestClock.
 */
const startScheduler = Effect.map(
  Layer.build(
    Scheduler.layer({
      tenants: [tenant],
      deliveryModes: ["cloud", "on-premise"],
      backoff: { jitter: false },
      pollInterval: "6 hours"
    })
  ),
  (context) => Context.get(context, Scheduler.Scheduler)
)

/** Successful incremental runs (the windows of one run share its start). */
const incrementalRuns = (integration: Domain.Integration) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const list = yield* Effect.orDie(storage.runs.list(integration.id, 100_000))
    return new Set(
      list.filter((r) => r.kind === "pull" && r.error === null).map((r) => DateTime.toEpochMillis(r.startedAt))
    ).size
  })

/** Two integrations hold the same intervals (15 and 60 minutes) and agent segments. */
const compareIntegrations = (a: Domain.Integration, b: Domain.Integration, now: number) =>
  Effect.gen(function*() {
    const url = yield* serverUrl
    const to = cadenceWeek.to + DAY
    for (const length of [15, 60] as const) {
      assertSameIntervals(
        yield* httpIntervals(url, adminToken, a.id, cadenceWeek.from, to, length, tz),
        yield* httpIntervals(url, adminToken, b.id, cadenceWeek.from, to, length, tz)
      )
    }
    assertSameSegments(
      yield* engineSegments(a, cadenceWeek.from - DAY, now + DAY),
      yield* engineSegments(b, cadenceWeek.from - DAY, now + DAY)
    )
  })
