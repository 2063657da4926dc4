/**
 * The configuration of the sql connector: which database, how to reach it, one SELECT per
 * data kind, and how times are read and passed.
 *
 * @since 0.1.0
 */
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

/**
 * A server reached by host and port. `ssl` asks for TLS (SQL Server encrypts unless it is
 * `false`); `trustServerCertificate` accepts a self-signed certificate (SQL Server only).
 *
 * @since 0.1.0 @category models
 */
export const ServerConnection = Schema.Struct({
  host: Schema.NonEmptyTrimmedString,
  port: Schema.optional(Port),
  database: Schema.NonEmptyTrimmedString,
  user: Schema.NonEmptyTrimmedString,
  password: Schema.Redacted(Schema.String),
  ssl: Schema.optional(Schema.Boolean),
  trustServerCertificate: Schema.optional(Schema.Boolean)
})

/**
 * A server reached by URL (`postgres://user:pass@host:5432/db`, `mysql://…`,
 * `sqlserver://…`). The whole URL is a secret.
 *
 * @since 0.1.0 @category models
 */
export const UrlConnection = Schema.Struct({
  url: Schema.Redacted(Schema.String),
  ssl: Schema.optional(Schema.Boolean),
  trustServerCertificate: Schema.optional(Schema.Boolean)
})

/** A SQLite database file, opened read-only. @since 0.1.0 @category models */
export const FileConnection = Schema.Struct({
  filename: Schema.NonEmptyTrimmedString
})

/** @since 0.1.0 @category models */
export const Connection = Schema.Union(ServerConnection, UrlConnection, FileConnection)
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
  query: Query,
  layout: Schema.optionalWith(Schema.Literal("contact", "interval"), { default: () => "contact" as const }),
  intervalMinutes: Schema.optional(Schema.Literal(15, 30, 60))
})

/** The agent statuses query. @since 0.1.0 @category models */
export const AgentStatusesQuery = Schema.Struct({
  query: Query
})

/**
 * Realtime polling of agent statuses: the statuses query (or `query`) runs every
 * `pollSeconds` over the last `lookbackMinutes`, and rows that changed since the previous
 * poll are emitted.
 *
 * @since 0.1.0 @category models
 */
export const RealtimeOptions = Schema.Struct({
  query: Schema.optional(Query),
  pollSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 3600)), { default: () => 10 }),
  lookbackMinutes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 7 * 24 * 60)), { default: () => 720 })
})

/**
 * How `:from` and `:to` are passed: `format` (`iso`, `timestamp`, `epoch_seconds`,
 * `epoch_millis`) and, for `iso` and `timestamp`, the zone they are written in
 * (default: the connector's `timezone`).
 *
 * @since 0.1.0 @category models
 */
export const Parameters = Schema.Struct({
  format: Schema.optionalWith(Schema.Literal("iso", "timestamp", "epoch_seconds", "epoch_millis"), {
    default: () => "iso" as const
  }),
  timezone: Schema.optional(Schema.String)
})

const isZone = (zone: string) => Option.isSome(DateTime.zoneMakeNamed(zone))
const Zone = Schema.String.pipe(
  Schema.filter((z) => isZone(z), { message: (issue) => `${JSON.stringify(issue.actual)} is not an IANA time zone` })
)

const dialectOf = (driver: Driver): Dialect => driver

const ConfigFields = Schema.Struct({
  driver: Driver,
  connection: Connection,
  /** zone of source timestamps that carry no offset (IANA name) */
  timezone: Schema.optionalWith(Zone, { default: () => "UTC" }),
  parameters: Schema.optionalWith(Parameters, { default: () => ({ format: "iso" as const }) }),
  /** what a bare number in a timestamp column means */
  numericTimestamps: Schema.optionalWith(Schema.Literal("epoch_seconds", "epoch_millis"), {
    default: () => "epoch_seconds" as const
  }),
  contacts: Schema.optional(ContactsQuery),
  agentStatuses: Schema.optional(AgentStatusesQuery),
  realtime: Schema.optional(RealtimeOptions),
  /** the longest a query may run */
  queryTimeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 24 * 3600)), { default: () => 300 }),
  connectTimeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 600)), { default: () => 10 }),
  /** records per emitted batch */
  batchSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100_000)), { default: () => 1000 }),
  /**
   * run each query once per slice of this many minutes of the window (bounds what one
   * query returns; SQL Server, whose client buffers a whole result, defaults to 60)
   */
  sliceMinutes: Schema.optional(Schema.Int.pipe(Schema.between(1, 7 * 24 * 60)))
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
