/**
 * Durable storage for acd-bridge on @effect/sql: SQLite (embedded, the default) and
 * PostgreSQL (several engine processes sharing one database). This package is a driver: it
 * implements core's `StorageDriver` primitives in SQL, and core's `Storage.make` puts every
 * rule of storage on top. Each layer provides the `Storage` port, runs the versioned
 * migrations when it starts, and applies every `data.ingest` call in one transaction.
 *
 * @example
 * ```ts
 * import { Engine, ConnectorRegistry } from "@acd-bridge/core"
 * import { SqlStorage } from "@acd-bridge/sql-storage"
 * import * as Layer from "effect/Layer"
 *
 * const App = Engine.layer.pipe(
 *   Layer.provideMerge(
 *     Layer.mergeAll(SqlStorage.layerSqlite({ filename: "./data/acd-bridge.sqlite" }), ConnectorRegistry.layer())
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 */
import { Errors, Storage, StorageDriver } from "@acd-bridge/core"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { statSync } from "node:fs"
import { dirname, resolve } from "node:path"
import * as internal from "./internal/driver.js"
import * as SqliteClient from "./internal/sqliteClient.js"

/**
 * Loads a database driver when its layer is built, not when this module is: a host on SQLite
 * never loads the PostgreSQL client and the other way round. Each costs about 9 MB of live heap,
 * which V8 lets grow several-fold before a full collection, so an unused driver showed up in the
 * peak RSS of every long import (see the package README).
 */
const loadDriver = <A>(name: string, load: () => Promise<A>): Effect.Effect<A, Errors.StorageError> =>
  Effect.tryPromise({
    try: load,
    catch: (cause) => Errors.StorageError.fromCause(`load the ${name} driver`, cause)
  })

/**
 * Options shared by every layer.
 *
 * @since 0.1.0 @category models
 */
export interface Options {
  /** SQLite only: how long a writer waits for another process's lock (default 5 seconds). */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /**
   * SQLite only: `full` (default) syncs the write-ahead log at every commit, so a committed
   * batch survives a power loss; `normal` syncs at checkpoints only (still safe when the
   * process crashes, and faster).
   */
  readonly synchronous?: "full" | "normal" | undefined
}

/**
 * The SQL driver over the `SqlClient` in context (SQLite or PostgreSQL), after running the
 * migrations the database lacks: core's primitives, for `Storage.make` or for a host that
 * wraps a driver (to count, trace or test it). Fails with `StorageError` when the migrations
 * fail or the client speaks another dialect.
 *
 * @since 0.2.0 @category constructors
 */
export const makeDriver = (
  options: Options = {}
): Effect.Effect<StorageDriver.StorageDriverShape, Errors.StorageError, SqlClient.SqlClient> => internal.make(options)

/**
 * Builds the store over the `SqlClient` in context: `Storage.make` on `makeDriver(options)`.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Storage.StorageShape, Errors.StorageError, SqlClient.SqlClient> =>
  Effect.flatMap(internal.make(options), (driver) => Storage.make(driver))

/**
 * The store over a `SqlClient` the host provides, for hosts that already run an
 * `@effect/sql` client (SQLite via `@effect/sql-sqlite-node`, PostgreSQL via
 * `@effect/sql-pg`). Tables live next to the host's; migrations are recorded in
 * `acd_bridge_migrations`.
 *
 * @since 0.1.0 @category layers
 */
export const layer: Layer.Layer<Storage.Storage, Errors.StorageError, SqlClient.SqlClient> = Layer.effect(
  Storage.Storage,
  make()
)

/**
 * Like `layer`, with options.
 *
 * @since 0.1.0 @category layers
 */
export const layerWith = (
  options: Options
): Layer.Layer<Storage.Storage, Errors.StorageError, SqlClient.SqlClient> =>
  Layer.effect(Storage.Storage, make(options))

/**
 * The SQL driver alone, as core's `StorageDriver`, for `Storage.layer` or a host's own
 * composition.
 *
 * @since 0.2.0 @category layers
 */
export const layerDriver = (
  options: Options = {}
): Layer.Layer<StorageDriver.StorageDriver, Errors.StorageError, SqlClient.SqlClient> =>
  Layer.effect(StorageDriver.StorageDriver, internal.make(options))

/**
 * @since 0.1.0 @category models
 */
export interface SqliteOptions extends Options {
  /** Path of the database file; created (with its tables) when missing. */
  readonly filename: string
}

/**
 * better-sqlite3 creates the file but not its folder, and reports a missing folder by throwing
 * a `TypeError` from its constructor (a defect in the client's layer): look first, so the
 * answer names the folder.
 */
const checkSqliteFolder = (filename: string): Effect.Effect<void, Errors.StorageError> => {
  // in-memory and temporary databases have no folder
  if (filename === "" || filename === ":memory:") return Effect.void
  const folder = dirname(resolve(filename))
  const refuse = (reason: string) => Effect.fail(new Errors.StorageError({ operation: "open sqlite", reason }))
  return Effect.try({
    try: () => statSync(folder, { throwIfNoEntry: false }),
    catch: (cause) => Errors.StorageError.fromCause("open sqlite", cause)
  }).pipe(Effect.flatMap((stat) =>
    stat === undefined
      ? refuse(`the folder ${folder} (of the database file ${filename}) does not exist: create it first`)
      : stat.isDirectory()
      ? Effect.void
      : refuse(`${folder} (of the database file ${filename}) is not a folder`)
  ))
}

/**
 * SQLite in a file: write-ahead logging, `busy_timeout`, foreign keys on. Writers in one
 * process are serialised on the client's single connection, so callers never see
 * `SQLITE_BUSY`. Fails with `StorageError` (operation `open sqlite`) when the file's folder
 * does not exist or the file can't be opened.
 *
 * @since 0.1.0 @category layers
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<Storage.Storage, Errors.StorageError> =>
  Layer.unwrapEffect(Effect.as(
    // the client loads better-sqlite3 too (then at no cost): loaded here first, a driver that
    // can't be loaded is named as such
    Effect.zipRight(checkSqliteFolder(options.filename), loadDriver("sqlite", () => import("better-sqlite3"))),
    layerWith(options).pipe(
      Layer.provide(
        // the driver throws from its constructor (unreadable file, not a database, no
        // permission): a failure of this layer, not a defect
        Layer.scopedContext(
          Layer.build(SqliteClient.layer({ filename: options.filename })).pipe(
            Effect.catchAllDefect((defect) => Effect.fail(Errors.StorageError.fromCause("open sqlite", defect)))
          )
        )
      ),
      Layer.mapError((error) =>
        error._tag === "StorageError" ? error : Errors.StorageError.fromCause("open sqlite", error)
      )
    )
  ))

/**
 * @since 0.1.0 @category models
 */
export interface PgOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string | Redacted.Redacted<string>
  /** Pool size (default 10). */
  readonly maxConnections?: number | undefined
  /** Name shown in `pg_stat_activity` (default `acd-bridge`). */
  readonly applicationName?: string | undefined
}

/**
 * PostgreSQL through a connection pool. Concurrent batches from any number of connections
 * or processes add up exactly (see the package README for the transaction model).
 *
 * @since 0.1.0 @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<Storage.Storage, Errors.StorageError> =>
  Layer.unwrapEffect(Effect.map(
    loadDriver("postgres", () => import("@effect/sql-pg/PgClient")),
    (PgClient) =>
      layer.pipe(
        Layer.provide(PgClient.layer({
          url: Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url),
          maxConnections: options.maxConnections ?? 10,
          applicationName: options.applicationName ?? "acd-bridge"
        })),
        Layer.mapError((error) =>
          error._tag === "StorageError" ? error : Errors.StorageError.fromCause("connect postgres", error)
        )
      )
  ))
