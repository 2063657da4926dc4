/**
 * Large interval answers, bounded and streamed. Core's `Intervals.rows` sums a range at once
 * (its rows are made as they are written); to keep memory flat and send the first rows early,
 * a large range is asked for in consecutive slices of whole intervals, each written as soon as
 * it is computed. Slices partition the intervals and core sorts by start first, so the
 * concatenation is the answer of one query — with one exception handled here: with `fill=zero`
 * core zero-fills every channel a queue has data for *in the range asked*, so when a queue has
 * data in a channel other than its own, slicing would change the answer, and the range is
 * computed at once instead.
 */
import type { Domain } from "@acd-bridge/core"
import { Bucketing, Intervals } from "@acd-bridge/core"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
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

type Rows = Intervals.IntervalRows

export interface Request<E> {
  readonly fromMs: number
  readonly toMs: number
  readonly length: Domain.IntervalMinutes
  readonly zone: DateTime.TimeZone
  readonly fill: "zero" | "none"
  /** the queues the answer may hold, with their own channel */
  readonly queues: ReadonlyArray<{ readonly id: string; readonly channel: Domain.Channel }>
  readonly maxRows: number
  /** core's query of [from, to) (epoch ms), each row made when read */
  readonly query: (fromMs: number, toMs: number, fill: "zero" | "none") => Effect.Effect<Rows, E>
}

/**
 * The starts of the intervals in [from, to), as numbers: one array, where `Bucketing.intervals`
 * makes an object per interval (a month at 15 minutes: 2,976, alive until the answer starts).
 */
const startsOf = (request: Request<unknown>): Array<number> => {
  const out: Array<number> = []
  let start = Bucketing.intervalStart(request.fromMs, request.length, request.zone)
  if (start < request.fromMs) start = Bucketing.intervalEnd(start, request.length, request.zone)
  for (; start < request.toMs; start = Bucketing.intervalEnd(start, request.length, request.zone)) out.push(start)
  return out
}

/** Consecutive [from, to) ranges of `perSlice` whole intervals each (`starts`: the intervals in [from, to)). */
const slicesOf = (request: Request<unknown>, starts: ReadonlyArray<number>, perSlice: number) => {
  const out: Array<{ readonly from: number; readonly to: number }> = []
  for (let i = 0; i < starts.length; i += perSlice) {
    const next = starts[i + perSlice]
    out.push({ from: i === 0 ? request.fromMs : starts[i]!, to: next === undefined ? request.toMs : next })
  }
  return out
}

const encoder = new TextEncoder()

/** A number as `JSON.stringify` writes it (not finite: null). */
const num = (n: number): string => Number.isFinite(n) ? `${n}` : "null"

/** Rows whose text is written into the answer's bytes at once (see `rowsJson`). */
const rowsPerWrite = 64

/**
 * Rows `from` … `to` - 1 as `JSON.stringify` writes each (the same text, keys in the row's
 * order), joined by commas, as UTF-8 bytes; `comma` puts one before the first row. Written by
 * hand because the generic walk over every row's 19 keys was a quarter of a month query's
 * time: the queue's three texts are escaped once per queue, the labels and channels are our
 * own ASCII and need no escaping.
 *
 * Each row is made (`rows.at`) just before its text and dropped after it, so the rows never
 * all live at once: while they did, every young-generation GC of the request (the text's
 * pieces are most of its garbage) copied the 2,976 rows of a month and their labels, and
 * promoted them to the old generation when it happened twice. The text of `rowsPerWrite` rows
 * at a time goes into the buffer in one `write`: the whole text joined first had to be
 * flattened at once (a month of one queue, 1.1 MB: 6 ms), and one `write` per row cost
 * 4.7 ms against 3.2 (`bench/query.ts`'s month, measured in isolation).
 */
export const rowsJson = (rows: Rows, comma = false, from = 0, to = rows.length): Uint8Array => {
  let bytes = Buffer.allocUnsafe(64 + (to - from) * 400)
  let at = 0
  let text = ""
  const heads = new Map<string, string>()
  const channels = new Map<string, string>()
  for (let i = from; i < to; i++) {
    const r = rows.at(i)
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
    text += `${i > from || comma ? "," : ""}${head}${channel},"start":"${r.start}","end":"${r.end}","offered":${
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
    if ((i - from) % rowsPerWrite !== rowsPerWrite - 1 && i !== to - 1) continue
    // `write` would cut the text short where it doesn't fit; at most 3 bytes per UTF-16 unit,
    // counted exactly only when that bound doesn't fit (a month's guess fits its ASCII)
    if (bytes.length - at < text.length * 3) {
      const needed = Buffer.byteLength(text)
      if (bytes.length - at < needed) {
        const more = Buffer.allocUnsafe(Math.max(bytes.length * 2, at + needed))
        bytes.copy(more, 0, 0, at)
        bytes = more
      }
    }
    at += bytes.write(text, at)
    text = ""
  }
  return bytes.subarray(0, at)
}

/** A part of an answer: rows `from` … `to` - 1 of `rows`. */
interface Part {
  readonly rows: Rows
  readonly from: number
  readonly to: number
}

const whole = (rows: Rows): Part => ({ rows, from: 0, to: rows.length })

/** The rows of each part as one JSON array, written part by part. */
const jsonArray = <E>(parts: Stream.Stream<Part, E>): Stream.Stream<Uint8Array, E> =>
  Stream.succeed(encoder.encode("[")).pipe(
    Stream.concat(parts.pipe(
      Stream.mapAccum(false, (written, part): readonly [boolean, Uint8Array] =>
        part.to <= part.from
          ? [written, new Uint8Array(0)]
          : [true, rowsJson(part.rows, written, part.from, part.to)]),
      Stream.filter((bytes) => bytes.length > 0)
    )),
    Stream.concat(Stream.succeed(encoder.encode("]")))
  )

/**
 * A stream of `value` once, which lets go of it when it is read. The response holds its stream
 * (the description) until the answer is written, and a stream that held the first part kept a
 * month's 2,976 sums alive while their 1.1 MB went out over the socket: they survived young
 * GCs and were promoted, a major GC every few dozen requests (with it: 245–280 ms of young GCs
 * per 200 month requests, against 284–416 without). Making the part's bytes before the answer
 * started, tried instead, kept its array buffers alive past young GCs: external memory piled
 * up to 60–70 MB and forced four to six major GCs per 200 requests.
 */
const once = <A>(value: A): Stream.Stream<A> => {
  let held: Option.Option<A> = Option.some(value)
  return Stream.suspend(() => {
    const taken = held
    held = Option.none()
    return Option.match(taken, { onNone: () => Stream.empty, onSome: Stream.succeed })
  })
}

const overLimit = (detail: string) => Effect.fail(Problem.unprocessable(detail, "to"))

/**
 * The answer of an interval query: 422 over `maxRows` (for `fill=zero` before any work, as
 * queues × intervals), the rows themselves when they are few, else a stream of slices whose
 * first slice is computed before the answer starts (so its failure is still a problem body).
 */
export const answer = <E>(
  request: Request<E>
): Effect.Effect<ReadonlyArray<Intervals.IntervalRow> | HttpServerResponse.HttpServerResponse, E | Problem.UnprocessableEntity> =>
  Effect.gen(function*() {
    const starts = startsOf(request)
    const intervals = starts.length
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
    const atOnce = Effect.gen(function*() {
      const rows = yield* request.query(request.fromMs, request.toMs, request.fill)
      if (rows.length > max) {
        return yield* overLimit(
          `the answer would hold ${rows.length.toLocaleString("en")} rows, over the limit of ` +
            `${max.toLocaleString("en")} rows per answer: ask for a narrower range or for one queue (queueId=…), ` +
            "and page through the rest"
        )
      }
      return rows.length <= sliceRows ? Intervals.toArray(rows) : HttpServerResponse.stream(
        jsonArray(Stream.fromIterable(Array.from({ length: Math.ceil(rows.length / sliceRows) }, (_, i) =>
          ({ rows, from: i * sliceRows, to: Math.min(rows.length, (i + 1) * sliceRows) })))),
        { contentType: "application/json" }
      )
    })
    // small: at once
    if (most <= sliceRows) return yield* atOnce
    const slices = slicesOf(request, starts, Math.max(1, Math.floor(queryRows / Math.max(1, scope))))
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
        for (let i = 0; i < rows.length; i++) {
          const row = rows.at(i)
          if (own.get(row.queueId) !== row.channel) return yield* atOnce
        }
      }
    }
    const first = yield* request.query(slices[0]!.from, slices[0]!.to, request.fill)
    const rest = Stream.fromIterable(slices.slice(1)).pipe(
      Stream.mapEffect((slice) => Effect.map(request.query(slice.from, slice.to, request.fill), whole))
    )
    return HttpServerResponse.stream(jsonArray(Stream.concat(once(whole(first)), rest)), {
      contentType: "application/json"
    })
  })
