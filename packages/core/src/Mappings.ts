/**
 * External agent and activity ids mapped to employees and WFM activities, per integration.
 * Mappings are applied when data is read, so adding one changes what queries return for data
 * stored before it: no second import needed.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { ActivityMapping, AgentMapping, TenantId } from "./Domain.js"
import { Integrations } from "./Integrations.js"
import type { IdentifierCount } from "./Storage.js"
import { Storage } from "./Storage.js"

/** @since 0.1.0 @category models */
export interface UnmappedReport {
  readonly agents: ReadonlyArray<IdentifierCount>
  readonly activities: ReadonlyArray<IdentifierCount>
}

/**
 * @since 0.1.0 @category services
 */
export class Mappings extends Effect.Service<Mappings>()("@acd-bridge/core/Mappings", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const integrations = yield* Integrations

    /** Upserts by external id; mappings not named stay. */
    const putAgents = Effect.fn("Mappings.putAgents")(
      function*(tenantId: TenantId, id: string, mappings: ReadonlyArray<AgentMapping>) {
        const integration = yield* integrations.get(tenantId, id)
        yield* storage.mappings.putAgents(integration.id, mappings)
        return yield* storage.mappings.agents(integration.id)
      }
    )

    const putActivities = Effect.fn("Mappings.putActivities")(
      function*(tenantId: TenantId, id: string, mappings: ReadonlyArray<ActivityMapping>) {
        const integration = yield* integrations.get(tenantId, id)
        yield* storage.mappings.putActivities(integration.id, mappings)
        return yield* storage.mappings.activities(integration.id)
      }
    )

    /** Which stored external ids have no mapping yet, with how many segments carry each. */
    const unmapped = Effect.fn("Mappings.unmapped")(function*(tenantId: TenantId, id: string) {
      const integration = yield* integrations.get(tenantId, id)
      const agentMapped = new Set((yield* storage.mappings.agents(integration.id)).map((m) => m.externalId))
      const activityMapped = new Set((yield* storage.mappings.activities(integration.id)).map((m) => m.externalId))
      const agents = (yield* storage.data.agentCounts(integration.id)).filter((c) => !agentMapped.has(c.externalId))
      const activities = (yield* storage.data.activityCounts(integration.id)).filter((c) =>
        !activityMapped.has(c.externalId)
      )
      return { agents, activities } satisfies UnmappedReport
    })

    return { putAgents, putActivities, unmapped } as const
  }),
  dependencies: [Integrations.Default]
}) {}
