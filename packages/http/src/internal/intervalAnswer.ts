/**
 * Large interval answers, bounded and streamed. Core's `Intervals.query` computes a range at
 * once; to keep memory flat and send the first rows early, a large range is asked for in
 * consecutive slices of whole intervals, each written as soon as it is computed. Slices
 * partition the intervals and core sorts by start first, so the concatenation is the answer of
 * one query — with one exception handled here: with `fill=zero` core zero-fills every channel a
 * queue has data for *in the range asked*, so when a queue has data in a channel other than its
 * own, slicing would change the answer, and the range is computed at once instead.
 */
import type { Domain, Intervals } from "@acd-bridge/core"
import { Bucketing } from "@acd-bridge/core"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Buffer } from "node:buffer"
import * as Problem from "../Problem.js"

/** An answer of at most this many rows (queues × intervals) is sent whole. */
export const sliceRows = 1_000

/**
 * Rows per slice of a streamed answer (about): each slice is one query of the store, which
 * repeats the fixed work of a query (the tenant's queues, the statement); a month of one queue
 * at 15 minutes (2,976 intervals) is one query, not three. A slice's rows and text are what the
 * answer holds at once (≈ 2 MB), so memory stays flat.
 */
export const queryRows = 5_000

type Row = Intervals.IntervalRow

export interface Request<E> {
  readonly fromMs: number
  readonly toMs: number
  readonly length: Domain.IntervalMinutes
  readonly zone: DateTime.TimeZone
  readonly fill: "zero" | "none"
  /** the queues the answer may hold, with their own channel */
  readonly queues: ReadonlyArray<{ readonly id: string; readonly channel: Domain.Channel }>
  readonly maxRows: number
  /** core's query of [from, to) (epoch ms) */
  readonly query: (fromMs: number, toMs: number, fill: "zero" | "none") => Effect.Effect<ReadonlyArray<Row>, E>
}

/** Consecutive [from, to) ranges of `perSlice` whole intervals each of `all` (the intervals in [from, to)). */
const slicesOf = (
  request: Request<unknown>,
  all: ReadonlyArray<{ readonly start: number }>,
  perSlice: number
) => {
  const out: Array<{ readonly from: number; readonly to: number }> = []
  for (let i = 0; i < all.length; i += perSlice) {
    const next = all[i + perSlice]
    out.push({ from: i === 0 ? request.fromMs : all[i]!.start, to: next === undefined ? request.toMs : next.start })
  }
  return out
}

const encoder = new TextEncoder()

/** A number as `JSON.stringify` writes it (not finite: null). */
const num = (n: number): string => Number.isFinite(n) ? `${n}` : "null"

/**
 * The rows as `JSON.stringify` writes each (the same text, keys in the row's order), joined
 * by commas, as UTF-8 bytes; `comma` puts one before the first row. Written by hand because
 * the generic walk over every row's 19 keys was a quarter of a month query's time: the
 * queue's three texts are escaped once per queue, the labels and channels are our own ASCII
 * and need no escaping. Each row's text goes into one buffer as soon as it is made: joined
 * into one string first, every row (a template of ≈ 40 pieces) had to be flattened by the
 * join and the whole text copied again by the encoding (a month of one queue, 2,976 rows,
 * 1.1 MB: 6 ms against 4.3, and one copy of the text less per request).
 */
export const rowsJson = (rows: ReadonlyArray<Row>, comma = false): Uint8Array => {
  let bytes = Buffer.allocUnsafe(64 + rows.length * 400)
  let at = 0
  const heads = new Map<string, string>()
  const channels = new Map<string, string>()
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    let head = heads.get(r.queueId)
    if (head === undefined) {
      head = `{"queueId":${JSON.stringify(r.queueId)},"queueIdentifier":${JSON.stringify(r.queueIdentifier)},"queueName":${
        JSON.stringify(r.queueName)
      },"channel":`
      heads.set(r.queueId, head)
    }
    let channel = channels.get(r.channel)
    if (channel === undefined) {
      channel = JSON.stringify(r.channel)
      channels.set(r.channel, channel)
    }
    const row = `${i > 0 || comma ? "," : ""}${head}${channel},"start":"${r.start}","end":"${r.end}","offered":${
      num(r.offered)
    },"handled":${num(r.handled)},"handlingSeconds":${num(r.handlingSeconds)},"ahtSeconds":${
      r.ahtSeconds === null ? "null" : num(r.ahtSeconds)
    },"unhandledSeconds":${num(r.unhandledSeconds)},"talkSeconds":${num(r.talkSeconds)},"holdSeconds":${
      num(r.holdSeconds)
    },"afterCallWorkSeconds":${num(r.afterCallWorkSeconds)},"waitSeconds":${num(r.waitSeconds)},"abandoned":${
      num(r.abandoned)
    },"shortAbandoned":${num(r.shortAbandoned)},"breakout":${num(r.breakout)},"answeredInThreshold":${
      num(r.answeredInThreshold)
    }}`
    // at most 3 bytes per UTF-16 unit: `write` would cut a row short where it doesn't fit
    if (bytes.length - at < row.length * 3) {
      const more = Buffer.allocUnsafe(Math.max(bytes.length * 2, at + row.length * 3))
      bytes.copy(more, 0, 0, at)
      bytes = more
    }
    at += bytes.write(row, at)
  }
  return bytes.subarray(0, at)
}

/** The rows of each slice as one JSON array, written slice by slice. */
const jsonArray = <E>(parts: Stream.Stream<ReadonlyArray<Row>, E>): Stream.Stream<Uint8Array, E> =>
  Stream.succeed(encoder.encode("[")).pipe(
    Stream.concat(parts.pipe(
      Stream.mapAccum(false, (written, rows): readonly [boolean, Uint8Array] =>
        rows.length === 0 ? [written, new Uint8Array(0)] : [true, rowsJson(rows, written)]),
      Stream.filter((bytes) => bytes.length > 0)
    )),
    Stream.concat(Stream.succeed(encoder.encode("]")))
  )

const overLimit = (detail: string) => Effect.fail(Problem.unprocessable(detail, "to"))

/**
 * The answer of an interval query: 422 over `maxRows` (for `fill=zero` before any work, as
 * queues × intervals), the rows themselves when they are few, else a stream of slices whose
 * first slice is computed before the answer starts (so its failure is still a problem body).
 */
export const answer = <E>(
  request: Request<E>
): Effect.Effect<ReadonlyArray<Row> | HttpServerResponse.HttpServerResponse, E | Problem.UnprocessableEntity> =>
  Effect.gen(function*() {
    const all = Bucketing.intervals(request.fromMs, request.toMs, request.length, request.zone)
    const intervals = all.length
    const scope = request.queues.length
    const most = scope * intervals
    const max = request.maxRows
    if (request.fill === "zero" && most > max) {
      const days = Math.max(1, Math.floor(max / (scope * ((24 * 60) / request.length))))
      return yield* overLimit(
        `fill=zero would answer ${scope} queues × ${intervals.toLocaleString("en")} intervals = ` +
          `${most.toLocaleString("en")} rows, over the limit of ${max.toLocaleString("en")} rows per answer: ask for ` +
          `a narrower range (at most ${days} days of ${request.length}-minute intervals for ${scope} queues) or for ` +
          "one queue (queueId=…), and page through the rest"
      )
    }
    const whole = Effect.gen(function*() {
      const rows = yield* request.query(request.fromMs, request.toMs, request.fill)
      if (rows.length > max) {
        return yield* overLimit(
          `the answer would hold ${rows.length.toLocaleString("en")} rows, over the limit of ` +
            `${max.toLocaleString("en")} rows per answer: ask for a narrower range or for one queue (queueId=…), ` +
            "and page through the rest"
        )
      }
      return rows.length <= sliceRows ? rows : HttpServerResponse.stream(
        jsonArray(Stream.fromIterable(Array.from({ length: Math.ceil(rows.length / sliceRows) }, (_, i) =>
          rows.slice(i * sliceRows, (i + 1) * sliceRows)))),
        { contentType: "application/json" }
      )
    })
    // small: at once
    if (most <= sliceRows) return yield* whole
    const slices = slicesOf(request, all, Math.max(1, Math.floor(queryRows / Math.max(1, scope))))
    if (most > max) {
      // possibly over the limit (rows with data only, more queue-intervals than allowed): the
      // rows are counted slice by slice first, keeping none, so a refusal costs flat memory too
      let rows = 0
      for (const slice of slices) rows += (yield* request.query(slice.from, slice.to, "none")).length
      if (rows > max) {
        return yield* overLimit(
          `the answer would hold ${rows.toLocaleString("en")} rows, over the limit of ` +
            `${max.toLocaleString("en")} rows per answer: ask for a narrower range or for one queue (queueId=…), ` +
            "and page through the rest"
        )
      }
    }
    if (request.fill === "zero") {
      // a queue with data in another channel than its own gets zero rows in that channel over
      // the whole range: only a query of the whole range knows
      const own = new Map(request.queues.map((q) => [q.id, q.channel]))
      for (const slice of slices) {
        const rows = yield* request.query(slice.from, slice.to, "none")
        if (rows.some((row) => own.get(row.queueId) !== row.channel)) return yield* whole
      }
    }
    const first = yield* request.query(slices[0]!.from, slices[0]!.to, request.fill)
    const rest = Stream.fromIterable(slices.slice(1)).pipe(
      Stream.mapEffect((slice) => request.query(slice.from, slice.to, request.fill))
    )
    return HttpServerResponse.stream(jsonArray(Stream.concat(Stream.succeed(first), rest)), {
      contentType: "application/json"
    })
  })
