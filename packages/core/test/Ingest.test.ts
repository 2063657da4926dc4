import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { AgentStatuses } from "../src/AgentStatuses.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import type { AgentStatus, Batch, ImportRun } from "../src/Domain.js"
import { emptyBatch } from "../src/Domain.js"
import * as Engine from "../src/Engine.js"
import * as Ingest from "../src/Ingest.js"
import { Integrations } from "../src/Integrations.js"
import { Lifecycle } from "../src/Lifecycle.js"
import * as Principal from "../src/Principal.js"
import * as Storage from "../src/Storage.js"
import { contact, pushConnector, tenant, TestEngine } from "./fixtures.js"

const admin = Principal.Admin({ tenantId: tenant })

const createPush = Effect.flatMap(Integrations, (s) => s.create(tenant, { name: "Main ACD", connector: "api-push" }))

const runsOf = (id: string) =>
  Effect.flatMap(Storage.Storage, (s) => s.runs.list(id as ImportRun["integrationId"], 100))

const status = (agent: string, start: string, end: string | null): AgentStatus => ({
  agentIdentifier: agent,
  activityIdentifier: "TALK",
  start: DateTime.unsafeMake(start),
  end: end === null ? null : DateTime.unsafeMake(end)
})

const contacts = (n: number): Batch => ({
  ...emptyBatch,
  contacts: Array.from({ length: n }, (_, k) => contact(`2026-01-05T10:${String(k % 60).padStart(2, "0")}:00Z`))
})

/** The engine over the memory store with `Ingest`'s options set by the host. */
const engineWith = (options: Ingest.Options) =>
  Engine.layer.pipe(
    Layer.provide(Ingest.layerOptions(options)),
    Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(pushConnector)))
  )

describe("Ingest: the run is written with the data", () => {
  it.effect("a push records one run when applied, none when replayed or refused, and still publishes", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      const published = yield* (yield* AgentStatuses).subscription(tenant, integration.id)
      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake("2026-01-05T12:00:00Z")))
      const batch: Batch = { ...contacts(2), statuses: [status("a1", "2026-01-05T10:00:00Z", null)] }
      const options = { idempotencyKey: "k1", requestHash: "h1" }
      assert.strictEqual((yield* ingest.push(admin, integration.id, batch, options))._tag, "Applied")
      assert.strictEqual((yield* ingest.push(admin, integration.id, batch, options))._tag, "Replayed")
      const reused = yield* Effect.flip(ingest.push(admin, integration.id, batch, { ...options, requestHash: "h2" }))
      assert.strictEqual(reused._tag, "IdempotencyKeyReused")

      const runs = yield* runsOf(integration.id)
      assert.strictEqual(runs.length, 1)
      const run = runs[0]!
      assert.strictEqual(run.kind, "push")
      assert.deepStrictEqual([run.read, run.applied, run.rejected], [3, 3, 0])
      assert.deepStrictEqual([run.windowStart, run.windowEnd, run.error, run.problems], [null, null, null, []])
      assert.strictEqual(DateTime.formatIso(run.startedAt), "2026-01-05T12:00:00.000Z")
      assert.strictEqual(run.durationMs, 0) // the TestClock does not move while the store writes
      // the applied push was published, the replay was not: next comes the push after them
      const next: Batch = { ...emptyBatch, statuses: [status("a2", "2026-01-05T10:00:00Z", null)] }
      yield* ingest.push(admin, integration.id, next)
      const seen = yield* Stream.runCollect(Stream.take(published, 2))
      assert.deepStrictEqual(Chunk.toReadonlyArray(seen).map((s) => s.agentIdentifier), ["a1", "a2"])
    }).pipe(Effect.scoped, Effect.provide(TestEngine)))

  it.effect("a push staged while paused records nothing; the resume that applies it is recorded once", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      const lifecycle = yield* Lifecycle
      yield* lifecycle.pause(tenant, integration.id)
      assert.strictEqual((yield* ingest.push(admin, integration.id, contacts(2)))._tag, "Staged")
      assert.strictEqual((yield* ingest.push(admin, integration.id, contacts(1)))._tag, "Staged")
      assert.deepStrictEqual(yield* runsOf(integration.id), [])
      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake("2026-01-05T12:00:00Z")))
      yield* lifecycle.resume(tenant, integration.id)
      const runs = yield* runsOf(integration.id)
      assert.strictEqual(runs.length, 1)
      const run = runs[0]!
      assert.deepStrictEqual([run.kind, run.read, run.applied, run.rejected], ["resume", 3, 3, 0])
      assert.deepStrictEqual([run.windowStart, run.windowEnd, run.error, run.problems], [null, null, null, []])
      assert.strictEqual(DateTime.formatIso(run.startedAt), "2026-01-05T12:00:00.000Z")
      assert.strictEqual(run.durationMs, 0) // measured by the store, and the TestClock does not move
      // a resume with nothing staged applies nothing and records nothing
      yield* lifecycle.pause(tenant, integration.id)
      assert.strictEqual((yield* lifecycle.resume(tenant, integration.id)).status, "active")
      assert.strictEqual((yield* runsOf(integration.id)).length, 1)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("importWindow records its window, counts and problems; recordRun: false records none", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      const from = DateTime.toEpochMillis(DateTime.unsafeMake("2026-01-05T10:00:00Z"))
      const window = { from, to: from + 3_600_000 }
      const problems = Array.from({ length: 1_200 }, (_, k) => ({ record: `f.csv:${k}`, field: null, reason: "bad" }))
      yield* ingest.importWindow({
        integration,
        batch: contacts(4),
        kind: "history",
        window,
        watermark: { stream: "incremental", value: window.to },
        rejected: 1_200,
        problems
      })
      yield* ingest.importWindow({ integration, batch: contacts(2), kind: "pull", window, recordRun: false })
      const runs = yield* runsOf(integration.id)
      assert.strictEqual(runs.length, 1)
      const run = runs[0]!
      assert.strictEqual(run.kind, "history")
      assert.deepStrictEqual([run.read, run.applied, run.rejected], [1_204, 4, 1_200])
      const epoch = (d: DateTime.Utc | null) => (d === null ? null : DateTime.toEpochMillis(d))
      assert.deepStrictEqual([epoch(run.windowStart), epoch(run.windowEnd)], [window.from, window.to])
      assert.strictEqual(run.problems.length, 1_000)
      // `record` still writes a run on its own, for callers that apply with recordRun: false
      yield* ingest.record(integration.id, "pull", from, { read: 2, applied: 2, rejected: 0 }, window, null)
      assert.strictEqual((yield* runsOf(integration.id)).length, 2)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("a source applied in several calls records its own summary with the last one, in that unit of work", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      const from = DateTime.toEpochMillis(DateTime.unsafeMake("2026-01-05T10:00:00Z"))
      yield* TestClock.setTime(from + 7_200_000)
      const started = from + 3_600_000
      yield* ingest.importWindow({ integration, batch: contacts(3), kind: "pull", recordRun: false })
      yield* TestClock.adjust("90 seconds")
      const summary: Ingest.ImportRunSummary = {
        started,
        read: 10,
        applied: 9,
        rejected: 1,
        window: { from, to: from + 900_000 },
        error: "reading stopped at f.csv:11",
        problems: [{ record: "f.csv:7", field: "Duration", reason: "not a number" }]
      }
      // a last call that fails records nothing: the summary goes with the data or not at all
      const paused = yield* (yield* Lifecycle).pause(tenant, integration.id)
      const refused = yield* Effect.flip(
        ingest.importWindow({ integration: paused, batch: emptyBatch, kind: "pull", recordRun: false, runSummary: summary })
      )
      assert.strictEqual(refused._tag, "IntegrationNotActive")
      assert.deepStrictEqual(yield* runsOf(integration.id), [])
      const active = yield* (yield* Lifecycle).resume(tenant, integration.id)

      yield* ingest.importWindow({ integration: active, batch: emptyBatch, kind: "pull", recordRun: false, runSummary: summary })
      const runs = yield* runsOf(integration.id)
      assert.strictEqual(runs.length, 1)
      const run = runs[0]!
      assert.deepStrictEqual([run.kind, run.read, run.applied, run.rejected, run.error], [
        "pull",
        10,
        9,
        1,
        "reading stopped at f.csv:11"
      ])
      assert.deepStrictEqual(run.problems, summary.problems)
      assert.strictEqual(DateTime.toEpochMillis(run.startedAt), started)
      // measured from the source's start, not from the last call's
      assert.strictEqual(run.durationMs, 3_600_000 + 90_000)
      assert.deepStrictEqual([run.windowStart, run.windowEnd].map((d) => d && DateTime.toEpochMillis(d)), [
        from,
        from + 900_000
      ])
    }).pipe(Effect.provide(TestEngine)))

  it.effect("a run with counts that are not whole numbers >= 0 fails with StorageError naming the count; nothing applied", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      const storage = yield* Storage.Storage
      for (const rejected of [-1, 1.5, Number.NaN]) {
        const error = yield* Effect.flip(ingest.importWindow({ integration, batch: contacts(2), kind: "pull", rejected }))
        assert.strictEqual(error._tag, "StorageError", String(rejected))
        assert.match(error._tag === "StorageError" ? error.reason : "", rejected === -1 ? /rejected must be a whole number >= 0/ : /(read|rejected) must be a whole number >= 0/)
      }
      const summary = { started: 0, read: 3, applied: -2, rejected: 0 }
      const error = yield* Effect.flip(
        ingest.importWindow({ integration, batch: contacts(2), kind: "pull", recordRun: false, runSummary: summary })
      )
      assert.match(error._tag === "StorageError" ? error.reason : "", /applied must be a whole number >= 0/)
      assert.deepStrictEqual(yield* runsOf(integration.id), [])
      const stored = yield* storage.data.intervalStats({ tenantId: tenant, from: 0, to: Number.MAX_SAFE_INTEGER })
      assert.deepStrictEqual(stored, [])
    }).pipe(Effect.provide(TestEngine)))

  it.effect("importWindow while paused fails and records nothing", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      const paused = yield* (yield* Lifecycle).pause(tenant, integration.id)
      const error = yield* Effect.flip(ingest.importWindow({ integration: paused, batch: contacts(1), kind: "pull" }))
      assert.strictEqual(error._tag, "IntegrationNotActive")
      assert.deepStrictEqual(yield* runsOf(integration.id), [])
    }).pipe(Effect.provide(TestEngine)))
})

describe("Ingest: the staging limit", () => {
  it.effect("a host-set limit gives StagingFull at that limit", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      const ingest = yield* Ingest.Ingest
      yield* (yield* Lifecycle).pause(tenant, integration.id)
      assert.strictEqual((yield* ingest.push(admin, integration.id, contacts(2)))._tag, "Staged")
      // exactly at the limit is still accepted
      assert.strictEqual((yield* ingest.push(admin, integration.id, contacts(1)))._tag, "Staged")
      const full = yield* Effect.flip(ingest.push(admin, integration.id, contacts(1)))
      assert.strictEqual(full._tag, "StagingFull")
      if (full._tag === "StagingFull") assert.strictEqual(full.limit, 3)
      assert.strictEqual(yield* Effect.flatMap(Storage.Storage, (s) => s.integrations.stagedCount(integration.id)), 3)
    }).pipe(Effect.provide(engineWith({ stagingLimit: 3 }))))

  it.effect("without options the default holds", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* Ingest.IngestOptions, { stagingLimit: Ingest.defaultStagingLimit })
      const { integration } = yield* createPush
      yield* (yield* Lifecycle).pause(tenant, integration.id)
      assert.strictEqual((yield* (yield* Ingest.Ingest).push(admin, integration.id, contacts(50)))._tag, "Staged")
    }).pipe(Effect.provide(engineWith({}))))

  it.effect("a limit of 0 stages nothing", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush
      yield* (yield* Lifecycle).pause(tenant, integration.id)
      const full = yield* Effect.flip((yield* Ingest.Ingest).push(admin, integration.id, contacts(1)))
      assert.strictEqual(full._tag, "StagingFull")
    }).pipe(Effect.provide(engineWith({ stagingLimit: 0 }))))

  it.effect("an invalid limit fails the layer when it is built", () =>
    Effect.gen(function*() {
      for (const stagingLimit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const exit = yield* Effect.exit(Effect.provide(Ingest.Ingest, engineWith({ stagingLimit })))
        assert.isTrue(Exit.isFailure(exit), String(stagingLimit))
        if (Exit.isFailure(exit)) {
          const defect = Cause.squash(exit.cause)
          assert.isTrue(Cause.isIllegalArgumentException(defect), String(stagingLimit))
        }
      }
    }))
})
