/**
 * Interval rows, keyed (queue, channel, start): additive upserts for contacts, delete-and-write
 * for aggregates and re-imported windows, and the interval query.
 */
import { Bucketing, Domain } from "@acd-bridge/core"
import type { Storage, StorageDriver } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Dialect } from "./dialect.js"
import { chunks, edge, isEachConnection } from "./dialect.js"
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

/** Every channel: a query names them so that it reads by the key (queue, channel, start). */
const channels: ReadonlyArray<Domain.Channel> = Domain.Channel.literals

const sumColumns = Rows.measureColumns.map(([, c]) => `SUM(${c}) AS ${c}`).join(", ")

/** A whole number for SQL text (the pieces are computed, never taken from a request as text). */
const int = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new Error(`not a whole number: ${n}`)
  return String(n)
}

/**
 * The interval of each row as SQL (see `Storage.IntervalSumQuery`): per piece of the zone's
 * offsets, the last local multiple of the length at or before the row's start, never before
 * the piece's own start.
 */
const bucketExpression = (q: Storage.IntervalSumQuery, isPg: boolean): string => {
  const lengthMs = q.lengthMinutes * 60_000
  const quarter = "(start_ms - ((start_ms % 900000) + 900000) % 900000)"
  if (q.lengthMinutes === 15) return quarter
  const greatest = isPg ? "GREATEST" : "MAX"
  const aligned = (p: Storage.OffsetPiece) =>
    `${quarter} - ((((${quarter} + ${int(p.offsetMs)}) % ${lengthMs}) + ${lengthMs}) % ${lengthMs})`
  // an offset change is a boundary; the first piece's start is only where the list begins
  const piece = (p: Storage.OffsetPiece, i: number) => i === 0 ? aligned(p) : `${greatest}(${int(p.start)}, ${aligned(p)})`
  const [first, ...rest] = q.pieces
  if (rest.length === 0) return piece(first!, 0)
  return `CASE ${rest.map((p, i) => `WHEN start_ms < ${int(p.start)} THEN ${piece(q.pieces[i]!, i)}`).join(" ")} ELSE ${
    piece(q.pieces[q.pieces.length - 1]!, q.pieces.length - 1)
  } END`
}

/** The filters of an interval sum's rows, as SQL text with its placeholders appended to `params`. */
const sumFilters = (q: Storage.IntervalSumQuery, isPg: boolean, params: Array<string | number>) => {
  const p = (value: string | number) => {
    params.push(value)
    return isPg ? `$${params.length}` : "?"
  }
  const lengthMs = q.lengthMinutes * 60_000
  // placeholders in the order of the text (SQLite's are positional). With the queues named,
  // the rows are read by the key (queue, channel, start): SQLite's planner would otherwise pick
  // the (tenant, start) index and read every queue's rows in the range, so there the tenant and
  // integration are mere filters (`+column` keeps a term off any index)
  const filter = !isPg && q.queueIds !== undefined ? "+" : ""
  const tenant = ` ${filter}tenant_id = ${p(q.tenantId)}`
  const integration = q.integrationId === undefined ? "" : ` AND ${filter}integration_id = ${p(q.integrationId)}`
  const queues = q.queueIds === undefined
    ? ""
    : isPg
    ? ` AND queue_id IN (SELECT jsonb_array_elements_text(${p(JSON.stringify(q.queueIds))}::jsonb))`
    : ` AND queue_id IN (SELECT value FROM json_each(${p(JSON.stringify(q.queueIds))}))`
  const starts = ` AND start_ms >= ${p(q.from)} AND start_ms < ${p(q.to + lengthMs)}`
  return { where: `${tenant}${integration}${queues}\n        AND channel IN (${channels.map((c) => `'${c}'`).join(", ")})${starts}`, p }
}

/**
 * The interval sum as one statement: the rows read by their key (the queues and every channel,
 * a range of starts), grouped by queue, channel and interval in the database, ordered by
 * interval, queue, channel. Columns: queue, channel, interval start, then the sums in
 * `Rows.measureColumns` order (PostgreSQL's SUM is text).
 */
export const intervalSumsStatement = (q: Storage.IntervalSumQuery, isPg: boolean) => {
  const params: Array<string | number> = []
  const { p, where } = sumFilters(q, isPg, params)
  const buckets = `bucket >= ${p(q.from)} AND bucket < ${p(q.to)}`
  const text = `SELECT queue_id, channel, bucket, ${sumColumns} FROM (
      SELECT queue_id, channel, ${bucketExpression(q, isPg)} AS bucket, ${Rows.measureColumns.map(([, c]) => c).join(", ")}
      FROM interval_stats
      WHERE${where}
    ) AS rows_in_range
    WHERE ${buckets}
    GROUP BY queue_id, channel, bucket
    ORDER BY bucket, queue_id, channel`
  return { text, params }
}

/**
 * PostgreSQL: the rows of a 15-minute interval sum as they are stored, in the key's order
 * (queue, channel, start), no grouping in the database. A quarter-hour interval is the UTC
 * quarter a row starts in, and stored rows start on quarters, so grouping would return the
 * rows themselves; `quarterSums` sums the rare rows that share a quarter and orders by
 * interval. SQLite reads the same rows as column arrays: `quarterColumnsStatement`.
 */
export const quarterRowsStatement = (q: Storage.IntervalSumQuery) => {
  const params: Array<string | number> = []
  const { where } = sumFilters(q, true, params)
  const text = `SELECT queue_id, channel, start_ms, ${Rows.measureColumns.map(([, c]) => c).join(", ")}
    FROM interval_stats
    WHERE${where}
    ORDER BY queue_id, channel, start_ms`
  return { text, params }
}

/** A row as `.values` returns it: queue, channel, start, then the measures in `Rows.measureColumns` order. */
type ValuesRow = ReadonlyArray<unknown>

/**
 * A 15-minute sum as the readers below make them. Made with `new`, not as an object literal:
 * V8 moves an object literal's allocations to the old generation once most of them survive a
 * young-generation GC, and a month's 2,976 sums live through the whole request (read, then
 * written out row by row). Measured in one process over a month of one queue: with a literal,
 * the old generation grew by the month's sums (0.48 MB) on every query, which costs a major GC
 * every few dozen queries; made with `new`, it stayed flat.
 */
class QuarterSum implements Storage.IntervalSum {
  constructor(
    readonly queueId: Domain.QueueId,
    readonly channel: Domain.Channel,
    readonly start: number,
    readonly offered: number,
    readonly handled: number,
    readonly handlingMs: number,
    readonly unhandledMs: number,
    readonly talkMs: number,
    readonly holdMs: number,
    readonly afterCallWorkMs: number,
    readonly waitMs: number,
    readonly abandoned: number,
    readonly shortAbandoned: number,
    readonly breakout: number,
    readonly answeredInThreshold: number
  ) {}
}

/** Two sums of one queue's channel in one quarter, added. */
const addSums = (a: Storage.IntervalSum, b: Storage.IntervalSum): QuarterSum =>
  new QuarterSum(
    a.queueId,
    a.channel,
    a.start,
    a.offered + b.offered,
    a.handled + b.handled,
    a.handlingMs + b.handlingMs,
    a.unhandledMs + b.unhandledMs,
    a.talkMs + b.talkMs,
    a.holdMs + b.holdMs,
    a.afterCallWorkMs + b.afterCallWorkMs,
    a.waitMs + b.waitMs,
    a.abandoned + b.abandoned,
    a.shortAbandoned + b.shortAbandoned,
    a.breakout + b.breakout,
    a.answeredInThreshold + b.answeredInThreshold
  )

const sumFromValues = (row: ValuesRow, start: number): QuarterSum =>
  new QuarterSum(
    row[0] as Domain.QueueId,
    row[1] as Domain.Channel,
    start,
    Rows.num(row[3] as Rows.Num),
    Rows.num(row[4] as Rows.Num),
    Rows.num(row[5] as Rows.Num),
    Rows.num(row[6] as Rows.Num),
    Rows.num(row[7] as Rows.Num),
    Rows.num(row[8] as Rows.Num),
    Rows.num(row[9] as Rows.Num),
    Rows.num(row[10] as Rows.Num),
    Rows.num(row[11] as Rows.Num),
    Rows.num(row[12] as Rows.Num),
    Rows.num(row[13] as Rows.Num),
    Rows.num(row[14] as Rows.Num)
  )

/** The answer's order: interval, queue, channel. */
const compareSums = (a: Storage.IntervalSum, b: Storage.IntervalSum): number =>
  a.start - b.start || (a.queueId < b.queueId ? -1 : a.queueId > b.queueId ? 1 : 0) ||
  (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0)

/**
 * Appends a quarter's sum to `out` (key order), or adds it to the last one when both are one
 * queue's channel in one quarter (a start off the quarter: adjacent in the key's order).
 * Returns false when the sum comes before the last one in the answer's order.
 */
const appendQuarter = (out: Array<QuarterSum>, sum: QuarterSum): boolean => {
  const last = out[out.length - 1]
  if (last === undefined) {
    out.push(sum)
    return true
  }
  if (last.start === sum.start && last.queueId === sum.queueId && last.channel === sum.channel) {
    out[out.length - 1] = addSums(last, sum)
    return true
  }
  out.push(sum)
  return compareSums(last, sum) <= 0
}

/** Sums collected in key order, ordered by interval, queue, channel (unless they already are). */
const byInterval = (out: Array<QuarterSum>, sorted: boolean): Array<Storage.IntervalSum> =>
  sorted ? out : out.sort(compareSums)

/** Stored rows (key order) as 15-minute sums in [from, to), ordered by interval, queue, channel. */
export const quarterSums = (rows: ReadonlyArray<ValuesRow>, from: number, to: number): Array<Storage.IntervalSum> => {
  const out: Array<QuarterSum> = []
  let sorted = true
  for (const row of rows) {
    const quarter = Bucketing.quarterKey(Rows.num(row[2] as Rows.Num))
    if (quarter < from || quarter >= to) continue
    // one queue in one channel comes in interval order already
    if (!appendQuarter(out, sumFromValues(row, quarter))) sorted = false
  }
  return byInterval(out, sorted)
}

/**
 * SQLite: a 15-minute interval sum's stored rows (what `quarterRowsStatement` reads in
 * PostgreSQL) as one row per queue and channel, each column's values as one JSON array
 * (`json_group_array`) in the key's order. better-sqlite3 hands every
 * value of a row to JavaScript on its own (≈ 0.25 µs each: a month of one queue, 2,976 rows
 * of 15 columns, took 12 ms of its 41 ms); a JSON array of numbers is one string and
 * `JSON.parse` reads it at memory speed (the same month: 5.5 ms in SQLite, 1.3 ms parsing).
 * Grouped by the key's first two columns, SQLite reads the key in order and needs no sort
 * (`Indexes.test.ts` checks the plan); `quarterSumsOfColumns` does not rely on that order.
 */
export const quarterColumnsStatement = (q: Storage.IntervalSumQuery) => {
  const params: Array<string | number> = []
  const { where } = sumFilters(q, false, params)
  const text = `SELECT queue_id, channel, json_group_array(start_ms), ${
    Rows.measureColumns.map(([, c]) => `json_group_array(${c})`).join(", ")
  }
    FROM interval_stats
    WHERE${where}
    GROUP BY queue_id, channel`
  return { text, params }
}

/** The rows of `quarterColumnsStatement` (queue, channel, then JSON arrays: starts and each measure) as `quarterSums` gives them. */
export const quarterSumsOfColumns = (
  groups: ReadonlyArray<ReadonlyArray<unknown>>,
  from: number,
  to: number
): Array<Storage.IntervalSum> => {
  const out: Array<QuarterSum> = []
  let sorted = true
  for (const group of groups) {
    const queueId = group[0] as Domain.QueueId
    const channel = group[1] as Domain.Channel
    const starts = JSON.parse(group[2] as string) as Array<number>
    const m = Rows.measureColumns.map((_, k) => JSON.parse(group[k + 3] as string) as Array<number>)
    // the arrays' order is SQLite's reading order: the key's, but not promised by SQL
    let order: Array<number> | undefined
    for (let i = 1; i < starts.length; i++) {
      if (starts[i]! < starts[i - 1]!) {
        order = starts.map((_, k) => k).sort((a, b) => starts[a]! - starts[b]!)
        break
      }
    }
    for (let j = 0; j < starts.length; j++) {
      const i = order === undefined ? j : order[j]!
      const quarter = Bucketing.quarterKey(starts[i]!)
      if (quarter < from || quarter >= to) continue
      const sum = new QuarterSum(
        queueId,
        channel,
        quarter,
        m[0]![i]!,
        m[1]![i]!,
        m[2]![i]!,
        m[3]![i]!,
        m[4]![i]!,
        m[5]![i]!,
        m[6]![i]!,
        m[7]![i]!,
        m[8]![i]!,
        m[9]![i]!,
        m[10]![i]!,
        m[11]![i]!
      )
      if (!appendQuarter(out, sum)) sorted = false
    }
  }
  return byInterval(out, sorted)
}

/** Each column's values of `rows`, in `writtenColumns` order but the integration's two (one array per column). */
const columnArrays = (rows: ReadonlyArray<StorageDriver.StatRow>) => {
  const n = rows.length
  const queueIds = new Array<string>(n)
  const channelsOf = new Array<string>(n)
  const starts = new Array<number>(n)
  const lengths = new Array<number>(n)
  const measures = Rows.measureColumns.map(() => new Array<number>(n))
  for (let i = 0; i < n; i++) {
    const r = rows[i]!
    queueIds[i] = r.queueId
    channelsOf[i] = r.channel
    starts[i] = r.start
    lengths[i] = r.lengthMinutes
    for (let c = 0; c < measures.length; c++) measures[c]![i] = r.measures[Rows.measureColumns[c]![0]]
  }
  return [queueIds, channelsOf, starts, lengths, ...measures]
}

export const make = ({ isPg, sql }: Dialect): StorageDriver.StorageDriverShape["stats"] => {
  const addMeasures = Rows.measureColumns.map(([, c]) => `${c} = interval_stats.${c} + excluded.${c}`).join(", ")
  const onConflictAdd = `ON CONFLICT (queue_id, channel, start_ms) DO UPDATE SET ${addMeasures}`
  // The additive upsert of every batch. Each statement through the client costs a span, a
  // prepared-statement lookup, its building and (PostgreSQL) a round trip, often more than the
  // database's own work on a batch's rows, so each dialect gets the cheapest shape it has.
  //
  // PostgreSQL: one statement per call, one text for any number of rows, the rows as one array per column
  // (`unnest`), so the server parses and plans a short statement instead of thousands of
  // placeholders. The rows come sorted by key and `unnest` yields them in array order, so
  // concurrent writers still lock rows in the same order.
  const addPg = `INSERT INTO interval_stats (${writtenColumns.join(", ")})
    SELECT r.queue_id, r.channel, r.start_ms, $1, $2, r.length_minutes, ${Rows.measureColumns.map(([, c]) => `r.${c}`).join(", ")}
    FROM unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], ${
    Rows.measureColumns.map((_, i) => `$${i + 7}::bigint[]`).join(", ")
  }) AS r(queue_id, channel, start_ms, length_minutes, ${Rows.measureColumns.map(([, c]) => c).join(", ")})
    ${onConflictAdd}`
  // SQLite: one prepared single-row upsert per row, run on the transaction's connection.
  // Cheaper than multi-row statements there: a statement that writes several rows inside a
  // transaction keeps a statement journal of every page it changes (so it alone could be
  // undone), which a batch's rows spill into a temporary file; one row per statement needs
  // none. Run on the connection directly, a row costs no span or statement building; on the
  // connection `layerSqlite` opens, the rows run in one step (`executeEach`), as a loop over
  // the prepared statement. The unit of work stays the caller's transaction (or one of its
  // own when called outside any).
  const addRowText = `INSERT INTO interval_stats (${writtenColumns.join(", ")}) VALUES (${
    writtenColumns.map(() => "?").join(", ")
  }) ${onConflictAdd}`
  const rowValues = (integration: Domain.Integration, row: StorageDriver.StatRow) => {
    const values: Array<string | number> = []
    pushValues(values, integration, row)
    return values
  }
  const addRows = (integration: Domain.Integration, rows: ReadonlyArray<StorageDriver.StatRow>) =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) => {
      if (Option.isNone(transaction)) return Effect.dieMessage("stats.add: rows written one by one outside a transaction")
      const connection = transaction.value[0]
      return isEachConnection(connection)
        ? connection.executeEach(addRowText, rows.map((row) => rowValues(integration, row)))
        : Effect.forEach(rows, (row) => connection.execute(addRowText, rowValues(integration, row), undefined), {
          discard: true
        })
    }).pipe(
      Effect.withSpan("sql.execute", {
        kind: "client",
        captureStackTrace: false,
        attributes: { "db.operation.name": "executeRows", "db.query.text": addRowText, "db.rows": rows.length }
      })
    )
  const addSqlite = (integration: Domain.Integration, rows: ReadonlyArray<StorageDriver.StatRow>) =>
    Effect.flatMap(
      Effect.serviceOption(SqlClient.TransactionConnection),
      (transaction) =>
        Option.isSome(transaction)
          ? addRows(integration, rows)
          : sql.withTransaction(addRows(integration, rows))
    )
  const replaceMeasures = sql.literal(
    ["length_minutes", ...Rows.measureColumns.map(([, c]) => c)].map((c) => `${c} = excluded.${c}`).join(", ")
  )
  return {
    add: (integration, rows) =>
      rows.length === 0
        ? Effect.void
        : (isPg
          ? sql.unsafe(addPg, [integration.id, integration.tenantId, ...columnArrays(rows)])
          : addSqlite(integration, rows)).pipe(Effect.asVoid, edge("stats.add")),
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
    sum: (q) => {
      // the store's own rows, written through its checks: read as value arrays (no object per
      // row), without decoding each
      if (q.lengthMinutes === 15 && !isPg) {
        const { params, text } = quarterColumnsStatement(q)
        return sql.unsafe(text, params).values.pipe(
          Effect.map((groups) => quarterSumsOfColumns(groups, q.from, q.to)),
          edge("stats.sum")
        )
      }
      if (q.lengthMinutes === 15) {
        const { params, text } = quarterRowsStatement(q)
        return sql.unsafe(text, params).values.pipe(Effect.map((rows) => quarterSums(rows, q.from, q.to)), edge("stats.sum"))
      }
      const { params, text } = intervalSumsStatement(q, isPg)
      return sql.unsafe(text, params).values.pipe(
        Effect.map((rows) => rows.map((row) => sumFromValues(row, Rows.num(row[2] as Rows.Num)))),
        edge("stats.sum")
      )
    },
    query: (q) =>
      intervalStatsStatement(sql, q).pipe(
        Effect.flatMap((rows) => Effect.forEach(rows, Rows.intervalStatFromRow)),
        edge("stats.query")
      )
  }
}
