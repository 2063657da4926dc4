/**
 * The streamed interval answer's hand-written JSON (UTF-8 bytes) is exactly `JSON.stringify` of each row:
 * queue texts with quotes, backslashes, control characters and any Unicode, numbers of every
 * kind (fractions, -0, huge), and a missing average.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { Intervals } from "@acd-bridge/core"
import { rowsJson } from "../src/internal/intervalAnswer.js"

const text = fc.oneof(fc.string(), fc.fullUnicodeString(), fc.constantFrom("", "\"", "\\", "\u0000\u001f\u2028\u2029", "\ud800", "Zürich \"Sales\" \\ 東京"))
const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e21, 1e-7, 0.1 + 0.2))
const channel = fc.constantFrom("calls", "chat", "email", "social", "ticket", "document", "back-office")
const label = fc.constantFrom("2026-03-29T01:45:00+01:00", "2026-10-25T02:00:00+02:00", "2026-04-05T01:30:00+10:30")

const queue = fc.record({ queueId: text, queueIdentifier: text, queueName: text })
const measures = fc.record({
  channel,
  start: label,
  end: label,
  offered: number,
  handled: number,
  handlingSeconds: number,
  ahtSeconds: fc.option(number, { nil: null }),
  unhandledSeconds: number,
  talkSeconds: number,
  holdSeconds: number,
  afterCallWorkSeconds: number,
  waitSeconds: number,
  abandoned: number,
  shortAbandoned: number,
  breakout: number,
  answeredInThreshold: number
})

const decoder = new TextDecoder("utf-8", { fatal: true })

/** Rows as core's `Intervals.rows` hands them over (made when read); counts the reads. */
const lazy = (rows: ReadonlyArray<unknown>) => {
  const reads: Array<number> = []
  return {
    reads,
    rows: {
      length: rows.length,
      at: (index: number) => {
        reads.push(index)
        return rows[index] as Intervals.IntervalRow
      }
    }
  }
}

describe("rowsJson", () => {
  it("writes what JSON.stringify writes, row by row, joined by commas", () => {
    fc.assert(
      fc.property(fc.array(queue, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), measures), { maxLength: 30 }), (queues, picks) => {
        // the keys in the order core builds a row
        const rows = picks.map(([n, m]) => {
          const q = queues[n % queues.length]!
          return {
            queueId: q.queueId,
            queueIdentifier: q.queueIdentifier,
            queueName: q.queueName,
            channel: m.channel,
            start: m.start,
            end: m.end,
            offered: m.offered,
            handled: m.handled,
            handlingSeconds: m.handlingSeconds,
            ahtSeconds: m.ahtSeconds,
            unhandledSeconds: m.unhandledSeconds,
            talkSeconds: m.talkSeconds,
            holdSeconds: m.holdSeconds,
            afterCallWorkSeconds: m.afterCallWorkSeconds,
            waitSeconds: m.waitSeconds,
            abandoned: m.abandoned,
            shortAbandoned: m.shortAbandoned,
            breakout: m.breakout,
            answeredInThreshold: m.answeredInThreshold
          }
        })
        // distinct queue ids carry one identifier and name each, as in an answer
        const first = new Map(rows.map((r) => [r.queueId, r] as const))
        const consistent = rows.map((r) => ({ ...r, queueIdentifier: first.get(r.queueId)!.queueIdentifier, queueName: first.get(r.queueId)!.queueName }))
        const expected = consistent.map((r) => JSON.stringify(r)).join(",")
        const read = lazy(consistent)
        assert.strictEqual(decoder.decode(rowsJson(read.rows)), expected)
        // each row read once, in order
        assert.deepStrictEqual(read.reads, consistent.map((_, i) => i))
        // a later slice of the answer: a comma before its first row
        assert.strictEqual(decoder.decode(rowsJson(lazy(consistent).rows, true)), consistent.length === 0 ? "" : `,${expected}`)
        // a part of the rows: only its rows, and a comma between them only
        const from = Math.floor(consistent.length / 3)
        const to = Math.ceil((2 * consistent.length) / 3)
        const part = lazy(consistent)
        assert.strictEqual(
          decoder.decode(rowsJson(part.rows, false, from, to)),
          consistent.slice(from, to).map((r) => JSON.stringify(r)).join(",")
        )
        assert.deepStrictEqual(part.reads, consistent.slice(from, to).map((_, i) => from + i))
      }),
      { numRuns: 500 }
    )
  })

  it("grows past its first guess of the size (long queue names, long numbers)", () => {
    const row = {
      queueId: "q".repeat(3_000),
      queueIdentifier: "Zürich ".repeat(500),
      queueName: "東京\"\\".repeat(700),
      channel: "calls",
      start: "2026-03-29T01:45:00+01:00",
      end: "2026-03-29T03:00:00+02:00",
      offered: Number.MAX_SAFE_INTEGER,
      handled: 2 ** 60,
      handlingSeconds: -1.5e-7,
      ahtSeconds: 0.1 + 0.2,
      unhandledSeconds: -0,
      talkSeconds: 123456.789,
      holdSeconds: 1e21,
      afterCallWorkSeconds: -42,
      waitSeconds: Number.MIN_VALUE,
      abandoned: 0,
      shortAbandoned: 9,
      breakout: 10,
      answeredInThreshold: 99
    }
    const rows = [row, { ...row, queueId: "other", ahtSeconds: null }, row]
    assert.strictEqual(decoder.decode(rowsJson(lazy(rows).rows)), rows.map((r) => JSON.stringify(r)).join(","))
  })

  it("writes answers longer than one write's worth of rows whole", () => {
    // 64 rows go into the bytes per write: 0, 1, 63, 64, 65 and 200 rows, at every offset
    const row = (n: number) => ({
      queueId: `q${n % 3}`,
      queueIdentifier: `Q${n % 3}`,
      queueName: n % 3 === 2 ? "Zürich \"Nord\"" : `Queue ${n % 3}`,
      channel: "calls",
      start: `2026-03-29T01:${String(n % 60).padStart(2, "0")}:00+01:00`,
      end: "2026-03-29T03:00:00+02:00",
      offered: n,
      handled: n - 1,
      handlingSeconds: n * 1.5,
      ahtSeconds: n === 1 ? null : 1.5,
      unhandledSeconds: 0,
      talkSeconds: n / 7,
      holdSeconds: 1,
      afterCallWorkSeconds: 2,
      waitSeconds: 3,
      abandoned: 4,
      shortAbandoned: 5,
      breakout: 6,
      answeredInThreshold: 7
    })
    for (const n of [0, 1, 63, 64, 65, 200]) {
      const rows = Array.from({ length: n }, (_, i) => row(i + 1))
      for (const from of [0, 1, Math.floor(n / 2)]) {
        if (from > n) continue
        assert.strictEqual(
          decoder.decode(rowsJson(lazy(rows).rows, from > 0, from, n)),
          rows.slice(from).map((r) => `${from > 0 ? "," : ""}${JSON.stringify(r)}`).join(from > 0 ? "" : ","),
          `${n} rows from ${from}`
        )
      }
    }
  })
})
