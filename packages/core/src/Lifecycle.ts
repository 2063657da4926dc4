/**
 * Pause, resume and delete, as DESIGN §2 says: pause is sticky and applies nothing (pushes are
 * staged), resume applies what was staged in arrival order, delete is final and keeps data.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { ImportRunId } from "./Domain.js"
import type { TenantId } from "./Domain.js"
import { IntegrationDeleted } from "./Errors.js"
import { Integrations } from "./Integrations.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Storage } from "./Storage.js"

/**
 * @since 0.1.0 @category services
 */
export class Lifecycle extends Effect.Service<Lifecycle>()("@acd-bridge/core/Lifecycle", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const integrations = yield* Integrations
    const keys = yield* KeyMaterial

    /** Pausing a paused integration changes nothing; pausing never touches cursors or data. */
    const pause = Effect.fn("Lifecycle.pause")(function*(tenantId: TenantId, id: string) {
      const integration = yield* integrations.get(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      if (integration.status === "paused") return integration
      // one atomic change of the status: a failing mark or a resume made meanwhile is kept
      const paused = yield* storage.integrations.pause(integration.id, yield* Clock.currentTimeMillis)
      yield* Effect.logInfo("integration paused").pipe(Effect.annotateLogs({ integrationId: integration.id }))
      return paused
    })

    /**
     * Applies the staged pushes in arrival order, activates the integration and records the
     * resume's import run (when it applied anything) in one unit of work. Pull connectors
     * re-import the gap from their watermark on their next run.
     */
    const resume = Effect.fn("Lifecycle.resume")(function*(tenantId: TenantId, id: string) {
      const integration = yield* integrations.get(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      if (integration.status === "active") return integration
      const started = yield* Clock.currentTimeMillis
      // the store writes the run with the staged data, so neither is kept without the other
      const result = yield* storage.integrations.resume(
        integration.id,
        started,
        { id: ImportRunId.make(keys.uuid()), startedAt: DateTime.unsafeMake(started) }
      )
      yield* Effect.logInfo("integration resumed").pipe(
        Effect.annotateLogs({ integrationId: integration.id, stagedApplied: result.applied })
      )
      return result.integration
    })

    /** Final: schedule stopped, keys revoked, data, queues and workload memberships kept. */
    const remove = Effect.fn("Lifecycle.delete")(function*(tenantId: TenantId, id: string) {
      const integration = yield* integrations.get(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      const deleted = yield* storage.integrations.markDeleted(integration.id, yield* Clock.currentTimeMillis)
      yield* Effect.logInfo("integration deleted").pipe(Effect.annotateLogs({ integrationId: integration.id }))
      return deleted
    })

    return { pause, resume, delete: remove } as const
  }),
  dependencies: [Integrations.Default, KeyMaterial.Default]
}) {}
