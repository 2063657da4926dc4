/**
 * Interval rows, keyed (queue, channel, start): additive upserts for contacts, delete-and-write
 * for aggregates and re-imported windows, and the interval query.
 */
import type { Domain, Storage, StorageDriver } from "@acd-bridge/core"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type { Dialect } from "./dialect.js"
import { chunks, edge } from "./dialect.js"
import * as Rows from "./rows.js"

/**
 * The interval query (exported for the index tests, which EXPLAIN exactly this statement).
 * Rows whose start is in [from, to), of one tenant, optionally one integration and some queues.
 */
export const intervalStatsStatement = (sql: SqlClient.SqlClient, q: Storage.IntervalStatQuery) =>
  sql<Rows.IntervalStatRow>`SELECT ${sql.literal(Rows.intervalStatColumns)}
    FROM interval_stats WHERE tenant_id = ${q.tenantId}${
    q.integrationId === undefined ? sql.literal("") : sql` AND integration_id = ${q.integrationId}`
  }${q.queueIds === undefined ? sql.literal("") : sql` AND queue_id IN ${sql.in(q.queueIds)}`}
    AND start_ms >= ${q.from} AND start_ms < ${q.to}
    ORDER BY start_ms, queue_id, channel`

const measureValues = (m: Domain.Measures) => {
  const out: Record<string, number> = {}
  for (const [field, column] of Rows.measureColumns) out[column] = m[field]
  return out
}

const statRow = (integration: Domain.Integration, r: StorageDriver.StatRow) => ({
  queue_id: r.queueId,
  channel: r.channel,
  start_ms: r.start,
  integration_id: integration.id,
  tenant_id: integration.tenantId,
  length_minutes: r.lengthMinutes,
  ...measureValues(r.measures)
})

/** The columns of a written row, in the order `pushValues` lists their values. */
const writtenColumns = [
  "queue_id",
  "channel",
  "start_ms",
  "integration_id",
  "tenant_id",
  "length_minutes",
  ...Rows.measureColumns.map(([, c]) => c)
] as const

/** A row's values in `writtenColumns` order, appended to `out`. */
const pushValues = (out: Array<string | number>, integration: Domain.Integration, r: StorageDriver.StatRow) => {
  const m = r.measures
  out.push(
    r.queueId,
    r.channel,
    r.start,
    integration.id,
    integration.tenantId,
    r.lengthMinutes,
    m.offered,
    m.handled,
    m.handlingMs,
    m.unhandledMs,
    m.talkMs,
    m.holdMs,
    m.afterCallWorkMs,
    m.waitMs,
    m.abandoned,
    m.shortAbandoned,
    m.breakout,
    m.answeredInThreshold
  )
}

export const make = ({ isPg, sql }: Dialect): StorageDriver.StorageDriverShape["stats"] => {
  const addMeasures = Rows.measureColumns.map(([, c]) => `${c} = interval_stats.${c} + excluded.${c}`).join(", ")
  // The additive upsert of every push, as SQL texts made once per row count (the counts are
  // powers of two, see `batches.ts`) and run with a flat parameter list: building the statement
  // through the SQL template for each call (placeholders and bindings of up to 2,304 values)
  // cost more than SQLite's work on it.
  const addTexts = new Map<number, string>()
  const addText = (rows: number) => {
    let text = addTexts.get(rows)
    if (text === undefined) {
      const width = writtenColumns.length
      const tuples = Array.from({ length: rows }, (_, r) =>
        `(${
          Array.from({ length: width }, (_, c) => (isPg ? `$${r * width + c + 1}` : "?")).join(", ")
        })`).join(", ")
      text = `INSERT INTO interval_stats (${writtenColumns.join(", ")}) VALUES ${tuples}
        ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET ${addMeasures}`
      addTexts.set(rows, text)
    }
    return text
  }
  const replaceMeasures = sql.literal(
    ["length_minutes", ...Rows.measureColumns.map(([, c]) => c)].map((c) => `${c} = excluded.${c}`).join(", ")
  )
  return {
    add: (integration, rows) =>
      Effect.forEach(chunks(rows), (chunk) => {
        const values: Array<string | number> = []
        for (const r of chunk) pushValues(values, integration, r)
        return sql.unsafe(addText(chunk.length), values)
      }, { discard: true }).pipe(edge("stats.add")),
    replace: (integration, ranges, rows) =>
      Effect.gen(function*() {
        for (const chunk of chunks(ranges, 64)) {
          yield* sql`DELETE FROM interval_stats WHERE ${
            sql.or(
              chunk.map((r) =>
                sql`(queue_id = ${r.queueId} AND channel = ${r.channel} AND start_ms >= ${r.start} AND start_ms < ${r.end})`
              )
            )
          }`
        }
        for (const chunk of chunks(rows)) {
          yield* sql`INSERT INTO interval_stats ${sql.insert(chunk.map((r) => statRow(integration, r)))}
            ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET ${replaceMeasures}`
        }
      }).pipe(edge("stats.replace")),
    clearWindow: (id, from, to) =>
      sql`DELETE FROM interval_stats WHERE integration_id = ${id} AND start_ms >= ${from} AND start_ms < ${to}`.pipe(
        Effect.asVoid,
        edge("stats.clearWindow")
      ),
    query: (q) =>
      intervalStatsStatement(sql, q).pipe(
        Effect.flatMap((rows) => Effect.forEach(rows, Rows.intervalStatFromRow)),
        edge("stats.query")
      )
  }
}
