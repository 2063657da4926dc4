/**
 * One opened source database per driver: stream the rows of a guarded query inside a
 * read-only unit with a timeout, and read a result's column names and types.
 *
 * Each driver lives in `./drivers/` and is imported when a source of its kind is opened:
 * the client packages weigh 10–35 MB of RSS each, and a host reading one SQLite file should
 * not carry PostgreSQL, MySQL and SQL Server clients along.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
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

/** The packages behind each driver, for the message when they can't be loaded. */
const driverPackages: Record<Dialect, string> = {
  pg: "pg, pg-cursor, @effect/sql-pg",
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
