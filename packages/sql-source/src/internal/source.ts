/**
 * One opened source database per driver: stream the rows of a guarded query inside a
 * read-only unit with a timeout, and read a result's column names and types.
 *
 * Each driver lives in `./drivers/` and is imported when a source of its kind is opened:
 * the client packages weigh 10–35 MB of RSS each, and a host reading one SQLite file should
 * not carry PostgreSQL, MySQL and SQL Server clients along.
 */
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { PreparedQuery } from "../Guard.js"
import type { Connection } from "../SqlConfig.js"
import type { Dialect } from "./dialect.js"
import type { LoginPrivileges } from "./privileges.js"

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
  /** what the login may do beyond reading, for `check`; `undefined` where there is no login (SQLite) */
  readonly privileges: Effect.Effect<LoginPrivileges | undefined, SourceFailure>
}

/** @internal */
export interface SourceOptions {
  readonly driver: Dialect
  readonly connection: Connection
  readonly queryTimeoutMs: number
  readonly connectTimeoutMs: number
}

/** @internal */
export interface ServerTarget {
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

/** A driver failure, wrapped for classification. @internal */
export const fail = (cause: unknown): SourceFailure => new SourceFailure(cause)

/**
 * A stream whose resources (a connection checked out of the pool, its transaction, a cursor;
 * a SQLite statement's iterator) live in a scope forked from the source's own scope.
 *
 * The stream closes that scope when it ends, as any scoped stream would. But when a stage
 * after it fails (a row that can't be decoded), Effect closes the scope of the stream that
 * opened the source *before* the scopes of the streams inside it: the pool was ended while
 * the cursor's connection was still checked out, and waited for it forever. A scope forked
 * from the source's scope is closed by the source's scope before the pool, whichever of the
 * two closes first.
 *
 * @internal
 */
export const sessionStream = <A, E>(
  sourceScope: Scope.Scope,
  session: Effect.Effect<Stream.Stream<A, E>, E, Scope.Scope>
): Stream.Stream<A, E> =>
  Stream.unwrapScoped(
    Effect.flatMap(
      Effect.acquireRelease(
        Scope.fork(sourceScope, ExecutionStrategy.sequential),
        (scope, exit) => Scope.close(scope, exit)
      ),
      (scope) => Scope.extend(session, scope)
    )
  )

/**
 * Waits for `work` at most `ms`, and says how it went. Closing steps use it instead of an
 * Effect timeout: finalizers run uninterruptibly, so a timeout around a promise in one can
 * never fire.
 *
 * @internal
 */
export const within = (work: Promise<unknown>, ms: number): Promise<"done" | "failed" | "timeout"> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), ms)
    work.then(
      () => {
        clearTimeout(timer)
        resolve("done")
      },
      () => {
        clearTimeout(timer)
        resolve("failed")
      }
    )
  })

/** How long one closing step (a ROLLBACK, a cursor close, ending a pool) may take. @internal */
export const closingStepMs = 2_000

/** The packages behind each driver, for the message when they can't be loaded. */
const driverPackages: Record<Dialect, string> = {
  pg: "pg, pg-cursor",
  mysql: "@effect/sql-mysql2, mysql2",
  mssql: "@effect/sql-mssql, tedious",
  sqlite: "better-sqlite3"
}

/**
 * Imports a driver's module. A driver that can't be loaded (a package missing from the
 * install, a native module built for another Node) fails this source only, as a
 * SourceFailure naming the packages, and the other drivers keep working.
 */
const load = <M>(driver: Dialect, importModule: () => Promise<M>): Effect.Effect<M, SourceFailure> =>
  Effect.tryPromise({
    try: importModule,
    catch: (cause) =>
      fail(
        new Error(
          `the ${driver} driver could not be loaded (${driverPackages[driver]}): ${
            cause instanceof Error ? cause.message : String(cause)
          }`,
          { cause }
        )
      )
  })

/**
 * Opens the source for the scope's lifetime (a pool of at most two connections, or the
 * SQLite file read-only), loading only the driver it uses.
 *
 * @internal
 */
export const open = (options: SourceOptions): Effect.Effect<Source, SourceFailure, Scope.Scope> => {
  if (options.driver === "sqlite") {
    if (!("filename" in options.connection)) return Effect.fail(fail(new Error("the sqlite driver needs a filename")))
    const filename = options.connection.filename
    // the import specifiers stay literal, so the bundler gives each driver a chunk of its own
    return Effect.flatMap(load("sqlite", () => import("./drivers/sqlite.js")), (d) => d.open(options, filename))
  }
  const target = serverTarget(options.connection)
  if (!target) return Effect.fail(fail(new Error("the connection URL can't be read")))
  const opened = options.driver === "pg"
    ? Effect.flatMap(load("pg", () => import("./drivers/pg.js")), (d) => d.open(options, target))
    : options.driver === "mysql"
    ? Effect.flatMap(load("mysql", () => import("./drivers/mysql.js")), (d) => d.open(options, target))
    : Effect.flatMap(load("mssql", () => import("./drivers/mssql.js")), (d) => d.open(options, target))
  return opened.pipe(Effect.catchAllDefect((defect) => Effect.fail(fail(defect))))
}
