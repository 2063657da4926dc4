/**
 * The interval query summed in the database (`stats.sum`) answers exactly what core's own
 * summing over the rows answers (the in-memory store has no `sum`): the same intervals, DST
 * days and odd offsets included, on SQLite and PostgreSQL.
 */
import { Domain, Intervals, Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fc from "fast-check"
import { SqlStorage } from "../src/index.js"
import { quarterSums, quarterSumsOfColumns } from "../src/internal/stats.js"
import { integrationRow } from "./fixtures/integration.js"
import { freshPgDatabase, tempSqliteFile } from "./utils.js"

const tenantId = Domain.TenantId.make("tenant-sums")
/** Lord Howe leaves DST (a 30-minute shift) on 2026-04-05; Berlin and Kathmandu as they are */
const T0 = Date.parse("2026-04-03T00:00:00Z")
const HOURS = 24 * 4
const channels = ["calls", "chats"] as const

const integrations = [
  integrationRow(T0, { id: Domain.IntegrationId.make("sums-1"), tenantId, name: "one" }),
  integrationRow(T0, { id: Domain.IntegrationId.make("sums-2"), tenantId, name: "two" })
]

/** Contacts every 7 minutes on three queues of each integration; one queue also in a second channel. */
const seed = Effect.gen(function*() {
  const s = yield* Storage.Storage
  for (const [n, integration] of integrations.entries()) {
    yield* s.integrations.insert(integration)
    const contacts: Array<Domain.ContactEvent> = []
    for (let k = 0; k < (HOURS * 60) / 7; k++) {
      const queue = (k + n) % 3
      contacts.push({
        queueIdentifier: `q${queue}`,
        queueName: queue === 2 ? "Zeta" : `Queue ${queue}`,
        channel: queue === 0 && k % 5 === 0 ? channels[1] : channels[0],
        timestamp: DateTime.unsafeMake(T0 + k * 7 * 60_000 + n * 1_000),
        offered: true,
        handled: k % 4 !== 0,
        durationMs: 1_000 * (k % 97)
      })
    }
    yield* s.data.ingest({
      integrationId: integration.id,
      batch: { contacts, aggregates: [], statuses: [] },
      mode: "push",
      stagingLimit: 0,
      now: T0
    })
  }
})

/** The answers to a set of queries, with queue ids replaced by their identifiers (ids are random per store). */
const answers = Effect.gen(function*() {
  yield* seed
  const intervals = yield* Intervals.Intervals
  const storage = yield* Storage.Storage
  const queues = yield* storage.queues.list({ tenantId })
  const byIdentity = (id: string) => {
    const q = queues.find((x) => x.id === id)!
    return `${q.integrationId}/${q.identifier}`
  }
  const out: Array<unknown> = []
  for (const timezone of ["Australia/Lord_Howe", "Europe/Berlin", "Asia/Kathmandu"]) {
    for (const length of [15, 30, 60] as const) {
      for (const fill of ["none", "zero"] as const) {
        const one = queues.find((q) => q.integrationId === "sums-2" && q.identifier === "q0")!
        for (const scope of [{}, { integrationId: integrations[0]!.id }, { queueId: one.id }]) {
          const rows = yield* intervals.query(tenantId, {
            ...scope,
            from: DateTime.unsafeMake(T0 + 3 * 3_600_000 + 15 * 60_000),
            to: DateTime.unsafeMake(T0 + (HOURS - 5) * 3_600_000),
            length,
            timezone,
            fill
          })
          // queues with the same identifier and name in both integrations tie in the answer's
          // order and are told apart by their ids, which differ per store: compare in one order
          const key = (r: { readonly start: string; readonly queueId: string; readonly channel: string }) =>
            `${r.start}|${r.queueId}|${r.channel}`
          out.push(
            rows.map((r) => ({ ...r, queueId: byIdentity(r.queueId) })).sort((a, b) =>
              key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0
            )
          )
        }
      }
    }
  }
  return out
})

const withIntervals = <E>(storage: Layer.Layer<Storage.Storage, E>) => Intervals.Intervals.Default.pipe(Layer.provideMerge(storage))

describe("interval sums in the database", () => {
  it.effect("SQLite answers as core's own summing does", () =>
    Effect.gen(function*() {
      const expected = yield* answers.pipe(Effect.provide(withIntervals(Storage.layerMemory)))
      const actual = yield* answers.pipe(Effect.provide(withIntervals(SqlStorage.layerSqlite({ filename: tempSqliteFile() }))))
      assert.isAbove(expected.flat().length, 1_000)
      assert.deepStrictEqual(actual, expected)
    }))

  it.scoped("PostgreSQL answers as core's own summing does", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      const expected = yield* answers.pipe(Effect.provide(withIntervals(Storage.layerMemory)))
      const actual = yield* answers.pipe(Effect.provide(withIntervals(SqlStorage.layerPg({ url }))))
      assert.deepStrictEqual(actual, expected)
    }))
})

describe("quarterSums (15-minute sums from rows in the key's order)", () => {
  const row = (queue: string, channel: string, start: number, offered: number) =>
    [queue, channel, start, offered, offered, 1_000 * offered, 0, 0, 0, 0, 0, 0, 0, 0, offered] as const
  const Q = 900_000

  it("sums rows that share a quarter, leaves out quarters outside [from, to), orders by interval, queue, channel", () => {
    const from = T0 + Q
    const to = T0 + 4 * Q
    const sums = quarterSums(
      [
        row("a", "calls", T0 + 2 * Q, 1),
        row("a", "calls", T0 + 2 * Q + 60_000, 2), // off the quarter: the same interval
        row("a", "calls", T0 + 3 * Q, 4),
        row("a", "calls", T0 + 4 * Q, 8), // the interval starting at `to`: left out
        row("a", "chats", T0 + Q, 16),
        row("b", "calls", T0 + Q + 1, 32), // off the quarter, in the first interval
        row("b", "calls", T0 + 2 * Q, 64)
      ],
      from,
      to
    )
    assert.deepStrictEqual(
      sums.map((s) => [s.queueId, s.channel, (s.start - T0) / Q, s.offered, s.handlingMs, s.answeredInThreshold]),
      [
        ["a", "chats", 1, 16, 16_000, 16],
        ["b", "calls", 1, 32, 32_000, 32],
        ["a", "calls", 2, 3, 3_000, 3],
        ["b", "calls", 2, 64, 64_000, 64],
        ["a", "calls", 3, 4, 4_000, 4]
      ]
    )
  })

  it("takes PostgreSQL's text and bigint numbers", () => {
    const [sum] = quarterSums([["a", "calls", String(T0), "5", BigInt(4), "0", 0, 0, 0, 0, 0, 0, 0, 0, "2"]], T0, T0 + Q)
    assert.deepStrictEqual([sum!.start, sum!.offered, sum!.handled, sum!.answeredInThreshold], [T0, 5, 4, 2])
  })

  it("SQLite's column arrays give the same sums as the rows, in whatever order each queue's channel lists them", () => {
    const stored = fc.uniqueArray(
      fc.record({
        queue: fc.constantFrom("a", "b", "c"),
        channel: fc.constantFrom("calls", "chats"),
        // on the quarter mostly, off it sometimes (two rows of one quarter)
        start: fc.oneof(
          fc.integer({ min: 0, max: 40 }).map((k) => T0 + k * Q),
          fc.integer({ min: 0, max: 40 * Q }).map((ms) => T0 + ms)
        ),
        offered: fc.integer({ min: 0, max: 1_000_000 })
      }),
      { selector: (r) => `${r.queue}|${r.channel}|${r.start}`, maxLength: 120 }
    )
    fc.assert(
      fc.property(stored, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 41 }), fc.boolean(), (records, a, b, shuffle) => {
        const from = T0 + Math.min(a, b) * Q
        const to = T0 + Math.max(a, b) * Q + Q
        const rows = records.map((r) => row(r.queue, r.channel, r.start, r.offered))
        const inKeyOrder = [...rows].sort((x, y) =>
          x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : x[2] - y[2]
        )
        const groups = new Map<string, Array<typeof rows[number]>>()
        for (const r of shuffle ? rows : inKeyOrder) {
          const key = `${r[0]}|${r[1]}`
          groups.set(key, [...(groups.get(key) ?? []), r])
        }
        const columns = [...groups.values()].map((g) => [
          g[0]![0],
          g[0]![1],
          ...Array.from({ length: 13 }, (_, k) => JSON.stringify(g.map((r) => r[k + 2])))
        ])
        assert.deepStrictEqual(quarterSumsOfColumns(columns, from, to), quarterSums(inKeyOrder, from, to))
      }),
      { numRuns: 300 }
    )
  })
})
