/**
 * What hosts and operators ask of the scheduler: watch a tenant, wake an integration, read
 * and (while paused) set its cursors, re-import a range. See the public `Scheduler` module for
 * what each promises.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { quarterKey } from "../../Bucketing.js"
import type { Integration, TenantId } from "../../Domain.js"
import { IntegrationId } from "../../Domain.js"
import { CursorLocked, IntegrationDeleted, IntegrationNotFound, InvalidRequest, StorageError } from "../../Errors.js"
import type { ReimportRange } from "../../Scheduler.js"
import * as Plan from "../schedulePlan.js"
import type { Deps } from "./context.js"
import { timingOf, toUtc } from "./context.js"
import type { Running } from "./running.js"
import type { Supervisor } from "./supervisor.js"

/** Streams an operator may set: the planner's (the failure streak is the scheduler's own). */
const settable: ReadonlySet<string> = new Set(Object.values(Plan.streams))

export const make = (deps: Deps, running: Running, supervisor: Supervisor) => {
  const { options, registry, storage } = deps

  /** The tenant's integration, or `IntegrationNotFound` (also for another tenant's). */
  const find = (tenantId: TenantId, id: string) =>
    Effect.gen(function*() {
      // text no id can be (blank, padded) names nothing; `make` would throw on it
      const key = Schema.decodeOption(IntegrationId)(id)
      const found = Option.isNone(key) ? Option.none<Integration>() : yield* storage.integrations.get(key.value)
      if (Option.isNone(found) || found.value.tenantId !== tenantId) {
        return yield* new IntegrationNotFound({ integrationId: id })
      }
      return found.value
    })

  const watch = (tenantId: TenantId) => supervisor.watch(tenantId).pipe(Effect.withSpan("Scheduler.watch"))

  const wake = Effect.fn("Scheduler.wake")(function*(tenantId: TenantId, id: string) {
    const integration = yield* find(tenantId, id)
    supervisor.addTenant(tenantId)
    yield* supervisor.ensure(integration)
    yield* running.signal(integration.id)
  })

  const cursor = Effect.fn("Scheduler.cursor")(function*(tenantId: TenantId, id: string) {
    const integration = yield* find(tenantId, id)
    const all = yield* storage.cursors.list(integration.id)
    return Object.fromEntries(Array.from(all).sort(([a], [b]) => a.localeCompare(b))) as Readonly<
      Record<string, number>
    >
  })

  const setCursor = Effect.fn("Scheduler.setCursor")(
    function*(tenantId: TenantId, id: string, stream: string, value: number) {
      const integration = yield* find(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      if (integration.status !== "paused") return yield* new CursorLocked({ integrationId: integration.id })
      if (!settable.has(stream)) {
        return yield* new InvalidRequest({
          field: "stream",
          reason: `unknown cursor stream "${stream}"; the streams are: ${Array.from(settable).join(", ")}`
        })
      }
      if (!Number.isSafeInteger(value) || value < 0) {
        return yield* new InvalidRequest({ field: "value", reason: "must be a non-negative integer" })
      }
      if (stream !== Plan.streams.realtime && quarterKey(value) !== value) {
        return yield* new InvalidRequest({
          field: "value",
          reason: "a time cursor must be epoch milliseconds on a UTC quarter-hour"
        })
      }
      const handle = running.handleOf(integration.id)
      yield* handle.lock.withPermits(1)(storage.cursors.set(integration.id, stream, value))
      yield* Effect.logInfo("cursor set by an operator").pipe(
        Effect.annotateLogs({ integrationId: integration.id, stream, value })
      )
    }
  )

  const reimport = Effect.fn("Scheduler.reimport")(function*(tenantId: TenantId, id: string, range: ReimportRange) {
    const integration = yield* find(tenantId, id)
    if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
    const from = DateTime.toEpochMillis(range.from)
    const to = DateTime.toEpochMillis(range.to)
    if (!(from < to)) return yield* new InvalidRequest({ field: "to", reason: "must be after from" })
    const registered = yield* registry.get(integration.connector).pipe(
      Effect.mapError((e) => new InvalidRequest({ field: "integration", reason: e.message }))
    )
    const canPull = Either.match(registered.configure(integration.config), {
      onLeft: () => registered.capabilities.pull,
      onRight: (c) => Option.isSome(c.pull)
    })
    if (!canPull) {
      return yield* new InvalidRequest({
        field: "integration",
        reason: `connector "${integration.connector}" reads nothing from a source${
          registered.capabilities.realtime ? " but a live stream" : " (the source pushes its data)"
        }, so integration ${integration.id} can't re-import a range: ${
          registered.capabilities.realtime ? "its stream resumes from its last position" : "push the range again"
        }`
      })
    }
    const timing = timingOf(options, integration, registered)
    if (timing === undefined) {
      return yield* new InvalidRequest({
        field: "integration",
        reason: `integration ${integration.id} has a ${integration.schedule.type} schedule, so it is not imported in ` +
          `historical windows and can't re-import a range: give it a historical schedule (PATCH) first`
      })
    }
    const now = yield* Clock.currentTimeMillis
    const alignedFrom = Plan.alignDown(from, timing)
    const alignedTo = Math.min(Plan.alignUp(to, timing), Plan.lastClosed(now, timing))
    if (!(alignedFrom < alignedTo)) {
      return yield* new InvalidRequest({
        field: "from",
        reason: "the range has no closed interval yet (it must start before now minus the settle delay)"
      })
    }
    const handle = running.handleOf(integration.id)
    // the range is merged with the one pending and written only over the cursors it was merged
    // with: the owner may be another node, committing a window of the pending range meanwhile
    // (its local lock doesn't reach here), and neither write may undo the other
    const merge = Effect.gen(function*() {
      const cursors = yield* storage.cursors.list(integration.id)
      const pending = Plan.pendingRange(cursors, Plan.reimportNames)
      const start = pending ? Math.min(pending.next, alignedFrom) : alignedFrom
      const end = pending ? Math.max(pending.to, alignedTo) : alignedTo
      const wrote = yield* storage.cursors.commit(integration.id, {
        expected: cursors,
        writes: [[Plan.streams.reimportTo, end], [Plan.streams.reimportFrom, start], [Plan.streams.reimportNext, start]]
      })
      return wrote ? Option.some({ from: toUtc(start), to: toUtc(end) }) : Option.none()
    })
    const accepted = yield* handle.lock.withPermits(1)(
      merge.pipe(
        Effect.flatten,
        // a window commits at most every few milliseconds: a handful of tries always finds a gap
        Effect.retry({ times: 20, while: (error) => error._tag === "NoSuchElementException" }),
        Effect.catchTag("NoSuchElementException", () =>
          Effect.fail(
            new StorageError({ operation: "reimport", reason: "the integration's cursors kept moving; try again" })
          ))
      )
    )
    yield* Effect.logInfo("re-import requested").pipe(
      Effect.annotateLogs({ integrationId: integration.id, from: accepted.from.toJSON(), to: accepted.to.toJSON() })
    )
    supervisor.addTenant(tenantId)
    yield* supervisor.ensure(integration)
    yield* running.signal(integration.id)
    return accepted
  })

  return { find, watch, wake, cursor, setCursor, reimport }
}

export type Operator = ReturnType<typeof make>
