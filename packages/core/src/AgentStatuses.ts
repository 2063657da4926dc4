/**
 * Agent status queries and the realtime feed. Mappings are joined when read, so a mapping
 * added later shows on statuses stored before it.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { AgentSegment, AgentStatus, IntegrationId, TenantId } from "./Domain.js"
import { Storage } from "./Storage.js"

/**
 * A status as callers see it, with the employee and activity it maps to (null where unmapped).
 *
 * @since 0.1.0 @category models
 */
export interface StatusView {
  readonly integrationId: IntegrationId
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  readonly start: DateTime.Utc
  readonly end: DateTime.Utc | null
  readonly employeeId: string | null
  readonly activityId: string | null
}

/** @since 0.1.0 @category models */
export interface StatusQuery {
  readonly integrationId?: IntegrationId | undefined
  readonly agentIdentifier?: string | undefined
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
}

interface Published {
  readonly tenantId: TenantId
  readonly status: StatusView
}

/**
 * @since 0.1.0 @category services
 */
export class AgentStatuses extends Effect.Service<AgentStatuses>()("@acd-bridge/core/AgentStatuses", {
  scoped: Effect.gen(function*() {
    const storage = yield* Storage
    // sliding: a slow subscriber loses the oldest events instead of slowing ingest down
    const hub = yield* Effect.acquireRelease(PubSub.sliding<Published>(10_000), PubSub.shutdown)

    const mappingsOf = Effect.fn(function*(id: IntegrationId) {
      const agents = new Map((yield* storage.mappings.agents(id)).map((m) => [m.externalId, m.employeeId]))
      const activities = new Map((yield* storage.mappings.activities(id)).map((m) => [m.externalId, m.activityId]))
      return { agents, activities }
    })

    const view = (
      m: { agents: ReadonlyMap<string, string>; activities: ReadonlyMap<string, string> },
      s: AgentSegment
    ): StatusView => ({
      integrationId: s.integrationId,
      agentIdentifier: s.agentIdentifier,
      activityIdentifier: s.activityIdentifier,
      start: DateTime.unsafeMake(s.start),
      end: s.end === null ? null : DateTime.unsafeMake(s.end),
      employeeId: m.agents.get(s.agentIdentifier) ?? null,
      activityId: m.activities.get(s.activityIdentifier) ?? null
    })

    /** Segments overlapping [from, to), per agent in time order. */
    const query = Effect.fn("AgentStatuses.query")(function*(tenantId: TenantId, q: StatusQuery) {
      const segments = yield* storage.data.segments({
        tenantId,
        integrationId: q.integrationId,
        agentIdentifier: q.agentIdentifier,
        from: DateTime.toEpochMillis(q.from),
        to: DateTime.toEpochMillis(q.to)
      })
      const cache = new Map<IntegrationId, { agents: Map<string, string>; activities: Map<string, string> }>()
      const out: Array<StatusView> = []
      for (const s of segments) {
        let m = cache.get(s.integrationId)
        if (!m) {
          m = yield* mappingsOf(s.integrationId)
          cache.set(s.integrationId, m)
        }
        out.push(view(m, s))
      }
      return out
    })

    /** Called by ingest after a commit: subscribers see accepted statuses at once. */
    const publish = Effect.fn("AgentStatuses.publish")(
      function*(tenantId: TenantId, integrationId: IntegrationId, statuses: ReadonlyArray<AgentStatus>) {
        if (statuses.length === 0) return
        const m = yield* mappingsOf(integrationId)
        yield* PubSub.publishAll(
          hub,
          statuses.map((s) => ({
            tenantId,
            status: view(m, {
              integrationId,
              agentIdentifier: s.agentIdentifier,
              activityIdentifier: s.activityIdentifier,
              start: DateTime.toEpochMillis(s.start),
              end: s.end === null ? null : DateTime.toEpochMillis(s.end)
            })
          }))
        )
      }
    )

    /**
     * Statuses of the tenant (optionally one integration) as they are accepted: a scoped
     * subscription, registered before the effect returns, so no status accepted after that is
     * missed.
     */
    const subscription = (tenantId: TenantId, integrationId?: IntegrationId) =>
      Effect.map(PubSub.subscribe(hub), (queue) =>
        Stream.fromQueue(queue).pipe(
          Stream.filter((p) =>
            p.tenantId === tenantId && (integrationId === undefined || p.status.integrationId === integrationId)
          ),
          Stream.map((p) => p.status)
        ))

    return { query, publish, subscription } as const
  })
}) {}
