/**
 * The sql connector at production cadence (e2e-harness `cadenceSuite`) over a customer database
 * written the way its README asks for: one row per queue visit, stamped with the queue-entry
 * instant and carrying that visit's agents' talk, hold and after-call work, and one row per
 * agent status (NULL end while open). The "database" is a SQLite file that a reporting job
 * rewrites from what the contact centre shows at the test clock's present (contacts appear once
 * written, late after-call work corrections arrive later, states stay open until they end), so
 * the connector meets write delays, corrections and long open states at every run, windows cut
 * at arbitrary instants, a DST week and an outage longer than the look-back.
 */
import { cadenceSuite } from "@acd-bridge/e2e-harness"
import { Scenario } from "@acd-bridge/testkit"
import Database from "better-sqlite3"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SqlConnector } from "../src/index.js"

const contactsQuery = `SELECT queue_id AS queue_identifier, queue_name, channel, entered_ms AS timestamp,
  offered, handled, duration_s AS duration, talk_s AS talk_seconds, hold_s AS hold_seconds,
  acw_s AS after_call_work_seconds, wait_s AS wait_seconds, abandoned, short_abandoned, breakout
  FROM contact_visits WHERE entered_ms >= :from AND entered_ms < :to`

const statusesQuery = `SELECT agent_id AS agent_identifier, activity AS activity_identifier,
  start_ms AS start_time, end_ms AS end_time
  FROM agent_states WHERE start_ms < :to AND (end_ms IS NULL OR end_ms > :from)`

/** Rewrites both tables with what the contact centre shows at `now`. */
const report = (db: Database.Database, scenario: Scenario.Scenario, now: number) => {
  const known = Scenario.asKnownAt(scenario, now)
  const insertVisit = db.prepare(
    `INSERT INTO contact_visits VALUES (@queue_id, @queue_name, @channel, @entered_ms, @offered, @handled,
       @duration_s, @talk_s, @hold_s, @acw_s, @wait_s, @abandoned, @short_abandoned, @breakout)`
  )
  const insertState = db.prepare("INSERT INTO agent_states VALUES (?, ?, ?, ?)")
  const s = (ms: number | undefined) => (ms ?? 0) / 1000
  const flag = (b: boolean | undefined) => (b ? 1 : 0)
  // the customer's own table holds one status per agent at a time: overlaps resolved
  const byAgent = new Map<string, Array<{ start: number; end: number; activity: string }>>()
  for (const state of known.states) {
    const list = byAgent.get(state.agentId) ?? []
    list.push({ start: state.start, end: state.end ?? Number.POSITIVE_INFINITY, activity: state.activity })
    byAgent.set(state.agentId, list)
  }
  db.transaction(() => {
    db.exec("DELETE FROM contact_visits; DELETE FROM agent_states;")
    for (const e of Scenario.knownEvents(known)) {
      insertVisit.run({
        queue_id: e.queueIdentifier,
        queue_name: e.queueName,
        channel: e.channel,
        entered_ms: DateTime.toEpochMillis(e.timestamp),
        offered: flag(e.offered),
        handled: flag(e.handled),
        duration_s: s(e.durationMs),
        talk_s: s(e.talkMs),
        hold_s: s(e.holdMs),
        acw_s: s(e.afterCallWorkMs),
        wait_s: s(e.waitMs),
        abandoned: flag(e.abandoned),
        short_abandoned: flag(e.shortAbandoned),
        breakout: flag(e.breakout)
      })
    }
    for (const [agent, states] of byAgent) {
      for (const st of Scenario.trimOverlaps(states)) {
        insertState.run(agent, st.activity, st.start, Number.isFinite(st.end) ? st.end : null)
      }
    }
  })()
}

const simulator = (scenario: Scenario.Scenario, options: { readonly now: number }) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "acd-sql-cadence-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const filename = path.join(dir, "customer.sqlite")
    const db = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const db = new Database(filename)
        db.pragma("journal_mode = WAL")
        db.exec(`
          CREATE TABLE contact_visits (queue_id TEXT, queue_name TEXT, channel TEXT, entered_ms INTEGER,
            offered INTEGER, handled INTEGER, duration_s REAL, talk_s REAL, hold_s REAL, acw_s REAL, wait_s REAL,
            abandoned INTEGER, short_abandoned INTEGER, breakout INTEGER);
          CREATE INDEX contact_visits_entered ON contact_visits (entered_ms);
          CREATE TABLE agent_states (agent_id TEXT, activity TEXT, start_ms INTEGER, end_ms INTEGER);`)
        return db
      }),
      (db) => Effect.sync(() => db.close())
    )
    report(db, scenario, options.now)
    return { filename, setNow: (now: number) => report(db, scenario, now) }
  })

cadenceSuite("sql (a per-visit table in SQLite)", {
  connector: SqlConnector.connector,
  simulator,
  config: (sim) => ({
    driver: "sqlite",
    connection: { filename: sim.filename },
    parameters: { format: "epoch_millis" },
    numericTimestamps: "epoch_millis",
    contacts: { query: contactsQuery },
    agentStatuses: { query: statusesQuery }
  }),
  seed: 17,
  segments: {}
})
