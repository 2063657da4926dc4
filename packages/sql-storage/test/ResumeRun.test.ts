/**
 * A resume's import run is written in the resume's own transaction: when the database refuses
 * the run, the staged data must not be applied either, and the integration stays paused.
 * The refusal comes from a trigger on `import_runs`, so it happens inside the database, at
 * the insert, where a crash or a full disk would strike.
 */
import { ConnectorRegistry, Domain, Lifecycle, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { SqlStorage } from "../src/index.js"
import { freshPgDatabase, pgClient, sqliteClient, tempSqliteFile } from "./utils.js"
import { integrationRow } from "./fixtures/integration.js"

const T0 = Date.parse("2026-03-02T09:00:00Z")
const tenantId = Domain.TenantId.make("tenant-resume")
const iso = (s: string) => DateTime.unsafeMake(s)

const paused = integrationRow(T0, {
  id: Domain.IntegrationId.make("resume-1"),
  tenantId,
  name: "Main ACD",
  status: "paused"
})

const contact = (timestamp: string): Domain.ContactEvent => ({
  queueIdentifier: "q1",
  queueName: "Level 1",
  channel: "calls",
  timestamp: iso(timestamp),
  offered: true,
  handled: true,
  durationMs: 60_000
})

const pushes: ReadonlyArray<Domain.Batch> = [
  { ...Domain.emptyBatch, contacts: [contact("2026-03-02T09:05:00Z"), contact("2026-03-02T09:20:00Z")] },
  {
    ...Domain.emptyBatch,
    statuses: [{ agentIdentifier: "a-1", activityIdentifier: "READY", start: iso("2026-03-02T09:00:00Z"), end: null }]
  }
]

/** Lifecycle over `store`, as an engine would run it. */
const engine = (store: Layer.Layer<Storage.Storage, unknown>) =>
  Lifecycle.Lifecycle.Default.pipe(Layer.provideMerge(Layer.mergeAll(store, ConnectorRegistry.layer())))

/**
 * Stages the pushes, makes the database refuse every run with `refuse`, resumes (which must
 * fail and leave everything as it was), lifts the refusal with `allow` and resumes again.
 * `SqlClient` is a raw client beside the store's own.
 */
const resumeWhileRunsAreRefused = (
  refuse: ReadonlyArray<string>,
  allow: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const s = yield* Storage.Storage
    const raw = yield* SqlClient.SqlClient
    const lifecycle = yield* Lifecycle.Lifecycle
    yield* s.integrations.insert(paused)
    for (const batch of pushes) {
      const outcome = yield* s.data.ingest({
        integrationId: paused.id,
        batch,
        mode: "push",
        stagingLimit: 1_000,
        now: T0
      })
      assert.strictEqual(outcome._tag, "Staged")
    }
    assert.strictEqual(yield* s.integrations.stagedCount(paused.id), 3)

    const intervals = s.data.intervalStats({ tenantId, integrationId: paused.id, from: 0, to: 8_000_000_000_000 })
    const segments = s.data.segments({ tenantId, integrationId: paused.id, from: 0, to: 8_000_000_000_000 })
    const status = Effect.map(s.integrations.get(paused.id), Option.map((i) => i.status))

    for (const statement of refuse) yield* raw.unsafe(statement)
    const error = yield* Effect.flip(lifecycle.resume(tenantId, paused.id))
    assert.strictEqual(error._tag, "StorageError")
    assert.deepStrictEqual(yield* status, Option.some("paused"))
    assert.strictEqual(yield* s.integrations.stagedCount(paused.id), 3)
    assert.deepStrictEqual(yield* intervals, [])
    assert.deepStrictEqual(yield* segments, [])
    assert.deepStrictEqual(yield* s.queues.list({ tenantId }), [])
    assert.deepStrictEqual(yield* s.runs.list(paused.id, 10), [])
    if (error._tag === "StorageError") {
      // the trigger's refusal, inside the resume's own unit of work
      assert.strictEqual(error.operation, "integrations.resume")
      assert.match(error.reason, /boom/)
    }

    for (const statement of allow) yield* raw.unsafe(statement)
    const resumed = yield* lifecycle.resume(tenantId, paused.id)
    assert.strictEqual(resumed.status, "active")
    assert.deepStrictEqual(yield* status, Option.some("active"))
    assert.strictEqual(yield* s.integrations.stagedCount(paused.id), 0)
    assert.deepStrictEqual((yield* intervals).map((r) => [r.start, r.offered]), [
      [Date.parse("2026-03-02T09:00:00Z"), 1],
      [Date.parse("2026-03-02T09:15:00Z"), 1]
    ])
    assert.strictEqual((yield* segments).length, 1)
    assert.strictEqual((yield* s.queues.list({ tenantId })).length, 1)
    const runs = yield* s.runs.list(paused.id, 10)
    assert.deepStrictEqual(runs.map((r) => [r.kind, r.read, r.applied, r.rejected]), [["resume", 3, 3, 0]])
  })

describe("resume: the run is written in the resume's transaction", () => {
  it.effect("SQLite: a run the database refuses leaves the integration paused and its pushes staged", () => {
    const filename = tempSqliteFile()
    return resumeWhileRunsAreRefused(
      [`CREATE TRIGGER import_runs_boom BEFORE INSERT ON import_runs BEGIN SELECT RAISE(ABORT, 'boom'); END`],
      [`DROP TRIGGER import_runs_boom`]
    ).pipe(
      // the raw client is opened after the store, which creates the tables
      Effect.provide(sqliteClient(filename).pipe(Layer.provideMerge(engine(SqlStorage.layerSqlite({ filename })))))
    )
  })

  it.scoped("PostgreSQL: a run the database refuses leaves the integration paused and its pushes staged", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* resumeWhileRunsAreRefused(
        [
          `CREATE FUNCTION import_runs_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'boom'; END $$`,
          `CREATE TRIGGER import_runs_boom BEFORE INSERT ON import_runs
            FOR EACH ROW EXECUTE FUNCTION import_runs_boom()`
        ],
        [`DROP TRIGGER import_runs_boom ON import_runs`]
      ).pipe(Effect.provide(pgClient(url, 1).pipe(Layer.provideMerge(engine(SqlStorage.layerPg({ url }))))))
    }))
})
