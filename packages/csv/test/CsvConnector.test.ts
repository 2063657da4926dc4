import { ConnectorRegistry, Domain, Ingest, Integrations } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import * as CsvConnector from "../src/CsvConnector.js"
import { CsvImporter } from "../src/CsvImporter.js"
import * as CsvPreview from "../src/CsvPreview.js"
import {
  contactsConfig,
  contactsHeader,
  createIntegration,
  decode,
  sum,
  tempDir,
  tenant,
  TestEngine,
  totals,
  write
} from "./fixtures.js"

const window = (from: string, to: string) => ({ from: DateTime.unsafeMake(from), to: DateTime.unsafeMake(to) })

const content = contactsHeader +
  "1337_99,Level 1 support,2026-03-02 09:02:00,1,1,200.1\n" +
  "1337_99,Level 1 support,2026-03-02 09:14:00,1,1,100\n" +
  "1337_99,Level 1 support,2026-03-02 23:50:00,1,0,30\n" +
  "42,Sales,2026-03-03 10:00:00,1,1,60\n"

const collect = <E>(stream: Stream.Stream<Domain.Batch, E>) =>
  Effect.map(Stream.runCollect(stream), (c) => {
    const batches = Chunk.toReadonlyArray(c)
    return {
      batches: batches.length,
      contacts: batches.flatMap((b) => b.contacts.map((x) => `${x.queueIdentifier}@${DateTime.formatIso(x.timestamp)}`)),
      statuses: batches.flatMap((b) => b.statuses.map((x) => `${x.agentIdentifier}@${DateTime.formatIso(x.start)}`))
    }
  })

describe("CsvConnector", () => {
  it("is an on-premise connector for contacts and agent statuses", () => {
    assert.strictEqual(CsvConnector.connector.key, "csv")
    assert.deepStrictEqual(CsvConnector.connector.deliveryModes, ["on-premise"])
    assert.deepStrictEqual(CsvConnector.connector.dataKinds, ["contacts", "agentStatuses"])
  })

  it.scoped("pull returns what the folder and its archive hold for the window, the same every time", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      write(dir, "a.csv", content)
      write(dir, "archive/old.csv", contactsHeader + "7,Old,2026-03-02 08:00:00,1,1,5\n")
      write(dir, "failed/bad.csv", contactsHeader + "9,Bad,2026-03-02 08:00:00,1,1,5\n")
      const config = decode(contactsConfig(dir, { timezone: "UTC" }))
      const first = yield* collect(CsvConnector.pull(config, window("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")))
      assert.deepStrictEqual(first.contacts.sort(), [
        "1337_99@2026-03-02T09:02:00.000Z",
        "1337_99@2026-03-02T09:14:00.000Z",
        "1337_99@2026-03-02T23:50:00.000Z",
        "7@2026-03-02T08:00:00.000Z"
      ])
      const second = yield* collect(CsvConnector.pull(config, window("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")))
      assert.deepStrictEqual(second, first)
      const next = yield* collect(CsvConnector.pull(config, window("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")))
      assert.deepStrictEqual(next.contacts, ["42@2026-03-03T10:00:00.000Z"])
      const future = yield* collect(CsvConnector.pull(config, window("2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z")))
      assert.deepStrictEqual(future, { batches: 0, contacts: [], statuses: [] })
    }))

  it.scoped("pull: statuses overlapping the window come whole; strict pulls fail on a bad row with file:line", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      write(
        dir,
        "s.csv",
        "Agent,State,From,To\n" +
          "a-1,READY,2026-03-02T23:00:00Z,2026-03-03T01:00:00Z\n" +
          "a-2,READY,2026-03-03T05:00:00Z,\n" +
          "a-3,READY,2026-03-01T05:00:00Z,2026-03-01T06:00:00Z\n"
      )
      const config = decode({
        source: { folder: dir },
        layout: "agentStatuses",
        columns: { agentId: "Agent", activityId: "State", start: "From", end: "To" }
      })
      const r = yield* collect(CsvConnector.pull(config, window("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")))
      assert.deepStrictEqual(r.statuses, ["a-1@2026-03-02T23:00:00.000Z", "a-2@2026-03-03T05:00:00.000Z"])

      write(dir, "t.csv", "Agent,State,From,To\na-4,READY,yesterday,\n")
      const lenient = yield* collect(CsvConnector.pull(config, window("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")))
      assert.strictEqual(lenient.statuses.length, 2)
      const strict = yield* Effect.flip(
        Stream.runDrain(CsvConnector.pull({ ...config, strict: true }, window("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")))
      )
      assert.strictEqual(strict._tag, "InvalidData")
      assert.strictEqual(strict._tag === "InvalidData" ? strict.record : "", "t.csv:2")
      assert.match(strict.message, /From: "yesterday" is not a timestamp/)

      const missing = yield* Effect.flip(
        Stream.runDrain(CsvConnector.pull(decode({ ...contactsConfig(dir), source: { folder: dir } }), window("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")))
      )
      assert.strictEqual(missing._tag, "InvalidData")
      assert.match(missing.message, /not in the header/)
      const gone = yield* Effect.flip(
        Stream.runDrain(CsvConnector.pull(decode(contactsConfig(path.join(dir, "nope"))), window("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")))
      )
      assert.strictEqual(gone._tag, "Transient")
    }))

  it.scoped("check previews the mapping: file, delimiter, columns, the first 5 records, problems", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      let rows = contactsHeader.replaceAll(",", ";")
      rows += "1;One;2026-03-02 09:00:00;1;1;10,5\n"
      rows += "1;One;2026-03-02 09:01:00;1;vielleicht;10\n"
      for (let i = 2; i < 9; i++) rows += `1;One;2026-03-02 09:0${i}:00;1;1;${i}\n`
      write(dir, "preview.csv", rows)
      const config = decode(contactsConfig(dir, { decimalComma: true }))
      const p = yield* CsvPreview.preview(config)
      assert.strictEqual(p.file, path.join(dir, "preview.csv"))
      assert.strictEqual(p.delimiter, ";")
      assert.deepStrictEqual(p.columns, ["Queue", "Queue name", "Start", "Offered", "Handled", "Duration"])
      assert.deepStrictEqual(p.mapping.map((m) => [m.field, m.index]), [
        ["queueIdentifier", 0],
        ["queueName", 1],
        ["timestamp", 2],
        ["offered", 3],
        ["handled", 4],
        ["duration", 5]
      ])
      assert.strictEqual(p.records.length, 5)
      assert.deepStrictEqual(p.records[0], {
        queueIdentifier: "1",
        queueName: "One",
        channel: "calls",
        // no zone in the config or the call: UTC
        timestamp: "2026-03-02T09:00:00.000Z",
        offered: true,
        handled: true,
        durationSeconds: 10.5
      })
      assert.deepStrictEqual(p.problems.map((x) => [x.line, x.column]), [[3, "Handled"]])
      assert.isFalse(fs.existsSync(path.join(dir, "archive")))

      const report = yield* CsvConnector.connector.check!(config)
      assert.isTrue(report.ok)
      const names = report.items.map((i) => i.name)
      assert.includeMembers(names, ["folder", "file", "columns", "column queueIdentifier", "records", "row"])
      const records = report.items.find((i) => i.name === "records")!
      assert.match(records.detail, /^the first 5 records as imported:\n\{"queueIdentifier":"1"/)
      assert.match(report.items.find((i) => i.name === "file")!.detail, /preview\.csv: encoding utf-8, delimiter ";" \(detected\)/)

      const wrong = yield* CsvConnector.connector.check!(decode(contactsConfig(dir, {
        decimalComma: true,
        columns: { queueIdentifier: "Queue", timestamp: "Begin", handled: "Handled" }
      })))
      assert.isFalse(wrong.ok)
      const bad = wrong.items.filter((i) => !i.ok)
      assert.deepStrictEqual(bad.map((i) => i.detail), ["timestamp: column \"Begin\" is not in the file"])

      write(dir, "preview.csv", Buffer.from(rows.replace("One", "B\xfcro"), "latin1"))
      const win = yield* CsvConnector.connector.check!(decode(contactsConfig(dir, { decimalComma: true })))
      assert.isFalse(win.ok)
      assert.match(win.items.find((i) => i.name === "encoding")!.detail, /not valid utf-8; is it Windows-1252\?/)

      const nothing = yield* CsvConnector.connector.check!(decode(contactsConfig(path.join(dir, "none"))))
      assert.isFalse(nothing.ok)
      assert.match(nothing.items[0]!.detail, /does not exist or can't be read/)
      fs.mkdirSync(path.join(dir, "empty"))
      const waiting = yield* CsvConnector.connector.check!(decode(contactsConfig(path.join(dir, "empty"))))
      assert.isTrue(waiting.ok)
      assert.match(waiting.items[1]!.detail, /no file matching \*\.csv is waiting/)
    }))

  it.scoped("end to end: a CSV file through the registered connector's pull and Ingest gives the expected intervals", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      write(dir, "a.csv", content)
      // `pull` knows only the config: the source zone is set there (the importer falls back to the integration's)
      const integration = yield* createIntegration(contactsConfig(dir, { timezone: "Europe/Berlin" }), "UTC")
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      const configured = yield* Effect.flatMap(registry.get("csv"), (c) => c.configure(integration.config))
      const pull = Option.getOrThrow(configured.pull)
      const w = { from: DateTime.unsafeMake("2026-03-02T00:00:00Z"), to: DateTime.unsafeMake("2026-03-03T00:00:00Z") }
      const batches = yield* Stream.runCollect(pull(w))
      const batch = Chunk.reduce(batches, Domain.emptyBatch, (a, b) => ({
        contacts: [...a.contacts, ...b.contacts],
        aggregates: [...a.aggregates, ...b.aggregates],
        statuses: [...a.statuses, ...b.statuses]
      }))
      const ingest = yield* Ingest.Ingest
      for (let i = 0; i < 2; i++) {
        yield* ingest.importWindow({
          integration,
          batch,
          kind: "pull",
          window: { from: DateTime.toEpochMillis(w.from), to: DateTime.toEpochMillis(w.to) }
        })
      }
      const rows = yield* totals(integration.id, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", 30, "UTC")
      // timestamps without offset are Europe/Berlin (the config's zone): 09:02 local = 08:02 UTC; imported twice, counted once
      assert.deepStrictEqual(rows.map((r) => [r.queue, r.start, r.offered, r.handled, r.handlingSeconds]), [
        ["1337_99", "2026-03-02T08:00:00+00:00", 2, 2, 300.1],
        ["1337_99", "2026-03-02T22:30:00+00:00", 1, 0, 0]
      ])
    }).pipe(Effect.provide(TestEngine)))

  it.live("end to end: drop folder → watch → engine, and a scheduler pull of the same window agrees", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir, { timezone: "Europe/Berlin" }))
      const importer = yield* CsvImporter
      write(dir, "a.csv", content)
      write(dir, "b.csv", contactsHeader + "42,Sales,2026-03-02 12:00:00,1,1,61.5\n")
      // the watcher itself, on the real clock: files are imported at their second sighting
      const fiber = yield* Effect.fork(importer.watch(integration, "20 millis"))
      yield* Effect.sleep("5 millis").pipe(
        Effect.repeat({ until: () => fs.existsSync(path.join(dir, "archive", "b.csv")) }),
        Effect.timeout("10 seconds")
      )
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, "archive")).sort(), ["a.csv", "b.csv"])
      const range = ["2026-03-01T23:00:00Z", "2026-03-03T23:00:00Z"] as const
      const imported = yield* totals(integration.id, ...range)
      assert.deepStrictEqual(sum(imported), { offered: 5, handled: 4, handlingSeconds: 421.6 })

      // the scheduler's view of the same window (the files are in archive/ now) replaces it with the same figures
      const configured = yield* Effect.flatMap(
        Effect.flatMap(ConnectorRegistry.ConnectorRegistry, (r) => r.get("csv")),
        (c) => c.configure(integration.config)
      )
      const w = { from: DateTime.unsafeMake(range[0]), to: DateTime.unsafeMake(range[1]) }
      const pulled = yield* Stream.runCollect(Option.getOrThrow(configured.pull)(w))
      const contacts = Chunk.toReadonlyArray(pulled).flatMap((b) => b.contacts)
      assert.strictEqual(contacts.length, 5)
      yield* (yield* Ingest.Ingest).importWindow({
        integration,
        batch: { ...Domain.emptyBatch, contacts },
        kind: "reimport",
        window: { from: DateTime.toEpochMillis(w.from), to: DateTime.toEpochMillis(w.to) }
      })
      assert.deepStrictEqual(yield* totals(integration.id, ...range), imported)
      const current = yield* Effect.flatMap(Integrations.Integrations, (s) => s.get(tenant, integration.id))
      assert.strictEqual(current.status, "active")
    }).pipe(Effect.scoped, Effect.provide(TestEngine)))
})
