import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import { emptyBatch } from "../src/Domain.js"
import * as Engine from "../src/Engine.js"
import { Integrations } from "../src/Integrations.js"
import * as Storage from "../src/Storage.js"
import { iso, startScheduler, tenant } from "./schedulerFixtures.js"

/** A pull connector that runs in the cloud or next to the source. */
const onsite = Connector.make({
  key: "onsite",
  displayName: "On site",
  deliveryModes: ["cloud", "on-premise"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({ folder: Schema.NonEmptyString }),
  pull: () => Stream.make(emptyBatch)
})

const engine = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(onsite))))

const create = (deliveryMode: "cloud" | "on-premise") =>
  Effect.flatMap(Integrations, (s) =>
    s.create(tenant, {
      name: `${deliveryMode} folder`,
      connector: "onsite",
      deliveryMode,
      schedule: { type: "historical", everyMinutes: 15 },
      historyDepthDays: 1,
      config: { folder: "/in" }
    })).pipe(Effect.map((r) => r.integration))

describe("Scheduler health: on-premise integrations this engine leaves to a link", () => {
  it.scoped("say they are waiting for a link (never silence), while the cloud one beside them is scheduled", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
      const onPremise = yield* create("on-premise")
      const cloud = yield* create("cloud")
      const { scheduler } = yield* startScheduler({ tenants: [tenant] }) // default: cloud only
      yield* scheduler.awaitIdle
      const waiting = yield* scheduler.health(tenant, onPremise.id)
      assert.isFalse(waiting.scheduled)
      assert.isTrue(waiting.waitingForLink)
      assert.isTrue(waiting.warnings.some((w) => w.startsWith("waiting for a link: ")), waiting.warnings.join("\n"))
      const scheduled = yield* scheduler.health(tenant, cloud.id)
      assert.isTrue(scheduled.scheduled)
      assert.isFalse(scheduled.waitingForLink)
      assert.isFalse(scheduled.warnings.some((w) => w.startsWith("waiting for a link")))
    }).pipe(Effect.provide(engine)))

  it.scoped("an engine that runs on-premise integrations itself waits for no link", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
      const onPremise = yield* create("on-premise")
      const { scheduler } = yield* startScheduler({ tenants: [tenant], deliveryModes: ["cloud", "on-premise"] })
      yield* scheduler.awaitIdle
      const health = yield* scheduler.health(tenant, onPremise.id)
      assert.isTrue(health.scheduled)
      assert.isFalse(health.waitingForLink)
      assert.deepStrictEqual(health.warnings, [])
    }).pipe(Effect.provide(engine)))
})
