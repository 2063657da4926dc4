/**
 * The counting rule of docs/counting.md on a simulated Info Mart with every v2 feature of the
 * scenario on (IVR before the queue, transfers between queues, breakouts and overflows, short
 * abandons, consults, long calls, LoggedOut weekends, ETL delays and late corrections):
 *
 * - the two contact sources of the connector, the per-contact facts (one event per
 *   `MEDIATION_SEGMENT_FACT`, at its queue entry) and the RAA aggregates (`AG2_QUEUE_SUBHR`),
 *   give identical intervals on the same Info Mart, at any ETL time, and both equal the oracle
 *   once everything is written;
 * - a visit counts once, whole, in the window that holds its queue entry, wherever windows are
 *   cut; consults add nothing; IVR time does not move a contact to an earlier interval;
 * - agent states come back whole however long (LoggedOut weekends), open ones open.
 */
import { assert, describe, it } from "@effect/vitest"
import { Domain } from "@acd-bridge/core"
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as path from "node:path"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { sqliteConfig, tempDir } from "./fixtures.js"

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const QUARTER = 15 * MINUTE

/** Friday to Tuesday in Berlin: a weekend that agents who are off spend logged out. */
const scenario = Scenario.generate({
  ...Scenario.allFeatures,
  seed: 13,
  from: "2026-03-05T23:00:00Z",
  to: "2026-03-09T23:00:00Z",
  timezone: "Europe/Berlin",
  queues: [
    { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 14 },
    { identifier: "q-care", name: "Care", channel: "calls", dailyPeak: 9, talkMeanSeconds: 300 },
    { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 4 }
  ],
  agents: 6
})
const lastWrite = Math.max(...scenario.contacts.map((c) => c.writtenAt), ...scenario.corrections.map((c) => c.at))
/** an ETL time when the Info Mart has everything */
const settled = Math.max(lastWrite, scenario.to + 3 * HOUR) + HOUR
const range = { from: scenario.from, to: scenario.to + scenario.maxContactSpanMs }

/** the facts source as the counting rule needs it: the scenario's short-abandon threshold */
const facts = (filename: string) =>
  sqliteConfig(filename, { contacts: { source: "facts", shortAbandonSeconds: Scenario.allFeatures.shortAbandonSeconds } })
/** the aggregates with this Info Mart's wait columns mapped */
const aggregateContacts: NonNullable<GenesysConfigEncoded["contacts"]> = {
  source: "aggregates",
  measures: {
    waitTime: ["ACCEPTED_TIME", "ABANDONED_TIME", "CLEARED_TIME", "ROUTED_OTHER_TIME"],
    unhandledTime: ["ABANDONED_TIME", "CLEARED_TIME", "ROUTED_OTHER_TIME"]
  }
}
const aggregates = (filename: string) => sqliteConfig(filename, { contacts: aggregateContacts })

const simulated = (at: number, options: GenesysSimulator.Options = {}) =>
  Effect.gen(function*() {
    const filename = path.join(yield* tempDir, "gim.sqlite")
    const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, options)
    yield* sim.tick(at)
    // the connector's present: states still open overlap windows before it
    yield* TestClock.setTime(at)
    return { sim, filename }
  })

const pull = (config: ReturnType<typeof sqliteConfig>, from: number, to: number) =>
  Effect.map(
    Stream.runCollect(GenesysEngage.connector.pull!(config, { from: DateTime.unsafeMake(from), to: DateTime.unsafeMake(to) })),
    (batches) => {
      const out: { contacts: Array<Domain.ContactEvent>; aggregates: Array<Domain.IntervalAggregate>; statuses: Array<Domain.AgentStatus> } =
        { contacts: [], aggregates: [], statuses: [] }
      for (const b of Chunk.toArray(batches)) {
        out.contacts.push(...b.contacts)
        out.aggregates.push(...b.aggregates)
        out.statuses.push(...b.statuses)
      }
      return out as Domain.Batch
    }
  )

const iso = (t: number) => new Date(t).toISOString()

/** Per queue, channel and UTC quarter-hour, only keys with something counted. */
const counts = (batch: Pick<Domain.Batch, "contacts" | "aggregates">) => {
  const out: Record<string, Domain.Measures> = {}
  for (const [k, m] of ConnectorSuite.countsOf(batch)) {
    if (Domain.measureKeys.some((key) => m[key] !== 0)) out[k] = m
  }
  return out
}

/** The oracle in the same shape (queues named as Info Mart names them). */
const expectedCounts = (sim: GenesysSimulator.GenesysSimulator) => {
  const out: Record<string, Domain.Measures> = {}
  for (const e of Scenario.expectedIntervals(scenario, { length: 15 })) {
    const name = sim.queueName(e.queueIdentifier)
    const m = {} as Record<keyof Domain.Measures, number>
    for (const key of Domain.measureKeys) m[key] = e[key]
    out[JSON.stringify([name, name, e.channel, iso(e.start)])] = m
  }
  return out
}

describe("the scenario", () => {
  it("has every counting feature", () => {
    const visits = scenario.contacts.flatMap((c) => c.visits)
    assert.isAbove(scenario.contacts.filter((c) => Math.floor(c.start / QUARTER) !== Math.floor(c.arrival / QUARTER)).length, 0)
    assert.isAbove(scenario.contacts.filter((c) => c.visits.length > 1 && c.visits[0]!.outcome === "answered").length, 0)
    assert.isAbove(scenario.contacts.filter((c) => c.visits.length > 1 && c.visits[0]!.outcome === "breakout").length, 0)
    assert.isAbove(visits.filter((v) => v.outcome === "breakout").length, 0)
    assert.isAbove(visits.filter((v) => v.shortAbandoned).length, 0)
    assert.isAbove(visits.flatMap((v) => v.legs).filter((l) => l.kind === "consult").length, 0)
    assert.isAbove(visits.flatMap((v) => v.legs).filter((l) => l.talkMs >= HOUR).length, 0)
    assert.isAbove(scenario.corrections.length, 0)
    assert.isAbove(scenario.loggedOut.filter((s) => s.end - s.start >= 40 * HOUR).length, 0)
  })
})

describe("facts and aggregates count alike", () => {
  it.scoped("once everything is written: both equal the oracle, interval by interval", () =>
    Effect.gen(function*() {
      const { filename, sim } = yield* simulated(settled)
      const expected = expectedCounts(sim)
      const fromFacts = counts(yield* pull(facts(filename), range.from, range.to))
      const fromAggregates = counts(yield* pull(aggregates(filename), range.from, range.to))
      assert.deepStrictEqual(fromFacts, expected, "facts")
      assert.deepStrictEqual(fromAggregates, expected, "aggregates")
    }))

  it.scoped("at any ETL time, with contacts still running, rows not yet written and corrections pending", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, { etlLagSeconds: 90 })
      // Friday and Monday mornings and afternoons, at odd instants
      const at = [
        Date.parse("2026-03-06T09:47:13Z"),
        Date.parse("2026-03-06T14:02:41Z"),
        Date.parse("2026-03-09T10:31:07Z")
      ]
      for (const t of at) {
        yield* sim.tick(t)
        yield* TestClock.setTime(t)
        const etl = t - 90_000
        assert.isAbove(Scenario.runningAt(scenario, etl).length, 0, "some contacts are running")
        assert.isAbove(scenario.contacts.filter((c) => c.completion <= etl && etl < c.writtenAt).length, 0, "some are not written yet")
        assert.isAbove(scenario.corrections.filter((k) => k.at > etl && byId.get(k.contactId)!.writtenAt <= etl).length, 0)
        const fromFacts = counts(yield* pull(facts(filename), range.from, t))
        const fromAggregates = counts(yield* pull(aggregates(filename), range.from, t))
        assert.deepStrictEqual(fromFacts, fromAggregates, iso(t))
      }
    }))
})

const byId = new Map(scenario.contacts.map((c) => [c.id, c]))

describe("per-contact facts: each queue visit once, at its queue entry, with its own legs", () => {
  it.scoped("a contact whose IVR ends in the next quarter-hour counts in that quarter-hour", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const contact = scenario.contacts.find((c) =>
        Math.floor(c.start / QUARTER) !== Math.floor(c.arrival / QUARTER) && c.visits.length === 1
      )!
      const quarter = (t: number) => Math.floor(t / QUARTER) * QUARTER
      const at = (b: Domain.Batch) => b.contacts.filter((e) => DateTime.toEpochMillis(e.timestamp) === contact.arrival)
      const before = yield* pull(facts(filename), quarter(contact.start), quarter(contact.start) + QUARTER)
      assert.isFalse(
        before.contacts.some((e) => DateTime.toEpochMillis(e.timestamp) === contact.start && e.queueName === contact.queueName),
        "not at the contact's start"
      )
      const entered = yield* pull(facts(filename), quarter(contact.arrival), quarter(contact.arrival) + QUARTER)
      assert.strictEqual(at(entered).filter((e) => e.queueName === contact.queueName).length, 1)
    }))

  it.scoped("a transfer to another queue is a visit at each queue, each with its own agent's handling", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const contact = scenario.contacts.find((c) =>
        c.visits.length === 2 && c.visits.every((v) => v.outcome === "answered") &&
        Math.floor(c.visits[0]!.enteredAt / QUARTER) !== Math.floor(c.visits[1]!.enteredAt / QUARTER)
      )!
      const got = (yield* pull(facts(filename), contact.start - HOUR, contact.completion + HOUR)).contacts
      for (const [v, expected] of Scenario.visitEvents(contact).entries()) {
        const visit = contact.visits[v]!
        const event = got.filter((e) =>
          DateTime.toEpochMillis(e.timestamp) === visit.enteredAt && e.queueName === visit.queueName
        )
        assert.strictEqual(event.length, 1, `visit ${v} at ${visit.queueName}`)
        assert.deepStrictEqual(
          [event[0]!.handled, event[0]!.durationMs, event[0]!.talkMs, event[0]!.holdMs, event[0]!.afterCallWorkMs, event[0]!.waitMs],
          [true, expected.durationMs, expected.talkMs, expected.holdMs, expected.afterCallWorkMs, expected.waitMs]
        )
      }
    }))

  it.scoped("a visit whose agent legs end long after the window counts in it, whole, and in no later window", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const contact = scenario.contacts.find((c) => c.visits.length === 1 && c.legs.some((l) => l.talkMs >= HOUR))!
      const visit = contact.visits[0]!
      const quarter = Math.floor(visit.enteredAt / QUARTER) * QUARTER
      const expected = Scenario.visitEvents(contact)[0]!
      const inWindow = (yield* pull(facts(filename), quarter, quarter + QUARTER)).contacts
        .filter((e) => DateTime.toEpochMillis(e.timestamp) === visit.enteredAt && e.queueName === visit.queueName)
      assert.isAbove(visit.end, quarter + QUARTER + HOUR, "its legs end more than an hour after the window")
      assert.deepStrictEqual(
        inWindow.map((e) => [e.handled, e.durationMs, e.talkMs, e.holdMs, e.afterCallWorkMs]),
        [[true, expected.durationMs, expected.talkMs, expected.holdMs, expected.afterCallWorkMs]]
      )
      const later = (yield* pull(facts(filename), quarter + QUARTER, visit.end + HOUR)).contacts
        .filter((e) => e.queueName === visit.queueName && DateTime.toEpochMillis(e.timestamp) <= visit.enteredAt)
      assert.deepStrictEqual(later, [])
    }))

  it.scoped("a consult adds no offer, no handling and no talk to its visit", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const contact = scenario.contacts.find((c) => c.visits.length === 1 && c.legs.some((l) => l.kind === "consult"))!
      const consult = contact.legs.find((l) => l.kind === "consult")!
      const got = (yield* pull(facts(filename), contact.start - HOUR, contact.completion + HOUR)).contacts
        .filter((e) => DateTime.toEpochMillis(e.timestamp) === contact.arrival && e.queueName === contact.queueName)
      const expected = Scenario.visitEvents(contact)[0]!
      assert.strictEqual(got.length, 1, "one visit, one offer")
      assert.strictEqual(got[0]!.talkMs, expected.talkMs)
      assert.strictEqual(got[0]!.durationMs, expected.durationMs)
      assert.isAbove(consult.talkMs, 0)
    }))

  it.scoped("abandons, short abandons and breakouts apart; not handled is not abandoned", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const got = (yield* pull(facts(filename), range.from, range.to)).contacts
      const visits = scenario.contacts.flatMap((c) => c.visits)
      const count = (p: (e: Domain.ContactEvent) => boolean) => got.filter(p).length
      assert.strictEqual(count((e) => e.breakout === true), visits.filter((v) => v.outcome === "breakout").length)
      assert.strictEqual(count((e) => e.abandoned === true), visits.filter((v) => v.outcome === "abandoned").length)
      assert.strictEqual(count((e) => e.shortAbandoned === true), visits.filter((v) => v.shortAbandoned).length)
      assert.isTrue(got.every((e) => !(e.breakout === true && e.abandoned === true)))
      // the threshold is the site's: a longer one makes more abandons short
      const longer = (yield* pull(
        sqliteConfig(filename, { contacts: { source: "facts", shortAbandonSeconds: 30 } }),
        range.from,
        range.to
      )).contacts
      assert.strictEqual(
        longer.filter((e) => e.shortAbandoned === true).length,
        visits.filter((v) => v.outcome === "abandoned" && v.waitMs < 30_000).length
      )
    }))

  it.scoped("windows cut anywhere (inside long calls, between a transfer's visits) add up to one read", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const long = scenario.contacts.flatMap((c) => c.visits).filter((v) => v.legs.some((l) => l.talkMs >= HOUR)).slice(0, 3)
      const transfers = scenario.contacts.filter((c) => c.visits.length > 1).slice(0, 3)
      const own = [
        ...long.map((v) => [v.enteredAt + 1000, v.end - 30 * MINUTE]),
        ...transfers.map((c) => [c.visits[1]!.enteredAt - 1000, c.visits[1]!.enteredAt + 1000])
      ]
      const day = { from: Date.parse("2026-03-06T05:00:00Z"), to: Date.parse("2026-03-07T02:00:00Z") }
      for (const config of [facts(filename), aggregates(filename)]) {
        const problems = yield* ConnectorSuite.checkSplits(
          (from, to) => pull(config, from, to),
          day,
          (whole) => [...ConnectorSuite.randomCutSets(day, whole, 4, 7), ...own]
        )
        assert.deepStrictEqual(problems.slice(0, 10), [], `${config.contacts.source}: ${problems.length} differences`)
      }
    }))
})

describe("agent states come back whole", () => {
  it.scoped("a LoggedOut weekend of more than 40 hours, read from a window in its middle; the last one open", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const config = sqliteConfig(filename, { contacts: { source: "none" } })
      const weekend = scenario.loggedOut.find((s) => s.end - s.start >= 40 * HOUR && Number.isFinite(s.end))!
      const mid = weekend.start + 30 * HOUR
      const got = (yield* pull(config, mid, mid + HOUR)).statuses.filter((s) => s.agentIdentifier === weekend.agentId)
      assert.deepStrictEqual(
        got.map((s) => [s.activityIdentifier, iso(DateTime.toEpochMillis(s.start)), s.end && iso(DateTime.toEpochMillis(s.end))]),
        [["LoggedOut", iso(weekend.start), iso(weekend.end)]]
      )
      const open = scenario.loggedOut.filter((s) => !Number.isFinite(s.end))
      const late = (yield* pull(config, scenario.to + HOUR, scenario.to + 2 * HOUR)).statuses
      assert.deepStrictEqual(
        late.map((s) => [s.agentIdentifier, s.activityIdentifier, DateTime.toEpochMillis(s.start), s.end]).sort(),
        open.map((s) => [s.agentId, "LoggedOut", s.start, null]).sort()
      )
    }))

  it.scoped("every status of the scenario, read in day windows, is the expected timeline", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const config = sqliteConfig(filename, { contacts: { source: "none" } })
      const seen = new Map<string, { agentIdentifier: string; activityIdentifier: string; start: number; end: number | null }>()
      for (let t = scenario.from; t < scenario.to; t += 24 * HOUR) {
        for (const s of (yield* pull(config, t, t + 24 * HOUR)).statuses) {
          const v = {
            agentIdentifier: s.agentIdentifier,
            activityIdentifier: s.activityIdentifier,
            start: DateTime.toEpochMillis(s.start),
            end: s.end === null ? null : DateTime.toEpochMillis(s.end)
          }
          seen.set(JSON.stringify(v), v)
        }
      }
      const got = Array.from(seen.values()).sort((a, b) =>
        a.agentIdentifier.localeCompare(b.agentIdentifier) || a.start - b.start
      )
      assert.deepStrictEqual(got, Scenario.expectedSegments(scenario, GenesysSimulator.segmentOptions))
    }))
})

describe("the RAA aggregates", () => {
  it.scoped("breakouts and short abandons come from their columns; the wait columns are configurable", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated(settled)
      const got = (yield* pull(aggregates(filename), range.from, range.to)).aggregates
      const visits = scenario.contacts.flatMap((c) => c.visits)
      const sum = (k: keyof Domain.Measures) => got.reduce((n, a) => n + a[k], 0)
      assert.strictEqual(sum("breakout"), visits.filter((v) => v.outcome === "breakout").length)
      assert.strictEqual(sum("shortAbandoned"), visits.filter((v) => v.shortAbandoned).length)
      assert.strictEqual(sum("abandoned"), visits.filter((v) => v.outcome === "abandoned").length)
      const none = (yield* pull(
        sqliteConfig(filename, { contacts: { source: "aggregates", measures: { breakout: [], shortAbandoned: [] } } }),
        range.from,
        range.to
      )).aggregates
      assert.deepStrictEqual([none.reduce((n, a) => n + a.breakout, 0), none.reduce((n, a) => n + a.shortAbandoned, 0)], [0, 0])
    }))
})
