/**
 * Reading report CSV (csv-parse) into contact events and agent statuses. Columns are found by
 * their header, never by position.
 */
import { Connector, Time } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import { parse } from "csv-parse/sync"
import type * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import { trimOverlaps } from "./overlaps.js"
import { parseDuration, parseTimestamp } from "./time.js"

export interface Table {
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

/** Parses a CSV result; an empty result (no header) is an empty table. */
export const parseCsv = (text: string, where: string): Either.Either<Table, Connector.InvalidData> => {
  try {
    const records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as Array<Array<string>>
    const [header, ...rows] = records
    return Either.right({ header: (header ?? []).map((h) => h.trim()), rows })
  } catch (e) {
    return Either.left(
      new Connector.InvalidData({ record: where, reason: `the CSV result can't be read: ${e instanceof Error ? e.message : String(e)}` })
    )
  }
}

/** The columns of `required` missing from a header. */
export const missingColumns = (header: ReadonlyArray<string>, required: ReadonlyArray<string>): Array<string> =>
  required.filter((c) => !header.some((h) => h.toUpperCase() === c.toUpperCase()))

const indexer = (header: ReadonlyArray<string>) => {
  const map = new Map(header.map((h, i) => [h.toUpperCase(), i]))
  return (row: ReadonlyArray<string>, column: string): string => {
    const i = map.get(column.toUpperCase())
    return i === undefined ? "" : (row[i] ?? "").trim()
  }
}

export interface CallLogOptions {
  readonly report: string
  readonly zone: DateTime.TimeZone
  readonly queueColumn: string
  readonly callTypes: ReadonlyArray<string>
  readonly channel: Domain.Channel
  readonly serviceLevelSeconds?: number | undefined
  /** an abandon after a wait shorter than this is a short abandon (0: none is) */
  readonly shortAbandonSeconds: number
}

export const callLogColumns = (queueColumn: string) => [
  "CALL ID",
  "TIMESTAMP",
  queueColumn,
  "CALL TYPE",
  "AGENT",
  "QUEUE WAIT TIME",
  "TALK TIME",
  "HOLD TIME",
  "AFTER CALL WORK TIME",
  "ABANDONED"
]

const NO_AGENT = new Set(["", "[None]"])

/** One row of a call, read. */
interface CallRow {
  readonly line: number
  readonly at: number
  readonly type: string
  readonly queue: string
  readonly agent: string
  readonly waitMs: number
  readonly talkMs: number
  readonly holdMs: number
  readonly afterCallWorkMs: number
  readonly abandoned: boolean
}

/**
 * A call of the call log: its start (the TIMESTAMP of its first row) and one contact event per
 * queue visit.
 */
export interface Call {
  readonly callId: string
  readonly start: number
  readonly events: ReadonlyArray<Domain.ContactEvent>
}

/**
 * The calls of a call log result, each counted as `docs/counting.md` says for a source that
 * has the contact's start only:
 *
 * - the rows of a CALL ID, in TIMESTAMP order (report order between equal TIMESTAMPs), are one
 *   call; its first row's TIMESTAMP is the call's start, and only a call whose first row's
 *   CALL TYPE is one of `callTypes` (default Inbound) is a contact of a queue;
 * - of its rows, those of a CALL TYPE in `callTypes` are its legs (3rd party transfer,
 *   Internal consult and outbound rows are not); consecutive legs with the same queue column
 *   are one queue visit, so a transfer or an overflow to another skill starts a visit at that
 *   skill, and an agent-to-agent transfer within the skill adds a leg to the visit;
 * - each visit is one contact event at its queue, stamped with the call's start: handled when
 *   a leg has an agent (not `[None]`) and is not abandoned; abandoned when not handled and a
 *   leg has ABANDONED 1 (short when its wait is below `shortAbandonSeconds`); a breakout when
 *   neither (it left the queue without an agent and without hanging up); talk, hold and
 *   after-call work summed over its legs; its wait the sum of their QUEUE WAIT TIME.
 */
export const callsOf = (table: Table, options: CallLogOptions): Either.Either<Array<Call>, Connector.InvalidData> => {
  const missing = missingColumns(table.header, callLogColumns(options.queueColumn))
  if (missing.length > 0) {
    return Either.left(
      new Connector.InvalidData({
        record: options.report,
        reason: `the report has no column ${missing.map((m) => `"${m}"`).join(", ")}`
      })
    )
  }
  const cell = indexer(table.header)
  const isLeg = (type: string) => options.callTypes.some((t) => t.toLowerCase() === type.toLowerCase())
  const groups = new Map<string, Array<CallRow>>()
  for (let n = 0; n < table.rows.length; n++) {
    const row = table.rows[n]!
    const line = n + 2
    const callId = cell(row, "CALL ID")
    if (callId === "") return Either.left(new Connector.InvalidData({ record: `${options.report} line ${line}`, reason: "CALL ID is empty" }))
    const where = `${options.report} line ${line} (CALL ID ${callId})`
    const at = parseTimestamp(cell(row, "TIMESTAMP"), options.zone)
    if (Either.isLeft(at)) return Either.left(new Connector.InvalidData({ record: `${where}, TIMESTAMP`, reason: at.left }))
    const type = cell(row, "CALL TYPE")
    const durations: Array<number> = []
    for (const column of ["QUEUE WAIT TIME", "TALK TIME", "HOLD TIME", "AFTER CALL WORK TIME"]) {
      const d = parseDuration(cell(row, column))
      if (Either.isLeft(d)) return Either.left(new Connector.InvalidData({ record: `${where}, ${column}`, reason: d.left }))
      durations.push(d.right)
    }
    const abandoned = cell(row, "ABANDONED")
    if (abandoned !== "" && abandoned !== "0" && abandoned !== "1") {
      return Either.left(new Connector.InvalidData({ record: `${where}, ABANDONED`, reason: `"${abandoned}" is not 0, 1 or empty` }))
    }
    const queue = cell(row, options.queueColumn)
    if (isLeg(type) && queue === "") {
      return Either.left(new Connector.InvalidData({ record: `${where}, ${options.queueColumn}`, reason: "the queue column is empty" }))
    }
    const parsed: CallRow = {
      line,
      at: at.right,
      type,
      queue,
      agent: cell(row, "AGENT"),
      waitMs: durations[0]!,
      talkMs: durations[1]!,
      holdMs: durations[2]!,
      afterCallWorkMs: durations[3]!,
      abandoned: abandoned === "1"
    }
    const g = groups.get(callId)
    if (g) g.push(parsed)
    else groups.set(callId, [parsed])
  }
  const out: Array<Call> = []
  for (const [callId, unsorted] of groups) {
    const rows = [...unsorted].sort((a, b) => a.at - b.at || a.line - b.line)
    const first = rows[0]!
    if (!isLeg(first.type)) continue
    const visits: Array<Array<CallRow>> = []
    for (const r of rows) {
      if (!isLeg(r.type)) continue
      const current = visits[visits.length - 1]
      if (current !== undefined && current[0]!.queue === r.queue) current.push(r)
      else visits.push([r])
    }
    out.push({ callId, start: first.at, events: visits.map((legs) => visitEvent(legs, first.at, options)) })
  }
  return Either.right(out.sort((a, b) => a.start - b.start || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0)))
}

const visitEvent = (legs: ReadonlyArray<CallRow>, start: number, options: CallLogOptions): Domain.ContactEvent => {
  let talkMs = 0, holdMs = 0, afterCallWorkMs = 0, waitMs = 0
  let handled = false, abandonedFlag = false
  for (const l of legs) {
    talkMs += l.talkMs
    holdMs += l.holdMs
    afterCallWorkMs += l.afterCallWorkMs
    waitMs += l.waitMs
    if (l.abandoned) abandonedFlag = true
    else if (!NO_AGENT.has(l.agent)) handled = true
  }
  const abandoned = !handled && abandonedFlag
  const queue = legs[0]!.queue
  return {
    queueIdentifier: queue,
    queueName: queue,
    channel: options.channel,
    timestamp: Time.utc(start),
    offered: true,
    handled,
    durationMs: handled ? talkMs + holdMs + afterCallWorkMs : waitMs,
    talkMs,
    holdMs,
    afterCallWorkMs,
    waitMs,
    abandoned,
    shortAbandoned: abandoned && waitMs < options.shortAbandonSeconds * 1000,
    breakout: !handled && !abandoned,
    ...(options.serviceLevelSeconds === undefined
      ? {}
      : { answeredInThreshold: handled && waitMs <= options.serviceLevelSeconds * 1000 })
  }
}

/** The contact events of a call log result (every visit of every call); see `callsOf`. */
export const contactsOf = (
  table: Table,
  options: CallLogOptions
): Either.Either<Array<Domain.ContactEvent>, Connector.InvalidData> =>
  Either.map(callsOf(table, options), (calls) => calls.flatMap((c) => c.events))

export interface StateColumns {
  readonly agent: string
  readonly timestamp: string
  readonly state: string
  readonly reason: string
  readonly duration: string
}

export interface StateOptions {
  readonly report: string
  readonly zone: DateTime.TimeZone
  readonly columns: StateColumns
  readonly skipStates: ReadonlyArray<string>
}

/** The activity identifier of a Five9 state: `Not Ready:Lunch` when it has a reason code. */
export const activityIdentifier = (state: string, reason: string): string =>
  reason === "" || reason === "[None]" ? state : `${state}:${reason}`

export interface StateSpan {
  readonly agent: string
  readonly activity: string
  readonly start: number
  readonly end: number
}

/**
 * Agent states of an "Agent State Details" result, with `extra` spans (logged-out time), per
 * agent with overlaps trimmed. An open span has an infinite end.
 */
export const statesOf = (
  table: Table,
  options: StateOptions,
  extra: ReadonlyArray<StateSpan> = []
): Either.Either<Array<StateSpan>, Connector.InvalidData> => {
  const c = options.columns
  const missing = table.header.length === 0 ? [] : missingColumns(table.header, [c.agent, c.timestamp, c.state, c.duration])
  if (missing.length > 0) {
    return Either.left(
      new Connector.InvalidData({
        record: options.report,
        reason: `the report has no column ${missing.map((m) => `"${m}"`).join(", ")}`
      })
    )
  }
  const cell = indexer(table.header)
  const byAgent = new Map<string, Array<StateSpan>>()
  for (let n = 0; n < table.rows.length; n++) {
    const row = table.rows[n]!
    const where = `${options.report} line ${n + 2}`
    const agent = cell(row, c.agent)
    const state = cell(row, c.state)
    if (state === "" || options.skipStates.includes(state)) continue
    if (agent === "" || agent === "[None]") {
      return Either.left(new Connector.InvalidData({ record: `${where}, ${c.agent}`, reason: "no agent" }))
    }
    const start = parseTimestamp(cell(row, c.timestamp), options.zone)
    if (Either.isLeft(start)) return Either.left(new Connector.InvalidData({ record: `${where}, ${c.timestamp}`, reason: start.left }))
    const duration = parseDuration(cell(row, c.duration))
    if (Either.isLeft(duration)) {
      return Either.left(new Connector.InvalidData({ record: `${where}, ${c.duration}`, reason: duration.left }))
    }
    if (duration.right === 0) continue
    const span = { agent, activity: activityIdentifier(state, cell(row, c.reason)), start: start.right, end: start.right + duration.right }
    const list = byAgent.get(agent)
    if (list) list.push(span)
    else byAgent.set(agent, [span])
  }
  for (const span of extra) {
    const list = byAgent.get(span.agent)
    if (list) list.push(span)
    else byAgent.set(span.agent, [span])
  }
  const out: Array<StateSpan> = []
  for (const agent of Array.from(byAgent.keys()).sort()) out.push(...trimOverlaps(byAgent.get(agent)!))
  return Either.right(out)
}

export interface SessionColumns {
  readonly agent: string
  readonly login: string
  readonly logout: string
}

/** A login session: [login, logout), `logout` null while the agent is logged in. */
export interface LoginSession {
  readonly agent: string
  readonly login: number
  readonly logout: number | null
}

/**
 * The login sessions of an "Agent Login-Logout" result, per agent in login order, overlapping
 * or touching sessions merged (a report that splits sessions at midnight gives one session).
 * An empty LOGOUT TIMESTAMP is a session still open.
 */
export const sessionsOf = (
  table: Table,
  options: { readonly report: string; readonly zone: DateTime.TimeZone; readonly columns: SessionColumns }
): Either.Either<Array<LoginSession>, Connector.InvalidData> => {
  const c = options.columns
  const missing = missingColumns(table.header, [c.agent, c.login, c.logout])
  if (missing.length > 0) {
    return Either.left(
      new Connector.InvalidData({ record: options.report, reason: `the report has no column ${missing.map((m) => `"${m}"`).join(", ")}` })
    )
  }
  const cell = indexer(table.header)
  const byAgent = new Map<string, Array<LoginSession>>()
  for (let n = 0; n < table.rows.length; n++) {
    const row = table.rows[n]!
    const where = `${options.report} line ${n + 2}`
    const agent = cell(row, c.agent)
    if (agent === "" || agent === "[None]") return Either.left(new Connector.InvalidData({ record: `${where}, ${c.agent}`, reason: "no agent" }))
    const login = parseTimestamp(cell(row, c.login), options.zone)
    if (Either.isLeft(login)) return Either.left(new Connector.InvalidData({ record: `${where}, ${c.login}`, reason: login.left }))
    const logoutText = cell(row, c.logout)
    let logout: number | null = null
    if (logoutText !== "") {
      const parsed = parseTimestamp(logoutText, options.zone)
      if (Either.isLeft(parsed)) return Either.left(new Connector.InvalidData({ record: `${where}, ${c.logout}`, reason: parsed.left }))
      if (parsed.right < login.right) {
        return Either.left(new Connector.InvalidData({ record: `${where}, ${c.logout}`, reason: "the logout is before the login" }))
      }
      logout = parsed.right
    }
    const list = byAgent.get(agent)
    const session = { agent, login: login.right, logout }
    if (list) list.push(session)
    else byAgent.set(agent, [session])
  }
  const out: Array<LoginSession> = []
  for (const agent of Array.from(byAgent.keys()).sort()) {
    const merged: Array<LoginSession> = []
    for (const s of byAgent.get(agent)!.sort((a, b) => a.login - b.login)) {
      const last = merged[merged.length - 1]
      if (last !== undefined && (last.logout === null || s.login <= last.logout)) {
        merged[merged.length - 1] = {
          ...last,
          logout: last.logout === null || s.logout === null ? null : Math.max(last.logout, s.logout)
        }
      } else merged.push(s)
    }
    out.push(...merged)
  }
  return Either.right(out)
}
