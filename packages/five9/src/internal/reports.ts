/**
 * Reading report CSV (csv-parse) into contact events and agent statuses. Columns are found by
 * their header, never by position.
 */
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import { parse } from "csv-parse/sync"
import * as DateTime from "effect/DateTime"
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

/**
 * One contact event per CALL ID (rows of transfer legs are merged: offered once, talk, hold
 * and after-call work summed), counted at the call's TIMESTAMP.
 */
export const contactsOf = (
  table: Table,
  options: CallLogOptions
): Either.Either<Array<Domain.ContactEvent>, Connector.InvalidData> => {
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
  const groups = new Map<string, Array<{ row: ReadonlyArray<string>; line: number }>>()
  table.rows.forEach((row, n) => {
    const id = cell(row, "CALL ID")
    const g = groups.get(id)
    if (g) g.push({ row, line: n + 2 })
    else groups.set(id, [{ row, line: n + 2 }])
  })
  const out: Array<Domain.ContactEvent> = []
  for (const [callId, rows] of groups) {
    if (callId === "") {
      return Either.left(new Connector.InvalidData({ record: `${options.report} line ${rows[0]!.line}`, reason: "CALL ID is empty" }))
    }
    let first: { row: ReadonlyArray<string>; line: number; at: number } | undefined
    let talkMs = 0, holdMs = 0, afterCallWorkMs = 0
    let handled = false
    let abandonedFlag = false
    for (const { line, row } of rows) {
      const where = `${options.report} line ${line} (CALL ID ${callId})`
      const at = parseTimestamp(cell(row, "TIMESTAMP"), options.zone)
      if (Either.isLeft(at)) return Either.left(new Connector.InvalidData({ record: `${where}, TIMESTAMP`, reason: at.left }))
      if (first === undefined || at.right < first.at) first = { row, line, at: at.right }
      for (const [column, add] of [
        ["TALK TIME", (ms: number) => (talkMs += ms)],
        ["HOLD TIME", (ms: number) => (holdMs += ms)],
        ["AFTER CALL WORK TIME", (ms: number) => (afterCallWorkMs += ms)]
      ] as const) {
        const d = parseDuration(cell(row, column))
        if (Either.isLeft(d)) return Either.left(new Connector.InvalidData({ record: `${where}, ${column}`, reason: d.left }))
        add(d.right)
      }
      const abandoned = cell(row, "ABANDONED")
      if (abandoned !== "" && abandoned !== "0" && abandoned !== "1") {
        return Either.left(
          new Connector.InvalidData({ record: `${where}, ABANDONED`, reason: `"${abandoned}" is not 0, 1 or empty` })
        )
      }
      if (abandoned === "1") abandonedFlag = true
      else if (!NO_AGENT.has(cell(row, "AGENT"))) handled = true
    }
    const head = first!
    if (!options.callTypes.some((t) => t.toLowerCase() === cell(head.row, "CALL TYPE").toLowerCase())) continue
    const queue = cell(head.row, options.queueColumn)
    if (queue === "") {
      return Either.left(
        new Connector.InvalidData({
          record: `${options.report} line ${head.line} (CALL ID ${callId}), ${options.queueColumn}`,
          reason: "the queue column is empty"
        })
      )
    }
    const wait = parseDuration(cell(head.row, "QUEUE WAIT TIME"))
    if (Either.isLeft(wait)) {
      return Either.left(
        new Connector.InvalidData({ record: `${options.report} line ${head.line}, QUEUE WAIT TIME`, reason: wait.left })
      )
    }
    const waitMs = wait.right
    out.push({
      queueIdentifier: queue,
      queueName: queue,
      channel: options.channel,
      timestamp: DateTime.unsafeMake(head.at),
      offered: true,
      handled,
      durationMs: handled ? talkMs + holdMs + afterCallWorkMs : waitMs,
      talkMs,
      holdMs,
      afterCallWorkMs,
      waitMs,
      abandoned: !handled && abandonedFlag,
      ...(options.serviceLevelSeconds === undefined
        ? {}
        : { answeredInThreshold: handled && waitMs <= options.serviceLevelSeconds * 1000 })
    })
  }
  return Either.right(out)
}

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

/** Agent states of an "Agent State Details" result, per agent with overlaps trimmed. */
export const statesOf = (table: Table, options: StateOptions): Either.Either<Array<StateSpan>, Connector.InvalidData> => {
  const c = options.columns
  const missing = missingColumns(table.header, [c.agent, c.timestamp, c.state, c.duration])
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
  const out: Array<StateSpan> = []
  for (const agent of Array.from(byAgent.keys()).sort()) out.push(...trimOverlaps(byAgent.get(agent)!))
  return Either.right(out)
}
