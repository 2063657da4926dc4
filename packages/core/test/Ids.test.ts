import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { UserId } from "../src/Domain.js"
import { Ingest } from "../src/Ingest.js"
import { Integrations } from "../src/Integrations.js"
import { Mappings } from "../src/Mappings.js"
import { Queues } from "../src/Queues.js"
import * as Principal from "../src/Principal.js"
import * as Scheduler from "../src/Scheduler.js"
import { Workloads } from "../src/Workloads.js"
import { tenant, TestEngine } from "./fixtures.js"

// Ids come from paths, queries and bodies as any text. One that no id can be (empty, blank,
// padded with spaces) names nothing: found by the reliability suite as answers of 500, because
// the lookups built the branded id with `make`, which throws on such text.
const impossible = ["", " ", "  x", "x ", "\t"]

const failureTag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (e) => e._tag)

const WithScheduler = Layer.merge(TestEngine, Scheduler.layer({ tenants: [tenant] }).pipe(Layer.provide(TestEngine)))

describe("ids that no record can have", () => {
  it.effect("are not found by every lookup (never a defect)", () =>
    Effect.gen(function*() {
      const integrations = yield* Integrations
      const queues = yield* Queues
      const workloads = yield* Workloads
      const mappings = yield* Mappings
      const scheduler = yield* Scheduler.Scheduler
      const ingest = yield* Ingest
      const workload = yield* workloads.create(tenant, { name: "W", queueIds: [] })
      for (const id of impossible) {
        assert.strictEqual(yield* failureTag(integrations.get(tenant, id)), "IntegrationNotFound", JSON.stringify(id))
        assert.strictEqual(yield* failureTag(mappings.unmapped(tenant, id)), "IntegrationNotFound", JSON.stringify(id))
        assert.strictEqual(yield* failureTag(queues.get(tenant, id)), "QueueNotFound", JSON.stringify(id))
        assert.strictEqual(yield* failureTag(queues.delete(tenant, id)), "QueueNotFound", JSON.stringify(id))
        assert.strictEqual(yield* failureTag(workloads.get(tenant, id)), "WorkloadNotFound", JSON.stringify(id))
        assert.strictEqual(
          yield* failureTag(workloads.create(tenant, { name: "W", queueIds: [id] })),
          "QueueNotFound",
          JSON.stringify(id)
        )
        assert.strictEqual(
          yield* failureTag(workloads.setQueues(tenant, workload.id, [id])),
          "QueueNotFound",
          JSON.stringify(id)
        )
        assert.strictEqual(yield* failureTag(scheduler.wake(tenant, id)), "IntegrationNotFound", JSON.stringify(id))
        assert.strictEqual(
          yield* failureTag(ingest.resolveTarget(Principal.User({ tenantId: tenant, userId: UserId.make("u") }), id)),
          "IntegrationNotFound",
          JSON.stringify(id)
        )
      }
    }).pipe(Effect.provide(WithScheduler)))
})
