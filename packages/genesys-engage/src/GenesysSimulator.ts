/**
 * A Genesys Info Mart simulator: the tables of vendors README §3.8 (plus the documented columns
 * listed in `internal/ddl.ts`) in SQLite or PostgreSQL, filled from a testkit `Scenario` the
 * way the Info Mart ETL and RAA aggregation fill them. Test-only: it lives on the package's
 * `./simulator` subpath, never in its main entry.
 *
 * `tick(at)` is one ETL run at `at` (minus `etlLagSeconds`). Each run writes what the source
 * shows then, `Scenario.asKnownAt`:
 *
 * - **ETL delay**: each interaction reaches the Info Mart with its own delay (the scenario's
 *   write delay, `writtenAt − completion`): at ETL time `t` it shows as it was at `t − delay`,
 *   as *accumulating snapshots*: rows are inserted active (`END_TS` NULL, durations NULL) and
 *   closed by a later run; from `writtenAt` on, the interaction is whole;
 * - **one row per part**: `INTERACTION_FACT` (from the contact's start, IVR included), an
 *   `INTERACTION_RESOURCE_FACT` for the IVR's routing point, a `MEDIATION_SEGMENT_FACT` per
 *   **queue visit** (its own `START_TS` = the queue entry; `TARGET_IXN_RESOURCE_ID` = the agent
 *   leg that answered; technical result Diverted to an agent, Abandoned, Cleared when the visit
 *   broke out to an overflow queue, Diverted without an agent when it left the centre) and an
 *   `INTERACTION_RESOURCE_FACT` per **agent leg** with its own start, talk, hold and after-call
 *   work, `RECEIVED_FROM_IXN_RESOURCE_ID` naming the leg it came from (an agent-to-agent
 *   transfer, a transfer through another queue, a consultation); **consults** have the role
 *   `ReceivedConsult` and their talk in `TALK_DURATION` and `CONS_RCV_TALK_DURATION`; an
 *   abandoned visit also has the queue's own resource row;
 * - **late corrections**: a leg's after-call work is first written as recorded and rewritten
 *   (`UPDATE_AUDIT_KEY` of the later run) when the scenario's correction is written;
 * - **RAA aggregates** (`AG2_QUEUE_SUBHR`): per visit, in the quarter-hour it **entered its
 *   queue**, from the same rows: `ENTERED` at once, `ACCEPTED` (`ACCEPTED_TIME` its wait),
 *   `ABANDONED` (`ABANDONED_SHORT` within the short-abandon threshold, else
 *   `ABANDONED_STANDARD`; `ABANDONED_TIME`), `CLEARED` (overflow breakout; `CLEARED_TIME`),
 *   `ROUTED_OTHER` (breakout out of the centre; `ROUTED_OTHER_TIME`) once decided, and the
 *   talk, hold and after-call work of the visit's agent legs (consults excluded) as each leg
 *   closes, so past intervals are back-filled; rows are split by `USER_DATA_KEY1` (a connector
 *   that does not SUM breaks), internal consultations are noise under `INTERACTION_TYPE_CODE`
 *   `INTERNAL`;
 * - **agent states** (`SM_RES_STATE_FACT`): Info Mart's summarised states, known as they start
 *   and closed as they end (`ACTIVE_FLAG` 1 while open): Talk and Hold are one `Busy`, Break
 *   and Lunch are `NotReady` with a reason (`SM_RES_STATE_REASON_FACT`), logged-out time
 *   between shifts is a `LoggedOut` state (weekends of 60 hours and more; the one after an
 *   agent's last shift stays open), adjacent equal states are one row; every agent also has a
 *   `Ready` state on the chat media for each shift, which a connector reading one media must
 *   leave out;
 * - surrogate keys are deliberately odd (voice is `MEDIA_TYPE_KEY` 7, inbound is
 *   `INTERACTION_TYPE_KEY` 4), so only `*_CODE` filters work.
 *
 * @since 0.1.0
 */
import type { Domain } from "@acd-bridge/core"
import * as Scenario from "@acd-bridge/testkit/Scenario"
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

type AgentState = Scenario.AgentState

const QUARTER_S = 900

/** @since 0.1.0 @category models */
export interface Options {
  /** every ETL run reflects the contact centre this many seconds before it runs (default 0) */
  readonly etlLagSeconds?: number | undefined
  /** aggregate rows per interval, queue and media, split by USER_DATA_KEY1 (default 3) */
  readonly splits?: number | undefined
  /** add internal consultations that a connector must filter out (default true) */
  readonly noise?: boolean | undefined
  /** PostgreSQL schema to create the tables in (default: the search path) */
  readonly schema?: string | undefined
  /**
   * RAA's short-abandon threshold: an abandon whose `MEDIATION_DURATION` is below it counts in
   * `ABANDONED_SHORT` (default: the scenario's own short abandons, `shortAbandonSeconds` of
   * its options)
   */
  readonly shortAbandonSeconds?: number | undefined
}

/** @since 0.1.0 @category models */
export interface TickReport {
  /** the ETL time (epoch ms) the database now reflects */
  readonly etlTime: number
  /** fact rows written for the first time */
  readonly inserted: number
  /** fact rows rewritten (closed, corrected) */
  readonly updated: number
  readonly aggregateRows: number
}

/** @since 0.1.0 @category models */
export interface GenesysSimulator {
  readonly scenario: Scenario.Scenario
  readonly dialect: "sqlite" | "pg"
  /** Runs the ETL at `at` (an instant): inserts, closes, corrects and back-fills. Never goes back. */
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
  { key: 1, type: "LoggedOnOnly", typeCode: "LOGGED_ON_ONLY", name: "LoggedOnOnly", code: "LOGGED_ON_ONLY" },
  { key: 2, type: "LoggedOut", typeCode: "LOGGED_OUT", name: "LoggedOut", code: "LOGGED_OUT" }
] as const
const LOGGED_OUT = 2

const reasons = [
  { key: 41, value: "Break", hardware: "" },
  { key: 42, value: "Lunch", hardware: "" }
] as const

/** `TECHNICAL_DESCRIPTOR` rows: a result (code, reason) with the resource's role. */
const descriptors = [
  { key: 21, result: "Completed", code: "COMPLETED", reason: "Unspecified", role: "Received" },
  { key: 22, result: "Transferred", code: "TRANSFERRED", reason: "Unspecified", role: "Received" },
  { key: 23, result: "Completed", code: "COMPLETED", reason: "Unspecified", role: "ReceivedTransfer" },
  { key: 26, result: "Transferred", code: "TRANSFERRED", reason: "Unspecified", role: "ReceivedTransfer" },
  { key: 27, result: "Completed", code: "COMPLETED", reason: "Unspecified", role: "ReceivedConsult" },
  { key: 31, result: "Unknown", code: "UNKNOWN", reason: "Unspecified", role: "Received" },
  { key: 32, result: "Unknown", code: "UNKNOWN", reason: "Unspecified", role: "ReceivedTransfer" },
  { key: 33, result: "Unknown", code: "UNKNOWN", reason: "Unspecified", role: "ReceivedConsult" },
  { key: 24, result: "Abandoned", code: "ABANDONED", reason: "AbandonedWhileQueued", role: "Received" },
  { key: 25, result: "Diverted", code: "DIVERTED", reason: "AnsweredByAgent", role: "Received" },
  { key: 28, result: "Diverted", code: "DIVERTED", reason: "RoutedToOther", role: "Received" },
  { key: 29, result: "Cleared", code: "CLEARED", reason: "ClearedByStrategy", role: "Received" }
] as const
type Role = "Received" | "ReceivedTransfer" | "ReceivedConsult"
const legDescriptor = (role: Role, result: "Completed" | "Transferred" | null): number => {
  if (result === null) return role === "Received" ? 31 : role === "ReceivedTransfer" ? 32 : 33
  if (role === "ReceivedConsult") return 27
  if (role === "Received") return result === "Completed" ? 21 : 22
  return result === "Completed" ? 23 : 26
}
const TD_ABANDONED = 24
const TD_ANSWERED = 25
const TD_ROUTED_OTHER = 28
const TD_CLEARED = 29
const TD_COMPLETED = 21

/** the IVR's routing point in `RESOURCE_` */
const IVR_KEY = 51

/** Scenario activity → Info Mart state key and reason key. */
const stateOf = (activity: Scenario.TimelineActivity): { state: number; reason: number | null } => {
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
    case "LoggedOut":
      return { state: LOGGED_OUT, reason: null }
  }
}

/**
 * The activity identifier the connector (default config: `STATE_NAME`, reasons on) gives a
 * scenario state: `Ready`, `Busy` (Talk and Hold), `AfterCallWork`, `NotReady:Break`,
 * `NotReady:Lunch` (and `LoggedOut`, which `Scenario.expectedSegments` names itself).
 *
 * @since 0.1.0 @category expectations
 */
export const activityOf = (state: Pick<AgentState, "activity">): string => {
  const s = stateOf(state.activity)
  const name = resourceStates.find((r) => r.key === s.state)!.name
  const reason = reasons.find((r) => r.key === s.reason)
  return reason ? `${name}:${reason.value}` : name
}

/**
 * How the connector (default config) reports the scenario's agent states, for
 * `Scenario.expectedSegments`: Info Mart's names, adjacent equal states merged, LoggedOut as
 * `LoggedOut`.
 *
 * @since 0.2.0 @category expectations
 */
export const segmentOptions: Scenario.SegmentOptions = { activityOf, mergeAdjacent: true, loggedOut: "LoggedOut" }

// ---------------------------------------------------------------------------
// rows
// ---------------------------------------------------------------------------

type Value = number | string | null
type RowValues = Record<string, Value>

/** a row to write: its table (standard name), primary key column and value */
interface Row {
  readonly table: string
  readonly pkColumn: string
  readonly pk: number
  readonly values: RowValues
}

const dtKey = (s: number) => Math.floor(s / QUARTER_S) * QUARTER_S
const sec = (ms: number) => Math.round(ms / 1000)

/** One leg as the Info Mart shows it at a view time. */
interface LegView {
  readonly id: number
  readonly agentKey: number
  readonly start: number
  /** null while the leg runs (the row is active) */
  readonly end: number | null
  readonly talk: number
  readonly hold: number
  readonly acw: number
  readonly consult: boolean
  readonly role: Role
  readonly transferred: boolean
  readonly receivedFrom: number | null
}

/** One queue visit as the Info Mart shows it at a view time. */
interface VisitView {
  readonly id: number
  /** index into the contact's visits */
  readonly index: number
  readonly queueKey: number
  readonly mediaKey: number
  readonly entered: number
  readonly outcome: "waiting" | "answered" | "abandoned" | "breakout"
  /** a breakout followed by a visit at another queue */
  readonly overflow: boolean
  readonly wait: number
  readonly short: boolean
  readonly legs: ReadonlyArray<LegView>
}

type Sums = Record<string, number>

/** What one visit adds to one `AG2_QUEUE_SUBHR` row. */
interface Contribution {
  readonly interval: number
  readonly dims: RowValues
  readonly m: Sums
}

interface GimState {
  readonly agentKey: number
  readonly mediaKey: number
  readonly state: number
  readonly start: number
  /** null: never ends (LoggedOut after the last shift) */
  end: number | null
  readonly reasons: Array<{ reason: number; start: number; end: number | null }>
}

/** Info Mart's summarised states: trimmed timeline, Talk/Hold as one Busy, equal neighbours merged. */
const buildStates = (scenario: Scenario.Scenario, agentKeys: ReadonlyMap<string, number>): Array<GimState> => {
  const byAgent = new Map<string, Array<Scenario.TimelineState>>()
  for (const s of Scenario.timeline(scenario)) {
    const list = byAgent.get(s.agentId) ?? []
    list.push(s)
    byAgent.set(s.agentId, list)
  }
  const out: Array<GimState> = []
  for (const [agentId, list] of byAgent) {
    const agentKey = agentKeys.get(agentId)!
    let current: GimState | undefined
    for (const s of Scenario.trimOverlaps(list)) {
      const { reason, state } = stateOf(s.activity)
      const start = sec(s.start)
      const end = Number.isFinite(s.end) ? sec(s.end) : null
      if (end !== null && end <= start) continue
      if (current !== undefined && current.state === state && current.end === start) {
        current.end = end
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
 * fills the dimensions and prepares the scenario. Nothing of the scenario is visible before
 * the first `tick`.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  scenario: Scenario.Scenario,
  options: Options = {}
): Effect.Effect<GenesysSimulator, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const dialect: "sqlite" | "pg" = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })
    const schema = options.schema
    const tableName = (name: string) => (schema === undefined ? name.toLowerCase() : `${schema}.${name.toLowerCase()}`)
    const lagMs = Math.round((options.etlLagSeconds ?? 0) * 1000)
    const splits = Math.max(1, Math.floor(options.splits ?? 3))
    const noise = options.noise ?? true
    const shortThreshold = options.shortAbandonSeconds
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
      {
        resource_key: IVR_KEY,
        tenant_key: 1,
        resource_name: "IVR-Main",
        resource_type: "RoutingPoint",
        resource_type_code: "ROUTINGPOINT",
        resource_subtype: "RoutingPoint",
        agent_first_name: null,
        agent_last_name: null,
        employee_id: null
      },
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

    // --- the contacts, one scenario each (what the source shows of one contact at an instant)
    const correctionsOf = new Map<string, Array<Scenario.Correction>>()
    for (const c of scenario.corrections) {
      const list = correctionsOf.get(c.contactId) ?? []
      list.push(c)
      correctionsOf.set(c.contactId, list)
    }
    const lastCorrection = (id: string) => Math.max(0, ...(correctionsOf.get(id) ?? []).map((c) => c.at))
    const alone = (contact: Scenario.Contact): Scenario.Scenario => ({
      ...scenario,
      contacts: [contact],
      corrections: correctionsOf.get(contact.id) ?? [],
      states: [],
      loggedOut: []
    })

    /** The contact's visits and legs as the Info Mart shows them at ETL time `t` (ms), or undefined before it shows. */
    const viewOf = (contact: Scenario.Contact, t: number) => {
      // the interaction reaches the Info Mart with its own delay; once written it is whole
      const delay = contact.writtenAt - contact.completion
      const at = t >= contact.writtenAt ? t : t - delay
      if (contact.start >= at) return undefined
      return Scenario.asKnownAt(alone(contact), at).contacts[0]
    }

    const legId = (n: number, visit: number, leg: number) => 3_000_000 + n * 16 + visit * 4 + leg
    /** the leg a leg came from: the agent on hold for a consult, the previous agent of the visit, the agent who transferred to this queue */
    const receivedFrom = (contact: Scenario.Contact, n: number, v: number, l: number): number | null => {
      const legs = contact.visits[v]!.legs
      const primaryBefore = (visit: number, before: number) => {
        const list = contact.visits[visit]!.legs
        for (let j = before - 1; j >= 0; j--) if (list[j]!.kind === "agent") return legId(n, visit, j)
        return null
      }
      if (legs[l]!.kind === "consult") return primaryBefore(v, l)
      const previous = primaryBefore(v, l)
      if (previous !== null) return previous
      const before = contact.visits[v - 1]
      return before !== undefined && before.outcome === "answered" ? primaryBefore(v - 1, before.legs.length) : null
    }

    const visitViews = (contact: Scenario.Contact, n: number, known: Scenario.KnownContact): Array<VisitView> =>
      known.visits.map((kv, v) => {
        const truth = contact.visits[v]!
        const legs: Array<LegView> = kv.legs.map((kl, l) => {
          const consult = kl.kind === "consult"
          const from = receivedFrom(contact, n, v, l)
          return {
            id: legId(n, v, l),
            agentKey: agentKeys.get(kl.agentId)!,
            start: sec(kl.start),
            end: kl.ended ? sec(Scenario.legPhases(truth.legs[l]!).end) : null,
            talk: sec(kl.talkMs),
            hold: sec(kl.holdMs),
            acw: sec(kl.afterCallWorkMs),
            consult,
            role: consult ? "ReceivedConsult" : from === null ? "Received" : "ReceivedTransfer",
            transferred: kl.transferred,
            receivedFrom: from
          }
        })
        // answered at the very instant of the view: the agent's leg shows with the next run
        const outcome = kv.outcome === "answered" && legs.length === 0 ? "waiting" : kv.outcome
        const wait = outcome === "waiting" ? 0 : sec(kv.waitMs)
        return {
          id: 5_000_000 + n * 4 + v,
          index: v,
          queueKey: queueKeys.get(kv.queueIdentifier)!,
          mediaKey: channelMedia[kv.channel],
          entered: sec(kv.enteredAt),
          outcome,
          overflow: truth.outcome === "breakout" && contact.visits[v + 1] !== undefined,
          wait,
          short: outcome === "abandoned" &&
            (shortThreshold === undefined ? truth.shortAbandoned : wait < shortThreshold),
          legs
        }
      })

    const rowsOf = (contact: Scenario.Contact, n: number, known: Scenario.KnownContact, visits: ReadonlyArray<VisitView>) => {
      const rows: Array<Row> = []
      const ixnId = 1_000_000 + n
      const mediaKey = channelMedia[contact.channel]
      const start = sec(contact.start)
      const end = known.completion === null || known.phase !== "written" ? null : sec(known.completion)
      rows.push({
        table: "INTERACTION_FACT",
        pkColumn: "interaction_id",
        pk: ixnId,
        values: {
          interaction_id: ixnId,
          tenant_key: 1,
          interaction_type_key: INBOUND,
          media_type_key: mediaKey,
          media_server_ixn_guid: `0${n.toString(16).padStart(15, "0")}`,
          source_address: `+4930${String(n).padStart(7, "0")}`,
          target_address: contact.queueName,
          status: end === null ? 0 : 1,
          start_ts: start,
          end_ts: end,
          start_date_time_key: dtKey(start),
          end_date_time_key: end === null ? null : dtKey(end)
        }
      })
      const resource = (id: number, values: Omit<RowValues, "interaction_resource_id">): Row => ({
        table: "INTERACTION_RESOURCE_FACT",
        pkColumn: "interaction_resource_id",
        pk: id,
        values: {
          interaction_resource_id: id,
          interaction_id: ixnId,
          media_type_key: mediaKey,
          interaction_type_key: INBOUND,
          ring_duration: 0,
          hold_count: 0,
          cons_rcv_talk_count: 0,
          cons_rcv_talk_duration: 0,
          routing_point_duration: 0,
          received_from_ixn_resource_id: null,
          ...values
        }
      })
      if (contact.ivrMs > 0) {
        const ivrEnd = visits.length > 0 ? start + sec(contact.ivrMs) : null
        rows.push(resource(2_000_000 + n, {
          resource_key: IVR_KEY,
          last_vqueue_resource_key: null,
          technical_descriptor_key: ivrEnd === null ? null : TD_COMPLETED,
          start_date_time_key: dtKey(start),
          start_ts: start,
          end_ts: ivrEnd,
          talk_count: 0,
          talk_duration: 0,
          hold_duration: 0,
          after_call_work_count: 0,
          after_call_work_duration: 0,
          routing_point_duration: ivrEnd === null ? null : ivrEnd - start
        }))
      }
      for (const v of visits) {
        const decided = v.outcome !== "waiting"
        rows.push({
          table: "MEDIATION_SEGMENT_FACT",
          pkColumn: "mediation_segment_id",
          pk: v.id,
          values: {
            mediation_segment_id: v.id,
            interaction_id: ixnId,
            resource_key: v.queueKey,
            target_ixn_resource_id: v.outcome === "answered" ? v.legs[0]!.id : null,
            media_type_key: v.mediaKey,
            technical_descriptor_key: !decided
              ? null
              : v.outcome === "answered"
              ? TD_ANSWERED
              : v.outcome === "abandoned"
              ? TD_ABANDONED
              : v.overflow
              ? TD_CLEARED
              : TD_ROUTED_OTHER,
            start_date_time_key: dtKey(v.entered),
            start_ts: v.entered,
            end_ts: decided ? v.entered + v.wait : null,
            mediation_duration: decided ? v.wait : null
          }
        })
        for (const l of v.legs) {
          const closed = l.end !== null
          rows.push(resource(l.id, {
            resource_key: l.agentKey,
            last_vqueue_resource_key: v.queueKey,
            technical_descriptor_key: legDescriptor(l.role, closed ? (l.transferred ? "Transferred" : "Completed") : null),
            received_from_ixn_resource_id: l.receivedFrom,
            start_date_time_key: dtKey(l.start),
            start_ts: l.start,
            end_ts: l.end,
            ring_duration: closed ? 0 : null,
            talk_count: closed ? 1 : null,
            // the consulted agent was talking (to the agent, not the customer)
            talk_duration: closed ? l.talk : null,
            hold_count: closed ? (l.hold > 0 ? 1 : 0) : null,
            hold_duration: closed ? l.hold : null,
            after_call_work_count: closed ? (l.acw > 0 ? 1 : 0) : null,
            after_call_work_duration: closed ? l.acw : null,
            cons_rcv_talk_count: closed ? (l.consult ? 1 : 0) : null,
            cons_rcv_talk_duration: closed ? (l.consult ? l.talk : 0) : null
          }))
        }
        if (v.outcome === "abandoned") {
          // the queue's own resource row: the mediation ended in an abandon
          rows.push(resource(legId(n, v.index, 3), {
            resource_key: v.queueKey,
            last_vqueue_resource_key: v.queueKey,
            technical_descriptor_key: TD_ABANDONED,
            start_date_time_key: dtKey(v.entered),
            start_ts: v.entered,
            end_ts: v.entered + v.wait,
            talk_count: 0,
            talk_duration: 0,
            hold_duration: 0,
            after_call_work_count: 0,
            after_call_work_duration: 0
          }))
        }
      }
      return rows
    }

    const contributionsOf = (index: number, visits: ReadonlyArray<VisitView>): Array<Contribution> =>
      visits.map((v) => {
        const m: Sums = { entered: 1 }
        if (v.outcome === "answered") {
          m["distributed_"] = 1
          m["accepted"] = 1
          m["accepted_agent"] = 1
          m["accepted_time"] = v.wait
          m["accepted_time_max"] = v.wait
        } else if (v.outcome === "abandoned") {
          m["abandoned"] = 1
          m["abandoned_time"] = v.wait
          m[v.short ? "abandoned_short" : "abandoned_standard"] = 1
        } else if (v.outcome === "breakout") {
          m[v.overflow ? "cleared" : "routed_other"] = 1
          m[v.overflow ? "cleared_time" : "routed_other_time"] = v.wait
        }
        for (const l of v.legs) {
          if (l.consult || l.end === null) continue
          m["engage_time"] = (m["engage_time"] ?? 0) + l.talk
          m["hold_time"] = (m["hold_time"] ?? 0) + l.hold
          m["wrap_time"] = (m["wrap_time"] ?? 0) + l.acw
        }
        return {
          interval: dtKey(v.entered),
          dims: {
            resource_key: v.queueKey,
            media_type_key: v.mediaKey,
            interaction_type_key: INBOUND,
            user_data_key1: index % splits
          },
          m
        }
      })

    // --- internal consultations: queued and talked, but not inbound contacts
    const noiseIxns: Array<{ n: number; queueKey: number; mediaKey: number; agentKey: number; start: number; talk: number }> =
      []
    if (noise) {
      scenario.contacts.forEach((c, index) => {
        const n = index + 1
        const leg = c.visits[0]?.legs[0]
        if (leg === undefined || n % 7 !== 0) return
        noiseIxns.push({
          n,
          queueKey: queueKeys.get(c.queueIdentifier)!,
          mediaKey: channelMedia[c.channel],
          agentKey: agentKeys.get(leg.agentId)!,
          start: sec(leg.start) + 5,
          talk: 20
        })
      })
    }
    const noiseRows = (x: typeof noiseIxns[number], closed: boolean): Array<Row> => {
      const ixnId = 8_000_000 + x.n
      const end = x.start + x.talk
      return [
        {
          table: "INTERACTION_FACT",
          pkColumn: "interaction_id",
          pk: ixnId,
          values: {
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
          }
        },
        {
          table: "MEDIATION_SEGMENT_FACT",
          pkColumn: "mediation_segment_id",
          pk: 8_500_000 + x.n,
          values: {
            mediation_segment_id: 8_500_000 + x.n,
            interaction_id: ixnId,
            resource_key: x.queueKey,
            target_ixn_resource_id: 8_700_000 + x.n,
            media_type_key: x.mediaKey,
            technical_descriptor_key: TD_ANSWERED,
            start_date_time_key: dtKey(x.start),
            start_ts: x.start,
            end_ts: x.start,
            mediation_duration: 0
          }
        },
        {
          table: "INTERACTION_RESOURCE_FACT",
          pkColumn: "interaction_resource_id",
          pk: 8_700_000 + x.n,
          values: {
            interaction_resource_id: 8_700_000 + x.n,
            interaction_id: ixnId,
            resource_key: x.agentKey,
            last_vqueue_resource_key: x.queueKey,
            media_type_key: x.mediaKey,
            interaction_type_key: INTERNAL,
            technical_descriptor_key: closed ? TD_COMPLETED : 31,
            received_from_ixn_resource_id: null,
            start_date_time_key: dtKey(x.start),
            start_ts: x.start,
            end_ts: closed ? end : null,
            ring_duration: closed ? 0 : null,
            talk_count: closed ? 1 : null,
            talk_duration: closed ? x.talk : null,
            hold_count: closed ? 0 : null,
            hold_duration: closed ? 0 : null,
            after_call_work_count: closed ? 0 : null,
            after_call_work_duration: closed ? 0 : null,
            cons_rcv_talk_count: closed ? 0 : null,
            cons_rcv_talk_duration: closed ? 0 : null,
            routing_point_duration: 0
          }
        }
      ]
    }
    const noiseContribution = (x: typeof noiseIxns[number], closed: boolean): Contribution => ({
      interval: dtKey(x.start),
      dims: { resource_key: x.queueKey, media_type_key: x.mediaKey, interaction_type_key: INTERNAL, user_data_key1: 0 },
      m: { entered: 1, distributed_: 1, accepted: 1, accepted_agent: 1, engage_time: closed ? x.talk : 0 }
    })

    // --- agent states
    const gimStates = buildStates(scenario, agentKeys)
    const stateRows = (s: GimState, key: number, firstReasonKey: number, t: number): Array<Row> => {
      const closedBy = (end: number | null) => end !== null && end <= t
      const closed = closedBy(s.end)
      const rows: Array<Row> = [{
        table: "SM_RES_STATE_FACT",
        pkColumn: "sm_res_state_fact_key",
        pk: key,
        values: {
          sm_res_state_fact_key: key,
          tenant_key: 1,
          media_type_key: s.mediaKey,
          resource_key: s.agentKey,
          resource_state_key: s.state,
          sm_res_session_fact_key: 7_000_000 + s.agentKey,
          start_date_time_key: dtKey(s.start),
          end_date_time_key: closed ? dtKey(s.end!) : null,
          start_ts: s.start,
          end_ts: closed ? s.end : null,
          total_duration: closed ? s.end! - s.start : null,
          active_flag: closed ? 0 : 1
        }
      }]
      s.reasons.forEach((r, i) => {
        if (r.start >= t) return
        const rk = firstReasonKey + i
        const done = closedBy(r.end)
        rows.push({
          table: "SM_RES_STATE_REASON_FACT",
          pkColumn: "sm_res_state_reason_fact_key",
          pk: rk,
          values: {
            sm_res_state_reason_fact_key: rk,
            sm_res_state_fact_key: key,
            tenant_key: 1,
            media_type_key: s.mediaKey,
            resource_key: s.agentKey,
            resource_state_reason_key: r.reason,
            start_date_time_key: dtKey(r.start),
            end_date_time_key: done ? dtKey(r.end!) : null,
            start_ts: r.start,
            end_ts: done ? r.end : null,
            total_duration: done ? r.end! - r.start : null
          }
        })
      })
      return rows
    }
    const reasonKeys: Array<number> = []
    {
      let next = 9_500_000
      for (const s of gimStates) {
        reasonKeys.push(next)
        next += s.reasons.length
      }
    }

    // --- the ETL
    /** digest of each written row, by table and key */
    const written = new Map<string, string>()
    const createdBy = new Map<string, number>()
    /** contacts (by index) the Info Mart shows whole and corrected: their rows never change again */
    const finalContacts = new Set<number>()
    /** what each contact (by index; the noise after them) adds to the aggregates, and the intervals it adds to */
    const contributions = new Map<number, { digest: string; list: ReadonlyArray<Contribution> }>()
    const members = new Map<number, Set<number>>()
    const dirty = new Set<number>()
    const contribute = (index: number, list: ReadonlyArray<Contribution>) => {
      const digest = JSON.stringify(list)
      const before = contributions.get(index)
      if (before?.digest === digest) return
      for (const c of [...(before?.list ?? []), ...list]) dirty.add(c.interval)
      for (const c of before?.list ?? []) members.get(c.interval)?.delete(index)
      for (const c of list) {
        const set = members.get(c.interval) ?? new Set<number>()
        set.add(index)
        members.set(c.interval, set)
      }
      contributions.set(index, { digest, list })
    }
    const finalStates = new Set<number>()
    const finalNoise = new Set<number>()
    const writtenAggregates = new Map<number, string>()
    let etlTime = Number.NEGATIVE_INFINITY
    let audit = 0
    const lock = yield* Effect.makeSemaphore(1)

    const aggregateMeasures = [
      "entered",
      "consult_entered",
      "redirected",
      "routed_other",
      "abandoned",
      "abandoned_invite",
      "cleared",
      "distributed_",
      "accepted",
      "accepted_agent",
      "accepted_time_max",
      "engage_time",
      "hold_time",
      "wrap_time",
      "abandoned_short",
      "abandoned_standard",
      "accepted_time",
      "abandoned_time",
      "cleared_time",
      "routed_other_time"
    ]
    /** The `AG2_QUEUE_SUBHR` rows of an interval, from what its visits contribute. */
    const aggregateRowsOf = (interval: number): Array<RowValues> => {
      const groups = new Map<string, { dims: RowValues; m: Sums }>()
      for (const index of members.get(interval) ?? []) {
        for (const c of contributions.get(index)!.list) {
          if (c.interval !== interval) continue
          const key = JSON.stringify(c.dims)
          let g = groups.get(key)
          if (!g) {
            g = { dims: c.dims, m: {} }
            groups.set(key, g)
          }
          for (const [k, v] of Object.entries(c.m)) {
            g.m[k] = k === "accepted_time_max" ? Math.max(g.m[k] ?? 0, v) : (g.m[k] ?? 0) + v
          }
        }
      }
      const rows = Array.from(groups.entries()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => {
        const row: RowValues = {
          date_time_key: interval,
          tenant_key: 1,
          ...g.dims,
          resource_group_combination_key: 17,
          user_data_key2: 0
        }
        for (const m of aggregateMeasures) row[m] = g.m[m] ?? 0
        return row
      })
      return rows
    }

    const tick = (at: DateTime.DateTime.Input) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const t = DateTime.toEpochMillis(DateTime.unsafeMake(at)) - lagMs
        if (t <= etlTime) return { etlTime, inserted: 0, updated: 0, aggregateRows: 0 }
        const tS = t / 1000
        const pending: Array<Row> = []
        // contacts, noise and states are in start order: stop at the first that has not started
        for (let index = 0; index < scenario.contacts.length; index++) {
          const contact = scenario.contacts[index]!
          if (contact.start >= t) break
          if (finalContacts.has(index)) continue
          const n = index + 1
          const known = viewOf(contact, t)
          if (known === undefined) continue
          const visits = visitViews(contact, n, known)
          pending.push(...rowsOf(contact, n, known, visits))
          contribute(index, contributionsOf(index, visits))
          if (t >= contact.writtenAt && t >= lastCorrection(contact.id)) finalContacts.add(index)
        }
        noiseIxns.forEach((x, k) => {
          if (x.start >= tS || finalNoise.has(x.n)) return
          const closed = x.start + x.talk <= tS
          contribute(scenario.contacts.length + k, [noiseContribution(x, closed)])
          pending.push(...noiseRows(x, closed))
          if (closed) finalNoise.add(x.n)
        })
        for (let i = 0; i < gimStates.length; i++) {
          const s = gimStates[i]!
          if (s.start >= tS) break
          if (finalStates.has(i)) continue
          pending.push(...stateRows(s, 9_000_000 + i, reasonKeys[i]!, tS))
          if (s.end !== null && s.end <= tS && s.reasons.every((r) => r.end !== null && r.end <= tS)) finalStates.add(i)
        }

        audit++
        const inserts = new Map<string, Array<RowValues>>()
        const deletes = new Map<string, { pkColumn: string; keys: Array<number> }>()
        let inserted = 0, updated = 0
        for (const row of pending) {
          const id = `${row.table}|${row.pk}`
          const digest = JSON.stringify(row.values)
          const before = written.get(id)
          if (before === digest) continue
          if (before !== undefined) {
            const d = deletes.get(row.table) ?? { pkColumn: row.pkColumn, keys: [] }
            d.keys.push(row.pk)
            deletes.set(row.table, d)
            updated++
          } else {
            createdBy.set(id, audit)
            inserted++
          }
          written.set(id, digest)
          const list = inserts.get(row.table) ?? []
          list.push({ ...row.values, create_audit_key: createdBy.get(id)!, update_audit_key: audit })
          inserts.set(row.table, list)
        }
        const changed: Array<number> = []
        const aggregateRows: Array<RowValues> = []
        for (const interval of Array.from(dirty).sort((a, b) => a - b)) {
          const rows = aggregateRowsOf(interval)
          const digest = JSON.stringify(rows)
          if (writtenAggregates.get(interval) === digest) continue
          if (writtenAggregates.has(interval)) changed.push(interval)
          writtenAggregates.set(interval, digest)
          aggregateRows.push(...rows)
        }
        dirty.clear()
        if (inserted + updated + aggregateRows.length === 0) {
          etlTime = t
          return { etlTime: t, inserted, updated, aggregateRows: 0 }
        }
        yield* sql.withTransaction(Effect.gen(function*() {
          for (const [table, d] of deletes) yield* deleteKeys(table, d.pkColumn, d.keys)
          yield* deleteKeys("AG2_QUEUE_SUBHR", "date_time_key", changed)
          // a row's columns follow its table, whichever code built it: insert by column set
          for (const [table, rows] of inserts) {
            const byShape = new Map<string, Array<RowValues>>()
            for (const r of rows) {
              const shape = Object.keys(r).join(",")
              const list = byShape.get(shape) ?? []
              list.push(r)
              byShape.set(shape, list)
            }
            for (const list of byShape.values()) yield* insert(table, list)
          }
          yield* insert("AG2_QUEUE_SUBHR", aggregateRows)
          const keys = aggregateRows.map((r) => Number(r["date_time_key"]))
          yield* insert("CTL_AUDIT_LOG", [{
            audit_key: audit,
            created_ts: Math.floor(tS),
            min_date_time_key: keys.length > 0 ? Math.min(...keys) : null,
            max_date_time_key: keys.length > 0 ? Math.max(...keys) : null
          }])
        }))
        etlTime = t
        return { etlTime: t, inserted, updated, aggregateRows: aggregateRows.length }
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

/**
 * Imports a driver when a simulator of its kind is made: a host that runs the simulator
 * against one database should not load both clients.
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
  scenario: Scenario.Scenario,
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
  scenario: Scenario.Scenario,
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
  scenario: Scenario.Scenario,
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
