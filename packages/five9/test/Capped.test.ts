/**
 * The row-cap logic on its own (`internal/capped.ts`), over a fake report: rows at instants,
 * a server that cuts each result after `cap` rows and counts its runs.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { documentedCaps, readCapped } from "../src/internal/capped.js"
import type { Table } from "../src/internal/reports.js"

const from = Date.parse("2026-03-03T08:00:00Z")
const DAY = 86_400_000

/** `count` rows spread over a day (whole seconds, several at some instants) */
const spread = (count: number) => Array.from({ length: count }, (_, i) => from + Math.floor((i * 7919) % (DAY / 1000)) * 1000)

const server = (rows: ReadonlyArray<number>, cap: number) => {
  const log: Array<{ from: number; to: number; rows: number }> = []
  const run = (a: number, b: number) =>
    Effect.sync((): Table => {
      const hit = rows.filter((t) => t >= a && t < b).sort((x, y) => x - y).slice(0, cap)
      log.push({ from: a, to: b, rows: hit.length })
      return { header: ["T"], rows: hit.map((t, i) => [String(t), String(i)]) }
    })
  return { run, log }
}

const read = (rows: ReadonlyArray<number>, cap: number, maxRows = 50_000, memory = { trustedUpTo: 0 }) => {
  const s = server(rows, cap)
  return Effect.map(
    readCapped({ run: s.run, report: "Call Log Reports/Call Log", maxRows, memory }, from, from + DAY),
    (table) => ({ table, log: s.log, memory })
  )
}

describe("row caps", () => {
  it.effect("a result at a documented cap (5,000) is never used: the day is split until every part is below it", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(documentedCaps, [5_000, 50_000])
      const rows = spread(12_000)
      const { log, table } = yield* read(rows, 5_000)
      assert.strictEqual(table.rows.length, 12_000)
      assert.strictEqual(log[0]!.rows, 5_000)
      assert.deepStrictEqual(table.rows.map((r) => Number(r[0])).sort((a, b) => a - b), [...rows].sort((a, b) => a - b))
      // the whole day's result was split without being checked (its count is a documented cap)
      assert.deepStrictEqual([log[1]!.from, log[1]!.to], [from, from + DAY / 2])
    }))

  it.effect("an undocumented cap below maxRows is found by checking the halves; what is verified is trusted later", () =>
    Effect.gen(function*() {
      const rows = spread(2_000)
      const memory = { trustedUpTo: 0 }
      const first = yield* read(rows, 700, 50_000, memory)
      assert.strictEqual(first.table.rows.length, 2_000)
      assert.isAbove(memory.trustedUpTo, 0)
      assert.isBelow(memory.trustedUpTo, 700)
      // a result no larger than one verified complete needs no check: one run
      const small = spread(2_000).filter((t) => t < from + DAY / 8)
      assert.isAtMost(small.length, memory.trustedUpTo)
      const second = yield* read(small, 700, 50_000, memory)
      assert.strictEqual(second.table.rows.length, small.length)
      assert.strictEqual(second.log.length, 1)
    }))

  it.effect("a complete result larger than any verified is checked once with its two halves", () =>
    Effect.gen(function*() {
      const { log, memory, table } = yield* read(spread(300), 50_000)
      assert.strictEqual(table.rows.length, 300)
      assert.strictEqual(log.length, 3)
      assert.strictEqual(memory.trustedUpTo, 300)
    }))

  it.effect("one second with more rows than the cap fails with InvalidData naming the report and the second", () =>
    Effect.gen(function*() {
      const busy = from + 5 * 3_600_000
      const rows = [...spread(50), ...Array.from({ length: 9 }, () => busy)]
      const error = yield* Effect.flip(read(rows, 8))
      assert.strictEqual(error._tag, "InvalidData")
      assert.strictEqual(error.record, `Call Log Reports/Call Log [${new Date(busy).toISOString()}, ${new Date(busy + 1000).toISOString()})`)
      assert.match(error.reason, /returned 8 rows for one second/)
    }))

  it.effect("rows at the edge of two halves come once, whatever the report's end", () =>
    Effect.gen(function*() {
      const rows = spread(40)
      // a server whose criteria end were inclusive: the instant `to` comes in both halves
      const log: Array<number> = []
      const run = (a: number, b: number) =>
        Effect.sync((): Table => {
          const hit = rows.filter((t) => t >= a && t <= b).slice(0, 30)
          log.push(hit.length)
          return { header: ["T"], rows: hit.map((t) => [String(t)]) }
        })
      const table = yield* readCapped(
        { run, report: "r", maxRows: 50_000, memory: { trustedUpTo: 0 } },
        from,
        from + DAY
      )
      assert.deepStrictEqual(table.rows.map((r) => Number(r[0])).sort((a, b) => a - b), [...rows].sort((a, b) => a - b))
    }))
})
