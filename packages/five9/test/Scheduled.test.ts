/**
 * The whole path as a host runs it: the SOAP simulator, the connector registered in the engine
 * over SQLite, core's Scheduler importing the history on first connect, and the interval figures
 * read back through the HTTP API (`GET /v1/intervals`).
 */
import { ConnectorRegistry } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { Five9, Five9Simulator } from "../src/index.js"
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
} from "./harness.js"

const tz = "America/Los_Angeles"
const DAY = 86_400_000
const queues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 30 },
  { identifier: "SK Support", name: "Inbound Support", channel: "calls", dailyPeak: 12 }
]
// Saturday to Monday over the spring-forward night
const from = Date.parse("2026-03-07T08:00:00Z")
const to = Date.parse("2026-03-09T07:00:00Z")
const scenario = Scenario.generate({ seed: 23, from, to, timezone: tz, queues, agents: 6 })

describe("Five9 through the scheduler and the HTTP API", () => {
  it.scoped("first connect imports the history; GET /v1/intervals equals the scenario for every queue and interval", () =>
    Effect.gen(function*() {
      const sim = yield* Five9Simulator.make(scenario)
      const connector = Five9.make()
      yield* Effect.gen(function*() {
        yield* TestClock.setTime(to + 3 * 3_600_000)
        const integration = yield* createIntegration("five9", sim.config(), tz, 3)
        yield* runScheduler
        const url = yield* serverUrl
        for (const length of [15, 60] as const) {
          const rows = yield* httpIntervals(url, adminToken, integration.id, from, to, length, tz)
          assertSameIntervals(rows, Scenario.expectedIntervals(scenario, { length }).map((r) => ({ ...r, queueIdentifier: r.queueName })))
        }
        assertSameSegments(
          yield* engineSegments(integration, from - DAY, to + DAY),
          Scenario.expectedSegments(scenario, {
            activityOf: (s) => {
              const v = Five9Simulator.stateOf(s.activity)
              return Five9.activityIdentifier(v.state, v.reason)
            }
          })
        )
      }).pipe(
        Effect.provide(serverLayer(ConnectorRegistry.layer(connector)).pipe(Layer.provideMerge(FetchHttpClient.layer)))
      )
    }), 120_000)
})
