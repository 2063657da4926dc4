/**
 * A local simulator of Five9's SOAP web services. It renders a testkit `Scenario` as Five9 shows
 * it at the simulator's present (`Scenario.asKnownAt(scenario, now)`, recomputed as `setNow`
 * moves it), on a loopback port:
 *
 * - Configuration Web Services (`/wsadmin/{version}/AdminWebService`, HTTP Basic auth, the
 *   credentials read as UTF-8): `runReport`, `isReportRunning` (true for the first polls),
 *   `getReportResultCsv`, `getCallCountersState`; reports "Call Log Reports/Call Log" (the 25
 *   stock columns), a custom "Shared Reports/Call Log with Skills" (+ SKILL), "Agent
 *   Reports/Agent State Details" and "Agent Reports/Agent Login-Logout".
 * - Statistics Web Services (`/wssupervisor/{version}/SupervisorWebService`):
 *   `setSessionParameters`, `getStatistics` and `getStatisticsUpdate` (long poll, changes only)
 *   for `AgentState`.
 *
 * How a call shows in the call log (see the package README for what is observed [C] and what
 * is assumed [U]): one row per leg, several rows per CALL ID, each with its own TIMESTAMP in the
 * data centre's wall clock without offset (`Fri, 21 Aug 2026 09:00:12`):
 *
 * - the call's first row has the call's start (IVR included) as TIMESTAMP; `IVR TIME` is the
 *   call's time in the IVR before its first queue, repeated on every row of the call (as
 *   observed); `QUEUE WAIT TIME` (with milliseconds) is the wait of the row's queue visit;
 * - each agent leg is a row (`AGENT`, talk, hold, after-call work as the source knows them:
 *   after-call work as first written until its correction is written); an agent-to-agent
 *   transfer is another row of the same skill, a transfer or an overflow to another skill a row
 *   with that SKILL whose TIMESTAMP is when the call entered it (`legTimestamps: "leg"`, the
 *   default; `"call"` stamps every row with the call's start);
 * - an abandoned visit is a row with `AGENT` `[None]` and `ABANDONED` 1; a breakout a `[None]`
 *   row with `ABANDONED` 0, followed by the overflow skill's row or, when it leaves the centre,
 *   a `3rd party transfer` row (as observed for transfers to outside numbers);
 * - a consult is an `Internal` row of the consulted agent; the primary row counts it in
 *   `CONFERENCES`; `TRANSFERS` counts the row's transfers, `HOLDS` its holds;
 * - CAMPAIGN is the call's (a skill transfer stays in its campaign), SKILL the visit's;
 * - outbound calls are mixed in; calls appear once written (`phase: "written"`), rows change
 *   when a late correction is written.
 *
 * Agent states: Agent State Details has a row per state (start, state, reason code, duration)
 * with Five9's overlaps (a 5-second Ready together with the On Call it precedes) and Login /
 * Logout rows; a running state is left out until it ends (`runningStates`). Agent Login-Logout
 * has a row per login session; with the scenario's LoggedOut states the sessions are the time
 * between them (and a session before the scenario, so its first LoggedOut has a known start).
 *
 * The row cap (`maxRows`) cuts a result after that many rows, silently, as Five9 does.
 *
 * Faults: `OperationsLimitExceededFault`, `SessionClosedFault` (also when the same user makes
 * two calls at once), `ResultIsNotReadyFault`, `ReportNotFoundFault`, connections closed in the
 * middle of an answer, malformed rows, rejected credentials.
 *
 * @since 0.1.0
 */
import { Time } from "@acd-bridge/core"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { ConfigEncoded } from "./Five9.js"
import { trimOverlaps } from "./internal/overlaps.js"
import type { XmlValue } from "./internal/soap.js"
import { adminNs, faultEnvelope, isRecord, parseRequest, responseEnvelope, supervisorNs } from "./internal/soap.js"
import { formatDuration, formatStatisticsTime, formatTimestamp } from "./internal/time.js"

type Activity = Scenario.Activity

/** How a scenario activity shows in Five9 (state and reason code). @since 0.1.0 @category mapping */
export const stateOf = (activity: Activity): { readonly state: string; readonly reason: string } => {
  switch (activity) {
    case "Ready":
      return { state: "Ready", reason: "" }
    case "Talk":
      return { state: "On Call", reason: "" }
    case "Hold":
      return { state: "On Hold", reason: "" }
    case "AfterCallWork":
      return { state: "After Call Work", reason: "" }
    case "Break":
      return { state: "Not Ready", reason: "Break" }
    case "Lunch":
      return { state: "Not Ready", reason: "Lunch" }
  }
}

/** The stock Call Log's 25 columns. @since 0.1.0 @category reports */
export const callLogHeader = [
  "CALL ID",
  "TIMESTAMP",
  "CAMPAIGN",
  "CALL TYPE",
  "AGENT",
  "AGENT NAME",
  "DISPOSITION",
  "ANI",
  "CUSTOMER NAME",
  "DNIS",
  "CALL TIME",
  "BILL TIME (ROUNDED)",
  "COST",
  "IVR TIME",
  "QUEUE WAIT TIME",
  "RING TIME",
  "TALK TIME",
  "HOLD TIME",
  "PARK TIME",
  "AFTER CALL WORK TIME",
  "TRANSFERS",
  "CONFERENCES",
  "HOLDS",
  "ABANDONED",
  "RECORDINGS"
] as const

/** The simulator's Agent State Details columns ([U]: no public source lists them). @since 0.1.0 @category reports */
export const agentStateHeader = ["AGENT", "AGENT NAME", "DATE", "TIMESTAMP", "STATE", "REASON CODE", "AGENT STATE TIME"]

/**
 * The Agent Login-Logout columns ([C]: named after a community client's fields; the exact
 * spelling is [U]).
 *
 * @since 0.2.0 @category reports
 */
export const loginLogoutHeader = [
  "AGENT",
  "DATE",
  "AGENT FIRST NAME",
  "AGENT LAST NAME",
  "LOGIN TIMESTAMP",
  "LOGOUT TIMESTAMP",
  "LOGIN TIME"
]

/** @since 0.1.0 @category models */
export interface Options {
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** the data centre's zone (default America/Los_Angeles) */
  readonly timezone?: string | undefined
  /** the simulator's present; default: a day after the scenario */
  readonly now?: number | undefined
  /** the row cap of a report result (default 50,000): longer results are cut, silently */
  readonly maxRows?: number | undefined
  /** how many `isReportRunning` polls answer true (default 1) */
  readonly runningPolls?: number | undefined
  /** the CAMPAIGN and SKILL a scenario queue shows as (default: its name, its identifier) */
  readonly campaignOf?: ((queue: { identifier: string; name: string }) => string) | undefined
  readonly skillOf?: ((queue: { identifier: string; name: string }) => string) | undefined
  /** the custom call log with a SKILL column */
  readonly skillReport?: { readonly folder: string; readonly report: string } | undefined
  /** Agent State Details columns (to simulate a report someone edited) */
  readonly agentStateColumns?: ReadonlyArray<string> | undefined
  /**
   * [U] the TIMESTAMP of a call's later rows: `"leg"` (default) when that leg began (a
   * transfer's row when the call entered the other skill), as observed for 3rd-party transfer
   * rows; `"call"` the call's start on every row
   */
  readonly legTimestamps?: "leg" | "call" | undefined
  /**
   * [U] which rows `criteria.time` selects: `"row"` (default) rows whose own TIMESTAMP lies in
   * [start, end); `"call"` every row of the calls that started in [start, end)
   */
  readonly criteria?: "row" | "call" | undefined
  /** [U] a running agent state: left out until it ends (`"omit"`, default) or shown with its duration so far */
  readonly runningStates?: "omit" | "soFar" | undefined
}

/** @since 0.1.0 @category models */
export interface RequestLog {
  readonly service: "admin" | "supervisor"
  readonly operation: string
  readonly params: Readonly<Record<string, unknown>>
  readonly fault: string | null
  /** how many data rows a `getReportResultCsv` answer carried */
  readonly rows?: number | undefined
  readonly at: number
}

/** @since 0.1.0 @category models */
export interface Faults {
  /** the next `count` calls fail with OperationsLimitExceededFault */
  operationsLimit(count: number): void
  /** the next `count` calls fail with SessionClosedFault */
  sessionClosed(count: number): void
  /** the next `count` getReportResultCsv fail with ResultIsNotReadyFault although the report is done */
  notReady(count: number): void
  /** the next `count` answers are cut off half-way and the connection closed */
  dropConnections(count: number): void
  /** CALL IDs whose TALK TIME is unreadable */
  readonly malformedCalls: Set<string>
}

/** @since 0.1.0 @category models */
export interface Five9Simulator {
  readonly url: string
  readonly config: (overrides?: Partial<ConfigEncoded>) => ConfigEncoded
  /** moves the simulator's present: reports show what Five9 knows at `ms` */
  readonly setNow: (ms: number) => void
  readonly now: () => number
  readonly faults: Faults
  readonly requests: ReadonlyArray<RequestLog>
  readonly clearLog: () => void
}

const DAY = 24 * 3_600_000
const HOUR = 3_600_000

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, "\"\"")}"` : v)
const csvLine = (cells: ReadonlyArray<string>) => cells.map(csvCell).join(",")

const str = (u: unknown): string => (typeof u === "string" ? u : typeof u === "number" ? String(u) : "")

/** A small stable hash, for the phone numbers and outbound calls a contact gets. */
const hash = (s: string): number => {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0
  return h
}

const agentName = (agent: string) => agent.replace("agent-", "Agent ")

/** A login session of an agent: [login, logout), `logout` infinite while logged in for good. */
interface Session {
  readonly agentId: string
  readonly login: number
  readonly logout: number
}

/**
 * The agents' login sessions: with LoggedOut states, the time between them (and a session
 * of an hour before the first, so that first LoggedOut starts at a known logout); else the
 * scenario's shifts.
 */
const sessionsOf = (scenario: Scenario.Scenario): Array<Session> => {
  if (scenario.loggedOut.length === 0) {
    return scenario.agents.flatMap((a) => a.shifts.map((s) => ({ agentId: a.id, login: s.login, logout: s.logout })))
  }
  const out: Array<Session> = []
  const byAgent = new Map<string, Array<Scenario.TimelineState>>()
  for (const s of scenario.loggedOut) {
    const l = byAgent.get(s.agentId)
    if (l) l.push(s)
    else byAgent.set(s.agentId, [s])
  }
  for (const [agentId, list] of byAgent) {
    const sorted = [...list].sort((a, b) => a.start - b.start)
    out.push({ agentId, login: sorted[0]!.start - HOUR, logout: sorted[0]!.start })
    for (let i = 0; i + 1 < sorted.length; i++) {
      out.push({ agentId, login: sorted[i]!.end, logout: sorted[i + 1]!.start })
    }
    const last = sorted[sorted.length - 1]!
    if (Number.isFinite(last.end)) out.push({ agentId, login: last.end, logout: Number.POSITIVE_INFINITY })
  }
  return out.sort((a, b) => a.login - b.login || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
}

interface Row {
  readonly at: number
  readonly callId: string
  readonly callStart: number
  readonly seq: number
  readonly cells: Record<string, string>
}

/**
 * Starts the simulator on 127.0.0.1 (a free port) for the lifetime of the scope.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  scenario: Scenario.Scenario,
  options: Options = {}
): Effect.Effect<Five9Simulator, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; sim: Five9Simulator }>((resume) => {
      const username = options.username ?? "api.user@example.com"
      const password = options.password ?? "s3cret"
      const zone = Either.getOrThrow(Time.zone(options.timezone ?? "America/Los_Angeles"))
      const maxRows = options.maxRows ?? 50_000
      const runningPolls = options.runningPolls ?? 1
      const campaignOf = options.campaignOf ?? ((q) => q.name)
      const skillOf = options.skillOf ?? ((q) => q.identifier)
      const skillReport = options.skillReport ?? { folder: "Shared Reports", report: "Call Log with Skills" }
      const stateHeader = options.agentStateColumns ?? agentStateHeader
      const legTimestamps = options.legTimestamps ?? "leg"
      const criteria = options.criteria ?? "row"
      const runningStates = options.runningStates ?? "omit"
      let now = options.now ?? scenario.to + DAY
      let limitNext = 0, closedNext = 0, notReadyNext = 0, dropNext = 0
      const malformedCalls = new Set<string>()
      const log: Array<RequestLog> = []
      const reports = new Map<string, { csv: string; rows: number; polls: number }>()
      let nextReport = 1
      const inFlight = new Map<string, number>()
      const sessions = sessionsOf(scenario)

      // what Five9 knows at `now`, recomputed when the present moves
      let known: Scenario.KnownScenario | undefined
      const knownNow = () => {
        if (known === undefined || known.now !== now) known = Scenario.asKnownAt(scenario, now)
        return known
      }

      const csvOf = (header: ReadonlyArray<string>, rows: ReadonlyArray<Record<string, string>>) => {
        const cut = rows.slice(0, maxRows)
        return {
          csv: [csvLine(header), ...cut.map((r) => csvLine(header.map((h) => r[h] ?? "")))].join("\n") + "\n",
          rows: cut.length
        }
      }

      // ---- the call log: one row per leg
      const callRows = (c: Scenario.KnownContact, n: number): Array<Row> => {
        const rows: Array<Row> = []
        const first = c.visits[0]!
        const campaign = campaignOf({ identifier: first.queueIdentifier, name: first.queueName })
        const ani = `555${String(hash(c.id) % 10_000_000).padStart(7, "0")}`
        const dnis = `800555${String(hash(campaign) % 10_000).padStart(4, "0")}`
        const ivr = formatDuration(c.ivrMs)
        const stamp = (at: number) => (legTimestamps === "call" || rows.length === 0 ? c.start : at)
        const push = (at: number, cells: Record<string, string>) => {
          const t = stamp(at)
          rows.push({
            at: t,
            callId: c.id,
            callStart: c.start,
            seq: rows.length,
            cells: {
              "CALL ID": c.id,
              "TIMESTAMP": formatTimestamp(t, zone),
              "CAMPAIGN": campaign,
              "ANI": ani,
              "DNIS": dnis,
              "IVR TIME": ivr,
              "RING TIME": "00:00:00",
              "PARK TIME": "00:00:00",
              "COST": "0.0100",
              ...cells
            }
          })
        }
        c.visits.forEach((visit, v) => {
          const skill = skillOf({ identifier: visit.queueIdentifier, name: visit.queueName })
          const next = c.visits[v + 1]
          const ivrHere = v === 0 ? c.ivrMs : 0
          if (visit.legs.length === 0) {
            // not answered: the caller hung up, or the call left the queue (breakout)
            const abandoned = visit.outcome === "abandoned"
            const leaves = !abandoned && next === undefined
            push(visit.enteredAt, {
              "SKILL": skill,
              "CALL TYPE": "Inbound",
              "AGENT": "[None]",
              "DISPOSITION": abandoned ? "Abandon" : leaves ? "Transferred To 3rd Party" : "Queue Timeout",
              "CALL TIME": formatDuration(ivrHere + visit.waitMs),
              "BILL TIME (ROUNDED)": formatDuration(Math.ceil((ivrHere + visit.waitMs) / 60_000) * 60_000),
              "QUEUE WAIT TIME": formatDuration(visit.waitMs, true),
              "TRANSFERS": leaves ? "1" : "0",
              "CONFERENCES": "0",
              "HOLDS": "0",
              "ABANDONED": abandoned ? "1" : "0"
            })
            if (leaves) {
              const outside = 60_000 + (hash(c.id) % 240) * 1000
              push(visit.end, {
                "CALL TYPE": "3rd party transfer",
                "AGENT": "[None]",
                "DNIS": "8005550100",
                "CALL TIME": formatDuration(outside),
                "BILL TIME (ROUNDED)": formatDuration(Math.ceil(outside / 60_000) * 60_000),
                "QUEUE WAIT TIME": formatDuration(0, true)
              })
            }
            return
          }
          const agentLegs = visit.legs.filter((l) => l.kind === "agent")
          visit.legs.forEach((leg) => {
            if (leg.kind === "consult") {
              push(leg.start, {
                "SKILL": skill,
                "CALL TYPE": "Internal",
                "AGENT": leg.agentId,
                "AGENT NAME": agentName(leg.agentId),
                "CALL TIME": formatDuration(leg.talkMs),
                "BILL TIME (ROUNDED)": formatDuration(Math.ceil(leg.talkMs / 60_000) * 60_000),
                "QUEUE WAIT TIME": formatDuration(0, true),
                "TALK TIME": formatDuration(leg.talkMs),
                "HOLD TIME": "00:00:00",
                "AFTER CALL WORK TIME": formatDuration(leg.afterCallWorkMs)
              })
              return
            }
            const i = agentLegs.indexOf(leg)
            const firstOfVisit = i === 0
            const lastOfVisit = i === agentLegs.length - 1
            // the consults this agent made while holding the caller
            const consults = visit.legs.filter((l) =>
              l.kind === "consult" && l.start >= leg.start && (lastOfVisit || l.start < agentLegs[i + 1]!.start)
            ).length
            const wait = firstOfVisit ? visit.waitMs : 0
            const onLine = (firstOfVisit ? ivrHere + wait : 0) + leg.talkMs + leg.holdMs
            const talk = malformedCalls.has(c.id) && v === 0 && firstOfVisit ? "4 min" : formatDuration(leg.talkMs)
            push(firstOfVisit ? visit.enteredAt : leg.start, {
              "SKILL": skill,
              "CALL TYPE": "Inbound",
              "AGENT": leg.agentId,
              "AGENT NAME": agentName(leg.agentId),
              "DISPOSITION": !leg.transferred
                ? "Resolved"
                : lastOfVisit
                ? "Transferred To Skill"
                : "Transferred To Agent",
              "CALL TIME": formatDuration(onLine),
              "BILL TIME (ROUNDED)": formatDuration(Math.ceil(onLine / 60_000) * 60_000),
              "QUEUE WAIT TIME": formatDuration(wait, true),
              "TALK TIME": talk,
              "HOLD TIME": formatDuration(leg.holdMs),
              "AFTER CALL WORK TIME": formatDuration(leg.afterCallWorkMs),
              "TRANSFERS": leg.transferred ? "1" : "0",
              "CONFERENCES": String(consults),
              "HOLDS": leg.holdMs > 0 ? "1" : "0",
              "ABANDONED": "0",
              "RECORDINGS": `${formatTimestamp(leg.start, zone).slice(-8)}(${Math.floor(leg.talkMs / 60_000)}:${
                String(Math.floor(leg.talkMs / 1000) % 60).padStart(2, "0")
              })`
            })
          })
        })
        if (n % 40 === 7 && first.legs.length > 0) {
          // an outbound call of the same agent: not a contact of any queue
          const agent = first.legs[0]!.agentId
          rows.push({
            at: c.start,
            callId: `${c.id}-out`,
            callStart: c.start,
            seq: 0,
            cells: {
              "CALL ID": `${c.id}-out`,
              "TIMESTAMP": formatTimestamp(c.start, zone),
              "CAMPAIGN": "Outbound Callbacks",
              "CALL TYPE": n % 80 === 7 ? "Outbound" : "Preview",
              "AGENT": agent,
              "AGENT NAME": agentName(agent),
              "DISPOSITION": "No Answer",
              "TALK TIME": "00:01:00",
              "HOLD TIME": "00:00:00",
              "AFTER CALL WORK TIME": "00:00:10",
              "QUEUE WAIT TIME": "00:00:00.000",
              "ABANDONED": ""
            }
          })
        }
        return rows
      }

      const callLog = (from: number, to: number, withSkill: boolean) => {
        const header = withSkill ? [...callLogHeader, "SKILL"] : [...callLogHeader]
        const rows: Array<Row> = []
        knownNow().contacts.forEach((c, n) => {
          // the call log lists a call once Five9 has written it
          if (c.phase !== "written" || c.visits.length === 0) return
          if (criteria === "call" && (c.start < from || c.start >= to)) return
          for (const r of callRows(c, n)) {
            if (criteria === "row" && (r.at < from || r.at >= to)) continue
            rows.push(r)
          }
        })
        rows.sort((a, b) => a.at - b.at || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0) || a.seq - b.seq)
        return csvOf(header, rows.map((r) => r.cells))
      }

      // ---- agent states and login sessions
      const agentStates = (from: number, to: number) => {
        const rows: Array<{ at: number; agent: string; seq: number; cells: Record<string, string> }> = []
        const row = (agent: string, at: number, state: string, reason: string, ms: number) =>
          rows.push({
            at,
            agent,
            seq: rows.length,
            cells: {
              "AGENT": agent,
              "AGENT NAME": agentName(agent),
              "DATE": formatTimestamp(at, zone).slice(5, 16),
              "TIMESTAMP": formatTimestamp(at, zone),
              "STATE": state,
              "REASON CODE": reason,
              "AGENT STATE TIME": formatDuration(ms)
            }
          })
        for (const s of knownNow().states) {
          if (s.activity === "LoggedOut" || s.start < from || s.start >= to) continue
          if (s.end === null && runningStates === "omit") continue
          const v = stateOf(s.activity)
          row(s.agentId, s.start, v.state, v.reason, (s.end ?? now) - s.start)
        }
        for (const s of sessions) {
          if (s.login >= from && s.login < to && s.login < now) row(s.agentId, s.login, "Login", "", 0)
          if (s.logout >= from && s.logout < to && s.logout <= now) row(s.agentId, s.logout, "Logout", "", 0)
        }
        rows.sort((a, b) => a.at - b.at || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0) || a.seq - b.seq)
        return csvOf(stateHeader, rows.map((r) => r.cells))
      }

      const loginLogout = (from: number, to: number) => {
        const rows: Array<Record<string, string>> = []
        for (const s of sessions) {
          if (s.login < from || s.login >= to || s.login >= now) continue
          const open = s.logout > now
          const [first, last] = agentName(s.agentId).split(" ")
          rows.push({
            "AGENT": s.agentId,
            "DATE": formatTimestamp(s.login, zone).slice(5, 16),
            "AGENT FIRST NAME": first ?? "",
            "AGENT LAST NAME": last ?? "",
            "LOGIN TIMESTAMP": formatTimestamp(s.login, zone),
            "LOGOUT TIMESTAMP": open ? "" : formatTimestamp(s.logout, zone),
            "LOGIN TIME": formatDuration((open ? now : s.logout) - s.login)
          })
        }
        return csvOf(loginLogoutHeader, rows)
      }

      // ---- statistics: each agent's state at an instant
      const byAgent = new Map<string, Array<Scenario.TimelineState>>()
      for (const s of Scenario.timeline(scenario)) {
        const l = byAgent.get(s.agentId)
        if (l) l.push(s)
        else byAgent.set(s.agentId, [s])
      }
      for (const [agent, list] of byAgent) byAgent.set(agent, trimOverlaps(list))
      const stateAt = (agent: string, t: number) => {
        const list = byAgent.get(agent) ?? []
        let current: Scenario.TimelineState | undefined
        let lastEnd = scenario.from
        for (const s of list) {
          if (s.start > t) break
          if (s.end > t) current = s
          else lastEnd = s.end
        }
        if (current && current.activity !== "LoggedOut") {
          const v = stateOf(current.activity)
          return { state: v.state, reason: v.reason, since: current.start }
        }
        return { state: "Logged Out", reason: "", since: current?.start ?? lastEnd }
      }
      const agentIds = scenario.agents.map((a) => a.id)
      const statisticsColumns = ["Username", "Full Name", "State", "State Since", "State Duration", "Reason Code"]
      const snapshotRow = (agent: string, t: number): Array<string> => {
        const s = stateAt(agent, t)
        return [agent, agentName(agent), s.state, formatStatisticsTime(s.since, zone), String(t - s.since), s.reason]
      }

      type Answer = { fault?: [string, string]; value?: XmlValue; delayMs?: number; rows?: number }

      const admin = (operation: string, params: Record<string, unknown>): Answer => {
        switch (operation) {
          case "getCallCountersState":
            return {
              value: {
                limitTimeoutState: { timeout: 86400, callCounterStates: { operationType: "ReportRequest", limit: 1000, value: 1 } }
              }
            }
          case "runReport": {
            const folder = str(params["folderName"])
            const report = str(params["reportName"])
            const criteria = isRecord(params["criteria"]) ? params["criteria"] : {}
            const time = isRecord(criteria["time"]) ? criteria["time"] : {}
            const from = Date.parse(str(time["start"]))
            const to = Date.parse(str(time["end"]))
            if (!Number.isFinite(from) || !Number.isFinite(to)) {
              return { fault: ["WrongPropertyValueFault", "criteria.time start and end are required"] }
            }
            let result: { csv: string; rows: number }
            if (folder === "Call Log Reports" && report === "Call Log") result = callLog(from, to, false)
            else if (folder === skillReport.folder && report === skillReport.report) result = callLog(from, to, true)
            else if (folder === "Agent Reports" && report === "Agent State Details") result = agentStates(from, to)
            else if (folder === "Agent Reports" && report === "Agent Login-Logout") result = loginLogout(from, to)
            else return { fault: ["ReportNotFoundFault", `Report "${report}" not found in folder "${folder}"`] }
            const id = `r-${nextReport++}`
            reports.set(id, { ...result, polls: runningPolls })
            return { value: id }
          }
          case "isReportRunning": {
            const r = reports.get(str(params["identifier"]))
            if (!r) return { fault: ["ReportNotFoundFault", "unknown report identifier"] }
            if (r.polls > 0) {
              r.polls--
              return { value: "true" }
            }
            return { value: "false" }
          }
          case "getReportResultCsv": {
            const r = reports.get(str(params["identifier"]))
            if (!r) return { fault: ["ReportNotFoundFault", "unknown report identifier"] }
            if (r.polls > 0 || notReadyNext > 0) {
              if (notReadyNext > 0) notReadyNext--
              return { fault: ["ResultIsNotReadyFault", "Result is not ready"] }
            }
            return { value: r.csv, rows: r.rows }
          }
          default:
            return { fault: ["UnsupportedOperationFault", `${operation} is not simulated`] }
        }
      }

      const supervisor = (operation: string, params: Record<string, unknown>): Answer => {
        switch (operation) {
          case "setSessionParameters":
            return {}
          case "getStatistics": {
            if (str(params["statisticType"]) !== "AgentState") {
              return { fault: ["WrongPropertyValueFault", "only AgentState is simulated"] }
            }
            return {
              value: {
                columns: { values: { data: statisticsColumns } },
                rows: agentIds.map((a) => ({ values: { data: snapshotRow(a, now) } })),
                timestamp: String(now)
              }
            }
          }
          case "getStatisticsUpdate": {
            const previous = Number(str(params["previousTimestamp"]))
            const updates: Array<XmlValue> = []
            for (const a of agentIds) {
              const before = stateAt(a, previous)
              const after = stateAt(a, now)
              if (before.state === after.state && before.since === after.since && before.reason === after.reason) continue
              updates.push({ objectName: a, columnName: "State", columnValue: after.state })
              updates.push({ objectName: a, columnName: "State Since", columnValue: formatStatisticsTime(after.since, zone) })
              updates.push({ objectName: a, columnName: "Reason Code", columnValue: after.reason })
            }
            const timeout = Math.min(200, Number(str(params["longPollingTimeout"])) || 0)
            return {
              value: {
                type: "AgentState",
                ...(updates.length > 0 ? { dataUpdate: updates } : {}),
                previousTimestamp: String(previous),
                lastTimestamp: String(now)
              },
              delayMs: updates.length > 0 ? 0 : timeout
            }
          }
          default:
            return { fault: ["UnsupportedOperationFault", `${operation} is not simulated`] }
        }
      }

      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname
          const service = /^\/wsadmin\/v\d+(?:_\d+)?\/AdminWebService$/.test(path)
            ? "admin" as const
            : /^\/wssupervisor\/v\d+(?:_\d+)?\/SupervisorWebService$/.test(path)
            ? "supervisor" as const
            : undefined
          if (service === undefined || req.method !== "POST") {
            res.writeHead(404, { "content-type": "text/html" })
            return res.end("<html><body>Not Found</body></html>")
          }
          // RFC 7617: the user-pass is UTF-8 (Five9 accepts any character in a password)
          const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1]
          const decoded = basic ? Buffer.from(basic, "base64").toString("utf8") : ""
          const colon = decoded.indexOf(":")
          const u = colon < 0 ? undefined : decoded.slice(0, colon)
          const p = colon < 0 ? undefined : decoded.slice(colon + 1)
          if (u !== username || p !== password) {
            res.writeHead(401, { "www-authenticate": "Basic realm=\"Five9\"" })
            return res.end()
          }
          const ns = service === "admin" ? adminNs : supervisorNs
          const request = parseRequest(Buffer.concat(chunks).toString("utf8"))
          if (!request) {
            res.writeHead(500, { "content-type": "text/xml" })
            return res.end(faultEnvelope(ns, "Fault", "unreadable request"))
          }
          const key = `${service}|${u}`
          inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
          const done = () => inFlight.set(key, (inFlight.get(key) ?? 1) - 1)
          const answer = (status: number, xml: string, fault: string | null, rows?: number) => {
            log.push({ service, operation: request.operation, params: request.params, fault, rows, at: Date.now() })
            if (dropNext > 0) {
              dropNext--
              res.writeHead(status, { "content-type": "text/xml;charset=UTF-8", "content-length": String(Buffer.byteLength(xml)) })
              res.write(xml.slice(0, Math.floor(xml.length / 2)))
              setTimeout(() => {
                res.socket?.destroy()
                done()
              }, 5)
              return
            }
            res.writeHead(status, { "content-type": "text/xml;charset=UTF-8" })
            res.end(xml)
            done()
          }
          const fault = (name: string, message: string) => answer(500, faultEnvelope(ns, name, message), name)
          if ((inFlight.get(key) ?? 0) > 1) {
            return fault("SessionClosedFault", "Session was closed: another request with the same user is in progress")
          }
          if (limitNext > 0) {
            limitNext--
            return fault("OperationsLimitExceededFault", "Operations limit exceeded for ReportRequest: 1000 per 24 hours")
          }
          if (closedNext > 0) {
            closedNext--
            return fault("SessionClosedFault", "Session was closed by another login of the same user")
          }
          const out: Answer = service === "admin"
            ? admin(request.operation, request.params)
            : supervisor(request.operation, request.params)
          const reply = () =>
            out.fault
              ? fault(out.fault[0], out.fault[1])
              : answer(200, responseEnvelope(ns, request.operation, out.value), null, out.rows)
          const delay = out.delayMs ?? 0
          if (delay > 0) setTimeout(reply, delay)
          else reply()
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        resume(Effect.succeed({
          server,
          sim: {
            url,
            config: (overrides = {}) => ({ username, password, baseUrl: url, reportPollSeconds: 1, ...overrides }),
            setNow: (ms) => {
              now = ms
            },
            now: () => now,
            faults: {
              operationsLimit: (n) => {
                limitNext = n
              },
              sessionClosed: (n) => {
                closedNext = n
              },
              notReady: (n) => {
                notReadyNext = n
              },
              dropConnections: (n) => {
                dropNext = n
              },
              malformedCalls
            },
            requests: log,
            clearLog: () => {
              log.length = 0
            }
          }
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ sim }) => sim))
