import { ConnectorRegistry, Domain, Engine, Ingest, Integrations, Intervals, Storage } from "@acd-bridge/core"
import type { Connector } from "@acd-bridge/core"
import Database from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { SqlConfig } from "../src/SqlConfig.js"
import * as SqlConnector from "../src/SqlConnector.js"

export const tenant = Domain.TenantId.make("tenant-sql")

/** A queue name that would break a query built by string concatenation. */
export const evilQueueName = "'); DROP TABLE contacts;--"

export const window: Connector.Window = {
  from: DateTime.unsafeMake("2026-03-02T09:00:00Z"),
  to: DateTime.unsafeMake("2026-03-02T10:00:00Z")
}

/**
 * Contact rows (UTC instants): four inside [09:00, 10:00), one exactly at 10:00 and one just
 * before 09:00 (both outside).
 */
export const contactRows: ReadonlyArray<{
  ts: string
  queueId: string
  queueName: string
  channel: string
  offered: boolean
  handled: boolean
  duration: number
}> = [
  { ts: "2026-03-02T09:00:00Z", queueId: "Q1", queueName: "Level 1 support", channel: "calls", offered: true, handled: true, duration: 200.1 },
  { ts: "2026-03-02T09:14:59Z", queueId: "Q1", queueName: "Level 1 support", channel: "calls", offered: true, handled: true, duration: 100 },
  { ts: "2026-03-02T09:20:00Z", queueId: "Q1", queueName: "Level 1 support", channel: "calls", offered: true, handled: false, duration: 30 },
  { ts: "2026-03-02T09:40:00Z", queueId: "Q2", queueName: evilQueueName, channel: "chats", offered: true, handled: true, duration: 60.5 },
  { ts: "2026-03-02T10:00:00Z", queueId: "Q1", queueName: "Level 1 support", channel: "calls", offered: true, handled: true, duration: 999 },
  { ts: "2026-03-02T08:59:59Z", queueId: "Q1", queueName: "Level 1 support", channel: "calls", offered: true, handled: true, duration: 999 }
]

/** What `Intervals.query` must return for the window (15-minute intervals, UTC). */
export const expectedIntervals = [
  { queueIdentifier: "Q1", queueName: "Level 1 support", channel: "calls", start: "2026-03-02T09:00:00Z", offered: 2, handled: 2, handlingSeconds: 300.1, unhandledSeconds: 0 },
  { queueIdentifier: "Q1", queueName: "Level 1 support", channel: "calls", start: "2026-03-02T09:15:00Z", offered: 1, handled: 0, handlingSeconds: 0, unhandledSeconds: 30 },
  { queueIdentifier: "Q2", queueName: evilQueueName, channel: "chats", start: "2026-03-02T09:30:00Z", offered: 1, handled: 1, handlingSeconds: 60.5, unhandledSeconds: 0 }
]

export const statusRows: ReadonlyArray<{ agent: string; activity: string; start: string; end: string | null }> = [
  { agent: "a-1", activity: "READY", start: "2026-03-02T08:30:00Z", end: "2026-03-02T09:10:00Z" },
  { agent: "a-1", activity: "BREAK", start: "2026-03-02T09:10:00Z", end: "2026-03-02T09:25:00Z" },
  { agent: "a-2", activity: "READY", start: "2026-03-02T09:50:00Z", end: null },
  { agent: "a-3", activity: "READY", start: "2026-03-02T07:00:00Z", end: "2026-03-02T08:00:00Z" }
]

const tempDirs: Array<string> = []
// after the file's tests: vitest ends its worker processes without running exit handlers
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh temp directory, removed after the test file's tests. */
export const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-sql-"))
  tempDirs.push(dir)
  return dir
}

/** Local wall-clock text of an instant in a zone, as a source without offsets stores it. */
export const wallClock = (iso: string, zone: string): string => {
  const p = DateTime.toParts(DateTime.setZone(DateTime.unsafeMake(iso), DateTime.zoneUnsafeMakeNamed(zone)))
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hours)}:${pad(p.minutes)}:${pad(p.seconds)}`
}

/**
 * A SQLite source file whose times are Berlin wall-clock text without offset.
 */
export const makeSqliteSource = (file: string): Database.Database => {
  const db = new Database(file)
  db.exec(`
    CREATE TABLE queues (id TEXT PRIMARY KEY, name TEXT NOT NULL, channel TEXT NOT NULL);
    CREATE TABLE contacts (id INTEGER PRIMARY KEY, queue_id TEXT, started_local TEXT, offered INTEGER, handled INTEGER, seconds REAL);
    CREATE TABLE statuses (agent TEXT, activity TEXT, started TEXT, ended TEXT);
    CREATE TABLE sentinel (x INTEGER);
    INSERT INTO sentinel VALUES (1);
  `)
  const queue = db.prepare("INSERT OR IGNORE INTO queues VALUES (?, ?, ?)")
  const contact = db.prepare(
    "INSERT INTO contacts (queue_id, started_local, offered, handled, seconds) VALUES (?, ?, ?, ?, ?)"
  )
  for (const r of contactRows) {
    queue.run(r.queueId, r.queueName, r.channel)
    contact.run(r.queueId, wallClock(r.ts, "Europe/Berlin"), r.offered ? 1 : 0, r.handled ? 1 : 0, r.duration)
  }
  const status = db.prepare("INSERT INTO statuses VALUES (?, ?, ?, ?)")
  for (const s of statusRows) {
    status.run(s.agent, s.activity, wallClock(s.start, "Europe/Berlin"), s.end ? wallClock(s.end, "Europe/Berlin") : null)
  }
  return db
}

export const sqliteContactsQuery = `
  SELECT c.queue_id AS queue_identifier, q.name AS queue_name, q.channel AS channel,
         c.started_local AS timestamp, c.offered AS offered, c.handled AS handled, c.seconds AS duration
  FROM contacts c JOIN queues q ON q.id = c.queue_id
  WHERE c.started_local >= :from AND c.started_local <= :to  -- inclusive on purpose: the connector keeps [from, to)
  ORDER BY c.id`

export const sqliteStatusesQuery = `
  SELECT agent AS agent_identifier, activity AS activity_identifier, started AS start_time, ended AS end_time
  FROM statuses WHERE started < :to AND (ended IS NULL OR ended > :from)`

export const sqliteConfig = (file: string, extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SqlConfig)({
    driver: "sqlite",
    connection: { filename: file },
    timezone: "Europe/Berlin",
    parameters: { format: "timestamp" },
    contacts: { query: sqliteContactsQuery },
    agentStatuses: { query: sqliteStatusesQuery },
    ...extra
  })

export const collect = <E, R>(stream: Stream.Stream<Domain.Batch, E, R>) =>
  Effect.map(Stream.runCollect(stream), (chunk) => Chunk.toReadonlyArray(chunk))

export const merge = (batches: ReadonlyArray<Domain.Batch>): Domain.Batch => ({
  contacts: batches.flatMap((b) => b.contacts),
  aggregates: batches.flatMap((b) => b.aggregates),
  statuses: batches.flatMap((b) => b.statuses)
})

/** The engine over a store, with the sql connector registered. */
export const engineWith = <E>(
  storage: Layer.Layer<Storage.Storage, E>
): Layer.Layer<Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry, E> =>
  Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(storage, ConnectorRegistry.layer(SqlConnector.connector))))

/** The engine with the memory store and the sql connector registered. */
export const EngineLayer: Layer.Layer<Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry> =
  engineWith(Storage.layerMemory)

/** Creates an integration, imports `batch` as the window (replace), returns the 15-minute intervals. */
export interface IntervalSummary {
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: string
  readonly start: string
  readonly offered: number
  readonly handled: number
  readonly handlingSeconds: number
  readonly unhandledSeconds: number
}

export const importAndQuery = (
  configJson: unknown,
  batches: ReadonlyArray<ReadonlyArray<Domain.Batch>>
): Effect.Effect<
  ReadonlyArray<IntervalSummary>,
  unknown,
  Integrations.Integrations | Ingest.Ingest | Intervals.Intervals
> =>
  Effect.gen(function*() {
    const integrations = yield* Integrations.Integrations
    const ingest = yield* Ingest.Ingest
    const intervals = yield* Intervals.Intervals
    const { integration } = yield* integrations.create(tenant, {
      name: "Contact centre DB",
      connector: "sql",
      deliveryMode: "on-premise",
      config: configJson
    })
    for (const run of batches) {
      yield* ingest.importWindow({
        integration,
        batch: merge(run),
        kind: "pull",
        window: { from: DateTime.toEpochMillis(window.from), to: DateTime.toEpochMillis(window.to) }
      })
    }
    const rows = yield* intervals.query(tenant, { from: window.from, to: window.to, length: 15, timezone: "UTC" })
    return rows.map((r) => ({
      queueIdentifier: r.queueIdentifier,
      queueName: r.queueName,
      channel: r.channel,
      start: DateTime.formatIso(DateTime.unsafeMake(r.start)).replace(".000", ""),
      offered: r.offered,
      handled: r.handled,
      handlingSeconds: r.handlingSeconds,
      unhandledSeconds: r.unhandledSeconds
    })).sort((a, b) => (a.queueIdentifier + a.start).localeCompare(b.queueIdentifier + b.start))
  })
