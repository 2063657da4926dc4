/**
 * The connector against the PostgreSQL simulator: credentials, privileges and the
 * read-only session, an unreachable server, and a connection dropped in the middle of a pull
 * (Transient; the retry replaces the window, so nothing is counted twice).
 */
import { assert, describe, it } from "@effect/vitest"
import { Ingest } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import { randomUUID } from "node:crypto"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { open } from "../src/internal/db.js"
import { engineLayer, fromExpected, fromRow, setup } from "./engine.js"
import { decodeConfig, freshPgDatabase, oneDay, pgAdmin, pgConnection, settledAt, tempDir, visitCount } from "./fixtures.js"
import { makeProxy } from "./proxy.js"

const scenario = Scenario.generate(oneDay)
const whole = { from: DateTime.unsafeMake(scenario.from), to: DateTime.unsafeMake(scenario.to) }

/** A fresh database with the simulator (schema `gim`), ETL run when all of the day is written. */
const simulated = Effect.gen(function*() {
  const db = yield* freshPgDatabase
  const sim = yield* GenesysSimulator.makePg(db.url, scenario, { schema: "gim" })
  yield* sim.tick(settledAt(scenario))
  return { db, sim }
})

/** A login role for the test (dropped with its grants when the scope closes). */
const role = (dbUrl: string, grants: (name: string) => ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const name = `wfm_${randomUUID().replace(/-/g, "").slice(0, 12)}`
    const password = randomUUID()
    yield* Effect.acquireRelease(
      Effect.zipRight(
        pgAdmin([`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`]),
        pgAdmin(grants(name), dbUrl)
      ),
      () =>
        Effect.zipRight(pgAdmin([`DROP OWNED BY ${name}`], dbUrl), pgAdmin([`DROP ROLE IF EXISTS ${name}`])).pipe(
          Effect.orDie
        )
    )
    return { name, password }
  })

const readOnlyGrants = (name: string) => [
  `GRANT USAGE ON SCHEMA gim TO ${name}`,
  `GRANT SELECT ON ALL TABLES IN SCHEMA gim TO ${name}`
]

const config = (extra: Partial<GenesysConfigEncoded> & Pick<GenesysConfigEncoded, "connection">) =>
  decodeConfig({ driver: "pg", schema: "gim", ...extra })

const pullAll = (c: ReturnType<typeof config>) =>
  Effect.map(Stream.runCollect(GenesysEngage.connector.pull!(c, whole)), Chunk.toArray)

describe("PostgreSQL: credentials and privileges", () => {
  it.scoped("a read-only user reads everything and check says so", () =>
    Effect.gen(function*() {
      const { db } = yield* simulated
      const reader = yield* role(db.url, readOnlyGrants)
      const c = config({ connection: pgConnection(db.url, reader) })
      const report = yield* GenesysEngage.check(c)
      assert.isTrue(report.ok, JSON.stringify(report))
      assert.match(report.items[0]!.detail, new RegExp(`connected as user "${reader.name}" on PostgreSQL database`))
      assert.strictEqual(
        report.items.find((i) => i.name === "read-only")!.detail,
        "the user can only read; every session is also opened read-only"
      )
      const batches = yield* pullAll(c)
      assert.strictEqual(
        batches.flatMap((b) => b.aggregates).reduce((n, a) => n + a.offered, 0),
        visitCount(scenario)
      )
      // the superuser could write: check recommends a read-only user
      const admin = yield* GenesysEngage.check(config({ connection: pgConnection(db.url) }))
      assert.isTrue(admin.ok)
      assert.match(admin.items.find((i) => i.name === "read-only")!.detail, /could also write to .*gim\.AG2_QUEUE_SUBHR.*SELECT only is recommended/)
    }))

  it.scoped("every session is read-only, even for a user that may write", () =>
    Effect.gen(function*() {
      const { db } = yield* simulated
      const session = yield* open(config({ connection: pgConnection(db.url) }))
      const error = yield* Effect.flip(session.select("DELETE FROM gim.ag2_queue_subhr", [], "deleting"))
      assert.strictEqual(error._tag, "Transient")
      assert.match(error.message, /read-only transaction/)
      const rows = yield* session.select("SELECT COUNT(*) AS n FROM gim.ag2_queue_subhr", [], "counting")
      assert.isAbove(Number(rows[0]!["n"]), 0)
    }))

  it.scoped("a wrong password, an unknown database, a table the user may not read", () =>
    Effect.gen(function*() {
      const { db } = yield* simulated
      const reader = yield* role(db.url, readOnlyGrants)
      const wrong = config({ connection: pgConnection(db.url, { name: reader.name, password: "not-the-password" }) })
      const auth = yield* Effect.flip(pullAll(wrong))
      assert.strictEqual(auth._tag, "AuthFailed")
      assert.match(
        auth.message,
        new RegExp(`The source rejected the credentials: the database rejected user "${reader.name}" on PostgreSQL database "${db.name}" at 127\\.0\\.0\\.1:\\d+: password authentication failed for user "${reader.name}"\\. Check the user name and password`)
      )
      const checked = yield* GenesysEngage.check(wrong)
      assert.isFalse(checked.ok)
      assert.deepStrictEqual(checked.items.map((i) => [i.name, i.ok]), [["connection", false]])
      assert.match(checked.items[0]!.detail, /password authentication failed/)

      const noDb = yield* Effect.flip(pullAll(config({ connection: { ...pgConnection(db.url), database: `${db.name}_x` } })))
      assert.strictEqual(noDb._tag, "AuthFailed")
      assert.match(noDb.message, /the database does not exist/)

      const partial = yield* role(db.url, (name) => [
        `GRANT USAGE ON SCHEMA gim TO ${name}`,
        `GRANT SELECT ON ALL TABLES IN SCHEMA gim TO ${name}`,
        `REVOKE SELECT ON gim.sm_res_state_fact FROM ${name}`
      ])
      const denied = config({ connection: pgConnection(db.url, partial) })
      const privilege = yield* Effect.flip(pullAll(denied))
      assert.strictEqual(privilege._tag, "AuthFailed")
      assert.match(privilege.message, /permission denied for table sm_res_state_fact.*Grant it SELECT/)
      const report = yield* GenesysEngage.check(denied)
      assert.isFalse(report.ok)
      const item = report.items.find((i) => i.name === "table SM_RES_STATE_FACT (as gim.SM_RES_STATE_FACT)")!
      assert.isFalse(item.ok)
      assert.match(item.detail, /the user may not read gim\.SM_RES_STATE_FACT: grant it SELECT/)
      assert.isTrue(report.items.find((i) => i.name === "table AG2_QUEUE_SUBHR (as gim.AG2_QUEUE_SUBHR)")!.ok)
    }))

  it.scoped("a wrong schema is named in check", () =>
    Effect.gen(function*() {
      const { db } = yield* simulated
      const report = yield* GenesysEngage.check(config({ connection: pgConnection(db.url), schema: "gim_etl" }))
      assert.isFalse(report.ok)
      assert.match(
        report.items.find((i) => i.name === "table AG2_QUEUE_SUBHR (as gim_etl.AG2_QUEUE_SUBHR)")!.detail,
        /gim_etl\.AG2_QUEUE_SUBHR does not exist or is not visible to the user in schema gim_etl/
      )
    }))
})

describe("PostgreSQL: connection failures are Transient", () => {
  it.scoped("nobody listening", () =>
    Effect.gen(function*() {
      // a port that was free a moment ago
      const port = yield* Effect.async<number>((resume) => {
        const server = net.createServer()
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const p = typeof address === "object" && address !== null ? address.port : 0
          server.close(() => resume(Effect.succeed(p)))
        })
      })
      const c = config({
        connection: { host: "127.0.0.1", port, database: "gim", user: "wfm", password: "x" },
        connectTimeoutSeconds: 2
      })
      const error = yield* Effect.flip(pullAll(c))
      assert.strictEqual(error._tag, "Transient")
      assert.match(error.message, /ECONNREFUSED|connect/)
    }))

  it.scoped("a connection dropped in the middle of a pull; the retry replaces, nothing is doubled", () =>
    Effect.gen(function*() {
      const { db, sim } = yield* simulated
      const target = new URL(db.url)
      const proxy = yield* makeProxy({ host: target.hostname, port: Number(target.port) })
      const encoded: GenesysConfigEncoded = {
        driver: "pg",
        schema: "gim",
        connection: { ...pgConnection(db.url), host: "127.0.0.1", port: proxy.port },
        contacts: { source: "facts", shortAbandonSeconds: oneDay.shortAbandonSeconds },
        sliceHours: 6,
        connectTimeoutSeconds: 3
      }
      const dir = yield* tempDir
      yield* Effect.gen(function*() {
        const harness = yield* setup(encoded, scenario.timezone)
        const ingest = yield* Ingest.Ingest
        const pull = GenesysEngage.connector.pull!(decodeConfig(encoded), whole)
        // a scheduler that commits each slice as it arrives: batch i covers slice i
        const slices = GenesysEngage.slices(scenario.from, scenario.to, 6)
        const commitEach = (afterFirst: Effect.Effect<void>) =>
          Effect.gen(function*() {
            let i = 0
            yield* Stream.runForEach(pull, (batch: Domain.Batch) =>
              Effect.gen(function*() {
                const window = slices[i++]!
                yield* Effect.orDie(ingest.importWindow({ integration: harness.integration, batch, kind: "pull", window }))
                if (i === 1) yield* afterFirst
              }))
            return i
          })

        const failed = yield* Effect.flip(commitEach(proxy.cut))
        assert.strictEqual(failed._tag, "Transient")
        assert.match(failed.message, /Temporary failure reading the source: .*(connection|Connection|ECONNRESET|terminated)/)
        const expected = Scenario.expectedIntervals(scenario, { length: 15 }).map((e) => fromExpected(sim, e))
        const afterFailure = (yield* harness.intervals(scenario, 15)).map(fromRow)
        assert.deepStrictEqual(afterFailure, expected.filter((e) => Number(e.key.split("|")[0]) < slices[0]!.to))

        yield* proxy.restore
        assert.strictEqual(yield* commitEach(Effect.void), slices.length)
        assert.deepStrictEqual((yield* harness.intervals(scenario, 15)).map(fromRow), expected)
        // and once more, as a look-back re-import would: still nothing doubled
        yield* harness.importWindow(scenario.from, scenario.to)
        assert.deepStrictEqual((yield* harness.intervals(scenario, 15)).map(fromRow), expected)
        assert.isAbove(proxy.accepted(), 1, "the retry connected anew")
      }).pipe(Effect.provide(engineLayer(dir)))
    }), 120_000)
})
