/**
 * The connector runtime: runs every pull and realtime integration of the watched tenants.
 *
 * - **Historical** integrations run on their 15/30/60-minute cadence, at each interval
 *   boundary of the integration's time zone plus the settle delay. A run imports from the
 *   committed watermark (cursor stream `incremental`) up to the end of the newest closed
 *   interval (never past now minus the settle delay), and re-imports the trailing look-back
 *   (default 24 hours) so that corrections at the source land. Every window *replaces* the
 *   integration's data in it and commits its watermark in the same unit of work
 *   (`Ingest.importWindow`), so a crash leaves the old or the new state and a re-run never
 *   doubles.
 * - **First connect** imports the history (`historyDepthDays`, capped by the connector's
 *   `historyLimitDays`) in chunks (a day by default), newest or oldest first, while the
 *   incremental schedule starts at the explicit cutoff. Progress is in the run records
 *   (`kind: "history"`) and in `progress`.
 * - **Backfill state is apart from the incremental cursor**: the history range
 *   (`backfill.history.*`), the resume gap (`backfill.gap.*`: what is missing when the
 *   schedule starts again after a pause, a failing mark, a config change or an engine
 *   restart) and on-demand re-imports (`backfill.reimport.*`) each have their own cursor
 *   streams; the gap's `to` is the cutoff where incremental restarted. While the schedule
 *   keeps running, intervals a failure held up stay with the incremental cursor, which never
 *   moves past a failed write.
 * - **Realtime** integrations hold their stream open, reconnect with exponential backoff and
 *   jitter, and resume from their last committed position (cursor stream `realtime`).
 * - **Pause** stops at a window boundary (a window in flight is refused whole by the store);
 *   **resume** imports the gap once; **delete** stops for good.
 * - **Errors**: `Transient` backs off exponentially (capped), `RateLimited` waits
 *   `retryAfterMs`, `AuthFailed` (and a config the connector no longer accepts) marks the
 *   integration failing and stops its schedule until its config changes, `InvalidData` waits
 *   for the next run. Every attempt is recorded as an import run.
 *
 * All state lives in storage cursors, so a new scheduler over the same store carries on
 * where the old one stopped. Time is read from `Clock` only.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { IntervalLength } from "./Bucketing.js"
import { quarterKey, zone as resolveZone } from "./Bucketing.js"
import type { ConnectorError, RealtimeBatch } from "./Connector.js"
import type { Configured, Registered } from "./ConnectorRegistry.js"
import { ConnectorRegistry } from "./ConnectorRegistry.js"
import type {
  AgentStatus,
  Batch,
  ContactEvent,
  DataKind,
  DeliveryMode,
  ImportRun,
  ImportRunKind,
  Integration,
  IntegrationId,
  IntervalAggregate,
  TenantId
} from "./Domain.js"
import { batchSize, IntegrationId as IntegrationIdSchema } from "./Domain.js"
import type {
  IdempotencyKeyReused,
  IntegrationNotActive,
  InvalidRecord,
  StagingFull,
  StorageError
} from "./Errors.js"
import { CursorLocked, IntegrationDeleted, IntegrationNotFound, InvalidRequest } from "./Errors.js"
import { Ingest } from "./Ingest.js"
import * as Plan from "./internal/schedulePlan.js"
import { Storage } from "./Storage.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * How the scheduler runs. Every field has a default.
 *
 * @since 0.1.0 @category models
 */
export interface Options {
  /** Tenants whose integrations are scheduled from the start (more with `watch`). */
  readonly tenants?: ReadonlyArray<TenantId> | undefined
  /**
   * Delivery modes this engine runs (default `["cloud"]`: on-premise integrations are read by
   * the `link` agent next to the source, which pushes).
   */
  readonly deliveryModes?: ReadonlyArray<DeliveryMode> | undefined
  /** Settle delay for connectors that declare none (default 5 minutes). */
  readonly settleDelay?: Duration.DurationInput | undefined
  /** Trailing range re-imported on every run (default 24 hours). */
  readonly lookback?: Duration.DurationInput | undefined
  /** Largest window of one import (default 1 day): history, gaps and re-imports go in chunks of it. */
  readonly chunk?: Duration.DurationInput | undefined
  /** Order of the first history import (default newest first: recent data is there soonest). */
  readonly historyOrder?: "newest-first" | "oldest-first" | undefined
  /** Backoff after transient failures and realtime disconnects. */
  readonly backoff?: {
    /** first delay (default 1 second), doubled on every further failure */
    readonly initial?: Duration.DurationInput | undefined
    /** cap (default 5 minutes) */
    readonly max?: Duration.DurationInput | undefined
    /** spread each delay randomly over [delay/2, delay] (default true) */
    readonly jitter?: boolean | undefined
  } | undefined
  /** How often paused and failing integrations and the watched tenants are looked at again (default 30 s). */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** Realtime elements arriving within this time are applied together (default 1 second). */
  readonly realtimeBatchWindow?: Duration.DurationInput | undefined
  /** Lag beyond which health warns (default 1 hour, at least two intervals plus the settle delay). */
  readonly stallAfter?: Duration.DurationInput | undefined
}

/**
 * Options with every default filled in, durations in milliseconds.
 *
 * @since 0.1.0 @category models
 */
export interface ResolvedOptions {
  readonly tenants: ReadonlyArray<TenantId>
  readonly deliveryModes: ReadonlyArray<DeliveryMode>
  readonly settleDelayMs: number
  readonly lookbackMs: number
  readonly chunkMs: number
  readonly historyOrder: "newest-first" | "oldest-first"
  readonly backoffInitialMs: number
  readonly backoffMaxMs: number
  readonly jitter: boolean
  readonly pollIntervalMs: number
  readonly realtimeBatchWindowMs: number
  readonly stallAfterMs: number
}

const millis = (d: Duration.DurationInput | undefined, fallback: number): number =>
  d === undefined ? fallback : Duration.toMillis(Duration.decode(d))

/**
 * Fills in the defaults.
 *
 * @since 0.1.0 @category constructors
 */
export const resolveOptions = (options: Options = {}): ResolvedOptions => ({
  tenants: options.tenants ?? [],
  deliveryModes: options.deliveryModes ?? ["cloud"],
  settleDelayMs: millis(options.settleDelay, 5 * 60_000),
  lookbackMs: millis(options.lookback, 24 * 3_600_000),
  chunkMs: Math.max(15 * 60_000, millis(options.chunk, 24 * 3_600_000)),
  historyOrder: options.historyOrder ?? "newest-first",
  backoffInitialMs: millis(options.backoff?.initial, 1_000),
  backoffMaxMs: millis(options.backoff?.max, 5 * 60_000),
  jitter: options.backoff?.jitter ?? true,
  pollIntervalMs: Math.max(1, millis(options.pollInterval, 30_000)),
  realtimeBatchWindowMs: Math.max(1, millis(options.realtimeBatchWindow, 1_000)),
  stallAfterMs: millis(options.stallAfter, 3_600_000)
})

/**
 * The scheduler's options; `layer(options)` sets them.
 *
 * @since 0.1.0 @category tags
 */
export class SchedulerOptions extends Context.Reference<SchedulerOptions>()("@acd-bridge/core/SchedulerOptions", {
  defaultValue: (): ResolvedOptions => resolveOptions()
}) {}

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * The cursor streams the scheduler keeps per integration (epoch milliseconds, except
 * `realtime`, which is the source's own position):
 *
 * | stream | meaning |
 * | --- | --- |
 * | `incremental` | committed watermark: the end of the newest interval imported by the schedule |
 * | `backfill.history.from` / `.cutoff` | the first import's range; `cutoff` is where `incremental` started |
 * | `backfill.history.low` / `.high` | the part of the history imported so far is `[low, high)` |
 * | `backfill.gap.from` / `.next` / `.to` | resume gap: `[next, to)` is still to import; `to` is where `incremental` restarted |
 * | `backfill.reimport.from` / `.next` / `.to` | on-demand re-import: `[next, to)` is still to import |
 * | `realtime` | position after the last applied realtime element |
 *
 * @since 0.1.0 @category constants
 */
export const streams = Plan.streams

/**
 * What a scheduler task is doing: the incremental schedule, the history import, a resume gap,
 * an on-demand re-import, or a realtime stream.
 *
 * @since 0.1.0 @category models
 */
export type Task = Plan.Task | "realtime"

/**
 * One committed window (or realtime batch), as `progress` reports it.
 *
 * @since 0.1.0 @category models
 */
export interface ProgressEvent {
  readonly tenantId: TenantId
  readonly integrationId: IntegrationId
  readonly task: Task
  readonly kind: ImportRunKind
  /** the window, or null for realtime batches */
  readonly from: DateTime.Utc | null
  readonly to: DateTime.Utc | null
  readonly read: number
  readonly applied: number
  readonly rejected: number
  /** windows of this task done, and in all (a realtime batch counts 1 of 1) */
  readonly windowsDone: number
  readonly windowsTotal: number
  /** records this task applied since this scheduler started it */
  readonly records: number
  /** the task has nothing left to do */
  readonly done: boolean
}

/**
 * Progress of one backfill range.
 *
 * @since 0.1.0 @category models
 */
export interface BackfillProgress {
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
  readonly done: boolean
  readonly windowsDone: number
  readonly windowsTotal: number
  /** milliseconds of the range still to import */
  readonly remainingMs: number
}

/**
 * An integration's import health.
 *
 * @since 0.1.0 @category models
 */
export interface Health {
  readonly integrationId: IntegrationId
  readonly status: Integration["status"]
  readonly failing: string | null
  /** this scheduler runs the integration */
  readonly scheduled: boolean
  /** the committed incremental watermark */
  readonly watermark: DateTime.Utc | null
  /** everything after the history cutoff is imported up to here (the watermark, or the start of a pending gap) */
  readonly completeUntil: DateTime.Utc | null
  /** now minus `completeUntil` */
  readonly lagMs: number | null
  /** runs keep reading data but `completeUntil` does not move */
  readonly stalled: boolean
  readonly warnings: ReadonlyArray<string>
  readonly history: BackfillProgress | null
  readonly gap: BackfillProgress | null
  readonly reimport: BackfillProgress | null
  readonly realtimePosition: number | null
  readonly lastRun: ImportRun | null
}

/**
 * A range to import again, as asked and as accepted (aligned to the integration's interval
 * boundaries, capped at the newest closed interval, merged with a pending re-import).
 *
 * @since 0.1.0 @category models
 */
export interface ReimportRange {
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
}

type WindowError =
  | ConnectorError
  | StorageError
  | IntegrationNotActive
  | IntegrationDeleted
  | IntegrationNotFound
  | InvalidRecord
  | StagingFull
  | IdempotencyKeyReused

type Outcome =
  | { readonly _tag: "Again"; readonly succeeded: boolean }
  | { readonly _tag: "Wait"; readonly until: number; readonly wakeable: boolean }
  /** wait with exponential backoff; `reset` starts the backoff over (the source was healthy until now) */
  | { readonly _tag: "Backoff"; readonly reset?: boolean }
  | { readonly _tag: "Stop" }

type FiberState =
  | { readonly _tag: "Busy" }
  | { readonly _tag: "Waiting"; readonly until: number; readonly wakeable: boolean }
  /** a realtime stream is open and waiting for the source */
  | { readonly _tag: "Streaming" }

/** What one integration's fiber remembers between steps. */
interface Life {
  /** the schedule (re)started: more than one missing interval becomes a resume gap */
  resumed: boolean
  /** `updatedAt` of the integration at the last step: a change (pause, resume, config) is a restart */
  seen: number | undefined
}

interface Handle {
  readonly latch: Effect.Latch
  readonly lock: Effect.Semaphore
  /** `wake` was called since the fiber last started a step */
  woken: boolean
}

const again: Outcome = { _tag: "Again", succeeded: true }
const retry: Outcome = { _tag: "Again", succeeded: false }

// ---------------------------------------------------------------------------
// windows
// ---------------------------------------------------------------------------

interface Collected {
  readonly contacts: Array<ContactEvent>
  readonly aggregates: Array<IntervalAggregate>
  readonly statuses: Array<AgentStatus>
  read: number
}

const emptyCollected = (): Collected => ({ contacts: [], aggregates: [], statuses: [], read: 0 })

const addBatch = (into: Collected, batch: Batch): void => {
  for (const c of batch.contacts) into.contacts.push(c)
  for (const a of batch.aggregates) into.aggregates.push(a)
  for (const s of batch.statuses) into.statuses.push(s)
  into.read += batchSize(batch)
}

/**
 * Keeps what belongs to the window and to the integration's data kinds: contact events and
 * aggregates starting in [from, to), agent statuses overlapping it. Records outside the
 * window are rejected (they belong to another window and come with it).
 */
const fitWindow = (
  collected: Collected,
  window: { readonly from: number; readonly to: number } | undefined,
  kinds: ReadonlyArray<DataKind>
): { readonly batch: Batch; readonly rejected: number } => {
  const contactsWanted = kinds.includes("contacts")
  const statusesWanted = kinds.includes("agentStatuses")
  if (window === undefined) {
    return {
      batch: {
        contacts: contactsWanted ? collected.contacts : [],
        aggregates: contactsWanted ? collected.aggregates : [],
        statuses: statusesWanted ? collected.statuses : []
      },
      rejected: 0
    }
  }
  const inside = (ms: number) => ms >= window.from && ms < window.to
  let rejected = 0
  const keep = <A>(items: ReadonlyArray<A>, wanted: boolean, test: (a: A) => boolean): Array<A> => {
    if (!wanted) return []
    const out: Array<A> = []
    for (const item of items) {
      if (test(item)) out.push(item)
      else rejected++
    }
    return out
  }
  const contacts = keep(collected.contacts, contactsWanted, (c) => inside(DateTime.toEpochMillis(c.timestamp)))
  const aggregates = keep(collected.aggregates, contactsWanted, (a) => inside(DateTime.toEpochMillis(a.start)))
  const statuses = keep(
    collected.statuses,
    statusesWanted,
    (s) => DateTime.toEpochMillis(s.start) < window.to && (s.end === null || DateTime.toEpochMillis(s.end) > window.from)
  )
  return { batch: { contacts, aggregates, statuses }, rejected }
}

const sameCursors = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean => {
  const relevant = (m: ReadonlyMap<string, number>) => Array.from(m).filter(([k]) => k !== Plan.streams.realtime)
  const left = relevant(a)
  const right = relevant(b)
  return left.length === right.length && left.every(([k, v]) => b.get(k) === v)
}

const cadenceOf = (integration: Integration): IntervalLength | undefined =>
  integration.schedule.type === "historical" ? integration.schedule.everyMinutes : undefined

const toUtc = (ms: number) => DateTime.unsafeMake(ms)

const knownStreams: ReadonlySet<string> = new Set(Object.values(Plan.streams))

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

const make = Effect.gen(function*() {
  const options = yield* SchedulerOptions
  const storage = yield* Storage
  const registry = yield* ConnectorRegistry
  const ingest = yield* Ingest

  const hub = yield* Effect.acquireRelease(PubSub.sliding<ProgressEvent>(10_000), PubSub.shutdown)
  const fibers = yield* FiberMap.make<IntegrationId>()
  const runFiber = yield* FiberMap.runtime(fibers)<never>()
  const states = yield* SubscriptionRef.make<ReadonlyMap<IntegrationId, FiberState>>(new Map())
  const handles = new Map<IntegrationId, Handle>()
  const watched = new Set<TenantId>(options.tenants)
  const taskRecords = new Map<string, number>()

  const handleOf = (id: IntegrationId): Handle => {
    let handle = handles.get(id)
    if (!handle) {
      handle = { latch: Effect.unsafeMakeLatch(false), lock: Effect.unsafeMakeSemaphore(1), woken: false }
      handles.set(id, handle)
    }
    return handle
  }

  const setState = (id: IntegrationId, state: FiberState | undefined) =>
    SubscriptionRef.update(states, (current) => {
      const next = new Map(current)
      if (state === undefined) next.delete(id)
      else next.set(id, state)
      return next
    })

  const timingOf = (integration: Integration, registered: Registered): Plan.Timing | undefined => {
    const cadence = cadenceOf(integration)
    if (cadence === undefined) return undefined
    return {
      cadence,
      zone: Either.getOrElse(resolveZone(integration.timezone), () => DateTime.zoneMakeOffset(0)),
      settleMs: registered.settleDelayMs ?? options.settleDelayMs,
      lookbackMs: options.lookbackMs,
      chunkMs: options.chunkMs,
      order: options.historyOrder
    }
  }

  const historyDays = (integration: Integration, registered: Registered): number =>
    Math.max(1, Math.min(integration.historyDepthDays, registered.historyLimitDays ?? Number.POSITIVE_INFINITY))

  const backoffMs = (failures: number) =>
    Effect.gen(function*() {
      const base = Math.min(options.backoffMaxMs, options.backoffInitialMs * 2 ** Math.max(0, failures - 1))
      if (!options.jitter) return base
      const r = yield* Random.next
      return Math.round(base / 2 + (base / 2) * r)
    })

  /** Whether this engine runs the integration at all. */
  const schedulable = (integration: Integration) =>
    Effect.gen(function*() {
      if (integration.status === "deleted") return false
      if (!options.deliveryModes.includes(integration.deliveryMode)) return false
      const registered = yield* Effect.option(registry.get(integration.connector))
      if (Option.isNone(registered)) return false
      const configured = registered.value.configure(integration.config)
      // a config the connector refuses is scheduled, so that it is marked failing
      if (Either.isLeft(configured)) return true
      return integration.schedule.type === "historical"
        ? Option.isSome(configured.right.pull)
        : Option.isSome(configured.right.realtime)
    })

  /** Wakes the integration's fiber from a wakeable wait (or makes its next wait return at once). */
  const signal = (id: IntegrationId) =>
    Effect.gen(function*() {
      const handle = handleOf(id)
      handle.woken = true
      yield* SubscriptionRef.update(states, (current) => {
        const state = current.get(id)
        if (state === undefined || state._tag === "Busy" || (state._tag === "Waiting" && !state.wakeable)) {
          return current
        }
        return new Map(current).set(id, { _tag: "Busy" })
      })
      yield* handle.latch.open
    })

  const ensure = (integration: Integration) =>
    Effect.gen(function*() {
      if (!(yield* schedulable(integration))) return
      if (FiberMap.unsafeHas(fibers, integration.id)) return
      yield* setState(integration.id, { _tag: "Busy" })
      runFiber(
        integration.id,
        integrationLoop(integration.id).pipe(
          Effect.ensuring(setState(integration.id, undefined)),
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

  const discover = (tenantId: TenantId) =>
    Effect.flatMap(storage.integrations.list(tenantId), (list) => Effect.forEach(list, ensure, { discard: true }))

  // -------------------------------------------------------------------------
  // one integration
  // -------------------------------------------------------------------------

  const publish = (event: ProgressEvent) => PubSub.publish(hub, event)

  const countRecords = (id: IntegrationId, task: Task, applied: number): number => {
    const key = `${id}|${task}`
    const total = (taskRecords.get(key) ?? 0) + applied
    taskRecords.set(key, total)
    return total
  }

  /** Marks the integration failing, unless it changed (config, status) since `seen` was read. */
  const markFailing = (seen: Integration, reason: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // one compare-and-set on the version: a pause made meanwhile is never overwritten
      const marked = yield* storage.integrations.markFailing(seen.id, reason, now, { ifVersion: seen.version })
      if (Option.isNone(marked)) return
      yield* Effect.logWarning("integration marked failing; its schedule stops until its config changes").pipe(
        Effect.annotateLogs({ reason })
      )
    })

  const recordFailure = (
    integration: Integration,
    kind: ImportRunKind,
    started: number,
    read: number,
    window: { readonly from: number; readonly to: number } | undefined,
    error: WindowError
  ) =>
    ingest.record(integration.id, kind, started, { read, applied: 0, rejected: 0 }, window, error.message).pipe(
      Effect.catchAll((e) => Effect.logError("could not record a failed run", e.message))
    )

  /** What to do after a failed window or stream. */
  const onFailure = (
    integration: Integration,
    timing: Plan.Timing | undefined,
    error: WindowError,
    read: number
  ): Effect.Effect<Outcome, StorageError> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      switch (error._tag) {
        case "Transient":
        case "StorageError":
        case "StagingFull":
        case "IdempotencyKeyReused":
          yield* Effect.logWarning(`import failed, retrying with backoff: ${error.message}`)
          return { _tag: "Backoff", reset: false } as const
        case "RateLimited":
          yield* Effect.logInfo(`rate limited by the source; waiting ${error.retryAfterMs} ms`)
          return { _tag: "Wait", until: now + Math.max(0, error.retryAfterMs), wakeable: false } as const
        case "AuthFailed":
          yield* markFailing(integration, error.message)
          return retry
        case "InvalidData":
        case "InvalidRecord": {
          yield* Effect.logWarning(
            `the source returned data that can't be imported${
              read > 0 ? ` (after reading ${read} records; the watermark does not move)` : ""
            }: ${error.message}`
          )
          const until = timing ? Plan.nextRunAt(now, timing) : now + options.pollIntervalMs * 10
          return { _tag: "Wait", until, wakeable: true } as const
        }
        case "IntegrationNotActive":
          return retry
        case "IntegrationDeleted":
        case "IntegrationNotFound":
          return { _tag: "Stop" } as const
      }
    })

  /** Reads one window, fits it, and commits it with its watermark, unless the cursors moved. */
  const importWindow = (
    integration: Integration,
    handle: Handle,
    configured: Configured,
    step: Extract<Plan.Step, { _tag: "Run" }>,
    window: Plan.PlannedWindow,
    snapshot: ReadonlyMap<string, number>
  ) =>
    Effect.gen(function*() {
      const pull = Option.getOrThrow(configured.pull)
      const started = yield* Clock.currentTimeMillis
      const collected = emptyCollected()
      const read = yield* pull({ from: toUtc(window.from), to: toUtc(window.to) }).pipe(
        Stream.runForEach((batch) => Effect.sync(() => addBatch(collected, batch))),
        Effect.either
      )
      if (Either.isLeft(read)) {
        yield* recordFailure(integration, step.kind, started, collected.read, window, read.left)
        return { _tag: "Failed", error: read.left, read: collected.read } as const
      }
      const { batch, rejected } = fitWindow(collected, window, integration.dataKinds)
      if (rejected > 0) {
        yield* Effect.logWarning(`the connector returned ${rejected} records outside the window; they were not imported`)
      }
      const committed = yield* handle.lock.withPermits(1)(Effect.gen(function*() {
        const current = yield* storage.cursors.list(integration.id)
        if (!sameCursors(snapshot, current)) return Option.none()
        yield* ingest.importWindow({
          integration,
          batch,
          kind: step.kind,
          window: { from: window.from, to: window.to },
          watermark: window.watermark,
          rejected
        })
        return Option.some(yield* storage.cursors.list(integration.id))
      })).pipe(Effect.either)
      if (Either.isLeft(committed)) {
        yield* recordFailure(integration, step.kind, started, collected.read, window, committed.left)
        return { _tag: "Failed", error: committed.left, read: collected.read } as const
      }
      if (Option.isNone(committed.right)) return { _tag: "Moved" } as const
      return {
        _tag: "Committed",
        cursors: committed.right.value,
        read: collected.read,
        applied: batchSize(batch),
        rejected
      } as const
    })

  const taskDone = (task: Plan.Task, cursors: ReadonlyMap<string, number>, last: boolean): boolean => {
    switch (task) {
      case "incremental":
        return last
      case "history":
        return !Plan.historyPending(Plan.history(cursors))
      case "gap":
        return Plan.pendingRange(cursors, Plan.gapNames) === undefined
      case "reimport":
        return Plan.pendingRange(cursors, Plan.reimportNames) === undefined
    }
  }

  const runWindows = (
    integration: Integration,
    handle: Handle,
    configured: Configured,
    timing: Plan.Timing,
    step: Extract<Plan.Step, { _tag: "Run" }>,
    cursors: ReadonlyMap<string, number>
  ) =>
    Effect.gen(function*() {
      let snapshot = cursors
      for (let i = 0; i < step.windows.length; i++) {
        const window = step.windows[i]!
        if (i > 0) {
          // pause and delete take effect at a window boundary
          const fresh = yield* storage.integrations.get(integration.id)
          if (Option.isNone(fresh) || fresh.value.status !== "active" || fresh.value.failing !== null) return retry
        }
        const result = yield* importWindow(integration, handle, configured, step, window, snapshot)
        if (result._tag === "Moved") return retry
        if (result._tag === "Failed") return yield* onFailure(integration, timing, result.error, result.read)
        snapshot = result.cursors
        const last = i === step.windows.length - 1
        const done = taskDone(step.task, snapshot, last)
        const windowsDone = step.task === "incremental" ? i + 1 : Math.min(step.windowsTotal, step.windowsDone + 1)
        yield* publish({
          tenantId: integration.tenantId,
          integrationId: integration.id,
          task: step.task,
          kind: step.kind,
          from: toUtc(window.from),
          to: toUtc(window.to),
          read: result.read,
          applied: result.applied,
          rejected: result.rejected,
          windowsDone: done && step.task !== "incremental" ? step.windowsTotal : windowsDone,
          windowsTotal: step.windowsTotal,
          records: countRecords(integration.id, step.task, result.applied),
          done
        })
        if (done && step.task !== "incremental") {
          yield* Effect.logInfo(`${step.task} import finished`)
        }
      }
      return again
    })

  const historicalStep = (
    integration: Integration,
    handle: Handle,
    registered: Registered,
    configured: Configured,
    life: Life
  ): Effect.Effect<Outcome, StorageError> =>
    Effect.gen(function*() {
      const timing = timingOf(integration, registered)
      if (timing === undefined || Option.isNone(configured.pull)) return { _tag: "Stop" } as const
      const now = yield* Clock.currentTimeMillis
      const cursors = yield* storage.cursors.list(integration.id)
      const step = Plan.plan(cursors, now, historyDays(integration, registered), timing, life.resumed)
      if ((step._tag === "Write" && step.reason === "gap") || (step._tag === "Run" && step.task === "incremental")) {
        life.resumed = false
      }
      switch (step._tag) {
        case "Idle":
          return { _tag: "Wait", until: step.until, wakeable: true } as const
        case "Write": {
          // one compare-and-set: the plan is written only if no cursor moved since it was read
          const written = yield* handle.lock.withPermits(1)(
            storage.cursors.commit(integration.id, { expected: cursors, writes: step.writes })
          )
          if (written) {
            const at = (s: string) => step.writes.find(([k]) => k === s)?.[1] ?? 0
            yield* step.reason === "init"
              ? Effect.logInfo("first connect: history import planned").pipe(Effect.annotateLogs({
                from: toUtc(at(Plan.streams.historyFrom)).toJSON(),
                cutoff: toUtc(at(Plan.streams.historyCutoff)).toJSON()
              }))
              : Effect.logInfo("gap detected: importing it as backfill").pipe(Effect.annotateLogs({
                from: toUtc(at(Plan.streams.gapNext)).toJSON(),
                cutoff: toUtc(at(Plan.streams.gapTo)).toJSON()
              }))
          }
          return retry
        }
        case "Run":
          return yield* runWindows(integration, handle, configured, timing, step, cursors)
      }
    })

  const realtimeStep = (
    integration: Integration,
    handle: Handle,
    configured: Configured
  ): Effect.Effect<Outcome, StorageError> =>
    Effect.gen(function*() {
      if (Option.isNone(configured.realtime)) return { _tag: "Stop" } as const
      const open = configured.realtime.value
      const position = yield* storage.cursors.get(integration.id, Plan.streams.realtime)
      let applied = 0
      let read = 0
      const apply = (elements: ReadonlyArray<RealtimeBatch>) =>
        Effect.gen(function*() {
          yield* setState(integration.id, { _tag: "Busy" })
          const collected = emptyCollected()
          let last: number | undefined
          for (const element of elements) {
            addBatch(collected, element)
            if (element.position !== undefined) last = element.position
          }
          read += collected.read
          const { batch } = fitWindow(collected, undefined, integration.dataKinds)
          if (batchSize(batch) === 0 && last === undefined) return
          yield* ingest.importWindow({
            integration,
            batch,
            kind: "realtime",
            watermark: last === undefined ? undefined : { stream: Plan.streams.realtime, value: last }
          })
          applied += batchSize(batch)
          const total = countRecords(integration.id, "realtime", batchSize(batch))
          yield* publish({
            tenantId: integration.tenantId,
            integrationId: integration.id,
            task: "realtime",
            kind: "realtime",
            from: null,
            to: null,
            read: collected.read,
            applied: batchSize(batch),
            rejected: 0,
            windowsDone: 1,
            windowsTotal: 1,
            records: total,
            done: false
          })
        }).pipe(Effect.ensuring(setState(integration.id, { _tag: "Streaming" })))
      const consume = open(Option.getOrUndefined(position)).pipe(
        Stream.groupedWithin(10_000, Duration.millis(options.realtimeBatchWindowMs)),
        Stream.runForEach((chunk) => apply(Array.from(chunk))),
        Effect.either
      )
      // stops the stream when the integration is paused, deleted, marked failing or reconfigured
      const watch = Effect.gen(function*() {
        while (true) {
          yield* Effect.raceFirst(Effect.sleep(Duration.millis(options.pollIntervalMs)), handle.latch.await)
          handle.woken = false
          yield* handle.latch.close
          const fresh = yield* storage.integrations.get(integration.id)
          if (
            Option.isNone(fresh) || fresh.value.status !== "active" || fresh.value.failing !== null ||
            !DateTime.Equivalence(fresh.value.updatedAt, integration.updatedAt)
          ) return
          yield* setState(integration.id, { _tag: "Streaming" })
        }
      })
      yield* Effect.logInfo("realtime stream opened").pipe(
        Effect.annotateLogs({ position: Option.getOrNull(position) })
      )
      const started = yield* Clock.currentTimeMillis
      yield* setState(integration.id, { _tag: "Streaming" })
      const result = yield* Effect.raceFirst(
        consume.pipe(Effect.map((r) => Option.some(r))),
        watch.pipe(Effect.as(Option.none()))
      )
      if (Option.isNone(result)) return retry
      const outcome = result.value
      if (Either.isRight(outcome)) {
        yield* Effect.logInfo("realtime stream ended; reconnecting")
        return { _tag: "Backoff", reset: applied > 0 } as const
      }
      const error = outcome.left
      if (error._tag !== "IntegrationNotActive") {
        yield* recordFailure(integration, "realtime", started, read - applied, undefined, error)
      }
      const next = yield* onFailure(integration, undefined, error, read - applied)
      // a stream that delivered before failing starts the backoff over
      return next._tag === "Backoff" ? { _tag: "Backoff", reset: applied > 0 } as const : next
    })

  const integrationStep = (id: IntegrationId, handle: Handle, life: Life): Effect.Effect<Outcome, StorageError> =>
    Effect.gen(function*() {
      const found = yield* storage.integrations.get(id)
      if (Option.isNone(found) || found.value.status === "deleted") return { _tag: "Stop" } as const
      const integration = found.value
      const now = yield* Clock.currentTimeMillis
      const idle: Outcome = { _tag: "Wait", until: now + options.pollIntervalMs, wakeable: true }
      const updatedAt = DateTime.toEpochMillis(integration.updatedAt)
      if (life.seen !== undefined && life.seen !== updatedAt) life.resumed = true
      life.seen = updatedAt
      if (integration.status !== "active" || integration.failing !== null) {
        // what is missed from here on is a gap, imported as backfill when it runs again
        life.resumed = true
        return idle
      }
      const registered = yield* Effect.either(registry.get(integration.connector))
      if (Either.isLeft(registered)) {
        yield* Effect.logWarning(registered.left.message)
        return idle
      }
      const configured = registered.right.configure(integration.config)
      if (Either.isLeft(configured)) {
        yield* markFailing(integration, configured.left.message)
        return retry
      }
      return integration.schedule.type === "historical"
        ? yield* historicalStep(integration, handle, registered.right, configured.right, life)
        : yield* realtimeStep(integration, handle, configured.right)
    })

  const integrationLoop = (id: IntegrationId): Effect.Effect<void> =>
    Effect.gen(function*() {
      const handle = handleOf(id)
      // a schedule that starts treats what it missed (the engine was down) as a gap
      const life: Life = { resumed: true, seen: undefined }
      let failures = 0
      while (true) {
        handle.woken = false
        yield* handle.latch.close
        yield* setState(id, { _tag: "Busy" })
        const outcome = yield* integrationStep(id, handle, life).pipe(
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`storage failed; retrying with backoff: ${error.message}`), {
              _tag: "Backoff",
              reset: false
            } as const)
          ),
          Effect.catchAllDefect((defect) =>
            Effect.as(Effect.logError("scheduler step died; retrying with backoff", defect), {
              _tag: "Backoff",
              reset: false
            } as const)
          )
        )
        const now = yield* Clock.currentTimeMillis
        switch (outcome._tag) {
          case "Stop":
            yield* Effect.logInfo("schedule stopped")
            return
          case "Again":
            if (outcome.succeeded) failures = 0
            yield* Effect.yieldNow()
            break
          case "Backoff": {
            failures = outcome.reset ? 1 : failures + 1
            const delay = yield* backoffMs(failures)
            yield* setState(id, { _tag: "Waiting", until: now + delay, wakeable: false })
            yield* Effect.sleep(Duration.millis(delay))
            break
          }
          case "Wait": {
            // woken while working: look again at once
            if (outcome.wakeable && handle.woken) break
            const delay = Math.max(0, outcome.until - now)
            yield* setState(id, { _tag: "Waiting", until: now + delay, wakeable: outcome.wakeable })
            yield* outcome.wakeable
              ? Effect.raceFirst(Effect.sleep(Duration.millis(delay)), handle.latch.await)
              : Effect.sleep(Duration.millis(delay))
            break
          }
        }
      }
    })

  // -------------------------------------------------------------------------
  // discovery
  // -------------------------------------------------------------------------

  yield* Effect.forkScoped(
    Effect.gen(function*() {
      while (true) {
        for (const tenantId of Array.from(watched)) {
          yield* discover(tenantId).pipe(
            Effect.catchAll((error) => Effect.logWarning(`could not list integrations: ${error.message}`)),
            Effect.annotateLogs({ tenantId })
          )
        }
        yield* Effect.sleep(Duration.millis(options.pollIntervalMs))
      }
    }).pipe(Effect.withLogSpan("scheduler"))
  )

  // -------------------------------------------------------------------------
  // the API
  // -------------------------------------------------------------------------

  const find = (tenantId: TenantId, id: string) =>
    Effect.gen(function*() {
      const decoded = IntegrationIdSchema.make(id)
      const found = yield* storage.integrations.get(decoded)
      if (Option.isNone(found) || found.value.tenantId !== tenantId) {
        return yield* new IntegrationNotFound({ integrationId: id })
      }
      return found.value
    })

  /**
   * Schedules every integration of the tenant, now and as they are created (they are found
   * within `pollInterval`; `wake` starts one at once).
   */
  const watch = (tenantId: TenantId) =>
    Effect.suspend(() => {
      watched.add(tenantId)
      return discover(tenantId)
    }).pipe(Effect.withSpan("Scheduler.watch"))

  /**
   * Runs the integration now: starts its schedule if this scheduler doesn't run it yet (and
   * watches its tenant), and wakes it from waiting for its next interval, a poll after pause,
   * or a failing mark. Call it after resume, a config change or a cursor change for an
   * immediate reaction; otherwise the scheduler notices within `pollInterval`.
   */
  const wake = Effect.fn("Scheduler.wake")(function*(tenantId: TenantId, id: string) {
    const integration = yield* find(tenantId, id)
    watched.add(tenantId)
    yield* ensure(integration)
    yield* signal(integration.id)
  })

  /** Every cursor stream of the integration (see `streams`). */
  const cursor = Effect.fn("Scheduler.cursor")(function*(tenantId: TenantId, id: string) {
    const integration = yield* find(tenantId, id)
    const all = yield* storage.cursors.list(integration.id)
    return Object.fromEntries(Array.from(all).sort(([a], [b]) => a.localeCompare(b))) as Readonly<
      Record<string, number>
    >
  })

  /**
   * Sets one cursor stream, only while the integration is paused (`CursorLocked` otherwise).
   * Time streams take epoch milliseconds on a UTC quarter-hour. Setting `incremental` back
   * makes the resume import from there; setting `backfill.history.low` to
   * `backfill.history.cutoff` (and `.high` likewise) imports the history again.
   */
  const setCursor = Effect.fn("Scheduler.setCursor")(
    function*(tenantId: TenantId, id: string, stream: string, value: number) {
      const integration = yield* find(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      if (integration.status !== "paused") return yield* new CursorLocked({ integrationId: integration.id })
      if (!knownStreams.has(stream)) {
        return yield* new InvalidRequest({
          field: "stream",
          reason: `unknown cursor stream "${stream}"; the streams are: ${Array.from(knownStreams).join(", ")}`
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
      const handle = handleOf(integration.id)
      yield* handle.lock.withPermits(1)(storage.cursors.set(integration.id, stream, value))
      yield* Effect.logInfo("cursor set by an operator").pipe(
        Effect.annotateLogs({ integrationId: integration.id, stream, value })
      )
    }
  )

  /**
   * Imports [from, to) again: the range is aligned outward to the integration's interval
   * boundaries, capped at the newest closed interval, merged with a re-import still pending,
   * kept in storage (it survives restarts), and imported in windows that each replace the
   * integration's data (runs of kind `reimport`). While paused it waits for resume.
   */
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
      onLeft: () => true,
      onRight: (c) => Option.isSome(c.pull)
    })
    const timing = timingOf(integration, registered)
    if (!canPull || timing === undefined) {
      return yield* new InvalidRequest({
        field: "integration",
        reason: `integration ${integration.id} is not imported in historical windows (connector "${integration.connector}", ${
          integration.schedule.type
        } schedule), so it can't re-import a range`
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
    const handle = handleOf(integration.id)
    const accepted = yield* handle.lock.withPermits(1)(Effect.gen(function*() {
      const cursors = yield* storage.cursors.list(integration.id)
      const pending = Plan.pendingRange(cursors, Plan.reimportNames)
      const start = pending ? Math.min(pending.next, alignedFrom) : alignedFrom
      const end = pending ? Math.max(pending.to, alignedTo) : alignedTo
      yield* storage.cursors.set(integration.id, Plan.streams.reimportTo, end)
      yield* storage.cursors.set(integration.id, Plan.streams.reimportFrom, start)
      yield* storage.cursors.set(integration.id, Plan.streams.reimportNext, start)
      return { from: toUtc(start), to: toUtc(end) }
    }))
    yield* Effect.logInfo("re-import requested").pipe(
      Effect.annotateLogs({ integrationId: integration.id, from: accepted.from.toJSON(), to: accepted.to.toJSON() })
    )
    watched.add(tenantId)
    yield* ensure(integration)
    yield* signal(integration.id)
    return accepted
  })

  const progressOf = (
    range: { readonly from: number; readonly to: number; readonly remaining: number },
    chunkMs: number
  ): BackfillProgress => {
    const total = range.to > range.from ? Math.ceil((range.to - range.from) / chunkMs) : 0
    const left = range.remaining > 0 ? Math.ceil(range.remaining / chunkMs) : 0
    return {
      from: toUtc(range.from),
      to: toUtc(range.to),
      done: range.remaining <= 0,
      windowsDone: total - left,
      windowsTotal: total,
      remainingMs: Math.max(0, range.remaining)
    }
  }

  /** The integration's import health: lag, stall warning, backfill progress, last run. */
  const health = Effect.fn("Scheduler.health")(function*(tenantId: TenantId, id: string) {
    const integration = yield* find(tenantId, id)
    const cursors = yield* storage.cursors.list(integration.id)
    const runs = yield* storage.runs.list(integration.id, 200)
    const now = yield* Clock.currentTimeMillis
    const registered = yield* Effect.option(registry.get(integration.connector))
    const timing = Option.isSome(registered) ? timingOf(integration, registered.value) : undefined
    const chunkMs = options.chunkMs
    const watermark = cursors.get(Plan.streams.incremental)
    const gap = Plan.pendingRange(cursors, Plan.gapNames)
    const hist = Plan.history(cursors)
    const completeUntil = watermark === undefined ? undefined : gap ? Math.min(gap.next, watermark) : watermark
    const lagMs = completeUntil === undefined ? null : Math.max(0, now - completeUntil)
    const warnings: Array<string> = []
    let stalled = false
    if (integration.failing !== null) warnings.push(`failing: ${integration.failing}`)
    if (integration.status === "active" && timing && completeUntil !== undefined && lagMs !== null) {
      const threshold = Math.max(options.stallAfterMs, 2 * timing.cadence * 60_000 + timing.settleMs)
      if (lagMs > threshold) {
        const due = completeUntil + timing.cadence * 60_000 + timing.settleMs
        const since = runs.filter((r) =>
          (r.kind === "pull" || r.kind === "resume") && DateTime.toEpochMillis(r.startedAt) >= due
        )
        const reading = since.filter((r) => r.read > 0)
        const since_ = toUtc(completeUntil).toJSON()
        if (reading.length > 0) {
          stalled = true
          warnings.push(
            `stalled: ${reading.length} runs read ${
              reading.reduce((n, r) => n + r.read, 0)
            } records but nothing is imported after ${since_}${
              reading[0]!.error ? ` (last error: ${reading[0]!.error})` : ""
            }`
          )
        } else {
          const lastError = since.find((r) => r.error !== null)?.error
          warnings.push(
            `lagging: nothing imported after ${since_} for ${Math.round(lagMs / 60_000)} minutes${
              lastError ? ` (last error: ${lastError})` : ""
            }`
          )
        }
      }
    }
    const rangeProgress = (names: typeof Plan.gapNames | typeof Plan.reimportNames) => {
      const from = cursors.get(names.from)
      const next = cursors.get(names.next)
      const to = cursors.get(names.to)
      if (from === undefined || next === undefined || to === undefined) return null
      return progressOf({ from, to, remaining: to - Math.max(next, from) }, chunkMs)
    }
    return {
      integrationId: integration.id,
      status: integration.status,
      failing: integration.failing,
      scheduled: FiberMap.unsafeHas(fibers, integration.id),
      watermark: watermark === undefined ? null : toUtc(watermark),
      completeUntil: completeUntil === undefined ? null : toUtc(completeUntil),
      lagMs,
      stalled,
      warnings,
      history: hist
        ? progressOf(
          { from: hist.from, to: hist.cutoff, remaining: (hist.low - hist.from) + (hist.cutoff - hist.high) },
          chunkMs
        )
        : null,
      gap: rangeProgress(Plan.gapNames),
      reimport: rangeProgress(Plan.reimportNames),
      realtimePosition: cursors.get(Plan.streams.realtime) ?? null,
      lastRun: runs[0] ?? null
    } satisfies Health
  })

  const matches = (tenantId: TenantId | undefined, integrationId: IntegrationId | undefined) => (e: ProgressEvent) =>
    (tenantId === undefined || e.tenantId === tenantId) &&
    (integrationId === undefined || e.integrationId === integrationId)

  /** Committed windows as they happen, optionally of one tenant or integration. */
  const progress = (tenantId?: TenantId, integrationId?: IntegrationId): Stream.Stream<ProgressEvent> =>
    Stream.fromPubSub(hub).pipe(Stream.filter(matches(tenantId, integrationId)))

  /** Like `progress`, but subscribed before the effect returns, so no event is missed. */
  const subscribe = (
    tenantId?: TenantId,
    integrationId?: IntegrationId
  ): Effect.Effect<Stream.Stream<ProgressEvent>, never, Scope.Scope> =>
    Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue).pipe(Stream.filter(matches(tenantId, integrationId))))

  /**
   * Completes when every integration this scheduler runs is waiting for a future instant (its
   * next interval, a backoff, a poll): for tests with `TestClock` and for hosts draining before
   * shutdown.
   */
  const awaitIdle: Effect.Effect<void> = Effect.gen(function*() {
    const isIdle = (m: ReadonlyMap<IntegrationId, FiberState>, now: number) =>
      Array.from(m.values()).every((s) => s._tag === "Streaming" || (s._tag === "Waiting" && s.until > now))
    yield* states.changes.pipe(
      Stream.mapEffect((m) => Effect.map(Clock.currentTimeMillis, (now) => isIdle(m, now))),
      Stream.takeUntil((idle) => idle),
      Stream.runDrain
    )
  })

  return { watch, wake, reimport, cursor, setCursor, health, progress, subscribe, awaitIdle } as const
})

/**
 * The scheduler. It needs `Storage`, `ConnectorRegistry` and `Ingest` (all in
 * `Engine.layer` plus the host's storage and registry); its fibers live as long as its layer.
 *
 * @since 0.1.0 @category services
 */
export class Scheduler extends Effect.Service<Scheduler>()("@acd-bridge/core/Scheduler", {
  scoped: make
}) {}

/**
 * The scheduler with the given options.
 *
 * ```ts
 * const Host = Scheduler.layer({ tenants: [tenantId] }).pipe(Layer.provideMerge(EngineLive))
 * ```
 *
 * @since 0.1.0 @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Scheduler, never, Storage | ConnectorRegistry | Ingest> =>
  Scheduler.Default.pipe(Layer.provide(Layer.succeed(SchedulerOptions, resolveOptions(options))))
