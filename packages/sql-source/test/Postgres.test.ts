import { Domain } from "@acd-bridge/core"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import pg from "pg"
import type { PreparedQuery } from "../src/Guard.js"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"
import { open } from "../src/internal/source.js"
import { collect, contactRows, EngineLayer, evilQueueName, expectedIntervals, importAndQuery, merge, statusRows, wallClock, window } from "./fixtures.js"

const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!baseUrl) throw new Error("ACD_BRIDGE_TEST_PG_URL is not set: run through vitest with the PostgreSQL globalSetup")

const database = `acd_sql_source_${randomBytes(4).toString("hex")}`
const url = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  return u
})()
const sourceUrl = url.toString()
/** a login that can only read, as the README asks for (check fails a superuser) */
const reader = `acd_source_reader_${randomBytes(4).toString("hex")}`
const readerPassword = randomBytes(12).toString("hex")
const readerUrl = (() => {
  const u = new URL(sourceUrl)
  u.username = reader
  u.password = readerPassword
  return u.toString()
})()

const admin = async <A>(f: (client: pg.Client) => Promise<A>, connectionString = baseUrl): Promise<A> => {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}
const onSource = <A>(f: (client: pg.Client) => Promise<A>) => admin(f, sourceUrl)

beforeAll(async () => {
  await admin((c) => c.query(`CREATE DATABASE ${database}`))
  await onSource(async (c) => {
    await c.query(`
      CREATE TABLE queues (id text PRIMARY KEY, name text NOT NULL, channel text NOT NULL);
      CREATE TABLE contacts (id serial PRIMARY KEY, queue_id text REFERENCES queues, started_at timestamptz,
                             started_local timestamp, offered boolean, handled boolean, seconds numeric(12,3));
      CREATE TABLE statuses (agent text, activity text, started timestamptz, ended timestamptz);
      CREATE TABLE big (n int, ts timestamptz);
      CREATE FUNCTION touch_queues() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN UPDATE queues SET name = name; RETURN 0; END $$;
      INSERT INTO big SELECT n, '2026-03-02T09:00:00Z'::timestamptz + (n % 3600) * interval '1 second'
        FROM generate_series(1, 50000) n;
    `)
    for (const r of contactRows) {
      await c.query("INSERT INTO queues VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [r.queueId, r.queueName, r.channel])
      await c.query(
        "INSERT INTO contacts (queue_id, started_at, started_local, offered, handled, seconds) VALUES ($1, $2, $3, $4, $5, $6)",
        [r.queueId, r.ts, wallClock(r.ts, "America/New_York"), r.offered, r.handled, r.duration]
      )
    }
    for (const s of statusRows) {
      await c.query("INSERT INTO statuses VALUES ($1, $2, $3, $4)", [s.agent, s.activity, s.start, s.end])
    }
    await c.query(`CREATE ROLE ${reader} LOGIN PASSWORD '${readerPassword}'; GRANT pg_read_all_data TO ${reader}`)
  })
})

afterAll(async () => {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
  await admin((c) => c.query(`DROP ROLE IF EXISTS ${reader}`))
})

const contactsQuery = `
  SELECT c.queue_id AS queue_identifier, q.name AS queue_name, q.channel AS channel, c.started_at AS timestamp,
         c.offered AS offered, c.handled AS handled, c.seconds AS duration
  FROM contacts c JOIN queues q ON q.id = c.queue_id
  WHERE c.started_at >= :from AND c.started_at < :to
  ORDER BY c.id`

const statusesQuery = `
  SELECT agent AS agent_identifier, activity AS activity_identifier, started AS start_time, ended AS end_time
  FROM statuses WHERE started < :to AND (ended IS NULL OR ended > :from) ORDER BY started`

const config = (extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "pg",
    connection: { url: sourceUrl },
    contacts: { query: contactsQuery },
    agentStatuses: { query: statusesQuery },
    ...extra
  })

const hostConfig = (overrides: Record<string, unknown>) =>
  config({
    connection: {
      host: url.hostname,
      port: Number(url.port),
      database,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      ...overrides
    },
    connectTimeoutSeconds: 3
  })

const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)

describe("sql connector on PostgreSQL", () => {
  it.effect("reads the window [from, to): timestamptz, numeric and boolean columns", () =>
    Effect.gen(function*() {
      const batch = merge(yield* collect(SqlConnector.pull(config(), window)))
      assert.deepStrictEqual(
        batch.contacts.map((c) => [iso(c.timestamp), c.queueIdentifier, c.queueName, c.handled, c.durationMs]),
        [
          ["2026-03-02T09:00:00.000Z", "Q1", "Level 1 support", true, 200_100],
          ["2026-03-02T09:14:59.000Z", "Q1", "Level 1 support", true, 100_000],
          ["2026-03-02T09:20:00.000Z", "Q1", "Level 1 support", false, 30_000],
          ["2026-03-02T09:40:00.000Z", "Q2", evilQueueName, true, 60_500]
        ]
      )
      assert.deepStrictEqual(batch.statuses.map((s) => s.agentIdentifier + "/" + s.activityIdentifier), [
        "a-1/READY",
        "a-1/BREAK",
        "a-2/READY"
      ])
      Schema.validateSync(Domain.Batch)(batch)
    }))

  it.effect("time zones: a timestamp without zone is read in the source zone, :from/:to written in it", () =>
    Effect.gen(function*() {
      const batch = merge(yield* collect(SqlConnector.pull(
        config({
          timezone: "America/New_York",
          parameters: { format: "timestamp" },
          contacts: {
            query: contactsQuery
              .replace("c.started_at AS timestamp", "c.started_local AS timestamp")
              .replace("WHERE c.started_at >= :from AND c.started_at < :to", "WHERE c.started_local >= :from AND c.started_local < :to")
          },
          agentStatuses: undefined
        }),
        window
      )))
      assert.deepStrictEqual(batch.contacts.map((c) => iso(c.timestamp)), [
        "2026-03-02T09:00:00.000Z",
        "2026-03-02T09:14:59.000Z",
        "2026-03-02T09:20:00.000Z",
        "2026-03-02T09:40:00.000Z"
      ])
    }))

  it.effect("epoch parameters", () =>
    Effect.gen(function*() {
      const batch = merge(yield* collect(SqlConnector.pull(
        config({
          parameters: { format: "epoch_seconds" },
          contacts: {
            query: contactsQuery.replace(
              "WHERE c.started_at >= :from AND c.started_at < :to",
              "WHERE c.started_at >= to_timestamp(:from) AND c.started_at < to_timestamp(:to)"
            )
          },
          agentStatuses: undefined
        }),
        window
      )))
      assert.strictEqual(batch.contacts.length, 4)
    }))

  it.effect("end to end: source → connector → engine → intervals; a window imported twice is not doubled", () =>
    Effect.gen(function*() {
      const c = config()
      const first = yield* collect(SqlConnector.pull(c, window))
      const second = yield* collect(SqlConnector.pull(c, window))
      assert.deepStrictEqual(merge(second), merge(first))
      const intervals = yield* importAndQuery(Schema.encodeSync(SqlConfig)(c), [first, second])
      assert.deepStrictEqual(intervals, expectedIntervals)
    }).pipe(Effect.provide(EngineLayer)))

  it.effect("a query running past the timeout is cancelled by the server: Transient", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const error = yield* Effect.flip(collect(SqlConnector.pull(
        config({
          queryTimeoutSeconds: 1,
          contacts: { query: contactsQuery.replace("FROM contacts c", "FROM contacts c CROSS JOIN (SELECT pg_sleep(5)) AS s") },
          agentStatuses: undefined
        }),
        window
      )))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "ran longer than the 1 s timeout")
      assert.isBelow(Date.now() - started, 4500)
    }))

  it.effect("a connection dropped mid-stream fails with Transient; the window read again is the same, applied once", () =>
    Effect.gen(function*() {
      const c = config({
        batchSize: 500,
        contacts: {
          query: `SELECT 'Q' || (n % 7) AS queue_identifier, 'Queue ' || (n % 7) AS queue_name, 'calls' AS channel,
                  ts AS timestamp, true AS offered, n % 2 = 0 AS handled, n % 600 AS duration
                  FROM big WHERE ts >= :from AND ts < :to ORDER BY n`
        },
        agentStatuses: undefined
      })
      let batches = 0
      const error = yield* SqlConnector.pull(c, window).pipe(
        Stream.runForEach(() =>
          Effect.promise(async () => {
            batches++
            if (batches === 1) {
              await admin((a) =>
                a.query(
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
                    "WHERE application_name = 'acd-bridge-sql' AND datname = $1 AND pid <> pg_backend_pid()",
                  [database]
                )
              )
            }
          })
        ),
        Effect.flip
      )
      assert.strictEqual(error._tag, "Transient")
      assert.isAbove(batches, 0)
      assert.isBelow(batches, 100)

      // the window again, twice: identical, and imported twice it counts once
      const first = yield* collect(SqlConnector.pull(c, window))
      const second = yield* collect(SqlConnector.pull(c, window))
      assert.strictEqual(merge(first).contacts.length, 50_000)
      assert.deepStrictEqual(merge(second), merge(first))
      const intervals = yield* importAndQuery(Schema.encodeSync(SqlConfig)(c), [first, second])
      assert.strictEqual(intervals.reduce((n, r) => n + r.offered, 0), 50_000)
      assert.strictEqual(intervals.reduce((n, r) => n + r.handled, 0), 25_000)
    }).pipe(Effect.provide(EngineLayer)))

  it.effect("rows are streamed through a cursor: taking the first batch does not read the rest", () =>
    Effect.gen(function*() {
      const c = config({
        batchSize: 100,
        contacts: {
          query: `SELECT 'Q' AS queue_identifier, 'Q' AS queue_name, 'calls' AS channel, ts AS timestamp,
                  true AS offered, true AS handled, 1 AS duration FROM big CROSS JOIN generate_series(1, 1000) g
                  WHERE ts >= :from AND ts < :to`
        },
        agentStatuses: undefined
      })
      // 50 million rows: loading them whole would take minutes and gigabytes
      const started = Date.now()
      const first = yield* SqlConnector.pull(c, window).pipe(Stream.take(1), Stream.runCollect)
      assert.strictEqual(Domain.batchSize(Chunk.unsafeHead(first)), 100)
      assert.isBelow(Date.now() - started, 10_000)
    }))

  it.effect("the read-only transaction refuses writes that pass the guard", () =>
    Effect.gen(function*() {
      // a function of the customer's that writes is a plain function call to the guard (no
      // deny-list can know it); the server refuses its UPDATE read-only
      const error = yield* Effect.flip(collect(SqlConnector.pull(
        config({
          contacts: { query: contactsQuery.replace("c.seconds AS duration", "c.seconds + touch_queues() AS duration") },
          agentStatuses: undefined
        }),
        window
      )))
      assert.strictEqual(error._tag, "InvalidData")
      assert.include(error.message, "read-only transaction")
      // and a statement that bypasses the guard entirely
      const source = yield* open({ driver: "pg", connection: { url: SchemaRedacted(sourceUrl) }, queryTimeoutMs: 5000, connectTimeoutMs: 5000 })
      const sneaky: PreparedQuery = { dialect: "pg", text: "DELETE FROM contacts", parameters: [] }
      const failure = yield* Effect.flip(Stream.runCollect(source.rows(sneaky, [])))
      assert.include((failure.cause as Error).message, "read-only transaction")
      const count = yield* Effect.promise(() => onSource((c) => c.query("SELECT count(*)::int AS n FROM contacts")))
      assert.strictEqual(count.rows[0].n, contactRows.length)
    }).pipe(Effect.scoped))

  it.effect("parameters are bound, never spliced: a :from that is a SQL string changes nothing", () =>
    Effect.gen(function*() {
      // the window values are the only values bound; the guard refuses any other parameter
      const refused = Schema.decodeUnknownEither(SqlConfig)({
        driver: "pg",
        connection: { url: sourceUrl },
        contacts: { query: "SELECT * FROM contacts WHERE queue_id = :queue" }
      })
      assert.strictEqual(refused._tag, "Left")
      const batch = merge(yield* collect(SqlConnector.pull(
        config({
          contacts: { query: contactsQuery.replace("ORDER BY c.id", "AND q.name <> ':from' ORDER BY c.id") },
          agentStatuses: undefined
        }),
        window
      )))
      assert.strictEqual(batch.contacts.length, 4)
    }))

  describe("check", () => {
    it.effect("a good configuration, with a login that can only read", () =>
      Effect.gen(function*() {
        const report = yield* SqlConnector.check(config({ connection: { url: readerUrl } }))
        assert.isTrue(report.ok, JSON.stringify(report.items, null, 2))
        assert.include(report.items[0]!.detail, "Connected to PostgreSQL")
      }))

    it.effect("bad credentials: AuthFailed on pull, a plain sentence in check", () =>
      Effect.gen(function*() {
        const bad = hostConfig({ password: "not-the-password" })
        const error = yield* Effect.flip(collect(SqlConnector.pull(bad, window)))
        assert.strictEqual(error._tag, "AuthFailed")
        assert.include(error.message, "password authentication failed")
        const report = yield* SqlConnector.check(bad)
        assert.isFalse(report.ok)
        assert.strictEqual(report.items[0]!.name, "connection")
        assert.include(report.items[0]!.detail, "The database refused the login")
        assert.notInclude(JSON.stringify(report), "not-the-password")
      }))

    it.effect("an unreachable host: Transient", () =>
      Effect.gen(function*() {
        const down = hostConfig({ host: "127.0.0.1", port: 1 })
        const error = yield* Effect.flip(collect(SqlConnector.pull(down, window)))
        assert.strictEqual(error._tag, "Transient")
        assert.include(error.message, "refused")
        const report = yield* SqlConnector.check(down)
        assert.include(report.items[0]!.detail, "Could not reach the database")
      }))

    it.effect("an unknown database: AuthFailed naming it", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(collect(SqlConnector.pull(hostConfig({ database: "no_such_db" }), window)))
        assert.strictEqual(error._tag, "AuthFailed")
        assert.include(error.message, "does not exist")
      }))

    it.effect("missing and mistyped columns, from the empty window's result description", () =>
      Effect.gen(function*() {
        const report = yield* SqlConnector.check(config({
          contacts: {
            query: `SELECT c.queue_id AS queue_identifier, q.name AS queue_name, c.started_at AS timestamp,
                    c.started_at AS offered, c.handled AS handled, q.name AS duration
                    FROM contacts c JOIN queues q ON q.id = c.queue_id WHERE c.started_at >= :from AND c.started_at < :to`
          }
        }))
        assert.isFalse(report.ok)
        const columns = report.items.find((i) => i.name === "contacts columns")!
        assert.include(columns.detail, "it returns no column \"channel\"")
        assert.include(columns.detail, "column \"offered\" is a timestamp (timestamptz); it must be true/false or 1/0")
        assert.include(columns.detail, "column \"duration\" is text (text); it must be the contact's duration in seconds")
        assert.isTrue(report.items.find((i) => i.name === "agentStatuses columns")!.ok)
      }))

    it.effect("a query error is reported with the server's words", () =>
      Effect.gen(function*() {
        const report = yield* SqlConnector.check(config({
          contacts: { query: "SELECT no_such_column AS queue_identifier FROM contacts WHERE started_at >= :from AND started_at < :to" }
        }))
        const runs = report.items.find((i) => i.name === "contacts runs")!
        assert.isFalse(runs.ok)
        assert.include(runs.detail, "column \"no_such_column\" does not exist")
      }))
  })
})

function SchemaRedacted(value: string) {
  return Schema.decodeSync(Schema.Redacted(Schema.String))(value)
}
