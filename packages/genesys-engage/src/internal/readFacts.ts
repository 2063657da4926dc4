/**
 * Contacts from the Info Mart facts: one event per queue visit (mediation segment), at its
 * queue entry, with that visit's agent legs.
 *
 * @internal
 */
import { type Connector, Time } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { GenesysConfig } from "../GenesysConfig.js"
import type { Db } from "./db.js"
import { QUARTER_S, table, placeholders, invalid, intOrNull, int, nonNegative, text, iso, secondsOf, mediaCodes } from "./readValues.js"

// ---------------------------------------------------------------------------
// contacts from the facts
// ---------------------------------------------------------------------------

/**
 * The two fact SELECTs for a window `[from, to)`, reading around it by the maximum contact
 * span:
 *
 * - the mediation segments (queue visits) that entered their queue in `[from, to + span)`:
 *   those in the window are emitted; the later ones only say which agent legs start the next
 *   visit (their `TARGET_IXN_RESOURCE_ID`);
 * - the agent legs (`INTERACTION_RESOURCE_FACT` of an `AGENT` resource) that started in
 *   `[from, to + span)`: a visit's legs start after it entered its queue and end within the
 *   span;
 *
 * both of interactions of the configured media and types that started at most a span before
 * `from` (the IVR comes first).
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
  const msf = table(config, "MEDIATION_SEGMENT_FACT")
  const td = table(config, "TECHNICAL_DESCRIPTOR")
  const irf = table(config, "INTERACTION_RESOURCE_FACT")
  const interaction = (alias: string) =>
    `JOIN ${ixn} i ON i.INTERACTION_ID = ${alias}.INTERACTION_ID
JOIN ${mt} m ON m.MEDIA_TYPE_KEY = i.MEDIA_TYPE_KEY${
      types.length > 0 ? `\nJOIN ${itype} it ON it.INTERACTION_TYPE_KEY = i.INTERACTION_TYPE_KEY` : ""
    }`
  const interactionWhere = `i.START_DATE_TIME_KEY >= ? AND m.MEDIA_NAME_CODE IN (${placeholders(media.length)})${
    types.length > 0 ? `\n  AND it.INTERACTION_TYPE_CODE IN (${placeholders(types.length)})` : ""
  }`
  const segments = `SELECT s.INTERACTION_ID AS interaction_id, s.MEDIATION_SEGMENT_ID AS segment_id, s.START_TS AS start_ts,
  s.END_TS AS end_ts, s.MEDIATION_DURATION AS wait_s, s.TARGET_IXN_RESOURCE_ID AS target_id, s.RESOURCE_KEY AS resource_key,
  q.RESOURCE_NAME AS queue_name, m.MEDIA_NAME_CODE AS media_code, d.TECHNICAL_RESULT_CODE AS result_code
FROM ${msf} s
${interaction("s")}
LEFT JOIN ${res} q ON q.RESOURCE_KEY = s.RESOURCE_KEY
LEFT JOIN ${td} d ON d.TECHNICAL_DESCRIPTOR_KEY = s.TECHNICAL_DESCRIPTOR_KEY
WHERE s.START_DATE_TIME_KEY >= ? AND s.START_DATE_TIME_KEY < ? AND s.START_TS >= ? AND s.START_TS < ?
  AND ${interactionWhere}
ORDER BY s.INTERACTION_ID, s.START_TS, s.MEDIATION_SEGMENT_ID`
  const legs = `SELECT f.INTERACTION_ID AS interaction_id, f.INTERACTION_RESOURCE_ID AS leg_id,
  f.RECEIVED_FROM_IXN_RESOURCE_ID AS received_from, f.START_TS AS start_ts, f.END_TS AS end_ts,
  f.TALK_DURATION AS talk_s, f.HOLD_DURATION AS hold_s, f.AFTER_CALL_WORK_DURATION AS acw_s, d.RESOURCE_ROLE AS role
FROM ${irf} f
JOIN ${res} a ON a.RESOURCE_KEY = f.RESOURCE_KEY AND a.RESOURCE_TYPE_CODE = ?
${interaction("f")}
LEFT JOIN ${td} d ON d.TECHNICAL_DESCRIPTOR_KEY = f.TECHNICAL_DESCRIPTOR_KEY
WHERE f.START_DATE_TIME_KEY >= ? AND f.START_DATE_TIME_KEY < ? AND f.START_TS >= ? AND f.START_TS < ?
  AND ${interactionWhere}
ORDER BY f.INTERACTION_ID, f.START_TS, f.INTERACTION_RESOURCE_ID`
  const spanS = Math.round(config.contacts.maxContactSpanHours * 3600)
  const params = (fromS: number, toS: number): Array<unknown> => [
    Math.floor(fromS / QUARTER_S) * QUARTER_S,
    toS + spanS,
    fromS,
    toS + spanS,
    Math.floor((fromS - spanS) / QUARTER_S) * QUARTER_S,
    ...media,
    ...types
  ]
  const interactionTables = [ixn, mt, ...(types.length > 0 ? [itype] : [])]
  return {
    segments,
    legs,
    segmentTables: [msf, ...interactionTables, res, td],
    legTables: [irf, res, ...interactionTables, td],
    segmentParams: (fromS: number, toS: number): ReadonlyArray<unknown> => params(fromS, toS),
    legParams: (fromS: number, toS: number): ReadonlyArray<unknown> => ["AGENT", ...params(fromS, toS)]
  }
}

interface Segment {
  readonly id: string
  readonly record: string
  readonly start: number
  readonly end: number | null
  readonly waitS: number
  readonly target: string | null
  readonly queue: string
  readonly media: string
  readonly result: string
}

interface Leg {
  readonly id: string
  readonly consult: boolean
  readonly closed: boolean
  readonly talkS: number
  readonly holdS: number
  readonly acwS: number
}

/**
 * One contact event per queue visit (`MEDIATION_SEGMENT_FACT`) that entered its queue in the
 * window, at that instant, in that queue:
 *
 * - handled when the segment's `TARGET_IXN_RESOURCE_ID` is an agent's leg; the visit's legs
 *   are that leg and the legs received from it (`RECEIVED_FROM_IXN_RESOURCE_ID`, agent to
 *   agent transfers), except consults (`consultRoles`) and legs that start another visit
 *   (the target of a later segment: a transfer through a queue); talk, hold and after-call
 *   work are theirs, of the legs Info Mart has closed;
 * - abandoned when the segment's `TECHNICAL_RESULT_CODE` is one of `abandonedResults` (short
 *   below `shortAbandonSeconds`), else a breakout: it left the queue without an agent and
 *   without hanging up;
 * - a segment still active (no `END_TS`) is an offer with nothing else yet: a later run reads
 *   it again, finished.
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
    const segmentRows = yield* db.select(q.segments, q.segmentParams(from, to), `reading ${msf}`, q.segmentTables)
    const legRows = yield* db.select(q.legs, q.legParams(from, to), `reading ${irf}`, q.legTables)

    const segments: Array<Segment> = []
    const targets = new Set<string>()
    for (const row of segmentRows) {
      const id = text(row["segment_id"]) ?? "NULL"
      const record = `${msf} MEDIATION_SEGMENT_ID=${id} (INTERACTION_ID=${text(row["interaction_id"]) ?? "NULL"})`
      const start = yield* int(row["start_ts"], record, "START_TS")
      const end = yield* intOrNull(row["end_ts"], record, "END_TS")
      const target = text(row["target_id"])
      if (target !== null) targets.add(target)
      if (start >= to) continue
      const queue = text(row["queue_name"])
      if (queue === null || queue.trim().length === 0) {
        return yield* invalid(record, `RESOURCE_KEY ${text(row["resource_key"]) ?? "NULL"} has no queue in RESOURCE_`)
      }
      if (queue.length > 255) return yield* invalid(record, `the queue name is longer than 255 characters`)
      let waitS = 0
      if (end !== null) {
        if (end < start) return yield* invalid(record, `END_TS ${iso(end)} is before START_TS ${iso(start)}`)
        waitS = (yield* intOrNull(row["wait_s"], record, "MEDIATION_DURATION")) ?? end - start
        if (waitS < 0) return yield* invalid(record, `MEDIATION_DURATION is negative (${waitS})`)
      }
      segments.push({
        id,
        record,
        start,
        end,
        waitS,
        target,
        queue,
        media: text(row["media_code"]) ?? "",
        result: text(row["result_code"]) ?? ""
      })
    }

    const consultRoles = new Set(config.contacts.consultRoles)
    const legs = new Map<string, Leg>()
    const received = new Map<string, Array<string>>()
    for (const row of legRows) {
      const id = text(row["leg_id"]) ?? "NULL"
      const record = `${irf} INTERACTION_RESOURCE_ID=${id} (INTERACTION_ID=${text(row["interaction_id"]) ?? "NULL"})`
      const start = yield* int(row["start_ts"], record, "START_TS")
      const end = yield* intOrNull(row["end_ts"], record, "END_TS")
      const closed = end !== null
      if (closed && end < start) return yield* invalid(record, `END_TS ${iso(end)} is before START_TS ${iso(start)}`)
      // an active row's durations are not written yet
      const talkS = closed ? yield* nonNegative(row["talk_s"], record, "TALK_DURATION") : 0
      const holdS = closed ? yield* nonNegative(row["hold_s"], record, "HOLD_DURATION") : 0
      const acwS = closed ? yield* nonNegative(row["acw_s"], record, "AFTER_CALL_WORK_DURATION") : 0
      legs.set(id, { id, consult: consultRoles.has(text(row["role"]) ?? ""), closed, talkS, holdS, acwS })
      const parent = text(row["received_from"])
      if (parent !== null) received.set(parent, [...(received.get(parent) ?? []), id])
    }

    /** a visit's legs: its target and what was received from them, not consults, not another visit's first leg */
    const legsOf = (target: string): Array<Leg> => {
      const out: Array<Leg> = []
      const seen = new Set<string>()
      const stack = [target]
      while (stack.length > 0) {
        const id = stack.pop()!
        if (seen.has(id)) continue
        seen.add(id)
        const leg = legs.get(id)
        if (leg === undefined || leg.consult) continue
        out.push(leg)
        for (const child of received.get(id) ?? []) if (!targets.has(child)) stack.push(child)
      }
      return out
    }

    const shortMs = config.contacts.shortAbandonSeconds * 1000
    const abandonedResults = new Set(config.contacts.abandonedResults)
    const out: Array<Domain.ContactEvent> = []
    for (const s of segments) {
      const channel = config.channels[s.media]
      if (channel === undefined) continue
      if (config.contacts.queues.length > 0 && !config.contacts.queues.includes(s.queue)) continue
      const base = { queueIdentifier: s.queue, queueName: s.queue, channel, timestamp: Time.utc(s.start * 1000), offered: true }
      if (s.end === null) {
        out.push({ ...base, handled: false, durationMs: 0, waitMs: 0, abandoned: false, shortAbandoned: false, breakout: false })
        continue
      }
      const waitMs = s.waitS * 1000
      const first = s.target === null ? undefined : legs.get(s.target)
      if (first !== undefined && !first.consult) {
        let talkS = 0, holdS = 0, acwS = 0
        for (const leg of legsOf(first.id)) {
          if (!leg.closed) continue
          talkS += leg.talkS
          holdS += leg.holdS
          acwS += leg.acwS
        }
        out.push({
          ...base,
          handled: true,
          durationMs: (talkS + holdS + acwS) * 1000,
          talkMs: talkS * 1000,
          holdMs: holdS * 1000,
          afterCallWorkMs: acwS * 1000,
          waitMs,
          abandoned: false,
          shortAbandoned: false,
          breakout: false
        })
        continue
      }
      const abandoned = abandonedResults.has(s.result)
      out.push({
        ...base,
        handled: false,
        durationMs: waitMs,
        waitMs,
        abandoned,
        shortAbandoned: abandoned && waitMs < shortMs,
        breakout: !abandoned
      })
    }
    return out
  })

