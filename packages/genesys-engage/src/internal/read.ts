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
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type { GenesysConfig, TableName } from "../GenesysConfig.js"
import type { Db, Row } from "./db.js"

const QUARTER_S = 900

/** The name a standard table has in this deployment (schema-qualified when configured). @internal */
export const table = (config: GenesysConfig, name: TableName): string => {
  const actual = config.tables[name] ?? name
  return config.schema === undefined ? actual : `${config.schema}.${actual}`
}

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ")

const invalid = (record: string, reason: string) => new Connector.InvalidData({ record, reason })

/**
 * Reads an integer the driver returned (PostgreSQL gives BIGINT and SUM as strings).
 * `null`/`undefined` give `null`.
 */
const intOrNull = (value: unknown, record: string, field: string): Effect.Effect<number | null, Connector.InvalidData> => {
  if (value === null || value === undefined) return Effect.succeed(null)
  const n = typeof value === "number"
    ? value
    : typeof value === "bigint"
    ? Number(value)
    : typeof value === "string" && /^\s*-?\d+(\.0+)?\s*$/.test(value)
    ? Number(value)
    : Number.NaN
  if (!Number.isSafeInteger(n)) {
    return Effect.fail(invalid(record, `${field} is ${JSON.stringify(String(value))}, not a whole number`))
  }
  return Effect.succeed(n)
}

const int = (value: unknown, record: string, field: string): Effect.Effect<number, Connector.InvalidData> =>
  Effect.flatMap(intOrNull(value, record, field), (n) =>
    n === null ? Effect.fail(invalid(record, `${field} is empty`)) : Effect.succeed(n))

const nonNegative = (value: unknown, record: string, field: string): Effect.Effect<number, Connector.InvalidData> =>
  Effect.flatMap(int(value, record, field), (n) =>
    n < 0 ? Effect.fail(invalid(record, `${field} is negative (${n})`)) : Effect.succeed(n))

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : typeof value === "string" ? value : String(value)

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/** Seconds bounds of a window given in epoch ms: instants t (s) with from ≤ t·1000 < to. */
const secondsOf = (fromMs: number, toMs: number) => ({ from: Math.ceil(fromMs / 1000), to: Math.ceil(toMs / 1000) })

const mediaCodes = (config: GenesysConfig) => Object.keys(config.channels)

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
  "waitTime",
  "unhandledTime"
] as const

/** The aggregate SELECT for a window: one row per interval, queue and media. @internal */
export const aggregatesQuery = (config: GenesysConfig) => {
  const m = config.contacts.measures
  const sum = (columns: ReadonlyArray<string>) =>
    columns.length === 0 ? "0" : `SUM(${columns.map((c) => `COALESCE(q.${c}, 0)`).join(" + ")})`
  const allColumns = Array.from(new Set(measureNames.flatMap((k) => m[k])))
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
  ${measureNames.map((k) => `${sum(m[k])} AS m_${k.toLowerCase()}`).join(",\n  ")}
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
      start: DateTime.unsafeMake(key * 1000),
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
      shortAbandoned: 0,
      breakout: 0,
      answeredInThreshold: 0
    } satisfies Domain.IntervalAggregate
  })

// ---------------------------------------------------------------------------
// contacts from the facts
// ---------------------------------------------------------------------------

/**
 * The two fact SELECTs for a window: the queue entries (`MEDIATION_SEGMENT_FACT`) and the
 * agent legs (`INTERACTION_RESOURCE_FACT`) of the interactions that arrived in it.
 *
 * @internal
 */
export const factsQueries = (config: GenesysConfig) => {
  const types = config.contacts.interactionTypes
  const media = mediaCodes(config)
  const ixn = table(config, "INTERACTION_FACT")
  const itype = table(config, "INTERACTION_TYPE")
  const mt = table(config, "MEDIA_TYPE")
  const res = table(config, "RESOURCE_")
  const interactionFilter = `JOIN ${mt} m ON m.MEDIA_TYPE_KEY = i.MEDIA_TYPE_KEY${
    types.length > 0 ? `\nJOIN ${itype} it ON it.INTERACTION_TYPE_KEY = i.INTERACTION_TYPE_KEY` : ""
  }`
  const where = `i.START_DATE_TIME_KEY >= ? AND i.START_DATE_TIME_KEY < ? AND i.START_TS >= ? AND i.START_TS < ?
  AND m.MEDIA_NAME_CODE IN (${placeholders(media.length)})${
    types.length > 0 ? `\n  AND it.INTERACTION_TYPE_CODE IN (${placeholders(types.length)})` : ""
  }`
  const msf = table(config, "MEDIATION_SEGMENT_FACT")
  const td = table(config, "TECHNICAL_DESCRIPTOR")
  const irf = table(config, "INTERACTION_RESOURCE_FACT")
  const entries = `SELECT i.INTERACTION_ID AS interaction_id, i.START_TS AS arrival_ts, m.MEDIA_NAME_CODE AS media_code,
  s.MEDIATION_SEGMENT_ID AS segment_id, s.START_TS AS start_ts, s.END_TS AS end_ts, s.MEDIATION_DURATION AS wait_s,
  q.RESOURCE_NAME AS queue_name, s.RESOURCE_KEY AS resource_key, d.TECHNICAL_RESULT_CODE AS result_code
FROM ${ixn} i
${interactionFilter}
JOIN ${msf} s ON s.INTERACTION_ID = i.INTERACTION_ID
LEFT JOIN ${res} q ON q.RESOURCE_KEY = s.RESOURCE_KEY
LEFT JOIN ${td} d ON d.TECHNICAL_DESCRIPTOR_KEY = s.TECHNICAL_DESCRIPTOR_KEY
WHERE ${where}
ORDER BY i.INTERACTION_ID, s.START_TS, s.MEDIATION_SEGMENT_ID`
  const legs = `SELECT i.INTERACTION_ID AS interaction_id, f.INTERACTION_RESOURCE_ID AS leg_id, f.START_TS AS start_ts,
  f.END_TS AS end_ts, f.TALK_COUNT AS talk_count, f.TALK_DURATION AS talk_s, f.HOLD_DURATION AS hold_s,
  f.AFTER_CALL_WORK_DURATION AS acw_s
FROM ${ixn} i
${interactionFilter}
JOIN ${irf} f ON f.INTERACTION_ID = i.INTERACTION_ID
JOIN ${res} a ON a.RESOURCE_KEY = f.RESOURCE_KEY AND a.RESOURCE_TYPE_CODE = ?
WHERE ${where}
ORDER BY i.INTERACTION_ID, f.START_TS, f.INTERACTION_RESOURCE_ID`
  const filterParams = (startKey: number, fromS: number, toS: number) => [startKey, toS, fromS, toS, ...media, ...types]
  return {
    entries,
    legs,
    entryTables: [ixn, mt, ...(types.length > 0 ? [itype] : []), msf, res, td],
    legTables: [ixn, mt, ...(types.length > 0 ? [itype] : []), irf, res],
    entryParams: (fromS: number, toS: number): ReadonlyArray<unknown> =>
      filterParams(Math.floor(fromS / QUARTER_S) * QUARTER_S, fromS, toS),
    legParams: (fromS: number, toS: number): ReadonlyArray<unknown> => [
      "AGENT",
      ...filterParams(Math.floor(fromS / QUARTER_S) * QUARTER_S, fromS, toS)
    ]
  }
}

interface Entry {
  readonly arrival: number
  readonly media: string
  readonly queue: string
  waitS: number
  abandoned: boolean
}

interface Legs {
  talkS: number
  holdS: number
  acwS: number
  answered: boolean
}

/** Technical results that mean the caller hung up while queued. [C] @internal */
export const abandonedResults: ReadonlySet<string> = new Set(["ABANDONED"])

/**
 * One contact event per interaction that arrived in the window and entered a queue, at its
 * arrival (`INTERACTION_FACT.START_TS`), in the queue it entered first. Facts still active
 * (no `END_TS`) add nothing yet: the look-back re-import picks them up once closed.
 *
 * @internal
 */
export const readContactFacts = (
  db: Db,
  config: GenesysConfig,
  fromMs: number,
  toMs: number
): Effect.Effect<Array<Domain.ContactEvent>, Connector.ConnectorError> =>
  Effect.gen(function*() {
    const q = factsQueries(config)
    const { from, to } = secondsOf(fromMs, toMs)
    const msf = table(config, "MEDIATION_SEGMENT_FACT")
    const irf = table(config, "INTERACTION_RESOURCE_FACT")
    const entryRows = yield* db.select(q.entries, q.entryParams(from, to), `reading ${msf}`, q.entryTables)
    const legRows = yield* db.select(q.legs, q.legParams(from, to), `reading ${irf}`, q.legTables)
    const entries = new Map<string, Entry>()
    for (const row of entryRows) {
      const id = text(row["interaction_id"]) ?? ""
      const record = `${msf} MEDIATION_SEGMENT_ID=${text(row["segment_id"]) ?? "NULL"} (INTERACTION_ID=${id})`
      const arrival = yield* int(row["arrival_ts"], record, "INTERACTION_FACT.START_TS")
      const start = yield* int(row["start_ts"], record, "START_TS")
      const end = yield* intOrNull(row["end_ts"], record, "END_TS")
      const queue = text(row["queue_name"])
      if (queue === null || queue.trim().length === 0) {
        return yield* invalid(record, `RESOURCE_KEY ${text(row["resource_key"]) ?? "NULL"} has no queue in RESOURCE_`)
      }
      let waitS = 0
      if (end !== null) {
        if (end < start) return yield* invalid(record, `END_TS ${iso(end)} is before START_TS ${iso(start)}`)
        const duration = yield* intOrNull(row["wait_s"], record, "MEDIATION_DURATION")
        waitS = duration ?? end - start
        if (waitS < 0) return yield* invalid(record, `MEDIATION_DURATION is negative (${waitS})`)
      }
      const abandoned = end !== null && abandonedResults.has(text(row["result_code"]) ?? "")
      const existing = entries.get(id)
      if (existing) {
        existing.waitS += waitS
        existing.abandoned = existing.abandoned || abandoned
      } else {
        entries.set(id, { arrival, media: text(row["media_code"]) ?? "", queue, waitS, abandoned })
      }
    }
    const legs = new Map<string, Legs>()
    for (const row of legRows) {
      const id = text(row["interaction_id"]) ?? ""
      const record = `${irf} INTERACTION_RESOURCE_ID=${text(row["leg_id"]) ?? "NULL"} (INTERACTION_ID=${id})`
      const start = yield* int(row["start_ts"], record, "START_TS")
      const end = yield* intOrNull(row["end_ts"], record, "END_TS")
      if (end === null) continue
      if (end < start) return yield* invalid(record, `END_TS ${iso(end)} is before START_TS ${iso(start)}`)
      const talkCount = (yield* intOrNull(row["talk_count"], record, "TALK_COUNT")) ?? 0
      const talk = yield* nonNegative(row["talk_s"], record, "TALK_DURATION")
      const hold = yield* nonNegative(row["hold_s"], record, "HOLD_DURATION")
      const acw = yield* nonNegative(row["acw_s"], record, "AFTER_CALL_WORK_DURATION")
      const sum = legs.get(id) ?? { talkS: 0, holdS: 0, acwS: 0, answered: false }
      sum.talkS += talk
      sum.holdS += hold
      sum.acwS += acw
      sum.answered = sum.answered || talkCount > 0 || talk > 0
      legs.set(id, sum)
    }
    const out: Array<Domain.ContactEvent> = []
    for (const [id, e] of entries) {
      const channel = config.channels[e.media]
      if (channel === undefined) continue
      if (config.contacts.queues.length > 0 && !config.contacts.queues.includes(e.queue)) continue
      const l = legs.get(id)
      const handled = l?.answered ?? false
      const handlingS = l ? l.talkS + l.holdS + l.acwS : 0
      out.push({
        queueIdentifier: e.queue,
        queueName: e.queue,
        channel,
        timestamp: DateTime.unsafeMake(e.arrival * 1000),
        offered: true,
        handled,
        durationMs: (handled ? handlingS : e.waitS) * 1000,
        talkMs: (l?.talkS ?? 0) * 1000,
        holdMs: (l?.holdS ?? 0) * 1000,
        afterCallWorkMs: (l?.acwS ?? 0) * 1000,
        waitMs: e.waitS * 1000,
        abandoned: !handled && e.abandoned
      })
    }
    return out
  })

// ---------------------------------------------------------------------------
// agent states
// ---------------------------------------------------------------------------

/** The agent state SELECT (states overlapping a window, with their reasons). @internal */
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
  AND f.START_DATE_TIME_KEY >= ? AND f.START_TS < ?
  AND (f.END_TS IS NULL OR f.END_TS > ? OR f.ACTIVE_FLAG = 1)
ORDER BY a.RESOURCE_NAME, f.START_TS, f.SM_RES_STATE_FACT_KEY${o.reasons ? ", rf.START_TS, rf.SM_RES_STATE_REASON_FACT_KEY" : ""}`
  return {
    text,
    tables: [fact, res, mt, st, ...(o.reasons ? [rf, rr] : [])],
    params: (fromS: number, toS: number): ReadonlyArray<unknown> => [
      "AGENT",
      o.media,
      Math.floor((fromS - o.maxStateHours * 3600) / QUARTER_S) * QUARTER_S,
      toS,
      fromS
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
 * Agent statuses overlapping the window. A state with reasons is split by them (a part
 * without a reason keeps the bare state); open states (`END_TS` NULL or `ACTIVE_FLAG` 1)
 * have no end.
 *
 * @internal
 */
export const readStates = (
  db: Db,
  config: GenesysConfig,
  fromMs: number,
  toMs: number
): Effect.Effect<Array<Domain.AgentStatus>, Connector.ConnectorError> =>
  Effect.gen(function*() {
    const q = statesQuery(config)
    const { from, to } = secondsOf(fromMs, toMs)
    const rows = yield* db.select(q.text, q.params(from, to), `reading ${q.tables[0]}`, q.tables)
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
        start: DateTime.unsafeMake(start * 1000),
        end: end === null ? null : DateTime.unsafeMake(end * 1000)
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
    need("AG2_QUEUE_SUBHR", "DATE_TIME_KEY", "RESOURCE_KEY", "MEDIA_TYPE_KEY", ...measureNames.flatMap((k) => m[k]))
    need("RESOURCE_", "RESOURCE_KEY", "RESOURCE_NAME")
    if (types) {
      need("AG2_QUEUE_SUBHR", "INTERACTION_TYPE_KEY")
      need("INTERACTION_TYPE", "INTERACTION_TYPE_KEY", "INTERACTION_TYPE_CODE")
    }
  }
  if (config.contacts.source === "facts") {
    need("INTERACTION_FACT", "INTERACTION_ID", "MEDIA_TYPE_KEY", "START_TS", "START_DATE_TIME_KEY")
    if (types) {
      need("INTERACTION_FACT", "INTERACTION_TYPE_KEY")
      need("INTERACTION_TYPE", "INTERACTION_TYPE_KEY", "INTERACTION_TYPE_CODE")
    }
    need(
      "MEDIATION_SEGMENT_FACT",
      "MEDIATION_SEGMENT_ID",
      "INTERACTION_ID",
      "RESOURCE_KEY",
      "TECHNICAL_DESCRIPTOR_KEY",
      "START_TS",
      "END_TS",
      "MEDIATION_DURATION"
    )
    need("TECHNICAL_DESCRIPTOR", "TECHNICAL_DESCRIPTOR_KEY", "TECHNICAL_RESULT_CODE")
    need(
      "INTERACTION_RESOURCE_FACT",
      "INTERACTION_RESOURCE_ID",
      "INTERACTION_ID",
      "RESOURCE_KEY",
      "START_TS",
      "END_TS",
      "TALK_COUNT",
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
      "START_DATE_TIME_KEY",
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
