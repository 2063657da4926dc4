/**
 * A host pays in memory for every database client the package loads, so a connection must
 * load its own driver only, and no test-only code: the simulator lives on the `./simulator`
 * subpath. A fresh child process imports `@acd-bridge/genesys-engage`, reads the simulated Info
 * Mart and reports which packages and which of the package's modules it loaded; a client
 * imported at the top of any module would show up for every connection.
 */
import { assert, describe, it } from "@effect/vitest"
import { Scenario } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import { freshPgDatabase, oneDay, pgConnection, tempDir, visitCount } from "./fixtures.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const childScript = path.join(here, "fixtures", "drivers-child.ts")
const packageRoot = path.resolve(here, "..")

const scenario = Scenario.generate(oneDay)
const HOUR = 3_600_000

interface Report {
  readonly offered: number
  readonly statuses: number
  readonly packages: ReadonlyArray<string>
  /** the package's own modules loaded, e.g. `src/GenesysEngage.ts` */
  readonly files: ReadonlyArray<string>
}

/** Pulls the scenario's day in a fresh process and returns what it read and loaded. */
const pullInChild = (config: GenesysConfigEncoded) =>
  Effect.async<Report, Error>((resume) => {
    const from = new Date(scenario.from).toISOString()
    const to = new Date(scenario.to).toISOString()
    const child = execFile(
      process.execPath,
      ["--import", "tsx", childScript, JSON.stringify(config), from, to],
      { cwd: packageRoot, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return resume(Effect.fail(new Error(`the child failed: ${error.message}\n${stderr}`)))
        try {
          resume(Effect.succeed(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Report))
        } catch {
          resume(Effect.fail(new Error(`the child printed no report: ${stdout}\n${stderr}`)))
        }
      }
    )
    return Effect.sync(() => child.kill())
  })

const driverPackages = {
  pg: ["@effect/sql-pg", "pg"],
  sqlite: ["@effect/sql-sqlite-node", "better-sqlite3"]
} as const

const assertLoaded = (report: Report, driver: keyof typeof driverPackages) => {
  for (const [name, packages] of Object.entries(driverPackages)) {
    for (const p of packages) {
      if (name === driver) assert.include(report.packages, p, `the ${driver} connection loads ${p}`)
      else assert.notInclude(report.packages, p, `the ${driver} connection must not load ${p} (a ${name} package)`)
    }
  }
  // neither connection needs the other drivers of the sql connector
  for (const p of ["tedious", "mysql2", "@effect/sql-mssql", "@effect/sql-mysql2"]) assert.notInclude(report.packages, p)
  // testkit is an optional peer dependency: the connector must run without it
  assert.include(report.packages, "@acd-bridge/genesys-engage")
  assert.notInclude(report.packages, "@acd-bridge/testkit", "the connector must not load the optional @acd-bridge/testkit")
  // the simulator is test-only, on the ./simulator subpath: the main entry never loads it
  assert.include(report.files, "src/GenesysEngage.ts")
  const simulator = report.files.filter((f) => /GenesysSimulator|simulator/.test(f))
  assert.deepStrictEqual(simulator, [], "import \"@acd-bridge/genesys-engage\" loads no simulator code")
}

describe("a connection loads its own driver only", () => {
  it.scoped("SQLite: @effect/sql-sqlite-node and better-sqlite3, not the PostgreSQL client", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario)
      yield* sim.tick(scenario.to + 2 * HOUR)
      const report = yield* pullInChild({ driver: "sqlite", connection: { filename } })
      // it read the day for real
      assert.strictEqual(report.offered, visitCount(scenario))
      assert.isAbove(report.statuses, 0)
      assertLoaded(report, "sqlite")
    }))

  it.scoped("PostgreSQL: @effect/sql-pg and pg, not the SQLite client", () =>
    Effect.gen(function*() {
      const db = yield* freshPgDatabase
      const sim = yield* GenesysSimulator.makePg(db.url, scenario, { schema: "gim" })
      yield* sim.tick(scenario.to + 2 * HOUR)
      const report = yield* pullInChild({ driver: "pg", schema: "gim", connection: pgConnection(db.url) })
      assert.strictEqual(report.offered, visitCount(scenario))
      assert.isAbove(report.statuses, 0)
      assertLoaded(report, "pg")
    }))
})
