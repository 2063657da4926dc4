import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { freshPgDatabase, tempSqliteFile } from "./utils.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const child = path.join(here, "fixtures", "drivers-child.ts")
const repoRoot = path.resolve(here, "..", "..", "..")

/** Opens the store in a fresh process and returns which drivers that process loaded. */
const driversLoaded = async (engine: "sqlite" | "pg", target: string) => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child, engine, target], {
    cwd: repoRoot,
    timeout: 60_000
  })
  const line = stdout.split("\n").find((l) => l.startsWith("loaded "))
  assert.isDefined(line, stdout)
  return JSON.parse(line!.slice("loaded ".length)) as { readonly pg: boolean; readonly "better-sqlite3": boolean }
}

// each driver is loaded when its layer is built: a host on SQLite doesn't pay for PostgreSQL's
// client (about 9 MB of live heap) and the other way round
describe("database drivers", () => {
  it("a SQLite store loads better-sqlite3 and not pg", async () => {
    assert.deepStrictEqual(await driversLoaded("sqlite", tempSqliteFile()), { pg: false, "better-sqlite3": true })
  }, 90_000)

  it.scoped("a PostgreSQL store loads pg and not better-sqlite3", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      const loaded = yield* Effect.promise(() => driversLoaded("pg", url))
      assert.deepStrictEqual(loaded, { pg: true, "better-sqlite3": false })
    }), 90_000)
})
