/**
 * The Five9 connector's configuration: its schema, the zone of its report times and the
 * endpoints (web service, user, limits) its calls use.
 */
import { Connector, Time } from "@acd-bridge/core"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { Endpoint } from "./client.js"
import { adminNs, supervisorNs } from "./soap.js"

const Channel = Schema.Literal("calls", "chats", "emails", "social_media", "documents", "cases", "back_office")

const Zone = Schema.String.pipe(
  Schema.filter((z) => Either.isRight(Time.zone(z)) || `"${z}" is not an IANA time zone`)
)

/** An absolute http(s) URL with a host. */
const HttpUrl = Schema.String.pipe(
  Schema.filter((s) => {
    const bad = `must be an http or https URL with a host, such as "https://api.five9.com" (got "${s}")`
    try {
      const url = new URL(s)
      return ((url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "") || bad
    } catch {
      return bad
    }
  }, { jsonSchema: { format: "uri" } })
)

/** A host name (and port), without scheme or path. */
const Host = Schema.String.pipe(
  Schema.filter((s) =>
    /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/.test(s) ||
    `must be a host name such as "api.five9.com", without scheme or path (got "${s}")`
  )
)

const ApiVersion = Schema.String.pipe(
  Schema.filter((s) => /^v\d+(?:_\d+)?$/.test(s) || `must be a web services version such as "v13" or "v9_5" (got "${s}")`)
)

const Column = Schema.NonEmptyTrimmedString

// what a setting means and its default, in the config's JSON Schema
const { describeSetting: describe, settingWithDefault: withDefault } = Connector

/** A column name setting; Five9 publishes no column list, so each name is configurable ([U]). */
const column = (value: string, what: string) =>
  withDefault(Column, value, `The column ${what}. Configurable because Five9's column names are unverified.`)

/** @since 0.1.0 @category config */
export const CallLogSettings = Schema.Struct({
  folder: withDefault(Schema.NonEmptyTrimmedString, "Call Log Reports", "The Five9 report folder that holds the call log report."),
  report: withDefault(
    Schema.NonEmptyTrimmedString,
    "Call Log",
    "The name of the call log report contacts are counted from (a custom copy of it may add the SKILL column)."
  ),
  /** the column that names the queue: CAMPAIGN (stock report) or SKILL (a custom copy) */
  queueColumn: withDefault(
    Column,
    "CAMPAIGN",
    "The report column that names a contact's queue: CAMPAIGN in the stock report, or SKILL in a custom copy to count per skill."
  ),
  /** CALL TYPE values of a queue's calls and their legs (others: outbound, 3rd party transfer, internal) */
  callTypes: withDefault(
    Schema.NonEmptyArray(Schema.NonEmptyTrimmedString),
    ["Inbound"],
    "The CALL TYPE values of a queue's calls and their transfer and overflow legs; rows of other types (outbound, internal consults…) count nowhere."
  ),
  channel: withDefault(Channel, "calls", "The channel the counted contacts are imported as.")
}).pipe(describe("The call log report contacts are counted from; each field has its default."))

/** @since 0.1.0 @category config */
export const StateColumns = Schema.Struct({
  agent: column("AGENT", "that names the agent (their Five9 user name)"),
  timestamp: column("TIMESTAMP", "with the start of the state, in `timezone`"),
  state: column("STATE", "with the agent state"),
  reason: column("REASON CODE", "with the not-ready reason code"),
  duration: column("AGENT STATE TIME", "with the state's duration")
}).pipe(describe("The Agent State Details report's column names."))

/**
 * The login sessions report ([C] "Agent Reports/Agent Login-Logout"; its column names are
 * [U]): the gaps between an agent's sessions are logged-out time, and a window's states are
 * read back to the login of the sessions it starts in.
 *
 * @since 0.2.0 @category config
 */
export const SessionSettings = Schema.Struct({
  folder: withDefault(Schema.NonEmptyTrimmedString, "Agent Reports", "The Five9 report folder that holds the login sessions report."),
  report: withDefault(
    Schema.NonEmptyTrimmedString,
    "Agent Login-Logout",
    "The name of the login sessions report (one row per login session)."
  ),
  columns: Schema.optionalWith(
    Schema.Struct({
      agent: column("AGENT", "that names the agent (their Five9 user name)"),
      login: column("LOGIN TIMESTAMP", "with the session's login time, in `timezone`"),
      logout: column("LOGOUT TIMESTAMP", "with the session's logout time, in `timezone` (empty while the session is open)")
    }).pipe(describe("The login sessions report's column names.")),
    { default: () => ({ agent: "AGENT", login: "LOGIN TIMESTAMP", logout: "LOGOUT TIMESTAMP" }) }
  ),
  /** how far back sessions are read: an agent logged out for longer is not known (its logged-out time isn't imported) */
  searchDays: withDefault(
    Schema.Int.pipe(Schema.between(1, 366)),
    31,
    "How far back login sessions are read, in days: an agent logged out for longer is not known, so that logged-out time is not imported."
  )
})

/** @since 0.1.0 @category config */
export const AgentStateSettings = Schema.Struct({
  folder: withDefault(Schema.NonEmptyTrimmedString, "Agent Reports", "The Five9 report folder that holds the agent state report."),
  report: withDefault(
    Schema.NonEmptyTrimmedString,
    "Agent State Details",
    "The name of the report agent states are read from (one row per state)."
  ),
  /** the report's column names ([U]nverified: no public source lists them) */
  columns: Schema.optionalWith(StateColumns, { default: () => Schema.decodeSync(StateColumns)({}) }),
  skipStates: withDefault(
    Schema.Array(Schema.String),
    ["Login", "Logout", "Logged Out"],
    "STATE values whose rows are not imported as agent states (logged-out time comes from the login sessions instead)."
  ),
  /** the activity identifier of logged-out time (between login sessions), or false not to import it */
  loggedOut: withDefault(
    Schema.Union(Schema.NonEmptyTrimmedString, Schema.Literal(false)),
    "Logged Out",
    "The activity identifier imported for logged-out time (the gaps between an agent's login sessions), or false to import no logged-out time."
  ),
  /** the login sessions report, or false where it isn't available (then states are read with `stateLookbackHours` only) */
  sessions: Schema.optionalWith(
    Schema.Union(Schema.Literal(false), SessionSettings).pipe(describe("The login sessions report (default: Agent Reports/Agent Login-Logout with its default columns), or false where it isn't available; then `loggedOut` must be false and states are read `stateLookbackHours` back only.")),
    { default: () => Schema.decodeSync(SessionSettings)({}) }
  )
}).pipe(
  Schema.filter((s) =>
    s.sessions !== false || s.loggedOut === false || {
      path: ["loggedOut"],
      message:
        "loggedOut needs the login sessions report (agentStates.sessions): give it, or set loggedOut to false to import no logged-out time"
    }),
  describe("The agent state and login sessions reports agent statuses are read from; each field has its default.")
)

/** @since 0.1.0 @category config */
export const StatisticsSettings = Schema.Struct({
  /** `getStatisticsUpdate` long-poll timeout */
  longPollSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 120)),
    20,
    "The long-poll timeout of the realtime `getStatisticsUpdate` call, in seconds."
  ),
  /** log out another supervisor session of the same user (off: fail instead) */
  forceLogoutSession: withDefault(
    Schema.Boolean,
    false,
    "Whether realtime logs out another supervisor session of the same user; off, it fails instead."
  ),
  columns: Schema.optionalWith(
    Schema.Struct({
      username: column("Username", "of the agent statistics that names the agent"),
      state: column("State", "of the agent statistics with the agent state"),
      since: column("State Since", "of the agent statistics with the state's start, in `timezone`"),
      reason: column("Reason Code", "of the agent statistics with the not-ready reason code")
    }).pipe(describe("The Statistics Web Services' agent statistics column names.")),
    { default: () => ({ username: "Username", state: "State", since: "State Since", reason: "Reason Code" }) }
  )
}).pipe(describe("Realtime agent states from the Statistics Web Services; each field has its default."))

/**
 * The connector's configuration. The password is `Redacted` (a plain string in JSON).
 *
 * @since 0.1.0 @category config
 */
export const Config = Schema.Struct({
  username: Schema.NonEmptyTrimmedString.pipe(
    Schema.filter((u) =>
      !u.includes(":") || `must not contain ":" (HTTP Basic auth separates the user name from the password with it)`
    ),
    describe("The Five9 user the web services are called as (HTTP Basic), without \":\".")
  ),
  password: Schema.Redacted(Schema.NonEmptyString).annotations({ description: "That user's password." }),
  /** data centre host: api.five9.com (US), api.five9.eu (UK), api.five9.ca, api.eu.five9.com (Frankfurt) */
  host: withDefault(
    Host,
    "api.five9.com",
    "The data centre's host name, without scheme or path: api.five9.com (US), api.five9.eu (UK), api.five9.ca (Canada), api.eu.five9.com (Frankfurt)."
  ),
  /** overrides `https://{host}` (e.g. a proxy or a simulator) */
  baseUrl: Schema.optional(
    HttpUrl.pipe(describe("An http(s) URL that replaces `https://{host}` (a proxy or a simulator); by default `https://{host}`."))
  ),
  adminApiVersion: withDefault(
    ApiVersion,
    "v13",
    "The Configuration Web Services version, as in `/wsadmin/{version}/AdminWebService` (`v9_5` … `v14`)."
  ),
  statisticsApiVersion: withDefault(
    ApiVersion,
    "v13",
    "The Statistics Web Services version (realtime), as in `/wssupervisor/{version}/SupervisorWebService`."
  ),
  /** the zone report times are written in (the data centre's; US = America/Los_Angeles) */
  timezone: withDefault(
    Zone,
    "America/Los_Angeles",
    "The IANA time zone Five9 writes report times in (the data centre's; US: America/Los_Angeles). Configurable because unverified for other data centres."
  ),
  callLog: Schema.optionalWith(CallLogSettings, { default: () => Schema.decodeSync(CallLogSettings)({}) }),
  agentStates: Schema.optionalWith(AgentStateSettings, { default: () => Schema.decodeSync(AgentStateSettings)({}) }),
  statistics: Schema.optionalWith(StatisticsSettings, { default: () => Schema.decodeSync(StatisticsSettings)({}) }),
  serviceLevelSeconds: Schema.optional(
    Schema.Number.pipe(Schema.between(0, 3600)).pipe(describe("The service level threshold in seconds: contacts answered within it are counted as answered in threshold. Unset: not filled."))
  ),
  /** an abandon after a wait shorter than this is a short abandon (Five9's call log has no such flag; 0: none) */
  shortAbandonSeconds: withDefault(
    Schema.Int.pipe(Schema.between(0, 600)),
    5,
    "An abandon after a wait shorter than this many seconds is a short abandon (Five9's call log has no such flag); 0: none."
  ),
  /**
   * the longest a call lasts from its start to its last row's end: a window reads the call log
   * this far before it (to find the first row of calls whose later rows fall in it) and after it
   * (for the later rows of its calls)
   */
  maxContactSpanHours: withDefault(
    Schema.Number.pipe(Schema.between(0.25, 48)),
    4,
    "The longest a call lasts from its start to its last row's end, in hours: a window reads the call log this far before and after itself."
  ),
  /** `isReportRunning` long-poll timeout (Five9 advises at least 5 s) */
  reportPollSeconds: withDefault(
    Schema.Int.pipe(Schema.between(1, 60)),
    5,
    "The long-poll timeout of `isReportRunning` while a report runs, in seconds (Five9 advises at least 5)."
  ),
  maxReportPolls: withDefault(
    Schema.Int.pipe(Schema.between(1, 10_000)),
    120,
    "How many `isReportRunning` polls a report gets before the read fails as transient (and is retried later)."
  ),
  /** a result of this many rows is never trusted (split); lower caps are detected anyway (`internal/capped.ts`) */
  maxRows: withDefault(
    Schema.Int.pipe(Schema.between(2, 50_000)),
    50_000,
    "A report result of this many rows is never trusted and the window is split; lower caps are detected anyway."
  ),
  /** agent states are read at least this far before a window (further back to the login of sessions it starts in) */
  stateLookbackHours: withDefault(
    Schema.Number.pipe(Schema.between(0, 24 * 7)),
    12,
    "Agent states are read at least this many hours before a window (further back to the login of the sessions it starts in)."
  ),
  import: withDefault(
    Schema.NonEmptyArray(Schema.Literal("contacts", "agentStatuses")),
    ["contacts", "agentStatuses"],
    "What to import: contacts (the call log), agent statuses (the agent state reports), or both."
  ),
  maxRetries: withDefault(
    Schema.Int.pipe(Schema.between(0, 20)),
    4,
    "How often a transient failure (network, closed connection, unreadable answer, 5xx fault) is retried within one call."
  ),
  /** how long to back off after `OperationsLimitExceededFault` ([U]: Five9's windows are not public) */
  operationsLimitBackoffSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 86_400)),
    300,
    "How long to back off after Five9 answers `OperationsLimitExceededFault`, in seconds. Configurable because Five9's quota windows are unverified."
  )
})
/** @since 0.1.0 @category config */
export type Config = typeof Config.Type
/** @since 0.1.0 @category config */
export type ConfigEncoded = typeof Config.Encoded

/** The zone of the config's report times (checked when the config was decoded). */
export const zoneOf = (config: Config) => Either.getOrThrow(Time.zone(config.timezone))

export const baseOf = (config: Config) => (config.baseUrl ?? `https://${config.host}`).replace(/\/$/, "")

/** The Configuration Web Services of a config (reports, `getCallCountersState`). */
export const adminEndpoint = (config: Config): Endpoint => ({
  url: `${baseOf(config)}/wsadmin/${config.adminApiVersion}/AdminWebService`,
  ns: adminNs,
  username: config.username,
  password: config.password,
  maxRetries: config.maxRetries,
  operationsLimitBackoffMs: config.operationsLimitBackoffSeconds * 1000
})

/** The Statistics Web Services of a config (realtime). */
export const supervisorEndpoint = (config: Config): Endpoint => ({
  ...adminEndpoint(config),
  url: `${baseOf(config)}/wssupervisor/${config.statisticsApiVersion}/SupervisorWebService`,
  ns: supervisorNs
})
