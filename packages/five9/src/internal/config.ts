/**
 * The Five9 connector's configuration: its schema, the zone of its report times and the
 * endpoints (web service, user, limits) its calls use.
 */
import { Time } from "@acd-bridge/core"
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

/** @since 0.1.0 @category config */
export const CallLogSettings = Schema.Struct({
  folder: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "Call Log Reports" }),
  report: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "Call Log" }),
  /** the column that names the queue: CAMPAIGN (stock report) or SKILL (a custom copy) */
  queueColumn: Schema.optionalWith(Column, { default: () => "CAMPAIGN" }),
  /** CALL TYPE values of a queue's calls and their legs (others: outbound, 3rd party transfer, internal) */
  callTypes: Schema.optionalWith(Schema.NonEmptyArray(Schema.NonEmptyTrimmedString), { default: () => ["Inbound"] as const }),
  channel: Schema.optionalWith(Channel, { default: () => "calls" as const })
})

/** @since 0.1.0 @category config */
export const StateColumns = Schema.Struct({
  agent: Schema.optionalWith(Column, { default: () => "AGENT" }),
  timestamp: Schema.optionalWith(Column, { default: () => "TIMESTAMP" }),
  state: Schema.optionalWith(Column, { default: () => "STATE" }),
  reason: Schema.optionalWith(Column, { default: () => "REASON CODE" }),
  duration: Schema.optionalWith(Column, { default: () => "AGENT STATE TIME" })
})

/**
 * The login sessions report ([C] "Agent Reports/Agent Login-Logout"; its column names are
 * [U]): the gaps between an agent's sessions are logged-out time, and a window's states are
 * read back to the login of the sessions it starts in.
 *
 * @since 0.2.0 @category config
 */
export const SessionSettings = Schema.Struct({
  folder: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "Agent Reports" }),
  report: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "Agent Login-Logout" }),
  columns: Schema.optionalWith(
    Schema.Struct({
      agent: Schema.optionalWith(Column, { default: () => "AGENT" }),
      login: Schema.optionalWith(Column, { default: () => "LOGIN TIMESTAMP" }),
      logout: Schema.optionalWith(Column, { default: () => "LOGOUT TIMESTAMP" })
    }),
    { default: () => ({ agent: "AGENT", login: "LOGIN TIMESTAMP", logout: "LOGOUT TIMESTAMP" }) }
  ),
  /** how far back sessions are read: an agent logged out for longer is not known (its logged-out time isn't imported) */
  searchDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 366)), { default: () => 31 })
})

/** @since 0.1.0 @category config */
export const AgentStateSettings = Schema.Struct({
  folder: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "Agent Reports" }),
  report: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "Agent State Details" }),
  /** the report's column names ([U]nverified: no public source lists them) */
  columns: Schema.optionalWith(StateColumns, { default: () => Schema.decodeSync(StateColumns)({}) }),
  skipStates: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ["Login", "Logout", "Logged Out"] }),
  /** the activity identifier of logged-out time (between login sessions), or false not to import it */
  loggedOut: Schema.optionalWith(Schema.Union(Schema.NonEmptyTrimmedString, Schema.Literal(false)), {
    default: () => "Logged Out"
  }),
  /** the login sessions report, or false where it isn't available (then states are read with `stateLookbackHours` only) */
  sessions: Schema.optionalWith(Schema.Union(Schema.Literal(false), SessionSettings), {
    default: () => Schema.decodeSync(SessionSettings)({})
  })
}).pipe(
  Schema.filter((s) =>
    s.sessions !== false || s.loggedOut === false || {
      path: ["loggedOut"],
      message:
        "loggedOut needs the login sessions report (agentStates.sessions): give it, or set loggedOut to false to import no logged-out time"
    }
  )
)

/** @since 0.1.0 @category config */
export const StatisticsSettings = Schema.Struct({
  /** `getStatisticsUpdate` long-poll timeout */
  longPollSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 120)), { default: () => 20 }),
  /** log out another supervisor session of the same user (off: fail instead) */
  forceLogoutSession: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  columns: Schema.optionalWith(
    Schema.Struct({
      username: Schema.optionalWith(Column, { default: () => "Username" }),
      state: Schema.optionalWith(Column, { default: () => "State" }),
      since: Schema.optionalWith(Column, { default: () => "State Since" }),
      reason: Schema.optionalWith(Column, { default: () => "Reason Code" })
    }),
    { default: () => ({ username: "Username", state: "State", since: "State Since", reason: "Reason Code" }) }
  )
})

/**
 * The connector's configuration. The password is `Redacted` (a plain string in JSON).
 *
 * @since 0.1.0 @category config
 */
export const Config = Schema.Struct({
  username: Schema.NonEmptyTrimmedString.pipe(
    Schema.filter((u) =>
      !u.includes(":") || `must not contain ":" (HTTP Basic auth separates the user name from the password with it)`
    )
  ),
  password: Schema.Redacted(Schema.NonEmptyString),
  /** data centre host: api.five9.com (US), api.five9.eu (UK), api.five9.ca, api.eu.five9.com (Frankfurt) */
  host: Schema.optionalWith(Host, { default: () => "api.five9.com" }),
  /** overrides `https://{host}` (e.g. a proxy or a simulator) */
  baseUrl: Schema.optional(HttpUrl),
  adminApiVersion: Schema.optionalWith(ApiVersion, { default: () => "v13" }),
  statisticsApiVersion: Schema.optionalWith(ApiVersion, { default: () => "v13" }),
  /** the zone report times are written in (the data centre's; US = America/Los_Angeles) */
  timezone: Schema.optionalWith(Zone, { default: () => "America/Los_Angeles" }),
  callLog: Schema.optionalWith(CallLogSettings, { default: () => Schema.decodeSync(CallLogSettings)({}) }),
  agentStates: Schema.optionalWith(AgentStateSettings, { default: () => Schema.decodeSync(AgentStateSettings)({}) }),
  statistics: Schema.optionalWith(StatisticsSettings, { default: () => Schema.decodeSync(StatisticsSettings)({}) }),
  serviceLevelSeconds: Schema.optional(Schema.Number.pipe(Schema.between(0, 3600))),
  /** an abandon after a wait shorter than this is a short abandon (Five9's call log has no such flag; 0: none) */
  shortAbandonSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 600)), { default: () => 5 }),
  /**
   * the longest a call lasts from its start to its last row's end: a window reads the call log
   * this far before it (to find the first row of calls whose later rows fall in it) and after it
   * (for the later rows of its calls)
   */
  maxContactSpanHours: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.25, 48)), { default: () => 4 }),
  /** `isReportRunning` long-poll timeout (Five9 advises at least 5 s) */
  reportPollSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 60)), { default: () => 5 }),
  maxReportPolls: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10_000)), { default: () => 120 }),
  /** a result of this many rows is never trusted (split); lower caps are detected anyway (`internal/capped.ts`) */
  maxRows: Schema.optionalWith(Schema.Int.pipe(Schema.between(2, 50_000)), { default: () => 50_000 }),
  /** agent states are read at least this far before a window (further back to the login of sessions it starts in) */
  stateLookbackHours: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 24 * 7)), { default: () => 12 }),
  import: Schema.optionalWith(Schema.NonEmptyArray(Schema.Literal("contacts", "agentStatuses")), {
    default: () => ["contacts", "agentStatuses"] as const
  }),
  maxRetries: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 20)), { default: () => 4 }),
  /** how long to back off after `OperationsLimitExceededFault` ([U]: Five9's windows are not public) */
  operationsLimitBackoffSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 86_400)), { default: () => 300 })
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
