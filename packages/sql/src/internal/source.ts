/**
 * One opened source database per driver: stream the rows of a guarded query inside a
 * read-only unit with a timeout, and read a result's column names and types.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as MssqlClient from "@effect/sql-mssql/MssqlClient"
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import Database from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import pg from "pg"
import Cursor from "pg-cursor"
import type { PreparedQuery } from "../Guard.js"
import type { Connection } from "../SqlConfig.js"
import type { Dialect } from "./dialect.js"

/** A driver failure, before classification. @internal */
export class SourceFailure {
  readonly _tag = "SourceFailure"
  constructor(readonly cause: unknown) {}
}

/** A result column as the driver describes it. @internal */
export interface Column {
  readonly name: string
  /** the driver's type name, when it reports one */
  readonly type: string | undefined
  readonly category: "text" | "number" | "boolean" | "timestamp" | "date" | "unknown"
}

/** @internal */
export type Row = Readonly<Record<string, unknown>>

/** @internal */
export interface Source {
  readonly dialect: Dialect
  readonly target: string
  /** streams the rows of the query, read-only, with the query timeout */
  readonly rows: (query: PreparedQuery, values: ReadonlyArray<unknown>) => Stream.Stream<Row, SourceFailure>
  /** runs the query and returns its result's columns, when the driver reports them */
  readonly columns: (
    query: PreparedQuery,
    values: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Column> | undefined, SourceFailure>
}

/** @internal */
export interface SourceOptions {
  readonly driver: Dialect
  readonly connection: Connection
  readonly queryTimeoutMs: number
  readonly connectTimeoutMs: number
}

interface ServerTarget {
  readonly host: string
  readonly port: number | undefined
  readonly database: string | undefined
  readonly user: string | undefined
  readonly password: Redacted.Redacted | undefined
  readonly ssl: boolean | undefined
  readonly trustServerCertificate: boolean | undefined
}

/** Splits a server connection (fields or URL) into its parts. @internal */
export const serverTarget = (connection: Connection): ServerTarget | undefined => {
  if ("host" in connection) {
    return {
      host: connection.host,
      port: connection.port,
      database: connection.database,
      user: connection.user,
      password: connection.password,
      ssl: connection.ssl,
      trustServerCertificate: connection.trustServerCertificate
    }
  }
  if ("url" in connection) {
    let url: URL
    try {
      url = new URL(Redacted.value(connection.url))
    } catch {
      return undefined
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || url.searchParams.get("database") ||
      undefined
    return {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port ? Number(url.port) : undefined,
      database,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? Redacted.make(decodeURIComponent(url.password)) : undefined,
      ssl: connection.ssl,
      trustServerCertificate: connection.trustServerCertificate
    }
  }
  return undefined
}

/** Where the source is, for messages (never the password). @internal */
export const describeTarget = (connection: Connection, defaultPort: number): string => {
  if ("filename" in connection) return connection.filename
  const t = serverTarget(connection)
  if (!t) return "(an unreadable URL)"
  return `${t.host}:${t.port ?? defaultPort}/${t.database ?? ""}${t.user ? ` as ${t.user}` : ""}`
}

/** @internal */
export const defaultPorts: Record<Dialect, number> = { pg: 5432, mysql: 3306, mssql: 1433, sqlite: 0 }

const fail = (cause: unknown) => new SourceFailure(cause)

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const pgCategory = (oid: number): Column["category"] => {
  switch (oid) {
    case 16:
      return "boolean"
    case 20:
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
    case 1700:
      return "number"
    case 18:
    case 19:
    case 25:
    case 1042:
    case 1043:
      return "text"
    case 1114:
    case 1184:
      return "timestamp"
    case 1082:
      return "date"
    default:
      return "unknown"
  }
}

const pgTypeName: Record<number, string> = {
  16: "boolean",
  20: "bigint",
  21: "smallint",
  23: "integer",
  700: "real",
  701: "double precision",
  1700: "numeric",
  25: "text",
  1042: "char",
  1043: "varchar",
  1114: "timestamp",
  1184: "timestamptz",
  1082: "date",
  1083: "time",
  1186: "interval",
  17: "bytea",
  114: "json",
  3802: "jsonb",
  2950: "uuid"
}

/** timestamps without a zone, and dates, stay text so the source zone applies to them */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === 1114 || oid === 1082) return (value: string) => value
    return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid, "text")
  }) as pg.CustomTypesConfig["getTypeParser"]
}

const pgReadOnly = (timeoutMs: number) => ({
  begin: "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
  settings: "SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)",
  values: [String(timeoutMs)]
})

/**
 * Streams a query through a pg-cursor on a client of our own from the pool, inside a
 * read-only transaction. (@effect/sql-pg's `executeStream` awaits `cursor.close()` after a
 * failed read, which never settles; here a failed or dropped connection is destroyed instead.)
 */
const pgCursorStream = (
  pool: pg.Pool,
  query: PreparedQuery,
  values: ReadonlyArray<unknown>,
  timeoutMs: number
): Stream.Stream<Row, SourceFailure> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    let broken: Error | undefined
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => pool.connect(), catch: fail }),
      (client) => Effect.sync(() => client.release(broken ?? false))
    )
    const onError = (e: Error) => {
      broken = e
    }
    client.on("error", onError)
    yield* Effect.addFinalizer(() => Effect.sync(() => client.off("error", onError)))
    const settle = (work: () => Promise<unknown>) =>
      Effect.suspend(() => broken ? Effect.void : Effect.promise(() => work().then(() => undefined, (e: Error) => {
        broken = e
      }))).pipe(
        Effect.timeoutOption(Duration.seconds(2)),
        Effect.map((done) => {
          if (done._tag === "None") broken ??= new Error("no answer while closing")
        })
      )
    const ro = pgReadOnly(timeoutMs)
    yield* Effect.tryPromise({ try: () => client.query(ro.begin), catch: fail })
    yield* Effect.addFinalizer(() => settle(() => client.query("ROLLBACK")))
    yield* Effect.tryPromise({ try: () => client.query(ro.settings, ro.values), catch: fail })
    const cursor = client.query(new Cursor<Row>(query.text, [...values]))
    yield* Effect.addFinalizer(() => settle(() => cursor.close()))
    const pull = Effect.async<Chunk.Chunk<Row>, Option.Option<SourceFailure>>((resume) => {
      cursor.read(256, (err, rows) => {
        if (err) {
          broken ??= err
          resume(Effect.fail(Option.some(fail(err))))
        } else if (rows.length > 0) {
          resume(Effect.succeed(Chunk.unsafeFromArray(rows)))
        } else {
          resume(Effect.fail(Option.none()))
        }
      })
    })
    return Stream.repeatEffectChunkOption(pull)
  }))

const openPg = (options: SourceOptions, target: ServerTarget) =>
  Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => new pg.Pool({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      password: target.password ? Redacted.value(target.password) : undefined,
      ssl: target.ssl,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: "acd-bridge-sql",
      max: 2,
      types: pgTypes
    })),
      (p) => Effect.promise(() => p.end()).pipe(Effect.timeoutOption(Duration.seconds(2)))
    )
    pool.on("error", () => {
      // an idle client's connection dropped: the pool discards it
    })
    // connect once now, so a bad login or an unreachable host is reported as such
    yield* Effect.tryPromise({ try: () => pool.query("SELECT 1"), catch: fail })
    const client = yield* PgClient.fromPool({
      acquire: Effect.succeed(pool),
      applicationName: "acd-bridge-sql",
      types: pgTypes
    }).pipe(Effect.mapError(fail))

    /** a reserved connection inside a read-only transaction, rolled back when the scope closes */
    const readOnly = Effect.gen(function*() {
      const conn = yield* client.reserve
      yield* Effect.addFinalizer(() =>
        conn.executeRaw("ROLLBACK", []).pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore)
      )
      const ro = pgReadOnly(options.queryTimeoutMs)
      yield* conn.executeRaw(ro.begin, [])
      yield* conn.executeRaw(ro.settings, ro.values)
      return conn
    }).pipe(Effect.mapError(fail))

    const source: Source = {
      dialect: "pg",
      target: describeTarget(options.connection, 5432),
      rows: (query, values) => pgCursorStream(pool, query, values, options.queryTimeoutMs),
      columns: (query, values) =>
        Effect.scoped(Effect.gen(function*() {
          const conn = yield* readOnly
          const result = yield* conn.executeRaw(query.text, values).pipe(Effect.mapError(fail))
          const fieldList = (result as { fields?: ReadonlyArray<{ name: string; dataTypeID: number }> }).fields ?? []
          return fieldList.map((f): Column => ({
            name: f.name,
            type: pgTypeName[f.dataTypeID] ?? `type ${f.dataTypeID}`,
            category: pgCategory(f.dataTypeID)
          }))
        }))
    }
    return source
  })

// ---------------------------------------------------------------------------
// SQLite (better-sqlite3 directly: @effect/sql-sqlite-node has no row streaming)
// ---------------------------------------------------------------------------

const sqliteCategory = (declared: string | null): Column["category"] => {
  if (declared === null) return "unknown"
  const t = declared.toUpperCase()
  if (t.includes("BOOL")) return "boolean"
  if (t.includes("INT")) return "number"
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "text"
  if (t.includes("DATE") || t.includes("TIME")) return "timestamp"
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB") || t.includes("NUM") || t.includes("DEC")) {
    return "number"
  }
  return "unknown"
}

const openSqlite = (options: SourceOptions, filename: string) =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          if (!fs.existsSync(filename)) {
            throw Object.assign(new Error(`${filename} does not exist`), { code: "ENOENT" })
          }
          const db = new Database(filename, {
            readonly: true,
            fileMustExist: true,
            timeout: Math.min(options.queryTimeoutMs, 30_000)
          })
          db.pragma("query_only = ON")
          return db
        },
        catch: fail
      }),
      (db) => Effect.sync(() => db.close())
    )

    const statement = (query: PreparedQuery) =>
      Effect.try({
        try: () => {
          const stmt = db.prepare(query.text)
          if (!stmt.reader || !stmt.readonly) {
            throw Object.assign(new Error("the statement does not only read"), { code: "SQLITE_READONLY" })
          }
          return stmt
        },
        catch: fail
      })

    const source: Source = {
      dialect: "sqlite",
      target: filename,
      rows: (query, values) =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const stmt = yield* statement(query)
          const started = Date.now()
          const iterator = yield* Effect.acquireRelease(
            Effect.try({ try: () => stmt.iterate(...values) as IterableIterator<Row>, catch: fail }),
            (it) => Effect.sync(() => it.return?.())
          )
          const pull = Effect.suspend(() => {
            // better-sqlite3 is synchronous: the timeout is checked between chunks of rows
            if (Date.now() - started > options.queryTimeoutMs) {
              return Effect.fail(Option.some(fail(Object.assign(new Error("query timeout"), { code: "ETIMEOUT" }))))
            }
            try {
              const rows: Array<Row> = []
              for (let k = 0; k < 256; k++) {
                const next = iterator.next()
                if (next.done) break
                rows.push(next.value)
              }
              return rows.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(rows))
            } catch (cause) {
              return Effect.fail(Option.some(fail(cause)))
            }
          })
          return Stream.repeatEffectChunkOption(Effect.zipLeft(pull, Effect.yieldNow()))
        })),
      columns: (query, values) =>
        Effect.gen(function*() {
          const stmt = yield* statement(query)
          // run it, so errors that only show at execution surface here too
          yield* Effect.try({ try: () => stmt.get(...values), catch: fail })
          return stmt.columns().map((c): Column => ({
            name: c.name,
            type: c.type ?? undefined,
            category: sqliteCategory(c.type)
          }))
        })
    }
    return source
  })

// ---------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------

const openMysql = (options: SourceOptions, target: ServerTarget) =>
  Effect.gen(function*() {
    const client = yield* MysqlClient.make({
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      maxConnections: 2,
      poolConfig: {
        connectTimeout: options.connectTimeoutMs,
        // DATETIME values as text, so the source zone applies to them
        dateStrings: true,
        decimalNumbers: false,
        ...(target.ssl ? { ssl: {} } : {})
      }
    }).pipe(Effect.mapError(fail))

    const readOnly = Effect.gen(function*() {
      const conn = yield* client.reserve
      // session statements go over the text protocol (not every one of them can be prepared)
      const run = (statement: string, values: ReadonlyArray<unknown> = []) =>
        conn.executeUnprepared(statement, values, undefined)
      yield* Effect.addFinalizer(() => run("ROLLBACK").pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore))
      // MySQL: max_execution_time (ms); MariaDB: max_statement_time (s)
      yield* run("SET SESSION max_execution_time = ?", [Math.ceil(options.queryTimeoutMs)]).pipe(
        Effect.orElse(() => run("SET SESSION max_statement_time = ?", [options.queryTimeoutMs / 1000]))
      )
      yield* run("START TRANSACTION READ ONLY")
      return conn
    }).pipe(Effect.mapError(fail))

    const source: Source = {
      dialect: "mysql",
      target: describeTarget(options.connection, 3306),
      rows: (query, values) =>
        Stream.unwrapScoped(Effect.map(readOnly, (conn) => conn.executeStream(query.text, values, undefined))).pipe(
          Stream.mapError((e) => e instanceof SourceFailure ? e : fail(e))
        ) as Stream.Stream<Row, SourceFailure>,
      // mysql2's field list is not passed through @effect/sql-mysql2: columns are checked on rows
      columns: () => Effect.succeed(undefined)
    }
    return source
  })

// ---------------------------------------------------------------------------
// SQL Server
// ---------------------------------------------------------------------------

const openMssql = (options: SourceOptions, target: ServerTarget) =>
  Effect.gen(function*() {
    const client = yield* MssqlClient.make({
      server: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      encrypt: target.ssl ?? true,
      trustServer: target.trustServerCertificate ?? false,
      connectTimeout: Duration.millis(options.connectTimeoutMs),
      maxConnections: 2
    }).pipe(Effect.mapError(fail))
    // connect once now, so a bad login or an unreachable host is reported as such
    yield* client.unsafe("SELECT 1 AS ok").pipe(Effect.mapError(fail))

    /**
     * SQL Server has no read-only transaction: the query runs in a transaction that is always
     * rolled back (the result is carried out of it through a deliberate failure).
     */
    class Carry {
      readonly _tag = "Carry"
      constructor(readonly rows: ReadonlyArray<Row>) {}
    }
    const inRolledBackTransaction = (run: Effect.Effect<ReadonlyArray<Row>, unknown>) =>
      client.withTransaction(Effect.flatMap(run, (rows) => Effect.fail(new Carry(rows)))).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(options.queryTimeoutMs),
          onTimeout: () => Object.assign(new Error("query timeout"), { code: "ETIMEOUT" })
        }),
        Effect.catchAll((e) => e instanceof Carry ? Effect.succeed(e.rows) : Effect.fail(fail(e)))
      )

    // tedious binds JavaScript numbers as INT; epoch milliseconds need BIGINT
    const bind = (values: ReadonlyArray<unknown>) =>
      values.map((v) => typeof v === "number" && Number.isInteger(v) && Math.abs(v) > 2_147_483_647 ? BigInt(v) : v)

    const source: Source = {
      dialect: "mssql",
      target: describeTarget(options.connection, 1433),
      // @effect/sql-mssql buffers a result whole; the connector bounds it by slicing the window
      rows: (query, values) =>
        Stream.fromIterableEffect(inRolledBackTransaction(client.unsafe<Row>(query.text, bind(values)))),
      columns: () => Effect.succeed(undefined)
    }
    return source
  })

/**
 * Opens the source for the scope's lifetime (a pool of at most two connections, or the
 * SQLite file read-only).
 *
 * @internal
 */
export const open = (options: SourceOptions): Effect.Effect<Source, SourceFailure, Scope.Scope> => {
  if (options.driver === "sqlite") {
    if (!("filename" in options.connection)) return Effect.fail(fail(new Error("the sqlite driver needs a filename")))
    return openSqlite(options, options.connection.filename)
  }
  const target = serverTarget(options.connection)
  if (!target) return Effect.fail(fail(new Error("the connection URL can't be read")))
  const opened = options.driver === "pg"
    ? openPg(options, target)
    : options.driver === "mysql"
    ? openMysql(options, target)
    : openMssql(options, target)
  return opened.pipe(
    Effect.catchAllDefect((defect) => Effect.fail(fail(defect))),
    Effect.provide(Reactivity.layer)
  )
}
