/**
 * The SQL store: one implementation of core's `Storage` port for every dialect @effect/sql
 * speaks that we support (SQLite and PostgreSQL), with `sql.onDialectOrElse` where the SQL
 * differs. It follows `Plan.plan` and `Segments` exactly as the memory store does, so the
 * domain rules live in core once.
 *
 * Concurrency:
 * - SQLite: the client runs every statement on one connection behind a semaphore, and a
 *   transaction holds it from BEGIN to COMMIT, so writers are serialised inside the process;
 *   `busy_timeout` covers other processes.
 * - PostgreSQL (READ COMMITTED): interval rows are upserted additively
 *   (`offered = interval_stats.offered + excluded.offered`) in a fixed key order; queues are
 *   created with `ON CONFLICT DO NOTHING` and read back; the integration row is read
 *   `FOR SHARE` by ingest and `FOR UPDATE` by resume/delete, so a status change waits for
 *   batches in flight; read-modify-write of agent segments is serialised per (integration,
 *   agent) by transaction-scoped advisory locks, and a window replace takes the integration's
 *   lock exclusively. Deadlocks and serialisation failures are retried.
 */
import { Domain, Errors, Plan, Segments, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { statementBatches } from "./batches.js"
import * as Migrations from "./migrations.js"
import * as Rows from "./rows.js"

type StorageShape = Storage.StorageShape
type IngestRequest = Storage.IngestRequest
type IngestOutcome = Storage.IngestOutcome

/** Options of the SQL store. */
export interface Options {
  /** SQLite only: how long a writer waits for another process's lock (default 5 seconds). */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /**
   * SQLite only: `full` (default) syncs the WAL at every commit, so a committed batch
   * survives power loss; `normal` syncs at checkpoints only (still safe against process
   * crashes, faster).
   */
  readonly synchronous?: "full" | "normal" | undefined
}

// advisory lock namespaces (PostgreSQL)
const LOCK_INTEGRATION = 7301
const LOCK_AGENT = 7302
const LOCK_IDEMPOTENCY = 7303
const LOCK_STAGING = 7304

/** Multi-row statements in power-of-two sizes: few distinct SQL texts to prepare (see `batches.ts`). */
const chunks = statementBatches

const isSqlError = (u: unknown): u is SqlError => Predicate.isTagged(u, "SqlError")
const isParseError = (u: unknown): u is ParseResult.ParseError => Predicate.isTagged(u, "ParseError")

const causeText = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  return String(cause)
}

/** PostgreSQL deadlock / serialisation failure, SQLite busy: worth running the transaction again. */
const isTransient = (u: unknown): boolean => {
  if (!isSqlError(u)) return false
  const cause = u.cause
  if (typeof cause !== "object" || cause === null || !("code" in cause)) return false
  const code = String(cause.code)
  return code === "40P01" || code === "40001" || code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT"
}

/** Maps @effect/sql's `SqlError` (and a row that fails to decode) to core's `StorageError`. */
const edge = (operation: string) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError> | Errors.StorageError, R> =>
  Effect.mapError(self, (error): Exclude<E, SqlError | ParseResult.ParseError> | Errors.StorageError => {
    if (isSqlError(error)) {
      return new Errors.StorageError({ operation, reason: `${error.message}: ${causeText(error.cause)}` })
    }
    if (isParseError(error)) return new Errors.StorageError({ operation, reason: error.message })
    return error as Exclude<E, SqlError | ParseResult.ParseError>
  })

const segmentKey = (s: Domain.AgentSegment) => `${s.activityIdentifier}|${s.start}|${s.end ?? ""}`

const compareSegments = (a: Domain.AgentSegment, b: Domain.AgentSegment) =>
  a.integrationId.localeCompare(b.integrationId) || a.agentIdentifier.localeCompare(b.agentIdentifier) ||
  a.start - b.start

const encodeBatch = Schema.encode(Domain.BatchJson)
const decodeBatch = Schema.decodeUnknown(Domain.BatchJson)

/**
 * The interval query (exported for the index tests, which EXPLAIN exactly this statement).
 * Rows whose start is in [from, to), of one tenant, optionally one integration and some queues.
 */
export const intervalStatsStatement = (sql: SqlClient.SqlClient, q: Storage.IntervalStatQuery) =>
  sql<Rows.IntervalStatRow>`SELECT ${sql.literal(Rows.intervalStatColumns)}
    FROM interval_stats WHERE tenant_id = ${q.tenantId}${
    q.integrationId === undefined ? sql.literal("") : sql` AND integration_id = ${q.integrationId}`
  }${q.queueIds === undefined ? sql.literal("") : sql` AND queue_id IN ${sql.in(q.queueIds)}`}
    AND start_ms >= ${q.from} AND start_ms < ${q.to}
    ORDER BY start_ms, queue_id, channel`

/** The segment query: segments overlapping [from, to) (exported for the index tests). */
export const segmentsStatement = (sql: SqlClient.SqlClient, q: Storage.SegmentQuery) =>
  sql<Rows.SegmentRow>`SELECT ${sql.literal(Rows.segmentColumns)} FROM agent_segments
    WHERE tenant_id = ${q.tenantId}${
    q.integrationId === undefined ? sql.literal("") : sql` AND integration_id = ${q.integrationId}`
  }${q.agentIdentifier === undefined ? sql.literal("") : sql` AND agent_identifier = ${q.agentIdentifier}`}
    AND start_ms < ${q.to} AND (end_ms IS NULL OR end_ms > ${q.from})
    ORDER BY integration_id, agent_identifier, start_ms`

/**
 * Runs the migrations and returns the store. Needs a `SqlClient` (SQLite or PostgreSQL).
 */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
    const isSqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
    if (!isPg && !isSqlite) {
      return yield* new Errors.StorageError({
        operation: "start",
        reason: "@acd-bridge/sql-storage supports SQLite and PostgreSQL clients only"
      })
    }

    if (isSqlite) {
      const busy = Math.round(Duration.toMillis(Duration.decode(options.busyTimeout ?? "5 seconds")))
      yield* Effect.all([
        sql.unsafe(`PRAGMA busy_timeout = ${busy}`),
        sql.unsafe("PRAGMA foreign_keys = ON"),
        sql.unsafe(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`)
      ], { discard: true }).pipe(edge("start"))
    }

    const applied = yield* Migrations.run().pipe(
      Effect.catchAllCause((cause) =>
        Effect.fail(new Errors.StorageError({ operation: "migrate", reason: `migrations failed: ${cause}` }))
      )
    )
    if (applied.length > 0) {
      yield* Effect.logInfo("acd-bridge storage migrated").pipe(
        Effect.annotateLogs("migrations", applied.map(([id, name]) => `${id}_${name}`).join(", "))
      )
    }

    // -------------------------------------------------------------------------
    // dialect helpers
    // -------------------------------------------------------------------------

    const boolParam = (b: boolean): boolean | number => (isPg ? b : b ? 1 : 0)
    const forShare = sql.literal(isPg ? "FOR SHARE" : "")
    const forUpdate = sql.literal(isPg ? "FOR UPDATE" : "")

    /** A transaction-scoped advisory lock (PostgreSQL); SQLite is serialised already. */
    const advisoryLock = (namespace: number, key: string, shared = false): Effect.Effect<void, SqlError> =>
      isPg
        ? Effect.asVoid(
          sql`SELECT ${sql.literal(shared ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock")}(${
            sql.literal(String(namespace))
          }, hashtext(${key}))`
        )
        : Effect.void

    const transact = <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>) =>
      sql.withTransaction(effect).pipe(
        Effect.retry({
          while: isTransient,
          times: 8,
          schedule: Schedule.jittered(Schedule.exponential("5 millis"))
        }),
        edge(operation),
        Effect.withSpan(`SqlStorage.${operation}`)
      )

    const inList = <A>(values: ReadonlyArray<A>) => sql.in(values)

    // -------------------------------------------------------------------------
    // integrations
    // -------------------------------------------------------------------------

    const upsertIntegration = (i: Domain.Integration) => {
      const row = Rows.integrationToRow(i)
      return sql`INSERT INTO integrations ${sql.insert(row)}
        ON CONFLICT (id) DO UPDATE SET
          tenant_id = excluded.tenant_id, name = excluded.name, connector = excluded.connector,
          delivery_mode = excluded.delivery_mode, data_kinds = excluded.data_kinds, schedule = excluded.schedule,
          timezone = excluded.timezone, config = excluded.config, history_depth_days = excluded.history_depth_days,
          status = excluded.status, failing = excluded.failing, created_at = excluded.created_at,
          updated_at = excluded.updated_at, deleted_at = excluded.deleted_at`
    }

    const selectIntegration = (id: Domain.IntegrationId, lock: "none" | "share" | "update" = "none") =>
      Effect.flatMap(
        sql<Rows.IntegrationRow>`SELECT ${sql.literal(Rows.integrationColumns)} FROM integrations WHERE id = ${id} ${
          lock === "share" ? forShare : lock === "update" ? forUpdate : sql.literal("")
        }`,
        (rows) => (rows.length === 0 ? Effect.succeedNone : Effect.asSome(decodeIntegration(rows[0]!)))
      )

    // every ingest reads its integration: a row that did not change is not decoded again
    const decoded = new Map<string, { readonly row: string; readonly integration: Domain.Integration }>()
    const decodeIntegration = (row: Rows.IntegrationRow) => {
      const fingerprint = Object.values(row).map((v) => (v === null ? "\u0001" : String(v))).join("\u0000")
      const known = decoded.get(row.id)
      if (known && known.row === fingerprint) return Effect.succeed(known.integration)
      return Effect.tap(Rows.integrationFromRow(row), (integration) =>
        Effect.sync(() => {
          if (decoded.size >= 1_000) decoded.clear()
          decoded.set(row.id, { row: fingerprint, integration })
        }))
    }

    const findIntegration = (id: Domain.IntegrationId, lock: "none" | "share" | "update") =>
      Effect.flatMap(
        selectIntegration(id, lock),
        Option.match({
          onNone: () => Effect.fail(new Errors.IntegrationNotFound({ integrationId: id })),
          onSome: Effect.succeed
        })
      )

    // -------------------------------------------------------------------------
    // applying a batch (inside a transaction)
    // -------------------------------------------------------------------------

    interface QueueIdRow {
      readonly id: string
      readonly identifier: string
      readonly name: string
    }

    /** Finds or creates the batch's queues; returns their ids by `Plan.queueKey` and the created ones. */
    const resolveQueues = (
      integration: Domain.Integration,
      refs: ReadonlyArray<Plan.QueueRef>,
      now: number,
      newQueueId: () => Domain.QueueId
    ) =>
      Effect.gen(function*() {
        const ids = new Map<string, Domain.QueueId>()
        const created: Array<Domain.Queue> = []
        if (refs.length === 0) return { ids, created }
        const lookup = (identifiers: ReadonlyArray<string>) =>
          Effect.forEach(chunks(identifiers), (chunk) =>
            sql<QueueIdRow>`SELECT id, identifier, name FROM queues
              WHERE integration_id = ${integration.id} AND created_by_integration = ${boolParam(true)}
              AND identifier IN ${inList(chunk)}`.pipe(
              Effect.map((rows) => {
                for (const row of rows) ids.set(Plan.queueKey(row.identifier, row.name), Domain.QueueId.make(row.id))
              })
            ), { discard: true })
        yield* lookup(Array.from(new Set(refs.map((r) => r.identifier))))
        const missing = refs.filter((r) => !ids.has(Plan.queueKey(r.identifier, r.name)))
        if (missing.length === 0) return { ids, created }

        const queues = missing.map((ref) =>
          new Domain.Queue({
            id: newQueueId(),
            tenantId: integration.tenantId,
            integrationId: integration.id,
            identifier: ref.identifier,
            name: ref.name,
            channel: ref.channel,
            createdByIntegration: true,
            createdAt: DateTime.unsafeMake(now)
          })
        )
        // a fixed order, so concurrent creators wait on each other instead of deadlocking
        const ordered = [...queues].sort((a, b) =>
          a.identifier < b.identifier
            ? -1
            : a.identifier > b.identifier
            ? 1
            : a.name < b.name
            ? -1
            : a.name > b.name
            ? 1
            : 0
        )
        const inserted = new Set<string>()
        for (const chunk of chunks(ordered)) {
          const rows = yield* sql<{ readonly id: string }>`INSERT INTO queues ${
            sql.insert(chunk.map((q) => ({
              id: q.id,
              tenant_id: q.tenantId,
              integration_id: q.integrationId,
              identifier: q.identifier,
              name: q.name,
              channel: q.channel,
              created_by_integration: boolParam(true),
              created_at: Rows.millis(q.createdAt)
            })))
          } ON CONFLICT DO NOTHING RETURNING id`
          for (const row of rows) inserted.add(row.id)
        }
        for (const q of queues) {
          if (inserted.has(q.id)) {
            created.push(q)
            ids.set(Plan.queueKey(q.identifier, q.name), q.id)
          }
        }
        if (created.length < queues.length) {
          // another transaction created some of them first: use theirs
          yield* lookup(
            Array.from(new Set(queues.filter((q) => !inserted.has(q.id)).map((q) => q.identifier)))
          )
        }
        const unresolved = refs.find((r) => !ids.has(Plan.queueKey(r.identifier, r.name)))
        if (unresolved) {
          return yield* new Errors.StorageError({
            operation: "data.ingest",
            reason: `queue ${unresolved.identifier} / ${unresolved.name} could be neither found nor created`
          })
        }
        return { ids, created }
      })

    const queueIdOf = (ids: ReadonlyMap<string, Domain.QueueId>, ref: Plan.QueueRef): Domain.QueueId => {
      const id = ids.get(Plan.queueKey(ref.identifier, ref.name))
      if (id === undefined) throw new Error(`queue ${ref.identifier}/${ref.name} was not resolved`)
      return id
    }

    const measureValues = (m: Domain.Measures) => {
      const out: Record<string, number> = {}
      for (const [field, column] of Rows.measureColumns) out[column] = m[field]
      return out
    }

    const addMeasures = sql.literal(
      Rows.measureColumns.map(([, c]) => `${c} = interval_stats.${c} + excluded.${c}`).join(", ")
    )
    const replaceMeasures = sql.literal(
      ["length_minutes", ...Rows.measureColumns.map(([, c]) => c)].map((c) => `${c} = excluded.${c}`).join(", ")
    )

    interface StatInsert {
      readonly queueId: Domain.QueueId
      readonly channel: Domain.Channel
      readonly start: number
      readonly lengthMinutes: number
      readonly measures: Domain.Measures
    }

    const statRow = (integration: Domain.Integration, r: StatInsert) => ({
      queue_id: r.queueId,
      channel: r.channel,
      start_ms: r.start,
      integration_id: integration.id,
      tenant_id: integration.tenantId,
      length_minutes: r.lengthMinutes,
      ...measureValues(r.measures)
    })

    const byStatKey = (a: StatInsert, b: StatInsert) =>
      a.queueId < b.queueId ? -1 : a.queueId > b.queueId ? 1 : a.channel < b.channel ? -1 : a.channel > b.channel ?
        1 :
        a.start - b.start

    /** Aggregates replace the row at their start and every finer row inside their interval. */
    const applyAggregates = (
      integration: Domain.Integration,
      rows: ReadonlyArray<Plan.AggregateRow>,
      ids: ReadonlyMap<string, Domain.QueueId>
    ) =>
      Effect.gen(function*() {
        if (rows.length === 0) return
        // in batch order, a later aggregate removes earlier ones inside its interval (as applied one by one)
        const pending: Array<StatInsert & { readonly end: number }> = []
        for (const row of rows) {
          const queueId = queueIdOf(ids, row.queue)
          const end = row.start + row.lengthMinutes * 60_000
          for (let i = pending.length - 1; i >= 0; i--) {
            const p = pending[i]!
            if (p.queueId === queueId && p.channel === row.channel && p.start >= row.start && p.start < end) {
              pending.splice(i, 1)
            }
          }
          pending.push({
            queueId,
            channel: row.channel,
            start: row.start,
            end,
            lengthMinutes: row.lengthMinutes,
            measures: row.measures
          })
        }
        const ranges = rows.map((row) => ({
          queueId: queueIdOf(ids, row.queue),
          channel: row.channel,
          start: row.start,
          end: row.start + row.lengthMinutes * 60_000
        }))
        for (const chunk of chunks(ranges, 64)) {
          yield* sql`DELETE FROM interval_stats WHERE ${
            sql.or(
              chunk.map((r) =>
                sql`(queue_id = ${r.queueId} AND channel = ${r.channel} AND start_ms >= ${r.start} AND start_ms < ${r.end})`
              )
            )
          }`
        }
        const sorted = [...pending].sort(byStatKey)
        for (const chunk of chunks(sorted)) {
          yield* sql`INSERT INTO interval_stats ${sql.insert(chunk.map((r) => statRow(integration, r)))}
            ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET ${replaceMeasures}`
        }
      })

    /** Contact rows (already summed per queue, channel and quarter by the plan) add to what is stored. */
    const applyContacts = (
      integration: Domain.Integration,
      rows: ReadonlyArray<Plan.ContactRow>,
      ids: ReadonlyMap<string, Domain.QueueId>
    ) =>
      Effect.gen(function*() {
        if (rows.length === 0) return
        const inserts: Array<StatInsert> = rows.map((row) => ({
          queueId: queueIdOf(ids, row.queue),
          channel: row.channel,
          start: row.start,
          lengthMinutes: 15,
          measures: row.measures
        }))
        // a fixed key order, so concurrent writers to the same rows never deadlock
        inserts.sort(byStatKey)
        for (const chunk of chunks(inserts)) {
          yield* sql`INSERT INTO interval_stats ${sql.insert(chunk.map((r) => statRow(integration, r)))}
            ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET ${addMeasures}`
        }
      })

    interface StoredSegment {
      readonly seq: number
      readonly segment: Domain.AgentSegment
    }

    /** Writes the difference between the stored segments and what the rules left. */
    const writeSegmentDiff = (
      integration: Domain.Integration,
      changes: ReadonlyArray<
        { readonly before: ReadonlyArray<StoredSegment>; readonly after: ReadonlyArray<Domain.AgentSegment> }
      >
    ) =>
      Effect.gen(function*() {
        const deletes: Array<number> = []
        const inserts: Array<Domain.AgentSegment> = []
        for (const { after, before } of changes) {
          const stored = new Map<string, Array<number>>()
          for (const b of before) {
            const key = segmentKey(b.segment)
            const seqs = stored.get(key)
            if (seqs) seqs.push(b.seq)
            else stored.set(key, [b.seq])
          }
          for (const a of after) {
            const seqs = stored.get(segmentKey(a))
            if (seqs && seqs.length > 0) seqs.pop()
            else inserts.push(a)
          }
          for (const seqs of stored.values()) deletes.push(...seqs)
        }
        for (const chunk of chunks(deletes)) {
          yield* sql`DELETE FROM agent_segments WHERE seq IN ${inList(chunk)}`
        }
        for (const chunk of chunks(inserts)) {
          yield* sql`INSERT INTO agent_segments ${
            sql.insert(chunk.map((s) => ({
              integration_id: integration.id,
              tenant_id: integration.tenantId,
              agent_identifier: s.agentIdentifier,
              activity_identifier: s.activityIdentifier,
              start_ms: s.start,
              end_ms: s.end
            })))
          }`
        }
      })

    const stored = (row: Rows.SegmentRow): StoredSegment => ({
      seq: Rows.num(row.seq),
      segment: Rows.segmentFromRow(row)
    })

    const groupByAgent = (rows: ReadonlyArray<Rows.SegmentRow>) => {
      const out = new Map<string, Array<StoredSegment>>()
      for (const row of rows) {
        const list = out.get(row.agent_identifier)
        if (list) list.push(stored(row))
        else out.set(row.agent_identifier, [stored(row)])
      }
      for (const list of out.values()) list.sort((a, b) => a.segment.start - b.segment.start || a.seq - b.seq)
      return out
    }

    /** Applies the batch's statuses per agent with `Segments.apply`, in batch order. */
    const applyStatuses = (
      integration: Domain.Integration,
      statuses: ReadonlyMap<string, ReadonlyArray<Plan.StatusRow>>
    ) =>
      Effect.gen(function*() {
        if (statuses.size === 0) return 0
        const agents = Array.from(statuses.keys()).sort()
        yield* advisoryLock(LOCK_INTEGRATION, integration.id, true)
        for (const agent of agents) yield* advisoryLock(LOCK_AGENT, `${integration.id}|${agent}`)
        let from = Number.POSITIVE_INFINITY
        let to = Number.NEGATIVE_INFINITY
        let open = false
        for (const rows of statuses.values()) {
          for (const row of rows) {
            from = Math.min(from, row.start)
            if (row.end === null) open = true
            else to = Math.max(to, row.end)
          }
        }
        // every stored segment the new ones can touch: overlapping or adjacent, plus open ones
        const loaded: Array<Rows.SegmentRow> = []
        for (const chunk of chunks(agents)) {
          const rows = yield* sql<Rows.SegmentRow>`SELECT ${sql.literal(Rows.segmentColumns)} FROM agent_segments
            WHERE integration_id = ${integration.id} AND agent_identifier IN ${inList(chunk)}
            AND (end_ms IS NULL OR (end_ms >= ${from}${open ? sql.literal("") : sql` AND start_ms <= ${to}`}))`
          loaded.push(...rows)
        }
        const existing = groupByAgent(loaded)
        let applied = 0
        const changes: Array<{ before: ReadonlyArray<StoredSegment>; after: ReadonlyArray<Domain.AgentSegment> }> = []
        for (const agent of agents) {
          const before = existing.get(agent) ?? []
          let current: ReadonlyArray<Domain.AgentSegment> = before.map((b) => b.segment)
          for (const row of statuses.get(agent) ?? []) {
            current = Segments.apply(current, {
              integrationId: integration.id,
              agentIdentifier: agent,
              activityIdentifier: row.activityIdentifier,
              start: row.start,
              end: row.end
            })
            applied++
          }
          changes.push({ before, after: current })
        }
        yield* writeSegmentDiff(integration, changes)
        return applied
      })

    /** Re-import: removes the integration's interval rows starting in the window and the segment parts inside it. */
    const clearWindow = (integration: Domain.Integration, window: { readonly from: number; readonly to: number }) =>
      Effect.gen(function*() {
        yield* advisoryLock(LOCK_INTEGRATION, integration.id)
        yield* sql`DELETE FROM interval_stats WHERE integration_id = ${integration.id}
          AND start_ms >= ${window.from} AND start_ms < ${window.to}`
        const rows = yield* sql<Rows.SegmentRow>`SELECT ${sql.literal(Rows.segmentColumns)} FROM agent_segments
          WHERE integration_id = ${integration.id} AND start_ms < ${window.to}
          AND (end_ms IS NULL OR end_ms > ${window.from})`
        if (rows.length === 0) return
        const changes = Array.from(groupByAgent(rows).values(), (before) => ({
          before,
          after: Segments.clearWindow(before.map((b) => b.segment), window.from, window.to)
        }))
        yield* writeSegmentDiff(integration, changes)
      })

    const applyBatch = (
      integration: Domain.Integration,
      batch: Domain.Batch,
      now: number,
      newQueueId: () => Domain.QueueId,
      replaceWindow?: { readonly from: number; readonly to: number } | undefined
    ) =>
      Effect.gen(function*() {
        const p = Plan.plan(batch)
        if (replaceWindow) yield* clearWindow(integration, replaceWindow)
        const { created, ids } = yield* resolveQueues(integration, p.queues, now, newQueueId)
        yield* applyAggregates(integration, p.aggregateRows, ids)
        yield* applyContacts(integration, p.contactRows, ids)
        const statuses = yield* applyStatuses(integration, p.statuses)
        return { createdQueues: created, statuses }
      })

    // -------------------------------------------------------------------------
    // ingest
    // -------------------------------------------------------------------------

    interface IdempotencyRow {
      readonly request_hash: string
      readonly at_ms: Rows.Num
      readonly accepted: Rows.Num
      readonly outcome: string
    }

    const ingest = (request: IngestRequest) =>
      transact(
        "data.ingest",
        Effect.gen(function*() {
          const integration = yield* findIntegration(request.integrationId, "share")
          if (integration.status === "deleted") {
            return yield* new Errors.IntegrationDeleted({ integrationId: integration.id })
          }
          const accepted = Domain.batchSize(request.batch)
          const idempotency = request.idempotency
          if (idempotency) {
            yield* advisoryLock(LOCK_IDEMPOTENCY, `${integration.id}|${idempotency.key}`)
            const rows = yield* sql<IdempotencyRow>`SELECT request_hash, at_ms, accepted, outcome FROM idempotency_keys
              WHERE integration_id = ${integration.id} AND idem_key = ${idempotency.key}`
            const previous = rows[0]
            if (previous && Rows.num(previous.at_ms) + idempotency.ttlMs > request.now) {
              if (previous.request_hash !== idempotency.requestHash) {
                return yield* new Errors.IdempotencyKeyReused({ key: idempotency.key })
              }
              return {
                _tag: "Replayed",
                accepted: Rows.num(previous.accepted),
                outcome: previous.outcome === "Staged" ? "Staged" : "Applied"
              } satisfies IngestOutcome
            }
          }
          const remember = (outcome: "Applied" | "Staged") =>
            idempotency
              ? Effect.zipRight(
                sql`DELETE FROM idempotency_keys WHERE integration_id = ${integration.id}
                  AND at_ms <= ${request.now - idempotency.ttlMs}`,
                sql`INSERT INTO idempotency_keys ${
                  sql.insert({
                    integration_id: integration.id,
                    idem_key: idempotency.key,
                    request_hash: idempotency.requestHash,
                    at_ms: request.now,
                    accepted,
                    outcome
                  })
                } ON CONFLICT (integration_id, idem_key) DO UPDATE SET request_hash = excluded.request_hash,
                  at_ms = excluded.at_ms, accepted = excluded.accepted, outcome = excluded.outcome`
              )
              : Effect.void

          if (integration.status === "paused") {
            if (request.mode === "pull") {
              return yield* new Errors.IntegrationNotActive({ integrationId: integration.id, status: "paused" })
            }
            yield* advisoryLock(LOCK_STAGING, integration.id)
            const held = yield* sql<{ readonly held: Rows.Num | null }>`SELECT SUM(records) AS held FROM staged_batches
              WHERE integration_id = ${integration.id}`
            if (Rows.num(held[0]?.held ?? 0) + accepted > request.stagingLimit) {
              return yield* new Errors.StagingFull({
                integrationId: integration.id,
                limit: request.stagingLimit,
                retryAfterSeconds: 60
              })
            }
            const body = JSON.stringify(yield* encodeBatch(request.batch))
            yield* sql`INSERT INTO staged_batches ${
              sql.insert({ integration_id: integration.id, records: accepted, body, created_at: request.now })
            }`
            yield* remember("Staged")
            return { _tag: "Staged", accepted } satisfies IngestOutcome
          }

          const result = yield* applyBatch(
            integration,
            request.batch,
            request.now,
            request.newQueueId,
            request.replaceWindow
          )
          if (request.watermark) yield* setCursor(integration.id, request.watermark.stream, request.watermark.value)
          yield* remember("Applied")
          if (request.run) yield* insertMeasuredRun(request.run)
          return {
            _tag: "Applied",
            accepted,
            createdQueues: result.createdQueues,
            statusesApplied: result.statuses
          } satisfies IngestOutcome
        })
      )

    const insertRun = (run: Storage.IngestRun, durationMs: number) =>
      sql`INSERT INTO import_runs ${
        sql.insert({
          id: run.id,
          integration_id: run.integrationId,
          kind: run.kind,
          window_start: Rows.millisOrNull(run.windowStart),
          window_end: Rows.millisOrNull(run.windowEnd),
          records_read: run.read,
          records_applied: run.applied,
          records_rejected: run.rejected,
          started_at: Rows.millis(run.startedAt),
          duration_ms: durationMs,
          error: run.error,
          problems: JSON.stringify(run.problems)
        })
      }`

    /**
     * The run of a unit of work, written in it last, so its duration covers the data writes
     * (not the commit, which comes after and can't be measured from inside).
     */
    const insertMeasuredRun = (run: Storage.IngestRun) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (written) => insertRun(run, Math.max(0, written - DateTime.toEpochMillis(run.startedAt)))
      )

    const setCursor = (id: Domain.IntegrationId, stream: string, value: number) =>
      sql`INSERT INTO cursors ${sql.insert({ integration_id: id, stream, value })}
        ON CONFLICT (integration_id, stream) DO UPDATE SET value = excluded.value`

    // -------------------------------------------------------------------------
    // the port
    // -------------------------------------------------------------------------

    interface CountRow {
      readonly external_id: string
      readonly segments: Rows.Num
    }

    const counts = (id: Domain.IntegrationId, column: "agent_identifier" | "activity_identifier", operation: string) =>
      sql<CountRow>`SELECT ${sql.literal(column)} AS external_id, COUNT(*) AS segments FROM agent_segments
        WHERE integration_id = ${id} GROUP BY ${sql.literal(column)}`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({ externalId: r.external_id, segments: Rows.num(r.segments) }))
            .sort((a, b) => a.externalId.localeCompare(b.externalId))
        ),
        edge(operation)
      )

    const dedupeLast = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Array<A> => {
      const byKey = new Map<string, A>()
      for (const item of items) byKey.set(key(item), item)
      return Array.from(byKey.values())
    }

    const selectWorkloads = (where: ReturnType<typeof sql.literal> | ReturnType<typeof sql>) =>
      Effect.gen(function*() {
        const rows = yield* sql<
          Rows.WorkloadRow & { readonly seq: Rows.Num }
        >`SELECT seq, id, tenant_id, name, created_at
          FROM workloads WHERE ${where} ORDER BY seq`
        if (rows.length === 0) return []
        const members = new Map<string, Array<string>>()
        for (const chunk of chunks(rows.map((r) => r.id))) {
          const ms = yield* sql<
            { readonly workload_id: string; readonly queue_id: string }
          >`SELECT workload_id, queue_id
            FROM workload_queues WHERE workload_id IN ${inList(chunk)} ORDER BY workload_id, position`
          for (const m of ms) {
            const list = members.get(m.workload_id)
            if (list) list.push(m.queue_id)
            else members.set(m.workload_id, [m.queue_id])
          }
        }
        return yield* Effect.forEach(rows, (row) => Rows.workloadFromRow(row, members.get(row.id) ?? []))
      })

    const writeWorkloadQueues = (id: Domain.WorkloadId, queueIds: ReadonlyArray<Domain.QueueId>) =>
      Effect.gen(function*() {
        yield* sql`DELETE FROM workload_queues WHERE workload_id = ${id}`
        const rows = queueIds.map((queueId, position) => ({ workload_id: id, position, queue_id: queueId }))
        for (const chunk of chunks(rows)) yield* sql`INSERT INTO workload_queues ${sql.insert(chunk)}`
      })

    const shape: StorageShape = {
      integrations: {
        insert: (i) => upsertIntegration(i).pipe(Effect.asVoid, edge("integrations.insert")),
        update: (i) => upsertIntegration(i).pipe(Effect.asVoid, edge("integrations.update")),
        get: (id) => selectIntegration(id).pipe(edge("integrations.get")),
        list: (tenantId) =>
          sql<Rows.IntegrationRow>`SELECT ${sql.literal(Rows.integrationColumns)} FROM integrations
            WHERE tenant_id = ${tenantId} ORDER BY created_at, seq`.pipe(
            Effect.flatMap((rows) => Effect.forEach(rows, decodeIntegration)),
            edge("integrations.list")
          ),
        markDeleted: (id, at) =>
          transact(
            "integrations.markDeleted",
            Effect.gen(function*() {
              const integration = yield* findIntegration(id, "update")
              const deleted = new Domain.Integration({
                ...integration,
                status: "deleted",
                updatedAt: DateTime.unsafeMake(at),
                deletedAt: DateTime.unsafeMake(at)
              })
              yield* sql`UPDATE integrations SET status = 'deleted', updated_at = ${at}, deleted_at = ${at}
                WHERE id = ${id}`
              yield* sql`UPDATE api_keys SET revoked_at = ${at} WHERE integration_id = ${id} AND revoked_at IS NULL`
              yield* sql`DELETE FROM staged_batches WHERE integration_id = ${id}`
              return deleted
            })
          ),
        resume: (id, at, newQueueId, run) =>
          transact(
            "integrations.resume",
            Effect.gen(function*() {
              const integration = yield* findIntegration(id, "update")
              if (integration.status === "deleted") {
                return yield* new Errors.IntegrationDeleted({ integrationId: id })
              }
              const active = new Domain.Integration({
                ...integration,
                status: "active",
                updatedAt: DateTime.unsafeMake(at)
              })
              const staged = yield* sql<{ readonly seq: Rows.Num; readonly body: string }>`SELECT seq, body
                FROM staged_batches WHERE integration_id = ${id} ORDER BY seq`
              const createdQueues: Array<Domain.Queue> = []
              let applied = 0
              for (const row of staged) {
                const json = yield* Effect.try({
                  try: (): unknown => JSON.parse(row.body),
                  catch: (cause) =>
                    new Errors.StorageError({ operation: "integrations.resume", reason: `staged batch: ${cause}` })
                })
                const batch: Domain.Batch = yield* decodeBatch(json)
                const result = yield* applyBatch(active, batch, at, newQueueId)
                createdQueues.push(...result.createdQueues)
                applied += Domain.batchSize(batch)
              }
              yield* sql`DELETE FROM staged_batches WHERE integration_id = ${id}`
              yield* sql`UPDATE integrations SET status = 'active', updated_at = ${at} WHERE id = ${id}`
              if (run && applied > 0) {
                yield* insertMeasuredRun(Storage.resumeRunRecord(id, run, applied))
              }
              return { integration: active, applied, createdQueues }
            })
          ),
        stagedCount: (id) =>
          sql<{ readonly held: Rows.Num | null }>`SELECT SUM(records) AS held FROM staged_batches
            WHERE integration_id = ${id}`.pipe(
            Effect.map((rows) => Rows.num(rows[0]?.held ?? 0)),
            edge("integrations.stagedCount")
          )
      },
      queues: {
        list: (q) =>
          sql<Rows.QueueRow>`SELECT ${sql.literal(Rows.queueColumns)} FROM queues WHERE tenant_id = ${q.tenantId}${
            q.integrationId === undefined ? sql.literal("") : sql` AND integration_id = ${q.integrationId}`
          } ORDER BY seq`.pipe(
            Effect.flatMap((rows) => Effect.forEach(rows, Rows.queueFromRow)),
            edge("queues.list")
          ),
        get: (id) =>
          sql<Rows.QueueRow>`SELECT ${sql.literal(Rows.queueColumns)} FROM queues WHERE id = ${id}`.pipe(
            Effect.flatMap((rows) =>
              rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.queueFromRow(rows[0]!))
            ),
            edge("queues.get")
          ),
        insert: (queue) =>
          sql`INSERT INTO queues ${
            sql.insert({
              id: queue.id,
              tenant_id: queue.tenantId,
              integration_id: queue.integrationId,
              identifier: queue.identifier,
              name: queue.name,
              channel: queue.channel,
              created_by_integration: boolParam(queue.createdByIntegration),
              created_at: Rows.millis(queue.createdAt)
            })
          } ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, integration_id = excluded.integration_id,
            identifier = excluded.identifier, name = excluded.name, channel = excluded.channel,
            created_by_integration = excluded.created_by_integration, created_at = excluded.created_at`.pipe(
            Effect.asVoid,
            edge("queues.insert")
          ),
        delete: (id) =>
          transact(
            "queues.delete",
            Effect.zipRight(
              sql`DELETE FROM workload_queues WHERE queue_id = ${id}`,
              sql`DELETE FROM queues WHERE id = ${id}`
            ).pipe(Effect.asVoid)
          ),
        workloadIds: (ids) =>
          Effect.gen(function*() {
            const out = new Map<Domain.QueueId, Array<Domain.WorkloadId>>()
            for (const id of ids) out.set(id, [])
            for (const chunk of chunks(Array.from(new Set(ids)))) {
              const rows = yield* sql<{ readonly queue_id: string; readonly workload_id: string }>`SELECT wq.queue_id,
                wq.workload_id FROM workload_queues wq JOIN workloads w ON w.id = wq.workload_id
                WHERE wq.queue_id IN ${inList(chunk)} ORDER BY w.seq, wq.position`
              for (const row of rows) {
                out.get(Domain.QueueId.make(row.queue_id))?.push(Domain.WorkloadId.make(row.workload_id))
              }
            }
            return out as ReadonlyMap<Domain.QueueId, ReadonlyArray<Domain.WorkloadId>>
          }).pipe(edge("queues.workloadIds"))
      },
      workloads: {
        insert: (w) =>
          transact(
            "workloads.insert",
            Effect.gen(function*() {
              yield* sql`INSERT INTO workloads ${
                sql.insert({ id: w.id, tenant_id: w.tenantId, name: w.name, created_at: Rows.millis(w.createdAt) })
              } ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
                created_at = excluded.created_at`
              yield* writeWorkloadQueues(w.id, w.queueIds)
            })
          ),
        get: (id) =>
          selectWorkloads(sql`id = ${id}`).pipe(
            Effect.map((ws) => Option.fromNullable(ws[0])),
            edge("workloads.get")
          ),
        list: (tenantId) => selectWorkloads(sql`tenant_id = ${tenantId}`).pipe(edge("workloads.list")),
        setQueues: (id, queueIds) =>
          transact(
            "workloads.setQueues",
            Effect.gen(function*() {
              const found = yield* sql`SELECT id FROM workloads WHERE id = ${id} ${forUpdate}`
              if (found.length === 0) return
              yield* writeWorkloadQueues(id, queueIds)
            })
          )
      },
      mappings: {
        putAgents: (id, ms) =>
          transact(
            "mappings.putAgents",
            Effect.forEach(
              chunks(dedupeLast(ms, (m) => m.externalId)),
              (chunk) =>
                sql`INSERT INTO agent_mappings ${
                  sql.insert(
                    chunk.map((m) => ({ integration_id: id, external_id: m.externalId, employee_id: m.employeeId }))
                  )
                } ON CONFLICT (integration_id, external_id) DO UPDATE SET employee_id = excluded.employee_id`,
              { discard: true }
            )
          ),
        putActivities: (id, ms) =>
          transact(
            "mappings.putActivities",
            Effect.forEach(
              chunks(dedupeLast(ms, (m) => m.externalId)),
              (chunk) =>
                sql`INSERT INTO activity_mappings ${
                  sql.insert(
                    chunk.map((m) => ({ integration_id: id, external_id: m.externalId, activity_id: m.activityId }))
                  )
                } ON CONFLICT (integration_id, external_id) DO UPDATE SET activity_id = excluded.activity_id`,
              { discard: true }
            )
          ),
        agents: (id) =>
          sql<{ readonly external_id: string; readonly employee_id: string }>`SELECT external_id, employee_id
            FROM agent_mappings WHERE integration_id = ${id} ORDER BY seq`.pipe(
            Effect.map((rows) => rows.map((r) => ({ externalId: r.external_id, employeeId: r.employee_id }))),
            edge("mappings.agents")
          ),
        activities: (id) =>
          sql<{ readonly external_id: string; readonly activity_id: string }>`SELECT external_id, activity_id
            FROM activity_mappings WHERE integration_id = ${id} ORDER BY seq`.pipe(
            Effect.map((rows) => rows.map((r) => ({ externalId: r.external_id, activityId: r.activity_id }))),
            edge("mappings.activities")
          )
      },
      apiKeys: {
        replace: (key) =>
          transact(
            "apiKeys.replace",
            Effect.gen(function*() {
              const at = Rows.millis(key.createdAt)
              yield* sql`UPDATE api_keys SET revoked_at = ${at}
                WHERE integration_id = ${key.integrationId} AND revoked_at IS NULL`
              yield* sql`INSERT INTO api_keys ${
                sql.insert({
                  id: key.id,
                  integration_id: key.integrationId,
                  tenant_id: key.tenantId,
                  prefix: key.prefix,
                  hash: key.hash,
                  created_at: at,
                  revoked_at: Rows.millisOrNull(key.revokedAt)
                })
              } ON CONFLICT (id) DO UPDATE SET integration_id = excluded.integration_id, tenant_id = excluded.tenant_id,
                prefix = excluded.prefix, hash = excluded.hash, created_at = excluded.created_at,
                revoked_at = excluded.revoked_at`
            })
          ),
        findByHash: (hash) =>
          sql<Rows.ApiKeyRow>`SELECT id, integration_id, tenant_id, prefix, hash, created_at, revoked_at
            FROM api_keys WHERE hash = ${hash} ORDER BY seq LIMIT 1`.pipe(
            Effect.flatMap((rows) =>
              rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.apiKeyFromRow(rows[0]!))
            ),
            edge("apiKeys.findByHash")
          )
      },
      accessTokens: {
        insert: (t) =>
          sql`INSERT INTO access_tokens ${
            sql.insert({
              id: t.id,
              tenant_id: t.tenantId,
              user_id: t.userId,
              name: t.name,
              prefix: t.prefix,
              hash: t.hash,
              created_at: Rows.millis(t.createdAt),
              revoked_at: Rows.millisOrNull(t.revokedAt)
            })
          } ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, user_id = excluded.user_id,
            name = excluded.name, prefix = excluded.prefix, hash = excluded.hash, created_at = excluded.created_at,
            revoked_at = excluded.revoked_at`.pipe(Effect.asVoid, edge("accessTokens.insert")),
        findByHash: (hash) =>
          sql<Rows.AccessTokenRow>`SELECT id, tenant_id, user_id, name, prefix, hash, created_at, revoked_at
            FROM access_tokens WHERE hash = ${hash} ORDER BY seq LIMIT 1`.pipe(
            Effect.flatMap((rows) =>
              rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.accessTokenFromRow(rows[0]!))
            ),
            edge("accessTokens.findByHash")
          ),
        revoke: (id, at) =>
          sql`UPDATE access_tokens SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`.pipe(
            Effect.asVoid,
            edge("accessTokens.revoke")
          )
      },
      runs: {
        insert: (run) => insertRun(run, run.durationMs).pipe(Effect.asVoid, edge("runs.insert")),
        list: (id, limit) =>
          sql<Rows.ImportRunRow>`SELECT id, integration_id, kind, window_start, window_end, records_read,
            records_applied, records_rejected, started_at, duration_ms, error, problems
            FROM import_runs WHERE integration_id = ${id} ORDER BY started_at DESC, seq ASC LIMIT ${
            Math.max(0, Math.floor(limit))
          }`.pipe(
            Effect.flatMap((rows) => Effect.forEach(rows, Rows.importRunFromRow)),
            edge("runs.list")
          )
      },
      cursors: {
        get: (id, stream) =>
          sql<
            { readonly value: Rows.Num }
          >`SELECT value FROM cursors WHERE integration_id = ${id} AND stream = ${stream}`
            .pipe(
              Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => Rows.num(r.value))),
              edge("cursors.get")
            ),
        set: (id, stream, value) => setCursor(id, stream, value).pipe(Effect.asVoid, edge("cursors.set")),
        list: (id) =>
          sql<{ readonly stream: string; readonly value: Rows.Num }>`SELECT stream, value FROM cursors
            WHERE integration_id = ${id} ORDER BY stream`.pipe(
            Effect.map((rows) => new Map(rows.map((r) => [r.stream, Rows.num(r.value)] as const))),
            edge("cursors.list")
          )
      },
      data: {
        ingest,
        intervalStats: (q) =>
          Effect.gen(function*() {
            if (q.queueIds !== undefined && q.queueIds.length === 0) return []
            const rows = yield* intervalStatsStatement(sql, q)
            const stats = yield* Effect.forEach(rows, Rows.intervalStatFromRow)
            return stats.sort((a, b) => a.start - b.start || a.queueId.localeCompare(b.queueId))
          }).pipe(edge("data.intervalStats")),
        segments: (q) =>
          segmentsStatement(sql, q).pipe(
            Effect.map((rows) => rows.map(Rows.segmentFromRow).sort(compareSegments)),
            edge("data.segments")
          ),
        agentCounts: (id) => counts(id, "agent_identifier", "data.agentCounts"),
        activityCounts: (id) => counts(id, "activity_identifier", "data.activityCounts")
      }
    }
    return shape
  })
