import { Errors, Lifecycle, Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import iconv from "iconv-lite"
import * as fs from "node:fs"
import * as path from "node:path"
import { applied, CsvImporter, done, ledgerStream } from "../src/CsvImporter.js"
import {
  contactsConfig,
  contactsHeader,
  createIntegration,
  storageLayer,
  sum,
  tempDir,
  tenant,
  TestEngine,
  totals,
  write
} from "./fixtures.js"

const day = ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"] as const

const good = contactsHeader +
  "1337_99,Level 1 support,2026-03-02 09:02:00,1,1,200.1\n" +
  "1337_99,Level 1 support,2026-03-02 09:14:00,1,1,100\n" +
  "1337_99,Level 1 support,2026-03-02 09:20:00,1,0,30\n" +
  "42,Sales,2026-03-02 10:00:00,1,1,60\n"

const runs = (id: Parameters<Storage.StorageShape["runs"]["list"]>[0]) =>
  Effect.flatMap(Storage.Storage, (s) => s.runs.list(id, 100))

const readLines = (file: string) => fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "").trim().split("\r\n")

describe("CsvImporter", () => {
  it.scoped("imports a contact file: intervals, archive, one run; bad rows reported in the run and errors.csv", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const file = write(
        dir,
        "calls.csv",
        good + "1337_99,Level 1 support,2026-03-02 09:30:00,1,1,abc\n" + "1337_99,,2026-03-29 02:15:00,1,1,5\n"
      )
      const importer = yield* CsvImporter
      const result = yield* importer.importFile(integration, file)
      assert.strictEqual(result.outcome, "imported")
      assert.deepStrictEqual([result.read, result.applied, result.rejected], [6, 4, 2])
      assert.strictEqual(result.movedTo, path.join(dir, "archive", "calls.csv"))
      assert.isFalse(fs.existsSync(file))
      assert.isTrue(fs.existsSync(result.movedTo!))
      assert.strictEqual(result.errorsFile, path.join(dir, "archive", "calls.errors.csv"))
      assert.deepStrictEqual(readLines(result.errorsFile!), [
        "line,column,reason",
        "6,Duration,\"\"\"abc\"\" is not a number of seconds (e.g. 12.5)\"",
        "7,Start,\"\"\"2026-03-29 02:15:00\"\" does not exist in Europe/Berlin (the clocks skip it when daylight saving time starts)\""
      ])

      const rows = yield* totals(integration.id, ...day)
      assert.deepStrictEqual(rows, [
        {
          queue: "1337_99",
          name: "Level 1 support",
          channel: "calls",
          start: "2026-03-02T09:00:00+01:00",
          offered: 2,
          handled: 2,
          handlingSeconds: 300.1,
          unhandledSeconds: 0
        },
        {
          queue: "1337_99",
          name: "Level 1 support",
          channel: "calls",
          start: "2026-03-02T09:15:00+01:00",
          offered: 1,
          handled: 0,
          handlingSeconds: 0,
          unhandledSeconds: 30
        },
        {
          queue: "42",
          name: "Sales",
          channel: "calls",
          start: "2026-03-02T10:00:00+01:00",
          offered: 1,
          handled: 1,
          handlingSeconds: 60,
          unhandledSeconds: 0
        }
      ])

      const recorded = yield* runs(integration.id)
      assert.strictEqual(recorded.length, 1)
      const run = recorded[0]!
      assert.deepStrictEqual([run.kind, run.read, run.applied, run.rejected, run.error], ["pull", 6, 4, 2, null])
      assert.deepStrictEqual(run.problems, [
        { record: "calls.csv:6", field: "Duration", reason: "\"abc\" is not a number of seconds (e.g. 12.5)" },
        {
          record: "calls.csv:7",
          field: "Start",
          reason: "\"2026-03-29 02:15:00\" does not exist in Europe/Berlin (the clocks skip it when daylight saving time starts)"
        }
      ])
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("the same content again, under any name, is recognised by its hash and not applied twice", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const importer = yield* CsvImporter
      yield* importer.importFile(integration, write(dir, "a.csv", good))
      const before = yield* totals(integration.id, ...day)
      assert.deepStrictEqual(sum(before), { offered: 4, handled: 3, handlingSeconds: 360.1 })

      const again = yield* importer.importFile(integration, write(dir, "a.csv", good))
      const renamed = yield* importer.importFile(integration, write(dir, "copy of a.csv", good))
      assert.deepStrictEqual([again.outcome, renamed.outcome], ["duplicate", "duplicate"])
      assert.deepStrictEqual([again.applied, renamed.applied], [0, 0])
      assert.strictEqual(path.dirname(again.movedTo!), path.join(dir, "archive", "duplicates"))
      assert.deepStrictEqual(yield* totals(integration.id, ...day), before)
      assert.strictEqual((yield* runs(integration.id)).length, 1)

      // the ledger is the integration's cursors, so it survives a restart with the store
      const cursor = yield* Effect.flatMap(Storage.Storage, (s) => s.cursors.get(integration.id, ledgerStream(again.sha256)))
      assert.strictEqual(cursor._tag, "Some")

      // other content is imported
      const other = yield* importer.importFile(
        integration,
        write(dir, "b.csv", contactsHeader + "42,Sales,2026-03-02 10:05:00,1,1,40\n")
      )
      assert.strictEqual(other.outcome, "imported")
      assert.deepStrictEqual(sum(yield* totals(integration.id, ...day)), { offered: 5, handled: 4, handlingSeconds: 400.1 })
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("strict: one bad row rejects the whole file, moved to failed/ with its errors.csv", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir, { strict: true }))
      const importer = yield* CsvImporter
      const file = write(dir, "strict.csv", good + "42,Sales,2026-03-02 10:00:00,1,maybe,60\n")
      const result = yield* importer.importFile(integration, file)
      assert.strictEqual(result.outcome, "rejected")
      assert.strictEqual(result.applied, 0)
      assert.strictEqual(result.movedTo, path.join(dir, "failed", "strict.csv"))
      assert.deepStrictEqual(readLines(path.join(dir, "failed", "strict.errors.csv")), [
        "line,column,reason",
        "6,Handled,\"\"\"maybe\"\" is not a yes/no value (1/0, true/false, yes/no, x or empty)\""
      ])
      assert.deepStrictEqual(yield* totals(integration.id, ...day), [])
      const [run] = yield* runs(integration.id)
      assert.strictEqual(run!.applied, 0)
      assert.strictEqual(run!.rejected, 5)
      assert.match(run!.error!, /^strict: 1 row rejected, nothing of the file applied \(first: strict\.csv:6 \(Handled\)/)

      // not in the ledger: after fixing the file, the good content imports
      const fixed = yield* importer.importFile(integration, write(dir, "strict.csv", good))
      assert.strictEqual(fixed.outcome, "imported")
      assert.deepStrictEqual(sum(yield* totals(integration.id, ...day)), { offered: 4, handled: 3, handlingSeconds: 360.1 })
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("a file whose columns don't match is rejected whole, also when not strict", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const result = yield* (yield* CsvImporter).importFile(
        integration,
        write(dir, "wrong.csv", "Queue;Start;Handled\nq;2026-03-02 09:00:00;1\n")
      )
      assert.strictEqual(result.outcome, "rejected")
      assert.strictEqual(path.dirname(result.movedTo!), path.join(dir, "failed"))
      const lines = readLines(result.errorsFile!)
      assert.deepStrictEqual(lines.map((l) => l.split(",")[1]), ["column", "Queue name", "Offered", "Duration"])
      assert.match(lines[1]!, /^1,Queue name,"the mapping's queueName column ""Queue name"" is not in the header \(found: Queue, Start, Handled\)"$/)
      const [run] = yield* runs(integration.id)
      assert.match(run!.error!, /nothing of the file could be applied/)
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("a file still being written is not read until its size stays the same between two polls", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const importer = yield* CsvImporter
      const file = path.join(dir, "growing.csv")
      fs.writeFileSync(file, contactsHeader + "1337_99,Level 1 support,2026-03-02 09:02:00,1,1,200.1\n")
      assert.deepStrictEqual(yield* importer.poll(integration), [])
      fs.appendFileSync(file, "1337_99,Level 1 support,2026-03-02 09:14:00,1,1,100\n1337_99,Level 1 supp")
      assert.deepStrictEqual(yield* importer.poll(integration), [])
      assert.deepStrictEqual(yield* totals(integration.id, ...day), [])
      fs.appendFileSync(file, "ort,2026-03-02 09:20:00,1,0,30\n42,Sales,2026-03-02 10:00:00,1,1,60\n")
      assert.deepStrictEqual(yield* importer.poll(integration), [])
      write(dir, "notes.txt", "not a csv")
      const done = yield* importer.poll(integration)
      assert.deepStrictEqual(done.map((r) => [path.basename(r.file), r.outcome, r.applied, r.rejected]), [
        ["growing.csv", "imported", 4, 0]
      ])
      assert.deepStrictEqual(sum(yield* totals(integration.id, ...day)), { offered: 4, handled: 3, handlingSeconds: 360.1 })
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["archive", "notes.txt"])
      assert.deepStrictEqual(yield* importer.poll(integration), [])
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("a paused integration imports nothing; the file waits for resume", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const importer = yield* CsvImporter
      const file = write(dir, "p.csv", good)
      yield* (yield* Lifecycle.Lifecycle).pause(tenant, integration.id)
      assert.deepStrictEqual(yield* importer.poll(integration), [])
      assert.deepStrictEqual(yield* importer.poll(integration), [])
      const direct = yield* Effect.flip(importer.importFile(integration, file))
      assert.strictEqual(direct._tag, "IntegrationNotActive")
      assert.isTrue(fs.existsSync(file))
      assert.deepStrictEqual(yield* totals(integration.id, ...day), [])
      yield* (yield* Lifecycle.Lifecycle).resume(tenant, integration.id)
      const [imported] = yield* importer.poll(integration)
      assert.strictEqual(imported!.outcome, "imported")
      assert.deepStrictEqual(sum(yield* totals(integration.id, ...day)), { offered: 4, handled: 3, handlingSeconds: 360.1 })
    }).pipe(Effect.provide(TestEngine)))

  // a store whose ingest fails once, on the given call: a crash in the middle of a file
  const failingOnce = (call: number) =>
    Layer.effect(
      Storage.Storage,
      Effect.map(Storage.Storage, (inner) => {
        let calls = 0
        return {
          ...inner,
          data: {
            ...inner.data,
            ingest: (request: Storage.IngestRequest) => {
              calls++
              return calls === call
                ? Effect.fail(new Errors.StorageError({ operation: "ingest", reason: "disk full" }))
                : inner.data.ingest(request)
            }
          }
        }
      })
    ).pipe(Layer.provide(Storage.layerMemory))

  it.scoped("stopped after applying a file, before archiving it: the next import archives it once and applies nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const importer = yield* CsvImporter
      const storage = yield* Storage.Storage
      const first = yield* importer.importFile(integration, write(dir, "calls.csv", good), { move: false })
      const before = yield* totals(integration.id, ...day)
      const stream = ledgerStream(first.sha256)
      // as if the process died between the `applied` mark and the move
      yield* storage.cursors.set(integration.id, stream, applied)

      const again = yield* importer.importFile(integration, first.file)
      assert.deepStrictEqual([again.outcome, again.applied, again.movedTo], [
        "imported",
        0,
        path.join(dir, "archive", "calls.csv")
      ])
      assert.isFalse(fs.existsSync(first.file))
      assert.deepStrictEqual(yield* totals(integration.id, ...day), before)
      assert.deepStrictEqual(yield* storage.cursors.get(integration.id, stream), Option.some(done))
      // one run: the import that applied the rows
      assert.strictEqual((yield* runs(integration.id)).length, 1)
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("stopped after archiving, before the done mark: another copy of the content is a duplicate", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const importer = yield* CsvImporter
      const storage = yield* Storage.Storage
      const first = yield* importer.importFile(integration, write(dir, "calls.csv", good))
      const before = yield* totals(integration.id, ...day)
      const stream = ledgerStream(first.sha256)
      // as if the process died between the move and the `done` mark
      yield* storage.cursors.set(integration.id, stream, applied)
      // a file of the same size but other content in the archive is not taken for it
      write(path.join(dir, "archive"), "other.csv", good.replace("200.1", "300.1"))

      const copy = yield* importer.importFile(integration, write(dir, "copy of calls.csv", good))
      assert.deepStrictEqual([copy.outcome, copy.applied], ["duplicate", 0])
      assert.strictEqual(copy.movedTo, path.join(dir, "archive", "duplicates", "copy of calls.csv"))
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, "archive")).sort(), ["calls.csv", "duplicates", "other.csv"])
      assert.deepStrictEqual(yield* totals(integration.id, ...day), before)
      assert.deepStrictEqual(yield* storage.cursors.get(integration.id, stream), Option.some(done))
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("a crash in the middle of a file resumes after the last applied chunk: nothing twice, nothing lost", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir, { chunkSize: 3 }))
      const importer = yield* CsvImporter
      let content = contactsHeader
      for (let i = 0; i < 10; i++) content += `q,Q,2026-03-02 09:${String(i).padStart(2, "0")}:00,1,1,${i + 1}\n`
      content += "q,Q,not a time,1,1,1\n"
      const file = write(dir, "big.csv", content)
      // chunks: lines 2-4, 5-7, 8-10, 11-12; the third ingest fails
      const failure = yield* Effect.flip(importer.importFile(integration, file))
      assert.strictEqual(failure._tag, "StorageError")
      assert.isTrue(fs.existsSync(file))
      assert.deepStrictEqual(sum(yield* totals(integration.id, ...day)), { offered: 6, handled: 6, handlingSeconds: 21 })

      const resumed = yield* importer.importFile(integration, file)
      assert.strictEqual(resumed.outcome, "imported")
      assert.strictEqual(resumed.resumedAfterLine, 7)
      assert.deepStrictEqual([resumed.read, resumed.applied, resumed.rejected], [5, 4, 1])
      assert.deepStrictEqual(resumed.problems.map((p) => p.line), [12])
      assert.deepStrictEqual(sum(yield* totals(integration.id, ...day)), { offered: 10, handled: 10, handlingSeconds: 55 })
    }).pipe(Effect.provide(storageLayer(failingOnce(3)))))

  it.scoped("interval files replace the interval on re-import; the repeated DST hour gives two intervals", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const config = {
        source: { folder: dir },
        layout: "intervals" as const,
        channel: "calls" as const,
        delimiter: ";" as const,
        decimalComma: true,
        timestampFormat: "DD.MM.YYYY HH:mm",
        columns: {
          queueIdentifier: "Queue",
          queueName: "Name",
          intervalStart: "Interval",
          offered: "Offered",
          handled: "Handled",
          handlingTime: "Handling s"
        }
      }
      const integration = yield* createIntegration(config)
      const importer = yield* CsvImporter
      const header = "Queue;Name;Interval;Offered;Handled;Handling s\n"
      yield* importer.importFile(
        integration,
        write(dir, "day1.csv", header + "q1;Q1;02.03.2026 09:00;10;8;1600,5\nq1;Q1;02.03.2026 09:15;4;4;400\n")
      )
      yield* importer.importFile(integration, write(dir, "day1-corrected.csv", header + "q1;Q1;02.03.2026 09:00;12;9;1800\n"))
      const rows = yield* totals(integration.id, ...day)
      assert.deepStrictEqual(rows.map((r) => [r.start, r.offered, r.handled, r.handlingSeconds]), [
        ["2026-03-02T09:00:00+01:00", 12, 9, 1800],
        ["2026-03-02T09:15:00+01:00", 4, 4, 400]
      ])
      const hourly = yield* totals(integration.id, ...day, 60)
      assert.deepStrictEqual(hourly.map((r) => [r.start, r.offered]), [["2026-03-02T09:00:00+01:00", 16]])

      yield* importer.importFile(
        integration,
        write(dir, "fallback.csv", header + "q1;Q1;25.10.2026 02:00;3;3;30\nq1;Q1;25.10.2026 02:00;5;5;50\n")
      )
      const dst = yield* totals(integration.id, "2026-10-24T22:00:00Z", "2026-10-25T03:00:00Z")
      assert.deepStrictEqual(dst.map((r) => [r.start, r.offered]), [
        ["2026-10-25T02:00:00+02:00", 3],
        ["2026-10-25T02:00:00+01:00", 5]
      ])
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("agent-status files apply with the overlap rules, and applying the same segments again changes nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration({
        source: { folder: dir },
        layout: "agentStatuses",
        timestampFormat: "YYYY-MM-DD HH:mm:ss",
        columns: { agentId: "Agent", activityId: "State", start: "From", end: "To" }
      })
      const importer = yield* CsvImporter
      const header = "Agent,State,From,To\n"
      const first = yield* importer.importFile(
        integration,
        write(dir, "s1.csv", header + "a-7,READY,2026-03-02 09:00:00,2026-03-02 10:00:00\n")
      )
      assert.strictEqual(first.applied, 1)
      const second = yield* importer.importFile(
        integration,
        write(dir, "s2.csv", header + "a-7,BREAK,2026-03-02 09:30:00,2026-03-02 09:45:00\na-8,READY,2026-03-02 09:00:00,\n")
      )
      assert.strictEqual(second.applied, 2)
      // the same segments in another file (other content, same statuses)
      yield* importer.importFile(
        integration,
        write(dir, "s3.csv", header + "a-7,BREAK,2026-03-02 09:30:00,2026-03-02 09:45:00\r\n")
      )
      const segments = yield* Effect.flatMap(Storage.Storage, (s) =>
        s.data.segments({
          tenantId: tenant,
          integrationId: integration.id,
          from: Date.parse("2026-03-02T00:00:00Z"),
          to: Date.parse("2026-03-03T00:00:00Z")
        }))
      assert.deepStrictEqual(
        segments.map((s) => [s.agentIdentifier, s.activityIdentifier, new Date(s.start).toISOString(), s.end === null ? null : new Date(s.end).toISOString()]),
        [
          ["a-7", "READY", "2026-03-02T08:00:00.000Z", "2026-03-02T08:30:00.000Z"],
          ["a-7", "BREAK", "2026-03-02T08:30:00.000Z", "2026-03-02T08:45:00.000Z"],
          ["a-7", "READY", "2026-03-02T08:45:00.000Z", "2026-03-02T09:00:00.000Z"],
          ["a-8", "READY", "2026-03-02T08:00:00.000Z", null]
        ]
      )
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("Windows-1252 files import with their umlauts intact", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir, { encoding: "windows-1252" }))
      const bytes = iconv.encode(contactsHeader + "7,Kundenservice Süd,2026-03-02 09:02:00,1,1,10\n", "windows-1252")
      yield* (yield* CsvImporter).importFile(integration, write(dir, "w.csv", bytes))
      const rows = yield* totals(integration.id, ...day)
      assert.deepStrictEqual(rows.map((r) => r.name), ["Kundenservice Süd"])
    }).pipe(Effect.provide(TestEngine)))

  it.scoped("custom archive and failed folders; a file list source", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const archive = path.join(dir, "done")
      const integration = yield* createIntegration({
        ...contactsConfig(dir),
        source: { folder: path.join(dir, "in"), archiveFolder: archive, failedFolder: path.join(dir, "bad") }
      })
      const importer = yield* CsvImporter
      const file = write(dir, "in/x.csv", good)
      const result = yield* importer.importFile(integration, file)
      assert.strictEqual(result.movedTo, path.join(archive, "x.csv"))
      // a second file with the same name but other content does not overwrite the first
      const next = yield* importer.importFile(integration, write(dir, "in/x.csv", good.replace("200.1", "200.2")))
      assert.strictEqual(next.movedTo, path.join(archive, `x-${next.sha256.slice(0, 8)}.csv`))

      const listed = yield* createIntegration({ ...contactsConfig(dir), source: { files: [path.join(dir, "feed", "f.csv")] } })
      write(dir, "feed/f.csv", good)
      assert.deepStrictEqual(yield* importer.poll(listed), [])
      const [polled] = yield* importer.poll(listed)
      assert.strictEqual(polled!.movedTo, path.join(dir, "feed", "archive", "f.csv"))
    }).pipe(Effect.provide(TestEngine)))
})
