/**
 * The csv connector's `pull` at production cadence (e2e-harness `cadenceSuite`): a reporting job
 * rewrites one export file from what the contact centre shows at the test clock's present, the
 * way the README asks for (one row per queue visit, stamped with its queue-entry instant; one
 * row per agent status, an empty end while open), and core's Scheduler imports it over a DST week
 * with write delays, late corrections, windows cut at arbitrary instants and an outage longer
 * than the look-back. A csv integration reads one layout, so contacts and statuses are two
 * integrations, each checked against the ground truth of its kind.
 */
import { cadenceSuite } from "@acd-bridge/e2e-harness"
import { Scenario } from "@acd-bridge/testkit"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CsvConnector } from "../src/index.js"

const iso = (ms: number) => new Date(ms).toISOString()
const seconds = (ms: number | undefined) => ms === undefined ? "" : String(ms / 1000)
const flag = (b: boolean | undefined) => (b ? "1" : "0")

const visitsFile = (known: Scenario.KnownScenario): string => {
  const rows = ["queue,name,channel,entered,offered,handled,duration,talk,hold,acw,wait,abandoned,short,breakout"]
  for (const e of Scenario.knownEvents(known)) {
    rows.push([
      e.queueIdentifier,
      e.queueName,
      e.channel,
      iso(DateTime.toEpochMillis(e.timestamp)),
      flag(e.offered),
      flag(e.handled),
      seconds(e.durationMs),
      seconds(e.talkMs),
      seconds(e.holdMs),
      seconds(e.afterCallWorkMs),
      seconds(e.waitMs),
      flag(e.abandoned),
      flag(e.shortAbandoned),
      flag(e.breakout)
    ].join(","))
  }
  return rows.join("\n") + "\n"
}

const statusesFile = (known: Scenario.KnownScenario): string => {
  const byAgent = new Map<string, Array<{ start: number; end: number; activity: string }>>()
  for (const s of known.states) {
    const list = byAgent.get(s.agentId) ?? []
    list.push({ start: s.start, end: s.end ?? Number.POSITIVE_INFINITY, activity: s.activity })
    byAgent.set(s.agentId, list)
  }
  const rows = ["agent,activity,start,end"]
  for (const [agent, states] of byAgent) {
    for (const s of Scenario.trimOverlaps(states)) {
      rows.push([agent, s.activity, iso(s.start), Number.isFinite(s.end) ? iso(s.end) : ""].join(","))
    }
  }
  return rows.join("\n") + "\n"
}

const simulator = (render: (known: Scenario.KnownScenario) => string) =>
(scenario: Scenario.Scenario, options: { readonly now: number }) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "acd-csv-cadence-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const file = path.join(dir, "export.csv")
    // written aside and renamed, as a reporting job replaces its export
    const write = (now: number) => {
      fs.writeFileSync(`${file}.tmp`, render(Scenario.asKnownAt(scenario, now)))
      fs.renameSync(`${file}.tmp`, file)
    }
    write(options.now)
    return { file, setNow: write }
  })

cadenceSuite("csv (a per-visit contacts export)", {
  connector: CsvConnector.connector,
  simulator: simulator(visitsFile),
  config: (sim) => ({
    source: { files: [sim.file] },
    layout: "contacts",
    delimiter: ",",
    columns: {
      queueIdentifier: "queue",
      queueName: "name",
      channel: "channel",
      timestamp: "entered",
      offered: "offered",
      handled: "handled",
      duration: "duration",
      talkTime: "talk",
      holdTime: "hold",
      afterCallWorkTime: "acw",
      waitTime: "wait",
      abandoned: "abandoned",
      shortAbandoned: "short",
      breakout: "breakout"
    }
  }),
  seed: 19,
  segments: false
})

cadenceSuite("csv (an agent status export)", {
  connector: CsvConnector.connector,
  simulator: simulator(statusesFile),
  config: (sim) => ({
    source: { files: [sim.file] },
    layout: "agentStatuses",
    delimiter: ",",
    columns: { agentId: "agent", activityId: "activity", start: "start", end: "end" }
  }),
  seed: 23,
  contacts: false,
  segments: {}
})
