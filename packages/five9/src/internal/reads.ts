/**
 * The connector's reads of history: reports run for a range and read back whole (results at the
 * row cap read again in halves), the call log read around a window, agent states back to the
 * login of the sessions a window starts in.
 */
import type { Domain } from "@acd-bridge/core"
import { Connector, Time } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { readCapped } from "./capped.js"
import type { Endpoint } from "./client.js"
import { call } from "./client.js"
import type { Config } from "./config.js"
import { adminEndpoint, zoneOf } from "./config.js"
import type { StateSpan, Table } from "./reports.js"
import { callsOf, parseCsv, sessionsOf, statesOf } from "./reports.js"
import { Sessions } from "./sessions.js"

/** A batch with nothing in it, to fill in. */
export const emptyBatch: Domain.Batch = { contacts: [], aggregates: [], statuses: [] }

/** The session of an endpoint, held until the enclosing scope closes. */
export const sessionOf = (ep: Endpoint) => Effect.flatMap(Sessions, (sessions) => sessions.get(ep))

/** Runs a report for [from, to) and returns its CSV. */
export const runReport = (config: Config, folder: string, report: string, from: number, to: number) =>
  Effect.gen(function*() {
    const ep = adminEndpoint(config)
    const session = yield* sessionOf(ep)
    const zone = zoneOf(config)
    const id = yield* call(session, ep, "runReport", {
      folderName: folder,
      reportName: report,
      criteria: { time: { end: Time.label(to, zone), start: Time.label(from, zone) } }
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
    Effect.scoped,
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
): Effect.Effect<Table, Connector.ConnectorError, HttpClient.HttpClient | Sessions> =>
  Effect.gen(function*() {
    const session = yield* sessionOf(adminEndpoint(config))
    const name = `${folder}/${report}`
    let memory = session.caps.get(name)
    if (memory === undefined) {
      memory = { trustedUpTo: 0 }
      session.caps.set(name, memory)
    }
    return yield* readCapped({
      run: (a, b) => Effect.flatMap(runReport(config, folder, report, a, b), (csv) => parseCsv(csv, name)),
      report: name,
      maxRows: config.maxRows,
      memory
    }, Math.floor(from / 1000) * 1000, Math.ceil(to / 1000) * 1000)
  }).pipe(Effect.scoped)

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
      start: Time.utc(s.start),
      end: Number.isFinite(s.end) ? Time.utc(s.end) : null
    }))
  })

/** Reads a window: the calls that started in it (one event per queue visit) and the agent states that overlap it, whole. */
export const pull = (config: Config, window: Connector.Window) => {
  const from = DateTime.toEpochMillis(window.from)
  const to = DateTime.toEpochMillis(window.to)
  const parts: Array<Stream.Stream<Domain.Batch, Connector.ConnectorError, HttpClient.HttpClient | Sessions>> = []
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
