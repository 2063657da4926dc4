import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Connector from "../src/Connector.js"
import type { Integration } from "../src/Domain.js"
import * as Retry from "../src/internal/scheduler/retry.js"
import { Integrations } from "../src/Integrations.js"
import { resolveOptions } from "../src/Scheduler.js"
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

/** Failed runs, oldest first: start instant and error. */
const failedRuns = (integrationId: Integration["id"]) =>
  Effect.map(Effect.flatMap(Storage, (s) => s.runs.list(integrationId, 10_000)), (runs) =>
    runs.filter((r) => r.error !== null).map((r) => ({
      at: DateTime.toEpochMillis(r.startedAt),
      kind: r.kind,
      error: r.error!
    })).sort((a, b) => a.at - b.at))

const failing = (integrationId: Integration["id"]) =>
  Effect.map(Effect.flatMap(Storage, (s) => s.integrations.get(integrationId)), (found) =>
    Option.getOrThrow(found).failing)

describe("retry schedule and failure streak (pure)", () => {
  it.effect("backoff doubles from initial to the cap, jitter spreads each delay over [d/2, d], a reset starts over", () =>
    Effect.gen(function*() {
      const plain = resolveOptions({ backoff: { initial: "1 second", max: "10 seconds", jitter: false } })
      const backoff = yield* Retry.makeBackoff(Retry.backoffSchedule(plain))
      const delays: Array<number> = []
      for (let i = 0; i < 6; i++) delays.push(yield* backoff.next)
      assert.deepStrictEqual(delays, [SEC, 2 * SEC, 4 * SEC, 8 * SEC, 10 * SEC, 10 * SEC])
      yield* backoff.reset
      assert.strictEqual(yield* backoff.next, SEC)

      const jittered = yield* Retry.makeBackoff(
        Retry.backoffSchedule({ ...plain, jitter: true })
      )
      const bases = [SEC, 2 * SEC, 4 * SEC, 8 * SEC, 10 * SEC, 10 * SEC, 10 * SEC, 10 * SEC]
      const spread: Array<number> = []
      for (const base of bases) {
        const delay = yield* jittered.next
        assert.isAtLeast(delay, base / 2)
        assert.isAtMost(delay, base)
        spread.push(delay)
      }
      assert.isAbove(new Set(spread.slice(4)).size, 1, "jitter varies the capped delays")
    }))

  it("a streak marks failing at the attempts bound or once its first attempt is old enough", () => {
    const options = resolveOptions({ failingAfter: { attempts: 3, duration: "10 minutes" } })
    const first = Retry.extend(undefined, 0)
    assert.deepStrictEqual(first, { attempts: 1, since: 0 })
    const third = Retry.extend(Retry.extend(first, SEC), 2 * SEC)
    assert.deepStrictEqual(third, { attempts: 3, since: 0 })
    assert.isFalse(Retry.exceeds(Retry.extend(first, SEC), SEC, options))
    assert.isTrue(Retry.exceeds(third, 2 * SEC, options))
    assert.isTrue(Retry.exceeds(first, 10 * MIN, options))
    assert.isFalse(Retry.exceeds(first, 10 * MIN - 1, options))
    assert.strictEqual(resolveOptions().failingAfterAttempts, 20)
    assert.strictEqual(resolveOptions().failingAfterMs, 30 * MIN)
    assert.strictEqual(resolveOptions({ failingAfter: { attempts: 0 } }).failingAfterAttempts, 1)
    assert.strictEqual(
      resolveOptions({ failingAfter: { attempts: Number.POSITIVE_INFINITY } }).failingAfterAttempts,
      Number.POSITIVE_INFINITY
    )
  })
})

describe("Scheduler: an integration that keeps failing", () => {
  it.scoped("a connector that dies is retried with capped backoff, every attempt recorded; after the bound it is marked failing, and the next success clears the mark", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 7 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 1 })
        const { scheduler } = yield* startScheduler({
          tenants: [tenant],
          backoff: { initial: "1 second", max: "1 minute" },
          failingAfter: { attempts: 5, duration: "1 hour" }
        })
        yield* scheduler.awaitIdle
        yield* source.setBroken(true)
        yield* advance(scheduler, 13 * MIN, 30 * SEC)
        yield* advance(scheduler, 14 * SEC, SEC)
        // four attempts (09:20:00, :01, :03, :07): not failing yet
        const t = iso("2026-03-02T09:20:00Z")
        assert.deepStrictEqual((yield* failedRuns(integration.id)).map((r) => r.at - t), [0, SEC, 3 * SEC, 7 * SEC])
        assert.isNull(yield* failing(integration.id))
        const early = yield* scheduler.health(tenant, integration.id)
        assert.strictEqual(early.retrying?.attempts, 4)
        assert.strictEqual(early.retrying?.since.toJSON(), "2026-03-02T09:20:00.000Z")
        assert.match(early.warnings.join("\n"), /retrying: 4 attempts failed in a row since 2026-03-02T09:20:00.000Z/)

        // the fifth reaches the bound
        yield* advance(scheduler, 2 * SEC, SEC)
        const runs = yield* failedRuns(integration.id)
        assert.strictEqual(runs.length, 5)
        assert.isTrue(runs.every((r) => r.kind === "pull"))
        assert.match(runs[0]!.error, /The connector failed unexpectedly: TypeError: Cannot read properties of undefined/)
        const reason = yield* failing(integration.id)
        assert.match(reason ?? "", /^the import failed 5 times in a row since 2026-03-02T09:20:00.000Z; retrying/)
        assert.match(reason ?? "", /last error: The connector failed unexpectedly: TypeError/)
        const health = yield* scheduler.health(tenant, integration.id)
        assert.strictEqual(health.failing, reason)
        assert.match(health.warnings[0]!, /^failing: the import failed 5 times in a row/)
        assert.isTrue(DateTime.greaterThan(health.retrying!.nextAttemptAt!, DateTime.unsafeMake(t + 15 * SEC)))

        // the retries go on, at most a minute apart
        const calls = yield* source.calls
        yield* advance(scheduler, 10 * MIN, 10 * SEC)
        assert.isAbove(yield* source.calls, calls + 5)
        const later = yield* failedRuns(integration.id)
        const gaps = later.slice(1).map((r, i) => r.at - later[i]!.at)
        assert.isTrue(gaps.every((g) => g <= MIN))
        assert.deepStrictEqual(gaps.slice(-3), [MIN, MIN, MIN])

        // the source is fixed: the next attempt succeeds and clears the mark
        yield* source.setBroken(false)
        yield* advance(scheduler, MIN, 10 * SEC)
        assert.isNull(yield* failing(integration.id))
        const recovered = yield* scheduler.health(tenant, integration.id)
        assert.isNull(recovered.retrying)
        assert.deepStrictEqual(recovered.warnings, [])
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        assert.deepStrictEqual(yield* stored(yield* Storage, integration), clean)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("Transient failures for longer than the time bound mark it failing, saying why; it recovers by itself", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 8 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 1 })
        const { scheduler } = yield* startScheduler({
          tenants: [tenant],
          backoff: { initial: "1 second", max: "2 minutes" },
          failingAfter: { attempts: 1000, duration: "10 minutes" }
        })
        yield* scheduler.awaitIdle
        yield* source.fail(new Connector.Transient({ reason: "503 Service Unavailable" }), 10_000)
        // attempts from 09:20:00 after 1, 2, 4 … 64 s, then every 2 minutes: 09:28:07 is the last
        // before ten minutes, 09:30:07 the first after
        yield* advance(scheduler, 23 * MIN, MIN)
        assert.isNull(yield* failing(integration.id))
        yield* advance(scheduler, 10 * SEC, SEC)
        const reason = yield* failing(integration.id)
        assert.match(reason ?? "", /^the import failed 12 times in a row since 2026-03-02T09:20:00.000Z/)
        assert.match(reason ?? "", /Temporary failure reading the source: 503 Service Unavailable/)
        const runs = yield* failedRuns(integration.id)
        assert.strictEqual(runs.length, 12)

        // the source is back: the attempt at 09:32:07 imports the interval held up since 09:20
        yield* source.clearFailures
        yield* advance(scheduler, 2 * MIN, 10 * SEC)
        assert.isNull(yield* failing(integration.id))
        const health = yield* scheduler.health(tenant, integration.id)
        assert.deepStrictEqual(health.warnings, [])
        assert.isNull(health.retrying)
        assert.strictEqual(health.watermark?.toJSON(), "2026-03-02T09:15:00.000Z")
        assert.strictEqual(health.lastRun?.error, null)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("a rate-limited history import shows as such in health, and rate limits never mark it failing", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 9, aggregates: true })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 2 })
        yield* source.fail(new Connector.RateLimited({ retryAfterMs: 10 * MIN, reason: "429 Too Many Requests" }), 1)
        const { scheduler } = yield* startScheduler({
          tenants: [tenant],
          failingAfter: { attempts: 3, duration: "1 minute" }
        })
        yield* scheduler.awaitIdle
        const limited = yield* scheduler.health(tenant, integration.id)
        assert.strictEqual(limited.rateLimitedUntil?.toJSON(), "2026-03-02T09:17:00.000Z")
        assert.include(limited.warnings, "rate limited by the source until 2026-03-02T09:17:00.000Z (history import)")
        assert.isNull(limited.failing)
        assert.isNull(limited.retrying)
        assert.match(limited.lastRun?.error ?? "", /rate limiting; retry after 600 s \(429 Too Many Requests\)/)
        assert.strictEqual(limited.history?.windowsDone, 0)

        yield* advance(scheduler, 10 * MIN, MIN)
        const imported = yield* scheduler.health(tenant, integration.id)
        assert.isNull(imported.rateLimitedUntil)
        assert.isTrue(imported.history?.done)
        assert.deepStrictEqual(imported.warnings, [])

        // rate limited on every read for twenty minutes: waits, never failing
        yield* source.fail(new Connector.RateLimited({ retryAfterMs: MIN }), 20)
        yield* advance(scheduler, 20 * MIN, MIN)
        assert.isNull(yield* failing(integration.id))
        assert.isAtLeast((yield* failedRuns(integration.id)).length, 15)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("after a restart, rejected credentials stay stopped while a failing mark from retries keeps retrying", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 10 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 1 })
        const options = {
          tenants: [tenant],
          backoff: { initial: "1 second", max: "1 minute" },
          failingAfter: { attempts: 3, duration: "1 hour" }
        } as const
        const first = yield* startScheduler(options)
        yield* first.scheduler.awaitIdle
        yield* source.setKey("rotated-key")
        yield* advance(first.scheduler, 15 * MIN, MIN)
        assert.match((yield* failing(integration.id)) ?? "", /The source rejected the credentials/)
        yield* first.stop
        const callsAtStop = yield* source.calls
        const second = yield* startScheduler(options)
        yield* advance(second.scheduler, HOUR, 5 * MIN)
        assert.strictEqual(yield* source.calls, callsAtStop, "no call with rejected credentials after a restart")

        // fixed; then the connector breaks: three attempts mark it failing
        yield* (yield* Integrations).updateConfig(tenant, integration.id, { apiKey: "rotated-key" })
        yield* second.scheduler.wake(tenant, integration.id)
        yield* second.scheduler.awaitIdle
        yield* source.setBroken(true)
        yield* advance(second.scheduler, 15 * MIN, 5 * SEC)
        assert.match((yield* failing(integration.id)) ?? "", /failed \d+ times in a row/)
        yield* second.stop
        const brokenCalls = yield* source.calls
        const third = yield* startScheduler(options)
        yield* advance(third.scheduler, 5 * MIN, 10 * SEC)
        assert.isAbove(yield* source.calls, brokenCalls, "a failing mark from retries keeps retrying after a restart")
        yield* source.setBroken(false)
        yield* advance(third.scheduler, 2 * MIN, 10 * SEC)
        assert.isNull(yield* failing(integration.id))
        const health = yield* third.scheduler.health(tenant, integration.id)
        assert.deepStrictEqual(health.warnings, [])
      }).pipe(Effect.provide(engineLayer(source)))
    }))
  it.scoped("a realtime stream that keeps dying is marked failing and reconnects on; its first batch clears the mark", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 2, agents: 4, tickMs: MIN })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:00:00Z"))
        const integration = yield* createPull({ schedule: { type: "realtime" } })
        const { scheduler } = yield* startScheduler({
          tenants: [tenant],
          backoff: { initial: "1 second", max: "8 seconds" },
          pollInterval: "10 seconds",
          failingAfter: { attempts: 3, duration: "1 hour" }
        })
        yield* advance(scheduler, 10 * MIN, MIN)
        yield* source.setBroken(true)
        yield* advance(scheduler, 2 * MIN, SEC)
        const runs = yield* failedRuns(integration.id)
        assert.isAtLeast(runs.length, 3)
        assert.isTrue(runs.every((r) => r.kind === "realtime"))
        assert.match(runs[0]!.error, /The connector failed unexpectedly: TypeError/)
        assert.match((yield* failing(integration.id)) ?? "", /^the import failed \d+ times in a row/)
        const opens = (yield* source.opens).length

        yield* source.setBroken(false)
        yield* advance(scheduler, 30 * SEC, SEC)
        yield* advance(scheduler, 5 * MIN, MIN)
        assert.isNull(yield* failing(integration.id))
        // one connection after the fix: clearing its own mark does not close the stream
        assert.strictEqual((yield* source.opens).length, opens + 1)
        const health = yield* scheduler.health(tenant, integration.id)
        assert.isNull(health.retrying)
        assert.strictEqual(health.realtimePosition, (yield* scheduler.cursor(tenant, integration.id)).realtime)
        assert.isAbove(health.realtimePosition!, iso("2026-03-02T09:17:00Z"))
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})
