/**
 * The SQL driver: core's `StorageDriver` primitives on @effect/sql, one implementation for every
 * dialect we support (SQLite and PostgreSQL), with `sql.onDialectOrElse` where the SQL differs.
 * The rules (ingest, staging, idempotency, runs, resume, state changes) are core's
 * `Storage.make`; this file opens the database, runs the migrations and provides transactions
 * and locks; the rows live in one module per concern beside it.
 *
 * Concurrency:
 * - SQLite: the client runs every statement on one connection behind a semaphore, and a
 *   transaction holds it from BEGIN to COMMIT, so writers are serialised inside the process
 *   and `lock` has nothing to do; `busy_timeout` covers other processes. Transactions that
 *   queue while one commits share the next COMMIT, each in a savepoint (`groupCommit.ts`).
 * - PostgreSQL (READ COMMITTED): `integrations.get` reads the row `FOR SHARE` / `FOR UPDATE`
 *   as asked, `lock` takes transaction-scoped advisory locks (one namespace per scope), rows
 *   are written in the fixed order core sorts them in, and deadlocks and serialisation
 *   failures re-run the transaction.
 */
import { Errors, type StorageDriver } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Dialect from "./dialect.js"
import * as GroupCommit from "./groupCommit.js"
import * as Integrations from "./integrations.js"
import * as Keys from "./keys.js"
import * as Links from "./links.js"
import * as Mappings from "./mappings.js"
import * as Migrations from "./migrations.js"
import * as Queues from "./queues.js"
import * as Runs from "./runs.js"
import * as Segments from "./segments.js"
import * as Staging from "./staging.js"
import * as Stats from "./stats.js"
import * as Workloads from "./workloads.js"

/** Options of the SQL driver. */
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

/** Advisory lock namespaces (PostgreSQL), one per `LockScope`. */
const lockNamespaces: Record<StorageDriver.LockScope, number> = {
  integration: 7301,
  agent: 7302,
  idempotency: 7303,
  staging: 7304,
  cursors: 7305
}

/**
 * Runs the migrations and returns the driver. Needs a `SqlClient` (SQLite or PostgreSQL).
 */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const dialect = Dialect.make(sql)
    const isSqlite = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
    if (!dialect.isPg && !isSqlite) {
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
        sql.unsafe(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`),
        // planner statistics where they are missing or stale (bounded work: SQLite's advice for
        // long-lived connections), so queries pick their indexes from the data's real shape
        sql.unsafe("PRAGMA optimize = 0x10002")
      ], { discard: true }).pipe(Dialect.edge("start"))
    }

    const applied = yield* Migrations.run().pipe(
      Effect.catchAllCause((cause) =>
        Effect.fail(Errors.StorageError.fromCause("migrate", cause, `migrations failed: ${cause}`))
      )
    )
    if (applied.length > 0) {
      yield* Effect.logInfo("acd-bridge storage migrated").pipe(
        Effect.annotateLogs("migrations", applied.map(([id, name]) => `${id}_${name}`).join(", "))
      )
    }

    // SQLite writes one transaction at a time on one connection: what queues behind a commit
    // shares the next one (see `groupCommit.ts`). PostgreSQL runs transactions side by side.
    const grouped = isSqlite ? yield* GroupCommit.make(sql) : undefined

    const driver: StorageDriver.StorageDriverShape = {
      transaction: (effect) =>
        grouped !== undefined ? grouped(effect) : sql.withTransaction(effect).pipe(
          // @effect/sql turns a failed COMMIT (a full disk, a busy database) into a defect, as
          // its finalizer can't fail: it is a storage failure like any other, retried if transient
          Effect.catchSomeDefect((defect) => Dialect.isSqlError(defect) ? Option.some(Effect.fail(defect)) : Option.none()),
          Effect.retry({
            while: Dialect.isTransient,
            times: 8,
            schedule: Schedule.jittered(Schedule.exponential("5 millis"))
          }),
          Dialect.edge("transaction")
        ),
      lock: (scope, key, mode) =>
        dialect.isPg
          ? sql`SELECT ${sql.literal(mode === "shared" ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock")}(${
            sql.literal(String(lockNamespaces[scope]))
          }, hashtext(${key}))`.pipe(Effect.asVoid, Dialect.edge(`lock ${scope}`))
          : Effect.void,
      integrations: Integrations.make(dialect),
      queues: Queues.make(dialect),
      workloads: Workloads.make(dialect),
      mappings: Mappings.make(dialect),
      apiKeys: Keys.apiKeys(dialect),
      accessTokens: Keys.accessTokens(dialect),
      runs: Runs.runs(dialect),
      cursors: Runs.cursors(dialect),
      stats: Stats.make(dialect),
      segments: Segments.make(dialect),
      staging: Staging.staging(dialect),
      idempotency: Staging.idempotency(dialect),
      links: Links.links(dialect),
      linkTasks: Links.linkTasks(dialect)
    }
    return driver
  })
