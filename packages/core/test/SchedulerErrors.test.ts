import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Connector from "../src/Connector.js"
import type { Integration } from "../src/Domain.js"
import { Integrations } from "../src/Integrations.js"
import { Storage } from "../src/Storage.js"
import {
  advance,
  cleanImport,
  createPull,
  engineLayer,
  HOUR,
  iso,
  makeSource,
  MIN,
  SEC,
  startScheduler,
  stored,
  tenant
} from "./schedulerFixtures.js"

/** Start instants and errors of the runs of a kind, oldest first. */
const runsOf = (integrationId: Integration["id"], kind = "pull") =>
  Effect.map(Effect.flatMap(Storage, (s) => s.runs.list(integrationId, 1000)), (runs) =>
    runs.filter((r) => r.kind === kind).map((r) => ({
      at: DateTime.toEpochMillis(r.startedAt),
      error: r.error,
      window: r.windowStart ? [DateTime.toEpochMillis(r.windowStart), DateTime.toEpochMillis(r.windowEnd!)] : null
    })).sort((a, b) => a.at - b.at || (b.window?.[0] ?? 0) - (a.window?.[0] ?? 0)))

const setup = Effect.gen(function*() {
  yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
  const integration = yield* createPull({ historyDepthDays: 1 })
  return integration
})

describe("Scheduler: errors and retries", () => {
  it.scoped("Transient errors back off exponentially up to the cap, every attempt recorded", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* setup
        const { scheduler } = yield* startScheduler({
          tenants: [tenant],
          backoff: { initial: "1 second", max: "4 seconds" }
        })
        yield* scheduler.awaitIdle
        yield* source.fail(new Connector.Transient({ reason: "503 from the source" }), 5)
        yield* advance(scheduler, 13 * MIN + 30 * SEC, SEC * 30)
        yield* advance(scheduler, 30 * SEC, SEC)
        const t = iso("2026-03-02T09:20:00Z")
        const runs = yield* runsOf(integration.id)
        // attempts after 0, 1, 2, 4 and 4 seconds (the cap); then the new interval and the look-back
        assert.deepStrictEqual(
          runs.map((r) => [r.at - t, r.error !== null]),
          [[0, true], [SEC, true], [3 * SEC, true], [7 * SEC, true], [11 * SEC, true], [15 * SEC, false], [
            15 * SEC,
            false
          ]]
        )
        assert.deepStrictEqual(runs.slice(0, 6).map((r) => r.window), Array.from({ length: 6 }, () => [
          iso("2026-03-02T09:00:00Z"),
          iso("2026-03-02T09:15:00Z")
        ]))
        assert.match(runs[0]!.error!, /Temporary failure reading the source: 503 from the source/)
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T09:15:00Z"))
        // the backoff starts again after a success
        yield* source.fail(new Connector.Transient({ reason: "again" }), 1)
        yield* advance(scheduler, 15 * MIN, SEC * 30)
        const later = (yield* runsOf(integration.id)).slice(7)
        assert.deepStrictEqual(later.map((r) => [r.at - t, r.error !== null]), [
          [15 * MIN, true],
          [15 * MIN + SEC, false],
          [15 * MIN + SEC, false]
        ])
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("RateLimited waits exactly retryAfter and tries the same window again", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* setup
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        yield* source.fail(new Connector.RateLimited({ retryAfterMs: 90 * SEC, reason: "429" }), 1)
        yield* advance(scheduler, 16 * MIN, 30 * SEC)
        const t = iso("2026-03-02T09:20:00Z")
        const runs = yield* runsOf(integration.id)
        assert.deepStrictEqual(runs.map((r) => [r.at - t, r.error !== null]), [[0, true], [90 * SEC, false], [
          90 * SEC,
          false
        ]])
        assert.deepStrictEqual(runs[0]!.window, runs[1]!.window)
        assert.match(runs[0]!.error!, /retry after 90 s \(429\)/)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("AuthFailed marks the integration failing and stops calling the source; fixing the config resumes", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 5 })
      return yield* Effect.gen(function*() {
        const integration = yield* setup
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* advance(scheduler, HOUR)
        // the credentials are rotated at the source
        yield* source.setKey("rotated-key")
        yield* advance(scheduler, 15 * MIN)
        const callsAtFailure = yield* source.calls
        const failed = Option.getOrThrow(yield* (yield* Storage).integrations.get(integration.id))
        assert.match(failed.failing ?? "", /The source rejected the credentials: unknown key/)
        assert.strictEqual(failed.status, "active")
        yield* advance(scheduler, 3 * HOUR)
        assert.strictEqual(yield* source.calls, callsAtFailure, "no retries while failing")
        const health = yield* scheduler.health(tenant, integration.id)
        assert.isTrue(health.warnings.some((w) => w.startsWith("failing: The source rejected the credentials")))
        assert.isFalse(health.stalled)
        assert.isAbove(health.lagMs!, 3 * HOUR)
        const errors = (yield* runsOf(integration.id)).filter((r) => r.error !== null)
        assert.strictEqual(errors.length, 1)

        // the operator fixes the config: the failing mark is cleared, the schedule resumes by itself
        const fixed = yield* (yield* Integrations).updateConfig(tenant, integration.id, { apiKey: "rotated-key" })
        assert.isNull(fixed.failing)
        yield* advance(scheduler, MIN, 30 * SEC)
        assert.isAbove(yield* source.calls, callsAtFailure)
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        assert.strictEqual(cursors.incremental, iso("2026-03-02T13:15:00Z"))
        const after = yield* scheduler.health(tenant, integration.id)
        assert.deepStrictEqual(after.warnings, [])
        assert.isTrue(after.gap?.done)
        const clean = yield* cleanImport(source, fixed, cursors["backfill.history.from"]!, cursors.incremental!)
        assert.deepStrictEqual(yield* stored(yield* Storage, integration), clean)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("a config the connector no longer accepts marks the integration failing without calling the source", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* setup
        const storage = yield* Storage
        yield* storage.integrations.setConfig(integration.id, { apiKey: 42 }, DateTime.toEpochMillis(integration.updatedAt))
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        const failing = Option.getOrThrow(yield* storage.integrations.get(integration.id)).failing
        assert.match(failing ?? "", /Invalid configuration for connector "test-pull" at apiKey: is not a valid secret/)
        assert.notInclude(failing ?? "", "42")
        assert.strictEqual(yield* source.calls, 0)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("data that can't be imported waits for the next run; health reports the stall, then recovers", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* setup
        const { scheduler } = yield* startScheduler({ tenants: [tenant], stallAfter: "1 hour" })
        yield* advance(scheduler, 30 * MIN)
        const watermark = (yield* scheduler.cursor(tenant, integration.id)).incremental
        yield* source.setCorrupt(true)
        yield* advance(scheduler, 2 * HOUR)
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, watermark)
        const failures = (yield* runsOf(integration.id)).filter((r) => r.error !== null)
        // one attempt per interval, not a hot loop
        assert.strictEqual(failures.length, 8)
        assert.match(failures[0]!.error!, /Record \d+, field endTime: endTime is before startTime/)
        const health = yield* scheduler.health(tenant, integration.id)
        assert.isTrue(health.stalled)
        assert.match(health.warnings[0]!, /^stalled: \d+ runs read \d+ records but nothing is imported after/)
        assert.isAbove(health.lagMs!, 2 * HOUR)

        yield* source.setCorrupt(false)
        yield* advance(scheduler, 15 * MIN)
        const recovered = yield* scheduler.health(tenant, integration.id)
        assert.isFalse(recovered.stalled)
        assert.deepStrictEqual(recovered.warnings, [])
        assert.isAtMost(recovered.lagMs!, 30 * MIN)
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})
