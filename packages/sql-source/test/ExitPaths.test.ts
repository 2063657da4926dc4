/**
 * Every way a read can end — read to its end, a row that can't be decoded (in the first fetch
 * or after several), the consumer stopping early, an interruption while the server is still
 * working, the query timeout, `check` sampling a bad row — must close the cursor, end the
 * transaction and give the connection back, promptly: against a real PostgreSQL server
 * (`pg_stat_activity` of the connector's own login) and real SQLite files (the process's open
 * file descriptors, and a writer that can lock the file).
 */
import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import type { PreparedQuery } from "../src/Guard.js"
import { prepare } from "../src/Guard.js"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"
import { open } from "../src/internal/source.js"
import { collect, tempDir, window } from "./fixtures.js"

/**
 * Fails instead of hanging: the read runs disconnected, so a cleanup that never finishes
 * can't hold the test past the bound.
 */
const bounded = <A, E>(effect: Effect.Effect<A, E>, seconds = 15) =>
  effect.pipe(
    Effect.disconnect,
    Effect.timeoutFail({
      duration: Duration.seconds(seconds),
      onTimeout: () => new Error(`no answer within ${seconds} s: the read or its cleanup hangs`)
    })
  )

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const contactColumns = (channel: string) =>
  `'Q' || (n % 5) AS queue_identifier, 'Queue' AS queue_name, ${channel} AS channel,
   ts AS timestamp, true AS offered, n % 2 = 0 AS handled, n % 600 AS duration`

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!baseUrl) throw new Error("ACD_BRIDGE_TEST_PG_URL is not set: run through vitest with the PostgreSQL globalSetup")

const suffix = randomBytes(4).toString("hex")
const database = `acd_sql_exits_${suffix}`
/** the connector's own login: its sessions are the ones that must not linger */
const reader = `acd_exit_reader_${suffix}`
const readerPassword = randomBytes(12).toString("hex")
const adminUrl = (db?: string) => {
  const u = new URL(baseUrl)
  if (db) u.pathname = `/${db}`
  return u.toString()
}
const readerUrl = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  u.username = reader
  u.password = readerPassword
  return u.toString()
})()

const admin = async <A>(f: (client: pg.Client) => Promise<A>, db?: string): Promise<A> => {
  const client = new pg.Client({ connectionString: adminUrl(db) })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

interface Activity {
  readonly pid: number
  readonly state: string | null
  readonly query: string
}

/** The reader's sessions, as the server sees them. */
const readerSessions = () =>
  Effect.promise(() =>
    admin(async (c) =>
      (await c.query<Activity>("SELECT pid, state, query FROM pg_stat_activity WHERE usename = $1 ORDER BY pid", [
        reader
      ])).rows
    )
  )

/**
 * The reader's sessions once `done` holds, or as they are after 3 s. A backend ends a moment
 * after its client's Terminate message, asynchronously, hence the short wait.
 */
const sessionsUntil = (done: (rows: ReadonlyArray<Activity>) => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 3000
    for (;;) {
      const rows = yield* readerSessions()
      if (done(rows) || Date.now() > deadline) return rows
      yield* Effect.sleep("50 millis")
    }
  })

/** No session of the reader is left at all. */
const assertNoSession = Effect.gen(function*() {
  const rows = yield* sessionsUntil((rows) => rows.length === 0)
  assert.deepStrictEqual(rows, [], `the connector's login still has sessions on the server: ${JSON.stringify(rows)}`)
})

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`CREATE DATABASE ${database}`)
    await c.query(`CREATE ROLE ${reader} LOGIN PASSWORD '${readerPassword}'`)
  })
  await admin(async (c) => {
    await c.query(`
      CREATE TABLE big (n int PRIMARY KEY, ts timestamptz NOT NULL, channel text NOT NULL);
      INSERT INTO big SELECT n, '2026-03-02T09:00:00Z'::timestamptz + (n % 3600) * interval '1 second',
        CASE WHEN n = 3000 THEN 'phone' ELSE 'calls' END
        FROM generate_series(1, 20000) n;
      GRANT SELECT ON big TO ${reader};`)
  }, database)
})

afterAll(async () => {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await c.query(`DROP ROLE IF EXISTS ${reader}`)
  })
})

const pgConfig = (query: string, extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "pg",
    connection: { url: readerUrl },
    contacts: { query },
    ...extra
  })

const bigQuery = (channel = "channel", extra = "") =>
  `SELECT ${contactColumns(channel)} FROM big WHERE ts >= :from AND ts < :to ${extra} ORDER BY n`

describe("PostgreSQL: every exit path closes the cursor, rolls back and releases", () => {
  it.live("a window read to its end", () =>
    Effect.gen(function*() {
      const batches = yield* bounded(collect(SqlConnector.pull(pgConfig(bigQuery("'calls'")), window)))
      assert.strictEqual(batches.reduce((n, b) => n + b.contacts.length, 0), 20_000)
      yield* assertNoSession
    }))

  it.live("a row that can't be decoded in the first fetch (an unknown channel)", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const error = yield* bounded(Effect.flip(collect(SqlConnector.pull(pgConfig(bigQuery("'phone'")), window))))
      assert.strictEqual(error._tag, "InvalidData")
      assert.include(error.message, "contacts row 1")
      assert.include(error.message, "\"phone\" is not a channel")
      assert.isBelow(Date.now() - started, 5000)
      yield* assertNoSession
    }))

  it.live("a row that can't be decoded after several fetches, with rows still unread", () =>
    Effect.gen(function*() {
      const error = yield* bounded(Effect.flip(collect(SqlConnector.pull(pgConfig(bigQuery()), window))))
      assert.strictEqual(error._tag, "InvalidData")
      assert.include(error.message, "contacts row 3000")
      yield* assertNoSession
    }))

  it.live("the consumer stops after the first batch", () =>
    Effect.gen(function*() {
      const first = yield* bounded(
        Stream.runCollect(Stream.take(SqlConnector.pull(pgConfig(bigQuery("'calls'"), { batchSize: 100 }), window), 1))
      )
      assert.strictEqual(first.length, 1)
      yield* assertNoSession
    }))

  it.live("interrupted while the server is still running the query: it is cancelled, not waited for", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        collect(SqlConnector.pull(pgConfig(bigQuery("'calls'", "AND pg_sleep(60) IS NOT NULL")), window))
      )
      const running = yield* sessionsUntil((rows) => rows.some((r) => r.state === "active" && r.query.includes("pg_sleep")))
      assert.isTrue(running.some((r) => r.state === "active"), "the query never started")
      const started = Date.now()
      const exit = yield* bounded(Fiber.interrupt(fiber))
      assert.isTrue(Exit.isInterrupted(exit))
      assert.isBelow(Date.now() - started, 5000)
      yield* assertNoSession
    }))

  it.live("the query timeout: Transient, and nothing left behind", () =>
    Effect.gen(function*() {
      const error = yield* bounded(Effect.flip(collect(SqlConnector.pull(
        pgConfig(bigQuery("'calls'", "AND pg_sleep(5) IS NOT NULL"), { queryTimeoutSeconds: 1 }),
        window
      ))))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "timeout")
      yield* assertNoSession
    }))

  it.live("check sampling a row it can't read", () =>
    Effect.gen(function*() {
      const config = pgConfig(
        `SELECT ${contactColumns("'phone'")} FROM big WHERE :from::timestamptz <= :to::timestamptz`
      )
      const report = yield* bounded(SqlConnector.check(config))
      const sample = report.items.find((i) => i.name === "contacts sample")
      assert.isFalse(sample?.ok, JSON.stringify(report.items))
      yield* assertNoSession
    }))

  it.live("a source kept open (as realtime keeps it): a failed read leaves no transaction open", () =>
    Effect.gen(function*() {
      const source = yield* open({
        driver: "pg",
        connection: { url: Redacted.make(readerUrl) },
        queryTimeoutMs: 10_000,
        connectTimeoutMs: 5_000
      })
      const query: PreparedQuery = Either.getOrThrow(prepare("pg", "SELECT n FROM big ORDER BY n", "contacts"))
      // the consumer gives up on the first row, as the connector does with a row it can't decode
      const failed = yield* bounded(Effect.flip(Stream.runDrain(
        source.rows(query, []).pipe(Stream.mapEffect(() => Effect.fail("bad row" as const)))
      )))
      assert.strictEqual(failed, "bad row")
      const open_ = yield* sessionsUntil((rows) => rows.every((r) => r.state === "idle"))
      assert.deepStrictEqual(
        open_.filter((r) => r.state !== "idle"),
        [],
        "a session of the open source is still in a transaction or running"
      )
    }).pipe(Effect.scoped, Effect.zipRight(assertNoSession)))

  it.live("realtime polling that meets a bad row ends with InvalidData and leaves nothing behind", () =>
    Effect.gen(function*() {
      const config = Schema.decodeUnknownSync(SqlConfig)({
        driver: "pg",
        connection: { url: readerUrl },
        agentStatuses: {
          query: "SELECT 'a' AS agent_identifier, 'READY' AS activity_identifier, 'not a time' AS start_time, " +
            "NULL AS end_time FROM big WHERE :from < :to"
        },
        realtime: {}
      })
      const error = yield* bounded(Effect.flip(Stream.runDrain(SqlConnector.realtime(config))))
      assert.strictEqual(error._tag, "InvalidData")
      yield* assertNoSession
    }))
})

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

const sqliteFile = (() => {
  const file = path.join(tempDir(), "exits.sqlite")
  const db = new Database(file)
  db.exec(`CREATE TABLE big (n INTEGER PRIMARY KEY, ts TEXT NOT NULL, channel TEXT NOT NULL)`)
  const insert = db.prepare("INSERT INTO big VALUES (?, ?, ?)")
  db.transaction(() => {
    for (let n = 1; n <= 20_000; n++) {
      const ts = new Date(Date.parse("2026-03-02T09:00:00Z") + (n % 3600) * 1000).toISOString()
      insert.run(n, ts, n === 3000 ? "phone" : "calls")
    }
  })()
  db.close()
  return file
})()

/** The process's open file descriptors on the SQLite file (or its journal). */
const openDescriptors = () =>
  fs.readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return fs.readlinkSync(path.join("/proc/self/fd", fd)).startsWith(sqliteFile)
    } catch {
      return false
    }
  })

/** The file is closed and nothing holds a lock on it: a writer gets an exclusive lock at once. */
const assertSqliteClosed = Effect.sync(() => {
  assert.deepStrictEqual(openDescriptors(), [], "the SQLite file is still open")
  const writer = new Database(sqliteFile, { timeout: 0 })
  try {
    writer.exec("BEGIN EXCLUSIVE; ROLLBACK")
  } finally {
    writer.close()
  }
})

const sqliteQuery = (channel = "channel") =>
  `SELECT ${contactColumns(channel)} FROM big WHERE ts >= :from AND ts < :to ORDER BY n`

const sqliteConfig = (query: string, extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "sqlite",
    connection: { filename: sqliteFile },
    contacts: { query },
    ...extra
  })

/**
 * Rows without end, cheap to make: only the timeout or the consumer stops them. `before`: all
 * of them before the window, so none is ever emitted.
 */
const endless = (at: "in" | "before") =>
  `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)
   SELECT 'Q' AS queue_identifier, 'Queue' AS queue_name, 'calls' AS channel,
          '${at === "in" ? "2026-03-02T09:30:00Z" : "2026-03-02T08:00:00Z"}' AS timestamp,
          1 AS offered, 1 AS handled, 1 AS duration FROM r WHERE :from < :to`

describe("SQLite: every exit path returns the statement and closes the file", () => {
  it.live("a window read to its end", () =>
    Effect.gen(function*() {
      const batches = yield* bounded(collect(SqlConnector.pull(sqliteConfig(sqliteQuery("'calls'")), window)))
      assert.strictEqual(batches.reduce((n, b) => n + b.contacts.length, 0), 20_000)
      yield* assertSqliteClosed
    }))

  it.live("a row that can't be decoded, in the first chunk and after several", () =>
    Effect.gen(function*() {
      const first = yield* bounded(Effect.flip(collect(SqlConnector.pull(sqliteConfig(sqliteQuery("'phone'")), window))))
      assert.include(first.message, "contacts row 1")
      yield* assertSqliteClosed
      const later = yield* bounded(Effect.flip(collect(SqlConnector.pull(sqliteConfig(sqliteQuery()), window))))
      assert.include(later.message, "contacts row 3000")
      yield* assertSqliteClosed
    }))

  it.live("the consumer stops after the first batch", () =>
    Effect.gen(function*() {
      const first = yield* bounded(
        Stream.runCollect(Stream.take(SqlConnector.pull(sqliteConfig(endless("in"), { batchSize: 100 }), window), 1))
      )
      assert.strictEqual(first.length, 1)
      yield* assertSqliteClosed
    }))

  it.live("interrupted while rows are still coming; the read leaves the event loop its turns", () =>
    Effect.gen(function*() {
      // better-sqlite3 reads synchronously: a timer, a socket or an interruption only runs
      // when the read gives the event loop a turn. The longest wait of a 5 ms interval timer
      // during half a second of reading measures how long the read holds the loop.
      let longest = 0
      let last = Date.now()
      const ticker = setInterval(() => {
        const now = Date.now()
        longest = Math.max(longest, now - last)
        last = now
      }, 5)
      const fiber = yield* Effect.fork(collect(SqlConnector.pull(sqliteConfig(endless("before")), window)))
      yield* Effect.promise(() => sleep(500))
      const exit = yield* bounded(Fiber.interrupt(fiber))
      clearInterval(ticker)
      assert.isTrue(Exit.isInterrupted(exit))
      assert.isBelow(longest, 250, `the read held the event loop for ${longest} ms at a time`)
      yield* assertSqliteClosed
    }))

  it.live("the query timeout: Transient, and the file closed", () =>
    Effect.gen(function*() {
      const error = yield* bounded(Effect.flip(collect(SqlConnector.pull(
        sqliteConfig(endless("before"), { queryTimeoutSeconds: 1 }),
        window
      ))))
      assert.strictEqual(error._tag, "Transient")
      yield* assertSqliteClosed
    }))
})
