/**
 * The storage port's conformance suite: the same cases run against every implementation of
 * core's `Storage` (the memory store, SQLite, PostgreSQL, a host's own). Call `suite` from a
 * test file with a layer that provides `Storage`:
 *
 * ```ts
 * import { Storage } from "@acd-bridge/core"
 * import { StorageSuite } from "@acd-bridge/testkit"
 *
 * StorageSuite.suite("memory", Storage.layerMemory)
 * ```
 *
 * The layer is built once per suite and shared by its cases; every case works in its own
 * fresh tenant and integrations, so a store that keeps data between cases is fine.
 *
 * @since 0.1.0
 */
import { Domain, LinkModel, Storage } from "@acd-bridge/core"
import { assert, describe, layer as layerTest } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { at, integration, link, linkTask, sameValue, T0, unique } from "./internal/storageFixtures.js"

// ---------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------

const MIN = 60_000
const iso = (s: string) => DateTime.unsafeMake(s)

const contact = (
  timestamp: string,
  overrides: Partial<Domain.ContactEvent> = {}
): Domain.ContactEvent => ({
  queueIdentifier: "q1",
  queueName: "Level 1",
  channel: "calls",
  timestamp: iso(timestamp),
  offered: true,
  handled: true,
  durationMs: 120_000,
  ...overrides
})

const aggregate = (
  start: string,
  lengthMinutes: Domain.IntervalMinutes,
  overrides: Partial<Domain.IntervalAggregate> = {}
): Domain.IntervalAggregate => ({
  queueIdentifier: "q1",
  queueName: "Level 1",
  channel: "calls",
  start: iso(start),
  lengthMinutes,
  ...Domain.emptyMeasures,
  ...overrides
})

const status = (agent: string, activity: string, start: string, end: string | null): Domain.AgentStatus => ({
  agentIdentifier: agent,
  activityIdentifier: activity,
  start: iso(start),
  end: end === null ? null : iso(end)
})

const batch = (parts: Partial<Domain.Batch>): Domain.Batch => ({ ...Domain.emptyBatch, ...parts })

const request = (
  i: Domain.Integration,
  b: Domain.Batch,
  overrides: Partial<Storage.IngestRequest> = {}
): Storage.IngestRequest => ({
  integrationId: i.id,
  batch: b,
  mode: "push",
  stagingLimit: 1_000,
  now: T0,
  ...overrides
})

/** The error tag a failed effect failed with. */
const failureTag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) return "success"
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    return failure ? failure._tag : `defect: ${String(exit.cause)}`
  })

const store = Storage.Storage

/** The run a request carries: `data.ingest` writes it with the batch, the store sets `durationMs`. */
const ingestRun = (
  i: Domain.Integration,
  startedAt: number,
  overrides: Partial<Storage.ImportRunDraft> = {}
): Storage.ImportRunDraft => ({
  id: Domain.ImportRunId.make(unique("run")),
  integrationId: i.id,
  kind: "push",
  windowStart: null,
  windowEnd: null,
  read: 1,
  applied: 1,
  rejected: 0,
  startedAt: at(startedAt),
  error: null,
  problems: [],
  ...overrides
})

/** Stored runs without their durations (the store sets those), oldest first. */
const storedRuns = (i: Domain.Integration) =>
  Effect.map(
    Effect.flatMap(store, (s) => s.runs.list(i.id, 1_000)),
    (runs) =>
      runs.map(({ durationMs: _, ...rest }) => rest)
        .sort((a, b) => DateTime.toEpochMillis(a.startedAt) - DateTime.toEpochMillis(b.startedAt))
  )

const setup = (overrides: Partial<ConstructorParameters<typeof Domain.Integration>[0]> = {}) =>
  Effect.gen(function*() {
    const s = yield* store
    const i = integration(overrides)
    yield* s.integrations.insert(i)
    return i
  })

const everything = (i: Domain.Integration) =>
  Effect.flatMap(
    store,
    (s) => s.data.intervalStats({ tenantId: i.tenantId, integrationId: i.id, from: 0, to: 8_000_000_000_000 })
  )

const totals = (i: Domain.Integration) =>
  Effect.map(everything(i), (rows) => {
    const sum: Record<string, number> = {}
    for (const row of rows) {
      for (const k of Domain.measureKeys) sum[k] = (sum[k] ?? 0) + row[k]
    }
    return sum
  })

const allSegments = (i: Domain.Integration, agent?: string) =>
  Effect.flatMap(store, (s) =>
    s.data.segments({
      tenantId: i.tenantId,
      integrationId: i.id,
      agentIdentifier: agent,
      from: 0,
      to: 8_000_000_000_000
    }))

const spans = (segments: ReadonlyArray<Domain.AgentSegment>) =>
  segments.map((s) => ({ agent: s.agentIdentifier, activity: s.activityIdentifier, start: s.start, end: s.end }))

const ms = (s: string) => Date.parse(s)

/**
 * Runs the conformance cases against `layer`.
 *
 * @since 0.1.0 @category suites
 */
export const suite = <E>(name: string, layer: Layer.Layer<Storage.Storage, E>): void => {
  describe(`Storage conformance: ${name}`, () => {
    layerTest(layer, { timeout: "120 seconds", excludeTestServices: true })((it) => {
      // -----------------------------------------------------------------------
      // integrations
      // -----------------------------------------------------------------------

      it.effect("integrations: insert, get, list by tenant in creation order; an id is inserted once", () =>
        Effect.gen(function*() {
          const s = yield* store
          const a = yield* setup({ createdAt: at(T0 + 2_000), updatedAt: at(T0 + 2_000) })
          const b = yield* setup({
            tenantId: a.tenantId,
            name: "Second",
            createdAt: at(T0 + 1_000),
            updatedAt: at(T0 + 1_000),
            config: undefined,
            schedule: { type: "realtime" },
            deliveryMode: "on-premise",
            dataKinds: ["contacts"],
            failing: "credentials rejected"
          })
          const other = yield* setup()
          sameValue(yield* s.integrations.get(a.id), Option.some(a))
          sameValue(yield* s.integrations.get(b.id), Option.some(b))
          assert.isTrue(Option.isNone(yield* s.integrations.get(Domain.IntegrationId.make(unique("missing")))))
          sameValue((yield* s.integrations.list(a.tenantId)).map((x) => x.id), [b.id, a.id])
          sameValue((yield* s.integrations.list(other.tenantId)).map((x) => x.id), [other.id])

          // an insert never replaces: an id is stored once
          assert.strictEqual(yield* failureTag(s.integrations.insert(a)), "StorageError")
        }))

      it.effect("integrations: state changes touch only their fields and count the version up", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup({ failing: "credentials rejected" })
          assert.strictEqual(i.version, 0)

          const paused = yield* s.integrations.pause(i.id, T0 + 1_000)
          sameValue([paused.status, paused.failing, paused.version], ["paused", "credentials rejected", 1])
          sameValue(paused.updatedAt, at(T0 + 1_000))
          sameValue(yield* s.integrations.get(i.id), Option.some(paused))
          // pausing a paused integration changes nothing
          sameValue(yield* s.integrations.pause(i.id, T0 + 2_000), paused)

          // a new config clears the failing mark and keeps the status
          const configured = yield* s.integrations.setConfig(i.id, { other: true }, T0 + 3_000)
          sameValue(
            [configured.status, configured.failing, configured.config, configured.version],
            ["paused", null, { other: true }, 2]
          )
          // a failing mark made on what was read before the config change is not written
          sameValue(
            yield* s.integrations.markFailing(i.id, "stale", T0 + 4_000, { ifVersion: paused.version }),
            Option.none()
          )
          const failing = yield* s.integrations.markFailing(i.id, "timeout", T0 + 5_000, { ifVersion: 2 })
          sameValue(Option.map(failing, (x) => [x.status, x.failing, x.version]), Option.some(["paused", "timeout", 3]))
          sameValue(yield* s.integrations.get(i.id), failing)

          const resumed = yield* s.integrations.resume(i.id, T0 + 6_000)
          sameValue(
            [resumed.integration.status, resumed.integration.failing, resumed.integration.version, resumed.applied],
            ["active", "timeout", 4, 0]
          )
          // resuming an active integration with nothing staged changes nothing
          sameValue((yield* s.integrations.resume(i.id, T0 + 7_000)).integration, resumed.integration)
          // without a version, the mark is written on what is stored now
          const marked = yield* s.integrations.markFailing(i.id, "rejected", T0 + 8_000)
          sameValue(Option.map(marked, (x) => [x.status, x.failing, x.version]), Option.some(["active", "rejected", 5]))
          // the same mark again writes nothing (the version stays); null clears it
          sameValue(yield* s.integrations.markFailing(i.id, "rejected", T0 + 8_100), Option.none())
          const cleared = yield* s.integrations.markFailing(i.id, null, T0 + 8_200, { ifVersion: 5 })
          sameValue(Option.map(cleared, (x) => [x.status, x.failing, x.version]), Option.some(["active", null, 6]))

          const missing = Domain.IntegrationId.make(unique("missing"))
          assert.strictEqual(yield* failureTag(s.integrations.pause(missing, T0)), "IntegrationNotFound")
          assert.strictEqual(yield* failureTag(s.integrations.setConfig(missing, {}, T0)), "IntegrationNotFound")
          sameValue(yield* s.integrations.markFailing(missing, "x", T0), Option.none())

          const deleted = yield* s.integrations.markDeleted(i.id, T0 + 9_000)
          assert.strictEqual(deleted.version, 7)
          assert.strictEqual(yield* failureTag(s.integrations.pause(i.id, T0)), "IntegrationDeleted")
          sameValue(yield* s.integrations.markFailing(i.id, "x", T0 + 10_000), Option.none())
          // deletion is final: deleting again keeps the first deletion
          sameValue(yield* s.integrations.markDeleted(i.id, T0 + 11_000), deleted)
          sameValue(yield* s.integrations.get(i.id), Option.some(deleted))
        }))

      it.effect("integrations: a pause and failing marks made at the same time all land", () =>
        Effect.gen(function*() {
          const s = yield* store
          for (let n = 0; n < 20; n++) {
            const i = yield* setup()
            yield* Effect.all([
              s.integrations.markFailing(i.id, "first", T0 + 1, { ifVersion: 0 }),
              s.integrations.pause(i.id, T0 + 2),
              s.integrations.markFailing(i.id, "second", T0 + 3)
            ], { concurrency: "unbounded" })
            const stored = Option.getOrThrow(yield* s.integrations.get(i.id))
            assert.strictEqual(stored.status, "paused", `round ${n}: the pause was lost`)
            assert.strictEqual(stored.failing, "second", `round ${n}: the unconditional mark was lost`)
          }
        }))

      it.effect("integrations.markDeleted: marks deleted, revokes keys, keeps data and queues", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const key = new Domain.ApiKey({
            id: unique("key"),
            integrationId: i.id,
            tenantId: i.tenantId,
            prefix: "acd_1234",
            hash: unique("hash"),
            createdAt: at(T0),
            revokedAt: null
          })
          yield* s.apiKeys.replace(key)
          yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] })))

          const deleted = yield* s.integrations.markDeleted(i.id, T0 + 60_000)
          assert.strictEqual(deleted.status, "deleted")
          sameValue(deleted.deletedAt, at(T0 + 60_000))
          sameValue(deleted.updatedAt, at(T0 + 60_000))
          sameValue(yield* s.integrations.get(i.id), Option.some(deleted))
          const found = yield* s.apiKeys.findByHash(key.hash)
          assert.isTrue(Option.isSome(found))
          sameValue(Option.getOrThrow(found).revokedAt, at(T0 + 60_000))
          assert.strictEqual((yield* everything(i)).length, 1)
          assert.strictEqual((yield* s.queues.list({ tenantId: i.tenantId, integrationId: i.id })).length, 1)

          assert.strictEqual(
            yield* failureTag(s.integrations.markDeleted(Domain.IntegrationId.make(unique("missing")), T0)),
            "IntegrationNotFound"
          )
        }))

      it.effect("a deleted integration takes no data and can't resume", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.integrations.markDeleted(i.id, T0)
          const b = batch({ contacts: [contact("2026-03-02T09:05:00Z")] })
          assert.strictEqual(yield* failureTag(s.data.ingest(request(i, b))), "IntegrationDeleted")
          assert.strictEqual(yield* failureTag(s.data.ingest(request(i, b, { mode: "pull" }))), "IntegrationDeleted")
          assert.strictEqual(yield* failureTag(s.integrations.resume(i.id, T0)), "IntegrationDeleted")
          assert.strictEqual((yield* everything(i)).length, 0)
          const unknown = integration()
          assert.strictEqual(yield* failureTag(s.data.ingest(request(unknown, b))), "IntegrationNotFound")
          assert.strictEqual(
            yield* failureTag(s.integrations.resume(unknown.id, T0)),
            "IntegrationNotFound"
          )
        }))

      // -----------------------------------------------------------------------
      // queues and workloads
      // -----------------------------------------------------------------------

      it.effect("queues: manual insert, get, list by tenant and integration, delete drops memberships", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const manual = new Domain.Queue({
            id: Domain.QueueId.make(unique("manual")),
            tenantId: i.tenantId,
            integrationId: null,
            identifier: "back-office",
            name: "Back office",
            channel: "back_office",
            createdByIntegration: false,
            createdAt: at(T0)
          })
          yield* s.queues.insert(manual)
          const outcome = yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] })))
          assert.strictEqual(outcome._tag, "Applied")
          const created = outcome._tag === "Applied" ? outcome.createdQueues : []
          assert.strictEqual(created.length, 1)
          const auto = created[0]!
          assert.strictEqual(auto.integrationId, i.id)
          assert.strictEqual(auto.tenantId, i.tenantId)
          assert.isTrue(auto.createdByIntegration)
          sameValue(auto.createdAt, at(T0))

          sameValue(yield* s.queues.get(manual.id), Option.some(manual))
          sameValue(yield* s.queues.get(auto.id), Option.some(auto))
          sameValue((yield* s.queues.list({ tenantId: i.tenantId })).map((q) => q.id), [manual.id, auto.id])
          sameValue((yield* s.queues.list({ tenantId: i.tenantId, integrationId: i.id })).map((q) => q.id), [auto.id])
          sameValue(yield* s.queues.list({ tenantId: Domain.TenantId.make(unique("tenant")) }), [])

          const w1 = new Domain.Workload({
            id: Domain.WorkloadId.make(unique("w")),
            tenantId: i.tenantId,
            name: "Phones",
            queueIds: [auto.id, manual.id],
            createdAt: at(T0)
          })
          const w2 = new Domain.Workload({
            ...w1,
            id: Domain.WorkloadId.make(unique("w")),
            name: "All",
            queueIds: [manual.id]
          })
          yield* s.workloads.insert(w1)
          yield* s.workloads.insert(w2)
          sameValue(
            yield* s.queues.workloadIds([manual.id, auto.id]),
            new Map([[manual.id, [w1.id, w2.id]], [auto.id, [w1.id]]])
          )
          yield* s.queues.delete(manual.id)
          assert.isTrue(Option.isNone(yield* s.queues.get(manual.id)))
          sameValue((yield* s.workloads.get(w1.id)).pipe(Option.map((w) => w.queueIds)), Option.some([auto.id]))
          sameValue((yield* s.workloads.get(w2.id)).pipe(Option.map((w) => w.queueIds)), Option.some([]))
          sameValue(yield* s.queues.workloadIds([manual.id]), new Map([[manual.id, []]]))
        }))

      it.effect("workloads: insert, get, list by tenant, setQueues keeps the given order", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const q = (identifier: string) =>
            new Domain.Queue({
              id: Domain.QueueId.make(unique(identifier)),
              tenantId: i.tenantId,
              integrationId: null,
              identifier,
              name: identifier,
              channel: "chats",
              createdByIntegration: false,
              createdAt: at(T0)
            })
          const [a, b, c] = [q("a"), q("b"), q("c")]
          for (const x of [a, b, c]) yield* s.queues.insert(x)
          const w = new Domain.Workload({
            id: Domain.WorkloadId.make(unique("w")),
            tenantId: i.tenantId,
            name: "Chat",
            queueIds: [c.id, a.id],
            createdAt: at(T0)
          })
          yield* s.workloads.insert(w)
          sameValue(yield* s.workloads.get(w.id), Option.some(w))
          yield* s.workloads.setQueues(w.id, [b.id, c.id, a.id])
          sameValue((yield* s.workloads.get(w.id)).pipe(Option.map((x) => x.queueIds)), Option.some([b.id, c.id, a.id]))
          sameValue((yield* s.workloads.list(i.tenantId)).map((x) => x.id), [w.id])
          sameValue(yield* s.workloads.list(Domain.TenantId.make(unique("tenant"))), [])
          const missing = Domain.WorkloadId.make(unique("w"))
          yield* s.workloads.setQueues(missing, [a.id])
          assert.isTrue(Option.isNone(yield* s.workloads.get(missing)))
        }))

      it.effect("queue identity is integration + identifier + name; the channel of first sight stays", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const first = yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] })))
          const again = yield* s.data.ingest(
            request(i, batch({ contacts: [contact("2026-03-02T09:06:00Z", { channel: "emails" })] }))
          )
          const renamed = yield* s.data.ingest(
            request(i, batch({ contacts: [contact("2026-03-02T09:07:00Z", { queueName: "Level One" })] }))
          )
          const other = yield* setup({ tenantId: i.tenantId })
          const otherIntegration = yield* s.data.ingest(
            request(other, batch({ contacts: [contact("2026-03-02T09:07:00Z")] }))
          )
          const created = (o: Storage.IngestOutcome) => (o._tag === "Applied" ? o.createdQueues : [])
          assert.strictEqual(created(first).length, 1)
          assert.strictEqual(created(again).length, 0)
          assert.strictEqual(created(renamed).length, 1)
          assert.strictEqual(created(otherIntegration).length, 1)
          const queues = yield* s.queues.list({ tenantId: i.tenantId, integrationId: i.id })
          sameValue(queues.map((q) => [q.identifier, q.name, q.channel]), [["q1", "Level 1", "calls"], [
            "q1",
            "Level One",
            "calls"
          ]])
          assert.notStrictEqual(created(first)[0]!.id, created(renamed)[0]!.id)
          assert.notStrictEqual(created(first)[0]!.id, created(otherIntegration)[0]!.id)
          // the emails event went to the first queue, in its own channel row
          const rows = yield* everything(i)
          sameValue(
            rows.map((r) => [r.queueId, r.channel, r.offered]).sort((a, b) => String(a).localeCompare(String(b))),
            [
              [created(first)[0]!.id, "calls", 1],
              [created(first)[0]!.id, "emails", 1],
              [created(renamed)[0]!.id, "calls", 1]
            ].sort((a, b) => String(a).localeCompare(String(b)))
          )
        }))

      it.effect("a queue made by hand never takes an integration's data, even with the same identity", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const manual = new Domain.Queue({
            id: Domain.QueueId.make(unique("manual")),
            tenantId: i.tenantId,
            integrationId: i.id,
            identifier: "q1",
            name: "Level 1",
            channel: "calls",
            createdByIntegration: false,
            createdAt: at(T0)
          })
          yield* s.queues.insert(manual)
          const outcome = yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] })))
          const created = outcome._tag === "Applied" ? outcome.createdQueues : []
          assert.strictEqual(created.length, 1)
          assert.notStrictEqual(created[0]!.id, manual.id)
          sameValue((yield* everything(i)).map((r) => r.queueId), [created[0]!.id])
        }))

      // -----------------------------------------------------------------------
      // mappings, keys, tokens, runs, cursors
      // -----------------------------------------------------------------------

      it.effect("mappings: upsert by external id, others stay, first-insertion order", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.mappings.putAgents(i.id, [{ externalId: "a-1", employeeId: "e-1" }, {
            externalId: "a-2",
            employeeId: "e-2"
          }])
          yield* s.mappings.putAgents(i.id, [{ externalId: "a-3", employeeId: "e-3" }, {
            externalId: "a-1",
            employeeId: "e-9"
          }])
          sameValue(yield* s.mappings.agents(i.id), [
            { externalId: "a-1", employeeId: "e-9" },
            { externalId: "a-2", employeeId: "e-2" },
            { externalId: "a-3", employeeId: "e-3" }
          ])
          yield* s.mappings.putActivities(i.id, [{ externalId: "BREAK", activityId: "act-1" }])
          yield* s.mappings.putActivities(i.id, [{ externalId: "BREAK", activityId: "act-2" }])
          sameValue(yield* s.mappings.activities(i.id), [{ externalId: "BREAK", activityId: "act-2" }])
          const other = yield* setup()
          sameValue(yield* s.mappings.agents(other.id), [])
          sameValue(yield* s.mappings.activities(other.id), [])
        }))

      it.effect("mappings.lookup: the asked ids' mappings only, each kind apart, this integration's", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const other = yield* setup()
          // ids JSON or SQL would have to escape, and one external id that is both an agent and an activity
          const odd = ["a\"1", "a'2", "ä 3 ✓", "SAME"]
          yield* s.mappings.putAgents(i.id, [
            ...odd.map((externalId, n) => ({ externalId, employeeId: `e-${n}` })),
            ...Array.from({ length: 1_500 }, (_, n) => ({ externalId: `agent-${n}`, employeeId: `employee-${n}` }))
          ])
          yield* s.mappings.putActivities(i.id, [{ externalId: "SAME", activityId: "act-same" }, {
            externalId: "BREAK",
            activityId: "act-break"
          }])
          yield* s.mappings.putAgents(other.id, [{ externalId: "agent-7", employeeId: "other-7" }])
          const asList = (m: ReadonlyMap<string, string>) => Array.from(m).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
          const found = yield* s.mappings.lookup(i.id, {
            agents: [...odd, "agent-7", "agent-1499", "unmapped", "agent-7"],
            activities: ["SAME", "READY"]
          })
          sameValue(
            asList(found.agents),
            [["SAME", "e-3"], ["a\"1", "e-0"], ["a'2", "e-1"], ["agent-1499", "employee-1499"], ["agent-7", "employee-7"], [
              "ä 3 ✓",
              "e-2"
            ]]
          )
          sameValue(asList(found.activities), [["SAME", "act-same"]])
          // every id of a large site at once
          const all = yield* s.mappings.lookup(i.id, {
            agents: Array.from({ length: 1_500 }, (_, n) => `agent-${n}`),
            activities: []
          })
          assert.strictEqual(all.agents.size, 1_500)
          assert.strictEqual(all.agents.get("agent-1234"), "employee-1234")
          assert.strictEqual(all.activities.size, 0)
          sameValue(asList((yield* s.mappings.lookup(other.id, { agents: ["agent-7", "SAME"], activities: ["SAME"] })).agents), [[
            "agent-7",
            "other-7"
          ]])
          const none = yield* s.mappings.lookup(i.id, { agents: [], activities: [] })
          assert.strictEqual(none.agents.size + none.activities.size, 0)
        }))

      it.effect("apiKeys: replace revokes the live key; findByHash", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const first = new Domain.ApiKey({
            id: unique("key"),
            integrationId: i.id,
            tenantId: i.tenantId,
            prefix: "acd_aaaa",
            hash: unique("hash"),
            createdAt: at(T0),
            revokedAt: null
          })
          const second = new Domain.ApiKey({
            ...first,
            id: unique("key"),
            prefix: "acd_bbbb",
            hash: unique("hash"),
            createdAt: at(T0 + 5_000)
          })
          yield* s.apiKeys.replace(first)
          sameValue(yield* s.apiKeys.findByHash(first.hash), Option.some(first))
          yield* s.apiKeys.replace(second)
          sameValue(
            yield* s.apiKeys.findByHash(first.hash),
            Option.some(new Domain.ApiKey({ ...first, revokedAt: at(T0 + 5_000) }))
          )
          sameValue(yield* s.apiKeys.findByHash(second.hash), Option.some(second))
          assert.isTrue(Option.isNone(yield* s.apiKeys.findByHash(unique("nope"))))
        }))

      it.effect("accessTokens: insert, findByHash, revoke once", () =>
        Effect.gen(function*() {
          const s = yield* store
          const token = new Domain.AccessToken({
            id: unique("pat"),
            tenantId: Domain.TenantId.make(unique("tenant")),
            userId: Domain.UserId.make("user-1"),
            name: "laptop",
            prefix: "pat_1234",
            hash: unique("hash"),
            createdAt: at(T0),
            revokedAt: null
          })
          yield* s.accessTokens.insert(token)
          sameValue(yield* s.accessTokens.findByHash(token.hash), Option.some(token))
          yield* s.accessTokens.revoke(token.id, T0 + 1_000)
          yield* s.accessTokens.revoke(token.id, T0 + 2_000)
          sameValue(
            yield* s.accessTokens.findByHash(token.hash),
            Option.some(new Domain.AccessToken({ ...token, revokedAt: at(T0 + 1_000) }))
          )
          assert.isTrue(Option.isNone(yield* s.accessTokens.findByHash(unique("nope"))))
        }))

      it.effect("accessTokens: get by id, list a tenant's tokens oldest first (revoked ones included)", () =>
        Effect.gen(function*() {
          const s = yield* store
          const tenantId = Domain.TenantId.make(unique("tenant"))
          const make = (n: number, tenant = tenantId) =>
            new Domain.AccessToken({
              id: unique("pat"),
              tenantId: tenant,
              userId: Domain.UserId.make(`user-${n}`),
              name: `token ${n}`,
              prefix: `acdp_${n}`,
              hash: unique("hash"),
              createdAt: at(T0 + n * 1_000),
              revokedAt: null
            })
          const [second, first, other] = [make(2), make(1), make(3, Domain.TenantId.make(unique("tenant")))]
          for (const t of [second, first, other]) yield* s.accessTokens.insert(t)
          yield* s.accessTokens.revoke(second.id, T0 + 5_000)
          sameValue(yield* s.accessTokens.get(first.id), Option.some(first))
          assert.isTrue(Option.isNone(yield* s.accessTokens.get(unique("nope"))))
          sameValue(
            yield* s.accessTokens.list(tenantId),
            [first, new Domain.AccessToken({ ...second, revokedAt: at(T0 + 5_000) })]
          )
          sameValue(yield* s.accessTokens.list(Domain.TenantId.make(unique("empty"))), [])
        }))

      it.effect("runs: newest first, limited, problems kept", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const run = (n: number, extra: Partial<ConstructorParameters<typeof Domain.ImportRun>[0]> = {}) =>
            new Domain.ImportRun({
              id: Domain.ImportRunId.make(unique("run")),
              integrationId: i.id,
              kind: "pull",
              windowStart: at(T0),
              windowEnd: at(T0 + 15 * MIN),
              read: 10 + n,
              applied: 9 + n,
              rejected: 1,
              startedAt: at(T0 + n * 1_000),
              durationMs: 40,
              error: null,
              problems: [{ record: "3", field: "timestamp", reason: "not a date" }],
              ...extra
            })
          const runs = [run(1), run(3, { error: "timeout", windowStart: null, windowEnd: null, problems: [] }), run(2)]
          for (const r of runs) yield* s.runs.insert(r)
          sameValue(yield* s.runs.list(i.id, 10), [runs[1], runs[2], runs[0]])
          sameValue(yield* s.runs.list(i.id, 2), [runs[1], runs[2]])
          sameValue(yield* s.runs.list((yield* setup()).id, 10), [])
        }))

      it.effect("retention: old runs go except each integration's newest; old idempotency records go; data stays", () =>
        Effect.gen(function*() {
          const s = yield* store
          // ten years before every other case's rows, so the cutoffs touch only this case's
          const OLD = T0 - 3_650 * 86_400_000
          const [a, b] = [yield* setup(), yield* setup()]
          const run = (i: Domain.Integration, n: number) =>
            new Domain.ImportRun({
              id: Domain.ImportRunId.make(unique("run")),
              integrationId: i.id,
              kind: "pull",
              windowStart: null,
              windowEnd: null,
              read: n,
              applied: n,
              rejected: 0,
              startedAt: at(OLD + n * 1_000),
              durationMs: 1,
              error: null,
              problems: []
            })
          const runsA = [0, 1, 2, 3, 4].map((n) => run(a, n))
          const runsB = [0, 1].map((n) => run(b, n))
          for (const r of [...runsA, ...runsB]) yield* s.runs.insert(r)
          // data and an idempotency record from long ago, one from later
          const old = batch({ contacts: [contact("2016-03-02T09:05:00Z")] })
          const idem = (key: string) => ({ key, requestHash: "h", ttlMs: 100 * 365 * 86_400_000 })
          assert.strictEqual(
            (yield* s.data.ingest(request(a, old, { idempotency: idem("old"), now: OLD })))._tag,
            "Applied"
          )
          assert.strictEqual(
            (yield* s.data.ingest(request(a, old, { idempotency: idem("newer"), now: OLD + 10_000 })))._tag,
            "Applied"
          )
          const before = yield* everything(a)
          const result = yield* s.retention.prune({
            runsBefore: OLD + 3_500,
            keepRuns: 2,
            idempotencyBefore: OLD + 5_000
          })
          // a: runs 0, 1, 2 are old and not among its two newest (3, 4); b keeps both (its two newest)
          assert.deepStrictEqual(result, { runs: 3, idempotencyKeys: 1 })
          sameValue(yield* s.runs.list(a.id, 10), [runsA[4], runsA[3]])
          sameValue(yield* s.runs.list(b.id, 10), [runsB[1], runsB[0]])
          // interval data stays
          sameValue(yield* everything(a), before)
          // the old key is free again, the newer one still answers with its first outcome
          assert.strictEqual(
            (yield* s.data.ingest(request(a, old, { idempotency: idem("newer"), now: OLD + 20_000 })))._tag,
            "Replayed"
          )
          assert.strictEqual(
            (yield* s.data.ingest(request(a, old, { idempotency: idem("old"), now: OLD + 20_000 })))._tag,
            "Applied"
          )
          // at least one run always stays, and a second prune finds nothing more
          const again = yield* s.retention.prune({ runsBefore: OLD + 100_000, keepRuns: 0, idempotencyBefore: OLD })
          assert.strictEqual(again.runs, 2)
          sameValue(yield* s.runs.list(a.id, 10), [runsA[4]])
          sameValue(yield* s.runs.list(b.id, 10), [runsB[1]])
          assert.deepStrictEqual(
            yield* s.retention.prune({ runsBefore: OLD + 100_000, keepRuns: 1, idempotencyBefore: OLD }),
            { runs: 0, idempotencyKeys: 0 }
          )
        }))

      it.effect("runs: a request's run is written with the batch it describes; the store sets its duration", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          // a real clock (test services are excluded), so the duration is measured from now
          const now = yield* Clock.currentTimeMillis
          const pushRun = ingestRun(i, now, { read: 2, applied: 2 })
          const pushed = yield* s.data.ingest(request(
            i,
            batch({ contacts: [contact("2026-03-02T09:05:00Z"), contact("2026-03-02T09:20:00Z")] }),
            { run: pushRun, now }
          ))
          assert.strictEqual(pushed._tag, "Applied")
          const window = { from: ms("2026-03-02T10:00:00Z"), to: ms("2026-03-02T11:00:00Z") }
          const pullRun = ingestRun(i, now + 1, {
            kind: "reimport",
            windowStart: at(window.from),
            windowEnd: at(window.to),
            read: 3,
            applied: 1,
            rejected: 2,
            problems: [{ record: "file.csv:4", field: "timestamp", reason: "not a date" }]
          })
          const pulled = yield* s.data.ingest(request(
            i,
            batch({ statuses: [status("a-1", "READY", "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z")] }),
            {
              mode: "pull",
              replaceWindow: window,
              watermark: { stream: "contacts", value: window.to },
              run: pullRun,
              now
            }
          ))
          assert.strictEqual(pulled._tag, "Applied")
          sameValue(yield* storedRuns(i), [pushRun, pullRun])
          const finished = yield* Clock.currentTimeMillis
          for (const run of yield* s.runs.list(i.id, 10)) {
            // from startedAt to the write, by the store's clock: never negative, never past now
            assert.isAtLeast(run.durationMs, 0)
            assert.isAtMost(run.durationMs, finished - DateTime.toEpochMillis(run.startedAt))
          }
          // an empty window is still a run (the window was imported and had nothing)
          const emptyRun = ingestRun(i, now + 2, { kind: "pull", read: 0, applied: 0 })
          yield* s.data.ingest(
            request(i, Domain.emptyBatch, { mode: "pull", replaceWindow: window, run: emptyRun, now })
          )
          assert.strictEqual((yield* storedRuns(i)).length, 3)
        }))

      it.effect("runs: a request that is replayed, staged or refused writes no run", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const b = batch({ contacts: [contact("2026-03-02T09:05:00Z")] })
          const idem = { key: "req-1", requestHash: "h1", ttlMs: 24 * 60 * MIN }
          const first = ingestRun(i, T0)
          assert.strictEqual((yield* s.data.ingest(request(i, b, { idempotency: idem, run: first })))._tag, "Applied")
          // a repeat applies nothing, so it records nothing: the first run stands alone
          const replayed = yield* s.data.ingest(
            request(i, b, { idempotency: idem, now: T0 + 1, run: ingestRun(i, T0 + 1) })
          )
          assert.strictEqual(replayed._tag, "Replayed")
          assert.strictEqual(
            yield* failureTag(s.data.ingest(request(i, b, {
              idempotency: { ...idem, requestHash: "h2" },
              now: T0 + 2,
              run: ingestRun(i, T0 + 2)
            }))),
            "IdempotencyKeyReused"
          )
          sameValue(yield* storedRuns(i), [first])
          sameValue((yield* totals(i))["offered"], 1)

          // paused: a staged push is not applied yet, a pull is refused, a full stage refuses
          yield* s.integrations.pause(i.id, T0)
          const staged = yield* s.data.ingest(request(i, b, { stagingLimit: 1, run: ingestRun(i, T0 + 3) }))
          assert.strictEqual(staged._tag, "Staged")
          const stagedIdem = { key: "req-2", requestHash: "h", ttlMs: idem.ttlMs }
          assert.strictEqual(
            yield* failureTag(s.data.ingest(request(i, b, { stagingLimit: 1, run: ingestRun(i, T0 + 4) }))),
            "StagingFull"
          )
          assert.strictEqual(
            yield* failureTag(s.data.ingest(request(i, b, {
              mode: "pull",
              watermark: { stream: "contacts", value: T0 },
              run: ingestRun(i, T0 + 5, { kind: "pull" })
            }))),
            "IntegrationNotActive"
          )
          sameValue(yield* storedRuns(i), [first])
          assert.isTrue(Option.isNone(yield* s.cursors.get(i.id, "contacts")))

          // resume applies the staged batch; without a run of its own it records nothing either
          const resumed = yield* s.integrations.resume(i.id, T0 + 6)
          assert.strictEqual(resumed.applied, 1)
          sameValue(yield* storedRuns(i), [first])
          sameValue((yield* totals(i))["offered"], 2)
          // a replay of a staged request, after resume, records nothing either
          yield* s.integrations.pause(i.id, T0)
          assert.strictEqual(
            (yield* s.data.ingest(request(i, b, { idempotency: stagedIdem, run: ingestRun(i, T0 + 7) })))._tag,
            "Staged"
          )
          sameValue(
            yield* s.data.ingest(request(i, b, { idempotency: stagedIdem, now: T0 + 8, run: ingestRun(i, T0 + 8) })),
            { _tag: "Replayed", accepted: 1, outcome: "Staged" }
          )
          sameValue(yield* storedRuns(i), [first])
        }))

      it.effect("runs: a run that can't be written fails the request and leaves none of its data", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const taken = new Domain.ImportRun({ ...ingestRun(i, T0), durationMs: 5 })
          yield* s.runs.insert(taken)
          // run ids are unique, also for runs recorded on their own
          assert.strictEqual(yield* failureTag(s.runs.insert(taken)), "StorageError")

          // the run is written last, after the data: its failure must undo all of it
          const idem = { key: "req-1", requestHash: "h1", ttlMs: 24 * 60 * MIN }
          const failed = yield* failureTag(s.data.ingest(request(
            i,
            batch({
              contacts: [contact("2026-03-02T09:05:00Z", { queueIdentifier: "new", queueName: "New queue" })],
              aggregates: [aggregate("2026-03-02T10:00:00Z", 15, { offered: 4 })],
              statuses: [status("a-1", "READY", "2026-03-02T09:00:00Z", null)]
            }),
            {
              mode: "pull",
              replaceWindow: { from: ms("2026-03-02T08:00:00Z"), to: ms("2026-03-02T12:00:00Z") },
              watermark: { stream: "contacts", value: ms("2026-03-02T12:00:00Z") },
              idempotency: idem,
              run: ingestRun(i, T0 + 1, { id: taken.id })
            }
          )))
          assert.strictEqual(failed, "StorageError")
          assert.strictEqual((yield* everything(i)).length, 0)
          assert.strictEqual((yield* allSegments(i)).length, 0)
          assert.strictEqual((yield* s.queues.list({ tenantId: i.tenantId })).length, 0)
          assert.isTrue(Option.isNone(yield* s.cursors.get(i.id, "contacts")))
          sameValue(yield* s.runs.list(i.id, 10), [taken])
          // nor was the idempotency record kept: the key is still free
          const retried = yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] }), {
            idempotency: { ...idem, requestHash: "h2" },
            run: ingestRun(i, T0 + 2)
          }))
          assert.strictEqual(retried._tag, "Applied")
          assert.strictEqual((yield* storedRuns(i)).length, 2)
        }))

      it.effect("runs: a resume writes one run of kind resume with the staged data; an empty one writes none", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup({ status: "paused" })
          yield* s.data.ingest(request(i, batch({
            contacts: [contact("2026-03-02T09:05:00Z"), contact("2026-03-02T09:20:00Z")]
          }), { run: ingestRun(i, T0) }))
          yield* s.data.ingest(request(i, batch({
            statuses: [status("a-1", "READY", "2026-03-02T09:00:00Z", null)]
          }), { run: ingestRun(i, T0 + 1) }))
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 3)
          sameValue(yield* storedRuns(i), [])

          // a real clock (test services are excluded), so the duration is measured from now
          const started = yield* Clock.currentTimeMillis
          const run = { id: Domain.ImportRunId.make(unique("run")), startedAt: at(started) }
          const resumed = yield* s.integrations.resume(i.id, started, run)
          assert.strictEqual(resumed.applied, 3)
          const finished = yield* Clock.currentTimeMillis
          sameValue(yield* storedRuns(i), [{
            id: run.id,
            integrationId: i.id,
            kind: "resume",
            windowStart: null,
            windowEnd: null,
            read: 3,
            applied: 3,
            rejected: 0,
            startedAt: run.startedAt,
            error: null,
            problems: []
          }])
          const [written] = yield* s.runs.list(i.id, 10)
          assert.isAtLeast(written!.durationMs, 0)
          assert.isAtMost(written!.durationMs, finished - started)

          // nothing staged: the resume still activates, but no run is written, and its id stays free
          yield* s.integrations.pause(i.id, T0)
          const empty = { id: Domain.ImportRunId.make(unique("run")), startedAt: at(started + 1) }
          const again = yield* s.integrations.resume(i.id, started + 1, empty)
          assert.strictEqual(again.applied, 0)
          assert.strictEqual(again.integration.status, "active")
          assert.strictEqual((yield* storedRuns(i)).length, 1)
          yield* s.runs.insert(new Domain.ImportRun({ ...ingestRun(i, T0 + 2, { id: empty.id }), durationMs: 0 }))
          assert.strictEqual((yield* storedRuns(i)).length, 2)
        }))

      it.effect("runs: a resume whose run can't be written applies nothing and stays paused", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup({ status: "paused" })
          const taken = new Domain.ImportRun({ ...ingestRun(i, T0), durationMs: 5 })
          yield* s.runs.insert(taken)
          yield* s.data.ingest(request(i, batch({
            contacts: [contact("2026-03-02T09:05:00Z", { queueIdentifier: "new", queueName: "New queue" })],
            aggregates: [aggregate("2026-03-02T10:00:00Z", 15, { offered: 4 })],
            statuses: [status("a-1", "READY", "2026-03-02T09:00:00Z", null)]
          })))

          // the run is written last, after the staged data: its failure must undo all of it
          const failed = yield* failureTag(
            s.integrations.resume(i.id, T0 + 1, { id: taken.id, startedAt: at(T0 + 1) })
          )
          assert.strictEqual(failed, "StorageError")
          sameValue((yield* s.integrations.get(i.id)).pipe(Option.map((x) => x.status)), Option.some("paused"))
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 3)
          assert.strictEqual((yield* everything(i)).length, 0)
          assert.strictEqual((yield* allSegments(i)).length, 0)
          assert.strictEqual((yield* s.queues.list({ tenantId: i.tenantId })).length, 0)
          sameValue(yield* s.runs.list(i.id, 10), [taken])

          // with a free id the same resume applies everything once
          const run = { id: Domain.ImportRunId.make(unique("run")), startedAt: at(T0 + 2) }
          const resumed = yield* s.integrations.resume(i.id, T0 + 2, run)
          assert.strictEqual(resumed.applied, 3)
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 0)
          sameValue((yield* totals(i))["offered"], 5)
          assert.strictEqual((yield* allSegments(i)).length, 1)
          sameValue((yield* storedRuns(i)).map((r) => [r.id, r.kind, r.read, r.applied]), [
            [taken.id, "push", 1, 1],
            [run.id, "resume", 3, 3]
          ])
        }))

      it.effect("cursors: get, set, overwrite, list", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          assert.isTrue(Option.isNone(yield* s.cursors.get(i.id, "contacts")))
          yield* s.cursors.set(i.id, "contacts", 1_000)
          yield* s.cursors.set(i.id, "statuses", 2_000)
          yield* s.cursors.set(i.id, "contacts", 3_000)
          sameValue(yield* s.cursors.get(i.id, "contacts"), Option.some(3_000))
          sameValue(
            Array.from(yield* s.cursors.list(i.id)).sort(),
            [["contacts", 3_000], ["statuses", 2_000]]
          )
          assert.strictEqual((yield* s.cursors.list((yield* setup()).id)).size, 0)
        }))

      it.effect("cursors: listMany reads the named streams of many integrations at once", () =>
        Effect.gen(function*() {
          const s = yield* store
          const a = yield* setup()
          const b = yield* setup()
          const none = yield* setup()
          yield* s.cursors.set(a.id, "backfill.reimport.from", 1_000)
          yield* s.cursors.set(a.id, "backfill.reimport.to", 2_000)
          yield* s.cursors.set(a.id, "contacts", 5)
          yield* s.cursors.set(b.id, "backfill.reimport.to", 7_000)
          yield* s.cursors.set(none.id, "contacts", 9)
          const read = yield* s.cursors.listMany([a.id, b.id, none.id], ["backfill.reimport.from", "backfill.reimport.to"])
          sameValue(
            Array.from(read, ([id, values]) => [id, Array.from(values).sort()] as const).sort(),
            [
              [a.id, [["backfill.reimport.from", 1_000], ["backfill.reimport.to", 2_000]]],
              [b.id, [["backfill.reimport.to", 7_000]]]
            ].sort()
          )
          assert.strictEqual((yield* s.cursors.listMany([], ["contacts"])).size, 0)
          assert.strictEqual((yield* s.cursors.listMany([a.id], [])).size, 0)
          // more than one read's worth of integrations (the driver reads at most 1,000 at once)
          const many = Array.from({ length: 1_001 }, () => Domain.IntegrationId.make(globalThis.crypto.randomUUID()))
          const all = yield* s.cursors.listMany([...many, b.id], ["backfill.reimport.to"])
          sameValue(Array.from(all.keys()), [b.id])
        }))

      it.effect("cursors: compare-and-set writes only over the expected value", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          // none yet: only a writer that expects none writes
          assert.isFalse(yield* s.cursors.compareAndSet(i.id, "lease", Option.some(1), 2))
          assert.isTrue(yield* s.cursors.compareAndSet(i.id, "lease", Option.none(), 1))
          assert.isFalse(yield* s.cursors.compareAndSet(i.id, "lease", Option.none(), 5))
          assert.isTrue(yield* s.cursors.compareAndSet(i.id, "lease", Option.some(1), 2))
          assert.isFalse(yield* s.cursors.compareAndSet(i.id, "lease", Option.some(1), 3))
          sameValue(yield* s.cursors.get(i.id, "lease"), Option.some(2))
          // of writers racing from the same value, exactly one wins
          const wins = yield* Effect.all(
            Array.from({ length: 8 }, (_, n) => s.cursors.compareAndSet(i.id, "lease", Option.some(2), 10 + n)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(wins.filter((won) => won).length, 1)
          sameValue(yield* s.cursors.get(i.id, "lease"), Option.some(10 + wins.indexOf(true)))
        }))

      it.effect("cursors: commit writes all or nothing, only while every cursor is as expected", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.cursors.set(i.id, "incremental", 1_000)
          const seen = yield* s.cursors.list(i.id)
          assert.isTrue(yield* s.cursors.commit(i.id, { expected: seen, writes: [["history.from", 5], ["history.to", 9]] }))
          sameValue(Array.from(yield* s.cursors.list(i.id)).sort(), [
            ["history.from", 5],
            ["history.to", 9],
            ["incremental", 1_000]
          ])
          // what was read before that commit is stale now: nothing is written
          assert.isFalse(yield* s.cursors.commit(i.id, { expected: seen, writes: [["history.from", 7]] }))
          sameValue(yield* s.cursors.get(i.id, "history.from"), Option.some(5))
          // a stream that appeared since the read makes it stale too
          const before = yield* s.cursors.list(i.id)
          yield* s.cursors.set(i.id, "realtime", 1)
          assert.isFalse(yield* s.cursors.commit(i.id, { expected: before, writes: [["incremental", 2_000]] }))
          sameValue(yield* s.cursors.get(i.id, "incremental"), Option.some(1_000))
          // of commits racing from the same read, exactly one lands
          const now = yield* s.cursors.list(i.id)
          const landed = yield* Effect.all(
            Array.from({ length: 6 }, (_, n) => s.cursors.commit(i.id, { expected: now, writes: [["incremental", n]] })),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(landed.filter((x) => x).length, 1)
          sameValue(yield* s.cursors.get(i.id, "incremental"), Option.some(landed.indexOf(true)))
        }))

      // -----------------------------------------------------------------------
      // contact data
      // -----------------------------------------------------------------------

      it.effect("contact events add up per queue, channel and quarter-hour (abandons, short abandons and breakouts apart)", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const first = yield* s.data.ingest(request(
            i,
            batch({
              contacts: [
                contact("2026-03-02T09:00:00Z", { durationMs: 100_000, talkMs: 80_000, holdMs: 5_000 }),
                contact("2026-03-02T09:14:59.999Z", {
                  handled: false,
                  durationMs: 30_000,
                  abandoned: true,
                  shortAbandoned: true,
                  waitMs: 30_000
                }),
                contact("2026-03-02T09:15:00Z", { offered: false, durationMs: 50_000, afterCallWorkMs: 7_000 })
              ]
            })
          ))
          assert.strictEqual(first._tag, "Applied")
          if (first._tag === "Applied") assert.strictEqual(first.accepted, 3)
          yield* s.data.ingest(request(
            i,
            batch({
              contacts: [
                contact("2026-03-02T09:07:00Z", { durationMs: 20_000, answeredInThreshold: true }),
                contact("2026-03-02T09:16:00Z", { handled: false, durationMs: 1_000, breakout: true })
              ]
            })
          ))
          const rows = yield* everything(i)
          const queueId = rows[0]!.queueId
          sameValue(rows, [
            {
              integrationId: i.id,
              queueId,
              channel: "calls",
              start: ms("2026-03-02T09:00:00Z"),
              lengthMinutes: 15,
              offered: 3,
              handled: 2,
              handlingMs: 120_000,
              unhandledMs: 30_000,
              talkMs: 80_000,
              holdMs: 5_000,
              afterCallWorkMs: 0,
              waitMs: 30_000,
              abandoned: 1,
              shortAbandoned: 1,
              breakout: 0,
              answeredInThreshold: 1
            },
            {
              integrationId: i.id,
              queueId,
              channel: "calls",
              start: ms("2026-03-02T09:15:00Z"),
              lengthMinutes: 15,
              offered: 1,
              handled: 1,
              handlingMs: 50_000,
              unhandledMs: 1_000,
              talkMs: 0,
              holdMs: 0,
              afterCallWorkMs: 7_000,
              waitMs: 0,
              abandoned: 0,
              shortAbandoned: 0,
              breakout: 1,
              answeredInThreshold: 0
            }
          ])
        }))

      it.effect("intervalStats: rows starting in [from, to), filtered by integration and queue", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const other = yield* setup({ tenantId: i.tenantId })
          yield* s.data.ingest(request(
            i,
            batch({
              contacts: [
                contact("2026-03-02T09:00:00Z"),
                contact("2026-03-02T09:15:00Z"),
                contact("2026-03-02T09:30:00Z", { queueIdentifier: "q2", queueName: "Level 2" })
              ]
            })
          ))
          yield* s.data.ingest(request(other, batch({ contacts: [contact("2026-03-02T09:15:00Z")] })))
          const query = (q: Partial<Storage.IntervalStatQuery>) =>
            s.data.intervalStats({
              tenantId: i.tenantId,
              from: ms("2026-03-02T09:15:00Z"),
              to: ms("2026-03-02T09:30:00Z"),
              ...q
            })
          assert.strictEqual((yield* query({})).length, 2)
          const mine = yield* query({ integrationId: i.id })
          assert.strictEqual(mine.length, 1)
          assert.strictEqual(mine[0]!.integrationId, i.id)
          assert.strictEqual((yield* query({ to: ms("2026-03-02T09:30:00.001Z"), integrationId: i.id })).length, 2)
          const q2 = (yield* s.queues.list({ tenantId: i.tenantId, integrationId: i.id })).find((q) =>
            q.identifier === "q2"
          )!
          const byQueue = yield* query({ queueIds: [q2.id], to: ms("2026-03-02T10:00:00Z") })
          sameValue(byQueue.map((r) => [r.queueId, r.start]), [[q2.id, ms("2026-03-02T09:30:00Z")]])
          sameValue(yield* query({ queueIds: [] }), [])
        }))

      it.effect("an interval aggregate replaces the row at its start and the finer rows inside it", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.data.ingest(request(
            i,
            batch({
              contacts: [
                contact("2026-03-02T09:01:00Z"),
                contact("2026-03-02T09:16:00Z"),
                contact("2026-03-02T09:31:00Z")
              ]
            })
          ))
          yield* s.data.ingest(request(
            i,
            batch({
              aggregates: [aggregate("2026-03-02T09:00:00Z", 30, { offered: 10, handled: 8, handlingMs: 800_000 })]
            })
          ))
          let rows = yield* everything(i)
          sameValue(rows.map((r) => [r.start, r.lengthMinutes, r.offered, r.handled, r.handlingMs]), [
            [ms("2026-03-02T09:00:00Z"), 30, 10, 8, 800_000],
            [ms("2026-03-02T09:30:00Z"), 15, 1, 1, 120_000]
          ])
          // a second import of the same interval replaces, never adds
          yield* s.data.ingest(request(
            i,
            batch({
              aggregates: [aggregate("2026-03-02T09:00:00Z", 30, { offered: 12, handled: 9, handlingMs: 900_000 })]
            })
          ))
          // contact events on top of an aggregate add to it and keep its length
          yield* s.data.ingest(
            request(i, batch({ contacts: [contact("2026-03-02T09:00:30Z", { durationMs: 1_000 })] }))
          )
          rows = yield* everything(i)
          sameValue(rows.map((r) => [r.start, r.lengthMinutes, r.offered, r.handled, r.handlingMs]), [
            [ms("2026-03-02T09:00:00Z"), 30, 13, 10, 901_000],
            [ms("2026-03-02T09:30:00Z"), 15, 1, 1, 120_000]
          ])
          // in one batch, a later aggregate wins over earlier ones inside its interval
          yield* s.data.ingest(request(
            i,
            batch({
              aggregates: [
                aggregate("2026-03-02T10:15:00Z", 15, { offered: 1 }),
                aggregate("2026-03-02T10:00:00Z", 60, { offered: 4 }),
                aggregate("2026-03-02T10:30:00Z", 15, { offered: 2 })
              ]
            })
          ))
          rows = yield* s.data.intervalStats({
            tenantId: i.tenantId,
            from: ms("2026-03-02T10:00:00Z"),
            to: ms("2026-03-02T11:00:00Z")
          })
          sameValue(rows.map((r) => [r.start, r.lengthMinutes, r.offered]), [
            [ms("2026-03-02T10:00:00Z"), 60, 4],
            [ms("2026-03-02T10:30:00Z"), 15, 2]
          ])
        }))

      it.effect("a pull expecting cursors applies only while they hold; a moved one fails CursorsMoved, nothing applied", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const window = { from: ms("2026-03-02T09:00:00Z"), to: ms("2026-03-02T09:30:00Z") }
          yield* s.cursors.set(i.id, "backfill.reimport.next", window.from)
          yield* s.cursors.set(i.id, "retry.attempts", 2)
          const planned = new Map([["backfill.reimport.next", window.from]])
          const pull = (expectedCursors: ReadonlyMap<string, number>) =>
            s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] }), {
              mode: "pull",
              replaceWindow: window,
              watermark: { stream: "backfill.reimport.next", value: window.to },
              expectedCursors,
              run: ingestRun(i, T0 + 1, { kind: "pull" })
            }))
          // another writer moved the planned cursor: nothing of the window is written
          yield* s.cursors.set(i.id, "backfill.reimport.next", window.from - 3_600_000)
          assert.strictEqual(yield* failureTag(pull(planned)), "CursorsMoved")
          sameValue(yield* everything(i), [])
          sameValue(yield* storedRuns(i), [])
          sameValue(yield* s.cursors.get(i.id, "backfill.reimport.next"), Option.some(window.from - 3_600_000))
          // a stream not named (the failure streak) is not compared
          yield* s.cursors.set(i.id, "retry.attempts", 0)
          const now = new Map([["backfill.reimport.next", window.from - 3_600_000]])
          assert.strictEqual((yield* pull(now))._tag, "Applied")
          sameValue((yield* everything(i)).map((r) => [r.start, r.offered]), [[ms("2026-03-02T09:00:00Z"), 1]])
          sameValue(yield* s.cursors.get(i.id, "backfill.reimport.next"), Option.some(window.to))
        }))

      it.effect("a pull with replaceWindow replaces the window's data and commits the watermark", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const windowBatch = batch({
            contacts: [contact("2026-03-02T09:05:00Z"), contact("2026-03-02T09:20:00Z")],
            statuses: [status("a-1", "TALK", "2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z")]
          })
          yield* s.data.ingest(request(
            i,
            batch({
              contacts: [contact("2026-03-02T08:50:00Z"), contact("2026-03-02T09:35:00Z")],
              statuses: [status("a-1", "READY", "2026-03-02T08:30:00Z", "2026-03-02T10:00:00Z")]
            })
          ))
          const window = { from: ms("2026-03-02T09:00:00Z"), to: ms("2026-03-02T09:30:00Z") }
          for (let n = 1; n <= 2; n++) {
            const outcome = yield* s.data.ingest(request(i, windowBatch, {
              mode: "pull",
              replaceWindow: window,
              watermark: { stream: "contacts", value: window.to + n }
            }))
            assert.strictEqual(outcome._tag, "Applied")
          }
          const rows = yield* everything(i)
          sameValue(rows.map((r) => [r.start, r.offered]), [
            [ms("2026-03-02T08:45:00Z"), 1],
            [ms("2026-03-02T09:00:00Z"), 1],
            [ms("2026-03-02T09:15:00Z"), 1],
            [ms("2026-03-02T09:30:00Z"), 1]
          ])
          sameValue(yield* s.cursors.get(i.id, "contacts"), Option.some(window.to + 2))
          sameValue(spans(yield* allSegments(i)), [
            { agent: "a-1", activity: "READY", start: ms("2026-03-02T08:30:00Z"), end: ms("2026-03-02T09:00:00Z") },
            { agent: "a-1", activity: "TALK", start: ms("2026-03-02T09:00:00Z"), end: ms("2026-03-02T09:30:00Z") },
            { agent: "a-1", activity: "READY", start: ms("2026-03-02T09:30:00Z"), end: ms("2026-03-02T10:00:00Z") }
          ])
          // an empty re-import clears the window
          yield* s.data.ingest(request(i, Domain.emptyBatch, { mode: "pull", replaceWindow: window }))
          sameValue((yield* everything(i)).map((r) => r.start), [
            ms("2026-03-02T08:45:00Z"),
            ms("2026-03-02T09:30:00Z")
          ])
          sameValue(spans(yield* allSegments(i)).map((x) => [x.activity, x.start, x.end]), [
            ["READY", ms("2026-03-02T08:30:00Z"), ms("2026-03-02T09:00:00Z")],
            ["READY", ms("2026-03-02T09:30:00Z"), ms("2026-03-02T10:00:00Z")]
          ])
          // another integration's data in the window is not touched
          const other = yield* setup({ tenantId: i.tenantId })
          yield* s.data.ingest(request(other, batch({ contacts: [contact("2026-03-02T09:05:00Z")] })))
          yield* s.data.ingest(request(i, Domain.emptyBatch, { mode: "pull", replaceWindow: window }))
          assert.strictEqual((yield* everything(other)).length, 1)
        }))

      // -----------------------------------------------------------------------
      // idempotency
      // -----------------------------------------------------------------------

      it.effect("idempotency: a repeat returns the first outcome and applies nothing", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const b = batch({ contacts: [contact("2026-03-02T09:05:00Z"), contact("2026-03-02T09:06:00Z")] })
          const idem = { key: "req-1", requestHash: "h1", ttlMs: 24 * 60 * MIN }
          const first = yield* s.data.ingest(request(i, b, { idempotency: idem }))
          assert.strictEqual(first._tag, "Applied")
          const repeat = yield* s.data.ingest(
            request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] }), {
              idempotency: idem,
              now: T0 + 60 * MIN
            })
          )
          sameValue(repeat, { _tag: "Replayed", accepted: 2, outcome: "Applied" })
          sameValue((yield* totals(i))["offered"], 2)

          // same key, other body: refused, nothing applied
          assert.strictEqual(
            yield* failureTag(
              s.data.ingest(request(i, b, { idempotency: { ...idem, requestHash: "h2" }, now: T0 + 1 }))
            ),
            "IdempotencyKeyReused"
          )
          sameValue((yield* totals(i))["offered"], 2)

          // the key is scoped to the integration
          const other = yield* setup({ tenantId: i.tenantId })
          assert.strictEqual((yield* s.data.ingest(request(other, b, { idempotency: idem })))._tag, "Applied")

          // after the ttl the key is fresh again
          const later = yield* s.data.ingest(
            request(i, b, { idempotency: { ...idem, requestHash: "h3" }, now: T0 + idem.ttlMs })
          )
          assert.strictEqual(later._tag, "Applied")
          sameValue((yield* totals(i))["offered"], 4)
          const replayLater = yield* s.data.ingest(
            request(i, b, { idempotency: { ...idem, requestHash: "h3" }, now: T0 + idem.ttlMs + 1 })
          )
          assert.strictEqual(replayLater._tag, "Replayed")
          sameValue((yield* totals(i))["offered"], 4)
        }))

      // -----------------------------------------------------------------------
      // pause, staging, resume
      // -----------------------------------------------------------------------

      it.effect("paused: pushes are staged (bounded), pulls refused, resume applies in arrival order", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.integrations.pause(i.id, T0)
          const limit = 5
          const b1 = batch({
            aggregates: [aggregate("2026-03-02T09:00:00Z", 15, { offered: 3 })],
            statuses: [status("a-1", "READY", "2026-03-02T09:00:00Z", null)]
          })
          const b2 = batch({
            aggregates: [aggregate("2026-03-02T09:00:00Z", 15, { offered: 7, queueName: "Level 1" })],
            contacts: [
              contact("2026-03-02T09:20:00Z", { queueIdentifier: "q9", queueName: "Overflow", channel: "chats" })
            ],
            statuses: [status("a-1", "BREAK", "2026-03-02T09:10:00Z", null)]
          })
          const s1 = yield* s.data.ingest(request(i, b1, { stagingLimit: limit }))
          sameValue(s1, { _tag: "Staged", accepted: 2 })
          const idem = { key: "staged-1", requestHash: "x", ttlMs: 24 * 60 * MIN }
          const s2 = yield* s.data.ingest(request(i, b2, { stagingLimit: limit, idempotency: idem }))
          sameValue(s2, { _tag: "Staged", accepted: 3 })
          sameValue(
            yield* s.data.ingest(request(i, b2, { stagingLimit: limit, idempotency: idem })),
            { _tag: "Replayed", accepted: 3, outcome: "Staged" }
          )
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 5)
          assert.strictEqual(
            yield* failureTag(s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] }), {
              stagingLimit: limit
            }))),
            "StagingFull"
          )
          assert.strictEqual(
            yield* failureTag(s.data.ingest(request(i, b1, { mode: "pull", stagingLimit: limit }))),
            "IntegrationNotActive"
          )
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 5)
          assert.strictEqual((yield* everything(i)).length, 0)
          assert.strictEqual((yield* allSegments(i)).length, 0)
          assert.strictEqual((yield* s.queues.list({ tenantId: i.tenantId })).length, 0)

          const resumed = yield* s.integrations.resume(i.id, T0 + 99_000)
          assert.strictEqual(resumed.integration.status, "active")
          sameValue(resumed.integration.updatedAt, at(T0 + 99_000))
          assert.strictEqual(resumed.applied, 5)
          sameValue(resumed.createdQueues.map((q) => [q.identifier, q.name, q.channel]), [
            ["q1", "Level 1", "calls"],
            ["q9", "Overflow", "chats"]
          ])
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 0)
          sameValue((yield* s.integrations.get(i.id)).pipe(Option.map((x) => x.status)), Option.some("active"))
          sameValue((yield* everything(i)).map((r) => [r.start, r.channel, r.offered]), [
            [ms("2026-03-02T09:00:00Z"), "calls", 7],
            [ms("2026-03-02T09:15:00Z"), "chats", 1]
          ])
          sameValue(spans(yield* allSegments(i)).map((x) => [x.activity, x.start, x.end]), [
            ["READY", ms("2026-03-02T09:00:00Z"), ms("2026-03-02T09:10:00Z")],
            ["BREAK", ms("2026-03-02T09:10:00Z"), null]
          ])
          // a second resume has nothing left to apply
          const again = yield* s.integrations.resume(i.id, T0 + 100_000)
          assert.strictEqual(again.applied, 0)
          assert.strictEqual((yield* everything(i))[0]!.offered, 7)
        }))

      it.effect("markDeleted drops what was staged", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup({ status: "paused" })
          yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] })))
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 1)
          yield* s.integrations.markDeleted(i.id, T0)
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 0)
        }))

      // -----------------------------------------------------------------------
      // agent statuses
      // -----------------------------------------------------------------------

      it.effect("segments: the latest status replaces the part it overlaps; re-applying changes nothing", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const first = batch({
            statuses: [
              status("a-1", "READY", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
              status("a-2", "READY", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")
            ]
          })
          const second = batch({ statuses: [status("a-1", "BREAK", "2026-03-02T09:30:00Z", "2026-03-02T09:45:00Z")] })
          const o1 = yield* s.data.ingest(request(i, first))
          assert.strictEqual(o1._tag === "Applied" ? o1.statusesApplied : -1, 2)
          yield* s.data.ingest(request(i, second))
          const expected = [
            { agent: "a-1", activity: "READY", start: ms("2026-03-02T09:00:00Z"), end: ms("2026-03-02T09:30:00Z") },
            { agent: "a-1", activity: "BREAK", start: ms("2026-03-02T09:30:00Z"), end: ms("2026-03-02T09:45:00Z") },
            { agent: "a-1", activity: "READY", start: ms("2026-03-02T09:45:00Z"), end: ms("2026-03-02T10:00:00Z") },
            { agent: "a-2", activity: "READY", start: ms("2026-03-02T09:00:00Z"), end: ms("2026-03-02T10:00:00Z") }
          ]
          sameValue(spans(yield* allSegments(i)), expected)
          // at-least-once delivery: the same segments again change nothing
          yield* s.data.ingest(request(i, second))
          sameValue(spans(yield* allSegments(i)), expected)
          assert.strictEqual(yield* s.integrations.stagedCount(i.id), 0)
        }))

      it.effect("segments: a new open status closes the agent's open one at its start", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.data.ingest(request(i, batch({ statuses: [status("a-1", "READY", "2026-03-02T09:00:00Z", null)] })))
          yield* s.data.ingest(request(i, batch({ statuses: [status("a-1", "TALK", "2026-03-02T09:20:00Z", null)] })))
          yield* s.data.ingest(request(i, batch({ statuses: [status("a-2", "TALK", "2026-03-02T09:25:00Z", null)] })))
          sameValue(spans(yield* allSegments(i)), [
            { agent: "a-1", activity: "READY", start: ms("2026-03-02T09:00:00Z"), end: ms("2026-03-02T09:20:00Z") },
            { agent: "a-1", activity: "TALK", start: ms("2026-03-02T09:20:00Z"), end: null },
            { agent: "a-2", activity: "TALK", start: ms("2026-03-02T09:25:00Z"), end: null }
          ])
        }))

      it.effect("segments: out-of-order delivery gives what the pure rules give", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const statuses = [
            status("a-1", "TALK", "2026-03-02T09:40:00Z", "2026-03-02T09:50:00Z"),
            status("a-1", "READY", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
            status("a-1", "ACW", "2026-03-02T09:45:00Z", "2026-03-02T09:55:00Z"),
            status("a-1", "BREAK", "2026-03-02T09:58:00Z", null),
            status("a-1", "LUNCH", "2026-03-02T08:30:00Z", "2026-03-02T09:05:00Z"),
            status("a-1", "TALK", "2026-03-02T09:40:00Z", "2026-03-02T09:50:00Z")
          ]
          // one by one and as a single batch: both must equal a fold of Segments.apply
          const one = yield* setup({ tenantId: i.tenantId })
          for (const st of statuses) yield* s.data.ingest(request(one, batch({ statuses: [st] })))
          yield* s.data.ingest(request(i, batch({ statuses })))
          const stored = spans(yield* allSegments(i)).map(({ agent: _, ...rest }) => rest)
          const storedOne = spans(yield* allSegments(one)).map(({ agent: _, ...rest }) => rest)
          sameValue(storedOne, stored)
          // no overlaps, ordered by start
          for (let n = 1; n < stored.length; n++) {
            const prev = stored[n - 1]!
            assert.isTrue(prev.end !== null && prev.end <= stored[n]!.start, `overlap at ${n}`)
          }
          // the last status received owns its span
          const talk = stored.filter((x) => x.activity === "TALK")
          sameValue(talk, [{ activity: "TALK", start: ms("2026-03-02T09:40:00Z"), end: ms("2026-03-02T09:50:00Z") }])
          assert.strictEqual(stored[stored.length - 1]!.end, null)
        }))

      it.effect("segments query: overlap with [from, to), agent filter, counts", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          yield* s.data.ingest(request(
            i,
            batch({
              statuses: [
                status("a-1", "READY", "2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z"),
                status("a-1", "BREAK", "2026-03-02T09:30:00Z", "2026-03-02T09:40:00Z"),
                status("b-2", "READY", "2026-03-02T08:00:00Z", null),
                status("A-3", "BREAK", "2026-03-02T10:00:00Z", "2026-03-02T10:10:00Z")
              ]
            })
          ))
          const q = (from: string, to: string, agent?: string) =>
            s.data.segments({
              tenantId: i.tenantId,
              integrationId: i.id,
              agentIdentifier: agent,
              from: ms(from),
              to: ms(to)
            }).pipe(Effect.map((r) => r.map((x) => `${x.agentIdentifier}:${x.activityIdentifier}`)))
          sameValue(yield* q("2026-03-02T09:30:00Z", "2026-03-02T10:00:00Z"), ["a-1:BREAK", "b-2:READY"])
          sameValue(yield* q("2026-03-02T09:29:59Z", "2026-03-02T09:30:00Z"), ["a-1:READY", "b-2:READY"])
          sameValue(yield* q("2026-03-02T07:00:00Z", "2026-03-02T11:00:00Z", "a-1"), ["a-1:READY", "a-1:BREAK"])
          sameValue(
            yield* q("2026-03-02T07:00:00Z", "2026-03-02T11:00:00Z"),
            ["a-1:READY", "a-1:BREAK", "A-3:BREAK", "b-2:READY"]
          )
          sameValue(yield* s.data.agentCounts(i.id), [
            { externalId: "a-1", segments: 2 },
            { externalId: "A-3", segments: 1 },
            { externalId: "b-2", segments: 1 }
          ])
          sameValue(yield* s.data.activityCounts(i.id), [
            { externalId: "BREAK", segments: 2 },
            { externalId: "READY", segments: 2 }
          ])
          sameValue(yield* s.data.agentCounts((yield* setup()).id), [])
        }))

      // -----------------------------------------------------------------------
      // tenants
      // -----------------------------------------------------------------------

      it.effect("queries never cross tenants", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const stranger = Domain.TenantId.make(unique("tenant"))
          yield* s.data.ingest(request(
            i,
            batch({
              contacts: [contact("2026-03-02T09:05:00Z")],
              statuses: [status("a-1", "READY", "2026-03-02T09:00:00Z", null)]
            })
          ))
          const queues = yield* s.queues.list({ tenantId: i.tenantId })
          assert.strictEqual(queues.length, 1)
          const range = { from: 0, to: 8_000_000_000_000 }
          sameValue(yield* s.data.intervalStats({ tenantId: stranger, ...range }), [])
          sameValue(yield* s.data.intervalStats({ tenantId: stranger, integrationId: i.id, ...range }), [])
          sameValue(yield* s.data.intervalStats({ tenantId: stranger, queueIds: [queues[0]!.id], ...range }), [])
          sameValue(yield* s.data.segments({ tenantId: stranger, ...range }), [])
          sameValue(yield* s.data.segments({ tenantId: stranger, integrationId: i.id, ...range }), [])
          sameValue(yield* s.queues.list({ tenantId: stranger }), [])
          sameValue(yield* s.queues.list({ tenantId: stranger, integrationId: i.id }), [])
          sameValue(yield* s.integrations.list(stranger), [])
          assert.strictEqual((yield* s.data.intervalStats({ tenantId: i.tenantId, ...range })).length, 1)
          assert.strictEqual((yield* s.data.segments({ tenantId: i.tenantId, ...range })).length, 1)
        }))

      // -----------------------------------------------------------------------
      // links and link tasks
      // -----------------------------------------------------------------------

      it.effect("links: stored with their hash, found by it, listed per tenant, touched, revoked once", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup()
          const a = link(i.tenantId, { name: "A" })
          const b = link(i.tenantId, { name: "B" })
          const other = link(Domain.TenantId.make(unique("tenant")))
          for (const l of [a, b, other]) yield* s.links.insert(l)
          assert.strictEqual(yield* failureTag(s.links.insert(a)), "StorageError")
          sameValue(yield* s.links.get(a.id), Option.some(a))
          sameValue(Option.map(yield* s.links.findByHash(b.hash), (l) => l.id), Option.some(b.id))
          sameValue((yield* s.links.list(i.tenantId)).map((l) => l.id), [a.id, b.id])
          yield* s.links.touch(a.id, { at: T0 + 5, agentVersion: "1.0.0", protocol: 1, serves: [i.id] })
          yield* s.links.revoke(a.id, T0 + 10)
          yield* s.links.revoke(a.id, T0 + 20)
          const stored = Option.getOrThrow(yield* s.links.get(a.id))
          sameValue(
            [stored.lastSeenAt, stored.agentVersion, stored.protocol, stored.serves, stored.revokedAt],
            [at(T0 + 5), "1.0.0", 1, [i.id], at(T0 + 10)]
          )
        }))

      it.effect("link tasks: a commit replaces the window, commits the watermark, the run and the task mark at once", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup({ deliveryMode: "on-premise" })
          const from = ms("2026-03-02T09:00:00Z")
          const to = ms("2026-03-02T10:00:00Z")
          yield* s.data.ingest(request(i, batch({ contacts: [contact("2026-03-02T09:10:00Z")] }), { mode: "pull" }))
          const task = linkTask(i, { windowFrom: from, windowTo: to, watermarkValue: to, epoch: 3, state: "leased" })
          yield* s.linkTasks.insert(task)
          assert.strictEqual(yield* failureTag(s.linkTasks.insert(task)), "StorageError")
          yield* s.linkTasks.putPart(task.id, "r", { n: 1, records: 1, body: "b" })
          yield* s.linkTasks.putPart(task.id, "r", { n: 0, records: 2, body: "a" })
          yield* s.linkTasks.putPart(task.id, "r", { n: 0, records: 1, body: "a2" })
          yield* s.linkTasks.putPart(task.id, "other", { n: 0, records: 9, body: "x" })
          sameValue(yield* s.linkTasks.parts(task.id, "r"), [{ n: 0, records: 1, body: "a2" }, { n: 1, records: 1, body: "b" }])

          const commit = (epoch: number, contacts: ReadonlyArray<Domain.ContactEvent>) =>
            s.linkTasks.commit({
              taskId: task.id,
              epoch,
              checkCursors: true,
              counts: { read: contacts.length, rejected: 0 },
              now: T0 + 1,
              ingest: request(i, batch({ contacts }), {
                mode: "pull",
                replaceWindow: { from, to },
                watermark: { stream: "incremental", value: to },
                run: ingestRun(i, T0 + 1, { kind: "pull", read: contacts.length, applied: contacts.length })
              })
            })
          const two = [contact("2026-03-02T09:20:00Z"), contact("2026-03-02T09:50:00Z")]
          // another epoch than the stored one: nothing is applied
          assert.strictEqual((yield* commit(2, two))._tag, "Changed")
          sameValue((yield* totals(i)).offered, 1)
          const done = yield* commit(3, two)
          assert.strictEqual(done._tag, "Committed")
          // replaced, not added
          sameValue((yield* totals(i)).offered, 2)
          sameValue(yield* s.cursors.get(i.id, "incremental"), Option.some(to))
          const stored = Option.getOrThrow(yield* s.linkTasks.get(task.id))
          sameValue([stored.state, stored.epoch, stored.answer?.applied, stored.answer?.outcome], ["committed", 4, 2, "applied"])
          assert.strictEqual((yield* storedRuns(i)).length, 1)
          // parts go with the end of the task; a repeated commit finds it changed
          sameValue(yield* s.linkTasks.parts(task.id, "r"), [])
          assert.strictEqual((yield* commit(3, two))._tag, "Changed")
          sameValue((yield* totals(i)).offered, 2)
        }))

      it.effect("link tasks: moved cursors or a paused integration withdraw the task and apply nothing", () =>
        Effect.gen(function*() {
          const s = yield* store
          const i = yield* setup({ deliveryMode: "on-premise" })
          yield* s.cursors.set(i.id, "incremental", T0)
          const planned = linkTask(i, { snapshot: { incremental: T0 } })
          const stale = linkTask(i, { snapshot: { incremental: T0 - 900_000 } })
          yield* s.linkTasks.insert(planned)
          yield* s.linkTasks.insert(stale)
          const commit = (task: LinkModel.LinkTask) =>
            s.linkTasks.commit({
              taskId: task.id,
              epoch: 0,
              checkCursors: true,
              counts: { read: 1, rejected: 0 },
              now: T0 + 1,
              ingest: request(i, batch({ contacts: [contact("2026-03-02T09:05:00Z")] }), {
                mode: "pull",
                replaceWindow: { from: T0, to: T0 + 900_000 },
                watermark: { stream: "incremental", value: T0 + 900_000 },
                run: ingestRun(i, T0 + 1, { kind: "pull" })
              })
            })
          const moved = yield* commit(stale)
          assert.strictEqual(moved._tag, "Withdrawn")
          sameValue(Option.map(yield* s.linkTasks.get(stale.id), (t) => t.state), Option.some("withdrawn"))
          yield* s.integrations.pause(i.id, T0 + 2)
          assert.strictEqual((yield* commit(planned))._tag, "Withdrawn")
          sameValue(yield* totals(i), {})
          sameValue(yield* s.cursors.get(i.id, "incremental"), Option.some(T0))
          sameValue(yield* storedRuns(i), [])
          sameValue((yield* s.linkTasks.ofIntegration(i.id, ["pending", "leased"])).length, 0)

          // a failure is recorded with its run, once
          const failing = linkTask(i)
          yield* s.linkTasks.insert(failing)
          const failed = new LinkModel.LinkTask({ ...failing, state: "failed", epoch: 1, finishedAt: T0 + 3, error: "boom" })
          const run = new Domain.ImportRun({ ...ingestRun(i, T0 + 3, { error: "boom" }), durationMs: 1 })
          assert.isTrue(yield* s.linkTasks.fail(failed, 0, run))
          assert.isFalse(yield* s.linkTasks.fail(failed, 0, run))
          assert.strictEqual((yield* storedRuns(i)).length, 1)
          // finished tasks are pruned after their keep time
          yield* s.linkTasks.prune(T0 + 3)
          assert.isTrue(Option.isSome(yield* s.linkTasks.get(failing.id)))
          yield* s.linkTasks.prune(T0 + 4)
          assert.isTrue(Option.isNone(yield* s.linkTasks.get(failing.id)))
        }))
    })
  })
}
