/**
 * Realtime agent states from the Statistics Web Services: a snapshot, then long-polled changes.
 */
import type { Domain } from "@acd-bridge/core"
import { Connector, Time } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { call } from "./client.js"
import type { Config } from "./config.js"
import { supervisorEndpoint, zoneOf } from "./config.js"
import { emptyBatch, sessionOf } from "./reads.js"
import { activityIdentifier, missingColumns } from "./reports.js"
import type { Sessions } from "./sessions.js"
import { dataOf, isRecord } from "./soap.js"
import { parseTimestamp } from "./time.js"

/**
 * Realtime agent states from the Statistics Web Services: a snapshot, then long-polled
 * updates; every agent whose state (or its start) changed becomes an open agent status.
 */
export const realtime = (config: Config, _position?: number | undefined) => {
  const ep = supervisorEndpoint(config)
  const zone = zoneOf(config)
  const cols = config.statistics.columns
  interface Row {
    state: string
    since: string
    reason: string
  }
  type Cursor = { readonly timestamp: string; readonly rows: Map<string, Row> } | undefined
  const statusOf = (username: string, row: Row): Option.Option<Domain.AgentStatus> => {
    if (row.state === "") return Option.none()
    const since = parseTimestamp(row.since, zone)
    if (Either.isLeft(since)) return Option.none()
    return Option.some({
      agentIdentifier: username,
      activityIdentifier: activityIdentifier(row.state, row.reason),
      start: Time.utc(since.right),
      end: null
    })
  }
  const asString = (u: unknown) => (typeof u === "string" ? u : typeof u === "number" ? String(u) : "")
  const step = (cursor: Cursor) =>
    Effect.gen(function*() {
      const session = yield* sessionOf(ep)
      if (cursor === undefined) {
        const now = yield* Clock.currentTimeMillis
        yield* call(session, ep, "setSessionParameters", {
          viewSettings: {
            forceLogoutSession: config.statistics.forceLogoutSession,
            rollingPeriod: "Minutes30",
            shiftStart: 0,
            statisticsRange: "CurrentDay",
            timeZone: Time.offsetMs(now, zone)
          }
        })
        const result = yield* call(session, ep, "getStatistics", {
          statisticType: "AgentState",
          columnNames: { values: { data: [cols.username, cols.state, cols.since, cols.reason] } }
        })
        const value = isRecord(result) ? result : {}
        const columns = dataOf(value["columns"])
        const missing = missingColumns(columns, [cols.username, cols.state, cols.since])
        if (missing.length > 0) {
          return yield* new Connector.InvalidData({
            record: "getStatistics AgentState",
            reason: `no column ${missing.map((m) => `"${m}"`).join(", ")}`
          })
        }
        const at = (name: string) => columns.findIndex((c) => c.toUpperCase() === name.toUpperCase())
        const rows = new Map<string, Row>()
        for (const r of Array.isArray(value["rows"]) ? value["rows"] : []) {
          const data = dataOf(r)
          rows.set(data[at(cols.username)] ?? "", {
            state: data[at(cols.state)] ?? "",
            since: data[at(cols.since)] ?? "",
            reason: at(cols.reason) >= 0 ? data[at(cols.reason)] ?? "" : ""
          })
        }
        const timestamp = asString(value["timestamp"])
        const batch: Connector.RealtimeBatch = {
          ...emptyBatch,
          statuses: Array.from(rows, ([u, row]) => statusOf(u, row)).flatMap(Option.toArray),
          position: Number(timestamp) || undefined
        }
        return [Chunk.of(batch), Option.some<Cursor>({ timestamp, rows })] as const
      }
      const result = yield* call(session, ep, "getStatisticsUpdate", {
        statisticType: "AgentState",
        previousTimestamp: cursor.timestamp,
        longPollingTimeout: config.statistics.longPollSeconds * 1000
      })
      const value = isRecord(result) ? result : {}
      const updates = Array.isArray(value["dataUpdate"]) ? value["dataUpdate"] : []
      const changed = new Set<string>()
      for (const u of updates) {
        if (!isRecord(u)) continue
        const name = asString(u["objectName"])
        const column = asString(u["columnName"]).toUpperCase()
        const row = cursor.rows.get(name) ?? { state: "", since: "", reason: "" }
        const v = asString(u["columnValue"])
        if (column === cols.state.toUpperCase()) row.state = v
        else if (column === cols.since.toUpperCase()) row.since = v
        else if (column === cols.reason.toUpperCase()) row.reason = v
        else continue
        cursor.rows.set(name, row)
        changed.add(name)
      }
      const timestamp = asString(value["lastTimestamp"]) || cursor.timestamp
      const statuses = Array.from(changed, (u) => statusOf(u, cursor.rows.get(u)!)).flatMap(Option.toArray)
      const batch: Connector.RealtimeBatch = { ...emptyBatch, statuses, position: Number(timestamp) || undefined }
      // an answer without changes still moves the position (a heartbeat)
      return [Chunk.of(batch), Option.some<Cursor>({ timestamp, rows: cursor.rows })] as const
    }).pipe(
      Effect.scoped,
      Effect.catchTag("SoapFault", (f) =>
        Effect.fail(new Connector.InvalidData({ record: "Statistics Web Services", reason: `${f.fault}: ${f.message}` })))
    )
  return Stream.paginateChunkEffect<
    Cursor,
    Connector.RealtimeBatch,
    Connector.ConnectorError,
    HttpClient.HttpClient | Sessions
  >(
    undefined,
    step
  )
}
