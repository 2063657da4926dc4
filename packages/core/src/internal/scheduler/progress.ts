/**
 * Committed windows and realtime batches as events, for hosts that show progress.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { IntegrationId, TenantId } from "../../Domain.js"
import type { ProgressEvent, Task } from "../../Scheduler.js"

export interface Progress {
  readonly publish: (event: ProgressEvent) => Effect.Effect<void>
  /** Adds `applied` to the records of the integration's task since this scheduler started; the total. */
  readonly count: (id: IntegrationId, task: Task, applied: number) => number
  /** Events of the tenant (or integration), subscribed before the effect returns. */
  readonly subscribe: (
    tenantId?: TenantId,
    integrationId?: IntegrationId
  ) => Effect.Effect<Stream.Stream<ProgressEvent>, never, Scope.Scope>
}

export const make: Effect.Effect<Progress, never, Scope.Scope> = Effect.gen(function*() {
  // sliding: a slow subscriber loses the oldest events instead of slowing the imports down
  const hub = yield* Effect.acquireRelease(PubSub.sliding<ProgressEvent>(10_000), PubSub.shutdown)
  const records = new Map<string, number>()

  const count = (id: IntegrationId, task: Task, applied: number): number => {
    const key = `${id}|${task}`
    const total = (records.get(key) ?? 0) + applied
    records.set(key, total)
    return total
  }

  const subscribe = (tenantId?: TenantId, integrationId?: IntegrationId) =>
    Effect.map(PubSub.subscribe(hub), (queue) =>
      Stream.fromQueue(queue).pipe(
        Stream.filter((e) =>
          (tenantId === undefined || e.tenantId === tenantId) &&
          (integrationId === undefined || e.integrationId === integrationId)
        )
      ))

  return { publish: (event) => Effect.asVoid(PubSub.publish(hub, event)), count, subscribe }
})
