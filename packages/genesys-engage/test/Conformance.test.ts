/**
 * The testkit's connector conformance suite against the Info Mart simulator:
 *
 * - SQLite, contacts from the aggregates and from the facts (a fresh simulator file per case);
 * - PostgreSQL with a login role that may only read (a fresh database per case): bad
 *   credentials, malformed rows, and transient trouble (the role's connection limit set to 0,
 *   so the server refuses the next session as it does when it is full).
 *
 * The scenario has every counting feature (IVR, transfers between queues, breakouts, short
 * abandons, consults, long calls, LoggedOut weekends, ETL delays, late corrections). The clock
 * stands on a Monday morning in Berlin with agents at work (so realtime has states to report);
 * the windows are closed hours before it, and the DST day is the Sunday before. The "splits at
 * any instant" case also cuts inside the window's long calls and between transfers' visits.
 */
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { pgAdmin, pgConnection, pgUrl, queues } from "./fixtures.js"

const scenario = Scenario.generate({
  ...Scenario.allFeatures,
  seed: 5,
  from: "2026-03-27T23:00:00Z",
  to: "2026-03-31T22:00:00Z",
  timezone: "Europe/Berlin",
  queues,
  agents: 6
})
const now = Date.parse("2026-03-30T10:30:00Z")
const windows = [{ from: "2026-03-30T05:00:00Z", to: "2026-03-30T10:00:00Z" }]
/** before the scenario: agents are logged out at night, a LoggedOut state is data too */
const emptyWindow = { from: "2026-03-26T00:00:00Z", to: "2026-03-27T00:00:00Z" }
const dstWindow = { from: "2026-03-28T23:00:00Z", to: "2026-03-29T22:00:00Z" }
const inWindow = (t: number) => t > Date.parse(windows[0]!.from) && t < Date.parse(windows[0]!.to)
/** cuts inside long calls and between the visits of a transfer, within the window */
const splits = {
  cuts: [
    ...scenario.contacts.flatMap((c) => c.visits)
      .filter((v) => v.legs.some((l) => l.talkMs >= 30 * 60_000) && inWindow(v.enteredAt))
      .slice(0, 3)
      .map((v) => [v.enteredAt + 1000, Math.min(v.end, Date.parse(windows[0]!.to)) - 60_000]),
    ...scenario.contacts.filter((c) => c.visits.length > 1 && inWindow(c.visits[1]!.enteredAt))
      .slice(0, 3)
      .map((c) => [c.visits[1]!.enteredAt - 1000, c.visits[1]!.enteredAt])
  ]
}

/** A writer on the simulator's database, for the fault switches. */
class Writer extends Context.Tag("test/GimWriter")<Writer, SqlClient.SqlClient>() {}

const offGridRow = (table: string) =>
  Effect.flatMap(Writer, (sql) =>
    sql.unsafe(
      `INSERT INTO ${table} (date_time_key, resource_key, media_type_key, interaction_type_key, entered)
       VALUES (${Date.parse(windows[0]!.from) / 1000 + 100}, 101, 7, 4, 1)`
    ).pipe(Effect.orDie))

const invalidConfigs = [
  { config: 42 },
  { config: { driver: "oracle", connection: { filename: "x" } }, field: "driver" },
  { config: { driver: "sqlite", connection: { filename: "x" }, schema: "gim; drop" }, field: "schema" }
]

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "genesys-conformance-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const sqliteLayer = (filename: string) =>
  Layer.scoped(
    Writer,
    Effect.gen(function*() {
      for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(filename + suffix, { force: true })
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario)
      yield* sim.tick(now)
      return Context.get(yield* Layer.build(SqliteClient.layer({ filename })), SqlClient.SqlClient)
    }).pipe(Effect.orDie)
  )

for (const source of ["aggregates", "facts"] as const) {
  const filename = path.join(dir, `gim-${source}.sqlite`)
  const config: GenesysConfigEncoded = {
    driver: "sqlite",
    connection: { filename },
    contacts: source === "facts" ? { source, shortAbandonSeconds: Scenario.allFeatures.shortAbandonSeconds } : { source }
  }
  ConnectorSuite.suite(`genesys-engage, SQLite, ${source}`, {
    connector: GenesysEngage.connector,
    config,
    invalidConfigs,
    layer: sqliteLayer(filename),
    windows,
    emptyWindow,
    dstWindow,
    now,
    splits,
    malformed: source === "aggregates"
      ? offGridRow("ag2_queue_subhr")
      : Effect.flatMap(Writer, (sql) =>
        sql.unsafe(
          `UPDATE interaction_resource_fact SET talk_duration = -5
           WHERE interaction_resource_id = (SELECT MIN(interaction_resource_id) FROM interaction_resource_fact
             WHERE talk_count = 1 AND start_ts >= ${Date.parse(windows[0]!.from) / 1000})`
        ).pipe(Effect.orDie)),
    realtime: { elements: 3, tick: "10 seconds" }
  })
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const database = `gimc_${randomUUID().replace(/-/g, "").slice(0, 16)}`
const reader = { name: `wfmc_${randomUUID().replace(/-/g, "").slice(0, 12)}`, password: randomUUID() }
const databaseUrl = (() => {
  const url = new URL(pgUrl())
  url.pathname = `/${database}`
  return url.toString()
})()

const pgLayer = Layer.scoped(
  Writer,
  Effect.gen(function*() {
    yield* Effect.acquireRelease(
      pgAdmin([
        `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`,
        `CREATE DATABASE ${database}`,
        `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${reader.name}') THEN ` +
        `CREATE ROLE ${reader.name} LOGIN PASSWORD '${reader.password}'; END IF; END $$`,
        `ALTER ROLE ${reader.name} CONNECTION LIMIT -1`
      ]),
      () =>
        Effect.zipRight(
          pgAdmin([`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]),
          pgAdmin([`DROP ROLE IF EXISTS ${reader.name}`])
        ).pipe(Effect.orDie)
    )
    const sim = yield* GenesysSimulator.makePg(databaseUrl, scenario, { schema: "gim" })
    yield* sim.tick(now)
    yield* pgAdmin([
      `GRANT USAGE ON SCHEMA gim TO ${reader.name}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA gim TO ${reader.name}`
    ], databaseUrl)
    yield* Effect.addFinalizer(() => pgAdmin([`DROP OWNED BY ${reader.name}`], databaseUrl).pipe(Effect.orDie))
    return yield* writerOn(databaseUrl)
  }).pipe(Effect.orDie)
)

/** A superuser client on the simulator's database. */
const writerOn = (url: string) =>
  Effect.map(
    Layer.build(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })),
    (ctx) => Context.get(ctx, SqlClient.SqlClient)
  )

const pgConfig = (password: string): GenesysConfigEncoded => ({
  driver: "pg",
  schema: "gim",
  connection: pgConnection(databaseUrl, { name: reader.name, password }),
  connectTimeoutSeconds: 5
})

ConnectorSuite.suite("genesys-engage, PostgreSQL", {
  connector: GenesysEngage.connector,
  config: pgConfig(reader.password),
  badCredentialsConfig: pgConfig("not-the-password"),
  invalidConfigs,
  layer: pgLayer,
  windows,
  emptyWindow,
  dstWindow,
  now,
  splits,
  malformed: offGridRow("gim.ag2_queue_subhr"),
  transient: pgAdmin([`ALTER ROLE ${reader.name} CONNECTION LIMIT 0`]).pipe(Effect.orDie),
  realtime: { elements: 3, tick: "10 seconds" }
})
