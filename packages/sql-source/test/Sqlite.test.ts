import { Domain } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as path from "node:path"
import type { PreparedQuery } from "../src/Guard.js"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"
import { open } from "../src/internal/source.js"
import {
  collect,
  contactRows,
  EngineLayer,
  engineWith,
  evilQueueName,
  expectedIntervals,
  importAndQuery,
  makeSqliteSource,
  merge,
  sqliteConfig,
  sqliteContactsQuery,
  sqliteStatusesQuery,
  tempDir,
  window
} from "./fixtures.js"

const fixture = () => {
  const file = path.join(tempDir(), "acd.sqlite")
  const db = makeSqliteSource(file)
  return { file, db }
}

const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)

describe("sql connector on SQLite", () => {
  it.effect("reads the window [from, to) with wall-clock text in the source zone", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const batches = yield* collect(SqlConnector.pull(sqliteConfig(file), window))
      const batch = merge(batches)
      assert.deepStrictEqual(
        batch.contacts.map((c) => [iso(c.timestamp), c.queueIdentifier, c.channel, c.offered, c.handled, c.durationMs]),
        [
          ["2026-03-02T09:00:00.000Z", "Q1", "calls", true, true, 200_100],
          ["2026-03-02T09:14:59.000Z", "Q1", "calls", true, true, 100_000],
          ["2026-03-02T09:20:00.000Z", "Q1", "calls", true, false, 30_000],
          ["2026-03-02T09:40:00.000Z", "Q2", "chats", true, true, 60_500]
        ]
      )
      // statuses overlapping the window, the open one included; a-3 ended before it
      assert.deepStrictEqual(
        batch.statuses.map((s) => [s.agentIdentifier, s.activityIdentifier, iso(s.start), s.end ? iso(s.end) : null]),
        [
          ["a-1", "READY", "2026-03-02T08:30:00.000Z", "2026-03-02T09:10:00.000Z"],
          ["a-1", "BREAK", "2026-03-02T09:10:00.000Z", "2026-03-02T09:25:00.000Z"],
          ["a-2", "READY", "2026-03-02T09:50:00.000Z", null]
        ]
      )
      // every record decodes as the core's schema
      Schema.validateSync(Domain.Batch)(batch)
    }))

  it.effect("keeps data verbatim: a queue name full of SQL is just a name", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      const first = merge(yield* collect(SqlConnector.pull(sqliteConfig(file), window)))
      assert.strictEqual(first.contacts.find((c) => c.queueIdentifier === "Q2")?.queueName, evilQueueName)
      const second = merge(yield* collect(SqlConnector.pull(sqliteConfig(file), window)))
      assert.deepStrictEqual(second, first)
      assert.strictEqual((db.prepare("SELECT count(*) AS n FROM contacts").get() as { n: number }).n, contactRows.length)
    }))

  it.effect("emits batches of at most batchSize records", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const batches = yield* collect(SqlConnector.pull(sqliteConfig(file, { batchSize: 2 }), window))
      assert.deepStrictEqual(batches.map((b) => Domain.batchSize(b)), [2, 2, 2, 1])
    }))

  it.effect("slices the window when asked, with the same result", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const whole = merge(yield* collect(SqlConnector.pull(sqliteConfig(file), window)))
      const sliced = merge(yield* collect(SqlConnector.pull(sqliteConfig(file, { sliceMinutes: 15 }), window)))
      assert.deepStrictEqual(sliced.contacts, whole.contacts)
    }))

  it.effect("end to end: source → connector → engine → intervals, re-imports replace", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const config = sqliteConfig(file)
      const first = yield* collect(SqlConnector.pull(config, window))
      const again = yield* collect(SqlConnector.pull(config, window))
      const intervals = yield* importAndQuery(Schema.encodeSync(SqlConfig)(config), [first, again])
      assert.deepStrictEqual(intervals, expectedIntervals)
    }).pipe(Effect.provide(EngineLayer)))

  it.effect("end to end with the durable SQLite store (SqlStorage.layerSqlite)", () => {
    const { file } = fixture()
    const store = path.join(tempDir(), "engine.sqlite")
    return Effect.gen(function*() {
      const config = sqliteConfig(file)
      const first = yield* collect(SqlConnector.pull(config, window))
      const intervals = yield* importAndQuery(Schema.encodeSync(SqlConfig)(config), [first, first])
      assert.deepStrictEqual(intervals, expectedIntervals)
    }).pipe(Effect.provide(engineWith(SqlStorage.layerSqlite({ filename: store }))))
  })

  it.effect("reads the interval layout", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      db.exec(`
        CREATE TABLE stats (queue TEXT, name TEXT, channel TEXT, start_utc INTEGER, len INTEGER, offered INTEGER,
                            handled INTEGER, handle_time TEXT, abandoned INTEGER);
        INSERT INTO stats VALUES ('Q9', 'Billing', 'emails', ${Date.parse("2026-03-02T09:30:00Z") / 1000}, 30, 12, 10, '3600.5', 2);
        INSERT INTO stats VALUES ('Q9', 'Billing', 'emails', ${Date.parse("2026-03-02T10:00:00Z") / 1000}, 30, 1, 1, '1', 0);
      `)
      const config = sqliteConfig(file, {
        parameters: { format: "epoch_seconds" },
        contacts: {
          layout: "interval",
          query: `SELECT queue AS queue_identifier, name AS queue_name, channel, start_utc AS interval_start,
                  len AS interval_minutes, offered, handled, handle_time AS duration, abandoned
                  FROM stats WHERE start_utc >= :from AND start_utc < :to`
        },
        agentStatuses: undefined
      })
      const batch = merge(yield* collect(SqlConnector.pull(config, window)))
      assert.deepStrictEqual(batch.aggregates, [{
        queueIdentifier: "Q9",
        queueName: "Billing",
        channel: "emails",
        start: DateTime.unsafeMake("2026-03-02T09:30:00Z"),
        lengthMinutes: 30,
        offered: 12,
        handled: 10,
        handlingMs: 3_600_500,
        unhandledMs: 0,
        talkMs: 0,
        holdMs: 0,
        afterCallWorkMs: 0,
        waitMs: 0,
        abandoned: 2,
        shortAbandoned: 0,
        breakout: 0,
        answeredInThreshold: 0
      }])
    }))

  it.effect("a row that can't be read fails the window with its position, column and value", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      db.exec("UPDATE queues SET channel = 'phone' WHERE id = 'Q2'")
      const exit = yield* Effect.exit(collect(SqlConnector.pull(sqliteConfig(file), window)))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause : undefined
      assert.include(String(error), "InvalidData")
      assert.include(String(error), "contacts row 4")
      assert.include(String(error), "\"phone\" is not a channel")
    }))

  it.effect("a spring-forward gap time is refused, not guessed", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      db.exec("UPDATE contacts SET started_local = '2026-03-29 02:30:00' WHERE id = 1")
      const gapWindow = {
        from: DateTime.unsafeMake("2026-03-29T00:00:00Z"),
        to: DateTime.unsafeMake("2026-03-29T02:00:00Z")
      }
      const error = yield* Effect.flip(collect(SqlConnector.pull(sqliteConfig(file), gapWindow)))
      assert.strictEqual(error._tag, "InvalidData")
      assert.include(error.message, "does not exist in the time zone Europe/Berlin")
    }))

  it.effect("opens the file read-only: a writing statement is refused even past the guard", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      const source = yield* open({
        driver: "sqlite",
        connection: { filename: file },
        queryTimeoutMs: 5000,
        connectTimeoutMs: 5000
      })
      const sneaky: PreparedQuery = { dialect: "sqlite", text: "DELETE FROM sentinel", parameters: [] }
      const failure = yield* Effect.flip(Stream.runCollect(source.rows(sneaky, [])))
      assert.include(String((failure.cause as Error).message), "does not only read")
      assert.strictEqual((db.prepare("SELECT count(*) AS n FROM sentinel").get() as { n: number }).n, 1)
    }).pipe(Effect.scoped))

  it("refuses writing queries when the config is decoded", () => {
    const attempts = [
      "SELECT 1; DROP TABLE contacts",
      "WITH x AS (SELECT 1) DELETE FROM contacts",
      "SELECT 1 /* */ ; /* hidden */ DROP TABLE contacts",
      "SELECT 1 -- a comment\n; DROP TABLE contacts",
      "ATTACH DATABASE 'x.db' AS x"
    ]
    for (const query of attempts) {
      const result = Schema.decodeUnknownEither(SqlConfig)({
        driver: "sqlite",
        connection: { filename: "x.sqlite" },
        contacts: { query }
      })
      assert.isTrue(result._tag === "Left", query)
      if (result._tag === "Left") assert.include(String(result.left), "The contacts query was refused")
    }
  })

  it.effect("check: a good configuration", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const report = yield* SqlConnector.check(sqliteConfig(file))
      assert.isTrue(report.ok, JSON.stringify(report.items, null, 2))
      assert.deepStrictEqual(report.items.map((i) => i.name), [
        "connection",
        "contacts query",
        "contacts runs",
        "contacts columns",
        "contacts sample",
        "agentStatuses query",
        "agentStatuses runs",
        "agentStatuses columns",
        "agentStatuses sample"
      ])
    }))

  it.effect("check: missing and mistyped columns in an administrator's words", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      db.exec("CREATE TABLE typed (q TEXT, ts DATETIME, flag DATETIME, secs REAL)")
      const report = yield* SqlConnector.check(sqliteConfig(file, {
        contacts: {
          query: "SELECT q AS queue_identifier, q AS queue_name, ts AS timestamp, flag AS offered, flag AS handled, " +
            "secs AS duration FROM typed WHERE ts >= :from AND ts < :to"
        },
        agentStatuses: undefined
      }))
      assert.isFalse(report.ok)
      const columns = report.items.find((i) => i.name === "contacts columns")!
      assert.isFalse(columns.ok)
      assert.include(columns.detail, "it returns no column \"channel\" (one of calls, chats")
      assert.include(columns.detail, "column \"offered\" is a timestamp (DATETIME); it must be true/false or 1/0")
    }))

  it.effect("check: sampled rows with unreadable values", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      db.exec("UPDATE queues SET channel = 'Telephone' WHERE id = 'Q1'")
      const report = yield* SqlConnector.check(sqliteConfig(file, {
        contacts: {
          // the sample reads the last 24 hours: widen the query to see the fixture rows
          query: sqliteContactsQuery.replace("WHERE c.started_local >= :from AND c.started_local <= :to", "WHERE :from <= :to")
        }
      }))
      const sample = report.items.find((i) => i.name === "contacts sample")!
      assert.isFalse(sample.ok)
      assert.include(sample.detail, "column \"channel\": \"Telephone\" is not a channel")
    }))

  it.effect("check and pull: a missing file is reported, not thrown", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "missing.sqlite")
      const report = yield* SqlConnector.check(sqliteConfig(file))
      assert.isFalse(report.ok)
      assert.include(report.items[0]!.detail, "the file does not exist")
      const error = yield* Effect.flip(collect(SqlConnector.pull(sqliteConfig(file), window)))
      assert.strictEqual(error._tag, "Transient")
    }))

  it.effect("realtime: polls every 10 seconds and emits what changed", () =>
    Effect.gen(function*() {
      const { db, file } = fixture()
      yield* TestClock.setTime(Date.parse("2026-03-02T10:00:00Z"))
      const config = sqliteConfig(file, { realtime: { lookbackMinutes: 120 } })
      const seen: Array<Domain.Batch> = []
      const fiber = yield* SqlConnector.realtime(config).pipe(
        Stream.runForEach((b) => Effect.sync(() => seen.push(b))),
        Effect.fork
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(seen.map((b) => b.statuses.map((s) => s.activityIdentifier)), [["READY", "BREAK", "READY"]])
      // nothing changed: nothing emitted
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(seen.length, 1)
      // a-2 goes on break: its READY is closed and a BREAK opens
      db.exec(`UPDATE statuses SET ended = '2026-03-02 11:00:05' WHERE agent = 'a-2' AND ended IS NULL;
               INSERT INTO statuses VALUES ('a-2', 'BREAK', '2026-03-02 11:00:05', NULL);`)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(seen.length, 2)
      assert.deepStrictEqual(
        seen[1]!.statuses.map((s) => [s.agentIdentifier, s.activityIdentifier, s.end === null]),
        [["a-2", "READY", false], ["a-2", "BREAK", true]]
      )
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("conformance: the window read in quarters gives the same contacts; a later window only the open status", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const config = sqliteConfig(file)
      const whole = merge(yield* collect(SqlConnector.pull(config, window)))
      const quarters: Array<Domain.Batch> = []
      for (let q = 0; q < 4; q++) {
        const from = DateTime.add(window.from, { minutes: 15 * q })
        quarters.push(merge(yield* collect(SqlConnector.pull(config, { from, to: DateTime.add(from, { minutes: 15 }) }))))
      }
      assert.deepStrictEqual(quarters.flatMap((b) => b.contacts), whole.contacts)
      // a status crossing a quarter's edge comes back with every quarter it overlaps, whole
      assert.deepStrictEqual(
        quarters.map((b) => b.statuses.map((s) => `${s.agentIdentifier}/${s.activityIdentifier}`)),
        [["a-1/READY", "a-1/BREAK"], ["a-1/BREAK"], [], ["a-2/READY"]]
      )
      const future = {
        from: DateTime.unsafeMake("2099-01-01T00:00:00Z"),
        to: DateTime.unsafeMake("2099-01-01T01:00:00Z")
      }
      // no contacts; only the status that is still open overlaps a later window
      const later = merge(yield* collect(SqlConnector.pull(config, future)))
      assert.deepStrictEqual(later.contacts, [])
      assert.deepStrictEqual(later.statuses.map((s) => [s.agentIdentifier, s.end]), [["a-2", null]])
      // an empty window [t, t) holds nothing, not even the status running across t
      const t = DateTime.unsafeMake("2026-03-02T09:12:00Z")
      assert.deepStrictEqual(yield* collect(SqlConnector.pull(config, { from: t, to: t })), [])
      const contactsOnly = sqliteConfig(file, { agentStatuses: undefined })
      assert.deepStrictEqual(yield* collect(SqlConnector.pull(contactsOnly, future)), [])
    }))

  it.effect("realtime without a statuses query fails with InvalidData", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const error = yield* Effect.flip(collect(SqlConnector.realtime(sqliteConfig(file, { agentStatuses: undefined }))))
      assert.strictEqual(error._tag, "InvalidData")
      assert.include(error.message, "realtime polling needs")
    }))

  it.effect("the statuses query alone", () =>
    Effect.gen(function*() {
      const { file } = fixture()
      const config = sqliteConfig(file, { contacts: undefined, agentStatuses: { query: sqliteStatusesQuery } })
      const batch = merge(yield* collect(SqlConnector.pull(config, window)))
      assert.strictEqual(batch.contacts.length, 0)
      assert.strictEqual(batch.statuses.length, 3)
    }))
})
