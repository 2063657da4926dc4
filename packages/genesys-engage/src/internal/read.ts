/**
 * The SELECTs the connector runs and how their rows become acd-bridge records.
 *
 * Info Mart keeps instants as UTC epoch seconds (`START_TS`, `END_TS`) and 15-minute keys
 * (`*_DATE_TIME_KEY`, the interval start in epoch seconds). Filters use `*_CODE` columns
 * (media, interaction type, resource type), never surrogate keys, which differ between
 * deployments.
 *
 * @internal
 */
import { type Connector, Time } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import { defaultOptionalMeasures } from "../GenesysConfig.js"
import type { GenesysConfig, TableName } from "../GenesysConfig.js"
import type { Db, Row } from "./db.js"
import { QUARTER_S, table, placeholders, invalid, intOrNull, int, nonNegative, text, iso, secondsOf, mediaCodes } from "./readValues.js"

export { readContactFacts } from "./readFacts.js"
export { table } from "./readValues.js"

// ---------------------------------------------------------------------------
// contacts from AG2_QUEUE_SUBHR
// ---------------------------------------------------------------------------

const measureNames = [
  "offered",
  "handled",
  "abandoned",
  "talkTime",
  "holdTime",
  "afterCallWorkTime",
  "shortAbandoned",
  "breakout",
  "waitTime",
  "unhandledTime"
] as const

/** The aggregate SELECT for a window: one row per interval, queue and media. @internal */
export const aggregatesQuery = (config: GenesysConfig) => {
  const m = config.contacts.measures
  const sum = (columns: ReadonlyArray<string>) =>
    columns.length === 0 ? "0" : `SUM(${columns.map((c) => `COALESCE(q.${c}, 0)`).join(" + ")})`
  const allColumns = Array.from(new Set(measureNames.flatMap((k) => m[k] ?? [])))
  const negative = allColumns.length === 0
    ? "0"
    : `SUM(CASE WHEN ${allColumns.map((c) => `q.${c} < 0`).join(" OR ")} THEN 1 ELSE 0 END)`
  const types = config.contacts.interactionTypes
  const queues = config.contacts.queues
  const media = mediaCodes(config)
  const tables = [
    table(config, "AG2_QUEUE_SUBHR"),
    table(config, "MEDIA_TYPE"),
    table(config, "RESOURCE_"),
    ...(types.length > 0 ? [table(config, "INTERACTION_TYPE")] : [])
  ]
  const text = `SELECT q.DATE_TIME_KEY AS interval_key, q.RESOURCE_KEY AS resource_key, r.RESOURCE_NAME AS queue_name,
  m.MEDIA_NAME_CODE AS media_code, COUNT(*) AS row_count, ${negative} AS negative_values,
  ${measureNames.map((k) => `${sum(m[k] ?? [])} AS m_${k.toLowerCase()}`).join(",\n  ")}
FROM ${tables[0]} q
JOIN ${tables[1]} m ON m.MEDIA_TYPE_KEY = q.MEDIA_TYPE_KEY
LEFT JOIN ${tables[2]} r ON r.RESOURCE_KEY = q.RESOURCE_KEY${
    types.length > 0 ? `\nJOIN ${tables[3]} it ON it.INTERACTION_TYPE_KEY = q.INTERACTION_TYPE_KEY` : ""
  }
WHERE q.DATE_TIME_KEY >= ? AND q.DATE_TIME_KEY < ?
  AND m.MEDIA_NAME_CODE IN (${placeholders(media.length)})${
    types.length > 0 ? `\n  AND it.INTERACTION_TYPE_CODE IN (${placeholders(types.length)})` : ""
  }${queues.length > 0 ? `\n  AND r.RESOURCE_NAME IN (${placeholders(queues.length)})` : ""}
GROUP BY q.DATE_TIME_KEY, q.RESOURCE_KEY, r.RESOURCE_NAME, m.MEDIA_NAME_CODE
ORDER BY q.DATE_TIME_KEY, r.RESOURCE_NAME, m.MEDIA_NAME_CODE`
  return {
    text,
    tables,
    params: (fromS: number, toS: number): ReadonlyArray<unknown> => [fromS, toS, ...media, ...types, ...queues]
  }
}

/**
 * The config with the optional aggregate measures left unset (`defaultOptionalMeasures`)
 * resolved to the columns the view has: each is probed with a SELECT that reads no row.
 *
 * @internal
 */
export const withOptionalMeasures = (
  db: Db,
  config: GenesysConfig
): Effect.Effect<GenesysConfig, Connector.ConnectorError> =>
  Effect.gen(function*() {
    const m = config.contacts.measures
    if (config.contacts.source !== "aggregates" || (m.shortAbandoned !== undefined && m.breakout !== undefined)) {
      return config
    }
    const view = table(config, "AG2_QUEUE_SUBHR")
    const present = (columns: ReadonlyArray<string>) =>
      Effect.filter(columns, (column) =>
        db.select(`SELECT ${column} FROM ${view} WHERE 1 = 0`, [], `reading ${view}`, [view]).pipe(
          Effect.as(true),
          // a missing column reads 0; a missing view, rejected credentials or a lost connection fail as they are
          Effect.catchIf(
            (e) => e._tag === "InvalidData" && e.reason.startsWith("a column is missing"),
            () => Effect.succeed(false)
          )
        ))
    const shortAbandoned = m.shortAbandoned ?? (yield* present(defaultOptionalMeasures.shortAbandoned))
    const breakout = m.breakout ?? (yield* present(defaultOptionalMeasures.breakout))
    return { ...config, contacts: { ...config.contacts, measures: { ...m, shortAbandoned, breakout } } }
  })

/**
 * Interval aggregates with a `DATE_TIME_KEY` in the window (15-minute keys, so the window's
 * quarter-hours).
 *
 * @internal
 */
export const readAggregates = (
  db: Db,
  config: GenesysConfig,
  fromMs: number,
  toMs: number
): Effect.Effect<Array<Domain.IntervalAggregate>, Connector.ConnectorError> =>
  Effect.gen(function*() {
    const q = aggregatesQuery(config)
    const { from, to } = secondsOf(fromMs, toMs)
    const rows = yield* db.select(q.text, q.params(from, to), `reading ${q.tables[0]}`, q.tables)
    const out: Array<Domain.IntervalAggregate> = []
    for (const row of rows) out.push(yield* toAggregate(config, q.tables[0]!, row))
    return out
  })

const toAggregate = (config: GenesysConfig, tableName: string, row: Row) =>
  Effect.gen(function*() {
    const key = yield* int(row["interval_key"], `${tableName} row`, "DATE_TIME_KEY")
    const resourceKey = text(row["resource_key"])
    const record = `${tableName} DATE_TIME_KEY=${key} RESOURCE_KEY=${resourceKey ?? "NULL"} (${iso(key)})`
    if (key % QUARTER_S !== 0) {
      return yield* invalid(record, `DATE_TIME_KEY ${key} is not the start of a 15-minute interval`)
    }
    const queue = text(row["queue_name"])
    if (queue === null || queue.trim().length === 0) {
      return yield* invalid(record, `RESOURCE_KEY ${resourceKey ?? "NULL"} has no queue in RESOURCE_ (or no RESOURCE_NAME)`)
    }
    if (queue.length > 255) return yield* invalid(record, `the queue name is longer than 255 characters`)
    const media = text(row["media_code"]) ?? ""
    const channel = config.channels[media]
    if (channel === undefined) return yield* invalid(record, `media ${media} has no channel`)
    const negative = yield* int(row["negative_values"], record, "negative values")
    if (negative > 0) return yield* invalid(record, `${negative} row(s) carry negative measures`)
    const get = (k: typeof measureNames[number]) => nonNegative(row[`m_${k.toLowerCase()}`], record, k)
    const offered = yield* get("offered")
    const handled = yield* get("handled")
    const talk = yield* get("talkTime")
    const hold = yield* get("holdTime")
    const acw = yield* get("afterCallWorkTime")
    return {
      queueIdentifier: queue,
      queueName: queue,
      channel,
      start: Time.utc(key * 1000),
      lengthMinutes: 15,
      offered,
      handled,
      handlingMs: (talk + hold + acw) * 1000,
      unhandledMs: (yield* get("unhandledTime")) * 1000,
      talkMs: talk * 1000,
      holdMs: hold * 1000,
      afterCallWorkMs: acw * 1000,
      waitMs: (yield* get("waitTime")) * 1000,
      abandoned: yield* get("abandoned"),
      shortAbandoned: yield* get("shortAbandoned"),
      breakout: yield* get("breakout"),
      answeredInThreshold: 0
    } satisfies Domain.IntervalAggregate
  })

// ---------------------------------------------------------------------------
// agent states
// ---------------------------------------------------------------------------

/**
 * The agent state SELECT: every state that overlaps the window, with its reasons, however
 * long ago it started (a logged-out weekend), open ones included. No look-back bound: closed
 * states are found by their end (`END_DATE_TIME_KEY`, indexed in Info Mart), open ones by
 * `END_TS` NULL or `ACTIVE_FLAG`.
 *
 * @internal
 */
export const statesQuery = (config: GenesysConfig) => {
  const o = config.agentStatuses
  const fact = table(config, "SM_RES_STATE_FACT")
  const res = table(config, "RESOURCE_")
  const mt = table(config, "MEDIA_TYPE")
  const st = table(config, "RESOURCE_STATE")
  const rf = table(config, "SM_RES_STATE_REASON_FACT")
  const rr = table(config, "RESOURCE_STATE_REASON")
  const text = `SELECT f.SM_RES_STATE_FACT_KEY AS fact_key, a.RESOURCE_NAME AS agent_name, a.EMPLOYEE_ID AS employee_id,
  s.${o.activityFrom} AS state, f.START_TS AS start_ts, f.END_TS AS end_ts, f.ACTIVE_FLAG AS active${
    o.reasons
      ? `,
  rf.SM_RES_STATE_REASON_FACT_KEY AS reason_key, rf.START_TS AS reason_start, rf.END_TS AS reason_end,
  rr.SOFTWARE_REASON_VALUE AS software_reason, rr.HARDWARE_REASON AS hardware_reason`
      : ""
  }
FROM ${fact} f
JOIN ${res} a ON a.RESOURCE_KEY = f.RESOURCE_KEY
JOIN ${mt} m ON m.MEDIA_TYPE_KEY = f.MEDIA_TYPE_KEY
JOIN ${st} s ON s.RESOURCE_STATE_KEY = f.RESOURCE_STATE_KEY${
    o.reasons
      ? `
LEFT JOIN ${rf} rf ON rf.SM_RES_STATE_FACT_KEY = f.SM_RES_STATE_FACT_KEY
LEFT JOIN ${rr} rr ON rr.RESOURCE_STATE_REASON_KEY = rf.RESOURCE_STATE_REASON_KEY`
      : ""
  }
WHERE a.RESOURCE_TYPE_CODE = ? AND m.MEDIA_NAME_CODE = ?
  AND f.START_TS < ?
  AND ((? = 1 AND (f.END_TS IS NULL OR f.ACTIVE_FLAG = 1))
    OR (f.END_TS > ? AND (f.END_DATE_TIME_KEY IS NULL OR f.END_DATE_TIME_KEY >= ?)))
ORDER BY a.RESOURCE_NAME, f.START_TS, f.SM_RES_STATE_FACT_KEY${o.reasons ? ", rf.START_TS, rf.SM_RES_STATE_REASON_FACT_KEY" : ""}`
  return {
    text,
    tables: [fact, res, mt, st, ...(o.reasons ? [rf, rr] : [])],
    params: (fromS: number, toS: number, open: boolean): ReadonlyArray<unknown> => [
      "AGENT",
      o.media,
      toS,
      open ? 1 : 0,
      fromS,
      Math.floor(fromS / QUARTER_S) * QUARTER_S
    ]
  }
}

interface StateFact {
  readonly key: string
  readonly agent: string
  readonly state: string
  readonly start: number
  readonly end: number | null
  readonly reasons: Array<{ start: number; end: number | null; reason: string }>
}

/**
 * Agent statuses overlapping the window, whole. A state with reasons is split by them (a part
 * without a reason keeps the bare state); open states (`END_TS` NULL or `ACTIVE_FLAG` 1)
 * have no end and are read when `open` (the window starts before the present).
 *
 * @internal
 */
export const readStates = (
  db: Db,
  config: GenesysConfig,
  fromMs: number,
  toMs: number,
  open: boolean
): Effect.Effect<Array<Domain.AgentStatus>, Connector.ConnectorError> =>
  Effect.gen(function*() {
    const q = statesQuery(config)
    const { from, to } = secondsOf(fromMs, toMs)
    const rows = yield* db.select(q.text, q.params(from, to, open), `reading ${q.tables[0]}`, q.tables)
    const facts: Array<StateFact> = []
    for (const row of rows) {
      const key = text(row["fact_key"]) ?? "NULL"
      const record = `${q.tables[0]} SM_RES_STATE_FACT_KEY=${key}`
      let fact = facts[facts.length - 1]
      if (fact === undefined || fact.key !== key) {
        const name = text(row["agent_name"])
        const agent = config.agentStatuses.agentFrom === "EMPLOYEE_ID" ? text(row["employee_id"]) ?? name : name
        if (agent === null || agent.trim().length === 0 || agent.length > 255) {
          return yield* invalid(record, `the agent has no usable ${config.agentStatuses.agentFrom}`)
        }
        const state = text(row["state"])
        if (state === null || state.trim().length === 0) {
          return yield* invalid(record, `RESOURCE_STATE_KEY has no ${config.agentStatuses.activityFrom}`)
        }
        const start = yield* int(row["start_ts"], record, "START_TS")
        const endTs = yield* intOrNull(row["end_ts"], record, "END_TS")
        const active = (yield* intOrNull(row["active"], record, "ACTIVE_FLAG")) === 1
        const end = active ? null : endTs
        if (end !== null && end < start) {
          return yield* invalid(record, `END_TS ${iso(end)} is before START_TS ${iso(start)}`)
        }
        fact = { key, agent, state, start, end, reasons: [] }
        facts.push(fact)
      }
      if (config.agentStatuses.reasons && row["reason_key"] !== null && row["reason_key"] !== undefined) {
        const reasonRecord = `${table(config, "SM_RES_STATE_REASON_FACT")} SM_RES_STATE_REASON_FACT_KEY=${
          text(row["reason_key"])
        }`
        const reason = (text(row["software_reason"]) ?? text(row["hardware_reason"]) ?? "").trim()
        const rs = yield* int(row["reason_start"], reasonRecord, "START_TS")
        const re = yield* intOrNull(row["reason_end"], reasonRecord, "END_TS")
        if (re !== null && re < rs) {
          return yield* invalid(reasonRecord, `END_TS ${iso(re)} is before START_TS ${iso(rs)}`)
        }
        if (reason.length > 0) fact.reasons.push({ start: rs, end: re, reason })
      }
    }
    const out: Array<Domain.AgentStatus> = []
    const status = (f: StateFact, activity: string, start: number, end: number | null) => {
      if (end !== null && end <= start) return
      out.push({
        agentIdentifier: f.agent,
        activityIdentifier: activity.length > 255 ? activity.slice(0, 255) : activity,
        start: Time.utc(start * 1000),
        end: end === null ? null : Time.utc(end * 1000)
      })
    }
    const endOf = (e: number | null) => e ?? Number.POSITIVE_INFINITY
    for (const f of facts) {
      let cursor = f.start
      const stateEnd = endOf(f.end)
      for (const r of f.reasons) {
        const rs = Math.max(r.start, cursor)
        const re = Math.min(endOf(r.end), stateEnd)
        if (re <= rs) continue
        if (rs > cursor) status(f, f.state, cursor, rs)
        status(f, `${f.state}:${r.reason}`, rs, Number.isFinite(re) ? re : null)
        cursor = re
      }
      if (cursor < stateEnd) status(f, f.state, cursor, f.end)
    }
    return out
  })

// ---------------------------------------------------------------------------
// what the queries need
// ---------------------------------------------------------------------------

/**
 * The tables and columns the configured queries read, by standard table name.
 *
 * @internal
 */
export const requiredColumns = (config: GenesysConfig): ReadonlyArray<readonly [TableName, ReadonlyArray<string>]> => {
  const out = new Map<TableName, Set<string>>()
  const need = (t: TableName, ...columns: ReadonlyArray<string>) => {
    const set = out.get(t) ?? new Set<string>()
    for (const c of columns) set.add(c)
    out.set(t, set)
  }
  const types = config.contacts.interactionTypes.length > 0
  need("MEDIA_TYPE", "MEDIA_TYPE_KEY", "MEDIA_NAME_CODE")
  if (config.contacts.source === "aggregates") {
    const m = config.contacts.measures
    need("AG2_QUEUE_SUBHR", "DATE_TIME_KEY", "RESOURCE_KEY", "MEDIA_TYPE_KEY", ...measureNames.flatMap((k) => m[k] ?? []))
    need("RESOURCE_", "RESOURCE_KEY", "RESOURCE_NAME")
    if (types) {
      need("AG2_QUEUE_SUBHR", "INTERACTION_TYPE_KEY")
      need("INTERACTION_TYPE", "INTERACTION_TYPE_KEY", "INTERACTION_TYPE_CODE")
    }
  }
  if (config.contacts.source === "facts") {
    need("INTERACTION_FACT", "INTERACTION_ID", "MEDIA_TYPE_KEY", "START_DATE_TIME_KEY")
    if (types) {
      need("INTERACTION_FACT", "INTERACTION_TYPE_KEY")
      need("INTERACTION_TYPE", "INTERACTION_TYPE_KEY", "INTERACTION_TYPE_CODE")
    }
    need(
      "MEDIATION_SEGMENT_FACT",
      "MEDIATION_SEGMENT_ID",
      "INTERACTION_ID",
      "RESOURCE_KEY",
      "TARGET_IXN_RESOURCE_ID",
      "TECHNICAL_DESCRIPTOR_KEY",
      "START_DATE_TIME_KEY",
      "START_TS",
      "END_TS",
      "MEDIATION_DURATION"
    )
    need("TECHNICAL_DESCRIPTOR", "TECHNICAL_DESCRIPTOR_KEY", "TECHNICAL_RESULT_CODE", "RESOURCE_ROLE")
    need(
      "INTERACTION_RESOURCE_FACT",
      "INTERACTION_RESOURCE_ID",
      "INTERACTION_ID",
      "RESOURCE_KEY",
      "RECEIVED_FROM_IXN_RESOURCE_ID",
      "TECHNICAL_DESCRIPTOR_KEY",
      "START_DATE_TIME_KEY",
      "START_TS",
      "END_TS",
      "TALK_DURATION",
      "HOLD_DURATION",
      "AFTER_CALL_WORK_DURATION"
    )
    need("RESOURCE_", "RESOURCE_KEY", "RESOURCE_NAME", "RESOURCE_TYPE_CODE")
  }
  if (config.agentStatuses.enabled) {
    const o = config.agentStatuses
    need(
      "SM_RES_STATE_FACT",
      "SM_RES_STATE_FACT_KEY",
      "RESOURCE_KEY",
      "MEDIA_TYPE_KEY",
      "RESOURCE_STATE_KEY",
      "END_DATE_TIME_KEY",
      "START_TS",
      "END_TS",
      "ACTIVE_FLAG"
    )
    need("RESOURCE_", "RESOURCE_KEY", "RESOURCE_NAME", "RESOURCE_TYPE_CODE", "EMPLOYEE_ID")
    need("RESOURCE_STATE", "RESOURCE_STATE_KEY", o.activityFrom)
    if (o.reasons) {
      need(
        "SM_RES_STATE_REASON_FACT",
        "SM_RES_STATE_REASON_FACT_KEY",
        "SM_RES_STATE_FACT_KEY",
        "RESOURCE_STATE_REASON_KEY",
        "START_TS",
        "END_TS"
      )
      need("RESOURCE_STATE_REASON", "RESOURCE_STATE_REASON_KEY", "SOFTWARE_REASON_VALUE", "HARDWARE_REASON")
    }
  }
  return Array.from(out, ([t, cols]) => [t, Array.from(cols)] as const)
}
