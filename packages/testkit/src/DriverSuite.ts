/**
 * The storage driver's conformance suite: what every driver of core's `StorageDriver`
 * promises (memory, SQLite, PostgreSQL, a host's own) — transactions that undo everything on
 * failure, savepoints, compare-and-set, upserts that add, window deletes, the orders lists come
 * in. `StorageSuite` checks the rules `Storage.make` builds on top; a driver that passes this
 * suite gets them all. Call `suite` with a layer that provides the driver:
 *
 * ```ts
 * import { StorageDriver } from "@acd-bridge/core"
 * import { DriverSuite, StorageSuite } from "@acd-bridge/testkit"
 *
 * DriverSuite.suite("memory", StorageDriver.layerMemory)
 * StorageSuite.suite("memory", Storage.layer.pipe(Layer.provide(StorageDriver.layerMemory)))
 * ```
 *
 * The layer is built once per suite; every case works in fresh tenants and integrations.
 *
 * @since 0.2.0
 */
import { Domain, LinkModel, StorageDriver } from "@acd-bridge/core"
import { assert, describe, layer as layerTest } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { at, integration, link, linkTask, sameValue, T0, unique } from "./internal/storageFixtures.js"

const Q = 900_000

const driver = StorageDriver.StorageDriver

const setup = (overrides: Partial<ConstructorParameters<typeof Domain.Integration>[0]> = {}) =>
  Effect.gen(function*() {
    const d = yield* driver
    const i = integration(overrides)
    yield* d.integrations.insert(i)
    return i
  })

const ownQueue = (i: Domain.Integration, identifier: string, name = identifier) =>
  new Domain.Queue({
    id: Domain.QueueId.make(unique("queue")),
    tenantId: i.tenantId,
    integrationId: i.id,
    identifier,
    name,
    channel: "calls",
    createdByIntegration: true,
    createdAt: at(T0)
  })

const measures = (offered: number, handlingMs = 0): Domain.Measures => ({
  ...Domain.emptyMeasures,
  offered,
  handled: offered,
  handlingMs
})

const segment = (
  i: Domain.Integration,
  agent: string,
  activity: string,
  start: number,
  end: number | null
): Domain.AgentSegment => ({
  integrationId: i.id,
  agentIdentifier: agent,
  activityIdentifier: activity,
  start,
  end
})

const run = (i: Domain.Integration, startedAt: number) =>
  new Domain.ImportRun({
    id: Domain.ImportRunId.make(unique("run")),
    integrationId: i.id,
    kind: "push",
    windowStart: null,
    windowEnd: null,
    read: 1,
    applied: 1,
    rejected: 0,
    startedAt: at(startedAt),
    durationMs: 3,
    error: null,
    problems: []
  })

class Boom extends Error {}

/** Everything a unit of work can write for `i`, to check it is all there or all gone. */
const footprint = (i: Domain.Integration, agent: string) =>
  Effect.gen(function*() {
    const d = yield* driver
    const stats = yield* d.stats.query({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: T0 * 2 })
    return {
      status: Option.map(yield* d.integrations.get(i.id), (x) => x.status),
      queues: (yield* d.queues.list(i.tenantId, i.id)).map((q) => q.identifier),
      offered: stats.reduce((n, r) => n + r.offered, 0),
      segments: (yield* d.segments.load(i.id, [agent], 0, null)).length,
      cursor: yield* d.cursors.get(i.id, "watermark"),
      staged: yield* d.staging.held(i.id),
      idempotency: Option.isSome(yield* d.idempotency.get(i.id, "key-1")),
      runs: (yield* d.runs.list(i.id, 10)).length
    }
  })

/** One of every write, for `i` (active) and its sibling `paused`. */
const writeEverything = (i: Domain.Integration) =>
  Effect.gen(function*() {
    const d = yield* driver
    const updated = yield* d.integrations.update(
      new Domain.Integration({ ...i, status: "paused", version: i.version + 1 }),
      i.version
    )
    assert.isTrue(updated)
    const q = ownQueue(i, "q1")
    yield* d.queues.insertOwn([q])
    yield* d.stats.add(i, [{ queueId: q.id, channel: "calls", start: T0, lengthMinutes: 15, measures: measures(3) }])
    yield* d.segments.write(i, [], [segment(i, "a-1", "READY", T0, null)])
    yield* d.cursors.set(i.id, "watermark", T0 + Q)
    yield* d.staging.append(i.id, { records: 2, body: "{}", at: T0 })
    yield* d.idempotency.put(i.id, "key-1", { requestHash: "h", at: T0, accepted: 2, outcome: "Applied" }, 0)
    yield* d.runs.insert(run(i, T0))
  })

const empty = {
  status: Option.some("active"),
  queues: [],
  offered: 0,
  segments: 0,
  cursor: Option.none(),
  staged: 0,
  idempotency: false,
  runs: 0
}

/**
 * Runs the driver conformance cases against `layer`.
 *
 * @since 0.2.0 @category suites
 */
export const suite = <E>(name: string, layer: Layer.Layer<StorageDriver.StorageDriver, E>): void => {
  describe(`StorageDriver conformance: ${name}`, () => {
    layerTest(layer, { timeout: "120 seconds", excludeTestServices: true })((it) => {
      // -----------------------------------------------------------------------
      // transactions
      // -----------------------------------------------------------------------

      it.effect("transaction: a failure undoes every write of the unit; success keeps them all", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          const failed = yield* Effect.exit(d.transaction(Effect.zipRight(writeEverything(i), Effect.fail("refused"))))
          assert.isTrue(Exit.isFailure(failed))
          sameValue(yield* footprint(i, "a-1"), empty)

          const died = yield* Effect.exit(d.transaction(Effect.zipRight(writeEverything(i), Effect.die(new Boom()))))
          assert.isTrue(Exit.isFailure(died))
          sameValue(yield* footprint(i, "a-1"), empty)

          yield* d.transaction(writeEverything(i))
          sameValue(yield* footprint(i, "a-1"), {
            status: Option.some("paused"),
            queues: ["q1"],
            offered: 3,
            segments: 1,
            cursor: Option.some(T0 + Q),
            staged: 2,
            idempotency: true,
            runs: 1
          })
        }))

      it.effect("transaction: an interrupted unit is undone", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          const written = yield* Deferred.make<void>()
          const fiber = yield* Effect.fork(
            d.transaction(Effect.zipRight(writeEverything(i), Effect.zipRight(Deferred.succeed(written, undefined), Effect.never)))
          )
          yield* Deferred.await(written)
          yield* Fiber.interrupt(fiber)
          sameValue(yield* footprint(i, "a-1"), empty)
        }))

      it.effect("transaction: a nested unit's failure undoes only its own writes", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          yield* d.transaction(Effect.gen(function*() {
            yield* d.cursors.set(i.id, "outer", 1)
            const inner = yield* Effect.exit(d.transaction(Effect.zipRight(
              Effect.zipRight(d.cursors.set(i.id, "inner", 2), d.cursors.set(i.id, "outer", 9)),
              Effect.fail("inner refused")
            )))
            assert.isTrue(Exit.isFailure(inner))
            // the outer unit still sees its own write, not the inner one's
            sameValue(yield* d.cursors.get(i.id, "outer"), Option.some(1))
            yield* d.cursors.set(i.id, "after", 3)
          }))
          sameValue(Array.from(yield* d.cursors.list(i.id)).sort(), [["after", 3], ["outer", 1]])
        }))

      it.effect("transaction: units run at once each keep all their writes (additive upserts sum)", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          const q = ownQueue(i, "q1")
          yield* d.queues.insertOwn([q])
          yield* Effect.all(
            Array.from({ length: 8 }, (_, n) =>
              d.transaction(Effect.zipRight(
                d.stats.add(i, [{ queueId: q.id, channel: "calls", start: T0, lengthMinutes: 15, measures: measures(1, n) }]),
                d.cursors.set(i.id, `writer-${n}`, n)
              ))),
            { concurrency: "unbounded", discard: true }
          )
          const rows = yield* d.stats.query({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: T0 * 2 })
          sameValue(rows.map((r) => [r.offered, r.handlingMs]), [[8, 28]])
          assert.strictEqual((yield* d.cursors.list(i.id)).size, 8)
        }))

      // -----------------------------------------------------------------------
      // compare-and-set
      // -----------------------------------------------------------------------

      it.effect("integrations.update: writes only over the expected version", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          const paused = new Domain.Integration({ ...i, status: "paused", updatedAt: at(T0 + 1), version: 1 })
          assert.isFalse(yield* d.integrations.update(paused, 5))
          sameValue(yield* d.integrations.get(i.id), Option.some(i))
          assert.isTrue(yield* d.integrations.update(paused, 0))
          sameValue(yield* d.integrations.get(i.id), Option.some(paused))
          // the same expected version again: the row moved on, nothing is written
          assert.isFalse(yield* d.integrations.update(new Domain.Integration({ ...i, failing: "x", version: 1 }), 0))
          sameValue(yield* d.integrations.get(i.id), Option.some(paused))
          const missing = integration()
          assert.isFalse(yield* d.integrations.update(missing, 0))
          assert.isTrue(Option.isNone(yield* d.integrations.get(missing.id)))
          // of writers racing from the same version, exactly one wins
          const wins = yield* Effect.all(
            Array.from({ length: 6 }, (_, n) =>
              d.integrations.update(new Domain.Integration({ ...paused, failing: `writer ${n}`, version: 2 }), 1)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(wins.filter((x) => x).length, 1)
          sameValue(Option.map(yield* d.integrations.get(i.id), (x) => x.failing), Option.some(`writer ${wins.indexOf(true)}`))
          // read with a lock (inside a unit) gives the same row
          const stored = yield* d.integrations.get(i.id)
          sameValue(yield* d.transaction(d.integrations.get(i.id, "update")), stored)
          sameValue(yield* d.transaction(d.integrations.get(i.id, "share")), stored)
        }))

      it.effect("cursors.compareAndSet: null expects no value; a value expects exactly it", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          assert.isFalse(yield* d.cursors.compareAndSet(i.id, "s", 1, 2))
          assert.isTrue(yield* d.cursors.compareAndSet(i.id, "s", null, 1))
          assert.isFalse(yield* d.cursors.compareAndSet(i.id, "s", null, 7))
          assert.isTrue(yield* d.cursors.compareAndSet(i.id, "s", 1, 2))
          sameValue(yield* d.cursors.get(i.id, "s"), Option.some(2))
          const wins = yield* Effect.all(
            Array.from({ length: 6 }, (_, n) => d.cursors.compareAndSet(i.id, "s", 2, 10 + n)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(wins.filter((x) => x).length, 1)
        }))

      // -----------------------------------------------------------------------
      // rows
      // -----------------------------------------------------------------------

      it.effect("integrations and queues: insertion order, tenants apart, an integration's own queues by identity", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const a = yield* setup()
          const b = yield* setup({ tenantId: a.tenantId })
          yield* setup()
          sameValue((yield* d.integrations.list(a.tenantId)).map((x) => x.id), [a.id, b.id])
          assert.strictEqual(yield* Effect.flip(d.integrations.insert(a)).pipe(Effect.map((e) => e._tag)), "StorageError")

          const manual = new Domain.Queue({ ...ownQueue(a, "q1"), createdByIntegration: false })
          yield* d.queues.insert(manual)
          const q1 = ownQueue(a, "q1")
          const q2 = ownQueue(a, "q2", "Two")
          sameValue(yield* d.queues.insertOwn([q1, q2]), new Set([q1.id, q2.id]))
          // the identity (integration, identifier, name) is taken: skipped, the first one stays
          const again = ownQueue(a, "q1")
          sameValue(yield* d.queues.insertOwn([again, ownQueue(b, "q1")]).pipe(Effect.map((s) => s.has(again.id))), false)
          sameValue(
            (yield* d.queues.findOwn(a.id, ["q1", "q2", "q3"])).map((q) => [q.id, q.identifier, q.name]).sort(),
            [[q1.id, "q1", "q1"], [q2.id, "q2", "Two"]].sort()
          )
          sameValue((yield* d.queues.list(a.tenantId, a.id)).map((q) => q.id), [manual.id, q1.id, q2.id])
          sameValue((yield* d.queues.list(a.tenantId)).map((q) => q.id).length, 4)
          yield* d.workloads.insert(
            new Domain.Workload({
              id: Domain.WorkloadId.make(unique("w")),
              tenantId: a.tenantId,
              name: "W",
              queueIds: [q2.id, q1.id],
              createdAt: at(T0)
            })
          )
          yield* d.workloads.dropQueue(q2.id)
          yield* d.queues.delete(q2.id)
          assert.isTrue(Option.isNone(yield* d.queues.get(q2.id)))
          sameValue((yield* d.workloads.list(a.tenantId)).map((w) => w.queueIds), [[q1.id]])
        }))

      it.effect("stats: add sums and keeps a row's length; replace deletes its ranges; clearWindow its window", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          const q = ownQueue(i, "q1")
          yield* d.queues.insertOwn([q])
          const id = q.id
          const row = (start: number, offered: number, lengthMinutes: Domain.IntervalMinutes = 15) => ({
            queueId: id,
            channel: "calls" as const,
            start,
            lengthMinutes,
            measures: measures(offered)
          })
          const rows = () =>
            Effect.map(
              d.stats.query({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: T0 * 2 }),
              (list) => [...list].sort((a, b) => a.start - b.start).map((r) => [r.start - T0, r.lengthMinutes, r.offered])
            )
          yield* d.stats.add(i, [row(T0, 1), row(T0 + Q, 2), row(T0 + 2 * Q, 3)])
          yield* d.stats.add(i, [row(T0, 10)])
          sameValue(yield* rows(), [[0, 15, 11], [Q, 15, 2], [2 * Q, 15, 3]])
          // a 30-minute aggregate replaces the rows inside [T0, T0 + 30 min)
          yield* d.stats.replace(i, [{ queueId: id, channel: "calls", start: T0, end: T0 + 2 * Q }], [row(T0, 7, 30)])
          sameValue(yield* rows(), [[0, 30, 7], [2 * Q, 15, 3]])
          // adding to it keeps its length
          yield* d.stats.add(i, [row(T0, 1)])
          sameValue(yield* rows(), [[0, 30, 8], [2 * Q, 15, 3]])
          yield* d.stats.clearWindow(i.id, T0 + Q, T0 + 3 * Q)
          sameValue(yield* rows(), [[0, 30, 8]])
          // filters: another tenant sees nothing, queue ids select
          sameValue(yield* d.stats.query({ tenantId: Domain.TenantId.make(unique("t")), from: 0, to: T0 * 2 }), [])
          sameValue((yield* d.stats.query({ tenantId: i.tenantId, queueIds: [id], from: T0, to: T0 + 1 })).length, 1)
        }))

      it.effect("segments: load returns at least what new segments can touch; write deletes by ref and inserts", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          const H = 4 * Q
          yield* d.segments.write(i, [], [
            segment(i, "a-1", "READY", T0, T0 + H),
            segment(i, "a-1", "TALK", T0 + H, T0 + 2 * H),
            segment(i, "a-1", "BREAK", T0 + 5 * H, null),
            segment(i, "a-2", "READY", T0, T0 + H)
          ])
          const activities = (list: ReadonlyArray<StorageDriver.StoredSegment>) =>
            list.map((s) => `${s.segment.agentIdentifier}:${s.segment.activityIdentifier}`).sort()
          // touching [T0 + H, T0 + H]: the segment ending there and the one starting there
          const loaded = yield* d.segments.load(i.id, ["a-1"], T0 + H, T0 + H)
          for (const wanted of ["a-1:READY", "a-1:TALK"]) assert.include(activities(loaded), wanted)
          assert.notInclude(activities(loaded), "a-2:READY")
          // an open new segment from T0 + 3 h touches everything ending later: the open one
          assert.include(activities(yield* d.segments.load(i.id, ["a-1"], T0 + 3 * H, null)), "a-1:BREAK")
          assert.include(activities(yield* d.segments.loadWindow(i.id, T0 + 2 * H, T0 + 6 * H)), "a-1:BREAK")

          const talk = loaded.find((s) => s.segment.activityIdentifier === "TALK")!
          yield* d.segments.write(i, [talk.ref], [segment(i, "a-1", "ACW", T0 + H, T0 + 2 * H)])
          const after = yield* d.segments.query({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: T0 * 2 })
          sameValue(after.map((s) => `${s.agentIdentifier}:${s.activityIdentifier}`).sort(), [
            "a-1:ACW",
            "a-1:BREAK",
            "a-1:READY",
            "a-2:READY"
          ])
          sameValue(
            (yield* d.segments.query({ tenantId: i.tenantId, agentIdentifier: "a-2", from: 0, to: T0 * 2 })).length,
            1
          )
          sameValue([...(yield* d.segments.counts(i.id, "agent"))].sort((a, b) => a.externalId.localeCompare(b.externalId)), [
            { externalId: "a-1", segments: 3 },
            { externalId: "a-2", segments: 1 }
          ])
        }))

      it.effect("staging, idempotency, runs, mappings, keys: order, sums, expiry, uniqueness", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup()
          yield* d.staging.append(i.id, { records: 2, body: "first", at: T0 })
          yield* d.staging.append(i.id, { records: 3, body: "second", at: T0 })
          assert.strictEqual(yield* d.staging.held(i.id), 5)
          sameValue(yield* d.staging.list(i.id), ["first", "second"])
          yield* d.staging.clear(i.id)
          assert.strictEqual(yield* d.staging.held(i.id), 0)

          const record = { requestHash: "h", at: T0, accepted: 1, outcome: "Staged" as const }
          yield* d.idempotency.put(i.id, "old", record, 0)
          yield* d.idempotency.put(i.id, "new", { ...record, at: T0 + 10 }, 0)
          sameValue(yield* d.idempotency.get(i.id, "old"), Option.some(record))
          // a put may drop the records written at or before `expiredBefore`, never younger ones
          yield* d.idempotency.put(i.id, "newer", { ...record, at: T0 + 20 }, T0)
          assert.isTrue(Option.isSome(yield* d.idempotency.get(i.id, "new")))
          yield* d.idempotency.put(i.id, "new", { ...record, requestHash: "h2", at: T0 + 30 }, T0)
          sameValue(Option.map(yield* d.idempotency.get(i.id, "new"), (r) => r.requestHash), Option.some("h2"))

          const runs = [run(i, T0 + 1), run(i, T0 + 3), run(i, T0 + 2)]
          for (const r of runs) yield* d.runs.insert(r)
          sameValue(yield* d.runs.list(i.id, 2), [runs[1], runs[2]])
          assert.strictEqual(yield* Effect.flip(d.runs.insert(runs[0]!)).pipe(Effect.map((e) => e._tag)), "StorageError")

          yield* d.mappings.putAgents(i.id, [{ externalId: "b", employeeId: "1" }, { externalId: "a", employeeId: "2" }])
          yield* d.mappings.putAgents(i.id, [{ externalId: "b", employeeId: "3" }])
          sameValue(yield* d.mappings.agents(i.id), [{ externalId: "b", employeeId: "3" }, { externalId: "a", employeeId: "2" }])

          const key = new Domain.ApiKey({
            id: unique("key"),
            integrationId: i.id,
            tenantId: i.tenantId,
            prefix: "acdb_x",
            hash: unique("hash"),
            createdAt: at(T0),
            revokedAt: null
          })
          yield* d.apiKeys.insert(key)
          yield* d.apiKeys.revokeLive(i.id, T0 + 5)
          sameValue(
            Option.map(yield* d.apiKeys.findByHash(key.hash), (k) => k.revokedAt),
            Option.some(at(T0 + 5))
          )
        }))

      it.effect("link tasks: insert once, compare-and-set on the epoch, open and per-state lists in insertion order, undone with the unit", () =>
        Effect.gen(function*() {
          const d = yield* driver
          const i = yield* setup({ deliveryMode: "on-premise" })
          const l = link(i.tenantId)
          yield* d.links.insert(l)
          sameValue(yield* d.links.get(l.id), Option.some(l))
          const tasks = [linkTask(i), linkTask(i), linkTask(i)]
          for (const t of tasks) yield* d.linkTasks.insert(t)
          assert.strictEqual(yield* Effect.flip(d.linkTasks.insert(tasks[0]!)).pipe(Effect.map((e) => e._tag)), "StorageError")
          const leased = new LinkModel.LinkTask({ ...tasks[1]!, state: "leased", epoch: 1, leaseId: "l", leasedBy: l.id })
          assert.isTrue(yield* d.linkTasks.update(leased, 0))
          // a stale epoch writes nothing
          assert.isFalse(yield* d.linkTasks.update(new LinkModel.LinkTask({ ...tasks[1]!, epoch: 9 }), 0))
          sameValue(yield* d.linkTasks.get(leased.id), Option.some(leased))
          const done = new LinkModel.LinkTask({ ...tasks[0]!, state: "committed", epoch: 1, finishedAt: T0 + 1 })
          assert.isTrue(yield* d.linkTasks.update(done, 0))
          sameValue((yield* d.linkTasks.open(i.tenantId)).map((t) => t.id), [tasks[1]!.id, tasks[2]!.id])
          sameValue((yield* d.linkTasks.ofIntegration(i.id, ["committed"])).map((t) => t.id), [tasks[0]!.id])
          sameValue((yield* d.linkTasks.ofIntegration(i.id, [])).length, 0)

          // a failed unit of work undoes the task's change and its parts
          const failed = yield* Effect.exit(d.transaction(Effect.gen(function*() {
            yield* d.linkTasks.update(new LinkModel.LinkTask({ ...tasks[2]!, state: "withdrawn", epoch: 1 }), 0)
            yield* d.linkTasks.putPart(tasks[2]!.id, "r", { n: 0, records: 1, body: "x" })
            return yield* Effect.fail("boom")
          })))
          assert.isTrue(Exit.isFailure(failed))
          sameValue(yield* d.linkTasks.get(tasks[2]!.id), Option.some(tasks[2]))
          sameValue(yield* d.linkTasks.parts(tasks[2]!.id, "r"), [])
          yield* d.linkTasks.putPart(tasks[2]!.id, "r", { n: 1, records: 2, body: "b" })
          yield* d.linkTasks.putPart(tasks[2]!.id, "r", { n: 0, records: 1, body: "a" })
          assert.strictEqual((yield* d.linkTasks.parts(tasks[2]!.id, "r")).length, 2)
          yield* d.linkTasks.clearParts(tasks[2]!.id)
          sameValue(yield* d.linkTasks.parts(tasks[2]!.id, "r"), [])
          // prune drops tasks finished before the bound only
          yield* d.linkTasks.prune(T0 + 2)
          assert.isTrue(Option.isNone(yield* d.linkTasks.get(tasks[0]!.id)))
          assert.isTrue(Option.isSome(yield* d.linkTasks.get(tasks[1]!.id)))
        }))
    })
  })
}
