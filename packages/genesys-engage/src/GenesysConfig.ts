/**
 * The configuration of the Genesys Engage connector: how to reach the Info Mart database,
 * where contacts are read from (RAA interval aggregates or per-contact facts), how Genesys
 * media and agent states become acd-bridge channels and activities.
 *
 * Every table and column name the connector puts into SQL comes from this config and is
 * checked to be a plain SQL identifier when the config is decoded; values are always bound
 * parameters. So a config can never inject SQL.
 *
 * @since 0.1.0
 */
import { Domain } from "@acd-bridge/core"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_$]*$/

/**
 * A plain SQL identifier (letters, digits, `_`, `$`; not starting with a digit). Written
 * unquoted, so the database folds its case as it does for the Info Mart's own names.
 *
 * @since 0.1.0 @category models
 */
export const Identifier = Schema.String.pipe(
  Schema.filter((s) => identifierPattern.test(s) && s.length <= 128, {
    message: (issue) => `${JSON.stringify(issue.actual)} is not a plain SQL name (letters, digits, _ and $)`
  })
)

/**
 * A Genesys `*_CODE` value (`VOICE`, `INBOUND`, `AGENT`…).
 *
 * @since 0.1.0 @category models
 */
export const Code = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64))

const Port = Schema.Int.pipe(Schema.between(1, 65535))

/**
 * A host name or IP address: no scheme, port, path or user (those have fields of their own).
 *
 * @since 0.2.0 @category models
 */
export const Host = Schema.NonEmptyTrimmedString.pipe(
  Schema.filter((h) => /^[A-Za-z0-9._:-]+$/.test(h) && h.length <= 253, {
    message: () => "a host name or IP address (no scheme, port, path or user name; those have fields of their own)"
  })
)

const postgresUrl = (text: string): boolean => {
  try {
    const u = new URL(text)
    return (u.protocol === "postgres:" || u.protocol === "postgresql:") && u.hostname.length > 0 &&
      u.pathname.length > 1
  } catch {
    return false
  }
}

/**
 * A PostgreSQL connection URL: scheme `postgres` or `postgresql`, a host and a database. The
 * error never shows the value (it carries the password).
 *
 * @since 0.2.0 @category models
 */
export const PostgresUrl = Schema.String.pipe(
  Schema.filter(postgresUrl, {
    message: () =>
      "not a PostgreSQL URL: use postgres://user:password@host:5432/database (scheme postgres or postgresql, a host and a database)",
    jsonSchema: { format: "uri" }
  })
)

/**
 * A PostgreSQL Info Mart reached by host and port.
 *
 * @since 0.1.0 @category models
 */
export const ServerConnection = Schema.Struct({
  host: Host,
  port: Schema.optionalWith(Port, { default: () => 5432 }),
  /** the Info Mart (ETL) database */
  database: Schema.NonEmptyTrimmedString,
  user: Schema.NonEmptyTrimmedString,
  password: Schema.Redacted(Schema.String),
  ssl: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * A PostgreSQL Info Mart reached by URL (`postgres://user:pass@host:5432/gim`); the whole URL
 * is a secret.
 *
 * @since 0.1.0 @category models
 */
export const UrlConnection = Schema.Struct({
  url: Schema.Redacted(PostgresUrl)
})

/**
 * A SQLite file with the Info Mart tables (the simulator, demos), opened read-only.
 *
 * @since 0.1.0 @category models
 */
export const FileConnection = Schema.Struct({
  filename: Schema.NonEmptyTrimmedString
})

/**
 * The connection as written in a config: one object with the keys of the three forms, so a
 * key that belongs to none is refused by name and a bad value is reported at its own key (a
 * union of the three would report every key of the other forms as unknown).
 */
const ConnectionFields = Schema.Struct({
  host: Schema.optional(Host),
  port: Schema.optional(Port),
  database: Schema.optional(Schema.NonEmptyTrimmedString),
  user: Schema.optional(Schema.NonEmptyTrimmedString),
  password: Schema.optional(Schema.Redacted(Schema.String)),
  ssl: Schema.optional(Schema.Boolean),
  url: Schema.optional(Schema.Redacted(PostgresUrl)),
  filename: Schema.optional(Schema.NonEmptyTrimmedString)
})

const serverKeys = ["host", "port", "database", "user", "password", "ssl"] as const

/**
 * Where the Info Mart is: `{host, port, database, user, password, ssl}` or `{url}` for
 * PostgreSQL, `{filename}` for a SQLite file; exactly one of the three forms.
 *
 * @since 0.1.0 @category models
 */
export const Connection = Schema.transformOrFail(
  ConnectionFields,
  Schema.Union(Schema.typeSchema(ServerConnection), Schema.typeSchema(UrlConnection), Schema.typeSchema(FileConnection)),
  {
    strict: true,
    decode: (c, _, ast) => {
      const problem = (key: string, message: string) =>
        ParseResult.fail(new ParseResult.Pointer(key, c, new ParseResult.Type(ast, c[key as keyof typeof c], message)))
      const server = serverKeys.filter((k) => c[k] !== undefined)
      if (c.filename !== undefined) {
        const other = [...server, ...(c.url === undefined ? [] : ["url"])]
        return other.length > 0
          ? problem(other[0]!, `a SQLite connection has a filename only, not ${other.join(", ")}`)
          : ParseResult.succeed({ filename: c.filename })
      }
      if (c.url !== undefined) {
        return server.length > 0
          ? problem(server[0]!, `give the url or host, port, database, user and password, not both (${server.join(", ")})`)
          : ParseResult.succeed({ url: c.url })
      }
      if (c.host === undefined) {
        return ParseResult.fail(
          new ParseResult.Type(ast, c, "give host, database, user and password (PostgreSQL), url (PostgreSQL) or filename (SQLite)")
        )
      }
      for (const key of ["database", "user", "password"] as const) {
        if (c[key] === undefined) return problem(key, `a PostgreSQL connection by host needs ${key}`)
      }
      return ParseResult.succeed({
        host: c.host,
        port: c.port ?? 5432,
        database: c.database!,
        user: c.user!,
        password: c.password!,
        ssl: c.ssl ?? false
      })
    },
    encode: (c) => ParseResult.succeed(c)
  }
)
/** @since 0.1.0 @category models */
export type Connection = typeof Connection.Type

/**
 * The Info Mart tables the connector reads, by their standard names. A site that exposes
 * them under other names (views, synonyms) maps them in `tables`.
 *
 * @since 0.1.0 @category models
 */
export const TableName = Schema.Literal(
  "AG2_QUEUE_SUBHR",
  "INTERACTION_FACT",
  "INTERACTION_RESOURCE_FACT",
  "MEDIATION_SEGMENT_FACT",
  "TECHNICAL_DESCRIPTOR",
  "INTERACTION_TYPE",
  "MEDIA_TYPE",
  "RESOURCE_",
  "RESOURCE_STATE",
  "RESOURCE_STATE_REASON",
  "SM_RES_STATE_FACT",
  "SM_RES_STATE_REASON_FACT"
)
/** @since 0.1.0 @category models */
export type TableName = typeof TableName.Type

const Columns = Schema.Array(Identifier)

/**
 * Which `AG2_QUEUE_SUBHR` columns give each measure; several columns are added. The
 * defaults follow the mapping suggested for WFM (ENTERED, ACCEPTED, ABANDONED,
 * ENGAGE_TIME, HOLD_TIME, WRAP_TIME), short abandons from ABANDONED_SHORT and breakouts from
 * CLEARED + ROUTED_OTHER where the view has them; the exact Genesys definitions vary between
 * RAA versions, so check them against the customer's reports (an empty list reads 0). `waitTime` and
 * `unhandledTime` have no standard column and are empty (0) unless mapped.
 *
 * @since 0.1.0 @category models
 */
export const AggregateMeasures = Schema.Struct({
  offered: Schema.optionalWith(Columns, { default: () => ["ENTERED"] }),
  handled: Schema.optionalWith(Columns, { default: () => ["ACCEPTED"] }),
  abandoned: Schema.optionalWith(Columns, { default: () => ["ABANDONED"] }),
  talkTime: Schema.optionalWith(Columns, { default: () => ["ENGAGE_TIME"] }),
  holdTime: Schema.optionalWith(Columns, { default: () => ["HOLD_TIME"] }),
  afterCallWorkTime: Schema.optionalWith(Columns, { default: () => ["WRAP_TIME"] }),
  /**
   * abandons within RAA's short-abandon threshold (a subset of `abandoned`); when not set,
   * `ABANDONED_SHORT` if the view has it (`defaultOptionalMeasures`)
   */
  shortAbandoned: Schema.optional(Columns),
  /**
   * visits that left the queue without an agent and without hanging up (overflow, routed
   * elsewhere); when not set, those of `CLEARED` and `ROUTED_OTHER` the view has
   */
  breakout: Schema.optional(Columns),
  /** seconds waited by all visits (answered, abandoned, broken out) */
  waitTime: Schema.optionalWith(Columns, { default: () => [] }),
  /** seconds waited by visits that were not handled (abandoned, broken out) */
  unhandledTime: Schema.optionalWith(Columns, { default: () => [] })
})
/** @since 0.1.0 @category models */
export type AggregateMeasures = typeof AggregateMeasures.Type

/**
 * The columns read for the measures a site may leave unset because not every RAA version has
 * them: each is read where the view has it, and 0 where it has none. A list set in the config
 * is read as it is (a missing column is an error).
 *
 * @since 0.2.0 @category constants
 */
export const defaultOptionalMeasures = {
  shortAbandoned: ["ABANDONED_SHORT"],
  breakout: ["CLEARED", "ROUTED_OTHER"]
} as const

/**
 * Where contacts come from:
 *
 * - `aggregates` (default): the RAA 15-minute view `AG2_QUEUE_SUBHR`, summed over its rows
 *   per queue, media and interval; each interval replaces what was stored for it;
 * - `facts`: one contact event per queue visit (`MEDIATION_SEGMENT_FACT`), at the instant it
 *   entered the queue, with the talk, hold and after-call work of that visit's agent legs
 *   (`INTERACTION_RESOURCE_FACT`; consults excluded), read around the window by
 *   `maxContactSpanHours`;
 * - `none`: agent states only.
 *
 * @since 0.1.0 @category models
 */
export const ContactsOptions = Schema.Struct({
  source: Schema.optionalWith(Schema.Literal("aggregates", "facts", "none"), { default: () => "aggregates" as const }),
  /** `INTERACTION_TYPE.INTERACTION_TYPE_CODE` values counted (empty: all) */
  interactionTypes: Schema.optionalWith(Schema.Array(Code), { default: () => ["INBOUND"] }),
  /** only these queues (`RESOURCE_.RESOURCE_NAME`); empty: all */
  queues: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  measures: Schema.optionalWith(AggregateMeasures, { default: () => Schema.decodeSync(AggregateMeasures)({}) }),
  /**
   * facts: how far a contact may reach from its start to the end of its last after-call work;
   * the connector reads this far after a window (legs of visits that entered in it) and
   * before it (interactions that started earlier, in the IVR)
   */
  maxContactSpanHours: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.25, 72)), { default: () => 4 }),
  /**
   * facts: an abandon whose `MEDIATION_DURATION` is below this many seconds is a short abandon
   * (set it to the site's RAA short-abandon threshold; unverified default)
   */
  shortAbandonSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 3600)), { default: () => 10 }),
  /** facts: `TECHNICAL_RESULT_CODE`s of a mediation segment that mean the caller hung up in the queue */
  abandonedResults: Schema.optionalWith(Schema.Array(Code), { default: () => ["ABANDONED"] }),
  /** facts: `TECHNICAL_DESCRIPTOR.RESOURCE_ROLE`s of a consulted agent's leg (counted nowhere) */
  consultRoles: Schema.optionalWith(Schema.Array(Code), { default: () => ["ReceivedConsult"] })
})
/** @since 0.1.0 @category models */
export type ContactsOptions = typeof ContactsOptions.Type

/**
 * Agent states from `SM_RES_STATE_FACT`:
 *
 * - `media`: the `MEDIA_TYPE.MEDIA_NAME_CODE` whose states are read (Info Mart keeps one
 *   state per agent and media; a WFM timeline needs one);
 * - `reasons`: split states by their `SM_RES_STATE_REASON_FACT` reasons and name the
 *   activity `STATE:REASON` (e.g. `NotReady:Lunch`);
 * - `activityFrom`: `STATE_NAME` (default) or `STATE_NAME_CODE` for the state part;
 * - `agentFrom`: `RESOURCE_NAME` (the agent's login, the default) or `EMPLOYEE_ID`;
 * - `maxStateHours`: realtime only: how far back the first poll after a reconnect resumes.
 *   (A pull returns every state that overlaps its window whole, however long ago it started.)
 *
 * @since 0.1.0 @category models
 */
export const AgentStatusOptions = Schema.Struct({
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  media: Schema.optionalWith(Code, { default: () => "VOICE" }),
  reasons: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  activityFrom: Schema.optionalWith(Schema.Literal("STATE_NAME", "STATE_NAME_CODE"), {
    default: () => "STATE_NAME" as const
  }),
  agentFrom: Schema.optionalWith(Schema.Literal("RESOURCE_NAME", "EMPLOYEE_ID"), {
    default: () => "RESOURCE_NAME" as const
  }),
  maxStateHours: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 24 * 31)), { default: () => 24 })
})
/** @since 0.1.0 @category models */
export type AgentStatusOptions = typeof AgentStatusOptions.Type

/** The default media → channel mapping. @since 0.1.0 @category constants */
export const defaultChannels: Readonly<Record<string, Domain.Channel>> = {
  VOICE: "calls",
  CHAT: "chats",
  EMAIL: "emails",
  SMS: "social_media",
  FACEBOOK: "social_media",
  TWITTER: "social_media",
  WORKITEM: "back_office"
}

/**
 * The connector config.
 *
 * @since 0.1.0 @category models
 */
export const GenesysConfig = Schema.Struct({
  /** `pg` (PostgreSQL Info Mart) or `sqlite` (the simulator) */
  driver: Schema.Literal("pg", "sqlite"),
  connection: Connection,
  /** the schema that holds the Info Mart tables (PostgreSQL); default: the user's search path */
  schema: Schema.optional(Identifier),
  /** other names for the standard tables (a view or synonym per table) */
  tables: Schema.optionalWith(
    Schema.Record({ key: Schema.String, value: Identifier }).pipe(
      Schema.filter((r) => {
        const unknown = Object.keys(r).filter((k) => !Schema.is(TableName)(k))
        return unknown.length === 0 ||
          `unknown table ${unknown.join(", ")}; the tables are ${TableName.literals.join(", ")}`
      })
    ),
    { default: () => ({}) }
  ),
  contacts: Schema.optionalWith(ContactsOptions, { default: () => Schema.decodeSync(ContactsOptions)({}) }),
  /** `MEDIA_TYPE.MEDIA_NAME_CODE` → channel; media not listed are not imported */
  channels: Schema.optionalWith(Schema.Record({ key: Code, value: Domain.Channel }), {
    default: () => ({ ...defaultChannels })
  }),
  agentStatuses: Schema.optionalWith(AgentStatusOptions, { default: () => Schema.decodeSync(AgentStatusOptions)({}) }),
  /** realtime: agent states are read every `pollSeconds` */
  realtime: Schema.optionalWith(
    Schema.Struct({ pollSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 3600)), { default: () => 10 }) }),
    { default: () => ({ pollSeconds: 10 }) }
  ),
  /** a pulled window is read in slices of this many hours, one batch per slice */
  sliceHours: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 24 * 31)), { default: () => 24 }),
  queryTimeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 24 * 3600)), { default: () => 300 }),
  connectTimeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 600)), { default: () => 10 })
}).pipe(
  Schema.filter((c) => {
    const issues: Array<{ path: ReadonlyArray<PropertyKey>; message: string }> = []
    const isFile = "filename" in c.connection
    if (c.driver === "sqlite" && !isFile) {
      issues.push({ path: ["connection"], message: "the sqlite driver needs connection.filename" })
    }
    if (c.driver === "pg" && isFile) {
      issues.push({ path: ["connection"], message: "the pg driver needs host, database, user and password (or url)" })
    }
    if (c.contacts.source === "none" && !c.agentStatuses.enabled) {
      issues.push({ path: [], message: "nothing to import: contacts.source is none and agentStatuses.enabled is false" })
    }
    if (Object.keys(c.channels).length === 0) {
      issues.push({ path: ["channels"], message: "map at least one MEDIA_NAME_CODE to a channel" })
    }
    return issues.length === 0 ? true : issues
  }, { identifier: "GenesysConfig" })
)

/** The decoded config. @since 0.1.0 @category models */
export type GenesysConfig = typeof GenesysConfig.Type
/** The config as JSON. @since 0.1.0 @category models */
export type GenesysConfigEncoded = typeof GenesysConfig.Encoded
