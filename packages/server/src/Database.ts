/**
 * The database behind `ACD_BRIDGE_DATABASE_URL`: a SQLite file (the default) or PostgreSQL.
 * `parse` reads the URL, `storageLayer` opens the engine's store on it (running its
 * migrations), and `migrate` and `backup` are the operators' maintenance commands.
 *
 * @since 0.1.0
 */
import { Errors, type Storage } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * A database the server can use.
 *
 * @since 0.1.0 @category models
 */
export type Database =
  | { readonly _tag: "Sqlite"; readonly filename: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string> }

/**
 * `ACD_BRIDGE_DATABASE_URL` names something the server can't use.
 *
 * @since 0.1.0 @category errors
 */
export class InvalidDatabaseUrl extends Data.TaggedError("InvalidDatabaseUrl")<{ readonly reason: string }> {
  override get message() {
    return `ACD_BRIDGE_DATABASE_URL: ${this.reason}`
  }
}

/**
 * A maintenance command could not do its work (the reason says what to do).
 *
 * @since 0.1.0 @category errors
 */
export class MaintenanceError extends Data.TaggedError("MaintenanceError")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return this.reason
  }
}

/**
 * Reads a database URL: `postgres://…` / `postgresql://…` is PostgreSQL; `sqlite:<path>`,
 * `file:<path>` or a plain path is a SQLite file, relative to `cwd`. Another scheme is refused
 * (MySQL and SQL Server are sources the `sql` connector reads, not stores).
 *
 * @since 0.1.0 @category constructors
 */
export const parse = (url: string, cwd: string = process.cwd()): Either.Either<Database, InvalidDatabaseUrl> => {
  const text = url.trim()
  if (/^postgres(ql)?:\/\//i.test(text)) return Either.right({ _tag: "Postgres", url: Redacted.make(text) })
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]
  // a Windows drive letter is a path, not a scheme
  if (scheme !== undefined && scheme.length > 1 && !/^(sqlite|file)$/i.test(scheme)) {
    return Either.left(
      new InvalidDatabaseUrl({
        reason: `"${scheme}:" is not a store the server can use: give a SQLite file path (sqlite:<path>) or a postgres:// URL`
      })
    )
  }
  const file = text.replace(/^(sqlite|file):(\/\/)?/i, "")
  if (file.length === 0) return Either.left(new InvalidDatabaseUrl({ reason: "the SQLite file path is empty" }))
  return Either.right({ _tag: "Sqlite", filename: path.resolve(cwd, file) })
}

/**
 * The database as it may be shown (never a password).
 *
 * @since 0.1.0 @category utils
 */
export const describe = (database: Database): string => {
  if (database._tag === "Sqlite") return `SQLite ${database.filename}`
  try {
    const url = new URL(Redacted.value(database.url))
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ""}${url.pathname}`
  } catch {
    return "PostgreSQL"
  }
}

/** SQLite opens a file in an existing directory only: create the directory first. */
const ensureDirectory = (filename: string) =>
  Effect.try({
    try: () => fs.mkdirSync(path.dirname(filename), { recursive: true }),
    catch: (cause) => Errors.StorageError.fromCause(`create the directory of ${filename}`, cause)
  })

/**
 * The engine's store on the database, its migrations applied.
 *
 * @since 0.1.0 @category layers
 */
export const storageLayer = (
  database: Database,
  options: { readonly maxConnections?: number | undefined } = {}
): Layer.Layer<Storage.Storage, Errors.StorageError> =>
  database._tag === "Sqlite"
    ? Layer.unwrapEffect(
      Effect.as(ensureDirectory(database.filename), SqlStorage.layerSqlite({ filename: database.filename }))
    )
    : SqlStorage.layerPg({ url: database.url, maxConnections: options.maxConnections })

const sqliteClient = (filename: string, readonly: boolean): Layer.Layer<SqlClient.SqlClient, unknown> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/sql-sqlite-node/SqliteClient")),
      (SqliteClient) => SqliteClient.layer(readonly ? { filename, readonly, disableWAL: true } : { filename })
    )
  )

const pgClient = (url: Redacted.Redacted<string>): Layer.Layer<SqlClient.SqlClient, unknown> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/sql-pg/PgClient")),
      (PgClient) => PgClient.layer({ url, maxConnections: 2, applicationName: "acd-bridge maintenance" })
    )
  )

/**
 * A plain SQL client on the database, for maintenance.
 *
 * @since 0.1.0 @category layers
 */
export const clientLayer = (
  database: Database,
  options: { readonly readonly?: boolean | undefined } = {}
): Layer.Layer<SqlClient.SqlClient, MaintenanceError> =>
  (database._tag === "Sqlite" ? sqliteClient(database.filename, options.readonly === true) : pgClient(database.url)).pipe(
    Layer.mapError((cause) =>
      new MaintenanceError({ reason: `could not open ${describe(database)}: ${String(cause)}`, cause })
    )
  )

/**
 * One applied migration, as `acd_bridge_migrations` records it.
 *
 * @since 0.1.0 @category models
 */
export interface Migration {
  readonly id: number
  readonly name: string
}

const appliedMigrations = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const exists = yield* sql.onDialectOrElse({
    pg: () => sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'acd_bridge_migrations'`,
    orElse: () => sql<{ readonly n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'acd_bridge_migrations'`
  })
  if (Number(exists[0]?.n ?? 0) === 0) return [] as ReadonlyArray<Migration>
  const rows = yield* sql<{ readonly migration_id: number; readonly name: string }>`
    SELECT migration_id, name FROM acd_bridge_migrations ORDER BY migration_id`
  return rows.map((r): Migration => ({ id: Number(r.migration_id), name: r.name }))
})

/**
 * What `migrate` did.
 *
 * @since 0.1.0 @category models
 */
export interface MigrateReport {
  readonly database: string
  readonly before: ReadonlyArray<Migration>
  readonly applied: ReadonlyArray<Migration>
  readonly version: number
}

/**
 * Applies the migrations the database lacks (the store does the same at every start) and says
 * which were there and which it applied. On PostgreSQL the migrator locks its table, so this is
 * safe while servers run; on SQLite it waits for the servers' write lock.
 *
 * @since 0.1.0 @category maintenance
 */
export const migrate = (database: Database): Effect.Effect<MigrateReport, MaintenanceError | Errors.StorageError> =>
  Effect.gen(function*() {
    if (database._tag === "Sqlite") yield* ensureDirectory(database.filename)
    const before = yield* appliedMigrations.pipe(
      Effect.provide(clientLayer(database)),
      Effect.mapError((cause) =>
        cause._tag === "MaintenanceError" ? cause : new MaintenanceError({ reason: `could not read the schema version: ${cause.message}`, cause })
      )
    )
    // the store runs the migrations when its layer is built
    const after = yield* Effect.scoped(
      Effect.zipRight(
        Layer.build(SqlStorage.layer.pipe(Layer.provide(clientLayer(database)))),
        appliedMigrations.pipe(Effect.provide(clientLayer(database)))
      )
    ).pipe(
      Effect.mapError((cause) =>
        cause._tag === "MaintenanceError" || cause._tag === "StorageError"
          ? cause
          : new MaintenanceError({ reason: `could not read the schema version: ${cause.message}`, cause })
      )
    )
    const known = new Set(before.map((m) => m.id))
    return {
      database: describe(database),
      before,
      applied: after.filter((m) => !known.has(m.id)),
      version: after.reduce((n, m) => Math.max(n, m.id), 0)
    }
  })

/**
 * What `backup` wrote.
 *
 * @since 0.1.0 @category models
 */
export interface BackupReport {
  readonly source: string
  readonly target: string
  readonly bytes: number
  readonly version: number
  readonly integrity: string
}

/**
 * An online, consistent copy of a SQLite store: `VACUUM INTO` reads the whole database in one
 * read transaction (a snapshot, which WAL mode lets servers keep writing past), writes a
 * compacted copy, and the copy is then opened and checked (`PRAGMA integrity_check`). The
 * target must not exist. PostgreSQL is backed up with its own tools (`pg_dump`): this fails
 * with that advice.
 *
 * Chosen over better-sqlite3's `backup()` (page copying), which starts over whenever another
 * connection writes during the copy and so may never finish against a busy server.
 *
 * @since 0.1.0 @category maintenance
 */
export const backup = (database: Database, target: string): Effect.Effect<BackupReport, MaintenanceError> =>
  Effect.gen(function*() {
    if (database._tag === "Postgres") {
      return yield* new MaintenanceError({
        reason: [
          `${describe(database)}: back it up with PostgreSQL's own tools, e.g.`,
          `  pg_dump --format=custom --file=acd-bridge.dump "$ACD_BRIDGE_DATABASE_URL"`,
          `and restore with pg_restore --clean --if-exists --dbname=<url> acd-bridge.dump (see docs/operations.md)`
        ].join("\n")
      })
    }
    const source = database.filename
    const file = path.resolve(target)
    if (!fs.existsSync(source)) {
      return yield* new MaintenanceError({ reason: `there is no database at ${source} (check ACD_BRIDGE_DATABASE_URL)` })
    }
    if (fs.existsSync(file)) {
      return yield* new MaintenanceError({ reason: `${file} exists already: give a new file name` })
    }
    if (!fs.existsSync(path.dirname(file))) {
      return yield* new MaintenanceError({ reason: `the directory of ${file} does not exist` })
    }
    const fail = (what: string) => (cause: { readonly message: string }) =>
      new MaintenanceError({ reason: `${what}: ${cause.message}`, cause })
    yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe("VACUUM INTO ?", [file])).pipe(
      Effect.provide(clientLayer(database)),
      Effect.mapError(fail(`could not back up ${source} to ${file}`))
    )
    const checked = yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const integrity = yield* sql<{ readonly integrity_check: string }>`PRAGMA integrity_check`
      const migrations = yield* appliedMigrations
      return {
        integrity: integrity.map((r) => r.integrity_check).join("; "),
        version: migrations.reduce((n, m) => Math.max(n, m.id), 0)
      }
    }).pipe(Effect.provide(clientLayer({ _tag: "Sqlite", filename: file }, { readonly: true })),
      Effect.mapError(fail(`could not check ${file}`))
    )
    return {
      source,
      target: file,
      bytes: fs.statSync(file).size,
      version: checked.version,
      integrity: checked.integrity
    }
  })
