import { Domain, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { SqlStorage } from "../src/index.js"
import * as Migrations from "../src/internal/migrations.js"
import { freshPgDatabase, pgClient, sqliteClient, tempSqliteFile } from "./utils.js"

const T0 = Date.parse("2026-03-02T09:00:00Z")
const integrationId = Domain.IntegrationId.make("int-v1")
const tenantId = Domain.TenantId.make("tenant-v1")
const queueId = Domain.QueueId.make("queue-v1")

/** Writes data the way version 1 of the schema stored it (no `problems` on runs, no secondary indexes). */
const seedVersion1 = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const bool = sql.onDialectOrElse({ pg: () => true, orElse: () => 1 })
  yield* sql`INSERT INTO integrations ${
    sql.insert({
      id: integrationId,
      tenant_id: tenantId,
      name: "Legacy",
      connector: "api-push",
      delivery_mode: "cloud",
      data_kinds: JSON.stringify(["contacts", "agentStatuses"]),
      schedule: JSON.stringify({ type: "historical", everyMinutes: 30 }),
      timezone: "Europe/Berlin",
      config: JSON.stringify({ v: { folder: "/in" } }),
      history_depth_days: 30,
      status: "active",
      failing: null,
      created_at: T0,
      updated_at: T0,
      deleted_at: null
    })
  }`
  yield* sql`INSERT INTO queues ${
    sql.insert({
      id: queueId,
      tenant_id: tenantId,
      integration_id: integrationId,
      identifier: "q1",
      name: "Level 1",
      channel: "calls",
      created_by_integration: bool,
      created_at: T0
    })
  }`
  yield* sql`INSERT INTO interval_stats ${
    sql.insert({
      queue_id: queueId,
      channel: "calls",
      start_ms: T0,
      integration_id: integrationId,
      tenant_id: tenantId,
      length_minutes: 15,
      offered: 5,
      handled: 4,
      handling_ms: 400_000,
      unhandled_ms: 10_000,
      talk_ms: 0,
      hold_ms: 0,
      after_call_work_ms: 0,
      wait_ms: 0,
      abandoned: 1,
      answered_in_threshold: 3
    })
  }`
  yield* sql`INSERT INTO agent_segments ${
    sql.insert({
      integration_id: integrationId,
      tenant_id: tenantId,
      agent_identifier: "a-1",
      activity_identifier: "READY",
      start_ms: T0,
      end_ms: null
    })
  }`
  yield* sql`INSERT INTO import_runs ${
    sql.insert({
      id: "run-v1",
      integration_id: integrationId,
      kind: "pull",
      window_start: T0,
      window_end: T0 + 900_000,
      records_read: 6,
      records_applied: 5,
      records_rejected: 1,
      started_at: T0,
      duration_ms: 12,
      error: null
    })
  }`
  yield* sql`INSERT INTO cursors ${
    sql.insert({ integration_id: integrationId, stream: "contacts", value: T0 + 900_000 })
  }`
})

const appliedMigrations = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<
      { readonly migration_id: number | string }
    >`SELECT migration_id FROM acd_bridge_migrations ORDER BY migration_id`
      .pipe(Effect.map((rows) => rows.map((r) => Number(r.migration_id))))
)

/** After migrating forward, everything version 1 stored reads back through the port, and new data adds up. */
const checkMigrated = Effect.gen(function*() {
  const s = yield* Storage.Storage
  const integration = Option.getOrThrow(yield* s.integrations.get(integrationId))
  assert.strictEqual(integration.name, "Legacy")
  assert.deepStrictEqual(integration.schedule, { type: "historical", everyMinutes: 30 })
  assert.deepStrictEqual(integration.config, { folder: "/in" })
  // rows from before migration 4 start at version 0, and state changes count up from there
  assert.strictEqual(integration.version, 0)
  const runs = yield* s.runs.list(integrationId, 10)
  assert.strictEqual(runs.length, 1)
  assert.deepStrictEqual(runs[0]!.problems, [])
  assert.strictEqual(runs[0]!.rejected, 1)
  assert.deepStrictEqual(Option.getOrUndefined(yield* s.cursors.get(integrationId, "contacts")), T0 + 900_000)
  const segments = yield* s.data.segments({ tenantId, from: 0, to: T0 + 1 })
  assert.deepStrictEqual(segments.map((x) => [x.agentIdentifier, x.activityIdentifier, x.start, x.end]), [[
    "a-1",
    "READY",
    T0,
    null
  ]])

  // new data lands on the old rows: the queue is found again, the counts add up
  const outcome = yield* s.data.ingest({
    integrationId,
    batch: {
      ...Domain.emptyBatch,
      contacts: [{
        queueIdentifier: "q1",
        queueName: "Level 1",
        channel: "calls",
        timestamp: DateTime.unsafeMake(T0 + 60_000),
        offered: true,
        handled: true,
        durationMs: 100_000
      }, {
        queueIdentifier: "q1",
        queueName: "Level 1",
        channel: "calls",
        timestamp: DateTime.unsafeMake(T0 + 120_000),
        offered: true,
        handled: false,
        durationMs: 4_000,
        abandoned: true,
        shortAbandoned: true
      }, {
        queueIdentifier: "q1",
        queueName: "Level 1",
        channel: "calls",
        timestamp: DateTime.unsafeMake(T0 + 180_000),
        offered: true,
        handled: false,
        durationMs: 50_000,
        breakout: true
      }]
    },
    mode: "push",
    stagingLimit: 100,
    now: T0
  })
  assert.strictEqual(outcome._tag === "Applied" ? outcome.createdQueues.length : -1, 0)
  const stats = yield* s.data.intervalStats({ tenantId, integrationId, from: T0, to: T0 + 1 })
  // rows of version 1 had no short abandons or breakouts: they read as 0 and add up
  assert.deepStrictEqual(
    stats.map((r) => [r.queueId, r.offered, r.handled, r.handlingMs, r.abandoned, r.shortAbandoned, r.breakout]),
    [[queueId, 8, 5, 500_000, 2, 1, 1]]
  )
  const paused = yield* s.integrations.pause(integrationId, T0 + 1)
  assert.deepStrictEqual([paused.status, paused.version], ["paused", 1])
  assert.deepStrictEqual(
    Option.map(yield* s.integrations.get(integrationId), (i) => [i.status, i.version]),
    Option.some(["paused", 1])
  )
})

describe("migrations", () => {
  it.effect("SQLite: a database of migration 1 migrates forward with its data intact", () =>
    Effect.gen(function*() {
      const filename = tempSqliteFile()
      // the fixture: a database file as version 1 of the package left it
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* Migrations.run(1), [[1, "create_tables"]])
        yield* seedVersion1
        const sql = yield* SqlClient.SqlClient
        const columns = yield* sql<{ readonly name: string }>`SELECT name FROM pragma_table_info('import_runs')`
        assert.isFalse(columns.some((c) => c.name === "problems"))
      }).pipe(Effect.provide(sqliteClient(filename)))

      yield* checkMigrated.pipe(
        Effect.provide(SqlStorage.layer.pipe(Layer.provideMerge(sqliteClient(filename))))
      )
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* appliedMigrations, [1, 2, 3, 4, 5, 6, 7])
        const sql = yield* SqlClient.SqlClient
        const indexes = yield* sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'index'`
        assert.includeMembers(indexes.map((i) => i.name), [
          "interval_stats_integration_start",
          // 5: a tenant's personal access tokens, idempotency records by age (retention)
          "access_tokens_tenant",
          "idempotency_keys_at"
        ])
        // 7: interval rows stored in the order of their key (no rowid), their two indexes made again
        const table = yield* sql<{ readonly sql: string }>`SELECT sql FROM sqlite_master WHERE name = 'interval_stats'`
        assert.match(table[0]!.sql, /WITHOUT ROWID/)
        assert.includeMembers(indexes.map((i) => i.name), ["interval_stats_tenant_start"])
        assert.notInclude(indexes.map((i) => i.name), "sqlite_autoindex_interval_stats_1")
        // starting again applies nothing
        assert.deepStrictEqual(yield* Migrations.run(), [])
      }).pipe(Effect.provide(sqliteClient(filename)))
    }))

  it.scoped("PostgreSQL: a database of migration 1 migrates forward with its data intact", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* Migrations.run(1), [[1, "create_tables"]])
        yield* seedVersion1
        const sql = yield* SqlClient.SqlClient
        const columns = yield* sql<{ readonly column_name: string }>`SELECT column_name FROM information_schema.columns
          WHERE table_name = 'import_runs'`
        assert.isFalse(columns.some((c) => c.column_name === "problems"))
      }).pipe(Effect.provide(pgClient(url)))

      yield* checkMigrated.pipe(Effect.provide(SqlStorage.layerPg({ url })))
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* appliedMigrations, [1, 2, 3, 4, 5, 6, 7])
        const sql = yield* SqlClient.SqlClient
        const indexes = yield* sql<{ readonly indexname: string }>`SELECT indexname FROM pg_indexes`
        assert.includeMembers(indexes.map((i) => i.indexname), [
          "interval_stats_integration_start",
          "access_tokens_tenant",
          "idempotency_keys_at"
        ])
        assert.deepStrictEqual(yield* Migrations.run(), [])
      }).pipe(Effect.provide(pgClient(url)))
    }))
})
