/**
 * The testkit's connector conformance suite against the csv connector, over CSV files rendered
 * from a seeded testkit Scenario (a German-style export: `;`, decimal comma, `DD.MM.YYYY HH:mm:ss`
 * local times, hh:mm:ss durations), and the Scenario's expected intervals end to end through the
 * importer and the engine.
 */
import { Domain } from "@acd-bridge/core"
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import * as CsvConnector from "../src/CsvConnector.js"
import { CsvImporter } from "../src/CsvImporter.js"
import { createIntegration, tempDir, TestEngine, totals } from "./fixtures.js"

const zone = "Europe/Berlin"
const scenario = Scenario.generate({
  seed: 7,
  from: "2026-03-02T00:00:00Z",
  to: "2026-03-04T00:00:00Z",
  timezone: zone,
  queues: [
    { identifier: "1337_99", name: "Level 1 support", channel: "calls", dailyPeak: 40 },
    { identifier: "mail-de", name: "E-Mail Süd", channel: "emails", dailyPeak: 12 }
  ],
  agents: 6
})

const tz = DateTime.zoneUnsafeMakeNamed(zone)
const pad = (n: number, w = 2) => String(n).padStart(w, "0")
/** Local wall-clock time, German style. */
const local = (ms: number) => {
  const p = DateTime.toParts(DateTime.unsafeMakeZoned(ms, { timeZone: tz }))
  return `${pad(p.day)}.${pad(p.month)}.${p.year} ${pad(p.hours)}:${pad(p.minutes)}:${pad(p.seconds)}`
}
const clock = (ms: number) => {
  const s = Math.round(ms / 1000)
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
}
const decimal = (ms: number) => (ms / 1000).toFixed(3).replace(".", ",")

/** The scenario's contacts as a contact-based export (one row per contact, at arrival). */
const contactsCsv = () => {
  const rows = ["Warteschlange;Name;Kanal;Eingang;Angeboten;Angenommen;Bearbeitung;Gespräch;Halten;Nacharbeit;Wartezeit;Aufgelegt"]
  for (const c of scenario.contacts) {
    const e = Scenario.contactEvent(c)
    rows.push([
      c.queueIdentifier,
      `"${c.queueName}"`,
      c.channel === "calls" ? "Telefon" : "E-Mail",
      local(c.arrival),
      "1",
      e.handled ? "ja" : "nein",
      decimal(e.durationMs),
      clock(e.talkMs ?? 0),
      clock(e.holdMs ?? 0),
      clock(e.afterCallWorkMs ?? 0),
      clock(e.waitMs ?? 0),
      e.abandoned ? "x" : ""
    ].join(";"))
  }
  return `${rows.join("\r\n")}\r\n`
}

const statusesCsv = () => {
  const rows = ["agent,state,from,to"]
  for (const s of Scenario.mergedStates(scenario)) {
    rows.push(`${s.agentId},${s.activity},${new Date(s.start).toISOString()},${new Date(s.end).toISOString()}`)
  }
  return `${rows.join("\n")}\n`
}

const contactsConfig = (folder: string) => ({
  source: { folder },
  layout: "contacts" as const,
  delimiter: ";" as const,
  decimalComma: true,
  timezone: zone,
  timestampFormat: "DD.MM.YYYY HH:mm:ss",
  durationFormat: "seconds" as const,
  channelValues: { Telefon: "calls" as const, "E-Mail": "emails" as const },
  columns: {
    queueIdentifier: "Warteschlange",
    queueName: "Name",
    channel: "Kanal",
    timestamp: "Eingang",
    offered: "Angeboten",
    handled: "Angenommen",
    duration: "Bearbeitung",
    abandoned: "Aufgelegt"
  }
})

// one folder per suite, filled afresh for every case by the "simulator" layer
class Folder extends Context.Tag("test/csv/Folder")<Folder, { readonly path: string }>() {}

const folderLayer = (folder: string, files: Record<string, string>) =>
  Layer.sync(Folder, () => {
    fs.rmSync(folder, { recursive: true, force: true })
    fs.mkdirSync(folder, { recursive: true })
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(folder, name), content)
    return { path: folder }
  })

/** Switch: a file whose header lacks the mapped columns appears. */
const malformed = Effect.flatMap(Folder, (f) =>
  Effect.sync(() => fs.writeFileSync(path.join(f.path, "zz-broken.csv"), "Queue;Start\nq;heute\n")))

/** Switch: the folder can't be listed (a file took its place). */
const transient = Effect.flatMap(Folder, (f) =>
  Effect.sync(() => {
    fs.rmSync(f.path, { recursive: true, force: true })
    fs.writeFileSync(f.path, "not a folder")
  }))

const base = fs.mkdtempSync(path.join(os.tmpdir(), "acd-csv-conformance-"))
afterAll(() => fs.rmSync(base, { recursive: true, force: true }))
const contactsFolder = path.join(base, "contacts")
const statusesFolder = path.join(base, "statuses")
const windows = [
  { from: "2026-03-02T00:00:00Z", to: "2026-03-02T12:00:00Z" },
  { from: "2026-03-02T12:00:00Z", to: "2026-03-04T00:00:00Z" }
]

ConnectorSuite.suite("csv, contact-based export", {
  connector: CsvConnector.connector,
  config: contactsConfig(contactsFolder),
  invalidConfigs: [
    { config: 42 },
    { config: { ...contactsConfig(contactsFolder), layout: "calls" }, field: "layout" },
    { config: { ...contactsConfig(contactsFolder), encoding: "klingon" }, field: "encoding" },
    { config: { ...contactsConfig(contactsFolder), timezone: "Mars/Olympus" }, field: "timezone" }
  ],
  layer: folderLayer(contactsFolder, {
    // the same export split in two files, and one in the archive
    "a.csv": contactsCsv().split("\r\n").slice(0, 400).join("\r\n") + "\r\n",
    "b.csv": [contactsCsv().split("\r\n")[0], ...contactsCsv().split("\r\n").slice(400)].join("\r\n")
  }),
  windows,
  emptyWindow: { from: "2026-02-01T00:00:00Z", to: "2026-02-02T00:00:00Z" },
  now: "2026-03-05T00:00:00Z",
  malformed,
  transient
})

ConnectorSuite.suite("csv, agent statuses", {
  connector: CsvConnector.connector,
  config: {
    source: { folder: statusesFolder },
    layout: "agentStatuses",
    columns: { agentId: "agent", activityId: "state", start: "from", end: "to" }
  },
  layer: folderLayer(statusesFolder, { "states.csv": statusesCsv() }),
  windows,
  now: "2026-03-05T00:00:00Z",
  transient
})

describe("csv end to end with a Scenario", () => {
  it.scoped("the export imported through CsvImporter gives the Scenario's expected intervals", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      fs.writeFileSync(path.join(dir, "export.csv"), contactsCsv())
      const [result] = yield* (yield* CsvImporter).poll(integration).pipe(
        Effect.zipRight((yield* CsvImporter).poll(integration))
      )
      assert.strictEqual(result!.outcome, "imported")
      assert.strictEqual(result!.applied, scenario.contacts.length)
      assert.strictEqual(result!.rejected, 0)
      for (const length of [15, 60] as const) {
        const expected = Scenario.expectedIntervals(scenario, { length, timezone: zone })
        assert.isAbove(expected.length, 40)
        const rows = yield* totals(integration.id, "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z", length, zone)
        const key = (r: { readonly queue: string; readonly start: string }) => `${r.queue} ${r.start}`
        assert.deepStrictEqual(
          rows.map((r) => ({ key: key(r), offered: r.offered, handled: r.handled, handling: r.handlingSeconds })).sort((a, b) =>
            a.key.localeCompare(b.key)
          ),
          expected.map((e) => ({
            key: `${e.queueIdentifier} ${DateTime.formatIsoOffset(DateTime.unsafeMakeZoned(e.start, { timeZone: tz })).replace(".000", "")}`,
            offered: e.offered,
            handled: e.handled,
            handling: e.handlingMs / 1000
          })).sort((a, b) => a.key.localeCompare(b.key))
        )
      }
      const emails = (yield* totals(integration.id, "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z", 60, zone))
        .filter((r) => r.channel === "emails")
      assert.isAbove(emails.length, 0)
      assert.strictEqual(emails[0]!.name, "E-Mail Süd")
      assert.isTrue(Domain.Channel.literals.includes(emails[0]!.channel))
    }).pipe(Effect.provide(TestEngine)))
})
