import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import type { ContactEvent, IntervalAggregate } from "../src/Domain.js"
import { emptyBatch } from "../src/Domain.js"
import { Ingest } from "../src/Ingest.js"
import { Integrations } from "../src/Integrations.js"
import type { IntervalRow } from "../src/Intervals.js"
import * as IntervalsModule from "../src/Intervals.js"
import { Intervals } from "../src/Intervals.js"
import * as Principal from "../src/Principal.js"
import { tenant, TestEngine } from "./fixtures.js"

const zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"] as const
// a window around both Berlin DST changes of 2026 and the southern-hemisphere ones
const windows = [
  ["2026-03-27T00:00:00Z", "2026-04-07T00:00:00Z"],
  ["2026-10-02T00:00:00Z", "2026-10-27T00:00:00Z"],
  ["2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"]
] as const

const eventArb = (fromMs: number, toMs: number): fc.Arbitrary<GeneratedEvent> =>
  fc.record({
    at: fc.integer({ min: fromMs, max: toMs - 1 }),
    queue: fc.constantFrom("q1", "q2", "q3"),
    channel: fc.constantFrom("calls" as const, "chats" as const),
    offered: fc.boolean(),
    handled: fc.boolean(),
    durationMs: fc.integer({ min: 0, max: 3_600_000 })
  })

interface GeneratedEvent {
  readonly at: number
  readonly queue: string
  readonly channel: "calls" | "chats"
  readonly offered: boolean
  readonly handled: boolean
  readonly durationMs: number
}

const toEvent = (e: GeneratedEvent): ContactEvent => ({
  queueIdentifier: e.queue,
  queueName: `Queue ${e.queue}`,
  channel: e.channel,
  timestamp: DateTime.unsafeMake(e.at),
  offered: e.offered,
  handled: e.handled,
  durationMs: e.durationMs
})

const sum = (rows: ReadonlyArray<IntervalRow>, pick: (r: IntervalRow) => number) =>
  rows.reduce((n, r) => n + pick(r), 0)

const ingestAndQuery = (
  contacts: ReadonlyArray<ContactEvent>,
  aggregates: ReadonlyArray<IntervalAggregate>,
  zone: string,
  from: string,
  to: string
) =>
  Effect.gen(function*() {
    const { integration } = yield* Effect.flatMap(Integrations, (s) => s.create(tenant, { name: "P", connector: "api-push" }))
    const ingest = yield* Ingest
    // pushed in several batches, as a source would
    for (let i = 0; i < contacts.length; i += 7) {
      yield* ingest.push(Principal.Admin({ tenantId: tenant }), integration.id, {
        ...emptyBatch,
        contacts: contacts.slice(i, i + 7)
      })
    }
    if (aggregates.length > 0) {
      yield* ingest.push(Principal.Admin({ tenantId: tenant }), integration.id, { ...emptyBatch, aggregates })
    }
    const intervals = yield* Intervals
    const q = (length: 15 | 30 | 60) =>
      intervals.query(tenant, {
        integrationId: integration.id,
        from: DateTime.unsafeMake(from),
        to: DateTime.unsafeMake(to),
        length,
        timezone: zone
      })
    const m15 = yield* q(15)
    // the rows made when read are the query's rows, read in any order
    const lazy = yield* intervals.rows(tenant, {
      integrationId: integration.id,
      from: DateTime.unsafeMake(from),
      to: DateTime.unsafeMake(to),
      length: 15,
      timezone: zone
    })
    assert.strictEqual(lazy.length, m15.length)
    const backwards = Array.from({ length: lazy.length }, (_, i) => lazy.at(lazy.length - 1 - i))
    assert.deepStrictEqual(backwards.reverse(), m15)
    assert.deepStrictEqual(IntervalsModule.toArray(lazy), m15)
    return { m15, m30: yield* q(30), m60: yield* q(60) }
  }).pipe(Effect.provide(TestEngine))

describe("Intervals (property)", () => {
  it.effect("totals are preserved at every length and in every zone; coarser = exact sum of finer", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...zones),
          fc.constantFrom(...windows).chain(([from, to]) =>
            fc.tuple(
              fc.constant(from),
              fc.constant(to),
              fc.array(eventArb(Date.parse(from) + 3_600_000, Date.parse(to) - 3_600_000), { maxLength: 80 })
            )
          ),
          async (zone, [from, to, events]) => {
            const contacts = events.map(toEvent)
            const { m15, m30, m60 } = await Effect.runPromise(ingestAndQuery(contacts, [], zone, from, to))
            const expected = {
              offered: contacts.filter((c) => c.offered).length,
              handled: contacts.filter((c) => c.handled).length,
              handlingMs: contacts.filter((c) => c.handled).reduce((n, c) => n + c.durationMs, 0),
              unhandledMs: contacts.filter((c) => !c.handled).reduce((n, c) => n + c.durationMs, 0)
            }
            for (const rows of [m15, m30, m60]) {
              assert.strictEqual(sum(rows, (r) => r.offered), expected.offered)
              assert.strictEqual(sum(rows, (r) => r.handled), expected.handled)
              // integer ms underneath: the second sums are exact, not float-accumulated
              assert.strictEqual(Math.round(sum(rows, (r) => r.handlingSeconds) * 1000), expected.handlingMs)
              assert.strictEqual(Math.round(sum(rows, (r) => r.unhandledSeconds) * 1000), expected.unhandledMs)
            }
            // every 60-minute row is exactly the sum of the 15-minute rows inside it
            for (const hour of m60) {
              const inside = m15.filter((r) =>
                r.queueId === hour.queueId && r.channel === hour.channel &&
                Date.parse(r.start) >= Date.parse(hour.start) && Date.parse(r.start) < Date.parse(hour.end)
              )
              assert.strictEqual(sum(inside, (r) => r.offered), hour.offered)
              assert.strictEqual(sum(inside, (r) => r.handled), hour.handled)
              assert.strictEqual(Math.round(sum(inside, (r) => r.handlingSeconds) * 1000), Math.round(hour.handlingSeconds * 1000))
            }
            for (const row of m30) assert.isTrue(Date.parse(row.end) - Date.parse(row.start) <= 30 * 60_000)
          }
        ),
        { numRuns: 40 }
      )
    ))

  it.effect("an aggregate replaces its interval; re-importing it never adds", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 5 }),
          async (offers) => {
            const aggregate = (offered: number): IntervalAggregate => ({
              queueIdentifier: "q1",
              queueName: "Queue q1",
              channel: "calls",
              start: DateTime.unsafeMake("2026-03-29T00:45:00Z"),
              lengthMinutes: 15,
              offered,
              handled: offered,
              handlingMs: offered * 90_000,
              unhandledMs: 0,
              talkMs: 0,
              holdMs: 0,
              afterCallWorkMs: 0,
              waitMs: 0,
              abandoned: 0,
              shortAbandoned: 0,
              breakout: 0,
              answeredInThreshold: 0
            })
            const { m15, m60 } = await Effect.runPromise(
              ingestAndQuery([], offers.map(aggregate), "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z")
            )
            const last = offers[offers.length - 1]!
            assert.strictEqual(sum(m15, (r) => r.offered), last)
            assert.strictEqual(sum(m60, (r) => r.offered), last)
            if (last > 0) assert.strictEqual(m15[0]!.ahtSeconds, 90)
          }
        ),
        { numRuns: 25 }
      )
    ))
})

describe("Intervals", () => {
  it.effect("a Berlin spring-forward day has 92 quarter-hours and an autumn day 100, with local labels", () =>
    Effect.gen(function*() {
      // a queue must exist for fill=zero: one contact at local 00:05
      const { integration } = yield* Effect.flatMap(Integrations, (s) => s.create(tenant, { name: "seed", connector: "api-push" }))
      yield* Effect.flatMap(Ingest, (i) =>
        i.push(Principal.Admin({ tenantId: tenant }), integration.id, {
          ...emptyBatch,
          contacts: [toEvent({ at: Date.parse("2026-03-28T23:05:00Z"), queue: "q1", channel: "calls", offered: true, handled: false, durationMs: 0 })]
        }))
      const intervals = yield* Intervals
      const spring = yield* intervals.query(tenant, {
        integrationId: integration.id,
        from: DateTime.unsafeMake("2026-03-28T23:00:00Z"),
        to: DateTime.unsafeMake("2026-03-29T22:00:00Z"),
        length: 15,
        timezone: "Europe/Berlin",
        fill: "zero"
      })
      assert.strictEqual(spring.length, 92)
      assert.strictEqual(spring[0]!.start, "2026-03-29T00:00:00+01:00")
      assert.strictEqual(spring[0]!.offered, 1)
      assert.isTrue(spring.some((r) => r.start === "2026-03-29T01:45:00+01:00" && r.end === "2026-03-29T03:00:00+02:00"))
      assert.isFalse(spring.some((r) => r.start.startsWith("2026-03-29T02:")))
      const autumn = yield* intervals.query(tenant, {
        integrationId: integration.id,
        from: DateTime.unsafeMake("2026-10-24T22:00:00Z"),
        to: DateTime.unsafeMake("2026-10-25T23:00:00Z"),
        length: 15,
        timezone: "Europe/Berlin",
        fill: "zero"
      })
      assert.strictEqual(autumn.length, 100)
      const hourly = yield* intervals.query(tenant, {
        integrationId: integration.id,
        from: DateTime.unsafeMake("2026-10-24T22:00:00Z"),
        to: DateTime.unsafeMake("2026-10-25T23:00:00Z"),
        length: 60,
        timezone: "Europe/Berlin",
        fill: "zero"
      })
      assert.strictEqual(hourly.length, 25)
      assert.deepStrictEqual(
        hourly.filter((r) => r.start.includes("T02:00:00")).map((r) => r.start),
        ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
      )
    }).pipe(Effect.provide(TestEngine)))

  it.effect("rejects an unknown zone and an empty range", () =>
    Effect.gen(function*() {
      const intervals = yield* Intervals
      const zone = yield* Effect.flip(intervals.query(tenant, {
        from: DateTime.unsafeMake("2026-01-01T00:00:00Z"),
        to: DateTime.unsafeMake("2026-01-02T00:00:00Z"),
        length: 15,
        timezone: "Nowhere/City"
      }))
      assert.strictEqual(zone._tag, "InvalidRequest")
      const range = yield* Effect.flip(intervals.query(tenant, {
        from: DateTime.unsafeMake("2026-01-02T00:00:00Z"),
        to: DateTime.unsafeMake("2026-01-01T00:00:00Z"),
        length: 15,
        timezone: "UTC"
      }))
      assert.strictEqual(range._tag, "InvalidRequest")
    }).pipe(Effect.provide(TestEngine)))
})
