import { Connector } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { ConnectorSuite, FakeConnector, FakeSource } from "../src/index.js"

const source = (options: FakeSource.Options = {}) => FakeSource.layer({ seed: 42, ...options })
const toggle = (error: Connector.ConnectorError) => Effect.flatMap(FakeSource.FakeSource, (s) => s.fail(error))

ConnectorSuite.suite("FakeConnector", {
  connector: FakeConnector.connector,
  config: FakeConnector.config,
  badCredentialsConfig: FakeConnector.badCredentials,
  invalidConfigs: [{ config: {}, field: "apiKey" }, { config: { apiKey: "abc" }, field: "apiKey" }, { config: 42 }],
  layer: source(),
  windows: [
    { from: "2026-03-02T00:00:00Z", to: "2026-03-02T06:00:00Z" },
    { from: "2026-03-02T06:00:00Z", to: "2026-03-03T00:00:00Z" }
  ],
  dstWindow: { from: "2026-03-28T22:00:00Z", to: "2026-03-29T04:00:00Z" },
  now: "2026-04-01T00:00:00Z",
  rateLimit: toggle(new Connector.RateLimited({ retryAfterMs: 30_000 })),
  transient: toggle(new Connector.Transient({ reason: "503" })),
  malformed: Effect.flatMap(FakeSource.FakeSource, (s) => s.setMalformed(true))
})

ConnectorSuite.suite("FakeConnector with interval aggregates", {
  connector: FakeConnector.connector,
  config: { apiKey: "another-secret", account: "Acme" },
  layer: source({ shape: "aggregates", apiKey: "another-secret", agents: 0 }),
  windows: [{ from: "2026-03-02T08:00:00Z", to: "2026-03-02T20:00:00Z" }],
  now: "2026-03-03T00:00:00Z",
  realtime: false
})

// a source that keeps ten days: an older window is empty
ConnectorSuite.suite("FakeConnector over a source that keeps ten days", {
  connector: FakeConnector.connector,
  config: FakeConnector.config,
  layer: source({ keepsDays: 10 }),
  windows: [{ from: "2026-03-05T00:00:00Z", to: "2026-03-05T12:00:00Z" }],
  emptyWindow: { from: "2026-02-01T00:00:00Z", to: "2026-02-02T00:00:00Z" },
  now: "2026-03-10T00:00:00Z"
})

const t = (s: string) => DateTime.toEpochMillis(DateTime.unsafeMake(s))

describe("FakeSource", () => {
  it.effect("is a pure function of the seed and the time", () =>
    Effect.gen(function*() {
      const a = yield* FakeSource.make({ seed: 1 })
      const b = yield* FakeSource.make({ seed: 1 })
      const c = yield* FakeSource.make({ seed: 2 })
      yield* TestClock.setTime(t("2026-03-10T00:00:00Z"))
      const window = { from: t("2026-03-02T00:00:00Z"), to: t("2026-03-03T00:00:00Z") }
      const x = yield* a.truth(window)
      assert.deepStrictEqual(yield* b.truth(window), x)
      assert.notDeepEqual(yield* c.truth(window), x)
      // about 3 contacts per queue and quarter: 2 queues × 96 quarters × 3
      assert.isTrue(x.contacts.length > 400 && x.contacts.length < 800, String(x.contacts.length))
      assert.isAbove(x.statuses.length, 30)
      // some contacts sit exactly on a quarter's first instant
      assert.isTrue(x.contacts.some((e) => DateTime.toEpochMillis(e.timestamp) % 900_000 === 0))
    }))

  it.effect("aggregates are exactly the sums of the contacts", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t("2026-03-10T00:00:00Z"))
      const window = { from: t("2026-03-02T08:00:00Z"), to: t("2026-03-02T12:00:00Z") }
      const contacts = yield* (yield* FakeSource.make({ seed: 5 })).truth(window)
      const aggregates = yield* (yield* FakeSource.make({ seed: 5, shape: "aggregates" })).truth(window)
      assert.strictEqual(aggregates.contacts.length, 0)
      assert.strictEqual(aggregates.aggregates.reduce((n, a) => n + a.offered, 0), contacts.contacts.length)
      assert.strictEqual(
        aggregates.aggregates.reduce((n, a) => n + a.handlingMs, 0),
        contacts.contacts.filter((e) => e.handled).reduce((n, e) => n + e.durationMs, 0)
      )
    }))

  it.effect("restates a share of quarters after the correction delay", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSource.make({ seed: 3, corrections: { share: 0.5, delay: "2 hours" } })
      const window = { from: t("2026-03-02T08:00:00Z"), to: t("2026-03-02T09:00:00Z") }
      const early = yield* fake.truth(window, t("2026-03-02T09:30:00Z"))
      const late = yield* fake.truth(window, t("2026-03-02T11:30:00Z"))
      assert.isAbove(late.contacts.length, early.contacts.length)
      assert.isAbove(
        late.contacts.reduce((n, e) => n + e.durationMs, 0),
        early.contacts.reduce((n, e) => n + e.durationMs, 0)
      )
    }))

  it.effect("nothing from the future; statuses still running are open", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSource.make({ seed: 8, agents: 5 })
      const now = t("2026-03-02T10:07:13Z")
      const batch = yield* fake.truth({ from: t("2026-03-02T08:00:00Z"), to: t("2026-03-02T12:00:00Z") }, now)
      assert.isTrue(batch.contacts.every((e) => DateTime.toEpochMillis(e.timestamp) < now))
      assert.isTrue(batch.statuses.every((s) => DateTime.toEpochMillis(s.start) < now))
      assert.isTrue(batch.statuses.some((s) => s.end === null))
    }))

  it.effect("switches: injected failures in order, a rotated key, and counters", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSource.make({ seed: 1, pageSize: 50 })
      yield* TestClock.setTime(t("2026-03-10T00:00:00Z"))
      const window = { from: t("2026-03-02T00:00:00Z"), to: t("2026-03-02T06:00:00Z") }
      const read = (key = "fake-secret") => Effect.either(Stream.runCollect(fake.read(key, window)))
      yield* fake.fail(new Connector.Transient({ reason: "a" }), 2)
      yield* fake.fail(new Connector.RateLimited({ retryAfterMs: 5 }))
      const tags: Array<string> = []
      for (let i = 0; i < 4; i++) {
        const r = yield* read()
        tags.push(r._tag === "Left" ? r.left._tag : "ok")
      }
      assert.deepStrictEqual(tags, ["Transient", "Transient", "RateLimited", "ok"])
      const denied = yield* read("wrong")
      assert.isTrue(denied._tag === "Left" && denied.left._tag === "AuthFailed")
      yield* fake.setApiKey("rotated")
      const old = yield* read()
      assert.isTrue(old._tag === "Left" && old.left._tag === "AuthFailed")
      assert.strictEqual(yield* fake.calls, 6)
      assert.strictEqual((yield* fake.windows).length, 6)
      assert.isAbove(yield* fake.served, 0)
    }))
})
