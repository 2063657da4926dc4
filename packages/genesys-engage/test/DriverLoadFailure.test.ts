/**
 * A database client that can't be loaded (a package left out of the install) fails the
 * connections and simulators that use it with an error saying so, not a defect.
 */
import { assert, describe, it } from "@effect/vitest"
import { Scenario } from "@acd-bridge/testkit"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { vi } from "vitest"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { GenesysConfig } from "../src/GenesysConfig.js"

vi.mock("@effect/sql-pg/PgClient", () => {
  throw new Error("Cannot find package '@effect/sql-pg'")
})

// (not from ./fixtures.js, which imports the PostgreSQL client for its own use)
const scenario = Scenario.generate({
  seed: 3,
  from: "2026-03-02T00:00:00Z",
  to: "2026-03-03T00:00:00Z",
  timezone: "Europe/Berlin",
  queues: [{ identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 30 }],
  agents: 2
})
const config = Schema.decodeSync(GenesysConfig)({
  driver: "pg",
  connection: { host: "127.0.0.1", port: 5432, database: "gim", user: "wfm", password: "p" }
})

describe("a database client that can't be loaded", () => {
  it.effect("the pull fails with Transient naming the driver; check says so", () =>
    Effect.gen(function*() {
      const window = { from: DateTime.unsafeMake(scenario.from), to: DateTime.unsafeMake(scenario.to) }
      const error = yield* Effect.flip(Stream.runDrain(GenesysEngage.connector.pull!(config, window)))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "the PostgreSQL (@effect/sql-pg) driver could not be loaded")
      const report = yield* GenesysEngage.check(config)
      assert.isFalse(report.ok)
      assert.include(JSON.stringify(report), "the PostgreSQL (@effect/sql-pg) driver could not be loaded")
    }))

  it.scoped("the simulator fails with SqlError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(GenesysSimulator.makePg("postgres://u:p@127.0.0.1:1/x", scenario))
      assert.strictEqual(error._tag, "SqlError")
      assert.include(error.message, "the PostgreSQL (@effect/sql-pg) driver could not be loaded")
    }))
})
