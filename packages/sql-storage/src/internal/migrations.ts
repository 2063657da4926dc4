/**
 * The schema, as versioned migrations for @effect/sql's Migrator. One definition for both
 * dialects: column types come from `types(dialect)`, so SQLite gets INTEGER/TEXT and
 * PostgreSQL BIGINT/BOOLEAN/BIGSERIAL. Timestamps are epoch milliseconds, durations integer
 * milliseconds.
 *
 * Never edit a migration that has shipped: add the next one.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

/** The table the migrator records applied migrations in (apart from the host's own). */
export const migrationsTable = "acd_bridge_migrations"

interface Types {
  /** 64-bit integer */
  readonly int: string
  readonly bool: string
  /** an auto-increasing primary key, giving insertion order */
  readonly seq: string
  readonly true: string
}

const sqliteTypes: Types = { int: "INTEGER", bool: "INTEGER", seq: "INTEGER PRIMARY KEY", true: "1" }
const pgTypes: Types = { int: "BIGINT", bool: "BOOLEAN", seq: "BIGSERIAL PRIMARY KEY", true: "TRUE" }

const statements = (make: (t: Types) => ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const t = sql.onDialectOrElse({ pg: () => pgTypes, orElse: () => sqliteTypes })
    for (const statement of make(t)) yield* sql.unsafe(statement)
  })

/** The measure columns of migration 1, in its order (later measures came with migration 3). */
const firstMeasures = [
  "offered",
  "handled",
  "handling_ms",
  "unhandled_ms",
  "talk_ms",
  "hold_ms",
  "after_call_work_ms",
  "wait_ms",
  "abandoned",
  "answered_in_threshold"
]

const measures = (t: Types) => firstMeasures.map((c) => `${c} ${t.int} NOT NULL`).join(",\n  ")

/** 1: every table with its keys. */
const createTables = statements((t) => [
  `CREATE TABLE integrations (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  connector TEXT NOT NULL,
  delivery_mode TEXT NOT NULL,
  data_kinds TEXT NOT NULL,
  schedule TEXT NOT NULL,
  timezone TEXT NOT NULL,
  config TEXT NOT NULL,
  history_depth_days ${t.int} NOT NULL,
  status TEXT NOT NULL,
  failing TEXT,
  created_at ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL,
  deleted_at ${t.int}
)`,
  `CREATE TABLE queues (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  integration_id TEXT REFERENCES integrations (id),
  identifier TEXT NOT NULL,
  name TEXT NOT NULL,
  channel TEXT NOT NULL,
  created_by_integration ${t.bool} NOT NULL,
  created_at ${t.int} NOT NULL
)`,
  // queue identity: integration + identifier + name, for the queues an integration creates
  `CREATE UNIQUE INDEX queues_identity ON queues (integration_id, identifier, name)
  WHERE created_by_integration = ${t.true}`,
  `CREATE TABLE workloads (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at ${t.int} NOT NULL
)`,
  `CREATE TABLE workload_queues (
  workload_id TEXT NOT NULL REFERENCES workloads (id) ON DELETE CASCADE,
  position ${t.int} NOT NULL,
  queue_id TEXT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
  PRIMARY KEY (workload_id, position)
)`,
  `CREATE INDEX workload_queues_queue ON workload_queues (queue_id)`,
  `CREATE TABLE agent_mappings (
  seq ${t.seq},
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  external_id TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  UNIQUE (integration_id, external_id)
)`,
  `CREATE TABLE activity_mappings (
  seq ${t.seq},
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  external_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  UNIQUE (integration_id, external_id)
)`,
  `CREATE TABLE api_keys (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  tenant_id TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at ${t.int} NOT NULL,
  revoked_at ${t.int}
)`,
  `CREATE INDEX api_keys_hash ON api_keys (hash)`,
  `CREATE INDEX api_keys_integration ON api_keys (integration_id)`,
  `CREATE TABLE access_tokens (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at ${t.int} NOT NULL,
  revoked_at ${t.int}
)`,
  `CREATE INDEX access_tokens_hash ON access_tokens (hash)`,
  `CREATE TABLE import_runs (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  kind TEXT NOT NULL,
  window_start ${t.int},
  window_end ${t.int},
  records_read ${t.int} NOT NULL,
  records_applied ${t.int} NOT NULL,
  records_rejected ${t.int} NOT NULL,
  started_at ${t.int} NOT NULL,
  duration_ms ${t.int} NOT NULL,
  error TEXT
)`,
  `CREATE TABLE cursors (
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  stream TEXT NOT NULL,
  value ${t.int} NOT NULL,
  PRIMARY KEY (integration_id, stream)
)`,
  `CREATE TABLE interval_stats (
  queue_id TEXT NOT NULL REFERENCES queues (id),
  channel TEXT NOT NULL,
  start_ms ${t.int} NOT NULL,
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  tenant_id TEXT NOT NULL,
  length_minutes ${t.int} NOT NULL,
  ${measures(t)},
  PRIMARY KEY (queue_id, channel, start_ms)
)`,
  `CREATE TABLE agent_segments (
  seq ${t.seq},
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  tenant_id TEXT NOT NULL,
  agent_identifier TEXT NOT NULL,
  activity_identifier TEXT NOT NULL,
  start_ms ${t.int} NOT NULL,
  end_ms ${t.int}
)`,
  `CREATE TABLE staged_batches (
  seq ${t.seq},
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  records ${t.int} NOT NULL,
  body TEXT NOT NULL,
  created_at ${t.int} NOT NULL
)`,
  `CREATE TABLE idempotency_keys (
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  at_ms ${t.int} NOT NULL,
  accepted ${t.int} NOT NULL,
  outcome TEXT NOT NULL,
  PRIMARY KEY (integration_id, idem_key)
)`
])

/**
 * 2: the indexes the queries need, and the rejected-record problems of import runs.
 */
const indexesAndRunProblems = statements(() => [
  `ALTER TABLE import_runs ADD COLUMN problems TEXT NOT NULL DEFAULT '[]'`,
  `CREATE INDEX import_runs_integration_started ON import_runs (integration_id, started_at)`,
  `CREATE INDEX integrations_tenant ON integrations (tenant_id, created_at)`,
  `CREATE INDEX queues_tenant ON queues (tenant_id, integration_id)`,
  `CREATE INDEX workloads_tenant ON workloads (tenant_id)`,
  `CREATE INDEX interval_stats_integration_start ON interval_stats (integration_id, start_ms)`,
  `CREATE INDEX interval_stats_tenant_start ON interval_stats (tenant_id, start_ms)`,
  `CREATE INDEX agent_segments_agent_start ON agent_segments (integration_id, agent_identifier, start_ms)`,
  `CREATE INDEX agent_segments_integration_end ON agent_segments (integration_id, end_ms)`,
  `CREATE INDEX agent_segments_tenant_end ON agent_segments (tenant_id, end_ms)`,
  `CREATE INDEX staged_batches_integration ON staged_batches (integration_id, seq)`,
  `CREATE INDEX idempotency_keys_age ON idempotency_keys (integration_id, at_ms)`
])

/**
 * 3: short abandons and breakouts (contacts that left the queue without an agent and without
 * hanging up) are counted apart from abandons. Existing rows had neither: 0.
 */
const shortAbandonsAndBreakouts = statements((t) => [
  `ALTER TABLE interval_stats ADD COLUMN short_abandoned ${t.int} NOT NULL DEFAULT 0`,
  `ALTER TABLE interval_stats ADD COLUMN breakout ${t.int} NOT NULL DEFAULT 0`
])

/**
 * 4: integrations count their state changes (pause, resume, failing, config, delete) in
 * `version`, which every change compares and sets, so no change overwrites another. Existing
 * rows start at 0.
 */
const integrationVersion = statements((t) => [
  `ALTER TABLE integrations ADD COLUMN version ${t.int} NOT NULL DEFAULT 0`
])

/**
 * 5: the indexes of the admin API and retention: a tenant's personal access tokens, and
 * idempotency records and import runs by age across integrations.
 */
const adminAndRetentionIndexes = statements(() => [
  `CREATE INDEX access_tokens_tenant ON access_tokens (tenant_id)`,
  `CREATE INDEX idempotency_keys_at ON idempotency_keys (at_ms)`
])

/**
 * 6: on-premise links and the tasks the engine offers them. An integration may name the link
 * that serves it. A task is kept as its JSON (`LinkModel.LinkTask`) with the columns the
 * queries select on; the parts of an uploaded result wait in `link_task_parts` until the
 * commit.
 */
const links = statements((t) => [
  `ALTER TABLE integrations ADD COLUMN link_id TEXT`,
  `CREATE TABLE links (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at ${t.int} NOT NULL,
  revoked_at ${t.int},
  last_seen_at ${t.int},
  agent_version TEXT,
  protocol ${t.int},
  serves TEXT NOT NULL
)`,
  `CREATE INDEX links_hash ON links (hash)`,
  `CREATE INDEX links_tenant ON links (tenant_id)`,
  `CREATE TABLE link_tasks (
  seq ${t.seq},
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  state TEXT NOT NULL,
  epoch ${t.int} NOT NULL,
  finished_at ${t.int},
  body TEXT NOT NULL
)`,
  `CREATE INDEX link_tasks_tenant_state ON link_tasks (tenant_id, state)`,
  `CREATE INDEX link_tasks_integration_state ON link_tasks (integration_id, state)`,
  `CREATE INDEX link_tasks_finished ON link_tasks (finished_at)`,
  `CREATE TABLE link_task_parts (
  task_id TEXT NOT NULL,
  result_id TEXT NOT NULL,
  n ${t.int} NOT NULL,
  records ${t.int} NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (task_id, result_id, n)
)`
])

/** Every column of `interval_stats` as migrations 1 and 3 left it, in that order. */
const intervalStatColumns = [
  "queue_id",
  "channel",
  "start_ms",
  "integration_id",
  "tenant_id",
  "length_minutes",
  ...firstMeasures,
  "short_abandoned",
  "breakout"
].join(", ")

/**
 * 7 (SQLite): `interval_stats` stored in the order of its key (queue, channel, start), as a
 * `WITHOUT ROWID` table. A rowid table keeps rows in insertion order, so one queue's month
 * (≈ 3,000 quarter-hours) lay on ≈ 2,400 pages shared with every other queue written at the
 * same time, each read through the key's index and then the table; clustered by the key, the
 * same rows are ≈ 70 adjacent pages, read once. It also drops the key's separate index, which
 * every upsert wrote. The table is copied in key order (existing databases: once, at the
 * first start of this version), then its two secondary indexes are made again.
 *
 * PostgreSQL has no clustered tables (its heap is in insertion order whatever is declared) and
 * reads a queue's range through the key's index: nothing changes there.
 */
const clusteredIntervalStats = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const isSqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
  if (!isSqlite) return
  for (
    const statement of [
      `CREATE TABLE interval_stats_by_key (
  queue_id TEXT NOT NULL REFERENCES queues (id),
  channel TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  tenant_id TEXT NOT NULL,
  length_minutes INTEGER NOT NULL,
  ${measures(sqliteTypes)},
  short_abandoned INTEGER NOT NULL DEFAULT 0,
  breakout INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (queue_id, channel, start_ms)
) WITHOUT ROWID`,
      `INSERT INTO interval_stats_by_key (${intervalStatColumns})
  SELECT ${intervalStatColumns} FROM interval_stats ORDER BY queue_id, channel, start_ms`,
      `DROP TABLE interval_stats`,
      `ALTER TABLE interval_stats_by_key RENAME TO interval_stats`,
      `CREATE INDEX interval_stats_integration_start ON interval_stats (integration_id, start_ms)`,
      `CREATE INDEX interval_stats_tenant_start ON interval_stats (tenant_id, start_ms)`
    ]
  ) yield* sql.unsafe(statement)
})

/**
 * Every migration, keyed `<id>_<name>` as `Migrator.fromRecord` expects.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_create_tables": createTables,
  "0002_indexes_and_run_problems": indexesAndRunProblems,
  "0003_short_abandons_and_breakouts": shortAbandonsAndBreakouts,
  "0004_integration_version": integrationVersion,
  "0005_admin_and_retention_indexes": adminAndRetentionIndexes,
  "0006_links": links,
  "0007_clustered_interval_stats": clusteredIntervalStats
}

/** The id of the newest migration. */
export const latest = 7

const migrator = Migrator.make({})

/**
 * Applies the migrations the database lacks, up to `upTo` (default: all), in one
 * transaction, recorded in `acd_bridge_migrations`. Returns the ones applied.
 */
export const run = (upTo: number = latest) =>
  migrator({
    table: migrationsTable,
    loader: Migrator.fromRecord(
      Object.fromEntries(Object.entries(migrations).filter(([key]) => Number(key.split("_")[0]) <= upTo))
    )
  })
