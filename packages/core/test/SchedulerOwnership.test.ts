import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type { Integration, IntegrationId } from "../src/Domain.js"
import { emptyBatch } from "../src/Domain.js"
import { Ingest } from "../src/Ingest.js"
import * as Ownership from "../src/Ownership.js"
import * as Scheduler from "../src/Scheduler.js"
import { Storage } from "../src/Storage.js"
import { contact } from "./fixtures.js"
import { advance, createPull, engineLayer, HOUR, iso, makeSource, MIN, stored, tenant } from "./schedulerFixtures.js"

const runs = (id: Integration["id"]) => Effect.flatMap(Storage, (s) => s.runs.list(id, 10_000))

/** An ownership a test moves by hand: integration → the epoch this "node" holds. */
const makeOwnership = Effect.gen(function*() {
  const held = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
  const changes = yield* PubSub.unbounded<void>()
  const shape: Ownership.OwnershipShape = {
    owns: (id) =>
      Effect.map(Ref.get(held), (m) => {
        const epoch = m.get(id)
        return epoch === undefined ? Option.none() : Option.some({ stream: Ownership.fenceStream, epoch })
      }),
    changes: Stream.fromPubSub(changes),
    changed: Stream.never
  }
  /** takes the lease at `epoch`, as a cluster does: the fence cursor first */
  const take = (id: IntegrationId, epoch: number) =>
    Effect.gen(function*() {
      yield* Effect.flatMap(Storage, (s) => s.cursors.set(id, Ownership.fenceStream, epoch))
      yield* Ref.update(held, (m) => new Map(m).set(id, epoch))
      yield* PubSub.publish(changes, undefined)
    })
  /** another node takes the lease over: the fence moves on, this node forgets it (later) */
  const takenOver = (id: IntegrationId, epoch: number) =>
    Effect.flatMap(Storage, (s) => s.cursors.set(id, Ownership.fenceStream, epoch))
  const forget = (id: IntegrationId) =>
    Effect.zipRight(
      Ref.update(held, (m) => {
        const next = new Map(m)
        next.delete(id)
        return next
      }),
      PubSub.publish(changes, undefined)
    )
  return { shape, take, takenOver, forget }
})

describe("Ownership: a window commit is fenced by the lease epoch", () => {
  it.scoped("a commit with a stale epoch fails with OwnershipLost and applies nothing; the current epoch applies", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull()
        const storage = yield* Storage
        const ingest = yield* Ingest
        yield* storage.cursors.set(integration.id, Ownership.fenceStream, 2)
        const from = iso("2026-03-02T08:00:00Z")
        const window = { from, to: from + HOUR }
        const batch = { ...emptyBatch, contacts: [contact("2026-03-02T08:05:00Z")] }
        const before = yield* stored(storage, integration)
        const stale = yield* Effect.flip(ingest.importWindow({
          integration,
          batch,
          kind: "history",
          window,
          watermark: { stream: "incremental", value: window.to },
          fence: { stream: Ownership.fenceStream, epoch: 1 }
        }))
        assert.strictEqual(stale._tag, "OwnershipLost")
        if (stale._tag === "OwnershipLost") assert.deepStrictEqual([stale.held, stale.current], [1, 2])
        assert.deepStrictEqual(yield* stored(storage, integration), before)
        assert.strictEqual((yield* runs(integration.id)).length, 0)
        assert.isTrue(Option.isNone(yield* storage.cursors.get(integration.id, "incremental")))

        yield* ingest.importWindow({
          integration,
          batch,
          kind: "history",
          window,
          watermark: { stream: "incremental", value: window.to },
          fence: { stream: Ownership.fenceStream, epoch: 2 }
        })
        assert.strictEqual((yield* stored(storage, integration)).intervals.length, 1)
        assert.strictEqual((yield* runs(integration.id)).length, 1)
        assert.deepStrictEqual(yield* storage.cursors.get(integration.id, "incremental"), Option.some(window.to))
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})

describe("Ownership: the scheduler runs what this node holds", () => {
  it.scoped("only held integrations are imported; a lease taken over stops the schedule and a window in flight commits nothing", () =>
    Effect.gen(function*() {
      const source = yield* makeSource()
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const mine = yield* createPull()
        const theirs = yield* createPull()
        const ownership = yield* makeOwnership
        yield* ownership.take(mine.id, 1)
        // built in the test's scope: the scheduler's fibers live until the test ends
        const scheduler = Context.get(
          yield* Layer.build(
            Scheduler.layer({ tenants: [tenant], backoff: { jitter: false } }).pipe(
              Layer.provide(Layer.succeed(Ownership.Ownership, ownership.shape))
            )
          ),
          Scheduler.Scheduler
        )
        yield* advance(scheduler, HOUR)
        const storage = yield* Storage
        assert.isAbove((yield* runs(mine.id)).length, 0)
        assert.strictEqual((yield* runs(theirs.id)).length, 0, "an integration another node holds is not run here")
        assert.strictEqual((yield* storage.cursors.list(theirs.id)).size, 0)

        // the next window is in flight when another node takes the lease over
        const gate = yield* source.hold
        yield* TestClock.adjust(15 * MIN)
        yield* gate.reached
        const runsBefore = (yield* runs(mine.id)).length
        const dataBefore = yield* stored(storage, mine)
        const cursorsBefore = yield* storage.cursors.list(mine.id)
        yield* ownership.takenOver(mine.id, 2)
        yield* gate.release
        yield* scheduler.awaitIdle
        // nothing committed, nothing recorded: the new holder reads the window itself
        assert.strictEqual((yield* runs(mine.id)).length, runsBefore)
        assert.deepStrictEqual(yield* stored(storage, mine), dataBefore)
        assert.deepStrictEqual(
          yield* storage.cursors.list(mine.id),
          new Map(cursorsBefore).set(Ownership.fenceStream, 2)
        )
        // and the schedule stopped: hours later this node still reads nothing for it
        yield* ownership.forget(mine.id)
        const calls = yield* source.calls
        yield* advance(scheduler, 2 * HOUR, 15 * MIN)
        assert.strictEqual(yield* source.calls, calls)

        // the lease comes back (a new epoch): the schedule carries on from the stored cursors
        const takenAt = yield* Clock.currentTimeMillis
        yield* ownership.take(theirs.id, 1)
        yield* advance(scheduler, 15 * MIN)
        assert.isAbove((yield* runs(theirs.id)).length, 0)
        const latest = (yield* runs(theirs.id)).map((r) => DateTime.toEpochMillis(r.startedAt))
        assert.isTrue(latest.every((t) => t >= takenAt))
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})
