import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Lifecycle } from "../src/Lifecycle.js"
import type { ProgressEvent } from "../src/Scheduler.js"
import { Storage } from "../src/Storage.js"
import {
  advance,
  cleanImport,
  createPull,
  DAY,
  engineLayer,
  HOUR,
  iso,
  makeSource,
  MIN,
  startScheduler,
  stored,
  tenant
} from "./schedulerFixtures.js"

describe("Scheduler: first connect and steady state", () => {
  it.scoped("imports the history in day chunks, newest first, then one interval per run at boundary + settle", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 3 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 2 })
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        assert.deepStrictEqual(cursors, {
          "backfill.history.cutoff": iso("2026-03-02T09:00:00Z"),
          "backfill.history.from": iso("2026-02-28T09:00:00Z"),
          "backfill.history.high": iso("2026-03-02T09:00:00Z"),
          "backfill.history.low": iso("2026-02-28T09:00:00Z"),
          incremental: iso("2026-03-02T09:00:00Z")
        })
        assert.deepStrictEqual(yield* source.windows, [
          [iso("2026-03-01T09:00:00Z"), iso("2026-03-02T09:00:00Z")],
          [iso("2026-02-28T09:00:00Z"), iso("2026-03-01T09:00:00Z")]
        ])
        // 09:15 closes and settles at 09:20: nothing is read before
        yield* advance(scheduler, 12 * MIN, MIN)
        assert.strictEqual((yield* source.windows).length, 2)
        yield* advance(scheduler, MIN, MIN)
        assert.deepStrictEqual((yield* source.windows).slice(2), [
          // the new interval, then the look-back (24 hours, not below the history start)
          [iso("2026-03-02T09:00:00Z"), iso("2026-03-02T09:15:00Z")],
          [iso("2026-03-01T09:00:00Z"), iso("2026-03-02T09:00:00Z")]
        ])
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T09:15:00Z"))
        const runs = yield* (yield* Storage).runs.list(integration.id, 10)
        assert.deepStrictEqual(runs.map((r) => r.kind).sort(), ["history", "history", "pull", "pull"])
        assert.isTrue(runs.every((r) => r.error === null && r.read === r.applied + r.rejected))
        const clean = yield* cleanImport(source, integration, iso("2026-02-28T09:00:00Z"), iso("2026-03-02T09:15:00Z"))
        assert.deepStrictEqual(yield* stored(yield* Storage, integration), clean)
        assert.isAbove(clean.intervals.length, 100)
        assert.isAbove(clean.segments.length, 10)
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("a 60-minute integration runs on the local hours of its zone (Asia/Kolkata, +05:30)", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ aggregates: true })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:00:00Z"))
        const integration = yield* createPull({
          schedule: { type: "historical", everyMinutes: 60 },
          timezone: "Asia/Kolkata"
        })
        const { scheduler } = yield* startScheduler({ tenants: [tenant], settleDelay: "2 minutes" })
        yield* scheduler.awaitIdle
        // local hours start at hh:30 UTC; 08:30Z closed and settled before 09:00Z
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T08:30:00Z"))
        const before = (yield* source.windows).length
        yield* advance(scheduler, 31 * MIN, MIN)
        assert.strictEqual((yield* source.windows).length, before)
        yield* advance(scheduler, MIN, MIN)
        assert.deepStrictEqual((yield* source.windows).at(-2), [iso("2026-03-02T08:30:00Z"), iso("2026-03-02T09:30:00Z")])
        const clean = yield* cleanImport(source, integration, iso("2026-03-01T08:30:00Z"), iso("2026-03-02T09:30:00Z"))
        assert.deepStrictEqual(yield* stored(yield* Storage, integration), clean)
        assert.isTrue(clean.intervals.every((row) => row.lengthMinutes === 60))
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})

describe("Scheduler: three days with a pause and a crash", () => {
  it.scoped("stored intervals and segments equal a single clean import of the same source", () =>
    Effect.gen(function*() {
      // late corrections two hours after an interval closes; the DST change of Europe/Berlin inside
      const source = yield* makeSource({ seed: 11, corrections: { share: 0.3, delayMs: 2 * HOUR } })
      return yield* Effect.gen(function*() {
        const start = iso("2026-03-27T22:05:00Z")
        yield* TestClock.setTime(start)
        const integration = yield* createPull({ historyDepthDays: 1 })
        const lifecycle = yield* Lifecycle
        const options = { tenants: [tenant], pollInterval: "60 minutes" } as const
        const first = yield* startScheduler(options)
        yield* advance(first.scheduler, 10 * HOUR, 15 * MIN)

        // a five-hour pause; resume is noticed by the scheduler on its own (poll)
        yield* lifecycle.pause(tenant, integration.id)
        yield* advance(first.scheduler, 5 * HOUR, 15 * MIN)
        const pausedCalls = (yield* source.windows).length
        yield* lifecycle.resume(tenant, integration.id)
        yield* advance(first.scheduler, 10 * HOUR, 15 * MIN)
        assert.isAbove((yield* source.windows).length, pausedCalls)

        // a crash in the middle of a window: the read is held, the scheduler is interrupted
        const gate = yield* source.hold
        yield* TestClock.adjust(15 * MIN)
        yield* gate.reached
        const cursorAtCrash = (yield* (yield* Storage).cursors.list(integration.id)).get("incremental")
        yield* first.stop
        assert.strictEqual((yield* (yield* Storage).cursors.list(integration.id)).get("incremental"), cursorAtCrash)
        // down for an hour, then a new scheduler over the same store
        yield* TestClock.adjust(HOUR)
        const second = yield* startScheduler(options)
        yield* advance(second.scheduler, 72 * HOUR - 26 * HOUR - 15 * MIN, 15 * MIN)

        const now = DateTime.toEpochMillis(yield* DateTime.now)
        assert.strictEqual(now, start + 72 * HOUR)
        const cursors = yield* second.scheduler.cursor(tenant, integration.id)
        assert.strictEqual(cursors.incremental, iso("2026-03-30T22:00:00Z"))
        const runs = yield* (yield* Storage).runs.list(integration.id, 10_000)
        assert.isTrue(runs.some((r) => r.kind === "resume"), "the pause and the downtime were imported as gaps")
        const health = yield* second.scheduler.health(tenant, integration.id)
        assert.isFalse(health.stalled)
        assert.deepStrictEqual(health.warnings, [])
        assert.isTrue(health.gap?.done)

        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        const actual = yield* stored(yield* Storage, integration)
        assert.strictEqual(actual.intervals.length, clean.intervals.length)
        assert.deepStrictEqual(actual, clean)
        assert.isAbove(clean.intervals.length, 4 * 96 * 2 * 0.6)
        assert.isAbove(clean.segments.length, 100)
      }).pipe(Effect.provide(engineLayer(source)))
    }), { timeout: 120_000 })
})

describe("Scheduler: an outage longer than the look-back", () => {
  it.scoped("re-reads from the old watermark minus the look-back: corrections and states closed meanwhile land", () =>
    Effect.gen(function*() {
      // quarters restated three hours after they close; status ends written four hours late
      const source = yield* makeSource({
        seed: 21,
        agents: 8,
        corrections: { share: 0.3, delayMs: 3 * HOUR },
        closeDelayMs: 4 * HOUR
      })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 2 })
        const storage = yield* Storage
        const first = yield* startScheduler({ tenants: [tenant] })
        yield* advance(first.scheduler, 6 * HOUR, 15 * MIN)
        const stoppedAt = (yield* first.scheduler.cursor(tenant, integration.id)).incremental!
        assert.strictEqual(stoppedAt, iso("2026-03-02T15:00:00Z"))
        const before = yield* stored(storage, integration)
        yield* first.stop

        // down for 30 hours, longer than the 24-hour look-back
        yield* TestClock.adjust(30 * HOUR)
        const second = yield* startScheduler({ tenants: [tenant] })
        yield* second.scheduler.awaitIdle
        const cursors = yield* second.scheduler.cursor(tenant, integration.id)
        // the gap re-reads the look-back before the old watermark
        assert.strictEqual(cursors["backfill.gap.from"], stoppedAt - DAY)
        assert.strictEqual(cursors["backfill.gap.missing"], stoppedAt)
        assert.strictEqual(cursors["backfill.gap.next"], cursors["backfill.gap.to"])
        const health = yield* second.scheduler.health(tenant, integration.id)
        assert.deepStrictEqual(health.warnings, [])

        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        // the scenario has what the re-read must fix: quarters before the stop restated during the
        // outage, and states stored open whose end the source wrote during the outage, before the stop
        const beforeStop = (rows: typeof clean.intervals) => rows.filter((r) => r.start < stoppedAt)
        assert.notDeepEqual(beforeStop(before.intervals), beforeStop(clean.intervals))
        const closedMeanwhile = before.segments.filter((s) =>
          s.end === null && clean.segments.some((c) =>
            c.agentIdentifier === s.agentIdentifier && c.start === s.start && c.end !== null && c.end < stoppedAt
          )
        )
        assert.isAbove(closedMeanwhile.length, 0)
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
      }).pipe(Effect.provide(engineLayer(source)))
    }), { timeout: 120_000 })
})

describe("Scheduler: history import", () => {
  it.scoped("imports three years in day chunks with progress, then runs steadily", () =>
    Effect.gen(function*() {
      // aggregate-level, sparse data so that three years take seconds
      const source = yield* makeSource({ aggregates: true, active: 0.02, agents: 0 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 1096 })
        const { scheduler } = yield* startScheduler({})
        const events = yield* scheduler.subscribe(tenant, integration.id)
        const collected = yield* Stream.runCollect(
          events.pipe(Stream.takeUntil((e) => e.task === "history" && e.done))
        ).pipe(Effect.fork)
        yield* scheduler.wake(tenant, integration.id)
        yield* scheduler.awaitIdle
        const history = Chunk.toReadonlyArray(yield* Fiber.join(collected)).filter((e: ProgressEvent) =>
          e.task === "history"
        )
        assert.strictEqual(history.length, 1096)
        assert.deepStrictEqual(history.map((e) => e.windowsDone), Array.from({ length: 1096 }, (_, i) => i + 1))
        assert.isTrue(history.every((e) => e.windowsTotal === 1096))
        assert.isTrue(history.at(-1)!.done)
        // newest first
        assert.isTrue(
          history.every((e, i) => i === 0 || DateTime.lessThanOrEqualTo(e.to!, history[i - 1]!.from!))
        )
        assert.strictEqual(history.at(-1)!.records, history.reduce((n, e) => n + e.applied, 0))
        const runs = yield* (yield* Storage).runs.list(integration.id, 5000)
        assert.strictEqual(runs.filter((r) => r.kind === "history").length, 1096)
        const health = yield* scheduler.health(tenant, integration.id)
        assert.deepStrictEqual(
          { done: health.history?.done, windowsDone: health.history?.windowsDone, total: health.history?.windowsTotal },
          { done: true, windowsDone: 1096, total: 1096 }
        )
        // steady state afterwards
        yield* advance(scheduler, 2 * HOUR)
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        assert.strictEqual(cursors.incremental, iso("2026-03-02T11:00:00Z"))
        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        assert.deepStrictEqual(yield* stored(yield* Storage, integration), clean)
        assert.isAbove(clean.intervals.length, 500)
      }).pipe(Effect.provide(engineLayer(source)))
    }), { timeout: 120_000 })

  it.scoped("oldest first, capped by the history depth, progress visible in health while it runs", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ aggregates: true, active: 0.2, agents: 0 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ historyDepthDays: 5 })
        const { scheduler } = yield* startScheduler({ tenants: [tenant], historyOrder: "oldest-first" })
        // hold the third window: health shows two of five done
        const gate = yield* source.hold
        yield* scheduler.awaitIdle.pipe(Effect.fork)
        yield* Effect.yieldNow()
        const windows = yield* source.windows
        assert.isAtMost(windows.length, 1)
        const gate2 = gate
        yield* gate2.release
        yield* scheduler.awaitIdle
        const all = (yield* source.windows).map(([from, to]) => [from, to])
        assert.deepStrictEqual(all, [0, 1, 2, 3, 4].map((d) => [
          iso("2026-02-25T09:00:00Z") + d * DAY,
          iso("2026-02-25T09:00:00Z") + (d + 1) * DAY
        ]))
        const health = yield* scheduler.health(tenant, integration.id)
        assert.strictEqual(health.history?.windowsDone, 5)
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})
