import { Domain, Integrations, Intervals, Lifecycle, Principal } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { PushApi } from "../src/index.js"
import { tenantId, TestEngine } from "./engine.js"

const admin = Principal.Admin({ tenantId })

const body = (integrationId: unknown, data: ReadonlyArray<unknown>) => JSON.stringify({ data, meta: { integrationConfigurationId: integrationId } })

const contact = (timestamp: string, duration = 60) => ({
  properties: { offered: true, handled: true, duration },
  queueName: "Level 1 support",
  queueIdentifier: "1337_99",
  timestamp,
  channel: "calls"
})

/** The push API refuses timestamps far from now: the tests' clock stands in March 2026. */
const march2026 = TestClock.setTime(Date.parse("2026-03-10T00:00:00Z"))

const create = (input: Partial<Integrations.CreateIntegration> = {}) =>
  Effect.map(
    Effect.flatMap(Integrations.Integrations, (s) => s.create(tenantId, { name: "ACD", connector: "api-push", ...input })),
    (created) => created.integration
  )

const offered = Effect.flatMap(Intervals.Intervals, (s) =>
  s.query(tenantId, {
    from: DateTime.unsafeMake("2026-03-02T00:00:00Z"),
    to: DateTime.unsafeMake("2026-03-03T00:00:00Z"),
    length: 60,
    timezone: "UTC"
  })).pipe(Effect.map((rows) => rows.reduce((n, r) => n + r.offered, 0)))

describe("PushApi.push", () => {
  it.effect("accepts meta.integrationConfigurationId as a JSON number, compared as a string", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      assert.strictEqual(integration.id, "4711")
      const key = Principal.IntegrationKey({ tenantId, integrationId: integration.id })
      const answer = yield* PushApi.push("contactEvents", key, body(4711, [contact("2026-03-02T09:00:00Z")]))
      assert.deepStrictEqual(answer, { accepted: 1 })
      assert.strictEqual(yield* offered, 1)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("refuses another integration's key, unknown and deleted integrations, malformed bodies", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      const other = yield* create({ name: "other" })
      const data = [contact("2026-03-02T09:00:00Z")]
      const key = Principal.IntegrationKey({ tenantId, integrationId: integration.id })
      const tagOf = <E extends { readonly _tag: string }, R>(effect: Effect.Effect<unknown, E, R>) =>
        Effect.map(Effect.flip(effect), (e) => e._tag)
      assert.strictEqual(yield* tagOf(PushApi.push("contactEvents", key, body(other.id, data))), "Forbidden")
      assert.strictEqual(yield* tagOf(PushApi.push("contactEvents", admin, body("nope", data))), "IntegrationNotFound")
      const foreign = Principal.Admin({ tenantId: Domain.TenantId.make("tenant-b") })
      assert.strictEqual(yield* tagOf(PushApi.push("contactEvents", foreign, body(integration.id, data))), "IntegrationNotFound")
      assert.strictEqual(yield* tagOf(PushApi.push("contactEvents", admin, "{nope")), "MalformedBody")
      assert.strictEqual(yield* tagOf(PushApi.push("contactEvents", admin, "")), "MalformedBody")
      yield* Effect.flatMap(Lifecycle.Lifecycle, (s) => s.delete(tenantId, other.id))
      assert.strictEqual(yield* tagOf(PushApi.push("contactEvents", admin, body(other.id, data))), "IntegrationDeleted")
      assert.strictEqual(yield* offered, 0)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("refuses a data kind the integration does not import", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create({ dataKinds: ["contacts"] })
      const error = yield* Effect.flip(PushApi.push("agentStatuses", admin, body(integration.id, [
        { agentIdentifier: "a", activityIdentifier: "b", startTime: "2026-03-02T09:00:00Z" }
      ])))
      assert.strictEqual(error._tag, "InvalidRequest")
      if (error._tag === "InvalidRequest") assert.strictEqual(error.field, "data")
    }).pipe(Effect.provide(TestEngine)))

  it.effect("an idempotency key returns the first answer; with another body it is refused", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      const first = body(integration.id, [contact("2026-03-02T09:00:00Z"), contact("2026-03-02T09:01:00Z")])
      assert.deepStrictEqual(yield* PushApi.push("contactEvents", admin, first, { idempotencyKey: "k" }), { accepted: 2 })
      assert.deepStrictEqual(yield* PushApi.push("contactEvents", admin, first, { idempotencyKey: "k" }), { accepted: 2 })
      const other = body(integration.id, [contact("2026-03-02T10:00:00Z")])
      const reused = yield* Effect.flip(PushApi.push("contactEvents", admin, other, { idempotencyKey: "k" }))
      assert.strictEqual(reused._tag, "IdempotencyKeyReused")
      assert.strictEqual(yield* offered, 2)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("stages while paused and applies on resume", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      const lifecycle = yield* Lifecycle.Lifecycle
      yield* lifecycle.pause(tenantId, integration.id)
      const answer = yield* PushApi.push("contactEvents", admin, body(integration.id, [contact("2026-03-02T09:00:00Z")]))
      assert.deepStrictEqual(answer, { accepted: 1 })
      assert.strictEqual(yield* offered, 0)
      yield* lifecycle.resume(tenantId, integration.id)
      assert.strictEqual(yield* offered, 1)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("an end before the start is refused naming the record (core's rule, checked once)", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      const error = yield* Effect.flip(PushApi.push("agentStatuses", admin, body(integration.id, [
        { agentIdentifier: "a", activityIdentifier: "b", startTime: "2026-03-02T09:00:00Z", endTime: "2026-03-02T09:15:00Z" },
        { agentIdentifier: "a", activityIdentifier: "b", startTime: "2026-03-02T09:00:00Z", endTime: "2026-03-02T08:59:59Z" }
      ])))
      assert.deepStrictEqual(
        [error._tag, error._tag === "InvalidRecord" ? [error.index, error.field] : undefined],
        ["InvalidRecord", [1, "endTime"]]
      )
    }).pipe(Effect.provide(TestEngine)))

  it.effect("reads bodies strictly: duplicate keys, deep nesting, bad UTF-8 and lone surrogates are refused", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      const good = JSON.stringify(contact("2026-03-02T09:00:00Z"))
      const refuse = (raw: string | Uint8Array) => Effect.flip(PushApi.push("contactEvents", admin, raw))
      const duplicate = yield* refuse(`{"data":[${good.replace("\"duration\":60", "\"duration\":-5,\"duration\":1")}],"meta":{"integrationConfigurationId":"${integration.id}"}}`)
      assert.deepStrictEqual([duplicate._tag, "field" in duplicate ? duplicate.field : undefined], ["MalformedBody", "data.0.properties.duration"])
      const deep = yield* refuse(`{"data":${"[".repeat(65)}${"]".repeat(65)},"meta":{"integrationConfigurationId":"${integration.id}"}}`)
      assert.strictEqual(deep._tag, "MalformedBody")
      const bytes = Buffer.from(body(integration.id, [contact("2026-03-02T09:00:00Z")]).replace("1337_99", "1337_\u00ff"), "latin1")
      const latin1 = yield* refuse(bytes)
      assert.strictEqual(latin1._tag, "MalformedBody")
      assert.match(latin1.message, /UTF-8/)
      const lone = yield* refuse(body(integration.id, [contact("2026-03-02T09:00:00Z"), { ...contact("2026-03-02T09:00:00Z"), queueName: "\ud800" }]))
      assert.deepStrictEqual([lone._tag, lone._tag === "InvalidRecord" ? [lone.index, lone.field] : undefined], ["InvalidRecord", [1, "queueName"]])
      // the same body as UTF-8 bytes is accepted
      const ok = yield* PushApi.push("contactEvents", admin, new TextEncoder().encode(body(integration.id, [contact("2026-03-02T09:00:00Z")])))
      assert.deepStrictEqual(ok, { accepted: 1 })
      assert.strictEqual(yield* offered, 1)
    }).pipe(Effect.provide(TestEngine)))

  it.effect("decode reads the integration once and checks the caller before the records; apply writes", () =>
    Effect.gen(function*() {
      yield* march2026
      const integration = yield* create()
      const other = yield* create({ name: "other" })
      const key = Principal.IntegrationKey({ tenantId, integrationId: integration.id })
      // another integration's key is refused before its (invalid) records are looked at
      const forbidden = yield* Effect.flip(PushApi.decode("contactEvents", key, body(other.id, [{ nonsense: true }])))
      assert.strictEqual(forbidden._tag, "Forbidden")
      const decoded = yield* PushApi.decode("contactEvents", key, body(integration.id, [contact("2026-03-02T09:00:00Z"), contact("2026-03-02T09:20:00Z")]))
      assert.deepStrictEqual([decoded.records, decoded.target.integration.id, decoded.batch.contacts.length], [2, integration.id, 2])
      assert.strictEqual(yield* offered, 0, "decoding applies nothing")
      assert.deepStrictEqual(yield* PushApi.apply(decoded), { accepted: 2 })
      assert.strictEqual(yield* offered, 2)
    }).pipe(Effect.provide(TestEngine)))
})
