/**
 * The connector against the SQLite simulator: config, slices, what each read returns, the
 * Info Mart quirks (split aggregate rows, odd surrogate keys, noise interaction types, states
 * per media), malformed rows, missing tables and columns, `check`, and realtime polling.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConnectorRegistry } from "@acd-bridge/core"
import type { Connector, Domain } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as path from "node:path"
import * as GenesysConfig from "../src/GenesysConfig.js"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { oneDay, settledAt, sqliteConfig, tempDir, visitCount } from "./fixtures.js"

const scenario = Scenario.generate(oneDay)
const HOUR = 3_600_000
const settled = settledAt(scenario)
/** the day and the span its last contacts reach into */
const whole = { from: DateTime.unsafeMake(scenario.from), to: DateTime.unsafeMake(scenario.to + scenario.maxContactSpanMs) }

/** A simulator in a temp SQLite file, ETL run when all is written (the clock there); plus a writer client. */
const simulated = (options: GenesysSimulator.Options = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const filename = path.join(dir, "gim.sqlite")
    const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, options)
    yield* sim.tick(settled)
    yield* TestClock.setTime(settled)
    const writer = Context.get(yield* Layer.build(SqliteClient.layer({ filename })), SqlClient.SqlClient)
    return { sim, filename, writer }
  })

const pullAll = (config: GenesysConfig.GenesysConfig, window: Connector.Window = whole) =>
  Effect.map(Stream.runCollect(GenesysEngage.connector.pull!(config, window)), Chunk.toArray)

const merged = (batches: ReadonlyArray<Domain.Batch>) => ({
  contacts: batches.flatMap((b) => b.contacts),
  aggregates: batches.flatMap((b) => b.aggregates),
  statuses: batches.flatMap((b) => b.statuses)
})

describe("GenesysConfig", () => {
  it("decodes with defaults, refuses what can't work, never shows the password", () => {
    const c = Schema.decodeUnknownSync(GenesysConfig.GenesysConfig)({
      driver: "pg",
      connection: { host: "gim.example", database: "gim_etl", user: "wfm_reader", password: "s3cret" }
    })
    assert.strictEqual(c.contacts.source, "aggregates")
    assert.deepStrictEqual(c.contacts.interactionTypes, ["INBOUND"])
    assert.deepStrictEqual(c.contacts.measures.offered, ["ENTERED"])
    assert.strictEqual(c.agentStatuses.media, "VOICE")
    assert.strictEqual(c.realtime.pollSeconds, 10)
    assert.strictEqual(c.channels["VOICE"], "calls")
    assert.deepStrictEqual(
      [c.contacts.maxContactSpanHours, c.contacts.shortAbandonSeconds, c.contacts.abandonedResults, c.contacts.consultRoles],
      [4, 10, ["ABANDONED"], ["ReceivedConsult"]]
    )
    // unset: read from these columns where the view has them
    assert.deepStrictEqual([c.contacts.measures.shortAbandoned, c.contacts.measures.breakout], [undefined, undefined])
    assert.deepStrictEqual(GenesysConfig.defaultOptionalMeasures, {
      shortAbandoned: ["ABANDONED_SHORT"],
      breakout: ["CLEARED", "ROUTED_OTHER"]
    })

    const bad = (input: unknown) => Either.getLeft(Schema.decodeUnknownEither(GenesysConfig.GenesysConfig)(input))
    const noFile = bad({ driver: "sqlite", connection: { host: "h", database: "d", user: "u", password: "p" } })
    assert.match(String(noFile._tag === "Some" ? noFile.value.message : ""), /sqlite driver needs connection.filename/)
    const injected = bad({ driver: "sqlite", connection: { filename: "x" }, schema: "gim; drop table x" })
    assert.match(String(injected._tag === "Some" ? injected.value.message : ""), /not a plain SQL name/)
    const column = bad({ driver: "sqlite", connection: { filename: "x" }, contacts: { measures: { offered: ["ENTERED)--"] } } })
    assert.match(String(column._tag === "Some" ? column.value.message : ""), /not a plain SQL name/)
    const table = bad({ driver: "sqlite", connection: { filename: "x" }, tables: { AG2_QUEUE_HOUR: "X" } })
    assert.match(String(table._tag === "Some" ? table.value.message : ""), /unknown table AG2_QUEUE_HOUR/)
    const nothing = bad({ driver: "sqlite", connection: { filename: "x" }, contacts: { source: "none" }, agentStatuses: { enabled: false } })
    assert.match(String(nothing._tag === "Some" ? nothing.value.message : ""), /nothing to import/)

    const registered = ConnectorRegistry.register(GenesysEngage.connector, Context.empty())
    const shown = JSON.stringify(registered.redact({
      driver: "pg",
      connection: { host: "gim.example", database: "gim_etl", user: "wfm_reader", password: "s3cret" }
    }))
    assert.notInclude(shown, "s3cret")
    assert.include(shown, "<redacted>")
  })

  it("refuses bad values when the config is decoded, naming the field (and the allowed values); a bad URL without showing it", () => {
    const registered = ConnectorRegistry.register(GenesysEngage.connector, Context.empty())
    const refused = (config: unknown) => {
      const result = registered.configure(config)
      assert.isTrue(Either.isLeft(result), `accepted: ${JSON.stringify(config)}`)
      const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
      return { field: error.field, reason: error.reason, message: error.message }
    }
    const server = { host: "gim.example", database: "gim_etl", user: "wfm", password: "p" }
    const cases: ReadonlyArray<readonly [unknown, string, RegExp]> = [
      [{ driver: "mssql", connection: { filename: "x" } }, "driver", /must be one of "pg", "sqlite" \(got "mssql"\)/],
      [{ driver: "pg", connection: { ...server, host: "https://gim.example" } }, "connection.host", /a host name or IP address/],
      [{ driver: "pg", connection: { ...server, port: 70000 } }, "connection.port", /between 1 and 65535/],
      [{ driver: "pg", connection: { url: "mysql://wfm:s3cretpw@gim/gim_etl" } }, "connection.url", /not a valid secret/],
      [{ driver: "pg", connection: { url: "postgres://wfm:s3cretpw@/gim_etl" } }, "connection.url", /not a valid secret/],
      [{ driver: "pg", connection: { url: "postgres://wfm:s3cretpw@gim/gim_etl", host: "gim" } }, "connection.host", /not both/],
      [{ driver: "pg", connection: { host: "gim", user: "wfm", password: "p" } }, "connection.database", /needs database/],
      [{ driver: "sqlite", connection: { filename: "x", user: "wfm" } }, "connection.user", /filename only/],
      [{ driver: "sqlite", connection: { filename: "x" }, contacts: { source: "fact" } }, "contacts.source", /"aggregates", "facts", "none"/],
      [{ driver: "sqlite", connection: { filename: "x" }, contacts: { maxContactSpanHours: 0 } }, "contacts.maxContactSpanHours", /between 0.25 and 72/],
      [{ driver: "sqlite", connection: { filename: "x" }, contacts: { shortAbandonSeconds: -1 } }, "contacts.shortAbandonSeconds", /between 0 and 3600/],
      [{ driver: "sqlite", connection: { filename: "x" }, contacts: { measures: { breakout: ["CLEARED;"] } } }, "contacts.measures.breakout.0", /not a plain SQL name/],
      [{ driver: "sqlite", connection: { filename: "x" }, agentStatuses: { activityFrom: "STATE" } }, "agentStatuses.activityFrom", /"STATE_NAME", "STATE_NAME_CODE"/],
      [{ driver: "sqlite", connection: { filename: "x" }, channels: { VOICE: "phone" } }, "channels.VOICE", /"calls", "chats"/]
    ]
    for (const [config, field, reason] of cases) {
      const error = refused(config)
      assert.strictEqual(error.field, field, JSON.stringify(config))
      assert.match(error.reason, reason, JSON.stringify(config))
      assert.notInclude(error.message, "s3cretpw")
    }
    assert.isTrue(Either.isRight(registered.configure({ driver: "pg", connection: { url: "postgresql://wfm:s3cretpw@gim:5433/gim_etl" } })))
  })

  it("slices a window at quarter-hours, one slice per sliceHours", () => {
    const t0 = Date.parse("2026-03-02T00:00:00Z")
    assert.deepStrictEqual(GenesysEngage.slices(t0, t0 + 50 * HOUR, 24), [
      { from: t0, to: t0 + 24 * HOUR },
      { from: t0 + 24 * HOUR, to: t0 + 48 * HOUR },
      { from: t0 + 48 * HOUR, to: t0 + 50 * HOUR }
    ])
    // an unaligned start: the first slice ends on a quarter-hour
    assert.deepStrictEqual(GenesysEngage.slices(t0 + 60_000, t0 + 2 * HOUR, 1), [
      { from: t0 + 60_000, to: t0 + HOUR },
      { from: t0 + HOUR, to: t0 + 2 * HOUR }
    ])
    assert.deepStrictEqual(GenesysEngage.slices(t0, t0, 24), [])
  })
})

describe("pull", () => {
  it.scoped("aggregates: one row per queue, media and quarter, summed over the split rows, §3.8 measures", () =>
    Effect.gen(function*() {
      const { filename, sim } = yield* simulated({ splits: 4 })
      const batches = yield* pullAll(sqliteConfig(filename, { sliceHours: 6 }))
      assert.strictEqual(batches.length, 5, "one batch per 6-hour slice of the day and its 4-hour span")
      const { aggregates, contacts } = merged(batches)
      assert.strictEqual(contacts.length, 0)
      const keys = aggregates.map((a) => `${a.queueIdentifier}|${a.channel}|${DateTime.toEpochMillis(a.start)}`)
      assert.strictEqual(new Set(keys).size, keys.length, "no interval twice")
      const expected = Scenario.expectedIntervals(scenario, { length: 15 })
      assert.strictEqual(aggregates.length, expected.length)
      for (const e of expected) {
        const name = sim.queueName(e.queueIdentifier)
        const a = aggregates.find((x) =>
          x.queueIdentifier === name && x.channel === e.channel && DateTime.toEpochMillis(x.start) === e.start
        )
        assert.isDefined(a, `${name} ${new Date(e.start).toISOString()}`)
        assert.deepStrictEqual(
          [a!.lengthMinutes, a!.offered, a!.handled, a!.abandoned, a!.shortAbandoned, a!.breakout, a!.handlingMs, a!.talkMs, a!.holdMs, a!.afterCallWorkMs],
          [15, e.offered, e.handled, e.abandoned, e.shortAbandoned, e.breakout, e.handlingMs, e.talkMs, e.holdMs, e.afterCallWorkMs]
        )
        // no standard RAA column: left at 0 unless mapped
        assert.deepStrictEqual([a!.waitMs, a!.unhandledMs], [0, 0])
      }
    }))

  it.scoped("counts only INBOUND interactions: the simulator's internal consultations are left out", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated()
      const offered = (extra: Partial<GenesysConfigEncoded>) =>
        Effect.map(pullAll(sqliteConfig(filename, extra)), (b) =>
          merged(b).aggregates.reduce((n, a) => n + a.offered, 0) + merged(b).contacts.length)
      const inbound = yield* offered({})
      const all = yield* offered({ contacts: { interactionTypes: [] } })
      assert.strictEqual(inbound, visitCount(scenario))
      assert.isAbove(all, inbound, "without the INTERACTION_TYPE_CODE filter the noise is counted")
      assert.strictEqual(yield* offered({ contacts: { source: "facts" } }), visitCount(scenario))
      assert.isAbove(yield* offered({ contacts: { source: "facts", interactionTypes: [] } }), visitCount(scenario))
    }))

  it.scoped("facts: one contact event per queue visit at its queue entry, with its wait and its own legs' talk, hold and wrap", () =>
    Effect.gen(function*() {
      const { filename, sim } = yield* simulated()
      const config = sqliteConfig(filename, { contacts: { source: "facts", shortAbandonSeconds: oneDay.shortAbandonSeconds } })
      const { aggregates, contacts } = merged(yield* pullAll(config))
      assert.strictEqual(aggregates.length, 0)
      const expected = scenario.contacts.flatMap((c) => Scenario.visitEvents(c))
      const key = (e: Domain.ContactEvent) =>
        JSON.stringify([
          DateTime.toEpochMillis(e.timestamp),
          e.queueName,
          e.handled,
          e.durationMs,
          e.talkMs ?? 0,
          e.holdMs ?? 0,
          e.afterCallWorkMs ?? 0,
          e.waitMs,
          e.abandoned === true,
          e.shortAbandoned === true,
          e.breakout === true
        ])
      assert.deepStrictEqual(
        contacts.map(key).sort(),
        expected.map((e) => key({ ...e, queueName: sim.queueName(e.queueIdentifier) })).sort()
      )
      // an agent-to-agent transfer within a visit: both agents' legs, one offer
      const transferred = scenario.contacts.find((c) => c.visits.length === 1 && c.legs.filter((l) => l.kind === "agent").length === 2)!
      const event = contacts.filter((c) => DateTime.toEpochMillis(c.timestamp) === transferred.arrival && c.queueName === transferred.queueName)
      const t = Scenario.totals(transferred)
      assert.deepStrictEqual(event.map((e) => [e.talkMs, e.holdMs, e.afterCallWorkMs]), [[t.talkMs, t.holdMs, t.afterCallWorkMs]])
      const abandoned = contacts.filter((c) => c.abandoned === true)
      assert.strictEqual(abandoned.length, scenario.contacts.flatMap((c) => c.visits).filter((v) => v.outcome === "abandoned").length)
      assert.isTrue(abandoned.every((c) => !c.handled && c.durationMs === c.waitMs && c.breakout !== true))
    }))

  it.scoped("agent states: one media, reasons as STATE:REASON, whole states that overlap the window", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated()
      const statuses = merged(yield* pullAll(sqliteConfig(filename))).statuses
      const activities = new Set(statuses.map((s) => s.activityIdentifier))
      assert.deepStrictEqual(
        Array.from(activities).sort(),
        ["AfterCallWork", "Busy", "LoggedOut", "NotReady:Break", "NotReady:Lunch", "Ready"]
      )
      const expected = Scenario.expectedSegments(scenario, GenesysSimulator.segmentOptions)
      // a state that overlaps two slices comes with both: the engine keeps it once
      const got = Array.from(
        new Map(statuses.map((s) => {
          const v = {
            agentIdentifier: s.agentIdentifier,
            activityIdentifier: s.activityIdentifier,
            start: DateTime.toEpochMillis(s.start),
            end: s.end === null ? null : DateTime.toEpochMillis(s.end)
          }
          return [JSON.stringify(v), v] as const
        })).values()
      ).sort((a, b) => a.agentIdentifier.localeCompare(b.agentIdentifier) || a.start - b.start)
      assert.deepStrictEqual(got, expected)

      // a window in the middle of a lunch returns the lunch whole
      const lunch = expected.find((s) => s.activityIdentifier === "NotReady:Lunch")!
      const mid = lunch.start + 10 * 60_000
      const inside = merged(
        yield* pullAll(sqliteConfig(filename, { contacts: { source: "none" } }), {
          from: DateTime.unsafeMake(mid),
          to: DateTime.unsafeMake(mid + 60_000)
        })
      ).statuses.filter((s) => s.agentIdentifier === lunch.agentIdentifier)
      assert.deepStrictEqual(inside.map((s) => [s.activityIdentifier, DateTime.toEpochMillis(s.start), s.end && DateTime.toEpochMillis(s.end)]), [
        ["NotReady:Lunch", lunch.start, lunch.end]
      ])

      // other options: the chat media, no reasons, state codes, employee ids
      const chat = merged(yield* pullAll(sqliteConfig(filename, { agentStatuses: { media: "CHAT" } }))).statuses
      assert.isTrue(chat.length > 0 && chat.every((s) => s.activityIdentifier === "Ready"))
      const plain = merged(yield* pullAll(sqliteConfig(filename, { agentStatuses: { reasons: false } }))).statuses
      assert.isTrue(plain.some((s) => s.activityIdentifier === "NotReady"))
      assert.isFalse(plain.some((s) => s.activityIdentifier.includes(":")))
      const codes = merged(
        yield* pullAll(sqliteConfig(filename, { agentStatuses: { activityFrom: "STATE_NAME_CODE", agentFrom: "EMPLOYEE_ID" } }))
      ).statuses
      assert.isTrue(codes.some((s) => s.activityIdentifier === "NOT_READY:Lunch"))
      assert.isTrue(codes.every((s) => /^E-\d{4}$/.test(s.agentIdentifier)))
    }))

  it.scoped("open states have no end; the first pull of a running day sees partial aggregates", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = path.join(dir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, { etlLagSeconds: 60 })
      const noon = Date.parse("2026-03-02T11:00:00Z")
      yield* sim.tick(noon)
      yield* TestClock.setTime(noon)
      const window = { from: DateTime.unsafeMake(scenario.from), to: DateTime.unsafeMake(noon) }
      const early = merged(yield* pullAll(sqliteConfig(filename), window))
      const open = early.statuses.filter((s) => s.end === null)
      assert.isAbove(open.length, 0)
      assert.isTrue(open.every((s) => DateTime.toEpochMillis(s.start) <= noon - 60_000))
      const talk = (b: { aggregates: ReadonlyArray<Domain.IntervalAggregate> }) =>
        b.aggregates.reduce((n, a) => n + a.talkMs, 0)
      yield* sim.tick(noon + 2 * HOUR)
      yield* TestClock.setTime(noon + 2 * HOUR)
      const later = merged(yield* pullAll(sqliteConfig(filename), window))
      assert.isAbove(talk(later), talk(early), "talk time of contacts finished later is back-filled")
      const expected = Scenario.expectedIntervals(scenario, { length: 15, to: noon })
      assert.strictEqual(
        later.aggregates.reduce((n, a) => n + a.offered, 0),
        expected.reduce((n, e) => n + e.offered, 0)
      )
      assert.isAbove(
        later.statuses.filter((s) => s.end !== null).length,
        early.statuses.filter((s) => s.end !== null).length
      )
    }))
})

describe("conformance (what testkit's ConnectorSuite would check)", () => {
  const recordKeys = (b: ReturnType<typeof merged>) => ({
    aggregates: b.aggregates.map((a) => JSON.stringify([a.queueIdentifier, a.channel, DateTime.toEpochMillis(a.start), a.offered, a.handled, a.handlingMs])).sort(),
    contacts: b.contacts.map((c) => JSON.stringify([c.queueIdentifier, DateTime.toEpochMillis(c.timestamp), c.durationMs, c.waitMs])).sort(),
    statuses: Array.from(new Set(b.statuses.map((x) =>
      JSON.stringify([x.agentIdentifier, x.activityIdentifier, DateTime.toEpochMillis(x.start), x.end && DateTime.toEpochMillis(x.end)])
    ))).sort()
  })

  it.scoped("two reads of a window give the same records; split windows give the same union; the future gives nothing", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated()
      for (const extra of [{}, { contacts: { source: "facts" as const } }]) {
        const config = sqliteConfig(filename, extra)
        const once = recordKeys(merged(yield* pullAll(config)))
        assert.deepStrictEqual(recordKeys(merged(yield* pullAll(config))), once)
        // resume from intermediate checkpoints: [from, c) then [c, to) read the same as [from, to)
        for (const hours of [3, 7.25, 11.5, 18]) {
          const c = scenario.from + hours * HOUR
          const left = merged(yield* pullAll(config, { from: whole.from, to: DateTime.unsafeMake(c) }))
          const right = merged(yield* pullAll(config, { from: DateTime.unsafeMake(c), to: whole.to }))
          const union = recordKeys(merged([left, right]))
          assert.deepStrictEqual(union, once, `checkpoint at +${hours} h`)
        }
        const future = merged(
          yield* pullAll(config, { from: DateTime.unsafeMake(scenario.to + 2 * 86_400_000), to: DateTime.unsafeMake(scenario.to + 3 * 86_400_000) })
        )
        assert.deepStrictEqual([future.aggregates.length, future.contacts.length, future.statuses.length], [0, 0, 0])
        const empty = yield* pullAll(config, { from: whole.to, to: whole.to })
        assert.deepStrictEqual(empty, [])
      }
    }))
})

describe("malformed rows fail the read with InvalidData naming the row", () => {
  const failing = (
    statement: string,
    config: Partial<GenesysConfigEncoded>,
    expected: RegExp
  ) =>
    Effect.gen(function*() {
      const { filename, writer } = yield* simulated()
      yield* writer.unsafe(statement)
      const error = yield* Effect.flip(pullAll(sqliteConfig(filename, config)))
      assert.strictEqual(error._tag, "InvalidData")
      assert.match(error.message, expected)
    })

  it.scoped("an aggregate row off the 15-minute grid", () =>
    failing(
      `INSERT INTO ag2_queue_subhr (date_time_key, resource_key, media_type_key, interaction_type_key, entered)
       VALUES (${scenario.from / 1000 + 4 * 3600 + 100}, 101, 7, 4, 1)`,
      {},
      /AG2_QUEUE_SUBHR DATE_TIME_KEY=\d+ RESOURCE_KEY=101 .*not the start of a 15-minute interval/
    ))

  it.scoped("a negative measure", () =>
    failing(
      `INSERT INTO ag2_queue_subhr (date_time_key, resource_key, media_type_key, interaction_type_key, entered)
       VALUES (${scenario.from / 1000 + 4 * 3600}, 101, 7, 4, -3)`,
      {},
      /negative measures/
    ))

  it.scoped("an aggregate for a queue that is not in RESOURCE_", () =>
    failing(
      `INSERT INTO ag2_queue_subhr (date_time_key, resource_key, media_type_key, interaction_type_key, entered)
       VALUES (${scenario.from / 1000 + 4 * 3600}, 999, 7, 4, 1)`,
      {},
      /RESOURCE_KEY 999 has no queue in RESOURCE_/
    ))

  it.scoped("a state that ends before it starts", () =>
    failing(
      `INSERT INTO sm_res_state_fact (sm_res_state_fact_key, media_type_key, resource_key, resource_state_key,
         start_date_time_key, start_ts, end_ts, active_flag)
       VALUES (1, 7, 2003, 5, ${scenario.from / 1000 + 3600}, ${scenario.from / 1000 + 3700}, ${scenario.from / 1000 + 3650}, 0)`,
      { contacts: { source: "none" } },
      /SM_RES_STATE_FACT SM_RES_STATE_FACT_KEY=1.*END_TS .* is before START_TS/
    ))

  it.scoped("a duration that is not a number", () =>
    failing(
      `UPDATE interaction_resource_fact SET talk_duration = 'n/a'
       WHERE interaction_resource_id = (SELECT MIN(interaction_resource_id) FROM interaction_resource_fact WHERE talk_count = 1)`,
      { contacts: { source: "facts" } },
      /INTERACTION_RESOURCE_FACT INTERACTION_RESOURCE_ID=\d+ .*TALK_DURATION is "n\/a", not a whole number/
    ))
})

describe("the optional RAA columns", () => {
  it.scoped("short abandons and breakouts come from the columns the view has; an explicit list must exist", () =>
    Effect.gen(function*() {
      const { filename, writer } = yield* simulated()
      const config = sqliteConfig(filename, { agentStatuses: { enabled: false } })
      const sum = (b: ReadonlyArray<Domain.Batch>, k: "shortAbandoned" | "breakout") =>
        merged(b).aggregates.reduce((n, a) => n + a[k], 0)
      const visits = scenario.contacts.flatMap((c) => c.visits)
      const before = yield* pullAll(config)
      assert.strictEqual(sum(before, "shortAbandoned"), visits.filter((v) => v.shortAbandoned).length)
      assert.strictEqual(sum(before, "breakout"), visits.filter((v) => v.outcome === "breakout").length)
      // an RAA version without ABANDONED_SHORT and CLEARED
      yield* writer.unsafe(`ALTER TABLE ag2_queue_subhr DROP COLUMN abandoned_short`)
      yield* writer.unsafe(`ALTER TABLE ag2_queue_subhr DROP COLUMN cleared`)
      const after = yield* pullAll(config)
      assert.strictEqual(sum(after, "shortAbandoned"), 0)
      const overflows = scenario.contacts.filter((c) => c.visits.some((v, i) => v.outcome === "breakout" && c.visits[i + 1] !== undefined)).length
      assert.isAbove(overflows, 0)
      assert.strictEqual(sum(after, "breakout"), visits.filter((v) => v.outcome === "breakout").length - overflows)
      const report = yield* GenesysEngage.check(config)
      assert.isTrue(report.ok)
      assert.match(
        report.items.find((i) => i.name === "short abandons and breakouts")!.detail,
        /short abandons read 0 \(AG2_QUEUE_SUBHR has no ABANDONED_SHORT; .*\); breakouts from ROUTED_OTHER/
      )
      const explicit = yield* Effect.flip(pullAll(sqliteConfig(filename, { contacts: { measures: { shortAbandoned: ["ABANDONED_SHORT"] } } })))
      assert.strictEqual(explicit._tag, "InvalidData")
      assert.match(explicit.message, /a column is missing: .*ABANDONED_SHORT/i)
    }))
})

describe("missing tables and columns", () => {
  it.scoped("pull fails with InvalidData that says what to check", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated()
      const table = yield* Effect.flip(pullAll(sqliteConfig(filename, { tables: { AG2_QUEUE_SUBHR: "AG2_QUEUE_SUBHOUR" } })))
      assert.strictEqual(table._tag, "InvalidData")
      assert.match(table.message, /a table is missing: no such table: AG2_QUEUE_SUBHOUR/)
      const column = yield* Effect.flip(
        pullAll(sqliteConfig(filename, { contacts: { measures: { offered: ["ENTERED_TOTAL"] } } }))
      )
      assert.strictEqual(column._tag, "InvalidData")
      assert.match(column.message, /a column is missing: .*ENTERED_TOTAL/)
    }))
})

describe("check", () => {
  it.scoped("a good configuration: every table, the media codes, read-only", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated()
      const report = yield* GenesysEngage.check(sqliteConfig(filename))
      assert.isTrue(report.ok, JSON.stringify(report))
      const names = report.items.map((i) => i.name)
      for (const t of ["AG2_QUEUE_SUBHR", "SM_RES_STATE_FACT", "RESOURCE_STATE_REASON", "MEDIA_TYPE"]) {
        assert.include(names, `table ${t}`)
      }
      assert.include(names, "read-only")
      const facts = yield* GenesysEngage.check(sqliteConfig(filename, { contacts: { source: "facts" } }))
      assert.isTrue(facts.ok)
      assert.include(facts.items.map((i) => i.name), "table INTERACTION_RESOURCE_FACT")
    }))

  it.scoped("a missing file, a wrong table name, a missing column, unknown media codes", () =>
    Effect.gen(function*() {
      const { filename } = yield* simulated()
      const missing = yield* GenesysEngage.check(sqliteConfig(filename + ".nope"))
      assert.isFalse(missing.ok)
      assert.deepStrictEqual(missing.items.map((i) => [i.name, i.ok]), [["connection", false]])
      assert.match(missing.items[0]!.detail, /does not exist/)

      const table = yield* GenesysEngage.check(sqliteConfig(filename, { tables: { SM_RES_STATE_FACT: "SM_RES_STATES" } }))
      assert.isFalse(table.ok)
      const item = table.items.find((i) => i.name === "table SM_RES_STATE_FACT (as SM_RES_STATES)")!
      assert.isFalse(item.ok)
      assert.match(item.detail, /SM_RES_STATES does not exist or is not visible to the user; check the schema and the table names/)

      const columns = yield* GenesysEngage.check(
        sqliteConfig(filename, { contacts: { measures: { offered: ["ENTERED_TOTAL"], holdTime: ["HOLD_SECONDS"] } } })
      )
      assert.isFalse(columns.ok)
      assert.strictEqual(
        columns.items.find((i) => i.name === "table AG2_QUEUE_SUBHR")!.detail,
        "AG2_QUEUE_SUBHR lacks the columns ENTERED_TOTAL, HOLD_SECONDS (an older or newer Info Mart version may name them differently)"
      )

      const media = yield* GenesysEngage.check(
        sqliteConfig(filename, { channels: { FAX: "documents" }, agentStatuses: { media: "PHONE" } })
      )
      assert.isFalse(media.ok)
      assert.match(media.items.find((i) => i.name === "media codes")!.detail, /none of the configured media codes \(FAX\)/)
      assert.match(media.items.find((i) => i.name === "agent state media")!.detail, /PHONE .* is not in MEDIA_TYPE; it has .*VOICE/)
    }))
})

describe("realtime", () => {
  it.scoped("polls the agent states every 10 seconds and carries its position", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = path.join(dir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario)
      const timeline = Scenario.expectedSegments(scenario, GenesysSimulator.segmentOptions)
      // a state that ends 5 seconds after the first poll, in the late morning
      const ending = timeline.find((s) =>
        s.end !== null && s.end >= Date.parse("2026-03-02T10:00:00Z") && s.end - s.start > 10_000
      )!
      const start = ending.end! - 5_000
      yield* TestClock.setTime(start)
      yield* sim.tick(start)
      const out = yield* Queue.unbounded<Domain.Batch>()
      const fiber = yield* GenesysEngage.connector.realtime!(sqliteConfig(filename)).pipe(
        Stream.runForEach((b) => Queue.offer(out, b)),
        Effect.fork
      )
      const first = yield* Queue.take(out)
      assert.deepStrictEqual([first.contacts.length, first.aggregates.length], [0, 0])
      const openAt = (b: Domain.Batch) => b.statuses.filter((s) => s.end === null)
      assert.isAbove(openAt(first).length, 0, "the agents' current states")
      yield* sim.tick(start + 10_000)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* Queue.size(out), 0, "no poll before 10 seconds")
      yield* TestClock.adjust("5 seconds")
      const second = yield* Queue.take(out)
      assert.strictEqual((second as { position?: number }).position, start + 10_000)
      const before = first.statuses.find((s) =>
        s.agentIdentifier === ending.agentIdentifier && DateTime.toEpochMillis(s.start) === ending.start
      )!
      assert.isNull(before.end, "open at the first poll")
      assert.isTrue(second.statuses.some((s) =>
        s.agentIdentifier === ending.agentIdentifier && DateTime.toEpochMillis(s.start) === ending.start &&
        s.end !== null && DateTime.toEpochMillis(s.end) === ending.end
      ), "closed at the next poll")
      assert.isAbove(second.statuses.length, 0)
      yield* Fiber.interrupt(fiber)
    }))
})


describe("GenesysSimulator.runEtl", () => {
  it.scoped("ticks the ETL to the clock's present every period", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = path.join(dir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario)
      const reader = Context.get(yield* Layer.build(SqliteClient.layer({ filename })), SqlClient.SqlClient)
      const count = Effect.map(
        reader.unsafe<{ n: number }>("SELECT COUNT(*) AS n FROM interaction_fact WHERE interaction_type_key = 4"),
        (rows) => Number(rows[0]!.n)
      )
      const at = (iso: string) => Date.parse(iso)
      yield* TestClock.setTime(at("2026-03-02T09:00:00Z"))
      const fiber = yield* Effect.fork(GenesysSimulator.runEtl(sim, 15))
      yield* TestClock.adjust("1 second")
      const first = yield* count
      // an interaction shows with its own ETL delay (the scenario's write delay), whole once written
      const expectedBy = (t: number) =>
        scenario.contacts.filter((c) => c.start < (t >= c.writtenAt ? t : t - (c.writtenAt - c.completion))).length
      assert.strictEqual(first, expectedBy(at("2026-03-02T09:00:00Z")))
      yield* TestClock.adjust("1 hour")
      // the last tick ran at 09:00 + 1 h (a multiple of 15 s)
      assert.strictEqual(yield* count, expectedBy(at("2026-03-02T10:00:00Z")))
      assert.isAbove(yield* count, first)
      yield* Fiber.interrupt(fiber)
    }))
})

describe("GenesysSimulator renders what the source shows at each ETL run", () => {
  const reader = (filename: string) => Effect.map(Layer.build(SqliteClient.layer({ filename })), (ctx) => Context.get(ctx, SqlClient.SqlClient))

  it.scoped("a late correction rewrites the leg's after-call work in a later ETL run", () =>
    Effect.gen(function*() {
      const k = scenario.corrections.find((c) => c.recorded !== c.corrected)!
      const contact = scenario.contacts.find((c) => c.id === k.contactId)!
      const leg = contact.visits[k.visit]!.legs[k.leg]!
      const filename = path.join(yield* tempDir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario)
      const sql = yield* reader(filename)
      const row = Effect.map(
        sql.unsafe<{ acw: number; created: number; updated: number }>(
          `SELECT f.after_call_work_duration AS acw, f.create_audit_key AS created, f.update_audit_key AS updated
           FROM interaction_resource_fact f JOIN resource_ r ON r.resource_key = f.resource_key
           WHERE r.resource_name = ? AND f.start_ts = ?`,
          [leg.agentId, leg.start / 1000]
        ),
        (rows) => rows.map((r) => ({ acw: Number(r.acw), created: Number(r.created), updated: Number(r.updated) }))
      )
      yield* sim.tick(k.at - 1000)
      const before = yield* row
      assert.deepStrictEqual(before.map((r) => r.acw), [k.recorded / 1000], "first written as recorded")
      yield* sim.tick(k.at)
      const after = yield* row
      assert.deepStrictEqual(after.map((r) => r.acw), [k.corrected / 1000], "rewritten when the correction is written")
      assert.isAbove(after[0]!.updated, before[0]!.updated)
      assert.strictEqual(after[0]!.created, before[0]!.created)
    }))

  it.scoped("an interaction shows with its own ETL delay, active until it is written", () =>
    Effect.gen(function*() {
      const contact = scenario.contacts.find((c) => c.writtenAt - c.completion >= 120_000 && c.completion - c.start >= 120_000)!
      const delay = contact.writtenAt - contact.completion
      const filename = path.join(yield* tempDir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario)
      const sql = yield* reader(filename)
      const row = Effect.map(
        sql.unsafe<{ e: number | null }>(
          `SELECT end_ts AS e FROM interaction_fact WHERE interaction_type_key = 4 AND start_ts = ? AND target_address = ?`,
          [contact.start / 1000, contact.queueName]
        ),
        (rows) => rows.map((r) => r.e === null ? null : Number(r.e))
      )
      yield* sim.tick(contact.start + delay - 1000)
      assert.deepStrictEqual(yield* row, [], "not there before its delay")
      yield* sim.tick(contact.start + delay + 1000)
      assert.deepStrictEqual(yield* row, [null], "active while it runs, as the ETL saw it")
      yield* sim.tick(contact.writtenAt - 1000)
      assert.deepStrictEqual(yield* row, [null], "still active just before it is written")
      yield* sim.tick(contact.writtenAt)
      assert.deepStrictEqual(yield* row, [contact.completion / 1000])
    }))

  it.scoped("RAA's short-abandon threshold decides ABANDONED_SHORT", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, { shortAbandonSeconds: 30 })
      yield* sim.tick(settled)
      const sql = yield* reader(filename)
      const rows = yield* sql.unsafe<{ short: number; standard: number }>(
        `SELECT SUM(abandoned_short) AS short, SUM(abandoned_standard) AS standard FROM ag2_queue_subhr WHERE interaction_type_key = 4`
      )
      const abandoned = scenario.contacts.flatMap((c) => c.visits).filter((v) => v.outcome === "abandoned")
      assert.deepStrictEqual(
        [Number(rows[0]!.short), Number(rows[0]!.standard)],
        [abandoned.filter((v) => v.waitMs < 30_000).length, abandoned.filter((v) => v.waitMs >= 30_000).length]
      )
    }))
})
