/**
 * A Genesys Info Mart simulator: the tables of vendors README §3.8 in SQLite or PostgreSQL,
 * filled from a `Scenario` (from `@acd-bridge/testkit`) the way the Info Mart ETL fills them.
 *
 * `tick(at)` runs the ETL up to `at` (minus `etlLagSeconds`):
 *
 * - facts that started are inserted **active** (`END_TS` NULL, `ACTIVE_FLAG` 1, durations
 *   NULL) and **closed** by a later tick (end, durations, result filled in);
 * - `AG2_QUEUE_SUBHR` rows are (re)written for every interval with arrivals, with what is
 *   known at that time: a contact counts as entered at once, as accepted or abandoned when
 *   that happened, and its engage, hold and wrap time land in its arrival interval only when it
 *   is finished, so earlier intervals are back-filled late;
 * - aggregate rows are split by `USER_DATA_KEY1` (a connector that does not SUM breaks), and
 *   internal consultations are added as noise under another `INTERACTION_TYPE` (a connector
 *   that does not filter on `INTERACTION_TYPE_CODE` counts them);
 * - surrogate keys are deliberately odd (voice is `MEDIA_TYPE_KEY` 7, inbound is
 *   `INTERACTION_TYPE_KEY` 4), so only `*_CODE` filters work;
 * - agent states are Info Mart's summarised states: Talk and Hold are `Busy`, Break and Lunch
 *   are `NotReady` with a reason (`SM_RES_STATE_REASON_FACT`), adjacent equal states are one
 *   row; every agent also has a `Ready` state on the chat media, which a connector reading one
 *   media must leave out.
 *
 * Beyond §3.8, `AG2_QUEUE_SUBHR` also has `ACCEPTED_TIME` (seconds waited by accepted
 * contacts, a measure seen in RAA exports) and `ABANDONED_TIME` (seconds waited by abandoned
 * ones; its existence in RAA is unverified), so a configuration mapping wait time can be tested.
 *
 * @since 0.1.0
 */
import type { Domain } from "@acd-bridge/core"
import type { Scenario as ScenarioModule } from "@acd-bridge/testkit"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { indexes, tables } from "./internal/ddl.js"

type Scenario = ScenarioModule.Scenario
type AgentState = ScenarioModule.AgentState

const QUARTER_S = 900

/** @since 0.1.0 @category models */
export interface Options {
  /** facts reach the Info Mart this many seconds after they happen (default 0) */
  readonly etlLagSeconds?: number | undefined
  /** aggregate rows per interval, queue and media, split by USER_DATA_KEY1 (default 3) */
  readonly splits?: number | undefined
  /** add internal consultations that a connector must filter out (default true) */
  readonly noise?: boolean | undefined
  /** PostgreSQL schema to create the tables in (default: the search path) */
  readonly schema?: string | undefined
}

/** @since 0.1.0 @category models */
export interface TickReport {
  /** the ETL time (epoch ms) the database now reflects */
  readonly etlTime: number
  readonly inserted: number
  readonly closed: number
  readonly aggregateRows: number
}

/** @since 0.1.0 @category models */
export interface GenesysSimulator {
  readonly scenario: Scenario
  readonly dialect: "sqlite" | "pg"
  /** Runs the ETL up to `at` (an instant): inserts, closes and back-fills. Never goes back. */
  readonly tick: (at: DateTime.DateTime.Input) => Effect.Effect<TickReport, SqlError>
  /** the table name to use in SQL (schema-qualified when a schema was given) */
  readonly table: (name: string) => string
  /** the `RESOURCE_NAME` of a scenario queue (by identifier) */
  readonly queueName: (queueIdentifier: string) => string
}

/** `MEDIA_TYPE` rows: key, name, code (keys deliberately not 1, 2, 3). @since 0.1.0 @category constants */
export const media = [
  { key: 7, name: "Voice", code: "VOICE" },
  { key: 11, name: "Chat", code: "CHAT" },
  { key: 3, name: "E-Mail", code: "EMAIL" },
  { key: 14, name: "SMS", code: "SMS" },
  { key: 19, name: "Workitem", code: "WORKITEM" },
  { key: 23, name: "Document", code: "OPENMEDIA_DOCUMENT" },
  { key: 29, name: "Case", code: "OPENMEDIA_CASE" }
] as const

const channelMedia: Record<Domain.Channel, number> = {
  calls: 7,
  chats: 11,
  emails: 3,
  social_media: 14,
  back_office: 19,
  documents: 23,
  cases: 29
}

const interactionTypes = [
  { key: 4, name: "Inbound", code: "INBOUND" },
  { key: 2, name: "Internal", code: "INTERNAL" },
  { key: 9, name: "Outbound", code: "OUTBOUND" }
] as const
const INBOUND = 4
const INTERNAL = 2

const resourceStates = [
  { key: 5, type: "Ready", typeCode: "READY", name: "Ready", code: "READY" },
  { key: 6, type: "NotReady", typeCode: "NOT_READY", name: "NotReady", code: "NOT_READY" },
  { key: 3, type: "Busy", typeCode: "BUSY", name: "Busy", code: "BUSY" },
  { key: 8, type: "AfterCallWork", typeCode: "AFTER_CALL_WORK", name: "AfterCallWork", code: "AFTER_CALL_WORK" },
  { key: 1, type: "LoggedOnOnly", typeCode: "LOGGED_ON_ONLY", name: "LoggedOnOnly", code: "LOGGED_ON_ONLY" }
] as const

const reasons = [
  { key: 41, value: "Break", hardware: "" },
  { key: 42, value: "Lunch", hardware: "" }
] as const

const descriptors = [
  { key: 21, result: "Completed", code: "COMPLETED", reason: "Unspecified", role: "Received" },
  { key: 22, result: "Transferred", code: "TRANSFERRED", reason: "Unspecified", role: "Received" },
  { key: 23, result: "Completed", code: "COMPLETED", reason: "Unspecified", role: "ReceivedTransfer" },
  { key: 24, result: "Abandoned", code: "ABANDONED", reason: "AbandonedWhileQueued", role: "Received" },
  { key: 25, result: "Diverted", code: "DIVERTED", reason: "Unspecified", role: "Received" }
] as const
const TD_COMPLETED = 21
const TD_TRANSFERRED = 22
const TD_COMPLETED_TRANSFER = 23
const TD_ABANDONED = 24
const TD_DIVERTED = 25

/** Scenario activity → Info Mart state key and reason key. */
const stateOf = (activity: ScenarioModule.Activity): { state: number; reason: number | null } => {
  switch (activity) {
    case "Ready":
      return { state: 5, reason: null }
    case "Talk":
    case "Hold":
      return { state: 3, reason: null }
    case "AfterCallWork":
      return { state: 8, reason: null }
    case "Break":
      return { state: 6, reason: 41 }
    case "Lunch":
      return { state: 6, reason: 42 }
  }
}

/**
 * The activity identifier the connector (default config: `STATE_NAME`, reasons on) gives a
 * scenario state: `Ready`, `Busy` (Talk and Hold), `AfterCallWork`, `NotReady:Break`,
 * `NotReady:Lunch`.
 *
 * @since 0.1.0 @category expectations
 */
export const activityOf = (state: Pick<AgentState, "activity">): string => {
  const s = stateOf(state.activity)
  const name = resourceStates.find((r) => r.key === s.state)!.name
  const reason = reasons.find((r) => r.key === s.reason)
  return reason ? `${name}:${reason.value}` : name
}

// ---------------------------------------------------------------------------
// rows
// ---------------------------------------------------------------------------

type Value = number | string | null
type RowValues = Record<string, Value>

interface FactRow {
  /** table (standard name, lower case) */
  readonly table: string
  readonly pkColumn: string
  readonly pk: number
  /** instant (s) from which the row exists */
  readonly visibleFrom: number
  /** instant (s) from which it is closed; null: never */
  readonly closedFrom: number | null
  readonly open: () => RowValues
  readonly closed: () => RowValues
}

const dtKey = (s: number) => Math.floor(s / QUARTER_S) * QUARTER_S
const sec = (ms: number) => Math.round(ms / 1000)

interface GimState {
  readonly agentKey: number
  readonly mediaKey: number
  readonly state: number
  readonly start: number
  readonly end: number
  readonly reasons: Array<{ reason: number; start: number; end: number }>
}

const buildStates = (scenario: Scenario, agentKeys: ReadonlyMap<string, number>, merged: ReadonlyArray<AgentState>) => {
  const byAgent = new Map<string, Array<AgentState>>()
  for (const s of merged) {
    const list = byAgent.get(s.agentId) ?? []
    list.push(s)
    byAgent.set(s.agentId, list)
  }
  const out: Array<GimState> = []
  for (const [agentId, list] of byAgent) {
    const agentKey = agentKeys.get(agentId)!
    list.sort((a, b) => a.start - b.start)
    let current: GimState | undefined
    for (const s of list) {
      const { reason, state } = stateOf(s.activity)
      const start = sec(s.start)
      const end = sec(s.end)
      if (end <= start) continue
      if (current !== undefined && current.state === state && current.end === start) {
        current = { ...current, end }
        out[out.length - 1] = current
      } else {
        current = { agentKey, mediaKey: 7, state, start, end, reasons: [] }
        out.push(current)
      }
      if (reason !== null) {
        const last = current.reasons[current.reasons.length - 1]
        if (last !== undefined && last.reason === reason && last.end === start) last.end = end
        else current.reasons.push({ reason, start, end })
      }
    }
  }
  // chat media: the agent is Ready on chat for the whole shift
  for (const agent of scenario.agents) {
    const agentKey = agentKeys.get(agent.id)!
    for (const shift of agent.shifts) {
      out.push({ agentKey, mediaKey: 11, state: 5, start: sec(shift.login), end: sec(shift.logout), reasons: [] })
    }
  }
  return out.sort((a, b) => a.start - b.start || a.agentKey - b.agentKey || a.mediaKey - b.mediaKey)
}

// ---------------------------------------------------------------------------
// the simulator
// ---------------------------------------------------------------------------

/**
 * Creates the schema in the database of the `SqlClient` in context (SQLite or PostgreSQL),
 * fills the dimensions and prepares the facts of `scenario`. Nothing of the scenario is
 * visible before the first `tick`.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  scenario: Scenario,
  options: Options = {}
): Effect.Effect<GenesysSimulator, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // testkit is an optional peer: imported here, where a scenario (which only testkit makes) is
    // in hand, not at the top, where it would break `import "@acd-bridge/genesys-engage"` for
    // every host that runs the connector without it. Its Scenario subpath loads no test runner.
    const { trimOverlaps } = yield* Effect.promise(() => import("@acd-bridge/testkit/Scenario"))
    const dialect: "sqlite" | "pg" = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })
    const schema = options.schema
    const tableName = (name: string) => (schema === undefined ? name.toLowerCase() : `${schema}.${name.toLowerCase()}`)
    const lagS = Math.round(options.etlLagSeconds ?? 0)
    const splits = Math.max(1, Math.floor(options.splits ?? 3))
    const noise = options.noise ?? true
    const placeholder = (i: number) => (dialect === "pg" ? `$${i}` : "?")

    const exec = (text: string, params: ReadonlyArray<Value> = []) => sql.unsafe(text, params as Array<Value>)

    const insert = (table: string, rows: ReadonlyArray<RowValues>) =>
      Effect.gen(function*() {
        if (rows.length === 0) return
        const columns = Object.keys(rows[0]!)
        const perChunk = Math.max(1, Math.floor(900 / columns.length))
        for (let i = 0; i < rows.length; i += perChunk) {
          const chunk = rows.slice(i, i + perChunk)
          const params: Array<Value> = []
          const tuples = chunk.map((row) =>
            `(${
              columns.map((c) => {
                params.push(row[c] ?? null)
                return placeholder(params.length)
              }).join(", ")
            })`
          )
          yield* exec(`INSERT INTO ${tableName(table)} (${columns.join(", ")}) VALUES ${tuples.join(", ")}`, params)
        }
      })

    const deleteKeys = (table: string, pkColumn: string, keys: ReadonlyArray<number>) =>
      Effect.gen(function*() {
        for (let i = 0; i < keys.length; i += 500) {
          const chunk = keys.slice(i, i + 500)
          yield* exec(
            `DELETE FROM ${tableName(table)} WHERE ${pkColumn} IN (${chunk.map((_, j) => placeholder(j + 1)).join(", ")})`,
            chunk
          )
        }
      })

    // --- schema
    if (schema !== undefined && dialect === "pg") yield* exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    for (const [name, ddl] of tables) {
      yield* exec(ddl.replace(`CREATE TABLE ${name} `, `CREATE TABLE ${tableName(name)} `))
    }
    // beyond §3.8: wait-time measures (see the module doc)
    yield* exec(`ALTER TABLE ${tableName("AG2_QUEUE_SUBHR")} ADD COLUMN ACCEPTED_TIME INTEGER`)
    yield* exec(`ALTER TABLE ${tableName("AG2_QUEUE_SUBHR")} ADD COLUMN ABANDONED_TIME INTEGER`)
    for (const ddl of indexes) {
      yield* exec(ddl.replace(/ ON (\w+) /, (_, t: string) => ` ON ${tableName(t)} `))
    }

    // --- dimensions
    const queueKeys = new Map<string, number>()
    const queueNames = new Map<string, string>()
    scenario.queues.forEach((q, i) => {
      queueKeys.set(q.identifier, 101 + i * 3)
      queueNames.set(q.identifier, q.name)
    })
    const agentKeys = new Map<string, number>()
    scenario.agents.forEach((a, i) => agentKeys.set(a.id, 2003 + i * 7))

    yield* insert("MEDIA_TYPE", media.map((m) => ({ media_type_key: m.key, media_name: m.name, media_name_code: m.code, is_online: 1 })))
    yield* insert(
      "INTERACTION_TYPE",
      interactionTypes.map((t) => ({
        interaction_type_key: t.key,
        interaction_type: t.name,
        interaction_type_code: t.code,
        interaction_subtype_code: t.code === "INTERNAL" ? "CONSULT" : "INBOUNDNEW"
      }))
    )
    yield* insert("RESOURCE_", [
      ...scenario.queues.map((q) => ({
        resource_key: queueKeys.get(q.identifier)!,
        tenant_key: 1,
        resource_name: q.name,
        resource_type: "Queue",
        resource_type_code: "QUEUE",
        resource_subtype: "VirtualQueue",
        agent_first_name: null,
        agent_last_name: null,
        employee_id: null
      })),
      ...scenario.agents.map((a, i) => ({
        resource_key: agentKeys.get(a.id)!,
        tenant_key: 1,
        resource_name: a.id,
        resource_type: "Agent",
        resource_type_code: "AGENT",
        resource_subtype: "Agent",
        agent_first_name: a.name.split(" ")[0] ?? a.name,
        agent_last_name: a.name.split(" ")[1] ?? "",
        employee_id: `E-${String(i + 1).padStart(4, "0")}`
      }))
    ])
    yield* insert(
      "RESOURCE_STATE",
      resourceStates.map((s) => ({
        resource_state_key: s.key,
        state_type: s.type,
        state_type_code: s.typeCode,
        state_name: s.name,
        state_name_code: s.code
      }))
    )
    yield* insert(
      "RESOURCE_STATE_REASON",
      reasons.map((r) => ({
        resource_state_reason_key: r.key,
        tenant_key: 1,
        reason_type: "Software",
        reason_type_code: "SOFTWARE",
        hardware_reason: r.hardware,
        software_reason_key: "ReasonCode",
        software_reason_value: r.value,
        workmode: "Unknown",
        workmode_code: "UNKNOWN"
      }))
    )
    yield* insert(
      "TECHNICAL_DESCRIPTOR",
      descriptors.map((d) => ({
        technical_descriptor_key: d.key,
        technical_result: d.result,
        technical_result_code: d.code,
        result_reason: d.reason,
        resource_role: d.role
      }))
    )
    {
      const rows: Array<RowValues> = []
      const first = dtKey(sec(scenario.from)) - 86_400
      const last = dtKey(sec(scenario.to)) + 2 * 86_400
      for (let k = first; k <= last; k += QUARTER_S) {
        const iso = new Date(k * 1000).toISOString()
        rows.push({
          date_time_key: k,
          cal_date: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
          label_yyyy_mm_dd: iso.slice(0, 10),
          date_time_hour_key: Math.floor(k / 3600) * 3600
        })
      }
      yield* insert("DATE_TIME", rows)
    }

    // --- facts of the scenario
    const facts: Array<FactRow> = []
    const noiseIxns: Array<{ n: number; queueKey: number; mediaKey: number; agentKey: number; start: number; talk: number }> =
      []
    scenario.contacts.forEach((c, index) => {
      const n = index + 1
      const queueKey = queueKeys.get(c.queueIdentifier)!
      const mediaKey = channelMedia[c.channel]
      const arrival = sec(c.arrival)
      const wait = sec(c.waitMs)
      const answered = arrival + wait
      const completion = sec(c.completion)
      const ixnId = 1_000_000 + n
      const legIds = c.legs.map((_, i) => 3_000_000 + n * 4 + i)
      const ixf = (closed: boolean): RowValues => ({
        interaction_id: ixnId,
        tenant_key: 1,
        interaction_type_key: INBOUND,
        media_type_key: mediaKey,
        media_server_ixn_guid: `0${n.toString(16).padStart(15, "0")}`,
        source_address: `+4930${String(n).padStart(7, "0")}`,
        target_address: c.queueName,
        status: closed ? 1 : 0,
        start_ts: arrival,
        end_ts: closed ? completion : null,
        start_date_time_key: dtKey(arrival),
        end_date_time_key: closed ? dtKey(completion) : null
      })
      facts.push({
        table: "INTERACTION_FACT",
        pkColumn: "interaction_id",
        pk: ixnId,
        visibleFrom: arrival,
        closedFrom: completion,
        open: () => ixf(false),
        closed: () => ixf(true)
      })
      const msf = (closed: boolean): RowValues => ({
        mediation_segment_id: 5_000_000 + n,
        interaction_id: ixnId,
        resource_key: queueKey,
        target_ixn_resource_id: closed && c.handled ? legIds[0]! : null,
        media_type_key: mediaKey,
        technical_descriptor_key: closed ? (c.handled ? TD_DIVERTED : TD_ABANDONED) : null,
        start_date_time_key: dtKey(arrival),
        start_ts: arrival,
        end_ts: closed ? answered : null,
        mediation_duration: closed ? wait : null
      })
      facts.push({
        table: "MEDIATION_SEGMENT_FACT",
        pkColumn: "mediation_segment_id",
        pk: 5_000_000 + n,
        visibleFrom: arrival,
        closedFrom: answered,
        open: () => msf(false),
        closed: () => msf(true)
      })
      c.legs.forEach((leg, i) => {
        const start = sec(leg.start)
        const end = start + sec(leg.talkMs) + sec(leg.holdMs) + sec(leg.afterCallWorkMs)
        const irf = (closed: boolean): RowValues => ({
          interaction_resource_id: legIds[i]!,
          interaction_id: ixnId,
          resource_key: agentKeys.get(leg.agentId)!,
          last_vqueue_resource_key: queueKey,
          media_type_key: mediaKey,
          interaction_type_key: INBOUND,
          technical_descriptor_key: closed ? (leg.transferred ? TD_TRANSFERRED : i === 0 ? TD_COMPLETED : TD_COMPLETED_TRANSFER) : null,
          start_date_time_key: dtKey(start),
          start_ts: start,
          end_ts: closed ? end : null,
          ring_duration: closed ? 0 : null,
          talk_count: closed ? 1 : null,
          talk_duration: closed ? sec(leg.talkMs) : null,
          hold_duration: closed ? sec(leg.holdMs) : null,
          after_call_work_count: closed ? 1 : null,
          after_call_work_duration: closed ? sec(leg.afterCallWorkMs) : null
        })
        facts.push({
          table: "INTERACTION_RESOURCE_FACT",
          pkColumn: "interaction_resource_id",
          pk: legIds[i]!,
          visibleFrom: start,
          closedFrom: end,
          open: () => irf(false),
          closed: () => irf(true)
        })
        if (noise && i === 0 && n % 7 === 0) {
          noiseIxns.push({ n, queueKey, mediaKey, agentKey: agentKeys.get(leg.agentId)!, start: start + 5, talk: 20 })
        }
      })
      if (c.abandoned) {
        // the queue's own resource row: the mediation ended in an abandon
        const row = (): RowValues => ({
          interaction_resource_id: 3_000_000 + n * 4 + 3,
          interaction_id: ixnId,
          resource_key: queueKey,
          last_vqueue_resource_key: queueKey,
          media_type_key: mediaKey,
          interaction_type_key: INBOUND,
          technical_descriptor_key: TD_ABANDONED,
          start_date_time_key: dtKey(arrival),
          start_ts: arrival,
          end_ts: answered,
          ring_duration: 0,
          talk_count: 0,
          talk_duration: 0,
          hold_duration: 0,
          after_call_work_count: 0,
          after_call_work_duration: 0
        })
        facts.push({
          table: "INTERACTION_RESOURCE_FACT",
          pkColumn: "interaction_resource_id",
          pk: 3_000_000 + n * 4 + 3,
          visibleFrom: answered,
          closedFrom: answered,
          open: row,
          closed: row
        })
      }
    })
    // internal consultations: queued and talked, but not inbound contacts
    for (const x of noiseIxns) {
      const ixnId = 8_000_000 + x.n
      const end = x.start + x.talk
      const ixn = (closed: boolean): RowValues => ({
        interaction_id: ixnId,
        tenant_key: 1,
        interaction_type_key: INTERNAL,
        media_type_key: x.mediaKey,
        media_server_ixn_guid: `1${x.n.toString(16).padStart(15, "0")}`,
        source_address: "internal",
        target_address: "internal",
        status: closed ? 1 : 0,
        start_ts: x.start,
        end_ts: closed ? end : null,
        start_date_time_key: dtKey(x.start),
        end_date_time_key: closed ? dtKey(end) : null
      })
      facts.push({
        table: "INTERACTION_FACT",
        pkColumn: "interaction_id",
        pk: ixnId,
        visibleFrom: x.start,
        closedFrom: end,
        open: () => ixn(false),
        closed: () => ixn(true)
      })
      const msf = (): RowValues => ({
        mediation_segment_id: 8_500_000 + x.n,
        interaction_id: ixnId,
        resource_key: x.queueKey,
        target_ixn_resource_id: 8_700_000 + x.n,
        media_type_key: x.mediaKey,
        technical_descriptor_key: TD_DIVERTED,
        start_date_time_key: dtKey(x.start),
        start_ts: x.start,
        end_ts: x.start,
        mediation_duration: 0
      })
      facts.push({
        table: "MEDIATION_SEGMENT_FACT",
        pkColumn: "mediation_segment_id",
        pk: 8_500_000 + x.n,
        visibleFrom: x.start,
        closedFrom: x.start,
        open: msf,
        closed: msf
      })
      const irf = (closed: boolean): RowValues => ({
        interaction_resource_id: 8_700_000 + x.n,
        interaction_id: ixnId,
        resource_key: x.agentKey,
        last_vqueue_resource_key: x.queueKey,
        media_type_key: x.mediaKey,
        interaction_type_key: INTERNAL,
        technical_descriptor_key: closed ? TD_COMPLETED : null,
        start_date_time_key: dtKey(x.start),
        start_ts: x.start,
        end_ts: closed ? end : null,
        ring_duration: closed ? 0 : null,
        talk_count: closed ? 1 : null,
        talk_duration: closed ? x.talk : null,
        hold_duration: closed ? 0 : null,
        after_call_work_count: closed ? 0 : null,
        after_call_work_duration: closed ? 0 : null
      })
      facts.push({
        table: "INTERACTION_RESOURCE_FACT",
        pkColumn: "interaction_resource_id",
        pk: 8_700_000 + x.n,
        visibleFrom: x.start,
        closedFrom: end,
        open: () => irf(false),
        closed: () => irf(true)
      })
    }
    // agent states
    {
      // Info Mart merges what a vendor with overlapping states reports: start from the trimmed timeline
      const merged = trimmedStates(scenario, trimOverlaps)
      const states = buildStates(scenario, agentKeys, merged)
      let reasonKey = 9_500_000
      states.forEach((s, i) => {
        const key = 9_000_000 + i
        const row = (closed: boolean): RowValues => ({
          sm_res_state_fact_key: key,
          tenant_key: 1,
          media_type_key: s.mediaKey,
          resource_key: s.agentKey,
          resource_state_key: s.state,
          sm_res_session_fact_key: 7_000_000 + s.agentKey,
          start_date_time_key: dtKey(s.start),
          end_date_time_key: closed ? dtKey(s.end) : null,
          start_ts: s.start,
          end_ts: closed ? s.end : null,
          total_duration: closed ? s.end - s.start : null,
          active_flag: closed ? 0 : 1,
          create_audit_key: 1,
          update_audit_key: 1
        })
        facts.push({
          table: "SM_RES_STATE_FACT",
          pkColumn: "sm_res_state_fact_key",
          pk: key,
          visibleFrom: s.start,
          closedFrom: s.end,
          open: () => row(false),
          closed: () => row(true)
        })
        for (const r of s.reasons) {
          const rk = reasonKey++
          const reasonRow = (closed: boolean): RowValues => ({
            sm_res_state_reason_fact_key: rk,
            sm_res_state_fact_key: key,
            tenant_key: 1,
            media_type_key: s.mediaKey,
            resource_key: s.agentKey,
            resource_state_reason_key: r.reason,
            start_date_time_key: dtKey(r.start),
            end_date_time_key: closed ? dtKey(r.end) : null,
            start_ts: r.start,
            end_ts: closed ? r.end : null,
            total_duration: closed ? r.end - r.start : null,
            create_audit_key: 1,
            update_audit_key: 1
          })
          facts.push({
            table: "SM_RES_STATE_REASON_FACT",
            pkColumn: "sm_res_state_reason_fact_key",
            pk: rk,
            visibleFrom: r.start,
            closedFrom: r.end,
            open: () => reasonRow(false),
            closed: () => reasonRow(true)
          })
        }
      })
    }

    // --- aggregates as known at an ETL time
    const aggregatesAt = (t: number): Map<number, Array<RowValues>> => {
      type Sums = Record<string, number>
      const groups = new Map<string, { interval: number; dims: RowValues; m: Sums }>()
      const add = (interval: number, dims: RowValues, m: Sums) => {
        const key = JSON.stringify([interval, dims])
        const g = groups.get(key)
        if (!g) {
          groups.set(key, { interval, dims, m: { ...m } })
          return
        }
        for (const [k, v] of Object.entries(m)) {
          g.m[k] = k === "accepted_time_max" ? Math.max(g.m[k] ?? 0, v) : (g.m[k] ?? 0) + v
        }
      }
      scenario.contacts.forEach((c, index) => {
        const arrival = sec(c.arrival)
        if (arrival > t) return
        const wait = sec(c.waitMs)
        const answered = c.handled && arrival + wait <= t
        const abandoned = c.abandoned && arrival + wait <= t
        const done = sec(c.completion) <= t
        let talk = 0, hold = 0, wrap = 0
        for (const l of c.legs) {
          talk += sec(l.talkMs)
          hold += sec(l.holdMs)
          wrap += sec(l.afterCallWorkMs)
        }
        add(dtKey(arrival), {
          resource_key: queueKeys.get(c.queueIdentifier)!,
          media_type_key: channelMedia[c.channel],
          interaction_type_key: INBOUND,
          user_data_key1: index % splits
        }, {
          entered: 1,
          distributed_: answered ? 1 : 0,
          accepted: answered ? 1 : 0,
          accepted_agent: answered ? 1 : 0,
          accepted_time_max: answered ? wait : 0,
          abandoned: abandoned ? 1 : 0,
          engage_time: done ? talk : 0,
          hold_time: done ? hold : 0,
          wrap_time: done ? wrap : 0,
          accepted_time: answered ? wait : 0,
          abandoned_time: abandoned ? wait : 0
        })
      })
      for (const x of noiseIxns) {
        if (x.start > t) continue
        const done = x.start + x.talk <= t
        add(dtKey(x.start), {
          resource_key: x.queueKey,
          media_type_key: x.mediaKey,
          interaction_type_key: INTERNAL,
          user_data_key1: 0
        }, {
          entered: 1,
          distributed_: 1,
          accepted: 1,
          accepted_agent: 1,
          accepted_time_max: 0,
          abandoned: 0,
          engage_time: done ? x.talk : 0,
          hold_time: 0,
          wrap_time: 0,
          accepted_time: 0,
          abandoned_time: 0
        })
      }
      const byInterval = new Map<number, Array<RowValues>>()
      for (const g of groups.values()) {
        const rows = byInterval.get(g.interval) ?? []
        rows.push({
          date_time_key: g.interval,
          tenant_key: 1,
          ...g.dims,
          resource_group_combination_key: 17,
          user_data_key2: 0,
          entered: g.m["entered"] ?? 0,
          consult_entered: 0,
          redirected: 0,
          routed_other: 0,
          abandoned: g.m["abandoned"] ?? 0,
          abandoned_invite: 0,
          cleared: 0,
          distributed_: g.m["distributed_"] ?? 0,
          accepted: g.m["accepted"] ?? 0,
          accepted_agent: g.m["accepted_agent"] ?? 0,
          accepted_time_max: g.m["accepted_time_max"] ?? 0,
          engage_time: g.m["engage_time"] ?? 0,
          hold_time: g.m["hold_time"] ?? 0,
          wrap_time: g.m["wrap_time"] ?? 0,
          accepted_time: g.m["accepted_time"] ?? 0,
          abandoned_time: g.m["abandoned_time"] ?? 0
        })
        byInterval.set(g.interval, rows)
      }
      return byInterval
    }

    // --- the ETL
    const written = new Map<string, "open" | "closed">()
    const writtenAggregates = new Map<number, string>()
    let etlTime = Number.NEGATIVE_INFINITY
    const lock = yield* Effect.makeSemaphore(1)

    const tick = (at: DateTime.DateTime.Input) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const t = sec(DateTime.toEpochMillis(DateTime.unsafeMake(at))) - lagS
        if (t <= etlTime) return { etlTime: etlTime * 1000, inserted: 0, closed: 0, aggregateRows: 0 }
        const inserts = new Map<string, Array<RowValues>>()
        const deletes = new Map<string, { pkColumn: string; keys: Array<number> }>()
        let inserted = 0, closed = 0
        for (const f of facts) {
          if (f.visibleFrom > t) continue
          const id = `${f.table}|${f.pk}`
          const now = f.closedFrom !== null && f.closedFrom <= t ? "closed" : "open"
          const before = written.get(id)
          if (before === now || before === "closed") continue
          if (before === "open") {
            const d = deletes.get(f.table) ?? { pkColumn: f.pkColumn, keys: [] }
            d.keys.push(f.pk)
            deletes.set(f.table, d)
            closed++
          } else {
            inserted++
          }
          const list = inserts.get(f.table) ?? []
          list.push(now === "closed" ? f.closed() : f.open())
          inserts.set(f.table, list)
          written.set(id, now)
        }
        const aggregates = aggregatesAt(t)
        const changed: Array<number> = []
        const aggregateRows: Array<RowValues> = []
        for (const [interval, rows] of aggregates) {
          const digest = JSON.stringify(rows)
          if (writtenAggregates.get(interval) === digest) continue
          if (writtenAggregates.has(interval)) changed.push(interval)
          writtenAggregates.set(interval, digest)
          aggregateRows.push(...rows)
        }
        yield* sql.withTransaction(Effect.gen(function*() {
          for (const [table, d] of deletes) yield* deleteKeys(table, d.pkColumn, d.keys)
          yield* deleteKeys("AG2_QUEUE_SUBHR", "date_time_key", changed)
          for (const [table, rows] of inserts) yield* insert(table, rows)
          yield* insert("AG2_QUEUE_SUBHR", aggregateRows)
        }))
        etlTime = t
        return { etlTime: t * 1000, inserted, closed, aggregateRows: aggregateRows.length }
      }))

    return {
      scenario,
      dialect,
      tick,
      table: tableName,
      queueName: (identifier: string) => queueNames.get(identifier) ?? identifier
    } satisfies GenesysSimulator
  })

/**
 * Runs the ETL forever, every `everySeconds`, up to the clock's present (for demos: a
 * scenario around now becomes a live Info Mart). Fork it; interrupt it to stop.
 *
 * @since 0.1.0 @category running
 */
export const runEtl = (
  sim: GenesysSimulator,
  everySeconds = 15
): Effect.Effect<never, SqlError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => sim.tick(now)).pipe(
    Effect.repeat(Schedule.spaced(Duration.seconds(everySeconds))),
    Effect.zipRight(Effect.never)
  )

/** Scenario states with vendor overlaps trimmed (one state per agent at a time). */
const trimmedStates = (
  scenario: Scenario,
  trimOverlaps: typeof ScenarioModule.trimOverlaps
): ReadonlyArray<AgentState> => {
  const byAgent = new Map<string, Array<AgentState>>()
  for (const s of scenario.states) {
    const list = byAgent.get(s.agentId) ?? []
    list.push(s)
    byAgent.set(s.agentId, list)
  }
  const out: Array<AgentState> = []
  for (const list of byAgent.values()) out.push(...trimOverlaps(list))
  return out
}


/**
 * Imports a driver when a simulator of its kind is made: importing this module (every host
 * importing `@acd-bridge/genesys-engage` does) should not load both database clients.
 */
const loadDriver = <M>(name: string, importModule: () => Promise<M>): Effect.Effect<M, SqlError> =>
  Effect.tryPromise({
    try: importModule,
    catch: (cause) =>
      new SqlError({
        cause,
        message: `the ${name} driver could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`
      })
  })

const withClient = <E>(
  client: Layer.Layer<SqlClient.SqlClient, E>,
  scenario: Scenario,
  options: Options
): Effect.Effect<GenesysSimulator, E | SqlError, Scope.Scope> =>
  Effect.flatMap(
    Layer.build(client),
    (ctx) => Effect.provideService(make(scenario, options), SqlClient.SqlClient, Context.get(ctx, SqlClient.SqlClient))
  )

/**
 * A simulator in a SQLite file (created when missing), for demos and tests. The writer
 * connection lives as long as the scope.
 *
 * @since 0.1.0 @category constructors
 */
export const makeSqlite = (
  filename: string,
  scenario: Scenario,
  options: Options = {}
): Effect.Effect<GenesysSimulator, SqlError | ConfigError.ConfigError, Scope.Scope> =>
  Effect.flatMap(
    loadDriver("SQLite (@effect/sql-sqlite-node)", () => import("@effect/sql-sqlite-node/SqliteClient")),
    (SqliteClient) => withClient(SqliteClient.layer({ filename }), scenario, options)
  )

/**
 * A simulator in a PostgreSQL database (the tables in `options.schema` when given).
 *
 * @since 0.1.0 @category constructors
 */
export const makePg = (
  url: string | Redacted.Redacted<string>,
  scenario: Scenario,
  options: Options = {}
): Effect.Effect<GenesysSimulator, SqlError, Scope.Scope> =>
  Effect.flatMap(
    loadDriver("PostgreSQL (@effect/sql-pg)", () => import("@effect/sql-pg/PgClient")),
    (PgClient) =>
      withClient(
        PgClient.layer({ url: typeof url === "string" ? Redacted.make(url) : url, applicationName: "genesys simulator" }),
        scenario,
        options
      )
  )
