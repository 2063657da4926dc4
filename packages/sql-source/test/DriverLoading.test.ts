/**
 * A host pays in memory for every driver the package loads (tens of MB of RSS each), so each
 * source must load its own driver only. A fresh child process imports `@acd-bridge/sql-source`, reads
 * a window and reports which packages it loaded; a driver imported at the top of any module
 * would show up here for every source.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { contactRows, makeSqliteSource, sqliteContactsQuery, sqliteStatusesQuery, tempDir } from "./fixtures.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const childScript = path.join(here, "fixtures", "drivers-child.ts")
const packageRoot = path.resolve(here, "..")

interface Report {
  readonly contacts: number
  readonly statuses: number
  readonly packages: ReadonlyArray<string>
  readonly grammars: ReadonlyArray<string>
}

const window = { from: "2026-03-02T09:00:00Z", to: "2026-03-02T10:00:00Z" }

/** Pulls the window in a fresh process and returns what it read and loaded. */
const pullInChild = (config: unknown): Promise<Report> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", childScript, JSON.stringify(config), window.from, window.to],
      { cwd: packageRoot, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`the child failed: ${error.message}\n${stderr}`))
        const line = stdout.trim().split("\n").at(-1) ?? ""
        try {
          resolve(JSON.parse(line) as Report)
        } catch {
          reject(new Error(`the child printed no report: ${stdout}\n${stderr}`))
        }
      }
    )
  })

/**
 * The packages of each driver: the @effect/sql client and the CJS driver under it (PostgreSQL:
 * pg and pg-cursor used directly, see the README's Known limits).
 */
const driverPackages = {
  pg: ["pg", "pg-cursor"],
  mysql: ["@effect/sql-mysql2", "mysql2"],
  mssql: ["@effect/sql-mssql", "tedious"],
  sqlite: ["better-sqlite3"]
} as const

const assertLoaded = (report: Report, driver: keyof typeof driverPackages) => {
  for (const [name, packages] of Object.entries(driverPackages)) {
    for (const p of packages) {
      if (name === driver) assert.include(report.packages, p, `the ${driver} source loads ${p}`)
      else assert.notInclude(report.packages, p, `the ${driver} source must not load ${p} (a ${name} package)`)
    }
  }
}

describe("a source loads its own driver only", () => {
  it("SQLite: better-sqlite3, not pg, tedious or mysql2; one SQL grammar", async () => {
    const dir = tempDir()
    const file = path.join(dir, "acd.sqlite")
    makeSqliteSource(file).close()
    const report = await pullInChild({
      driver: "sqlite",
      connection: { filename: file },
      timezone: "Europe/Berlin",
      parameters: { format: "timestamp" },
      contacts: { query: sqliteContactsQuery },
      agentStatuses: { query: sqliteStatusesQuery }
    }).finally(() => fs.rmSync(dir, { recursive: true, force: true }))
    // it read the window for real (as in Sqlite.test.ts)
    assert.strictEqual(report.contacts, 4)
    assert.strictEqual(report.statuses, 3)
    assertLoaded(report, "sqlite")
    assert.notInclude(report.packages, "@effect/experimental", "only the @effect/sql clients need Reactivity")
    assert.deepStrictEqual(report.grammars, ["sqlite"])
  })

  describe("PostgreSQL", () => {
    const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"]
    if (!baseUrl) throw new Error("ACD_BRIDGE_TEST_PG_URL is not set: run through vitest with the PostgreSQL globalSetup")
    const database = `acd_sql_drivers_${randomBytes(4).toString("hex")}`
    const sourceUrl = (() => {
      const u = new URL(baseUrl)
      u.pathname = `/${database}`
      return u.toString()
    })()
    const admin = async (connectionString: string, statements: (client: pg.Client) => Promise<unknown>) => {
      const client = new pg.Client({ connectionString })
      await client.connect()
      try {
        await statements(client)
      } finally {
        await client.end()
      }
    }

    beforeAll(async () => {
      await admin(baseUrl, (c) => c.query(`CREATE DATABASE ${database}`))
      await admin(sourceUrl, async (c) => {
        await c.query("CREATE TABLE contacts (queue_id text, channel text, ts timestamptz, handled boolean, seconds numeric)")
        for (const r of contactRows) {
          await c.query("INSERT INTO contacts VALUES ($1, $2, $3, $4, $5)", [r.queueId, r.channel, r.ts, r.handled, r.duration])
        }
      })
    })
    afterAll(async () => {
      await admin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
    })

    it("pg and pg-cursor, not better-sqlite3, tedious or mysql2; one SQL grammar", async () => {
      const report = await pullInChild({
        driver: "pg",
        connection: { url: sourceUrl },
        contacts: {
          query: `SELECT queue_id AS queue_identifier, queue_id AS queue_name, channel, ts AS timestamp,
                         true AS offered, handled, seconds AS duration
                  FROM contacts WHERE ts >= :from AND ts < :to`
        }
      })
      assert.strictEqual(report.contacts, 4)
      assertLoaded(report, "pg")
      assert.notInclude(report.packages, "@effect/sql-pg")
      assert.notInclude(report.packages, "@effect/experimental", "only the @effect/sql clients need Reactivity")
      assert.deepStrictEqual(report.grammars, ["postgresql"])
    })
  })
})
