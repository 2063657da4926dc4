import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { ImportRun, ImportRunId, IntegrationId } from "../src/Domain.js"
import * as Retention from "../src/Retention.js"
import { Storage } from "../src/Storage.js"
import * as StorageModule from "../src/Storage.js"

const DAY = 86_400_000
const integrationId = IntegrationId.make("i-1")

const run = (n: number, startedAt: number) =>
  new ImportRun({
    id: ImportRunId.make(`run-${n}`),
    integrationId,
    kind: "pull",
    windowStart: null,
    windowEnd: null,
    read: 0,
    applied: 0,
    rejected: 0,
    startedAt: DateTime.unsafeMake(startedAt),
    durationMs: 0,
    error: null,
    problems: []
  })

describe("Retention", () => {
  it("resolves defaults: runs 90 days (keep 1,000), idempotency never under 24 hours, hourly", () => {
    assert.deepStrictEqual(Retention.resolve(), {
      runsMaxAgeMs: 90 * DAY,
      keepRuns: 1_000,
      idempotencyMaxAgeMs: DAY,
      intervalMs: 3_600_000
    })
    assert.strictEqual(Retention.resolve({ idempotency: { maxAge: "1 hour" } }).idempotencyMaxAgeMs, DAY)
    assert.strictEqual(Retention.resolve({ runs: { keep: 0 } }).keepRuns, 1)
  })

  it.scoped("the layer prunes at start and then every interval, by the Clock", () =>
    Effect.gen(function*() {
      const storage = yield* Storage
      // TestClock starts at 0: put the runs on day 0..3 and move the clock to day 4
      yield* TestClock.setTime(4 * DAY)
      for (const n of [0, 1, 2, 3]) yield* storage.runs.insert(run(n, n * DAY))
      yield* Layer.build(Retention.layer({ runs: { maxAge: "2 days", keep: 1 }, interval: "1 day" }))
      yield* Effect.yieldNow()
      // at start: runs started before day 2 go
      const ids = () => Effect.map(storage.runs.list(integrationId, 10), (runs) => runs.map((r) => r.id))
      assert.deepStrictEqual(yield* ids(), ["run-3", "run-2"])
      yield* TestClock.adjust("12 hours")
      assert.deepStrictEqual(yield* ids(), ["run-3", "run-2"])
      // a day later: the run of day 2 is past the horizon; the newest stays whatever its age
      yield* TestClock.adjust("12 hours")
      assert.deepStrictEqual(yield* ids(), ["run-3"])
      yield* TestClock.adjust("10 days")
      assert.deepStrictEqual(yield* ids(), ["run-3"])
    }).pipe(Effect.provide(StorageModule.layerMemory)))
})
