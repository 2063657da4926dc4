/**
 * The testkit's connector conformance suite, run twice: against a PostgreSQL source (with bad
 * credentials, a lock that makes the read time out, and a corrupted row) and against a SQLite
 * source (with a vanished file and realtime polling).
 */
import { ConnectorSuite } from "@acd-bridge/testkit"
import Database from "better-sqlite3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import * as SqlConnector from "../src/SqlConnector.js"
import { tempDir } from "./fixtures.js"

const now = "2026-04-01T00:00:00Z"
const windows = [
  { from: "2026-03-02T06:00:00Z", to: "2026-03-02T12:00:00Z" },
  { from: "2026-03-02T18:00:00Z", to: "2026-03-02T19:30:00Z" }
]
const dstWindow = { from: "2026-03-29T00:00:00Z", to: "2026-03-29T03:00:00Z" }
const emptyWindow = { from: "2026-03-05T00:00:00Z", to: "2026-03-05T06:00:00Z" }

const channels = ["calls", "chats", "emails"] as const
const iso = (t: number) => new Date(t).toISOString()

/**
 * Contacts every 7 minutes (some exactly on quarter boundaries; id 61 is at 07:00, inside the
 * first window), closed statuses every 40 minutes.
 */
const sourceData = () => {
  const contacts: Array<[string, string, string, string, boolean, boolean, number]> = []
  const statuses: Array<[string, string, string, string | null]> = []
  const spans = [
    [Date.parse("2026-03-02T00:00:00Z"), Date.parse("2026-03-03T00:00:00Z")],
    [Date.parse("2026-03-28T22:00:00Z"), Date.parse("2026-03-29T04:00:00Z")]
  ] as const
  let i = 0
  for (const [from, to] of spans) {
    for (let t = from; t < to; t += 7 * 60_000, i++) {
      const q = i % 3
      contacts.push([`Q${q}`, `Queue ${q}`, channels[q]!, iso(t), true, i % 4 !== 0, (i * 13) % 600 + 0.5])
    }
    for (let agent = 0; agent < 3; agent++) {
      for (let t = from + agent * 5 * 60_000, k = 0; t < to; t += 40 * 60_000, k++) {
        statuses.push([`a-${agent}`, k % 2 === 0 ? "READY" : "BREAK", iso(t), iso(t + 40 * 60_000)])
      }
    }
  }
  // what an ACD writes after `now`: one short status a minute, seen by realtime polling
  for (let k = 1; k <= 30; k++) {
    const t = Date.parse(now) + k * 60_000
    statuses.push([`r-${k}`, "READY", iso(t), iso(t + 30_000)])
  }
  return { contacts, statuses }
}

const contactsColumns = `c.queue_id AS queue_identifier, c.queue_name, c.channel, c.ts AS timestamp,
  c.offered, c.handled, c.seconds AS duration`
const statusesColumns = "agent AS agent_identifier, activity AS activity_identifier, started AS start_time, ended AS end_time"

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!baseUrl) throw new Error("ACD_BRIDGE_TEST_PG_URL is not set: run through vitest with the PostgreSQL globalSetup")
const database = "acd_sql_conformance"
const sourceUrl = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  return u
})()
/** the connector's login: it may only read (check fails a superuser) */
const reader = `acd_conformance_reader_${randomBytes(4).toString("hex")}`
const readerPassword = randomBytes(12).toString("hex")

const withClient = async <A>(connectionString: string, f: (c: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

class PgSource extends Context.Tag("test/PgSource")<PgSource, {
  /** holds an exclusive lock on the contacts table until the case ends: reads time out */
  readonly lock: Effect.Effect<void>
  /** a row the connector can't read */
  readonly corrupt: Effect.Effect<void>
}>() {}

const PgSourceLayer = Layer.scoped(
  PgSource,
  Effect.gen(function*() {
    yield* Effect.promise(() =>
      withClient(baseUrl, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
        await c.query(`CREATE DATABASE ${database}`)
      })
    )
    const data = sourceData()
    yield* Effect.promise(() =>
      withClient(sourceUrl.toString(), async (c) => {
        await c.query(`
          CREATE TABLE contacts (id serial PRIMARY KEY, queue_id text, queue_name text, channel text, ts timestamptz,
                                 offered boolean, handled boolean, seconds numeric(10,3));
          CREATE TABLE statuses (agent text, activity text, started timestamptz, ended timestamptz);`)
        await c.query(
          `INSERT INTO contacts (queue_id, queue_name, channel, ts, offered, handled, seconds)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bool[], $6::bool[], $7::numeric[])`,
          [0, 1, 2, 3, 4, 5, 6].map((k) => data.contacts.map((r) => r[k]))
        )
        await c.query(
          "INSERT INTO statuses SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])",
          [0, 1, 2, 3].map((k) => data.statuses.map((r) => r[k]))
        )
        await c.query(`CREATE ROLE ${reader} LOGIN PASSWORD '${readerPassword}'; GRANT SELECT ON contacts, statuses TO ${reader}`)
      })
    )
    yield* Effect.addFinalizer(() =>
      Effect.promise(() =>
        withClient(baseUrl, async (c) => {
          await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
          await c.query(`DROP ROLE IF EXISTS ${reader}`)
        })
      )
    )
    const locker = new pg.Client({ connectionString: sourceUrl.toString() })
    yield* Effect.acquireRelease(Effect.promise(() => locker.connect()), () => Effect.promise(() => locker.end()))
    return {
      lock: Effect.promise(async () => {
        await locker.query("BEGIN")
        await locker.query("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE")
      }),
      corrupt: Effect.promise(() =>
        withClient(sourceUrl.toString(), (c) => c.query("UPDATE contacts SET channel = 'phone' WHERE id = 61"))
      )
    }
  })
)

const pgConfig = (password = readerPassword) => {
  const url = new URL(sourceUrl.toString())
  url.username = reader
  url.password = password
  return {
    driver: "pg",
    connection: { url: url.toString() },
    queryTimeoutSeconds: 2,
    connectTimeoutSeconds: 5,
    contacts: {
      query: `SELECT ${contactsColumns} FROM contacts c WHERE c.ts >= :from AND c.ts < :to ORDER BY c.id`
    },
    agentStatuses: {
      query: `SELECT ${statusesColumns} FROM statuses WHERE started < :to AND (ended IS NULL OR ended > :from)`
    }
  }
}

ConnectorSuite.suite("PostgreSQL source", {
  connector: SqlConnector.connector,
  config: pgConfig(),
  badCredentialsConfig: pgConfig("wrong-password"),
  invalidConfigs: [
    { config: 42 },
    { config: { ...pgConfig(), contacts: { query: "SELECT 1; DROP TABLE contacts" } } },
    { config: { ...pgConfig(), driver: "oracle" } }
  ],
  layer: PgSourceLayer,
  windows,
  emptyWindow,
  dstWindow,
  now,
  transient: Effect.flatMap(PgSource, (s) => s.lock),
  malformed: Effect.flatMap(PgSource, (s) => s.corrupt),
  // realtime polling is run against SQLite below: its reads are synchronous, so the suite's
  // TestClock steps and the polls interleave deterministically
  realtime: false
})

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

const file = path.join(tempDir(), "conformance.sqlite")

class SqliteSource extends Context.Tag("test/SqliteSource")<SqliteSource, {
  /** the file disappears (an unmounted share) */
  readonly vanish: Effect.Effect<void>
  readonly corrupt: Effect.Effect<void>
}>() {}

const SqliteSourceLayer = Layer.sync(SqliteSource, () => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true })
  const db = new Database(file)
  db.exec(`
    CREATE TABLE contacts (id INTEGER PRIMARY KEY, queue_id TEXT, queue_name TEXT, channel TEXT, ts TEXT,
                           offered INTEGER, handled INTEGER, seconds REAL);
    CREATE TABLE statuses (agent TEXT, activity TEXT, started TEXT, ended TEXT);`)
  const data = sourceData()
  const insertContact = db.prepare(
    "INSERT INTO contacts (queue_id, queue_name, channel, ts, offered, handled, seconds) VALUES (?, ?, ?, ?, ?, ?, ?)"
  )
  const insertStatus = db.prepare("INSERT INTO statuses VALUES (?, ?, ?, ?)")
  db.transaction(() => {
    for (const r of data.contacts) insertContact.run(r[0], r[1], r[2], r[3], r[4] ? 1 : 0, r[5] ? 1 : 0, r[6])
    for (const s of data.statuses) insertStatus.run(...s)
  })()
  db.close()
  return {
    vanish: Effect.sync(() => fs.renameSync(file, `${file}.gone`)),
    corrupt: Effect.sync(() => {
      const w = new Database(file)
      w.prepare("UPDATE contacts SET channel = 'phone' WHERE id = 61").run()
      w.close()
    })
  }
})

ConnectorSuite.suite("SQLite source", {
  connector: SqlConnector.connector,
  config: {
    driver: "sqlite",
    connection: { filename: file },
    contacts: { query: `SELECT ${contactsColumns} FROM contacts c WHERE c.ts >= :from AND c.ts < :to` },
    agentStatuses: { query: `SELECT ${statusesColumns} FROM statuses WHERE started < :to AND (ended IS NULL OR ended > :from)` },
    realtime: { lookbackMinutes: 60 }
  },
  layer: SqliteSourceLayer,
  windows,
  emptyWindow,
  dstWindow,
  now,
  transient: Effect.flatMap(SqliteSource, (s) => s.vanish),
  malformed: Effect.flatMap(SqliteSource, (s) => s.corrupt),
  realtime: { elements: 3, tick: "1 minute" }
})
