import { Domain, Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { SqlStorage } from "../src/index.js"
import { freshPgDatabase, tempSqliteFile } from "./utils.js"
import { integrationRow } from "./fixtures/integration.js"

const T0 = Date.parse("2026-03-02T09:00:00Z")
const WRITERS = 12
const BATCHES = 8
const CONTACTS = 60

const integration = (id: string) =>
  integrationRow(T0, {
    id: Domain.IntegrationId.make(id),
    tenantId: Domain.TenantId.make("tenant-concurrency"),
    name: id
  })

/**
 * WRITERS fibers push BATCHES batches each, at the same time, into the same queues and
 * quarter-hours (queues are created by whichever batch comes first), each followed by a batch
 * that opens a new status for the same agent. Sums must be exact, one queue per identity, and the
 * agent must end with non-overlapping segments and exactly one open one.
 */
const hammer = (store: Layer.Layer<Storage.Storage, unknown>) =>
  Effect.gen(function*() {
    const s = yield* Storage.Storage
    const i = integration(`concurrency-${Date.now()}-${Math.random().toString(36).slice(2)}`)
    yield* s.integrations.insert(i)
    const writer = (w: number) =>
      Effect.forEach(Array.from({ length: BATCHES }, (_, b) => b), (b) => {
        const contacts = Array.from({ length: CONTACTS }, (_, k): Domain.ContactEvent => ({
          queueIdentifier: `q${k % 3}`,
          queueName: `Queue ${k % 3}`,
          channel: "calls",
          timestamp: DateTime.unsafeMake(T0 + (k % 4) * 900_000 + w * 1_000 + b),
          offered: true,
          handled: k % 2 === 0,
          durationMs: 1_000 + k
        }))
        const statuses: Array<Domain.AgentStatus> = [{
          agentIdentifier: "a-1",
          activityIdentifier: `ACT-${w}-${b}`,
          start: DateTime.unsafeMake(T0 + (w * BATCHES + b) * 60_000),
          end: null
        }]
        // contacts and statuses in separate batches: the contact upserts' row locks would
        // otherwise serialise the whole batch, and the segment writes would never race
        const push = (batch: Domain.Batch) =>
          s.data.ingest({
            integrationId: i.id,
            batch,
            mode: "push",
            stagingLimit: 0,
            now: T0
          })
        return Effect.zipRight(
          push({ contacts, aggregates: [], statuses: [] }),
          push({ contacts: [], aggregates: [], statuses })
        )
      }, { discard: true })
    yield* Effect.forEach(Array.from({ length: WRITERS }, (_, w) => w), writer, {
      concurrency: "unbounded",
      discard: true
    })

    const queues = yield* s.queues.list({ tenantId: i.tenantId, integrationId: i.id })
    assert.deepStrictEqual(queues.map((q) => q.identifier).sort(), ["q0", "q1", "q2"])
    const rows = yield* s.data.intervalStats({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: T0 * 2 })
    assert.strictEqual(rows.length, 3 * 4)
    const sum = (k: keyof Domain.Measures) => rows.reduce((n, r) => n + r[k], 0)
    const perBatchHandlingMs = Array.from({ length: CONTACTS }, (_, k) => (k % 2 === 0 ? 1_000 + k : 0))
      .reduce((a, b) => a + b, 0)
    assert.strictEqual(sum("offered"), WRITERS * BATCHES * CONTACTS)
    assert.strictEqual(sum("handled"), (WRITERS * BATCHES * CONTACTS) / 2)
    assert.strictEqual(sum("handlingMs"), WRITERS * BATCHES * perBatchHandlingMs)

    const segments = yield* s.data.segments({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: T0 * 2 })
    assert.strictEqual(segments.filter((x) => x.end === null).length, 1, "exactly one open segment")
    for (let n = 1; n < segments.length; n++) {
      const prev = segments[n - 1]!
      assert.isTrue(prev.end !== null && prev.end <= segments[n]!.start, `segments ${n - 1} and ${n} overlap`)
    }
    return rows.length
  }).pipe(Effect.provide(store))

describe("concurrent writers", () => {
  it.effect(`SQLite: ${WRITERS} writers in one process, exact sums, no SQLITE_BUSY`, () =>
    Effect.asVoid(hammer(SqlStorage.layerSqlite({ filename: tempSqliteFile() }))))

  it.scoped(`PostgreSQL: ${WRITERS} writers on ${WRITERS} connections into the same rows, exact sums`, () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* hammer(SqlStorage.layerPg({ url, maxConnections: WRITERS }))
    }))

  it.scoped("PostgreSQL: two pools (as two engine processes) writing at once", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      // create the schema first, then let both pools race
      yield* Effect.provide(Effect.void, SqlStorage.layerPg({ url, maxConnections: 1 }))
      const s1 = SqlStorage.layerPg({ url, maxConnections: 4 })
      const s2 = SqlStorage.layerPg({ url, maxConnections: 4 })
      const one = Effect.provide(
        Effect.gen(function*() {
          const s = yield* Storage.Storage
          const i = integration("two-pools")
          yield* s.integrations.insert(i)
          return i
        }),
        s1
      )
      const i = yield* one
      const push = Effect.flatMap(Storage.Storage, (s) =>
          Effect.forEach(
            Array.from({ length: 20 }, (_, b) => b),
            () =>
              s.data.ingest({
                integrationId: i.id,
                batch: {
                  contacts: [{
                    queueIdentifier: "shared",
                    queueName: "Shared",
                    channel: "calls",
                    timestamp: DateTime.unsafeMake(T0),
                    offered: true,
                    handled: true,
                    durationMs: 10
                  }],
                  aggregates: [],
                  statuses: []
                },
                mode: "push",
                stagingLimit: 0,
                now: T0
              }),
            { concurrency: 4, discard: true }
          ))
      yield* Effect.all([Effect.provide(push, s1), Effect.provide(push, s2)], { concurrency: 2 })
      const rows = yield* Effect.provide(
        Effect.flatMap(Storage.Storage, (s) => s.data.intervalStats({ tenantId: i.tenantId, from: 0, to: T0 * 2 })),
        s1
      )
      assert.strictEqual(rows.length, 1)
      assert.strictEqual(rows[0]!.offered, 40)
      assert.strictEqual(rows[0]!.handlingMs, 400)
    }))
})
