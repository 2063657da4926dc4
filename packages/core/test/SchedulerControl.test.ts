import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import type { Integration } from "../src/Domain.js"
import type { StorageError } from "../src/Errors.js"
import { Lifecycle } from "../src/Lifecycle.js"
import { layerMemory as storageMemory, Storage } from "../src/Storage.js"
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

const runs = (id: Integration["id"]) =>
  Effect.map(Effect.flatMap(Storage, (s) => s.runs.list(id, 10_000)), (list) =>
    // oldest first; runs started at the same instant in the order they were recorded
    [...list].sort((a, b) => DateTime.toEpochMillis(a.startedAt) - DateTime.toEpochMillis(b.startedAt)).map((r) => ({
      kind: r.kind,
      error: r.error,
      from: r.windowStart ? DateTime.toEpochMillis(r.windowStart) : null,
      to: r.windowEnd ? DateTime.toEpochMillis(r.windowEnd) : null,
      applied: r.applied
    })))

const start = Effect.gen(function*() {
  yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
  return yield* createPull({ historyDepthDays: 1 })
})

describe("Scheduler: pause, resume, delete", () => {
  it.scoped("a window in flight when the integration is paused is refused whole; resume imports the gap once", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* start
        const lifecycle = yield* Lifecycle
        const storage = yield* Storage
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* advance(scheduler, HOUR)
        const before = yield* stored(storage, integration)
        const cursorsBefore = yield* scheduler.cursor(tenant, integration.id)

        // the 10:20 run reads its window; the integration is paused meanwhile
        const gate = yield* source.hold
        yield* TestClock.adjust(15 * MIN)
        yield* gate.reached
        yield* lifecycle.pause(tenant, integration.id)
        yield* gate.release
        yield* scheduler.awaitIdle
        const recordedAtPause = yield* runs(integration.id)
        const refused = recordedAtPause.at(-1)!
        assert.deepStrictEqual(
          { kind: refused.kind, from: refused.from, to: refused.to, applied: refused.applied },
          { kind: "pull", from: iso("2026-03-02T10:00:00Z"), to: iso("2026-03-02T10:15:00Z"), applied: 0 }
        )
        assert.match(refused.error ?? "", /is paused; nothing was applied/)
        assert.deepStrictEqual(yield* stored(storage, integration), before)
        assert.deepStrictEqual(yield* scheduler.cursor(tenant, integration.id), cursorsBefore)

        // paused for three hours: nothing is read
        const calls = yield* source.calls
        yield* advance(scheduler, 3 * HOUR, 15 * MIN)
        assert.strictEqual(yield* source.calls, calls)

        // resume (and wake, as a host does after resume): the gap is imported once, as backfill
        yield* lifecycle.resume(tenant, integration.id)
        yield* scheduler.wake(tenant, integration.id)
        yield* scheduler.awaitIdle
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        // the gap: what the pause missed, after the look-back before it (corrections made meanwhile)
        assert.strictEqual(cursors["backfill.gap.from"], iso("2026-03-01T10:00:00Z"))
        assert.strictEqual(cursors["backfill.gap.missing"], iso("2026-03-02T10:00:00Z"))
        assert.strictEqual(cursors["backfill.gap.to"], iso("2026-03-02T13:00:00Z"))
        assert.strictEqual(cursors["backfill.gap.next"], iso("2026-03-02T13:00:00Z"))
        assert.strictEqual(cursors.incremental, iso("2026-03-02T13:15:00Z"))
        const all = yield* runs(integration.id)
        const after = all.slice(recordedAtPause.length).filter((r) => r.error === null)
        assert.deepStrictEqual(after.map((r) => [r.kind, r.from, r.to]), [
          // the newest interval first, without look-back into the pending gap; then the gap, once
          ["pull", iso("2026-03-02T13:00:00Z"), iso("2026-03-02T13:15:00Z")],
          ["resume", iso("2026-03-01T10:00:00Z"), iso("2026-03-02T10:00:00Z")],
          ["resume", iso("2026-03-02T10:00:00Z"), iso("2026-03-02T13:00:00Z")]
        ])
        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
        // and then the look-back covers the gap again as usual
        yield* advance(scheduler, 15 * MIN)
        const last = (yield* runs(integration.id)).slice(-2).map((r) => [r.kind, r.from, r.to])
        assert.deepStrictEqual(last, [
          ["pull", iso("2026-03-02T13:15:00Z"), iso("2026-03-02T13:30:00Z")],
          ["pull", iso("2026-03-01T13:15:00Z"), iso("2026-03-02T13:15:00Z")]
        ])
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("delete stops the schedule for good", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* start
        const { scheduler } = yield* startScheduler({ tenants: [tenant], pollInterval: "5 minutes" })
        yield* advance(scheduler, HOUR, 15 * MIN)
        yield* (yield* Lifecycle).delete(tenant, integration.id)
        yield* advance(scheduler, HOUR, 15 * MIN)
        const calls = yield* source.calls
        yield* advance(scheduler, 5 * HOUR, 15 * MIN)
        assert.strictEqual(yield* source.calls, calls)
        const health = yield* scheduler.health(tenant, integration.id)
        assert.strictEqual(health.status, "deleted")
        assert.isFalse(health.scheduled)
        const reimport = yield* Effect.flip(scheduler.reimport(tenant, integration.id, {
          from: DateTime.unsafeMake("2026-03-02T08:00:00Z"),
          to: DateTime.unsafeMake("2026-03-02T09:00:00Z")
        }))
        assert.strictEqual(reimport._tag, "IntegrationDeleted")
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})

describe("Scheduler: restart", () => {
  it.scoped("a new scheduler over the same store carries on from the stored cursors, without gaps or doubles", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 9 })
      return yield* Effect.gen(function*() {
        const integration = yield* start
        const storage = yield* Storage
        const first = yield* startScheduler({ tenants: [tenant] })
        yield* advance(first.scheduler, 2 * HOUR)
        const stoppedAt = (yield* first.scheduler.cursor(tenant, integration.id)).incremental!
        assert.strictEqual(stoppedAt, iso("2026-03-02T11:00:00Z"))
        yield* first.stop
        // the engine is down for three hours
        yield* TestClock.adjust(3 * HOUR)
        const second = yield* startScheduler({ tenants: [tenant] })
        yield* second.scheduler.awaitIdle
        const cursors = yield* second.scheduler.cursor(tenant, integration.id)
        // the downtime is a gap up to the newest interval, which the incremental schedule imports;
        // the gap starts a look-back before the old watermark (what the source corrected meanwhile)
        assert.strictEqual(cursors["backfill.gap.from"], stoppedAt - DAY)
        assert.strictEqual(cursors["backfill.gap.missing"], stoppedAt)
        assert.strictEqual(cursors["backfill.gap.to"], iso("2026-03-02T13:45:00Z"))
        assert.strictEqual(cursors["backfill.gap.next"], iso("2026-03-02T13:45:00Z"))
        assert.strictEqual(cursors.incremental, iso("2026-03-02T14:00:00Z"))
        // the intervals after the history cutoff were committed by exactly one incremental window
        // each, except the downtime, which the gap's windows tile exactly once
        const committed = (yield* runs(integration.id)).filter((r) => r.error === null)
        const tiles = (list: ReadonlyArray<{ from: number | null; to: number | null }>, from: number, to: number) => {
          let at = from
          for (const r of [...list].sort((a, b) => a.from! - b.from!)) {
            assert.strictEqual(r.from, at)
            at = r.to!
          }
          assert.strictEqual(at, to)
        }
        const fresh = committed.filter((r) => r.kind === "pull" && r.to! - r.from! <= HOUR)
        tiles(fresh.filter((r) => r.to! <= stoppedAt), cursors["backfill.history.cutoff"]!, stoppedAt)
        tiles(fresh.filter((r) => r.from! >= stoppedAt), cursors["backfill.gap.to"]!, cursors.incremental!)
        tiles(committed.filter((r) => r.kind === "resume"), stoppedAt - DAY, cursors["backfill.gap.to"]!)
        // the history was not imported again
        assert.strictEqual((yield* runs(integration.id)).filter((r) => r.kind === "history").length, 1)
        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})

describe("Scheduler: re-import and operator cursors", () => {
  it.scoped("re-importing a range replaces what was stored (corrections land), never adds", () =>
    Effect.gen(function*() {
      // restatements a day and a half late: beyond the 24-hour look-back
      const source = yield* makeSource({ seed: 4, corrections: { share: 0.5, delayMs: 36 * HOUR } })
      return yield* Effect.gen(function*() {
        const integration = yield* createPull({ historyDepthDays: 3 })
        const storage = yield* Storage
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const { scheduler } = yield* startScheduler({ tenants: [tenant], pollInterval: "1 hour" })
        yield* advance(scheduler, 2 * DAY, 15 * MIN)
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        const from = cursors["backfill.history.from"]!
        const stale = yield* stored(storage, integration)
        const truth = yield* cleanImport(source, integration, from, cursors.incremental!)
        assert.notDeepEqual(stale, truth, "late corrections are missing before the re-import")

        const accepted = yield* scheduler.reimport(tenant, integration.id, {
          from: DateTime.unsafeMake(from + 7 * MIN),
          to: DateTime.unsafeMake(cursors.incremental! + 3 * HOUR)
        })
        // aligned outward, capped at the newest closed interval
        assert.deepStrictEqual(
          [DateTime.toEpochMillis(accepted.from), DateTime.toEpochMillis(accepted.to)],
          [from, cursors.incremental!]
        )
        yield* scheduler.awaitIdle
        assert.deepStrictEqual(yield* stored(storage, integration), truth)
        const reimports = (yield* runs(integration.id)).filter((r) => r.kind === "reimport")
        assert.strictEqual(reimports.length, 5)
        assert.isTrue(reimports.every((r) => r.error === null))
        const health = yield* scheduler.health(tenant, integration.id)
        assert.deepStrictEqual(
          { done: health.reimport?.done, windowsDone: health.reimport?.windowsDone, total: health.reimport?.windowsTotal },
          { done: true, windowsDone: 5, total: 5 }
        )
        // again: nothing doubles
        yield* scheduler.reimport(tenant, integration.id, {
          from: DateTime.unsafeMake(from),
          to: DateTime.unsafeMake(cursors.incremental!)
        })
        yield* scheduler.awaitIdle
        assert.deepStrictEqual(yield* stored(storage, integration), truth)

        const invalid = yield* Effect.flip(scheduler.reimport(tenant, integration.id, {
          from: DateTime.unsafeMake(from),
          to: DateTime.unsafeMake(from)
        }))
        assert.strictEqual(invalid._tag, "InvalidRequest")
        const future = yield* Effect.flip(scheduler.reimport(tenant, integration.id, {
          from: DateTime.unsafeMake(cursors.incremental! + DAY),
          to: DateTime.unsafeMake(cursors.incremental! + 2 * DAY)
        }))
        assert.match(future.message, /no closed interval/)
        const missing = yield* Effect.flip(scheduler.reimport(tenant, "nope", {
          from: DateTime.unsafeMake(from),
          to: DateTime.unsafeMake(cursors.incremental!)
        }))
        assert.strictEqual(missing._tag, "IntegrationNotFound")
      }).pipe(Effect.provide(engineLayer(source)))
    }), { timeout: 120_000 })

  it.scoped("a re-import merged by another node just before a re-import window commits is not undone by it", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 4, corrections: { share: 0.5, delayMs: 36 * HOUR } })
      // another node's writes, run once right before the next window's commit (after this node's
      // own check of the cursors, which its lock can't extend to other nodes)
      const meanwhile = yield* Ref.make<Option.Option<Effect.Effect<void, StorageError>>>(Option.none())
      const storage = Layer.effect(
        Storage,
        Effect.map(Storage, (s): Storage["Type"] => ({
          ...s,
          data: {
            ...s.data,
            ingest: (request) =>
              Effect.zipRight(
                request.mode !== "pull"
                  ? Effect.void
                  : Effect.flatten(Effect.map(Ref.getAndSet(meanwhile, Option.none()), Option.getOrElse(() => Effect.void))),
                s.data.ingest(request)
              )
          }
        }))
      ).pipe(Layer.provide(storageMemory))
      return yield* Effect.gen(function*() {
        const integration = yield* createPull({ historyDepthDays: 3 })
        const store = yield* Storage
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const { scheduler } = yield* startScheduler({ tenants: [tenant], pollInterval: "1 hour" })
        yield* advance(scheduler, 2 * DAY, 15 * MIN)
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        const from = cursors["backfill.history.from"]!
        const end = cursors.incremental!
        const truth = yield* cleanImport(source, integration, from, end)

        // this node re-imports the second half; just before its first window commits, another
        // node merges the first half into the pending range, which then starts at `from`
        yield* Ref.set(
          meanwhile,
          Option.some(Effect.zipRight(
            store.cursors.set(integration.id, "backfill.reimport.from", from),
            store.cursors.set(integration.id, "backfill.reimport.next", from)
          ))
        )
        yield* scheduler.reimport(tenant, integration.id, { from: DateTime.unsafeMake(from + DAY), to: DateTime.unsafeMake(end) })
        yield* scheduler.awaitIdle
        assert.isTrue(Option.isNone(yield* Ref.get(meanwhile)), "the other node's merge ran")

        // the whole range was re-imported: the first half's late corrections landed too
        const windows = (yield* runs(integration.id)).filter((r) => r.kind === "reimport" && r.error === null)
        assert.strictEqual(Math.min(...windows.map((r) => r.from ?? Infinity)), from)
        assert.deepStrictEqual(yield* stored(store, integration), truth)
      }).pipe(Effect.provide(engineLayer(source, storage)))
    }), { timeout: 120_000 })

  it.scoped("a re-import asked while paused waits for resume and survives a restart", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* start
        const first = yield* startScheduler({ tenants: [tenant] })
        yield* advance(first.scheduler, HOUR)
        yield* (yield* Lifecycle).pause(tenant, integration.id)
        yield* first.scheduler.reimport(tenant, integration.id, {
          from: DateTime.unsafeMake("2026-03-01T12:00:00Z"),
          to: DateTime.unsafeMake("2026-03-01T18:00:00Z")
        })
        yield* advance(first.scheduler, HOUR)
        assert.strictEqual((yield* runs(integration.id)).filter((r) => r.kind === "reimport").length, 0)
        yield* first.stop
        yield* (yield* Lifecycle).resume(tenant, integration.id)
        const second = yield* startScheduler({ tenants: [tenant] })
        yield* second.scheduler.awaitIdle
        const reimports = (yield* runs(integration.id)).filter((r) => r.kind === "reimport")
        assert.deepStrictEqual(reimports.map((r) => [r.from, r.to, r.error]), [
          [iso("2026-03-01T12:00:00Z"), iso("2026-03-01T18:00:00Z"), null]
        ])
      }).pipe(Effect.provide(engineLayer(source)))
    }))

  it.scoped("cursors can be read any time and set only while paused", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        const integration = yield* start
        const storage = yield* Storage
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* advance(scheduler, HOUR)
        const before = yield* scheduler.cursor(tenant, integration.id)
        assert.strictEqual(before.incremental, iso("2026-03-02T10:00:00Z"))

        const locked = yield* Effect.flip(scheduler.setCursor(tenant, integration.id, "incremental", before.incremental!))
        assert.strictEqual(locked._tag, "CursorLocked")
        assert.match(locked.message, /pause it before setting its cursor/)

        yield* (yield* Lifecycle).pause(tenant, integration.id)
        const unknown = yield* Effect.flip(scheduler.setCursor(tenant, integration.id, "bogus", 0))
        assert.strictEqual(unknown._tag, "InvalidRequest")
        const unaligned = yield* Effect.flip(
          scheduler.setCursor(tenant, integration.id, "incremental", iso("2026-03-02T08:07:00Z"))
        )
        assert.match(unaligned.message, /quarter-hour/)
        // an operator rewinds the incremental cursor by two hours
        yield* scheduler.setCursor(tenant, integration.id, "incremental", iso("2026-03-02T08:00:00Z"))
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T08:00:00Z"))
        // pausing never touched the data or the other cursors
        const { incremental: _a, ...rest } = yield* scheduler.cursor(tenant, integration.id)
        const { incremental: _b, ...restBefore } = before
        assert.deepStrictEqual(rest, restBefore)

        yield* (yield* Lifecycle).resume(tenant, integration.id)
        yield* scheduler.wake(tenant, integration.id)
        yield* scheduler.awaitIdle
        const cursors = yield* scheduler.cursor(tenant, integration.id)
        // the gap re-reads the look-back before the rewound cursor, but not before the history start
        assert.strictEqual(cursors["backfill.gap.from"], cursors["backfill.history.from"])
        assert.strictEqual(cursors["backfill.gap.missing"], iso("2026-03-02T08:00:00Z"))
        assert.strictEqual(cursors.incremental, iso("2026-03-02T10:00:00Z"))
        const clean = yield* cleanImport(source, integration, cursors["backfill.history.from"]!, cursors.incremental!)
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
        const found = Option.getOrThrow(yield* storage.integrations.get(integration.id))
        assert.strictEqual(found.status, "active")
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})
