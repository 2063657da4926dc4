/**
 * The Five9 connector. Cloud only: it reads Five9's Configuration Web Services (SOAP, HTTP Basic
 * auth) for history and the Statistics Web Services for realtime agent states.
 *
 * - contacts: the call log report (`runReport` → `isReportRunning` → `getReportResultCsv`), one
 *   row per call leg. Five9's call log has the call's start (the first row's TIMESTAMP) and no
 *   queue entry, so every queue visit counts at its call's start, at its own queue: CAMPAIGN
 *   (stock "Call Log Reports/Call Log") or SKILL (a custom copy with the SKILL column). A
 *   window reads around itself by the maximum contact span (rows before it, to find each call's
 *   first row; rows after it, for the later legs) and keeps the calls that started in it, so a
 *   call counts once, whole, however windows cut it (`docs/counting.md`);
 * - agent states: the "Agent Reports/Agent State Details" report, read by header names, with
 *   overlapping states trimmed (the longer one starts where the shorter one ends), read back
 *   to the login of the sessions the window starts in ("Agent Reports/Agent Login-Logout"),
 *   whose gaps are the logged-out time, so every status overlapping a window comes back whole;
 * - realtime: `setSessionParameters`, `getStatistics` and `getStatisticsUpdate` (long poll) on
 *   `AgentState`, each change of an agent's state an open agent status.
 *
 * Report times are wall-clock times of the data centre's zone without offset (default
 * America/Los_Angeles). A result Five9 may have cut at its row cap is read again in halves
 * (`internal/capped.ts`); credentials are sent as UTF-8.
 *
 * @since 0.1.0
 */
import type { Domain } from "@acd-bridge/core"
import { Bucketing, Connector } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { readCapped } from "./internal/capped.js"
import type { Endpoint, Session } from "./internal/client.js"
import { call, makeSession, SoapFault } from "./internal/client.js"
import type { StateSpan, Table } from "./internal/reports.js"
import {
  activityIdentifier,
  callLogColumns,
  callsOf,
  missingColumns,
  parseCsv,
  sessionsOf,
  statesOf
} from "./internal/reports.js"
import { adminNs, dataOf, isRecord, supervisorNs } from "./internal/soap.js"
import { parseTimestamp } from "./internal/time.js"

const Channel = Schema.Literal("calls", "chats", "emails", "social_media", "documents", "cases", "back_office")

const Zone = Schema.String.pipe(
  Schema.filter((z) => Either.isRight(Bucketing.zone(z)) || `"${z}" is not an IANA time zone`)
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

/** @since 0.1.0 @category mapping */
export { activityIdentifier }

const emptyBatch: Domain.Batch = { contacts: [], aggregates: [], statuses: [] }

const baseOf = (config: Config) => (config.baseUrl ?? `https://${config.host}`).replace(/\/$/, "")

const adminEndpoint = (config: Config): Endpoint => ({
  url: `${baseOf(config)}/wsadmin/${config.adminApiVersion}/AdminWebService`,
  ns: adminNs,
  username: config.username,
  password: config.password,
  maxRetries: config.maxRetries,
  operationsLimitBackoffMs: config.operationsLimitBackoffSeconds * 1000
})

const supervisorEndpoint = (config: Config): Endpoint => ({
  ...adminEndpoint(config),
  url: `${baseOf(config)}/wssupervisor/${config.statisticsApiVersion}/SupervisorWebService`,
  ns: supervisorNs
})

/**
 * A connector instance with its diagnostics (SOAP calls, retries, faults per user and service).
 *
 * @since 0.1.0 @category models
 */
export interface Five9Connector extends Connector.Connector<Config, ConfigEncoded, HttpClient.HttpClient> {
  readonly stats: (config: Config) => Session["stats"] | undefined
}

/**
 * Makes a connector instance: SOAP calls of one user go one at a time (Five9 denies concurrent
 * use of the same credentials). Register one instance per engine.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (): Five9Connector => {
  const sessions = new Map<string, Session>()
  const sessionOf = (ep: Endpoint) => {
    const key = `${ep.url}|${ep.username}`
    let s = sessions.get(key)
    if (!s) {
      s = makeSession()
      sessions.set(key, s)
    }
    return s
  }

  const zoneOf = (config: Config) => Either.getOrThrow(Bucketing.zone(config.timezone))

  /** Runs a report for [from, to) and returns its CSV. */
  const runReport = (config: Config, folder: string, report: string, from: number, to: number) =>
    Effect.gen(function*() {
      const ep = adminEndpoint(config)
      const session = sessionOf(ep)
      const zone = zoneOf(config)
      const id = yield* call(session, ep, "runReport", {
        folderName: folder,
        reportName: report,
        criteria: { time: { end: Bucketing.label(to, zone), start: Bucketing.label(from, zone) } }
      })
      if (typeof id !== "string" || id === "") {
        return yield* new Connector.InvalidData({ record: `runReport ${folder}/${report}`, reason: "no report identifier" })
      }
      for (let polls = 0;; polls++) {
        if (polls >= config.maxReportPolls) {
          return yield* new Connector.Transient({
            reason: `report "${folder}/${report}" still running after ${polls} polls`
          })
        }
        const running = yield* call(session, ep, "isReportRunning", {
          identifier: id,
          timeout: config.reportPollSeconds
        })
        if (String(running) === "true") continue
        const result = yield* Effect.either(call(session, ep, "getReportResultCsv", { identifier: id }))
        if (Either.isRight(result)) return typeof result.right === "string" ? result.right : ""
        const e = result.left
        if (e._tag === "SoapFault" && e.fault === "ResultIsNotReadyFault") {
          yield* Effect.sleep(Duration.seconds(1))
          continue
        }
        return yield* e
      }
    }).pipe(
      Effect.catchTag("SoapFault", (f) =>
        Effect.fail(
          f.fault === "ReportNotFoundFault"
            ? new Connector.InvalidData({
              record: `${folder}/${report}`,
              reason: `Five9 has no report "${report}" in folder "${folder}" for user "${config.username}" (folder and report names are looked up in the user's language)`
            })
            : new Connector.InvalidData({ record: `${folder}/${report}`, reason: `${f.fault}: ${f.message}` })
        ))
    )

  /** A report's rows for [from, to), whole: a result Five9 may have cut is read again in halves. */
  const reportTable = (
    config: Config,
    folder: string,
    report: string,
    from: number,
    to: number
  ): Effect.Effect<Table, Connector.ConnectorError, HttpClient.HttpClient> => {
    const session = sessionOf(adminEndpoint(config))
    const name = `${folder}/${report}`
    let memory = session.caps.get(name)
    if (memory === undefined) {
      memory = { trustedUpTo: 0 }
      session.caps.set(name, memory)
    }
    return readCapped({
      run: (a, b) => Effect.flatMap(runReport(config, folder, report, a, b), (csv) => parseCsv(csv, name)),
      report: name,
      maxRows: config.maxRows,
      memory
    }, Math.floor(from / 1000) * 1000, Math.ceil(to / 1000) * 1000)
  }

  const contacts = (config: Config, from: number, to: number) =>
    Effect.gen(function*() {
      const { folder, report } = config.callLog
      const span = config.maxContactSpanHours * 3_600_000
      // around the window: its calls' later rows come after it, and a row in it may belong to
      // a call that started before it (found by its first row, up to the span earlier)
      const table = yield* reportTable(config, folder, report, from - span, to + span)
      if (table.header.length === 0) return []
      const calls = yield* callsOf(table, {
        report: `${folder}/${report}`,
        zone: zoneOf(config),
        queueColumn: config.callLog.queueColumn,
        callTypes: config.callLog.callTypes,
        channel: config.callLog.channel,
        serviceLevelSeconds: config.serviceLevelSeconds,
        shortAbandonSeconds: config.shortAbandonSeconds
      })
      return calls.filter((c) => c.start >= from && c.start < to).flatMap((c) => c.events)
    })

  /**
   * The login sessions around a window: what it needs to start the state report early enough
   * (the earliest login of the sessions it starts in) and the logged-out spans (the gaps
   * between an agent's sessions; after the last closed session, open).
   */
  const sessionsAround = (config: Config, from: number, to: number) =>
    Effect.gen(function*() {
      const settings = config.agentStates.sessions
      if (settings === false) return { earliestLogin: Number.POSITIVE_INFINITY, loggedOut: [] }
      const now = yield* Clock.currentTimeMillis
      const name = `${settings.folder}/${settings.report}`
      const table = yield* reportTable(
        config,
        settings.folder,
        settings.report,
        from - settings.searchDays * 86_400_000,
        Math.max(to, now) + 60_000
      )
      const sessions = table.header.length === 0
        ? []
        : yield* sessionsOf(table, { report: name, zone: zoneOf(config), columns: settings.columns })
      let earliestLogin = Number.POSITIVE_INFINITY
      const loggedOut: Array<StateSpan> = []
      const activity = config.agentStates.loggedOut
      sessions.forEach((s, i) => {
        if (s.login <= from && (s.logout === null || s.logout > from)) earliestLogin = Math.min(earliestLogin, s.login)
        if (activity === false || s.logout === null) return
        const next = sessions[i + 1]
        const end = next !== undefined && next.agent === s.agent ? next.login : Number.POSITIVE_INFINITY
        loggedOut.push({ agent: s.agent, activity, start: s.logout, end })
      })
      return { earliestLogin, loggedOut }
    })

  const statuses = (config: Config, from: number, to: number) =>
    Effect.gen(function*() {
      const { folder, report } = config.agentStates
      const around = yield* sessionsAround(config, from, to)
      // a state overlapping the window started after the login of the session it is in
      const start = Math.min(from - config.stateLookbackHours * 3_600_000, around.earliestLogin)
      const table = yield* reportTable(config, folder, report, start, to)
      const spans: Array<StateSpan> = yield* statesOf(table, {
        report: `${folder}/${report}`,
        zone: zoneOf(config),
        columns: config.agentStates.columns,
        skipStates: config.agentStates.skipStates
      }, around.loggedOut)
      return spans.filter((s) => s.start < to && s.end > from).map((s): Domain.AgentStatus => ({
        agentIdentifier: s.agent,
        activityIdentifier: s.activity,
        start: DateTime.unsafeMake(s.start),
        end: Number.isFinite(s.end) ? DateTime.unsafeMake(s.end) : null
      }))
    })

  const pull = (config: Config, window: Connector.Window) => {
    const from = DateTime.toEpochMillis(window.from)
    const to = DateTime.toEpochMillis(window.to)
    const parts: Array<Stream.Stream<Domain.Batch, Connector.ConnectorError, HttpClient.HttpClient>> = []
    if (config.import.includes("contacts")) {
      parts.push(Stream.fromEffect(Effect.map(contacts(config, from, to), (c): Domain.Batch => ({ ...emptyBatch, contacts: c }))))
    }
    if (config.import.includes("agentStatuses")) {
      parts.push(Stream.fromEffect(Effect.map(statuses(config, from, to), (s): Domain.Batch => ({ ...emptyBatch, statuses: s }))))
    }
    const all = Stream.concatAll(Chunk.unsafeFromArray(parts)).pipe(
      Stream.filter((b) => b.contacts.length + b.statuses.length > 0)
    )
    // nothing is known of a window that hasn't begun (an open logged-out status would overlap it)
    return Stream.unwrap(Effect.map(Clock.currentTimeMillis, (now) => (from >= now ? Stream.empty : all)))
  }

  /**
   * Realtime agent states from the Statistics Web Services: a snapshot, then long-polled
   * updates; every agent whose state (or its start) changed becomes an open agent status.
   */
  const realtime = (config: Config, _position?: number | undefined) => {
    const ep = supervisorEndpoint(config)
    const zone = zoneOf(config)
    const cols = config.statistics.columns
    interface Row {
      state: string
      since: string
      reason: string
    }
    type Cursor = { readonly timestamp: string; readonly rows: Map<string, Row> } | undefined
    const statusOf = (username: string, row: Row): Option.Option<Domain.AgentStatus> => {
      if (row.state === "") return Option.none()
      const since = parseTimestamp(row.since, zone)
      if (Either.isLeft(since)) return Option.none()
      return Option.some({
        agentIdentifier: username,
        activityIdentifier: activityIdentifier(row.state, row.reason),
        start: DateTime.unsafeMake(since.right),
        end: null
      })
    }
    const asString = (u: unknown) => (typeof u === "string" ? u : typeof u === "number" ? String(u) : "")
    const step = (cursor: Cursor) =>
      Effect.gen(function*() {
        const session = sessionOf(ep)
        if (cursor === undefined) {
          const now = yield* Clock.currentTimeMillis
          yield* call(session, ep, "setSessionParameters", {
            viewSettings: {
              forceLogoutSession: config.statistics.forceLogoutSession,
              rollingPeriod: "Minutes30",
              shiftStart: 0,
              statisticsRange: "CurrentDay",
              timeZone: Bucketing.offsetMs(now, zone)
            }
          })
          const result = yield* call(session, ep, "getStatistics", {
            statisticType: "AgentState",
            columnNames: { values: { data: [cols.username, cols.state, cols.since, cols.reason] } }
          })
          const value = isRecord(result) ? result : {}
          const columns = dataOf(value["columns"])
          const missing = missingColumns(columns, [cols.username, cols.state, cols.since])
          if (missing.length > 0) {
            return yield* new Connector.InvalidData({
              record: "getStatistics AgentState",
              reason: `no column ${missing.map((m) => `"${m}"`).join(", ")}`
            })
          }
          const at = (name: string) => columns.findIndex((c) => c.toUpperCase() === name.toUpperCase())
          const rows = new Map<string, Row>()
          for (const r of Array.isArray(value["rows"]) ? value["rows"] : []) {
            const data = dataOf(r)
            rows.set(data[at(cols.username)] ?? "", {
              state: data[at(cols.state)] ?? "",
              since: data[at(cols.since)] ?? "",
              reason: at(cols.reason) >= 0 ? data[at(cols.reason)] ?? "" : ""
            })
          }
          const timestamp = asString(value["timestamp"])
          const batch: Connector.RealtimeBatch = {
            ...emptyBatch,
            statuses: Array.from(rows, ([u, row]) => statusOf(u, row)).flatMap(Option.toArray),
            position: Number(timestamp) || undefined
          }
          return [Chunk.of(batch), Option.some<Cursor>({ timestamp, rows })] as const
        }
        const result = yield* call(session, ep, "getStatisticsUpdate", {
          statisticType: "AgentState",
          previousTimestamp: cursor.timestamp,
          longPollingTimeout: config.statistics.longPollSeconds * 1000
        })
        const value = isRecord(result) ? result : {}
        const updates = Array.isArray(value["dataUpdate"]) ? value["dataUpdate"] : []
        const changed = new Set<string>()
        for (const u of updates) {
          if (!isRecord(u)) continue
          const name = asString(u["objectName"])
          const column = asString(u["columnName"]).toUpperCase()
          const row = cursor.rows.get(name) ?? { state: "", since: "", reason: "" }
          const v = asString(u["columnValue"])
          if (column === cols.state.toUpperCase()) row.state = v
          else if (column === cols.since.toUpperCase()) row.since = v
          else if (column === cols.reason.toUpperCase()) row.reason = v
          else continue
          cursor.rows.set(name, row)
          changed.add(name)
        }
        const timestamp = asString(value["lastTimestamp"]) || cursor.timestamp
        const statuses = Array.from(changed, (u) => statusOf(u, cursor.rows.get(u)!)).flatMap(Option.toArray)
        const batch: Connector.RealtimeBatch = { ...emptyBatch, statuses, position: Number(timestamp) || undefined }
        // an answer without changes still moves the position (a heartbeat)
        return [Chunk.of(batch), Option.some<Cursor>({ timestamp, rows: cursor.rows })] as const
      }).pipe(
        Effect.catchTag("SoapFault", (f) =>
          Effect.fail(new Connector.InvalidData({ record: "Statistics Web Services", reason: `${f.fault}: ${f.message}` })))
      )
    return Stream.paginateChunkEffect<Cursor, Connector.RealtimeBatch, Connector.ConnectorError, HttpClient.HttpClient>(
      undefined,
      step
    )
  }

  const check = (config: Config): Effect.Effect<Connector.CheckReport, never, HttpClient.HttpClient> =>
    Effect.gen(function*() {
      const ep = adminEndpoint(config)
      const session = sessionOf(ep)
      const items: Array<Connector.CheckItem> = []
      const signedIn = yield* Effect.either(call(session, ep, "getCallCountersState", {}))
      if (Either.isLeft(signedIn)) {
        const e = signedIn.left
        items.push({
          name: "credentials",
          ok: false,
          detail: e._tag === "AuthFailed"
            ? `${e.reason}.`
            : e._tag === "InvalidData" && /HTTP 404/.test(e.reason)
            ? `There is no Five9 web service at ${ep.url}: check the data centre host (${config.host}) and the API version (${config.adminApiVersion}).`
            : `Could not reach Five9 at ${ep.url}: ${e.message}`
        })
        return { ok: false, items }
      }
      items.push({
        name: "credentials",
        ok: true,
        detail: `Signed in to the Configuration Web Services at ${ep.url} as "${config.username}"`
      })
      const now = yield* Clock.currentTimeMillis
      const probe = (name: string, folder: string, report: string, required: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const table = yield* Effect.either(
            Effect.flatMap(runReport(config, folder, report, now - 3_600_000, now), (csv) => parseCsv(csv, `${folder}/${report}`))
          )
          if (Either.isLeft(table)) {
            const e = table.left
            return { name, ok: false, detail: e._tag === "InvalidData" ? `${e.reason}.` : e.message }
          }
          if (table.right.header.length === 0) {
            return {
              name,
              ok: true,
              detail: `"${folder}/${report}" runs; it had no rows in the last hour, so its columns could not be checked`
            }
          }
          const missing = missingColumns(table.right.header, required)
          return missing.length === 0
            ? { name, ok: true, detail: `"${folder}/${report}" runs and has every column the connector reads` }
            : {
              name,
              ok: false,
              detail: `"${folder}/${report}" lacks the column${missing.length > 1 ? "s" : ""} ${
                missing.map((m) => `"${m}"`).join(", ")
              }: add ${missing.length > 1 ? "them" : "it"} to the report in Five9, or name the columns it has in the connector settings`
            }
        })
      if (config.import.includes("contacts")) {
        items.push(
          yield* probe("call log report", config.callLog.folder, config.callLog.report, callLogColumns(config.callLog.queueColumn))
        )
      }
      if (config.import.includes("agentStatuses")) {
        const c = config.agentStates.columns
        items.push(
          yield* probe("agent state report", config.agentStates.folder, config.agentStates.report, [c.agent, c.timestamp, c.state, c.duration])
        )
        const sessions = config.agentStates.sessions
        if (sessions !== false) {
          const sc = sessions.columns
          items.push(yield* probe("login sessions report", sessions.folder, sessions.report, [sc.agent, sc.login, sc.logout]))
        }
      }
      return { ok: items.every((i) => i.ok), items }
    })

  return {
    ...Connector.make({
      key: "five9",
      displayName: "Five9",
      deliveryModes: ["cloud"],
      dataKinds: ["contacts", "agentStatuses"],
      configSchema: Config,
      pull,
      realtime,
      check,
      settleDelay: "15 minutes"
    }),
    stats: (config) => sessions.get(`${adminEndpoint(config).url}|${config.username}`)?.stats
  }
}

/**
 * The default connector instance.
 *
 * @since 0.1.0 @category connectors
 */
export const connector: Five9Connector = make()

export { SoapFault }
