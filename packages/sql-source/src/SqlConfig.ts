/**
 * The configuration of the sql connector: which database, how to reach it, one SELECT per
 * data kind, and how times are read and passed.
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Dialect } from "./Guard.js"
import { prepare } from "./Guard.js"

/**
 * The database driver: `pg` (PostgreSQL), `mysql` (MySQL, MariaDB), `mssql` (SQL Server),
 * `sqlite` (a SQLite file).
 *
 * @since 0.1.0 @category models
 */
export const Driver = Schema.Literal("pg", "mysql", "mssql", "sqlite")
/** @since 0.1.0 @category models */
export type Driver = typeof Driver.Type

const Port = Schema.Int.pipe(Schema.between(1, 65535))

// what a setting means and its default, in the config's JSON Schema
const { describeSetting: describe, settingWithDefault: withDefault } = Connector

const ssl = Schema.optional(
  Schema.Boolean.pipe(describe("Ask for TLS. Unset: no TLS, except SQL Server, which encrypts unless this is false."))
)
const trustServerCertificate = Schema.optional(
  Schema.Boolean.pipe(describe("Accept a self-signed server certificate (SQL Server only); by default false."))
)

/**
 * A server reached by host and port. `ssl` asks for TLS (SQL Server encrypts unless it is
 * `false`); `trustServerCertificate` accepts a self-signed certificate (SQL Server only).
 *
 * @since 0.1.0 @category models
 */
export const ServerConnection = Schema.Struct({
  host: Schema.NonEmptyTrimmedString.pipe(describe("The database server's host name or address.")),
  port: Schema.optional(
    Port.pipe(describe("The server's port; by default the driver's (PostgreSQL 5432, MySQL 3306, SQL Server 1433)."))
  ),
  database: Schema.NonEmptyTrimmedString.pipe(describe("The database to read from.")),
  user: Schema.NonEmptyTrimmedString.pipe(describe("The database user; a read-only user is advised.")),
  password: Schema.Redacted(Schema.String).annotations({ description: "That user's password." }),
  ssl,
  trustServerCertificate
})

/**
 * A server reached by URL (`postgres://user:pass@host:5432/db`, `mysql://…`,
 * `sqlserver://…`). The whole URL is a secret.
 *
 * @since 0.1.0 @category models
 */
export const UrlConnection = Schema.Struct({
  url: Schema.Redacted(Schema.String).annotations({ description: "A connection URL (`postgres://user:pass@host:5432/db`, `mysql://…`, `sqlserver://…`); the whole URL is a secret." }),
  ssl,
  trustServerCertificate
})

/** A SQLite database file, opened read-only. @since 0.1.0 @category models */
export const FileConnection = Schema.Struct({
  filename: Schema.NonEmptyTrimmedString.pipe(describe("The SQLite database file (a path on the server running the engine), opened read-only."))
})

/** @since 0.1.0 @category models */
export const Connection = Schema.Union(ServerConnection, UrlConnection, FileConnection).pipe(describe("How to reach the database: host, database, user and password; or a `url`; or, for sqlite, a `filename`."))
/** @since 0.1.0 @category models */
export type Connection = typeof Connection.Type

const Query = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0, { message: () => "the query is empty" })
)

/**
 * The contacts query. `layout: "contact"` (default) returns one row per contact event;
 * `layout: "interval"` returns one row per queue, channel and interval with counts and
 * second sums. `intervalMinutes` is the interval length when the query has no
 * `interval_minutes` column.
 *
 * @since 0.1.0 @category models
 */
export const ContactsQuery = Schema.Struct({
  query: Query.pipe(describe("A read-only SELECT returning the contacts (see the README for its columns), with `:from` and `:to` for the window.")),
  layout: withDefault(
    Schema.Literal("contact", "interval"),
    "contact",
    "`contact`: one row per contact event; `interval`: one row per queue, channel and interval with counts and second sums."
  ),
  intervalMinutes: Schema.optional(
    Schema.Literal(15, 30, 60).pipe(describe("The interval length in minutes for `layout: interval` when the query has no `interval_minutes` column."))
  )
}).pipe(describe("The contacts query; without it, no contacts are imported."))

/** The agent statuses query. @since 0.1.0 @category models */
export const AgentStatusesQuery = Schema.Struct({
  query: Query.pipe(describe("A read-only SELECT returning agent statuses (see the README for its columns), with `:from` and `:to` for the window."))
}).pipe(describe("The agent statuses query; without it, no agent statuses are imported."))

/**
 * Realtime polling of agent statuses: the statuses query (or `query`) runs every
 * `pollSeconds` over the last `lookbackMinutes`, and rows that changed since the previous
 * poll are emitted.
 *
 * @since 0.1.0 @category models
 */
export const RealtimeOptions = Schema.Struct({
  query: Schema.optional(
    Query.pipe(describe("The query polled for realtime agent statuses; by default the `agentStatuses` query."))
  ),
  pollSeconds: withDefault(Schema.Number.pipe(Schema.between(1, 3600)), 10, "How often the query runs, in seconds."),
  lookbackMinutes: withDefault(
    Schema.Int.pipe(Schema.between(1, 7 * 24 * 60)),
    720,
    "How far back each poll reads, in minutes; rows that changed since the previous poll are emitted."
  )
}).pipe(describe("Realtime polling of agent statuses; unset, no realtime."))

/**
 * How `:from` and `:to` are passed: `format` (`iso`, `timestamp`, `epoch_seconds`,
 * `epoch_millis`) and, for `iso` and `timestamp`, the zone they are written in
 * (default: the connector's `timezone`).
 *
 * @since 0.1.0 @category models
 */
export const Parameters = Schema.Struct({
  format: withDefault(
    Schema.Literal("iso", "timestamp", "epoch_seconds", "epoch_millis"),
    "iso",
    "How `:from` and `:to` are passed: an ISO 8601 string, a timestamp without zone, or epoch seconds or milliseconds."
  ),
  timezone: Schema.optional(
    Schema.String.pipe(describe("The IANA time zone `:from` and `:to` are written in for `iso` and `timestamp`; by default the connector's `timezone`."))
  )
}).pipe(describe("How the window bounds `:from` and `:to` are passed to the queries."))

const isZone = (zone: string) => Option.isSome(DateTime.zoneMakeNamed(zone))
const Zone = Schema.String.pipe(
  Schema.filter((z) => isZone(z), {
    message: (issue) => `${JSON.stringify(issue.actual)} is not an IANA time zone`
  })
)

const dialectOf = (driver: Driver): Dialect => driver

const ConfigFields = Schema.Struct({
  driver: Driver.pipe(describe("The database driver: `pg` (PostgreSQL), `mysql` (MySQL, MariaDB), `mssql` (SQL Server), `sqlite` (a SQLite file).")),
  connection: Connection,
  /** zone of source timestamps that carry no offset (IANA name) */
  timezone: withDefault(Zone, "UTC", "The IANA time zone of source timestamps that carry no offset."),
  parameters: Schema.optionalWith(Parameters, { default: () => ({ format: "iso" as const }) }),
  /** what a bare number in a timestamp column means */
  numericTimestamps: withDefault(
    Schema.Literal("epoch_seconds", "epoch_millis"),
    "epoch_seconds",
    "What a bare number in a timestamp column means: epoch seconds or epoch milliseconds."
  ),
  contacts: Schema.optional(ContactsQuery),
  agentStatuses: Schema.optional(AgentStatusesQuery),
  realtime: Schema.optional(RealtimeOptions),
  /** the longest a query may run */
  queryTimeoutSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 24 * 3600)),
    300,
    "The longest a query may run, in seconds."
  ),
  connectTimeoutSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 600)),
    10,
    "The longest connecting to the database may take, in seconds."
  ),
  /** records per emitted batch */
  batchSize: withDefault(Schema.Int.pipe(Schema.between(1, 100_000)), 1000, "Records per emitted batch."),
  /**
   * run each query once per slice of this many minutes of the window (bounds what one
   * query returns; SQL Server, whose client buffers a whole result, defaults to 60)
   */
  sliceMinutes: Schema.optional(
    Schema.Int.pipe(Schema.between(1, 7 * 24 * 60)).pipe(describe("Run each query once per slice of this many minutes of the window, to bound what one query returns. Unset: one query per window (SQL Server: 60, as its client buffers a whole result)."))
  )
})

/**
 * The connector config. Queries are checked by the read-only guard when the config is
 * decoded, so an integration with a writing query can't be created.
 *
 * @since 0.1.0 @category models
 */
export const SqlConfig = ConfigFields.pipe(
  Schema.filter((c) => {
    const issues: Array<{ path: ReadonlyArray<PropertyKey>; message: string }> = []
    const isFile = "filename" in c.connection
    if (c.driver === "sqlite" && !isFile) {
      issues.push({ path: ["connection"], message: "the sqlite driver needs connection.filename" })
    }
    if (c.driver !== "sqlite" && isFile) {
      issues.push({ path: ["connection"], message: `the ${c.driver} driver needs host/database/user/password or url` })
    }
    if (!c.contacts && !c.agentStatuses) {
      issues.push({ path: [], message: "configure a contacts query, an agentStatuses query or both" })
    }
    if (c.realtime && !c.realtime.query && !c.agentStatuses) {
      issues.push({ path: ["realtime"], message: "realtime polling needs realtime.query or an agentStatuses query" })
    }
    if (c.parameters.timezone !== undefined && !isZone(c.parameters.timezone)) {
      issues.push({ path: ["parameters", "timezone"], message: `${c.parameters.timezone} is not an IANA time zone` })
    }
    const queries: Array<[ReadonlyArray<PropertyKey>, string, string | undefined]> = [
      [["contacts", "query"], "contacts", c.contacts?.query],
      [["agentStatuses", "query"], "agentStatuses", c.agentStatuses?.query],
      [["realtime", "query"], "realtime", c.realtime?.query]
    ]
    for (const [path, name, sql] of queries) {
      if (sql === undefined) continue
      const prepared = prepare(dialectOf(c.driver), sql, name)
      if (Either.isLeft(prepared)) issues.push({ path, message: prepared.left.message })
    }
    return issues.length === 0 ? true : issues
  }, { identifier: "SqlConfig" })
)

/** The decoded config. @since 0.1.0 @category models */
export type SqlConfig = typeof SqlConfig.Type
/** The config as JSON. @since 0.1.0 @category models */
export type SqlConfigEncoded = typeof SqlConfig.Encoded
