/**
 * The connector under core's Scheduler (TestClock): history import, then a run every hour (on
 * Berlin's local hours) with a 3-hour look-back (enough for this ETL lag and these calls),
 * while the simulator's ETL follows the clock with a 2-minute lag. Per-contact facts (the
 * additive path, where a double import would show). Two days around the spring-forward change;
 * at the end the engine holds exactly the scenario's intervals and agent segments.
 */
import { assert, describe, it } from "@effect/vitest"
import { AgentStatuses, Integrations, Intervals, Scheduler } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as path from "node:path"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { engineLayer, fromExpected, fromRow, tenant } from "./engine.js"
import { queues, tempDir } from "./fixtures.js"

const scenario = Scenario.generate({
  seed: 21,
  from: "2026-03-27T23:00:00Z",
  to: "2026-03-29T22:00:00Z",
  timezone: "Europe/Berlin",
  queues,
  agents: 8
})
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

describe("under core's Scheduler", () => {
  it.scoped("history, then every hour with the look-back: the engine ends up with the ground truth", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = path.join(dir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, { etlLagSeconds: 120 })
      yield* Effect.gen(function*() {
        // one day into the scenario: the history (one day deep) reaches back to its start
        let now = scenario.from + DAY + 7 * MIN
        yield* TestClock.setTime(now)
        yield* sim.tick(now)
        const { integration } = yield* (yield* Integrations.Integrations).create(tenant, {
          name: "Genesys",
          connector: GenesysEngage.key,
          deliveryMode: "on-premise",
          schedule: { type: "historical", everyMinutes: 60 },
          timezone: scenario.timezone,
          historyDepthDays: 1,
          config: { driver: "sqlite", connection: { filename }, contacts: { source: "facts" } }
        })
        const context = yield* Layer.build(
          Scheduler.layer({
            tenants: [tenant],
            deliveryModes: ["on-premise"],
            lookback: "3 hours",
            backoff: { jitter: false }
          })
        )
        const scheduler = Context.get(context, Scheduler.Scheduler)
        yield* scheduler.awaitIdle
        const end = scenario.to + DAY + 30 * MIN
        while (now < end) {
          now += HOUR
          yield* sim.tick(now)
          yield* TestClock.adjust(HOUR)
          yield* scheduler.awaitIdle
        }
        const health = yield* scheduler.health(tenant, integration.id)
        assert.isNull(health.failing)
        assert.isFalse(health.stalled)
        assert.isTrue(health.history?.done)

        const expected15 = Scenario.expectedIntervals(scenario, { length: 15 }).map((e) => fromExpected(sim, e))
        assert.isAbove(expected15.length, 100)
        assert.deepStrictEqual((yield* intervalsOf(integration.id, 15)).map(fromRow), expected15)
        const expected60 = Scenario.expectedIntervals(scenario, { length: 60 }).map((e) => fromExpected(sim, e))
        assert.deepStrictEqual((yield* intervalsOf(integration.id, 60)).map(fromRow), expected60)

        const segments = yield* segmentsOf(integration.id)
        assert.deepStrictEqual(
          segments,
          Scenario.expectedSegments(scenario, { activityOf: GenesysSimulator.activityOf, mergeAdjacent: true })
        )
      }).pipe(Effect.provide(engineLayer(dir)))
    }), 180_000)
})

const intervalsOf = (integrationId: Domain.IntegrationId, length: 15 | 60) =>
  Effect.flatMap(Intervals.Intervals, (s) =>
    s.query(tenant, {
      integrationId,
      from: DateTime.unsafeMake(scenario.from),
      to: DateTime.unsafeMake(scenario.to),
      length,
      timezone: scenario.timezone
    }))

const segmentsOf = (integrationId: Domain.IntegrationId) =>
  Effect.map(
    Effect.flatMap(AgentStatuses.AgentStatuses, (s) =>
      s.query(tenant, {
        integrationId,
        from: DateTime.unsafeMake(scenario.from),
        to: DateTime.unsafeMake(scenario.to)
      })),
    (views) =>
      views.map((v) => ({
        agentIdentifier: v.agentIdentifier,
        activityIdentifier: v.activityIdentifier,
        start: DateTime.toEpochMillis(v.start),
        end: v.end === null ? null : DateTime.toEpochMillis(v.end)
      })).sort((a, b) =>
        (a.agentIdentifier < b.agentIdentifier ? -1 : a.agentIdentifier > b.agentIdentifier ? 1 : 0) ||
        a.start - b.start
      )
  )
