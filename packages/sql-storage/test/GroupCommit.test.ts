/**
 * Group commit on SQLite: transactions that queue while another one commits share one COMMIT,
 * each in its own savepoint. Commits are counted in the write-ahead log itself (a frame whose
 * header carries the database size ends a commit), so the count is the database's, not ours.
 */
import { Domain, Errors, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import { SqlStorage } from "../src/index.js"
import { integrationRow } from "./fixtures/integration.js"
import { sqliteClient, tempSqliteFile } from "./utils.js"

const T0 = Date.parse("2026-03-02T09:00:00Z")
const tenantId = Domain.TenantId.make("tenant-group")

/** Commits in the WAL since its last reset: frames of the current salt whose "database size" field is set. */
const walCommits = (filename: string): number => {
  const walFile = `${filename}-wal`
  if (!fs.existsSync(walFile)) return 0
  const wal = fs.readFileSync(walFile)
  if (wal.length < 32) return 0
  const pageSize = wal.readUInt32BE(8)
  const salt1 = wal.readUInt32BE(16)
  const salt2 = wal.readUInt32BE(20)
  let commits = 0
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break
    if (wal.readUInt32BE(at + 4) !== 0) commits++
  }
  return commits
}

class Boom extends Data.TaggedError("Boom")<{ readonly part: string }> {}

/** The driver and the store over one SQLite file, with the WAL never checkpointed (so it can be counted). */
const setup = (filename: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const driver = yield* SqlStorage.makeDriver()
    const store = yield* Storage.make(driver)
    yield* sql.unsafe("PRAGMA wal_autocheckpoint = 0")
    const integration = integrationRow(T0, { id: Domain.IntegrationId.make("group-1"), tenantId, name: "group" })
    yield* store.integrations.insert(integration)
    /**
     * Holds the connection in a transaction until the returned `release` runs, so the
     * transactions started meanwhile queue behind it and form the next group.
     */
    const hold = Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(driver.transaction(
        Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(gate))
      ))
      yield* Deferred.await(started)
      return Effect.zipRight(Deferred.succeed(gate, undefined), Fiber.join(fiber))
    })
    return { sql, driver, store, integration, hold, commits: () => walCommits(filename) }
  })

const status = (agent: string, minute: number): Domain.AgentStatus => ({
  agentIdentifier: agent,
  activityIdentifier: "READY",
  start: DateTime.unsafeMake(T0 + minute * 60_000),
  end: null
})

/** Lets every forked fiber reach the queue (they only wait there). */
const settle = Effect.sleep("50 millis")

describe("group commit (SQLite)", () => {
  it.live("pushes that queue behind a commit are applied by one COMMIT, each answered after it", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { commits, hold, integration, store } = yield* setup(filename)
      const release = yield* hold
      const before = commits()
      const pushes = yield* Effect.forEach(Array.from({ length: 20 }, (_, k) => k), (k) =>
        Effect.fork(store.data.ingest({
          integrationId: integration.id,
          batch: { ...Domain.emptyBatch, statuses: [status(`agent-${k}`, k)] },
          mode: "push",
          stagingLimit: 0,
          now: T0
        })))
      yield* settle
      // nothing is answered while the commit they queue behind is held
      for (const push of pushes) assert.isTrue(Option.isNone(yield* Fiber.poll(push)))
      yield* release
      const outcomes = yield* Effect.forEach(pushes, Fiber.join)
      for (const outcome of outcomes) assert.deepInclude(outcome, { _tag: "Applied", accepted: 1, statusesApplied: 1 })
      // one for the twenty (the held transaction wrote nothing, so its commit adds no frame)
      assert.strictEqual(commits() - before, 1)
      const segments = yield* store.data.segments({ tenantId, from: 0, to: T0 * 2 })
      assert.strictEqual(segments.length, 20)
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("pushes that arrive in one turn of the event loop, nothing in flight, share one commit", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { commits, integration, store } = yield* setup(filename)
      const before = commits()
      // each arrives in its own callback of one turn of the event loop, as requests read from
      // their sockets do: the first must not begin (and commit) a transaction before the others queue
      const arrive = Effect.async<void>((resume) => {
        setImmediate(() => resume(Effect.void))
      })
      const outcomes = yield* Effect.forEach(Array.from({ length: 10 }, (_, k) => k), (k) =>
        Effect.zipRight(arrive, store.data.ingest({
          integrationId: integration.id,
          batch: { ...Domain.emptyBatch, statuses: [status(`agent-${k}`, k)] },
          mode: "push",
          stagingLimit: 0,
          now: T0
        })), { concurrency: "unbounded" })
      assert.strictEqual(outcomes.length, 10)
      assert.strictEqual(commits() - before, 1)
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("a lone transaction commits at once, by itself", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { commits, driver, integration } = yield* setup(filename)
      const before = commits()
      for (let k = 0; k < 3; k++) {
        yield* driver.transaction(driver.cursors.set(integration.id, `s${k}`, k))
        assert.strictEqual(commits() - before, k + 1)
      }
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("a lone transaction runs on the transaction itself, without a savepoint of its own", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { driver, integration, sql } = yield* setup(filename)
      // a savepoint makes SQLite copy each page the part changes into a sub-journal (as much work
      // as a batch's interval upserts); @effect/sql names a part's savepoint effect_sql_1
      const savepoint = yield* driver.transaction(
        Effect.zipRight(
          driver.cursors.set(integration.id, "lone", 1),
          Effect.either(sql.unsafe("RELEASE SAVEPOINT effect_sql_1"))
        )
      )
      assert.isTrue(savepoint._tag === "Left", "the lone part ran inside a savepoint")
      assert.isTrue(Option.isSome(yield* driver.cursors.get(integration.id, "lone")))
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("a lone transaction that fails after writing leaves nothing written", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { commits, driver, integration, store } = yield* setup(filename)
      const before = commits()
      const boom = yield* Effect.flip(driver.transaction(
        Effect.zipRight(driver.cursors.set(integration.id, "lone", 1), new Boom({ part: "lone" }))
      ))
      assert.strictEqual(boom._tag === "Boom" ? boom.part : boom._tag, "lone")
      assert.isTrue(Option.isNone(yield* store.cursors.get(integration.id, "lone")))
      assert.strictEqual(commits() - before, 0)
      // an interrupted lone part is rolled back the same way
      const inside = yield* Deferred.make<void>()
      const stuck = yield* Effect.fork(driver.transaction(
        driver.cursors.set(integration.id, "stuck", 1).pipe(
          Effect.zipRight(Deferred.succeed(inside, undefined)),
          Effect.zipRight(Effect.never)
        )
      ))
      yield* Deferred.await(inside)
      yield* Fiber.interrupt(stuck)
      assert.isTrue(Option.isNone(yield* store.cursors.get(integration.id, "stuck")))
      // and the next transaction commits normally
      yield* driver.transaction(driver.cursors.set(integration.id, "next", 1))
      assert.deepStrictEqual([...(yield* store.cursors.list(integration.id)).keys()], ["next"])
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("a part that fails rolls back only its own writes; the others in its group commit", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { commits, driver, hold, integration, store } = yield* setup(filename)
      // the lease of a node that lost it: epoch 6 is current
      yield* store.cursors.set(integration.id, "lease", 6)
      const release = yield* hold
      const before = commits()
      const push = (agent: string, minute: number, fence?: { stream: string; epoch: number }) =>
        Effect.fork(store.data.ingest({
          integrationId: integration.id,
          batch: { ...Domain.emptyBatch, statuses: [status(agent, minute)] },
          mode: "push",
          stagingLimit: 0,
          now: T0,
          fence
        }))
      const first = yield* push("a-1", 1)
      // writes, then fails with its own error: its write must go with it
      const failing = yield* Effect.fork(driver.transaction(
        Effect.zipRight(driver.cursors.set(integration.id, "failing", 1), new Boom({ part: "second" }))
      ))
      const fenced = yield* push("a-fenced", 2, { stream: "lease", epoch: 5 })
      const last = yield* push("a-2", 3)
      yield* settle
      yield* release

      assert.deepInclude(yield* Fiber.join(first), { _tag: "Applied", statusesApplied: 1 })
      assert.deepInclude(yield* Fiber.join(last), { _tag: "Applied", statusesApplied: 1 })
      const boom = yield* Effect.flip(Fiber.join(failing))
      assert.deepStrictEqual(boom._tag === "Boom" ? boom.part : boom._tag, "second")
      const lost = yield* Effect.flip(Fiber.join(fenced))
      assert.strictEqual(lost._tag, "OwnershipLost")

      assert.isTrue(Option.isNone(yield* store.cursors.get(integration.id, "failing")))
      const agents = (yield* store.data.segments({ tenantId, from: 0, to: T0 * 2 })).map((s) => s.agentIdentifier)
      assert.deepStrictEqual(agents, ["a-1", "a-2"])
      // still one commit for the group
      assert.strictEqual(commits() - before, 1)
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("a part whose database write fails undoes the group; the others run again and commit", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { driver, hold, integration, sql, store } = yield* setup(filename)
      const release = yield* hold
      const write = (stream: string) => Effect.fork(driver.transaction(driver.cursors.set(integration.id, stream, 1)))
      const a = yield* write("a")
      // a statement the database refuses, after a write of its own
      const broken = yield* Effect.fork(driver.transaction(
        Effect.zipRight(
          driver.cursors.set(integration.id, "broken", 1),
          sql`INSERT INTO no_such_table VALUES (1)`.pipe(
            Effect.mapError((cause) => Errors.StorageError.fromCause("test", cause))
          )
        )
      ))
      const b = yield* write("b")
      yield* settle
      yield* release
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      const error = yield* Effect.flip(Fiber.join(broken))
      assert.strictEqual(error._tag, "StorageError")
      const streams = yield* store.cursors.list(integration.id)
      assert.deepStrictEqual([...streams.keys()].sort(), ["a", "b"])
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("an interrupted part is rolled back to its savepoint and the group goes on", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { commits, driver, hold, integration, store } = yield* setup(filename)
      const release = yield* hold
      const before = commits()
      const inside = yield* Deferred.make<void>()
      const stuck = yield* Effect.fork(driver.transaction(
        driver.cursors.set(integration.id, "stuck", 1).pipe(
          Effect.zipRight(Deferred.succeed(inside, undefined)),
          Effect.zipRight(Effect.never)
        )
      ))
      const after = yield* Effect.fork(driver.transaction(driver.cursors.set(integration.id, "after", 1)))
      yield* settle
      yield* release
      yield* Deferred.await(inside)
      yield* Fiber.interrupt(stuck)
      yield* Fiber.join(after)
      const streams = yield* store.cursors.list(integration.id)
      assert.deepStrictEqual([...streams.keys()], ["after"])
      assert.strictEqual(commits() - before, 1)
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("an idempotency key repeated inside one group applies once", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { hold, integration, store } = yield* setup(filename)
      const release = yield* hold
      const push = (requestHash: string) =>
        Effect.fork(store.data.ingest({
          integrationId: integration.id,
          batch: { ...Domain.emptyBatch, statuses: [status("a-1", 1)] },
          mode: "push",
          stagingLimit: 0,
          now: T0,
          idempotency: { key: "k-1", requestHash, ttlMs: 60_000 }
        }))
      const first = yield* push("h")
      const repeat = yield* push("h")
      const reused = yield* push("other")
      yield* settle
      yield* release
      assert.strictEqual((yield* Fiber.join(first))._tag, "Applied")
      assert.deepInclude(yield* Fiber.join(repeat), { _tag: "Replayed", outcome: "Applied" })
      assert.strictEqual((yield* Effect.flip(Fiber.join(reused)))._tag, "IdempotencyKeyReused")
      assert.strictEqual((yield* store.data.segments({ tenantId, from: 0, to: T0 * 2 })).length, 1)
    }).pipe(Effect.provide(sqliteClient(filename)))
  })

  it.live("a transaction inside a transaction joins it instead of waiting behind it", () => {
    const filename = tempSqliteFile()
    return Effect.gen(function*() {
      const { driver, integration, store } = yield* setup(filename)
      yield* driver.transaction(Effect.gen(function*() {
        yield* driver.cursors.set(integration.id, "outer", 1)
        yield* Effect.flip(driver.transaction(
          Effect.zipRight(driver.cursors.set(integration.id, "inner", 1), new Boom({ part: "inner" }))
        ))
      })).pipe(Effect.timeout("5 seconds"))
      const streams = yield* store.cursors.list(integration.id)
      assert.deepStrictEqual([...streams.keys()], ["outer"])
    }).pipe(Effect.provide(sqliteClient(filename)))
  })
})
