import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { zone } from "../src/Bucketing.js"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import { emptyBatch } from "../src/Domain.js"
import * as Plan from "../src/internal/schedulePlan.js"
import {
  createPull,
  engineLayer,
  iso,
  makeSource,
  MIN,
  startScheduler,
  tenant
} from "./schedulerFixtures.js"

class HttpClient extends Context.Tag("test/HttpClient")<HttpClient, { readonly get: (path: string) => Effect.Effect<string> }>() {}
class Clockwork extends Context.Tag("test/Clockwork")<Clockwork, { readonly tick: number }>() {}
class Vault extends Context.Tag("test/Vault")<Vault, { readonly secret: string }>() {}

/** Each capability needs its own service. */
const needy = Connector.make({
  key: "needy",
  displayName: "Needy",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({
    url: Schema.String.pipe(Schema.startsWith("https://")),
    token: Schema.Redacted(Schema.String.pipe(Schema.minLength(8))),
    nested: Schema.optional(Schema.Struct({ password: Schema.Redacted(Schema.String) }))
  }),
  pull: () => Stream.fromEffect(Effect.map(HttpClient, () => emptyBatch)),
  realtime: () => Stream.fromEffect(Effect.map(Clockwork, (c): Connector.RealtimeBatch => ({ ...emptyBatch, position: c.tick }))),
  check: () => Effect.map(Vault, (v) => ({ ok: v.secret === "s", items: [{ name: "vault", ok: true, detail: "opened" }] })),
  settleDelay: "10 minutes",
  historyLimitDays: 90
})

const plain = Connector.make({
  key: "plain",
  displayName: "Plain",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({ folder: Schema.NonEmptyString })
})

type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends (<T>() => T extends Y ? 1 : 2) ? true : false
const contextCoversAll: Equals<ConnectorRegistry.ContextOf<typeof needy>, HttpClient | Clockwork | Vault> = true
const contextOfPlain: Equals<ConnectorRegistry.ContextOf<typeof plain>, never> = true

const services = Layer.mergeAll(
  Layer.succeed(HttpClient, { get: () => Effect.succeed("") }),
  Layer.succeed(Clockwork, { tick: 42 }),
  Layer.succeed(Vault, { secret: "s" })
)
const registryLayer: Layer.Layer<ConnectorRegistry.ConnectorRegistry, never, HttpClient | Clockwork | Vault> =
  ConnectorRegistry.layer(needy, plain)
const Registry = registryLayer.pipe(Layer.provide(services))
const good = { url: "https://acd.example", token: "t0ps3cret-token" }

describe("Connector contract and registry", () => {
  it("ContextOf covers the requirements of pull, realtime and check", () => {
    assert.isTrue(contextCoversAll)
    assert.isTrue(contextOfPlain)
  })

  it.effect("provides each capability with the services it needs", () =>
    Effect.gen(function*() {
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      const configured = Either.getOrThrow((yield* registry.get("needy")).configure(good))
      const pulled = yield* Stream.runCollect(Option.getOrThrow(configured.pull)({
        from: DateTime.unsafeMake(0),
        to: DateTime.unsafeMake(1)
      }))
      assert.strictEqual(pulled.length, 1)
      const live = yield* Stream.runCollect(Option.getOrThrow(configured.realtime)(7))
      assert.deepStrictEqual(Array.from(live).map((b) => b.position), [42])
      assert.isTrue((yield* configured.check).ok)
      const plainConfigured = Either.getOrThrow((yield* registry.get("plain")).configure({ folder: "/in" }))
      assert.isTrue(Option.isNone(plainConfigured.pull))
      assert.deepStrictEqual(yield* plainConfigured.check, {
        ok: true,
        items: [{ name: "config", ok: true, detail: "configuration is valid" }]
      })
      const registered = yield* registry.get("needy")
      assert.strictEqual(registered.settleDelayMs, 10 * MIN)
      assert.strictEqual(registered.historyLimitDays, 90)
    }).pipe(Effect.provide(Registry)))

  it.effect("refuses unknown connector keys and invalid configs with the Schema's message", () =>
    Effect.gen(function*() {
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      const unknown = yield* Effect.flip(registry.get("genesys"))
      assert.strictEqual(unknown._tag, "UnknownConnector")
      assert.match(unknown.message, /Unknown connector "genesys"; this engine has: needy, plain/)
      const needyConnector = yield* registry.get("needy")
      const badUrl = Either.getLeft(needyConnector.configure({ ...good, url: "http://acd.example" })).pipe(Option.getOrThrow)
      assert.strictEqual(badUrl.field, "url")
      assert.match(badUrl.message, /Invalid configuration for connector "needy" at url: Expected a string starting with "https:\/\/"/)
      const missing = Either.getLeft(needyConnector.configure({ url: "https://x" })).pipe(Option.getOrThrow)
      assert.strictEqual(missing.field, "token")
      assert.match(missing.reason, /is missing|not a valid secret/)
    }).pipe(Effect.provide(Registry)))

  it.effect("never shows a secret: invalid secrets are reported without their value, redact hides them", () =>
    Effect.gen(function*() {
      const needyConnector = yield* (yield* ConnectorRegistry.ConnectorRegistry).get("needy")
      const short = Either.getLeft(needyConnector.configure({ ...good, token: "hunter2" })).pipe(Option.getOrThrow)
      assert.strictEqual(short.field, "token")
      assert.notInclude(short.message, "hunter2")
      assert.match(short.message, /token: is not a valid secret \(the value is not shown\)/)
      const nested = Either.getLeft(needyConnector.configure({ ...good, nested: { password: 12345 } })).pipe(
        Option.getOrThrow
      )
      assert.strictEqual(nested.field, "nested.password")
      assert.notInclude(nested.message, "12345")
      const shown = needyConnector.redact({ ...good, nested: { password: "p4ss" } })
      assert.deepStrictEqual(shown, {
        url: "https://acd.example",
        token: "<redacted>",
        nested: { password: "<redacted>" }
      })
      assert.notInclude(JSON.stringify(shown), "t0ps3cret")
      const configured = Either.getOrThrow(needyConnector.configure(good))
      assert.notInclude(JSON.stringify(configured), "t0ps3cret")
    }).pipe(Effect.provide(Registry)))
})

describe("Scheduler logs", () => {
  it.scoped("carry the integration's annotations and never the config's secrets", () =>
    Effect.gen(function*() {
      const lines: Array<{ message: string; annotations: Record<string, unknown> }> = []
      const capture = Logger.make(({ annotations, message }) => {
        lines.push({
          message: JSON.stringify(message),
          annotations: Object.fromEntries(HashMap.toEntries(annotations))
        })
      })
      const source = yield* makeSource()
      yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createPull({ config: { apiKey: "good-key" } })
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        const planned = lines.find((l) => l.message.includes("first connect: history import planned"))
        assert.isDefined(planned)
        assert.strictEqual(planned!.annotations.integrationId, integration.id)
        assert.strictEqual(planned!.annotations.tenantId, tenant)
        assert.strictEqual(planned!.annotations.connector, "test-pull")
        assert.notInclude(JSON.stringify(lines), "good-key")
      }).pipe(Effect.provide(Layer.merge(engineLayer(source), Logger.replace(Logger.defaultLogger, capture))))
    }))
})

describe("Schedule planning (pure)", () => {
  const timing = (cadence: 15 | 30 | 60, zoneName: string): Plan.Timing => ({
    cadence,
    zone: Either.getOrThrow(zone(zoneName)),
    settleMs: 5 * MIN,
    lookbackMs: 24 * 60 * MIN,
    chunkMs: 24 * 60 * MIN,
    order: "newest-first"
  })

  it("runs at interval boundaries of the zone plus the settle delay, across DST", () => {
    const berlin = timing(60, "Europe/Berlin")
    assert.strictEqual(Plan.lastClosed(iso("2026-03-29T01:04:59Z"), berlin), iso("2026-03-29T00:00:00Z"))
    assert.strictEqual(Plan.lastClosed(iso("2026-03-29T01:05:00Z"), berlin), iso("2026-03-29T01:00:00Z"))
    assert.strictEqual(Plan.nextRunAt(iso("2026-03-29T01:05:00Z"), berlin), iso("2026-03-29T02:05:00Z"))
    const kathmandu = timing(30, "Asia/Kathmandu") // +05:45
    assert.strictEqual(Plan.lastClosed(iso("2026-03-02T09:30:00Z"), kathmandu), iso("2026-03-02T09:15:00Z"))
    assert.strictEqual(Plan.nextRunAt(iso("2026-03-02T09:30:00Z"), kathmandu), iso("2026-03-02T09:50:00Z"))
  })

  it("property: split tiles the range with windows on boundaries, at most a chunk long", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.integer({ min: 0, max: 4 * 366 * 96 }),
        FastCheck.integer({ min: 0, max: 20 * 96 }),
        FastCheck.constantFrom(15, 30, 60),
        FastCheck.constantFrom("UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"),
        FastCheck.integer({ min: 1, max: 200 }),
        (startQuarter, quarters, cadence, zoneName, chunkQuarters) => {
          const t = { ...timing(cadence as 15 | 30 | 60, zoneName), chunkMs: chunkQuarters * 15 * MIN }
          const from = Plan.alignDown(iso("2024-01-01T00:00:00Z") + startQuarter * 15 * MIN, t)
          const to = Plan.alignDown(from + quarters * 15 * MIN, t)
          const windows = Plan.split(from, to, t)
          let at = from
          for (const w of windows) {
            assert.strictEqual(w.from, at)
            assert.isAbove(w.to, w.from)
            assert.strictEqual(Plan.alignDown(w.to, t), w.to)
            assert.isTrue(w.to - w.from <= Math.max(t.chunkMs, 2 * cadence * MIN))
            at = w.to
          }
          assert.strictEqual(at, Math.max(from, to))
        }
      ),
      { numRuns: 300 }
    ))

  it("first connect, steady runs, gaps and backfill order", () => {
    const t = timing(15, "UTC")
    const now = iso("2026-03-02T09:07:00Z")
    const init = Plan.plan(new Map(), now, 2, t)
    assert.deepStrictEqual(init, {
      _tag: "Write",
      reason: "init",
      writes: [
        ["backfill.history.from", iso("2026-02-28T09:00:00Z")],
        ["backfill.history.cutoff", iso("2026-03-02T09:00:00Z")],
        ["backfill.history.low", iso("2026-03-02T09:00:00Z")],
        ["backfill.history.high", iso("2026-03-02T09:00:00Z")],
        ["incremental", iso("2026-03-02T09:00:00Z")]
      ]
    })
    const cursors = new Map(init._tag === "Write" ? init.writes : [])
    // history first (newest first), before the first interval closes
    const h = Plan.plan(cursors, now, 2, t)
    assert.deepStrictEqual(h._tag === "Run" && [h.task, h.windows, h.windowsDone, h.windowsTotal], [
      "history",
      [{
        from: iso("2026-03-01T09:00:00Z"),
        to: iso("2026-03-02T09:00:00Z"),
        watermark: { stream: "backfill.history.low", value: iso("2026-03-01T09:00:00Z") }
      }],
      0,
      2
    ])
    // two hours later, after a restart: the missed range and the look-back before it are a
    // gap (the old watermark is where the missing part starts), the newest interval incremental
    const later = iso("2026-03-02T11:07:00Z")
    const gap = Plan.plan(cursors, later, 2, t, true)
    assert.deepStrictEqual(gap, {
      _tag: "Write",
      reason: "gap",
      writes: [
        ["backfill.gap.from", iso("2026-03-01T09:00:00Z")],
        ["backfill.gap.to", iso("2026-03-02T10:45:00Z")],
        ["backfill.gap.missing", iso("2026-03-02T09:00:00Z")],
        ["backfill.gap.next", iso("2026-03-01T09:00:00Z")],
        ["incremental", iso("2026-03-02T10:45:00Z")]
      ]
    })
    // the same two hours while running (failures): catch up incrementally, the cursor stays
    const catchUp = Plan.plan(cursors, later, 2, t, false)
    assert.deepStrictEqual(catchUp._tag === "Run" && catchUp.windows.map((w) => [w.from, w.to, w.watermark?.value]), [
      [iso("2026-03-02T09:00:00Z"), iso("2026-03-02T11:00:00Z"), iso("2026-03-02T11:00:00Z")],
      // look-back: not into the history still pending
    ])
    // after the gap: what the gap has imported is in the next run's look-back, what it still has
    // to import is not (it is read then)
    const duringGap = new Map([
      ...cursors,
      ["backfill.history.low", iso("2026-02-28T09:00:00Z")],
      ["backfill.gap.from", iso("2026-03-01T09:00:00Z")],
      ["backfill.gap.to", iso("2026-03-02T11:00:00Z")],
      ["backfill.gap.missing", iso("2026-03-02T09:00:00Z")],
      ["backfill.gap.next", iso("2026-03-02T06:00:00Z")],
      ["incremental", iso("2026-03-02T12:00:00Z")]
    ])
    const run = Plan.plan(duringGap, iso("2026-03-02T12:20:00Z"), 2, t, false)
    assert.deepStrictEqual(run._tag === "Run" && run.windows.map((w) => [w.from, w.to, w.watermark?.value]), [
      [iso("2026-03-02T12:00:00Z"), iso("2026-03-02T12:15:00Z"), iso("2026-03-02T12:15:00Z")],
      [iso("2026-03-01T12:00:00Z"), iso("2026-03-02T06:00:00Z"), undefined],
      [iso("2026-03-02T11:00:00Z"), iso("2026-03-02T12:00:00Z"), undefined]
    ])
    // the missing part of the gap starts at the old watermark, not where its re-read starts
    assert.strictEqual(Plan.completeUntil(duringGap), iso("2026-03-02T09:00:00Z"))
    assert.strictEqual(
      Plan.completeUntil(new Map([...duringGap, ["backfill.gap.next", iso("2026-03-02T10:00:00Z")]])),
      iso("2026-03-02T10:00:00Z")
    )
    // a second outage while a gap is pending: one gap, from a look-back before the watermark
    // (or the pending part, if it starts earlier) to the newest interval, still missing from
    // where the first gap's missing part starts
    const again = Plan.plan(duringGap, iso("2026-03-03T12:20:00Z"), 2, t, true)
    assert.deepStrictEqual(again, {
      _tag: "Write",
      reason: "gap",
      writes: [
        ["backfill.gap.from", iso("2026-03-01T09:00:00Z")],
        ["backfill.gap.to", iso("2026-03-03T12:00:00Z")],
        ["backfill.gap.missing", iso("2026-03-02T09:00:00Z")],
        ["backfill.gap.next", iso("2026-03-01T12:00:00Z")],
        ["incremental", iso("2026-03-03T12:00:00Z")]
      ]
    })
    // the history imported so far is re-read by the look-back while the rest is pending
    const firstDay = new Map([...cursors, ["backfill.history.low", iso("2026-03-01T09:00:00Z")]])
    const afterFirstDay = Plan.plan(firstDay, iso("2026-03-02T09:20:00Z"), 2, t, false)
    assert.deepStrictEqual(
      afterFirstDay._tag === "Run" && afterFirstDay.windows.map((w) => [w.from, w.to, w.watermark?.value]),
      [
        [iso("2026-03-02T09:00:00Z"), iso("2026-03-02T09:15:00Z"), iso("2026-03-02T09:15:00Z")],
        [iso("2026-03-01T09:00:00Z"), iso("2026-03-02T09:00:00Z"), undefined]
      ]
    )
    // a checkpoint in the future yields nothing but waiting
    const future = Plan.plan(
      new Map([...cursors, ["backfill.history.low", iso("2026-02-28T09:00:00Z")], ["incremental", iso("2026-03-03T00:00:00Z")]]),
      later,
      2,
      t
    )
    assert.deepStrictEqual(future, { _tag: "Idle", until: iso("2026-03-02T11:20:00Z") })
  })

  it("a changed history depth plans the history range again: deeper imports what lies before, shallower stops early", () => {
    const t = timing(15, "UTC")
    const now = iso("2026-03-02T09:07:00Z")
    const init = Plan.plan(new Map(), now, 2, t)
    const cursors = new Map(init._tag === "Write" ? init.writes : [])
    // the two days are imported: nothing to do at depth 2
    const done = new Map([...cursors, ["backfill.history.low", iso("2026-02-28T09:00:00Z")]])
    assert.strictEqual(Plan.plan(done, now, 2, t)._tag, "Idle")
    // depth 5: the history starts three days earlier, and those days are imported next
    const deeper = Plan.plan(done, now, 5, t)
    assert.deepStrictEqual(deeper, {
      _tag: "Write",
      reason: "history",
      writes: [["backfill.history.from", iso("2026-02-25T09:00:00Z")]]
    })
    const extended = new Map([...done, ...(deeper._tag === "Write" ? deeper.writes : [])])
    const next = Plan.plan(extended, now, 5, t)
    assert.deepStrictEqual(next._tag === "Run" && [next.task, next.windows[0]!.from, next.windows[0]!.to], [
      "history",
      iso("2026-02-27T09:00:00Z"),
      iso("2026-02-28T09:00:00Z")
    ])
    // the history of 5 days, one imported; depth 2: one more day, then done
    const pending = new Map([...extended, ["backfill.history.low", iso("2026-03-01T09:00:00Z")]])
    const shallower = Plan.plan(pending, now, 2, t)
    assert.deepStrictEqual(shallower._tag === "Write" && shallower.reason, "history")
    const cut = new Map([...pending, ...(shallower._tag === "Write" ? shallower.writes : [])])
    assert.deepStrictEqual(Plan.history(cut), {
      from: iso("2026-02-28T09:00:00Z"),
      cutoff: iso("2026-03-02T09:00:00Z"),
      low: iso("2026-03-01T09:00:00Z"),
      high: iso("2026-03-02T09:00:00Z")
    })
    const last = Plan.plan(cut, now, 2, t)
    assert.deepStrictEqual(last._tag === "Run" && [last.task, last.windows[0]!.from], ["history", iso("2026-02-28T09:00:00Z")])
    // shallower than what is imported already: the history is done, nothing imported is lost
    const cutToday = Plan.plan(cut, now, 1, t)
    const today = new Map([...cut, ...(cutToday._tag === "Write" ? cutToday.writes : [])])
    assert.isFalse(Plan.historyPending(Plan.history(today)))
    assert.strictEqual(Plan.plan(today, now, 1, t)._tag, "Idle")
  })
})
