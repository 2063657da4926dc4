/**
 * The suites every HTTP connector with a simulator runs, parametrised by the connector and its
 * simulator: the testkit's conformance suite with the config's host routed to a fresh simulator
 * per case, and the whole path through core's Scheduler and the HTTP API.
 */
import { type Connector, ConnectorRegistry } from "@acd-bridge/core"
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
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
  serverUrl
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
export interface ConformanceOptions<Sim extends Simulator, C, I> {
  readonly connector: Connector.Connector<C, I, HttpClient.HttpClient>
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
export const conformanceSuite = <Sim extends Simulator, C, I>(
  name: string,
  options: ConformanceOptions<Sim, C, I>
): void => {
  const from = Date.parse("2026-03-08T08:00:00Z")
  const to = Date.parse("2026-03-09T07:00:00Z")
  const now = to + DAY
  const scenario = Scenario.generate({ seed: 31, from, to, timezone: tz, queues: [options.queue], agents: 4 })
  const { layer, sim } = routedSimulator(options.host, options.simulator(scenario, { now }))
  ConnectorSuite.suite(name, {
    connector: options.connector,
    config: options.config,
    badCredentialsConfig: options.badCredentialsConfig,
    layer,
    windows: [{ from, to }],
    emptyWindow: { from: from - 3 * DAY, to: from - 2 * DAY },
    dstWindow: { from, to },
    now,
    rateLimit: Effect.sync(() => options.rateLimit(sim())),
    malformed: Effect.sync(() => options.malformed(sim(), scenario)),
    transient: Effect.sync(() => options.transient(sim()))
  })
}

/** What `scheduledSuite` needs of a connector and its simulator. */
export interface ScheduledOptions<Sim extends Simulator, C, I> {
  readonly connector: Connector.Connector<C, I, HttpClient.HttpClient>
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
export const scheduledSuite = <Sim extends Simulator, C, I>(
  name: string,
  options: ScheduledOptions<Sim, C, I>
): void => {
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
              serverLayer(ConnectorRegistry.layer(options.connector)).pipe(Layer.provideMerge(FetchHttpClient.layer))
            )
          )
        }),
      120_000
    )
  })
}
