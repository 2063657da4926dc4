import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as fc from "fast-check"
import * as BatchPlan from "../src/BatchPlan.js"
import { quarterKey } from "../src/Bucketing.js"
import type { Channel, ContactEvent, Measures } from "../src/Domain.js"

/**
 * The contact rows as the rules say them, one event at a time with a string key per event:
 * per queue (identifier, name), channel and UTC quarter, in order of first sight; a queue's
 * channel is the one it was first seen with.
 */
const reference = (contacts: ReadonlyArray<ContactEvent>) => {
  const channels = new Map<string, Channel>()
  const rows = new Map<string, { identifier: string; name: string; channel: Channel; start: number; measures: Measures }>()
  for (const e of contacts) {
    const queue = BatchPlan.queueKey(e.queueIdentifier, e.queueName)
    if (!channels.has(queue)) channels.set(queue, e.channel)
    const start = quarterKey(DateTime.toEpochMillis(e.timestamp))
    const key = JSON.stringify([queue, e.channel, start])
    const row = rows.get(key)
    const measures = BatchPlan.contactMeasures(e)
    rows.set(
      key,
      row === undefined
        ? { identifier: e.queueIdentifier, name: e.queueName, channel: e.channel, start, measures }
        : { ...row, measures: BatchPlan.addMeasures(row.measures, measures) }
    )
  }
  return Array.from(rows.values(), (r) => ({
    queue: { identifier: r.identifier, name: r.name, channel: channels.get(BatchPlan.queueKey(r.identifier, r.name))! },
    channel: r.channel,
    start: r.start,
    measures: r.measures
  }))
}

const plain = (plan: BatchPlan.BatchPlan) =>
  plan.contactRows.map((r) => ({
    queue: { identifier: r.queue.identifier, name: r.queue.name, channel: r.queue.channel },
    channel: r.channel,
    start: r.start,
    measures: { ...r.measures }
  }))

const Q = 900_000

const event = fc.record({
  // few queues and channels, so that runs, interleavings and a second channel of a queue all occur
  queueIdentifier: fc.constantFrom("q1", "q2", "a|b", "a"),
  queueName: fc.constantFrom("", "Sales", "b"),
  channel: fc.constantFrom<Channel>("calls", "chats", "emails"),
  // quarters before and after 1970, and instants on and just before a quarter's start
  timestamp: fc.oneof(
    fc.integer({ min: -3, max: 3 }).map((k) => k * Q + 1_767_225_600_000),
    fc.integer({ min: -3, max: 3 }).map((k) => k * Q - 1),
    fc.integer({ min: -2_000_000_000_000, max: 2_000_000_000_000 })
  ).map((ms) => DateTime.unsafeMake(ms)),
  offered: fc.boolean(),
  handled: fc.boolean(),
  durationMs: fc.nat({ max: 3_600_000 }),
  talkMs: fc.option(fc.nat({ max: 3_600_000 }), { nil: undefined }),
  waitMs: fc.option(fc.nat({ max: 3_600_000 }), { nil: undefined }),
  abandoned: fc.option(fc.boolean(), { nil: undefined }),
  breakout: fc.option(fc.boolean(), { nil: undefined })
}, { requiredKeys: ["queueIdentifier", "queueName", "channel", "timestamp", "offered", "handled", "durationMs"] })

describe("BatchPlan.plan contact rows", () => {
  it("sum per queue, channel and quarter in order of first sight, as the one-key-per-event rule does", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (contacts) => {
        const plan = BatchPlan.plan({ contacts, aggregates: [], statuses: [] })
        assert.deepStrictEqual(plain(plan), reference(contacts))
      }),
      { numRuns: 400 }
    )
  })

  it("keeps a queue's second channel apart from its first, in runs and interleaved", () => {
    const at = (iso: string) => DateTime.unsafeMake(Date.parse(iso))
    const e = (channel: Channel, iso: string, durationMs: number): ContactEvent => ({
      queueIdentifier: "q1",
      queueName: "Sales",
      channel,
      timestamp: at(iso),
      offered: true,
      handled: true,
      durationMs
    })
    const plan = BatchPlan.plan({
      contacts: [
        e("calls", "2026-03-29T00:59:59.999Z", 1),
        e("chats", "2026-03-29T00:50:00Z", 10),
        e("chats", "2026-03-29T01:00:00Z", 100),
        e("calls", "2026-03-29T00:45:00Z", 1_000)
      ],
      aggregates: [],
      statuses: []
    })
    assert.deepStrictEqual(
      plan.contactRows.map((r) => [r.queue.channel, r.channel, new Date(r.start).toISOString(), r.measures.handlingMs]),
      [
        ["calls", "calls", "2026-03-29T00:45:00.000Z", 1_001],
        ["calls", "chats", "2026-03-29T00:45:00.000Z", 10],
        ["calls", "chats", "2026-03-29T01:00:00.000Z", 100]
      ]
    )
    assert.strictEqual(plan.queues.length, 1)
  })
})
