/**
 * The connector runtime: runs every pull and realtime integration of the watched tenants.
 * The rules are in `docs/scheduler.md`; in short:
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
 *   incremental schedule starts at the explicit cutoff.
 * - **Backfill state is apart from the incremental cursor**: the history range, the resume
 *   gap (what is missing when the schedule starts again after a pause, a failing mark, a
 *   config change or an engine restart, *plus the look-back before it*, so corrections the
 *   source wrote meanwhile land) and on-demand re-imports each have their own cursor streams.
 * - **Realtime** integrations hold their stream open, reconnect with backoff, and resume from
 *   their last committed position (cursor stream `realtime`).
 * - **Pause** stops at a window boundary; **resume** imports the gap; **delete** stops for good.
 * - **Failures**: every failed attempt is an import run with its error. `Transient` errors,
 *   storage failures and defects (a connector that throws) back off along a `Schedule`
 *   (exponential, capped, jittered); when they last longer than `failingAfter`, the
 *   integration is marked failing with the reason and the retries go on, and the next success
 *   clears the mark. `RateLimited` waits `retryAfterMs` (health says until when). `AuthFailed`
 *   and a config the connector refuses mark it failing and stop it until its config changes.
 *   `InvalidData` waits for the next run.
 *
 * All state lives in storage cursors, so a new scheduler over the same store carries on
 * where the old one stopped. Time is read from `Clock` only.
 *
 * The parts, each in `internal/scheduler/`: the supervisor (which integrations run, one
 * fiber each), the loop of one integration, the historical and realtime runners, failure
 * handling and the retry schedule, the operator API, health and progress; the pure planner
 * is `internal/schedulePlan`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ConnectorRegistry } from "./ConnectorRegistry.js"
import type {
  DeliveryMode,
  ImportRun,
  ImportRunKind,
  Integration,
  IntegrationId,
  TenantId
} from "./Domain.js"
import { Ingest } from "./Ingest.js"
import { isOpen, OnPremise } from "./LinkModel.js"
import { LinkTasks } from "./LinkTasks.js"
import * as Plan from "./internal/schedulePlan.js"
import type { Deps } from "./internal/scheduler/context.js"
import * as Failures from "./internal/scheduler/failures.js"
import * as HealthReport from "./internal/scheduler/health.js"
import * as Historical from "./internal/scheduler/historical.js"
import * as Loop from "./internal/scheduler/loop.js"
import * as Operator from "./internal/scheduler/operator.js"
import * as Progress from "./internal/scheduler/progress.js"
import * as Realtime from "./internal/scheduler/realtime.js"
import * as Retry from "./internal/scheduler/retry.js"
import * as Running from "./internal/scheduler/running.js"
import * as Supervisor from "./internal/scheduler/supervisor.js"
import { everything, Ownership } from "./Ownership.js"
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
   * Delivery modes this engine runs (default `["cloud"]`). On-premise integrations it does not
   * run are left to an on-premise link agent next to the source (not released yet); their
   * health says `waitingForLink`. A server inside the customer's network runs them itself
   * with `["cloud", "on-premise"]`.
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
  /** Backoff after failed attempts (transient errors, defects, storage failures) and realtime disconnects. */
  readonly backoff?: {
    /** first delay (default 1 second), doubled on every further failure */
    readonly initial?: Duration.DurationInput | undefined
    /** cap (default 5 minutes): a failing integration is tried again at least this often */
    readonly max?: Duration.DurationInput | undefined
    /** spread each delay randomly over [delay/2, delay] (default true) */
    readonly jitter?: boolean | undefined
  } | undefined
  /**
   * When failed attempts in a row mark the integration failing (with the reason, in health):
   * after `attempts` of them (default 20; `Infinity` leaves it to the time) or once the first
   * is `duration` old (default 30 minutes), whichever comes first. The retries go on with
   * the backoff and the next success clears the mark. Transient errors, storage failures and
   * defects count; rate limits, `InvalidData` (health reports a stall instead) and pauses
   * don't.
   */
  readonly failingAfter?: {
    readonly attempts?: number | undefined
    readonly duration?: Duration.DurationInput | undefined
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
  readonly failingAfterAttempts: number
  readonly failingAfterMs: number
  readonly pollIntervalMs: number
  readonly realtimeBatchWindowMs: number
  readonly stallAfterMs: number
}

const millis = (d: Duration.DurationInput | undefined, fallback: number): number =>
  d === undefined ? fallback : Duration.toMillis(Duration.decode(d))

/** A whole number of attempts ≥ 1 (`Infinity`: the time bound alone decides). */
const attemptsBound = (n: number | undefined): number =>
  n === undefined || Number.isNaN(n) ? 20 : Math.max(1, Math.floor(n))

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
  failingAfterAttempts: attemptsBound(options.failingAfter?.attempts),
  failingAfterMs: millis(options.failingAfter?.duration, 30 * 60_000),
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
 * | `backfill.gap.from` / `.next` / `.to` | resume gap: `[next, to)` is still to import; `from` is the old watermark minus the look-back, `to` is where `incremental` restarted |
 * | `backfill.gap.missing` | the old watermark: the gap re-reads what lies before it and imports what lies after it for the first time |
 * | `backfill.reimport.from` / `.next` / `.to` | on-demand re-import: `[next, to)` is still to import |
 * | `realtime` | position after the last applied realtime element |
 * | `retry.attempts` / `retry.since` | the failure streak: attempts failed in a row, and when the first started (kept by the scheduler; not settable) |
 *
 * @since 0.1.0 @category constants
 */
export const streams = { ...Plan.streams, retryAttempts: Retry.streams.attempts, retrySince: Retry.streams.since } as const

/**
 * What a scheduler task is doing: the incremental schedule, the history import, a resume gap,
 * an on-demand re-import, or a realtime stream.
 *
 * @since 0.1.0 @category models
 */
export type Task = Plan.Task | "realtime"

/**
 * One committed window (or realtime batch), as `subscribe` reports it.
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
  /** records the range's windows applied (from its recent import runs) */
  readonly records: number
  /** records applied per second while the range was imported (null until two windows are done) */
  readonly recordsPerSecond: number | null
  /** seconds until the range is imported, at the pace of its recent windows (null when done or unknown) */
  readonly etaSeconds: number | null
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
  /**
   * an on-premise integration this engine does not run (its `deliveryModes` leave on-premise
   * to a link agent next to the source): until a link serves it, nothing imports it, and a
   * warning says so
   */
  readonly waitingForLink: boolean
  /** the committed incremental watermark */
  readonly watermark: DateTime.Utc | null
  /**
   * everything after the history cutoff is imported up to here: the watermark, or where the
   * missing part of a pending gap starts
   */
  readonly completeUntil: DateTime.Utc | null
  /** now minus `completeUntil` */
  readonly lagMs: number | null
  /** runs keep reading data but `completeUntil` does not move */
  readonly stalled: boolean
  /** what needs attention, as sentences: failing, retrying, rate limited, stalled, lagging, waiting for a link */
  readonly warnings: ReadonlyArray<string>
  /** attempts failed in a row (retried with backoff), or null after a success */
  readonly retrying: {
    readonly attempts: number
    readonly since: DateTime.Utc
    /** when this scheduler tries again, while it waits out the backoff */
    readonly nextAttemptAt: DateTime.Utc | null
    readonly lastError: string | null
  } | null
  /** the source asked to wait until then (`RateLimited`), while this scheduler waits */
  readonly rateLimitedUntil: DateTime.Utc | null
  readonly history: BackfillProgress | null
  readonly gap: BackfillProgress | null
  readonly reimport: BackfillProgress | null
  readonly realtimePosition: number | null
  /**
   * On-premise integrations read by links: since when a planned window has waited for a link
   * to lease it (null while a link holds it or nothing is offered)
   */
  readonly waitingForLinkSince: DateTime.Utc | null
  readonly lastRun: ImportRun | null
  /** the newest run that failed, when it is newer than the last success */
  readonly lastError: { readonly at: DateTime.Utc; readonly kind: ImportRunKind; readonly message: string } | null
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

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * The link tasks, when on-premise integrations are read by links (`LinkModel.layerOnPremise("link")`);
 * `LinkTasks` is in `Engine.layer`.
 */
const linksOf = Effect.gen(function*() {
  if ((yield* OnPremise) !== "link") return undefined
  const links = yield* Effect.serviceOption(LinkTasks)
  if (links._tag === "None") {
    return yield* Effect.dieMessage("on-premise mode \"link\" needs the LinkTasks service (in Engine.layer)")
  }
  return links.value
})

const make = Effect.gen(function*() {
  const deps: Deps = {
    options: yield* SchedulerOptions,
    storage: yield* Storage,
    registry: yield* ConnectorRegistry,
    ingest: yield* Ingest,
    ownership: Option.getOrElse(yield* Effect.serviceOption(Ownership), () => everything),
    links: yield* linksOf
  }
  const links = deps.links
  const running = yield* Running.make(
    links === undefined ? undefined : (taskId) =>
      deps.storage.linkTasks.get(taskId).pipe(
        Effect.map((task) => task._tag === "Some" && isOpen(task.value)),
        Effect.orElseSucceed(() => false)
      )
  )
  const progress = yield* Progress.make
  const failures = Failures.make(deps)
  const loop = Loop.make(
    deps,
    running,
    failures,
    Historical.make(deps, running, progress, failures),
    Realtime.make(deps, running, progress, failures)
  )
  const supervisor = yield* Supervisor.make(deps, running, loop)
  const operator = Operator.make(deps, running, supervisor)
  const health = HealthReport.make(deps, running, supervisor, operator)

  return {
    /**
     * Schedules every integration of the tenant, now and as they are created (they are found
     * within `pollInterval`; `wake` starts one at once).
     */
    watch: operator.watch,
    /**
     * Runs the integration now: starts its schedule if this scheduler doesn't run it yet (and
     * watches its tenant), and wakes it from waiting for its next interval, a poll after pause,
     * or a failing mark. Call it after resume, a config change or a cursor change for an
     * immediate reaction; otherwise the scheduler notices within `pollInterval`.
     */
    wake: operator.wake,
    /**
     * Imports [from, to) again: the range is aligned outward to the integration's interval
     * boundaries, capped at the newest closed interval, merged with a re-import still pending,
     * kept in storage (it survives restarts), and imported in windows that each replace the
     * integration's data (runs of kind `reimport`). While paused it waits for resume.
     */
    reimport: operator.reimport,
    /** Every cursor stream of the integration (see `streams`). */
    cursor: operator.cursor,
    /**
     * Sets one cursor stream, only while the integration is paused (`CursorLocked` otherwise).
     * Time streams take epoch milliseconds on a UTC quarter-hour. Setting `incremental` back
     * makes the resume import from there; setting `backfill.history.low` to
     * `backfill.history.cutoff` (and `.high` likewise) imports the history again.
     */
    setCursor: operator.setCursor,
    /**
     * The integration's import health: lag, failing mark and why, the failure streak, a rate
     * limit being waited out, stall warning, backfill progress, last run.
     */
    health,
    /** Committed windows as they happen, optionally of one tenant or integration; subscribed before it returns. */
    subscribe: progress.subscribe,
    /**
     * Completes when every integration this scheduler runs is waiting for a future instant (its
     * next interval, a backoff, a poll): for tests with `TestClock` and for hosts draining before
     * shutdown.
     */
    awaitIdle: running.awaitIdle
  } as const
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
