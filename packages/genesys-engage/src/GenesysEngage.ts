/**
 * The Genesys Engage connector (on-premise): reads Genesys Info Mart over SQL with read-only
 * SELECTs.
 *
 * - **contacts** (the rule of docs/counting.md): interval aggregates from the RAA view
 *   `AG2_QUEUE_SUBHR` (default; several rows per queue and interval are summed), or one
 *   contact event per queue visit from the facts (`MEDIATION_SEGMENT_FACT` at its queue entry,
 *   with its own agent legs from `INTERACTION_RESOURCE_FACT`, read around the window by the
 *   maximum contact span);
 * - **agent statuses**: `SM_RES_STATE_FACT` with `RESOURCE_`, `RESOURCE_STATE` and the
 *   reasons (`SM_RES_STATE_REASON_FACT`, `RESOURCE_STATE_REASON`), every state overlapping the
 *   window whole; open states (`END_TS` NULL) have no end;
 * - `pull(window)` reads the window in slices (`sliceHours`), one batch per slice; the engine
 *   re-imports its look-back window so rows the Info Mart ETL writes late replace what was
 *   read before;
 * - `realtime()` polls the agent states every `realtime.pollSeconds` (10 s);
 * - `check` connects and reports wrong credentials, missing tables and columns, unknown
 *   media codes and a user that could write.
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { GenesysConfigEncoded } from "./GenesysConfig.js"
import { GenesysConfig } from "./GenesysConfig.js"
import type { Db } from "./internal/db.js"
import { open } from "./internal/db.js"
import { defaultOptionalMeasures } from "./GenesysConfig.js"
import {
  readAggregates,
  readContactFacts,
  readStates,
  requiredColumns,
  table,
  withOptionalMeasures
} from "./internal/read.js"

/** The connector key. @since 0.1.0 @category constants */
export const key = "genesys-engage"

const HOUR_MS = 3_600_000
const QUARTER_MS = 900_000

/**
 * The slices a window is read in: `sliceHours` long, cut at quarter-hours so that no
 * 15-minute aggregate is split.
 *
 * @since 0.1.0 @category windows
 */
export const slices = (fromMs: number, toMs: number, sliceHours: number): Array<{ from: number; to: number }> => {
  const out: Array<{ from: number; to: number }> = []
  const size = Math.max(QUARTER_MS, Math.floor((sliceHours * HOUR_MS) / QUARTER_MS) * QUARTER_MS)
  let start = fromMs
  while (start < toMs) {
    const aligned = Math.floor(start / QUARTER_MS) * QUARTER_MS + size
    const end = Math.min(toMs, aligned)
    out.push({ from: start, to: end })
    start = end
  }
  return out
}

/**
 * Reads one slice: contacts (aggregates or facts) and the agent states overlapping it. `nowMs`
 * is the present: a state still open is known to run until then, so it overlaps a slice that
 * starts before it, not one in the future.
 *
 * @since 0.1.0 @category reading
 */
export const readSlice = (
  db: Db,
  config: GenesysConfig,
  fromMs: number,
  toMs: number,
  nowMs: number
): Effect.Effect<Domain.Batch, Connector.ConnectorError> =>
  Effect.gen(function*() {
    const aggregates = config.contacts.source === "aggregates" ? yield* readAggregates(db, config, fromMs, toMs) : []
    const contacts = config.contacts.source === "facts" ? yield* readContactFacts(db, config, fromMs, toMs) : []
    const statuses = config.agentStatuses.enabled
      ? yield* readStates(db, config, fromMs, toMs, fromMs < nowMs)
      : []
    return { contacts, aggregates, statuses }
  })

const pull = (config: GenesysConfig, window: Connector.Window): Stream.Stream<Domain.Batch, Connector.ConnectorError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const from = window.from.epochMillis
    const to = window.to.epochMillis
    if (to <= from) return Stream.empty
    const db = yield* open(config)
    const now = yield* Clock.currentTimeMillis
    const effective = yield* withOptionalMeasures(db, config)
    return Stream.fromIterable(slices(from, to, config.sliceHours)).pipe(
      Stream.mapEffect((s) => readSlice(db, effective, s.from, s.to, now))
    )
  }))

/**
 * A realtime element: a batch and the instant (epoch ms) it was read at, which the engine
 * may hand back as `position` when it reconnects.
 *
 * @since 0.1.0 @category models
 */
export interface PositionedBatch extends Domain.Batch {
  readonly position: number
}

/**
 * Realtime: every `pollSeconds` the agent states that were open or changed since the
 * previous poll (the first poll looks back from `position` when the engine gives one, else
 * 15 minutes). States are emitted whole; repeating one changes nothing in the engine.
 *
 * @since 0.1.0 @category reading
 */
export const realtime = (
  config: GenesysConfig,
  position?: number | undefined
): Stream.Stream<PositionedBatch, Connector.ConnectorError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const db = yield* open(config)
    const pollMs = Math.round(config.realtime.pollSeconds * 1000)
    const maxBackMs = config.agentStatuses.maxStateHours * HOUR_MS
    let since = position
    const poll = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // overlap the previous poll by one period: a state that closed just before it is caught
      const from = since === undefined ? now - QUARTER_MS : Math.max(now - maxBackMs, since - pollMs)
      const statuses = yield* readStates(db, config, from, now + 1000, true)
      since = now
      return { contacts: [], aggregates: [], statuses, position: now } satisfies PositionedBatch
    })
    return Stream.repeatEffectWithSchedule(poll, Schedule.spaced(Duration.millis(pollMs))).pipe(
      Stream.filter((b) => b.statuses.length > 0)
    )
  }))

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

const checkTable = (db: Db, config: GenesysConfig, name: Parameters<typeof table>[1], columns: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const actual = table(config, name)
    const label = actual === name ? `table ${name}` : `table ${name} (as ${actual})`
    const exists = yield* Effect.either(db.select(`SELECT 1 AS one FROM ${actual} WHERE 1 = 0`, [], `reading ${actual}`, [actual]))
    if (exists._tag === "Left") {
      const e = exists.left
      const detail = e._tag === "AuthFailed"
        ? `the user may not read ${actual}: grant it SELECT (${e.reason})`
        : e._tag === "InvalidData"
        ? `${actual} does not exist or is not visible to the user${
          config.schema ? ` in schema ${config.schema}` : ""
        }; check the schema and the table names in the config`
        : e.message
      return { name: label, ok: false, detail } satisfies Connector.CheckItem
    }
    const all = yield* Effect.either(
      db.select(`SELECT ${columns.join(", ")} FROM ${actual} WHERE 1 = 0`, [], `reading ${actual}`, [actual])
    )
    if (all._tag === "Right") {
      return { name: label, ok: true, detail: `readable, with the ${columns.length} columns the connector reads` }
    }
    const missing: Array<string> = []
    for (const column of columns) {
      const one = yield* Effect.either(db.select(`SELECT ${column} FROM ${actual} WHERE 1 = 0`, [], `reading ${actual}`))
      if (one._tag === "Left") missing.push(column)
    }
    return {
      name: label,
      ok: false,
      detail: missing.length > 0
        ? `${actual} lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}` +
          ` (an older or newer Info Mart version may name ${missing.length > 1 ? "them" : "it"} differently)`
        : all.left.message
    } satisfies Connector.CheckItem
  })

const checkMedia = (db: Db, config: GenesysConfig) =>
  Effect.gen(function*() {
    const mt = table(config, "MEDIA_TYPE")
    const rows = yield* db.select(`SELECT DISTINCT MEDIA_NAME_CODE AS code FROM ${mt}`, [], `reading ${mt}`, [mt])
    const found = new Set(rows.map((r) => String(r["code"])))
    const wanted = Object.keys(config.channels)
    const present = wanted.filter((c) => found.has(c))
    const items: Array<Connector.CheckItem> = []
    if (config.contacts.source !== "none") {
      items.push({
        name: "media codes",
        ok: present.length > 0,
        detail: present.length > 0
          ? `contacts of ${present.join(", ")} are imported${
            present.length < wanted.length ? `; ${wanted.filter((c) => !found.has(c)).join(", ")} not in ${mt}` : ""
          }`
          : `none of the configured media codes (${wanted.join(", ")}) is in ${mt}; it has ${
            Array.from(found).join(", ") || "no rows"
          }. Map those codes in "channels".`
      })
    }
    if (config.agentStatuses.enabled) {
      const media = config.agentStatuses.media
      items.push({
        name: "agent state media",
        ok: found.has(media),
        detail: found.has(media)
          ? `agent states of media ${media} are imported`
          : `the media code ${media} (agentStatuses.media) is not in ${mt}; it has ${Array.from(found).join(", ") || "no rows"}`
      })
    }
    return items
  }).pipe(Effect.catchAll((e) => Effect.succeed([{ name: "media codes", ok: false, detail: e.message }])))

/** Which of the optional RAA columns the view has (those left unset in the config). */
const checkOptionalMeasures = (db: Db, config: GenesysConfig) =>
  Effect.map(withOptionalMeasures(db, config), (effective): Connector.CheckItem => {
    const m = effective.contacts.measures
    const say = (what: string, columns: ReadonlyArray<string> | undefined, defaults: ReadonlyArray<string>) =>
      columns !== undefined && columns.length > 0
        ? `${what} from ${columns.join(" + ")}`
        : `${what} read 0 (${table(config, "AG2_QUEUE_SUBHR")} has no ${defaults.join(" or ")}; map the site's column in contacts.measures)`
    return {
      name: "short abandons and breakouts",
      ok: true,
      detail: `${say("short abandons", m.shortAbandoned, defaultOptionalMeasures.shortAbandoned)}; ${
        say("breakouts", m.breakout, defaultOptionalMeasures.breakout)
      }`
    }
  }).pipe(Effect.catchAll((e) => Effect.succeed({ name: "short abandons and breakouts", ok: false, detail: e.message })))

const checkReadOnly = (db: Db, config: GenesysConfig, tables: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    if (db.dialect !== "pg") {
      return { name: "read-only", ok: true, detail: "the SQLite file is opened read-only" } satisfies Connector.CheckItem
    }
    const writable: Array<string> = []
    for (const t of tables) {
      const rows = yield* db.select(
        `SELECT has_table_privilege(?, 'INSERT, UPDATE, DELETE, TRUNCATE') AS w`,
        [t],
        `checking the privileges on ${t}`
      )
      if (rows[0]?.["w"] === true) writable.push(t)
    }
    return {
      name: "read-only",
      ok: true,
      detail: writable.length === 0
        ? "the user can only read; every session is also opened read-only"
        : `every session is opened read-only, but the user could also write to ${writable.join(", ")}: ` +
          `a user with SELECT only is recommended (see the README)`
    } satisfies Connector.CheckItem
  }).pipe(Effect.catchAll((e) => Effect.succeed({ name: "read-only", ok: true, detail: `not checked: ${e.message}` })))

/**
 * Tests a configuration: the connection and credentials, each table and column the
 * configured reads need, the media codes, and whether the user could write.
 *
 * @since 0.1.0 @category check
 */
export const check = (config: GenesysConfig): Effect.Effect<Connector.CheckReport> =>
  Effect.scoped(Effect.gen(function*() {
    const opened = yield* Effect.either(open(config))
    if (opened._tag === "Left") {
      return { ok: false, items: [{ name: "connection", ok: false, detail: opened.left.message }] }
    }
    const db = opened.right
    const items: Array<Connector.CheckItem> = [{ name: "connection", ok: true, detail: `connected as ${db.who}` }]
    const required = requiredColumns(config)
    let tablesOk = true
    for (const [name, columns] of required) {
      const item = yield* checkTable(db, config, name, columns)
      tablesOk = tablesOk && item.ok
      items.push(item)
    }
    if (tablesOk) items.push(...(yield* checkMedia(db, config)))
    if (tablesOk && config.contacts.source === "aggregates") items.push(yield* checkOptionalMeasures(db, config))
    items.push(yield* checkReadOnly(db, config, required.map(([t]) => table(config, t))))
    return { ok: items.every((i) => i.ok), items }
  }))

/**
 * The connector value, to register with `ConnectorRegistry.layer(GenesysEngage.connector)`.
 *
 * @since 0.1.0 @category connectors
 */
export const connector: Connector.Connector<GenesysConfig, GenesysConfigEncoded> = Connector.make({
  key,
  displayName: "Genesys Engage (Info Mart)",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: GenesysConfig,
  pull,
  realtime,
  check,
  // the Info Mart ETL typically runs every 15 minutes [U]; later rows are caught by the look-back
  settleDelay: "15 minutes"
})
