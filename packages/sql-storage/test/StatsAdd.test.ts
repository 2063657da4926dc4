/**
 * `stats.add`, the additive upsert every batch ends in, on both databases: a call with more
 * rows than one statement takes adds up exactly, and a call made outside any transaction is a
 * unit of its own (the driver contract), so a row that can't be written leaves none of the
 * call's rows behind.
 */
import { Domain, StorageDriver } from "@acd-bridge/core"
import { assert, describe, layer } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { randomUUID } from "node:crypto"
import { SqlStorage } from "../src/index.js"
import * as StoreClient from "../src/internal/sqliteClient.js"
import { freshPgDatabase, layerFromScoped, pgClient, sqliteClient, tempSqliteFile } from "./utils.js"

const T0 = Date.parse("2026-03-02T09:00:00Z")
const Q = 900_000

const setup = Effect.gen(function*() {
  const d = yield* StorageDriver.StorageDriver
  const integration = new Domain.Integration({
    id: Domain.IntegrationId.make(`int-${randomUUID()}`),
    tenantId: Domain.TenantId.make(`tenant-${randomUUID()}`),
    name: "stats",
    connector: "test",
    deliveryMode: "cloud",
    dataKinds: ["contacts"],
    schedule: { type: "historical", everyMinutes: 15 },
    timezone: "UTC",
    config: {},
    historyDepthDays: 30,
    status: "active",
    failing: null,
    createdAt: DateTime.unsafeMake(T0),
    updatedAt: DateTime.unsafeMake(T0),
    deletedAt: null
  })
  yield* d.integrations.insert(integration)
  const queues = Array.from({ length: 3 }, (_, n) =>
    new Domain.Queue({
      id: Domain.QueueId.make(`queue-${randomUUID()}`),
      tenantId: integration.tenantId,
      integrationId: integration.id,
      identifier: `q-${n}`,
      name: `Queue ${n}`,
      channel: "calls",
      createdByIntegration: true,
      createdAt: DateTime.unsafeMake(T0)
    }))
  yield* d.queues.insertOwn(queues)
  return { d, integration, queues }
})

/** `perQueue` quarter-hours of each queue, sorted as core hands them over (queue, channel, start). */
const rowsOf = (queues: ReadonlyArray<Domain.Queue>, perQueue: number, offered: (q: number, k: number) => number) =>
  [...queues].sort((a, b) => (a.id < b.id ? -1 : 1)).flatMap((queue) =>
    Array.from({ length: perQueue }, (_, k): StorageDriver.StatRow => ({
      queueId: queue.id,
      channel: "calls",
      start: T0 + k * Q,
      lengthMinutes: 15,
      measures: { ...Domain.emptyMeasures, offered: offered(queues.indexOf(queue), k), handlingMs: 1_000 * k }
    }))
  )

const totals = (d: StorageDriver.StorageDriverShape, integration: Domain.Integration) =>
  Effect.map(
    d.stats.query({ tenantId: integration.tenantId, integrationId: integration.id, from: 0, to: T0 * 2 }),
    (rows) => ({
      rows: rows.length,
      offered: rows.reduce((n, r) => n + r.offered, 0),
      handlingMs: rows.reduce((n, r) => n + r.handlingMs, 0)
    })
  )

const cases = (name: string, driver: Layer.Layer<StorageDriver.StorageDriver, unknown>) =>
  describe(`stats.add: ${name}`, () => {
    layer(driver, { timeout: "120 seconds", excludeTestServices: true })((it) => {
      it.effect("a call of more rows than one statement takes adds every row, again on a repeat", () =>
        Effect.gen(function*() {
          const { d, integration, queues } = yield* setup
          // 3 × 150 = 450 rows: more than a multi-row statement's 128
          const rows = rowsOf(queues, 150, (q, k) => q + k + 1)
          const offered = rows.reduce((n, r) => n + r.measures.offered, 0)
          const handlingMs = rows.reduce((n, r) => n + r.measures.handlingMs, 0)
          yield* d.stats.add(integration, rows)
          assert.deepStrictEqual(yield* totals(d, integration), { rows: 450, offered, handlingMs })
          yield* d.transaction(d.stats.add(integration, rows))
          assert.deepStrictEqual(yield* totals(d, integration), { rows: 450, offered: 2 * offered, handlingMs: 2 * handlingMs })
        }))

      it.effect("outside a transaction a call is one unit: a row that can't be written leaves none of its rows", () =>
        Effect.gen(function*() {
          const { d, integration, queues } = yield* setup
          const rows = rowsOf(queues, 150, () => 1)
          // the last row names a queue that doesn't exist (the foreign key refuses it)
          const orphan: StorageDriver.StatRow = { ...rows[rows.length - 1]!, queueId: Domain.QueueId.make("no-such-queue") }
          const exit = yield* Effect.exit(d.stats.add(integration, [...rows, orphan]))
          assert.isTrue(Exit.isFailure(exit))
          assert.deepStrictEqual(yield* totals(d, integration), { rows: 0, offered: 0, handlingMs: 0 })
        }))

      it.effect("inside a unit of work a row that can't be written fails the unit, and none of its rows stay", () =>
        Effect.gen(function*() {
          const { d, integration, queues } = yield* setup
          const rows = rowsOf(queues, 40, () => 1)
          // a row in the middle names a queue that doesn't exist: the rows before it were written
          const orphan: StorageDriver.StatRow = { ...rows[60]!, queueId: Domain.QueueId.make("no-such-queue") }
          const exit = yield* Effect.exit(
            d.transaction(d.stats.add(integration, [...rows.slice(0, 60), orphan, ...rows.slice(61)]))
          )
          assert.isTrue(Exit.isFailure(exit))
          assert.deepStrictEqual(yield* totals(d, integration), { rows: 0, offered: 0, handlingMs: 0 })
          yield* d.transaction(d.stats.add(integration, rows))
          assert.deepStrictEqual(yield* totals(d, integration), { rows: 120, offered: 120, handlingMs: 40 * 3 * 39 * 1_000 / 2 })
        }))
    })
  })

cases("SQLite", SqlStorage.layerDriver().pipe(Layer.provide(sqliteClient(tempSqliteFile()))))
// the client `layerSqlite` opens, whose connection writes a call's rows in one step (`executeEach`)
cases("SQLite, the store's own client", SqlStorage.layerDriver().pipe(Layer.provide(StoreClient.layer({ filename: tempSqliteFile() }))))
cases(
  "PostgreSQL",
  layerFromScoped(freshPgDatabase, (url) => SqlStorage.layerDriver().pipe(Layer.provide(pgClient(url, 4))))
)
