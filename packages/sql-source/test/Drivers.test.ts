/**
 * What can be verified of the MySQL and SQL Server paths without their servers: config,
 * dialect rewriting, error classification, and the real client packages failing to connect
 * to a closed loopback port as a typed Transient error.
 */
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as net from "node:net"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"
import { classify } from "../src/internal/errors.js"
import type { Dialect } from "../src/internal/dialect.js"
import { describeTarget, serverTarget } from "../src/internal/source.js"
import { sliceMinutesFor, slices } from "../src/internal/window.js"
import { collect, window } from "./fixtures.js"

const decode = Schema.decodeUnknownEither(SqlConfig)

/** A loopback port nobody listens on. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 1
      server.close(() => resolve(port))
    })
  })

const ctx = (dialect: Dialect, phase = "contacts") => ({ dialect, phase, target: "db:1/x", timeoutSeconds: 30 })
const err = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields["message"] ?? "boom")), fields)

describe("config", () => {
  it("decodes an example per driver, secrets as Redacted", () => {
    const examples: ReadonlyArray<unknown> = [
      {
        driver: "pg",
        connection: { host: "acd-db", port: 5432, database: "acd", user: "wfm_reader", password: "s3cret" },
        timezone: "Europe/Berlin",
        contacts: { query: "SELECT * FROM wfm_contacts WHERE ts >= :from AND ts < :to" }
      },
      {
        driver: "mysql",
        connection: { url: "mysql://wfm_reader:s3cret@acd-db:3306/acd" },
        parameters: { format: "timestamp" },
        contacts: {
          layout: "interval",
          intervalMinutes: 15,
          query: "SELECT * FROM interval_stats WHERE start >= :from AND start < :to"
        }
      },
      {
        driver: "mssql",
        connection: {
          host: "acd-db",
          database: "ACD",
          user: "wfm_reader",
          password: "s3cret",
          trustServerCertificate: true
        },
        agentStatuses: { query: "SELECT * FROM dbo.agent_states WHERE start_time < :to" },
        realtime: { pollSeconds: 5 }
      },
      {
        driver: "sqlite",
        connection: { filename: "/var/lib/acd/acd.sqlite" },
        contacts: { query: "SELECT * FROM contacts WHERE ts >= :from AND ts < :to" }
      }
    ]
    for (const example of examples) {
      const decoded = decode(example)
      if (Either.isLeft(decoded)) assert.fail(String(decoded.left))
      const config = Either.getOrThrow(decoded)
      assert.notInclude(String(config.connection["password" as keyof typeof config.connection]), "s3cret")
      assert.notInclude(JSON.stringify(config), "s3cret")
      assert.strictEqual(config.queryTimeoutSeconds, 300)
    }
    const mssql = Either.getOrThrow(decode(examples[2]))
    assert.strictEqual(mssql.realtime?.pollSeconds, 5)
    assert.strictEqual(mssql.realtime?.lookbackMinutes, 720)
    const defaults = Either.getOrThrow(decode({ ...(examples[2] as object), realtime: {} }))
    assert.strictEqual(defaults.realtime?.pollSeconds, 10)
  })

  it("explains what is wrong", () => {
    const problems: ReadonlyArray<[unknown, string]> = [
      [{ driver: "sqlite", connection: { url: "postgres://x" }, contacts: { query: "SELECT 1" } }, "needs connection.filename"],
      [{ driver: "pg", connection: { filename: "x.db" }, contacts: { query: "SELECT 1" } }, "host/database/user/password or url"],
      [{ driver: "pg", connection: { url: "postgres://x" } }, "configure a contacts query"],
      [{ driver: "pg", connection: { url: "postgres://x" }, contacts: { query: "SELECT 1" }, timezone: "Mars/Base" }, "not an IANA time zone"],
      [{ driver: "pg", connection: { url: "postgres://x" }, contacts: { query: "SELECT 1" }, realtime: {} }, "realtime polling needs"],
      [{ driver: "oracle", connection: { url: "x" }, contacts: { query: "SELECT 1" } }, "oracle"],
      [{ driver: "mysql", connection: { url: "mysql://x" }, contacts: { query: "SELECT 1 --1; DROP TABLE x" } }, "The contacts query was refused"]
    ]
    for (const [input, expected] of problems) {
      const decoded = decode(input)
      assert.isTrue(Either.isLeft(decoded), expected)
      if (Either.isLeft(decoded)) assert.include(String(decoded.left), expected)
    }
  })

  it("reads connection URLs per driver without leaking the password into messages", () => {
    const target = serverTarget({ url: Redacted.make("sqlserver://wfm%40corp:p%40ss@db.example:1444/ACD") })!
    assert.strictEqual(target.host, "db.example")
    assert.strictEqual(target.port, 1444)
    assert.strictEqual(target.database, "ACD")
    assert.strictEqual(target.user, "wfm@corp")
    assert.strictEqual(Redacted.value(target.password!), "p@ss")
    assert.strictEqual(
      describeTarget({ url: Redacted.make("mysql://reader:secret@db:3306/acd") }, 3306),
      "db:3306/acd as reader"
    )
    assert.strictEqual(describeTarget({ url: Redacted.make("not a url") }, 3306), "(an unreadable URL)")
  })
})

describe("error classification", () => {
  it("PostgreSQL", () => {
    assert.strictEqual(classify(err({ code: "28P01" }), ctx("pg", "connect"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ code: "3D000" }), ctx("pg", "connect"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ code: "42501" }), ctx("pg"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ code: "57014" }), ctx("pg"))._tag, "Transient")
    assert.strictEqual(classify(err({ code: "57P01" }), ctx("pg"))._tag, "Transient")
    assert.strictEqual(classify(err({ code: "42703" }), ctx("pg"))._tag, "InvalidData")
    assert.strictEqual(classify(err({ message: "Connection terminated unexpectedly" }), ctx("pg"))._tag, "Transient")
  })
  it("MySQL / MariaDB", () => {
    assert.strictEqual(classify(err({ errno: 1045, code: "ER_ACCESS_DENIED_ERROR" }), ctx("mysql", "connect"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ errno: 1049, code: "ER_BAD_DB_ERROR" }), ctx("mysql", "connect"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ errno: 3024 }), ctx("mysql"))._tag, "Transient")
    assert.strictEqual(classify(err({ errno: 1969 }), ctx("mysql"))._tag, "Transient")
    assert.strictEqual(classify(err({ errno: 1792 }), ctx("mysql"))._tag, "InvalidData")
    assert.strictEqual(classify(err({ errno: 1054, code: "ER_BAD_FIELD_ERROR" }), ctx("mysql"))._tag, "InvalidData")
    assert.strictEqual(classify(err({ code: "PROTOCOL_CONNECTION_LOST" }), ctx("mysql"))._tag, "Transient")
  })
  it("SQL Server", () => {
    assert.strictEqual(classify(err({ code: "ELOGIN" }), ctx("mssql", "connect"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ number: 18456 }), ctx("mssql", "connect"))._tag, "AuthFailed")
    assert.strictEqual(classify(err({ code: "ESOCKET" }), ctx("mssql", "connect"))._tag, "Transient")
    assert.strictEqual(classify(err({ number: 1205 }), ctx("mssql"))._tag, "Transient")
    assert.strictEqual(classify(err({ number: 207 }), ctx("mssql"))._tag, "InvalidData")
  })
  it("unwraps SqlError and AggregateError (a host with several addresses)", () => {
    const inner = new AggregateError([err({ code: "ECONNREFUSED" })], "connect failed")
    const wrapped = { _tag: "SqlError", cause: inner, message: "Failed to connect" }
    const e = classify(wrapped, ctx("mysql", "connect"))
    assert.strictEqual(e._tag, "Transient")
    assert.include(e.message, "the connection was refused")
  })
})

describe("MySQL and SQL Server clients against a closed port", () => {
  for (const driver of ["mysql", "mssql"] as const) {
    it.effect(`${driver}: pull fails with Transient and check says it can't reach the database`, () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(closedPort)
        const config = Schema.decodeUnknownSync(SqlConfig)({
          driver,
          connection: { host: "127.0.0.1", port, database: "acd", user: "reader", password: "pw", ssl: false },
          connectTimeoutSeconds: 3,
          contacts: { query: "SELECT * FROM contacts WHERE ts >= :from AND ts < :to" }
        })
        const error = yield* Effect.flip(collect(SqlConnector.pull(config, window)))
        assert.strictEqual(error._tag, "Transient")
        const report = yield* SqlConnector.check(config)
        assert.isFalse(report.ok)
        assert.include(report.items[0]!.detail, "Could not reach the database")
      }))
  }
})

describe("window slices", () => {
  it("SQL Server reads a window one hour at a time by default; others in one query unless configured", () => {
    const long = { from: DateTime.unsafeMake("2026-03-02T00:00:00Z"), to: DateTime.unsafeMake("2026-03-02T02:30:00Z") }
    const iso = (w: ReadonlyArray<{ from: DateTime.Utc; to: DateTime.Utc }>) =>
      w.map((s) => `${DateTime.formatIso(s.from).slice(11, 16)}-${DateTime.formatIso(s.to).slice(11, 16)}`)
    assert.deepStrictEqual(iso(slices(long, sliceMinutesFor("mssql", undefined))), ["00:00-01:00", "01:00-02:00", "02:00-02:30"])
    assert.deepStrictEqual(iso(slices(long, sliceMinutesFor("pg", undefined))), ["00:00-02:30"])
    assert.deepStrictEqual(iso(slices(long, sliceMinutesFor("pg", 90))), ["00:00-01:30", "01:30-02:30"])
  })
})
