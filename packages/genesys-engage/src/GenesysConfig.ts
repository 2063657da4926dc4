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
import { Connector, Domain } from "@acd-bridge/core"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_$]*$/

// what a setting means and its default, in the config's JSON Schema
const { describeSetting: describe, settingWithDefault: withDefault } = Connector

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
  host: Schema.optional(Host.pipe(describe("PostgreSQL: the Info Mart server's host name or IP address."))),
  port: Schema.optional(Port.pipe(describe("PostgreSQL: the server's port.", 5432))),
  database: Schema.optional(
    Schema.NonEmptyTrimmedString.pipe(describe("PostgreSQL: the Info Mart (ETL) database."))
  ),
  user: Schema.optional(
    Schema.NonEmptyTrimmedString.pipe(describe("PostgreSQL: the database user; a read-only user is advised."))
  ),
  password: Schema.optional(Schema.Redacted(Schema.String).annotations({ description: "PostgreSQL: that user's password." })),
  ssl: Schema.optional(Schema.Boolean.pipe(describe("PostgreSQL: connect with TLS.", false))),
  url: Schema.optional(
    Schema.Redacted(PostgresUrl).annotations({ description: "PostgreSQL, instead of host…password: a connection URL `postgres://user:password@host:5432/database`; the whole URL is a secret." })
  ),
  filename: Schema.optional(
    Schema.NonEmptyTrimmedString.pipe(describe("SQLite (the simulator, demos): the database file with the Info Mart tables, opened read-only."))
  )
}).pipe(describe("Where the Info Mart is: host, port, database, user, password and ssl, or a url (PostgreSQL), or a filename (SQLite); exactly one form."))

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

const measure = (value: ReadonlyArray<string>, description: string) =>
  withDefault(Columns, value, `${description} Configurable because the RAA measure definitions are unverified.`)

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
  offered: measure(["ENTERED"], "The `AG2_QUEUE_SUBHR` columns summed for offered contacts."),
  handled: measure(["ACCEPTED"], "The columns summed for handled contacts."),
  abandoned: measure(["ABANDONED"], "The columns summed for abandoned contacts."),
  talkTime: measure(["ENGAGE_TIME"], "The columns summed for talk time (seconds)."),
  holdTime: measure(["HOLD_TIME"], "The columns summed for hold time (seconds)."),
  afterCallWorkTime: measure(["WRAP_TIME"], "The columns summed for after-call work time (seconds)."),
  /**
   * abandons within RAA's short-abandon threshold (a subset of `abandoned`); when not set,
   * `ABANDONED_SHORT` if the view has it (`defaultOptionalMeasures`)
   */
  shortAbandoned: Schema.optional(
    Columns.pipe(describe("The columns summed for short abandons (a subset of `abandoned`); unset: `ABANDONED_SHORT` where the view has it, else 0."))
  ),
  /**
   * visits that left the queue without an agent and without hanging up (overflow, routed
   * elsewhere); when not set, those of `CLEARED` and `ROUTED_OTHER` the view has
   */
  breakout: Schema.optional(
    Columns.pipe(describe("The columns summed for breakouts (left the queue without an agent and without hanging up); unset: those of `CLEARED` and `ROUTED_OTHER` the view has. Configurable because unverified."))
  ),
  /** seconds waited by all visits (answered, abandoned, broken out) */
  waitTime: measure([], "The columns summed for the seconds waited by all visits; RAA has no standard column, so empty (0) unless mapped."),
  /** seconds waited by visits that were not handled (abandoned, broken out) */
  unhandledTime: measure(
    [],
    "The columns summed for the seconds waited by visits not handled; RAA has no standard column, so empty (0) unless mapped."
  )
}).pipe(describe("Aggregates source: which `AG2_QUEUE_SUBHR` columns give each measure (several are added; an empty list reads 0). Configurable because the RAA measure meanings are unverified: check them against the site's reports."))
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
  source: withDefault(
    Schema.Literal("aggregates", "facts", "none"),
    "aggregates",
    "Where contacts come from: `aggregates` (the RAA 15-minute view `AG2_QUEUE_SUBHR`), `facts` (one contact per queue visit from `MEDIATION_SEGMENT_FACT`), or `none` (agent states only)."
  ),
  /** `INTERACTION_TYPE.INTERACTION_TYPE_CODE` values counted (empty: all) */
  interactionTypes: withDefault(
    Schema.Array(Code),
    ["INBOUND"],
    "The `INTERACTION_TYPE_CODE` values counted; empty: all."
  ),
  /** only these queues (`RESOURCE_.RESOURCE_NAME`); empty: all */
  queues: withDefault(Schema.Array(Schema.String), [], "Only these queues (`RESOURCE_.RESOURCE_NAME`); empty: all."),
  measures: Schema.optionalWith(AggregateMeasures, { default: () => Schema.decodeSync(AggregateMeasures)({}) }),
  /**
   * facts: how far a contact may reach from its start to the end of its last after-call work;
   * the connector reads this far after a window (legs of visits that entered in it) and
   * before it (interactions that started earlier, in the IVR)
   */
  maxContactSpanHours: withDefault(
    Schema.Number.pipe(Schema.between(0.25, 72)),
    4,
    "Facts source: the longest a contact lasts from its start to the end of its last after-call work, in hours; a window is read this far before and after. Configurable because the site's longest contact is unverified."
  ),
  /**
   * facts: an abandon whose `MEDIATION_DURATION` is below this many seconds is a short abandon
   * (set it to the site's RAA short-abandon threshold; unverified default)
   */
  shortAbandonSeconds: withDefault(
    Schema.Int.pipe(Schema.between(0, 3600)),
    10,
    "Facts source: an abandon whose `MEDIATION_DURATION` is below this many seconds is a short abandon. Set it to the site's RAA short-abandon threshold: the default is unverified."
  ),
  /** facts: `TECHNICAL_RESULT_CODE`s of a mediation segment that mean the caller hung up in the queue */
  abandonedResults: withDefault(
    Schema.Array(Code),
    ["ABANDONED"],
    "Facts source: the `TECHNICAL_RESULT_CODE` values of a queue visit that mean the caller hung up in the queue; any other ended, unanswered visit is a breakout."
  ),
  /** facts: `TECHNICAL_DESCRIPTOR.RESOURCE_ROLE`s of a consulted agent's leg (counted nowhere) */
  consultRoles: withDefault(
    Schema.Array(Code),
    ["ReceivedConsult"],
    "Facts source: the `TECHNICAL_DESCRIPTOR.RESOURCE_ROLE` values of a consulted agent's leg (counted nowhere)."
  )
}).pipe(describe("Where and how contacts are read; each field has its default."))
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
  enabled: withDefault(Schema.Boolean, true, "Whether agent states are imported (from `SM_RES_STATE_FACT`)."),
  media: withDefault(
    Code,
    "VOICE",
    "The `MEDIA_TYPE.MEDIA_NAME_CODE` whose states are read: Info Mart keeps one state per agent and media, a WFM timeline needs one."
  ),
  reasons: withDefault(
    Schema.Boolean,
    true,
    "Split states by their `SM_RES_STATE_REASON_FACT` reasons and name the activity `STATE:REASON` (e.g. `NotReady:Lunch`)."
  ),
  activityFrom: withDefault(
    Schema.Literal("STATE_NAME", "STATE_NAME_CODE"),
    "STATE_NAME",
    "Which column names the state part of the activity."
  ),
  agentFrom: withDefault(
    Schema.Literal("RESOURCE_NAME", "EMPLOYEE_ID"),
    "RESOURCE_NAME",
    "Which column identifies the agent: `RESOURCE_NAME` (their login) or `EMPLOYEE_ID` (the name where it is empty)."
  ),
  maxStateHours: withDefault(
    Schema.Int.pipe(Schema.between(1, 24 * 31)),
    24,
    "Realtime only: how far back, in hours, the first poll after a reconnect resumes (a pull returns every state overlapping its window, whatever its age)."
  )
}).pipe(describe("Agent states from `SM_RES_STATE_FACT`; each field has its default."))
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
  driver: Schema.Literal("pg", "sqlite").pipe(describe("`pg` (a PostgreSQL Info Mart) or `sqlite` (the simulator, demos).")),
  connection: Connection,
  /** the schema that holds the Info Mart tables (PostgreSQL); default: the user's search path */
  schema: Schema.optional(
    Identifier.pipe(describe("PostgreSQL: the schema that holds the Info Mart tables; by default the user's search path."))
  ),
  /** other names for the standard tables (a view or synonym per table) */
  tables: withDefault(
    Schema.Record({ key: Schema.String, value: Identifier }).pipe(
      Schema.filter((r) => {
        const unknown = Object.keys(r).filter((k) => !Schema.is(TableName)(k))
        return unknown.length === 0 ||
          `unknown table ${unknown.join(", ")}; the tables are ${TableName.literals.join(", ")}`
      })
    ),
    {},
    "Other names for the standard Info Mart tables (a view or synonym per table), e.g. `{\"AG2_QUEUE_SUBHR\": \"AG2_QUEUE_SUBHR_V\"}`. Configurable because site names vary."
  ),
  contacts: Schema.optionalWith(ContactsOptions, { default: () => Schema.decodeSync(ContactsOptions)({}) }),
  /** `MEDIA_TYPE.MEDIA_NAME_CODE` → channel; media not listed are not imported */
  channels: withDefault(
    Schema.Record({ key: Code, value: Domain.Channel }),
    { ...defaultChannels },
    "Maps `MEDIA_TYPE.MEDIA_NAME_CODE` values to channels; media not listed are not imported. Configurable because the site's media codes are unverified."
  ),
  agentStatuses: Schema.optionalWith(AgentStatusOptions, { default: () => Schema.decodeSync(AgentStatusOptions)({}) }),
  /** realtime: agent states are read every `pollSeconds` */
  realtime: Schema.optionalWith(
    Schema.Struct({
      pollSeconds: withDefault(Schema.Number.pipe(Schema.between(1, 3600)), 10, "How often agent states are read, in seconds.")
    }).pipe(describe("Realtime agent states, read by polling.")),
    { default: () => ({ pollSeconds: 10 }) }
  ),
  /** a pulled window is read in slices of this many hours, one batch per slice */
  sliceHours: withDefault(
    Schema.Int.pipe(Schema.between(1, 24 * 31)),
    24,
    "A pulled window is read in slices of this many hours, one batch per slice."
  ),
  queryTimeoutSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 24 * 3600)),
    300,
    "The server-side statement timeout, in seconds."
  ),
  connectTimeoutSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 600)),
    10,
    "The longest connecting to the database may take, in seconds."
  )
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
