/**
 * A driver that can't be loaded (a package left out of the install, a native module built for
 * another Node) fails the sources that use it with an error saying so: not a defect, and not
 * the other drivers.
 */
import { assert, describe, it } from "@effect/vitest"
import type Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import { vi } from "vitest"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"
import { makeSqliteSource, sqliteConfig, tempDir, window } from "./fixtures.js"

// the SQL Server driver module fails to import, as when tedious is missing
vi.mock("../src/internal/drivers/mssql.js", () => {
  throw new Error("Cannot find package 'tedious'")
})

// better-sqlite3 loads its native module at the first `new Database`: make that fail in the
// connector (the fixtures, which write the file, get the real one)
vi.mock("better-sqlite3", async (importOriginal) => {
  const real = (await importOriginal<{ default: typeof Database }>()).default
  const Failing = function(this: unknown, ...args: ConstructorParameters<typeof real>) {
    if (args[1]?.readonly) {
      throw new Error("Could not locate the bindings file. Tried: build/Release/better_sqlite3.node")
    }
    return new real(...args)
  } as unknown as typeof real
  Object.assign(Failing, { SqliteError: real.SqliteError })
  return { default: Failing }
})

describe("a driver that can't be loaded", () => {
  it.effect("mssql: the pull fails with Transient naming the driver's packages; check says so", () =>
    Effect.gen(function*() {
      const config = Schema.decodeUnknownSync(SqlConfig)({
        driver: "mssql",
        connection: { host: "127.0.0.1", database: "ACD", user: "u", password: "p" },
        contacts: { query: "SELECT * FROM c WHERE ts >= :from AND ts < :to" }
      })
      const error = yield* Effect.flip(Stream.runDrain(SqlConnector.pull(config, window)))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "the mssql driver could not be loaded (@effect/sql-mssql, tedious)")
      const report = yield* SqlConnector.check(config)
      assert.isFalse(report.ok)
      assert.include(JSON.stringify(report), "the mssql driver could not be loaded")
    }))

  it.scoped("sqlite: a native module that fails to load is named as the driver failing", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const file = path.join(dir, "acd.sqlite")
      makeSqliteSource(file).close()
      const error = yield* Effect.flip(Stream.runDrain(SqlConnector.pull(sqliteConfig(file), window)))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "the sqlite driver could not be loaded (better-sqlite3's native module)")
      assert.include(error.message, "Could not locate the bindings file")
    }))
})
