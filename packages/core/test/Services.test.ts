import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { AccessTokens } from "../src/AccessTokens.js"
import { AgentStatuses } from "../src/AgentStatuses.js"
import { ApiKeys } from "../src/ApiKeys.js"
import type { Batch } from "../src/Domain.js"
import { emptyBatch, UserId } from "../src/Domain.js"
import { Ingest } from "../src/Ingest.js"
import { Integrations } from "../src/Integrations.js"
import { Intervals } from "../src/Intervals.js"
import { Lifecycle } from "../src/Lifecycle.js"
import { Mappings } from "../src/Mappings.js"
import * as Principal from "../src/Principal.js"
import { Queues } from "../src/Queues.js"
import { Storage } from "../src/Storage.js"
import { Workloads } from "../src/Workloads.js"
import { contact, otherTenant, tenant, TestEngine } from "./fixtures.js"

const admin = Principal.Admin({ tenantId: tenant })
const day = { from: DateTime.unsafeMake("2026-01-05T00:00:00Z"), to: DateTime.unsafeMake("2026-01-06T00:00:00Z") }

const failureTag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (e) => e._tag)

const createPush = (name = "Main ACD") =>
  Effect.flatMap(Integrations, (s) => s.create(tenant, { name, connector: "api-push" }))

const intervals15 = Effect.flatMap(Intervals, (s) =>
  s.query(tenant, { ...day, length: 15, timezone: "UTC" }))

describe("Integrations", () => {
  it.effect("creates with defaults, warns on a duplicate name, never fails for it", () =>
    Effect.gen(function*() {
      const first = yield* createPush("Sales")
      assert.deepStrictEqual(first.warnings, [])
      assert.strictEqual(first.integration.deliveryMode, "cloud")
      assert.strictEqual(first.integration.status, "active")
      assert.deepStrictEqual(first.integration.schedule, { type: "realtime" })
      const second = yield* createPush("Sales")
      assert.strictEqual(second.warnings.length, 1)
      assert.match(second.warnings[0]!, /already named "Sales"/)
      assert.notStrictEqual(first.integration.id, second.integration.id)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("checks the connector, its delivery modes, data kinds, time zone and config", () =>
    Effect.gen(function*() {
      const integrations = yield* Integrations
      assert.strictEqual(yield* failureTag(integrations.create(tenant, { name: "x", connector: "nope" })), "UnknownConnector")
      const mode = yield* Effect.flip(
        integrations.create(tenant, { name: "x", connector: "api-push", deliveryMode: "on-premise" })
      )
      assert.strictEqual(mode._tag, "DeliveryModeNotSupported")
      assert.match(mode.message, /does not support delivery mode "on-premise"/)
      const kinds = yield* Effect.flip(
        integrations.create(tenant, {
          name: "x",
          connector: "files",
          config: { folder: "/in", password: "s3cret" },
          dataKinds: ["agentStatuses"]
        })
      )
      assert.strictEqual(kinds._tag, "InvalidRequest")
      const zone = yield* Effect.flip(integrations.create(tenant, { name: "x", connector: "api-push", timezone: "Mars/Olympus" }))
      assert.strictEqual(zone._tag, "InvalidRequest")
      const config = yield* Effect.flip(integrations.create(tenant, { name: "x", connector: "files", config: { password: "p" } }))
      assert.strictEqual(config._tag, "InvalidConfig")
      assert.match(config.message, /folder/)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("never shows secrets", () =>
    Effect.gen(function*() {
      const integrations = yield* Integrations
      const { integration } = yield* integrations.create(tenant, {
        name: "Files",
        connector: "files",
        config: { folder: "/in", password: "s3cret" }
      })
      const shown = yield* integrations.redactedConfig(integration)
      assert.deepStrictEqual(shown, { folder: "/in", password: "<redacted>" })
    }).pipe(Effect.provide(TestEngine)))

  it.effect("keeps tenants apart", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      const integrations = yield* Integrations
      const err = yield* Effect.flip(integrations.get(otherTenant, integration.id))
      assert.strictEqual(err._tag, "IntegrationNotFound")
      assert.deepStrictEqual(yield* integrations.list(otherTenant), [])
    }).pipe(Effect.provide(TestEngine)))
})

describe("Lifecycle", () => {
  it.effect("pause and resume are sticky no-ops when repeated; delete is final", () =>
    Effect.gen(function*() {
      const lifecycle = yield* Lifecycle
      const { integration } = yield* createPush()
      assert.strictEqual((yield* lifecycle.resume(tenant, integration.id)).status, "active")
      assert.strictEqual((yield* lifecycle.pause(tenant, integration.id)).status, "paused")
      assert.strictEqual((yield* lifecycle.pause(tenant, integration.id)).status, "paused")
      assert.strictEqual((yield* lifecycle.resume(tenant, integration.id)).status, "active")
      yield* lifecycle.delete(tenant, integration.id)
      for (const op of [lifecycle.pause, lifecycle.resume, lifecycle.delete]) {
        const err = yield* Effect.flip(op(tenant, integration.id))
        assert.strictEqual(err._tag, "IntegrationDeleted")
      }
      const keyErr = yield* Effect.flip(Effect.flatMap(ApiKeys, (k) => k.generate(tenant, integration.id)))
      assert.strictEqual(keyErr._tag, "IntegrationDeleted")
    }).pipe(Effect.provide(TestEngine)))

  it.effect("stages pushes while paused and applies them in arrival order on resume", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      const lifecycle = yield* Lifecycle
      const ingest = yield* Ingest
      const storage = yield* Storage
      yield* lifecycle.pause(tenant, integration.id)
      const staged = yield* ingest.push(admin, integration.id, {
        ...emptyBatch,
        contacts: [contact("2026-01-05T10:01:00Z")],
        statuses: [{
          agentIdentifier: "a1",
          activityIdentifier: "TALK",
          start: DateTime.unsafeMake("2026-01-05T10:00:00Z"),
          end: DateTime.unsafeMake("2026-01-05T10:30:00Z")
        }]
      })
      assert.strictEqual(staged._tag, "Staged")
      // the second push overlaps the first status: after resume it must win (arrival order)
      yield* ingest.push(admin, integration.id, {
        ...emptyBatch,
        statuses: [{
          agentIdentifier: "a1",
          activityIdentifier: "BREAK",
          start: DateTime.unsafeMake("2026-01-05T10:10:00Z"),
          end: DateTime.unsafeMake("2026-01-05T10:20:00Z")
        }]
      })
      assert.deepStrictEqual(yield* intervals15, [])
      assert.strictEqual(yield* storage.integrations.stagedCount(integration.id), 3)
      yield* lifecycle.resume(tenant, integration.id)
      const rows = yield* intervals15
      assert.strictEqual(rows.length, 1)
      assert.strictEqual(rows[0]!.offered, 1)
      const statuses = yield* Effect.flatMap(AgentStatuses, (s) => s.query(tenant, day))
      assert.deepStrictEqual(
        statuses.map((s) => [s.activityIdentifier, DateTime.formatIso(s.start), s.end && DateTime.formatIso(s.end)]),
        [
          ["TALK", "2026-01-05T10:00:00.000Z", "2026-01-05T10:10:00.000Z"],
          ["BREAK", "2026-01-05T10:10:00.000Z", "2026-01-05T10:20:00.000Z"],
          ["TALK", "2026-01-05T10:20:00.000Z", "2026-01-05T10:30:00.000Z"]
        ]
      )
      assert.strictEqual(yield* storage.integrations.stagedCount(integration.id), 0)
      // resuming again applies nothing twice
      yield* lifecycle.pause(tenant, integration.id)
      yield* lifecycle.resume(tenant, integration.id)
      assert.strictEqual((yield* intervals15)[0]!.offered, 1)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("delete keeps data, queues and workload memberships; the queue can't join a new workload", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      yield* Effect.flatMap(Ingest, (i) => i.push(admin, integration.id, { ...emptyBatch, contacts: [contact("2026-01-05T10:01:00Z")] }))
      const queues = yield* Queues
      const workloads = yield* Workloads
      const [view] = yield* queues.list(tenant, integration.id)
      const workload = yield* workloads.create(tenant, { name: "Support", queueIds: [view!.queue.id] })
      const { apiKey } = yield* Effect.flatMap(ApiKeys, (k) => k.generate(tenant, integration.id))
      yield* Effect.flatMap(Lifecycle, (l) => l.delete(tenant, integration.id))
      assert.strictEqual((yield* intervals15).length, 1)
      const after = yield* queues.list(tenant, integration.id)
      assert.deepStrictEqual(after.map((q) => q.workloadIds), [[workload.id]])
      const joining = yield* Effect.flip(workloads.create(tenant, { name: "New", queueIds: [view!.queue.id] }))
      assert.strictEqual(joining._tag, "QueueOfDeletedIntegration")
      // staying in an existing workload while the list is rewritten is allowed
      const kept = yield* workloads.setQueues(tenant, workload.id, [view!.queue.id])
      assert.deepStrictEqual(kept.queueIds, [view!.queue.id])
      // the key was revoked with the integration
      assert.isTrue(Option.isNone(yield* Effect.flatMap(ApiKeys, (k) => k.authenticate(apiKey))))
      const push = yield* Effect.flip(Effect.flatMap(Ingest, (i) => i.push(admin, integration.id, emptyBatch)))
      assert.strictEqual(push._tag, "IntegrationDeleted")
    }).pipe(Effect.provide(TestEngine)))
})

describe("Queues and workloads", () => {
  it.effect("queue identity is (identifier, name, integration); integration queues can't be deleted", () =>
    Effect.gen(function*() {
      const a = (yield* createPush("A")).integration
      const b = (yield* createPush("B")).integration
      const ingest = yield* Ingest
      yield* ingest.push(admin, a.id, {
        ...emptyBatch,
        contacts: [
          contact("2026-01-05T10:01:00Z"),
          contact("2026-01-05T10:02:00Z", { queueName: "Level 1 (renamed)" }),
          contact("2026-01-05T10:03:00Z", { queueIdentifier: "q2" })
        ]
      })
      yield* ingest.push(admin, b.id, { ...emptyBatch, contacts: [contact("2026-01-05T10:01:00Z")] })
      const queues = yield* Queues
      assert.strictEqual((yield* queues.list(tenant, a.id)).length, 3)
      assert.strictEqual((yield* queues.list(tenant, b.id)).length, 1)
      assert.strictEqual((yield* queues.list(tenant)).length, 4)
      const [first] = yield* queues.list(tenant, a.id)
      const err = yield* Effect.flip(queues.delete(tenant, first!.queue.id))
      assert.strictEqual(err._tag, "QueueUndeletable")
      const manual = yield* queues.create(tenant, { identifier: "bo", name: "Back office", channel: "back_office" })
      yield* queues.delete(tenant, manual.id)
      assert.strictEqual((yield* Effect.flip(queues.get(tenant, manual.id)))._tag, "QueueNotFound")
    }).pipe(Effect.provide(TestEngine)))
})

describe("Ingest", () => {
  it.effect("applies a batch whole or not at all", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      const ingest = yield* Ingest
      const bad: Batch = {
        ...emptyBatch,
        contacts: [contact("2026-01-05T10:01:00Z", { queueIdentifier: "new-queue" })],
        statuses: [
          {
            agentIdentifier: "a1",
            activityIdentifier: "TALK",
            start: DateTime.unsafeMake("2026-01-05T10:00:00Z"),
            end: DateTime.unsafeMake("2026-01-05T10:05:00Z")
          },
          {
            agentIdentifier: "a1",
            activityIdentifier: "TALK",
            start: DateTime.unsafeMake("2026-01-05T10:10:00Z"),
            end: DateTime.unsafeMake("2026-01-05T10:09:00Z")
          }
        ]
      }
      const err = yield* Effect.flip(ingest.push(admin, integration.id, bad))
      assert.strictEqual(err._tag, "InvalidRecord")
      if (err._tag === "InvalidRecord") {
        assert.strictEqual(err.index, 1)
        assert.strictEqual(err.field, "endTime")
      }
      assert.deepStrictEqual(yield* intervals15, [])
      assert.deepStrictEqual(yield* Effect.flatMap(Queues, (q) => q.list(tenant, integration.id)), [])
      assert.deepStrictEqual(yield* Effect.flatMap(AgentStatuses, (s) => s.query(tenant, day)), [])
    }).pipe(Effect.provide(TestEngine)))

  it.effect("an Idempotency-Key replays the first answer and applies nothing again", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      const ingest = yield* Ingest
      const batch = { ...emptyBatch, contacts: [contact("2026-01-05T10:01:00Z")] }
      const first = yield* ingest.push(admin, integration.id, batch, { idempotencyKey: "k1", requestHash: "h1" })
      const again = yield* ingest.push(admin, integration.id, batch, { idempotencyKey: "k1", requestHash: "h1" })
      assert.strictEqual(first._tag, "Applied")
      assert.deepStrictEqual(again, { _tag: "Replayed", accepted: 1, outcome: "Applied" })
      assert.strictEqual((yield* intervals15)[0]!.offered, 1)
      const reused = yield* Effect.flip(ingest.push(admin, integration.id, batch, { idempotencyKey: "k1", requestHash: "h2" }))
      assert.strictEqual(reused._tag, "IdempotencyKeyReused")
      // after 24 hours the key is free again
      yield* TestClock.adjust("25 hours")
      const later = yield* ingest.push(admin, integration.id, batch, { idempotencyKey: "k1", requestHash: "h1" })
      assert.strictEqual(later._tag, "Applied")
      assert.strictEqual((yield* intervals15)[0]!.offered, 2)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("an interval aggregate re-imported replaces, never adds", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      const ingest = yield* Ingest
      const agg = (offered: number) => ({
        queueIdentifier: "q1",
        queueName: "Level 1",
        channel: "calls" as const,
        start: DateTime.unsafeMake("2026-01-05T10:00:00Z"),
        lengthMinutes: 15 as const,
        offered,
        handled: offered,
        handlingMs: offered * 1000,
        unhandledMs: 0,
        talkMs: 0,
        holdMs: 0,
        afterCallWorkMs: 0,
        waitMs: 0,
        abandoned: 0,
        shortAbandoned: 0,
        breakout: 0,
        answeredInThreshold: 0
      })
      yield* ingest.push(admin, integration.id, { ...emptyBatch, aggregates: [agg(10)] })
      yield* ingest.push(admin, integration.id, { ...emptyBatch, aggregates: [agg(7)] })
      const rows = yield* intervals15
      assert.strictEqual(rows.length, 1)
      assert.strictEqual(rows[0]!.offered, 7)
      assert.strictEqual(rows[0]!.ahtSeconds, 1)
    }).pipe(Effect.provide(TestEngine)))
})

describe("Keys and tokens", () => {
  it.effect("API keys: 256 random bits, shown once, hash stored, regenerate revokes, scope checked", () =>
    Effect.gen(function*() {
      const a = (yield* createPush("A")).integration
      const b = (yield* createPush("B")).integration
      const keys = yield* ApiKeys
      const first = yield* keys.generate(tenant, a.id)
      assert.match(first.apiKey, /^acdb_[A-Za-z0-9_-]{43}$/) // 32 bytes base64url
      assert.isTrue(first.apiKey.startsWith(first.prefix))
      const stored = yield* keys.authenticate(first.apiKey)
      assert.isTrue(Option.isSome(stored))
      if (Option.isSome(stored)) {
        assert.notInclude(JSON.stringify(stored.value), first.apiKey)
        assert.strictEqual(stored.value.hash.length, 64)
      }
      const second = yield* keys.generate(tenant, a.id)
      assert.notStrictEqual(second.apiKey, first.apiKey)
      assert.isTrue(Option.isNone(yield* keys.authenticate(first.apiKey)))
      assert.isTrue(Option.isSome(yield* keys.authenticate(second.apiKey)))
      assert.isTrue(Option.isNone(yield* keys.authenticate("acdb_unknown")))
      const principal = Principal.IntegrationKey({ tenantId: tenant, integrationId: a.id })
      const forbidden = yield* Effect.flip(
        Effect.flatMap(Ingest, (i) => i.push(principal, b.id, { ...emptyBatch, contacts: [contact("2026-01-05T10:01:00Z")] }))
      )
      assert.strictEqual(forbidden._tag, "Forbidden")
    }).pipe(Effect.provide(TestEngine)))

  it.effect("personal access tokens authenticate until revoked and push only within their tenant", () =>
    Effect.gen(function*() {
      const tokens = yield* AccessTokens
      const { record, token } = yield* tokens.create({ tenantId: tenant, userId: UserId.make("u1"), name: "ci" })
      assert.isTrue(Option.isSome(yield* tokens.authenticate(token)))
      const { integration } = yield* createPush()
      const stranger = Principal.User({ tenantId: otherTenant, userId: UserId.make("u2") })
      const err = yield* Effect.flip(Effect.flatMap(Ingest, (i) => i.push(stranger, integration.id, emptyBatch)))
      assert.strictEqual(err._tag, "IntegrationNotFound")
      yield* tokens.revoke(record.id)
      assert.isTrue(Option.isNone(yield* tokens.authenticate(token)))
    }).pipe(Effect.provide(TestEngine)))
})

describe("Mappings", () => {
  it.effect("apply retroactively to statuses stored before the mapping", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      yield* Effect.flatMap(Ingest, (i) =>
        i.push(admin, integration.id, {
          ...emptyBatch,
          statuses: [{
            agentIdentifier: "a-7",
            activityIdentifier: "BREAK",
            start: DateTime.unsafeMake("2026-01-05T10:00:00Z"),
            end: null
          }]
        }))
      const statuses = yield* AgentStatuses
      const before = yield* statuses.query(tenant, day)
      assert.strictEqual(before[0]!.employeeId, null)
      const mappings = yield* Mappings
      assert.deepStrictEqual(yield* mappings.unmapped(tenant, integration.id), {
        agents: [{ externalId: "a-7", segments: 1 }],
        activities: [{ externalId: "BREAK", segments: 1 }]
      })
      yield* mappings.putAgents(tenant, integration.id, [{ externalId: "a-7", employeeId: "emp-42" }])
      yield* mappings.putActivities(tenant, integration.id, [{ externalId: "BREAK", activityId: "wfm-break" }])
      const after = yield* statuses.query(tenant, day)
      assert.strictEqual(after[0]!.employeeId, "emp-42")
      assert.strictEqual(after[0]!.activityId, "wfm-break")
      assert.strictEqual(after[0]!.end, null)
      assert.deepStrictEqual(yield* mappings.unmapped(tenant, integration.id), { agents: [], activities: [] })
    }).pipe(Effect.provide(TestEngine)))

  it.effect("published statuses carry the mappings of their own agent and activity, and no other", () =>
    Effect.gen(function*() {
      const { integration } = yield* createPush()
      const other = (yield* createPush()).integration
      const mappings = yield* Mappings
      // many mappings, so a push that read them all would still find its own
      yield* mappings.putAgents(
        tenant,
        integration.id,
        Array.from({ length: 300 }, (_, n) => ({ externalId: `a-${n}`, employeeId: `emp-${n}` }))
      )
      yield* mappings.putActivities(tenant, integration.id, [{ externalId: "BREAK", activityId: "wfm-break" }])
      yield* mappings.putAgents(tenant, other.id, [{ externalId: "a-unmapped", employeeId: "emp-of-other" }])
      const published = yield* (yield* AgentStatuses).subscription(tenant, integration.id)
      const at = (start: string, agentIdentifier: string, activityIdentifier: string) => ({
        agentIdentifier,
        activityIdentifier,
        start: DateTime.unsafeMake(start),
        end: null
      })
      yield* Effect.flatMap(Ingest, (i) =>
        i.push(admin, integration.id, {
          ...emptyBatch,
          statuses: [
            at("2026-01-05T10:00:00Z", "a-7", "BREAK"),
            at("2026-01-05T10:00:00Z", "a-299", "READY"),
            at("2026-01-05T10:00:00Z", "a-unmapped", "BREAK"),
            at("2026-01-05T10:05:00Z", "a-7", "READY")
          ]
        }))
      const seen = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(published, 4)))
      assert.deepStrictEqual(
        seen.map((s) => [s.agentIdentifier, s.employeeId, s.activityIdentifier, s.activityId]),
        [
          ["a-7", "emp-7", "BREAK", "wfm-break"],
          ["a-299", "emp-299", "READY", null],
          ["a-unmapped", null, "BREAK", "wfm-break"],
          ["a-7", "emp-7", "READY", null]
        ]
      )
    }).pipe(Effect.scoped, Effect.provide(TestEngine)))
})
