import type { Domain } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as fc from "fast-check"
import { makeContactColumns, toEvents } from "../src/internal/contactColumns.js"

const channel = fc.constantFrom<Domain.Channel>("calls", "chats", "emails", "back_office")
const ms = fc.integer({ min: 0, max: 86_400_000 })
const event: fc.Arbitrary<Domain.ContactEvent> = fc.record(
  {
    queueIdentifier: fc.constantFrom("q1", "q2", "1337_99", "Ü-42"),
    queueName: fc.constantFrom("Level 1", "Sales", ""),
    channel,
    timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map((n) => DateTime.unsafeMake(n)),
    offered: fc.boolean(),
    handled: fc.boolean(),
    durationMs: ms,
    talkMs: ms,
    holdMs: ms,
    afterCallWorkMs: ms,
    waitMs: ms,
    abandoned: fc.boolean(),
    answeredInThreshold: fc.boolean(),
    shortAbandoned: fc.boolean(),
    breakout: fc.boolean()
  },
  {
    requiredKeys: ["queueIdentifier", "queueName", "channel", "timestamp", "offered", "handled", "durationMs"]
  }
)

const pushAll = (columns: ReturnType<typeof makeContactColumns>, events: ReadonlyArray<Domain.ContactEvent>) => {
  for (const e of events) {
    columns.push(
      e.queueIdentifier,
      e.queueName,
      e.channel,
      e.timestamp.epochMillis,
      e.offered,
      e.handled,
      e.durationMs,
      e.talkMs,
      e.holdMs,
      e.afterCallWorkMs,
      e.waitMs,
      e.abandoned,
      e.answeredInThreshold,
      e.shortAbandoned,
      e.breakout
    )
  }
}

/** Events as plain data: the same keys (absent ones absent) and the instants as numbers. */
const plain = (events: ReadonlyArray<Domain.ContactEvent>) =>
  events.map((e) => ({ ...e, timestamp: e.timestamp.epochMillis }))

describe("contact columns", () => {
  it("give back exactly the events pushed, optional fields absent where they were absent, chunk after chunk", () => {
    fc.assert(
      fc.property(fc.array(fc.array(event, { maxLength: 40 }), { maxLength: 5 }), fc.integer({ min: 1, max: 16 }), (chunks, capacity) => {
        // a small capacity makes the columns grow; each take starts the next chunk empty
        const columns = makeContactColumns(capacity)
        for (const chunk of chunks) {
          pushAll(columns, chunk)
          const block = columns.take()
          assert.strictEqual(block.length, chunk.length)
          assert.deepStrictEqual(plain(toEvents(block)), plain(chunk))
        }
      })
    )
  })

  it("a block taken earlier is not changed by the rows pushed after it", () => {
    const columns = makeContactColumns(2)
    const first: Domain.ContactEvent = {
      queueIdentifier: "q1",
      queueName: "Level 1",
      channel: "calls",
      timestamp: DateTime.unsafeMake(1_700_000_000_000),
      offered: true,
      handled: true,
      durationMs: 200_100
    }
    pushAll(columns, [first])
    const block = columns.take()
    pushAll(columns, [{ ...first, queueIdentifier: "q2", durationMs: 5, talkMs: 3 }])
    columns.take()
    assert.deepStrictEqual(plain(toEvents(block)), plain([first]))
  })
})
