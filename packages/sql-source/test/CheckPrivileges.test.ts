/**
 * `check` reports what the configured login may do beyond reading, against a real PostgreSQL
 * server: a superuser, a member of pg_write_server_files and a CREATEROLE login fail the
 * check; a login that may write tables or create objects gets a warning item; a read-only
 * login passes with neither. Each finding names the statement that fixes it, and that
 * statement, run, makes the finding go away.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"

const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!baseUrl) throw new Error("ACD_BRIDGE_TEST_PG_URL is not set: run through vitest with the PostgreSQL globalSetup")

const suffix = randomBytes(4).toString("hex")
const database = `acd_sql_priv_${suffix}`
const password = randomBytes(12).toString("hex")
const role = (name: string) => `acd_${name}_${suffix}`
const reader = role("reader")
const writer = role("writer")
const fileWriter = role("filewriter")
const signaller = role("signaller")
const roleMaker = role("rolemaker")
const logins = [reader, writer, fileWriter, signaller, roleMaker]

const urlFor = (user?: string) => {
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  if (user) {
    u.username = user
    u.password = password
  }
  return u.toString()
}
const superuser = decodeURIComponent(new URL(baseUrl).username)

const admin = async (statements: string, db?: string) => {
  const u = new URL(baseUrl)
  if (db) u.pathname = `/${db}`
  const client = new pg.Client({ connectionString: u.toString() })
  await client.connect()
  try {
    await client.query(statements)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${database}`)
  for (const login of logins) await admin(`CREATE ROLE ${login} LOGIN PASSWORD '${password}'`)
  await admin(
    `CREATE TABLE contacts (queue_id text, channel text, ts timestamptz, handled boolean, seconds numeric);
     CREATE TABLE notes (id int);
     ${logins.map((l) => `GRANT SELECT ON contacts TO ${l};`).join("\n")}
     GRANT INSERT, UPDATE ON contacts TO ${writer};
     GRANT DELETE ON notes TO ${writer};
     GRANT CREATE ON SCHEMA public TO ${writer};
     GRANT pg_write_server_files TO ${fileWriter};
     GRANT pg_signal_backend TO ${signaller};
     ALTER ROLE ${roleMaker} CREATEROLE;`,
    database
  )
})

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  for (const login of logins) await admin(`DROP ROLE IF EXISTS ${login}`)
})

const config = (user?: string) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "pg",
    connection: { url: urlFor(user) },
    contacts: {
      query: `SELECT queue_id AS queue_identifier, queue_id AS queue_name, channel, ts AS timestamp,
              true AS offered, handled, seconds AS duration FROM contacts WHERE ts >= :from AND ts < :to`
    }
  })

const item = (report: { items: ReadonlyArray<{ name: string; ok: boolean; detail: string }> }, name: string) =>
  report.items.find((i) => i.name === name)

describe("check reports the login's privileges (PostgreSQL)", () => {
  it.effect("a read-only login: the privileges item passes, no warning, the check passes", () =>
    Effect.gen(function*() {
      const report = yield* SqlConnector.check(config(reader))
      assert.isTrue(report.ok, JSON.stringify(report.items, null, 2))
      assert.isTrue(item(report, "login privileges")?.ok)
      assert.include(item(report, "login privileges")!.detail, `"${reader}" is not a superuser`)
      assert.isUndefined(item(report, "login privileges (warning)"))
    }))

  it.effect("a superuser fails the check, with the statement that fixes it", () =>
    Effect.gen(function*() {
      const report = yield* SqlConnector.check(config())
      assert.isFalse(report.ok)
      const privileges = item(report, "login privileges")!
      assert.isFalse(privileges.ok)
      assert.include(privileges.detail, "it is a superuser")
      assert.include(privileges.detail, "dblink")
      assert.include(privileges.detail, `ALTER ROLE "${superuser}" NOSUPERUSER;`)
      assert.include(privileges.detail, `GRANT pg_read_all_data TO "${superuser}";`)
      // the rest of the check still runs
      assert.isTrue(item(report, "contacts runs")?.ok)
    }))

  it.effect("a login that can write: a warning naming the tables, the privileges and the REVOKE lines", () =>
    Effect.gen(function*() {
      const report = yield* SqlConnector.check(config(writer))
      assert.isTrue(report.ok, "write privileges warn, they don't fail the check")
      assert.isTrue(item(report, "login privileges")?.ok)
      const warning = item(report, "login privileges (warning)")!
      assert.isTrue(warning.ok)
      assert.match(warning.detail, /^Warning: /)
      assert.include(warning.detail, "it may write 2 tables: public.contacts (INSERT, UPDATE), public.notes (DELETE)")
      assert.include(warning.detail, "it may create objects in the schema public")
      assert.include(
        warning.detail,
        `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA "public" FROM "${writer}";`
      )
      assert.include(warning.detail, `REVOKE CREATE ON SCHEMA "public" FROM "${writer}";`)
    }))

  it.effect("the REVOKE lines given, run, leave a login that can only read", () =>
    Effect.gen(function*() {
      const before = item(yield* SqlConnector.check(config(writer)), "login privileges (warning)")!.detail
      const statements = [...before.matchAll(/REVOKE [^;]+;/g)].map((m) => m[0]).filter((r) => r.includes(writer))
      assert.strictEqual(statements.length, 2, before)
      yield* Effect.promise(() => admin(statements.join("\n"), database))
      const after = yield* SqlConnector.check(config(writer))
      assert.isTrue(after.ok)
      assert.isUndefined(item(after, "login privileges (warning)"), JSON.stringify(after.items, null, 2))
    }))

  it.effect("a member of pg_write_server_files, and a CREATEROLE login, fail the check", () =>
    Effect.gen(function*() {
      const files = item(yield* SqlConnector.check(config(fileWriter)), "login privileges")!
      assert.isFalse(files.ok)
      assert.include(files.detail, "it is a member of pg_write_server_files: it can write files on the database server")
      assert.include(files.detail, `REVOKE pg_write_server_files FROM "${fileWriter}";`)
      const roles = item(yield* SqlConnector.check(config(roleMaker)), "login privileges")!
      assert.isFalse(roles.ok)
      assert.include(roles.detail, "CREATEROLE")
      assert.include(roles.detail, `ALTER ROLE "${roleMaker}" NOCREATEROLE;`)
    }))

  it.effect("a member of pg_signal_backend: a warning", () =>
    Effect.gen(function*() {
      const report = yield* SqlConnector.check(config(signaller))
      assert.isTrue(report.ok)
      const warning = item(report, "login privileges (warning)")!
      assert.include(warning.detail, "pg_signal_backend: it can cancel and end other sessions")
      assert.include(warning.detail, `REVOKE pg_signal_backend FROM "${signaller}";`)
    }))
})
