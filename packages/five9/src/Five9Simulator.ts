/**
 * A local simulator of Five9's SOAP web services, rendering a testkit `Scenario` on a loopback
 * port:
 *
 * - Configuration Web Services (`/wsadmin/{version}/AdminWebService`, HTTP Basic auth):
 *   `runReport`, `isReportRunning` (true for the first polls), `getReportResultCsv`,
 *   `getCallCountersState`; reports "Call Log Reports/Call Log" (the 25 stock columns, queue =
 *   CAMPAIGN), a custom "Shared Reports/Call Log with Skills" (+ SKILL) and "Agent
 *   Reports/Agent State Details". Times are wall-clock times of the data centre's zone without
 *   offset (`Fri, 21 Aug 2026 09:00:12`), durations `HH:MM:SS` (queue wait with milliseconds),
 *   transfers as several rows per CALL ID, `[None]` for calls no agent took, outbound calls
 *   mixed in, overlapping agent states (a 5-second Ready with the On Call it precedes), and the
 *   row cap (the result is cut at `maxRows`).
 * - Statistics Web Services (`/wssupervisor/{version}/SupervisorWebService`):
 *   `setSessionParameters`, `getStatistics` and `getStatisticsUpdate` (long poll, changes only)
 *   for `AgentState`, as of the simulator's `now`.
 *
 * Faults: `OperationsLimitExceededFault`, `SessionClosedFault` (also when the same user makes
 * two calls at once), `ResultIsNotReadyFault`, `ReportNotFoundFault`, connections closed in the
 * middle of an answer, malformed rows, rejected credentials.
 *
 * @since 0.1.0
 */
import { Bucketing } from "@acd-bridge/core"
import type { Scenario } from "@acd-bridge/testkit"
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

/** @since 0.1.0 @category models */
export interface Options {
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** the data centre's zone (default America/Los_Angeles) */
  readonly timezone?: string | undefined
  /** the simulator's present; default: after the scenario */
  readonly now?: number | undefined
  /** the CSV row cap (default 50,000): longer results are cut */
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
}

/** @since 0.1.0 @category models */
export interface RequestLog {
  readonly service: "admin" | "supervisor"
  readonly operation: string
  readonly params: Readonly<Record<string, unknown>>
  readonly fault: string | null
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
  readonly setNow: (ms: number) => void
  readonly faults: Faults
  readonly requests: ReadonlyArray<RequestLog>
  readonly clearLog: () => void
}

const DAY = 24 * 3_600_000

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, "\"\"")}"` : v)
const csvLine = (cells: ReadonlyArray<string>) => cells.map(csvCell).join(",")

const str = (u: unknown): string => (typeof u === "string" ? u : typeof u === "number" ? String(u) : "")

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
      const zone = Either.getOrThrow(Bucketing.zone(options.timezone ?? "America/Los_Angeles"))
      const maxRows = options.maxRows ?? 50_000
      const runningPolls = options.runningPolls ?? 1
      const campaignOf = options.campaignOf ?? ((q) => q.name)
      const skillOf = options.skillOf ?? ((q) => q.identifier)
      const skillReport = options.skillReport ?? { folder: "Shared Reports", report: "Call Log with Skills" }
      const stateHeader = options.agentStateColumns ?? agentStateHeader
      let now = options.now ?? scenario.to + DAY
      let limitNext = 0, closedNext = 0, notReadyNext = 0, dropNext = 0
      const malformedCalls = new Set<string>()
      const log: Array<RequestLog> = []
      const reports = new Map<string, { csv: string; polls: number }>()
      let nextReport = 1
      const inFlight = new Map<string, number>()

      // ---- reports
      const callLog = (from: number, to: number, withSkill: boolean): string => {
        const header = withSkill ? [...callLogHeader, "SKILL"] : [...callLogHeader]
        const rows: Array<{ at: number; id: string; cells: Array<string> }> = []
        const blank = (): Record<string, string> => Object.fromEntries(header.map((h) => [h, ""]))
        scenario.contacts.forEach((c, n) => {
          if (c.arrival < from || c.arrival >= to || c.arrival >= now) return
          const q = { identifier: c.queueIdentifier, name: c.queueName }
          const base = (): Record<string, string> => ({
            ...blank(),
            "CALL ID": c.id,
            "TIMESTAMP": formatTimestamp(c.arrival, zone),
            "CAMPAIGN": campaignOf(q),
            "CALL TYPE": "Inbound",
            "ANI": "5550100",
            "DNIS": "5550199",
            "COST": "0",
            "IVR TIME": "00:00:00",
            "RING TIME": "00:00:00",
            "PARK TIME": "00:00:00",
            "CONFERENCES": "0",
            "RECORDINGS": "0",
            "SKILL": skillOf(q)
          })
          const push = (r: Record<string, string>) =>
            rows.push({ at: c.arrival, id: c.id, cells: header.map((h) => r[h] ?? "") })
          if (!c.handled) {
            push({
              ...base(),
              "AGENT": "[None]",
              "DISPOSITION": "Abandon",
              "CALL TIME": formatDuration(c.waitMs),
              "BILL TIME (ROUNDED)": formatDuration(Math.ceil(c.waitMs / 60_000) * 60_000),
              "QUEUE WAIT TIME": formatDuration(c.waitMs, true),
              "TALK TIME": "00:00:00",
              "HOLD TIME": "00:00:00",
              "AFTER CALL WORK TIME": "00:00:00",
              "TRANSFERS": "0",
              "HOLDS": "0",
              "ABANDONED": "1"
            })
          } else {
            c.legs.forEach((leg, i) => {
              const talk = malformedCalls.has(c.id) && i === 0 ? "4 min" : formatDuration(leg.talkMs)
              push({
                ...base(),
                "AGENT": leg.agentId,
                "AGENT NAME": leg.agentId.replace("agent-", "Agent "),
                "DISPOSITION": leg.transferred ? "Transferred To Agent" : "Resolved",
                "CALL TIME": formatDuration(leg.talkMs + leg.holdMs + (i === 0 ? c.waitMs : 0)),
                "BILL TIME (ROUNDED)": formatDuration(Math.ceil((leg.talkMs + leg.holdMs) / 60_000) * 60_000),
                "QUEUE WAIT TIME": formatDuration(i === 0 ? c.waitMs : 0, true),
                "TALK TIME": talk,
                "HOLD TIME": formatDuration(leg.holdMs),
                "AFTER CALL WORK TIME": formatDuration(leg.afterCallWorkMs),
                "TRANSFERS": leg.transferred ? "1" : "0",
                "HOLDS": leg.holdMs > 0 ? "1" : "0",
                "ABANDONED": "0"
              })
            })
          }
          if (n % 40 === 7 && c.handled) {
            // an outbound call of the same agent: not a contact of any queue
            rows.push({
              at: c.arrival,
              id: `${c.id}-out`,
              cells: header.map((h) =>
                ({
                  ...blank(),
                  "CALL ID": `${c.id}-out`,
                  "TIMESTAMP": formatTimestamp(c.arrival, zone),
                  "CAMPAIGN": "Outbound Callbacks",
                  "CALL TYPE": "Outbound",
                  "AGENT": c.legs[0]!.agentId,
                  "TALK TIME": "00:01:00",
                  "HOLD TIME": "00:00:00",
                  "AFTER CALL WORK TIME": "00:00:10",
                  "QUEUE WAIT TIME": "00:00:00",
                  "ABANDONED": "0",
                  "SKILL": ""
                } as Record<string, string>)[h] ?? ""
              )
            })
          }
        })
        rows.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        return [csvLine(header), ...rows.slice(0, maxRows).map((r) => csvLine(r.cells))].join("\n") + "\n"
      }

      const agentStates = (from: number, to: number): string => {
        const rows: Array<{ at: number; agent: string; cells: Array<string> }> = []
        const row = (agent: string, at: number, state: string, reason: string, ms: number) => {
          const r: Record<string, string> = {
            "AGENT": agent,
            "AGENT NAME": agent.replace("agent-", "Agent "),
            "DATE": formatTimestamp(at, zone).slice(5, 16),
            "TIMESTAMP": formatTimestamp(at, zone),
            "STATE": state,
            "REASON CODE": reason,
            "AGENT STATE TIME": formatDuration(ms)
          }
          rows.push({ at, agent, cells: stateHeader.map((h) => r[h] ?? "") })
        }
        for (const s of scenario.states) {
          if (s.start < from || s.start >= to || s.end > now) continue
          const v = stateOf(s.activity)
          row(s.agentId, s.start, v.state, v.reason, s.end - s.start)
        }
        for (const a of scenario.agents) {
          for (const shift of a.shifts) {
            if (shift.login >= from && shift.login < to && shift.login < now) row(a.id, shift.login, "Login", "", 0)
            if (shift.logout >= from && shift.logout < to && shift.logout < now) row(a.id, shift.logout, "Logout", "", 0)
          }
        }
        rows.sort((a, b) => a.at - b.at || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0))
        return [csvLine(stateHeader), ...rows.slice(0, maxRows).map((r) => csvLine(r.cells))].join("\n") + "\n"
      }

      // ---- statistics: each agent's state at an instant
      const timeline = new Map<string, Array<Scenario.AgentState>>()
      for (const s of scenario.states) {
        const l = timeline.get(s.agentId)
        if (l) l.push(s)
        else timeline.set(s.agentId, [s])
      }
      for (const [agent, list] of timeline) timeline.set(agent, trimOverlaps(list))
      const stateAt = (agent: string, t: number) => {
        const list = timeline.get(agent) ?? []
        let current: Scenario.AgentState | undefined
        let lastEnd = scenario.from
        for (const s of list) {
          if (s.start > t) break
          if (s.end > t) current = s
          else lastEnd = s.end
        }
        if (current) {
          const v = stateOf(current.activity)
          return { state: v.state, reason: v.reason, since: current.start }
        }
        return { state: "Logged Out", reason: "", since: lastEnd }
      }
      const agentIds = scenario.agents.map((a) => a.id)
      const statisticsColumns = ["Username", "Full Name", "State", "State Since", "State Duration", "Reason Code"]
      const snapshotRow = (agent: string, t: number): Array<string> => {
        const s = stateAt(agent, t)
        return [agent, agent.replace("agent-", "Agent "), s.state, formatStatisticsTime(s.since, zone), String(t - s.since), s.reason]
      }

      const admin = (operation: string, params: Record<string, unknown>): { fault?: [string, string]; value?: XmlValue } => {
        switch (operation) {
          case "getCallCountersState":
            return { value: { limitTimeoutState: { timeout: 86400, callCounterStates: { operationType: "ReportRequest", limit: 1000, value: 1 } } } }
          case "runReport": {
            const folder = str(params["folderName"])
            const report = str(params["reportName"])
            const criteria = isRecord(params["criteria"]) ? params["criteria"] : {}
            const time = isRecord(criteria["time"]) ? criteria["time"] : {}
            const from = Date.parse(str(time["start"]))
            const to = Date.parse(str(time["end"]))
            if (!Number.isFinite(from) || !Number.isFinite(to)) return { fault: ["WrongPropertyValueFault", "criteria.time start and end are required"] }
            let csv: string
            if (folder === "Call Log Reports" && report === "Call Log") csv = callLog(from, to, false)
            else if (folder === skillReport.folder && report === skillReport.report) csv = callLog(from, to, true)
            else if (folder === "Agent Reports" && report === "Agent State Details") csv = agentStates(from, to)
            else return { fault: ["ReportNotFoundFault", `Report "${report}" not found in folder "${folder}"`] }
            const id = `r-${nextReport++}`
            reports.set(id, { csv, polls: runningPolls })
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
            return { value: r.csv }
          }
          default:
            return { fault: ["UnsupportedOperationFault", `${operation} is not simulated`] }
        }
      }

      const lastSnapshot = new Map<string, number>()
      const supervisor = (
        operation: string,
        params: Record<string, unknown>
      ): { fault?: [string, string]; value?: XmlValue; delayMs?: number } => {
        switch (operation) {
          case "setSessionParameters":
            return {}
          case "getStatistics": {
            if (str(params["statisticType"]) !== "AgentState") return { fault: ["WrongPropertyValueFault", "only AgentState is simulated"] }
            lastSnapshot.set("AgentState", now)
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
          const service = /^\/wsadmin\/[^/]+\/AdminWebService$/.test(path)
            ? "admin" as const
            : /^\/wssupervisor\/[^/]+\/SupervisorWebService$/.test(path)
            ? "supervisor" as const
            : undefined
          if (service === undefined || req.method !== "POST") {
            res.writeHead(404, { "content-type": "text/html" })
            return res.end("<html><body>Not Found</body></html>")
          }
          const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1]
          const [u, p] = basic ? Buffer.from(basic, "base64").toString("utf8").split(":") : []
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
          const answer = (status: number, xml: string, fault: string | null) => {
            log.push({ service, operation: request.operation, params: request.params, fault, at: Date.now() })
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
          const out: { fault?: [string, string]; value?: XmlValue; delayMs?: number } = service === "admin"
            ? admin(request.operation, request.params)
            : supervisor(request.operation, request.params)
          const reply = () =>
            out.fault
              ? fault(out.fault[0], out.fault[1])
              : answer(200, responseEnvelope(ns, request.operation, out.value), null)
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
