import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Connector from "../src/Connector.js"
import { Lifecycle } from "../src/Lifecycle.js"
import { Storage } from "../src/Storage.js"
import {
  advance,
  createPull,
  engineLayer,
  HOUR,
  iso,
  makeSource,
  MIN,
  SEC,
  snapshot,
  startScheduler,
  tenant
} from "./schedulerFixtures.js"

describe("Scheduler: realtime", () => {
  it.scoped("holds the stream open, reconnects with backoff, resumes from its last position, stops while paused", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 2, agents: 4, tickMs: MIN })
      return yield* Effect.gen(function*() {
        const t0 = iso("2026-03-02T09:00:00Z")
        yield* TestClock.setTime(t0)
        const integration = yield* createPull({ schedule: { type: "realtime" } })
        const storage = yield* Storage
        const { scheduler } = yield* startScheduler({
          tenants: [tenant],
          backoff: { initial: "1 second", max: "8 seconds" },
          pollInterval: "10 seconds"
        })
        yield* advance(scheduler, HOUR, 5 * MIN)
        assert.deepStrictEqual(yield* source.opens, [{ position: undefined, at: t0 }])
        // the position of the last applied element is committed with it
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).realtime, t0 + HOUR)
        const segments = yield* storage.data.segments({ tenantId: tenant, integrationId: integration.id, from: t0, to: t0 + HOUR })
        assert.isAbove(segments.length, 2)
        const runs = yield* storage.runs.list(integration.id, 1000)
        assert.isTrue(runs.length > 0 && runs.every((r) => r.kind === "realtime" && r.error === null))

        // the source drops the connection, then refuses three reconnects
        yield* source.fail(new Connector.Transient({ reason: "connection reset" }), 4)
        yield* advance(scheduler, MIN, SEC)
        yield* advance(scheduler, 30 * SEC, SEC)
        const dropped = t0 + HOUR + MIN
        const opens = (yield* source.opens).slice(1)
        // backoff 1 s (the stream had been healthy), then 2, 4, 8 s
        assert.deepStrictEqual(opens.map((o) => o.at - dropped), [1 * SEC, 3 * SEC, 7 * SEC, 15 * SEC])
        // every reconnect resumes from the last committed position
        assert.isTrue(opens.every((o) => o.position === t0 + HOUR))
        const health = yield* scheduler.health(tenant, integration.id)
        assert.strictEqual(health.realtimePosition, t0 + HOUR)
        assert.strictEqual((yield* storage.runs.list(integration.id, 1000)).filter((r) => r.error !== null).length, 4)

        // paused: the stream is closed within the poll interval and nothing is opened until resume
        yield* (yield* Lifecycle).pause(tenant, integration.id)
        yield* advance(scheduler, 10 * SEC, SEC)
        const pausedAt = (yield* scheduler.cursor(tenant, integration.id)).realtime!
        const openCount = (yield* source.opens).length
        yield* advance(scheduler, 2 * HOUR, 10 * MIN)
        assert.strictEqual((yield* source.opens).length, openCount)
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).realtime, pausedAt)
        yield* (yield* Lifecycle).resume(tenant, integration.id)
        yield* scheduler.wake(tenant, integration.id)
        yield* advance(scheduler, 2 * MIN, MIN)
        const last = (yield* source.opens).at(-1)!
        assert.strictEqual(last.position, pausedAt)
        // the statuses of the paused hours were replayed from the position: every status that
        // started between the first connect and the last element is stored as the source has it
        const now = (yield* scheduler.cursor(tenant, integration.id)).realtime!
        const truth = snapshot(source.options, t0, now, now).statuses.filter((s) =>
          DateTime.toEpochMillis(s.start) >= t0 && s.end !== null
        )
        const stored = yield* storage.data.segments({ tenantId: tenant, integrationId: integration.id, from: t0, to: now })
        for (const s of truth) {
          const found = stored.find((x) =>
            x.agentIdentifier === s.agentIdentifier && x.start === DateTime.toEpochMillis(s.start)
          )
          assert.isDefined(found, `status of ${s.agentIdentifier} at ${DateTime.formatIso(s.start)}`)
          assert.strictEqual(found!.activityIdentifier, s.activityIdentifier)
          assert.strictEqual(found!.end, DateTime.toEpochMillis(s.end!))
        }
        assert.isAbove(truth.length, 4)
        const final = Option.getOrThrow(yield* storage.integrations.get(integration.id))
        assert.isNull(final.failing)
      }).pipe(Effect.provide(engineLayer(source)))
    }), { timeout: 120_000 })

  it.scoped("AuthFailed on a realtime stream marks the integration failing; no reconnects until the config changes", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ tickMs: MIN })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:00:00Z"))
        const integration = yield* createPull({ schedule: { type: "realtime" } })
        const { scheduler } = yield* startScheduler({ tenants: [tenant], pollInterval: "10 seconds" })
        yield* advance(scheduler, 5 * MIN, MIN)
        yield* source.setKey("rotated")
        yield* source.fail(new Connector.AuthFailed({ reason: "token revoked" }), 1)
        yield* advance(scheduler, HOUR, 10 * MIN)
        assert.strictEqual((yield* source.opens).length, 1)
        const failing = Option.getOrThrow(yield* (yield* Storage).integrations.get(integration.id)).failing
        assert.match(failing ?? "", /token revoked/)
      }).pipe(Effect.provide(engineLayer(source)))
    }))
})
