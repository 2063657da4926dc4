/**
 * The supervisor: which integrations this scheduler runs, one fiber each. It watches tenants
 * (polling their integrations every `pollInterval`), starts a fiber for every integration it
 * can schedule, and keeps the fibers in a `FiberMap`, so they end with the scheduler's scope.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberMap from "effect/FiberMap"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Integration, IntegrationId, TenantId } from "../../Domain.js"
import type { StorageError } from "../../Errors.js"
import type { Deps } from "./context.js"
import { viaLink } from "./context.js"
import type { Running } from "./running.js"

export interface Supervisor {
  /** Starts the integration's fiber, unless it runs already or this engine doesn't schedule it. */
  readonly ensure: (integration: Integration) => Effect.Effect<void>
  /** Schedules every integration of the tenant, now and as they are created. */
  readonly watch: (tenantId: TenantId) => Effect.Effect<void, StorageError>
  /** Adds the tenant to the watched ones without looking at its integrations yet. */
  readonly addTenant: (tenantId: TenantId) => void
  /** Whether this scheduler runs the integration's fiber. */
  readonly isScheduled: (id: IntegrationId) => boolean
}

export const make = (
  deps: Deps,
  running: Running,
  loop: (id: IntegrationId) => Effect.Effect<void>
): Effect.Effect<Supervisor, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { options, ownership, registry, storage } = deps
    const fibers = yield* FiberMap.make<IntegrationId>()
    const runFiber = yield* FiberMap.runtime(fibers)<never>()
    const watched = new Set<TenantId>(options.tenants)

    /** Whether this engine runs the integration at all. */
    const schedulable = (integration: Integration) =>
      Effect.gen(function*() {
        if (integration.status === "deleted") return false
        const linked = viaLink(deps, integration)
        if (!linked && !options.deliveryModes.includes(integration.deliveryMode)) return false
        const registered = yield* Effect.option(registry.get(integration.connector))
        if (Option.isNone(registered)) return false
        // the link holds the connection config: the engine plans the windows and offers the realtime stream
        if (linked) return true
        const configured = registered.value.configure(integration.config)
        // a config the connector refuses is scheduled, so that it is marked failing
        if (Either.isLeft(configured)) return true
        return integration.schedule.type === "historical"
          ? Option.isSome(configured.right.pull)
          : Option.isSome(configured.right.realtime)
      })

    const ensure = (integration: Integration) =>
      Effect.gen(function*() {
        if (!(yield* schedulable(integration))) return
        if (FiberMap.unsafeHas(fibers, integration.id)) return
        if (Option.isNone(yield* ownership.owns(integration.id))) return
        yield* running.setState(integration.id, { _tag: "Busy" })
        runFiber(
          integration.id,
          loop(integration.id).pipe(
            Effect.ensuring(running.setState(integration.id, undefined)),
            Effect.annotateLogs({
              tenantId: integration.tenantId,
              integrationId: integration.id,
              connector: integration.connector
            }),
            Effect.withLogSpan("scheduler")
          ),
          { onlyIfMissing: true }
        )
      })

    /** Starts what this node runs; stops the fibers of integrations another node took over. */
    const reconcile = (integration: Integration) =>
      Effect.gen(function*() {
        if (FiberMap.unsafeHas(fibers, integration.id) && Option.isNone(yield* ownership.owns(integration.id))) {
          yield* FiberMap.remove(fibers, integration.id)
          return
        }
        yield* ensure(integration)
      })

    const discover = (tenantId: TenantId) =>
      Effect.flatMap(storage.integrations.list(tenantId), (list) => Effect.forEach(list, reconcile, { discard: true }))

    const discoverAll = Effect.forEach(Array.from(watched), (tenantId) =>
      discover(tenantId).pipe(
        Effect.catchAll((error) => Effect.logWarning(`could not list integrations: ${error.message}`)),
        Effect.annotateLogs({ tenantId })
      ), { discard: true })

    // a cluster's ownership changed: start and stop fibers now, not at the next poll
    yield* ownership.changes.pipe(
      Stream.runForEach(() => Effect.suspend(() => discoverAll)),
      Effect.forkScoped
    )
    // another node changed an integration this node runs: its fiber looks again now
    yield* ownership.changed.pipe(
      Stream.runForEach((id) => FiberMap.unsafeHas(fibers, id) ? running.signal(id) : Effect.void),
      Effect.forkScoped
    )

    yield* Effect.forkScoped(
      Effect.gen(function*() {
        while (true) {
          yield* discoverAll
          yield* Effect.sleep(Duration.millis(options.pollIntervalMs))
        }
      }).pipe(Effect.withLogSpan("scheduler"))
    )

    return {
      ensure,
      watch: (tenantId) =>
        Effect.suspend(() => {
          watched.add(tenantId)
          return discover(tenantId)
        }),
      addTenant: (tenantId) => {
        watched.add(tenantId)
      },
      isScheduled: (id) => FiberMap.unsafeHas(fibers, id)
    }
  })
