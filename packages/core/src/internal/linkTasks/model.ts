/**
 * The options of `LinkTasks` and the shapes of its requests: part of `LinkTasks`
 * (re-exported there), kept apart so the service reads on its own.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import type { ImportRunKind, Integration, IntegrationId, RejectedRecord } from "../../Domain.js"
import type { LinkTask } from "../../LinkModel.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * How tasks are handed out. Every field has a default.
 *
 * @since 0.3.0 @category models
 */
export interface Options {
  /** How long a lease holds without a renewal (default 60 seconds). */
  readonly lease?: Duration.DurationInput | undefined
  /** Longest long poll (default 60 seconds). */
  readonly maxWait?: Duration.DurationInput | undefined
  /** How often waiting callers look at storage again, for work from other engine processes (default 1 second). */
  readonly poll?: Duration.DurationInput | undefined
  /** Finished tasks (and the answers repeated commits get) are kept this long (default 7 days). */
  readonly keepFinished?: Duration.DurationInput | undefined
  /** Health warns "waiting for a link" when a task waits this long for a lease (default 2 minutes). */
  readonly waitingWarning?: Duration.DurationInput | undefined
  /**
   * History windows offered ahead of the one a link is committing, so a link reads them while
   * the results before them upload (default 1; 0 offers one window at a time). Their commits
   * still land in order. More than one helps a link only when its reads are quicker than the
   * engine's commits, and with several links the windows ahead go to the other links, which
   * then read them instead of standing by to take over a window handed back.
   */
  readonly readAhead?: number | undefined
  /**
   * Records of uploaded parts an engine process keeps decoded until their commit, so the
   * commit needn't decode them again (default 50,000, ten parts of a link's default size; 0 keeps none).
   */
  readonly decodedPartsRecords?: number | undefined
}

/** @since 0.3.0 @category models */
export interface ResolvedOptions {
  readonly leaseMs: number
  readonly maxWaitMs: number
  readonly pollMs: number
  readonly keepFinishedMs: number
  readonly waitingWarningMs: number
  readonly readAhead: number
  readonly decodedPartsRecords: number
}

const millis = (d: Duration.DurationInput | undefined, fallback: number) =>
  d === undefined ? fallback : Math.max(1, Duration.toMillis(Duration.decode(d)))

/** @since 0.3.0 @category constructors */
export const resolveOptions = (options: Options = {}): ResolvedOptions => ({
  leaseMs: millis(options.lease, 60_000),
  maxWaitMs: millis(options.maxWait, 60_000),
  pollMs: millis(options.poll, 1_000),
  keepFinishedMs: millis(options.keepFinished, 7 * 86_400_000),
  waitingWarningMs: millis(options.waitingWarning, 120_000),
  readAhead: Math.max(0, Math.min(10, Math.floor(options.readAhead ?? 1))),
  decodedPartsRecords: Math.max(0, Math.floor(options.decodedPartsRecords ?? 50_000))
})

/**
 * `LinkTasks`' options, read when its layer is built. `layerOptions` sets them.
 *
 * @since 0.3.0 @category tags
 */
export class LinkTasksOptions extends Context.Reference<LinkTasksOptions>()("@acd-bridge/core/LinkTasksOptions", {
  defaultValue: (): ResolvedOptions => resolveOptions()
}) {}

/** @since 0.3.0 @category layers */
export const layerOptions = (options: Options): Layer.Layer<LinkTasksOptions> =>
  Layer.sync(LinkTasksOptions, () => resolveOptions(options))

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * A window the scheduler offers.
 *
 * @since 0.3.0 @category models
 */
export interface WindowOffer {
  readonly runKind: ImportRunKind
  readonly planTask: "incremental" | "history" | "gap" | "reimport"
  readonly from: number
  readonly to: number
  readonly watermark?: { readonly stream: string; readonly value: number } | undefined
  /** the planner's cursors the window was planned from */
  readonly snapshot: ReadonlyMap<string, number>
  readonly progress?: { readonly windowsDone: number; readonly windowsTotal: number } | undefined
}

/**
 * A leased task with what the link needs to run it: the integration's non-secret settings.
 *
 * @since 0.3.0 @category models
 */
export interface Leased {
  readonly task: LinkTask
  readonly integration: Integration
}

/**
 * What a link asks when it polls.
 *
 * @since 0.3.0 @category models
 */
export interface LeaseRequest {
  /** the integrations its configuration holds */
  readonly serves: ReadonlyArray<IntegrationId>
  /** most tasks to take (default 1) */
  readonly max?: number | undefined
  /** how long to wait for work, in ms (0: answer at once) */
  readonly waitMs?: number | undefined
}

/**
 * A commit of an uploaded result.
 *
 * @since 0.3.0 @category models
 */
export interface CommitInput {
  /** the upload's id, as the parts named it */
  readonly resultId: string
  /** how many parts (numbered 0 … parts − 1) */
  readonly parts: number
  /** records in all parts */
  readonly records: number
  /** records the link read and rejected itself (a file's bad rows), with the first of their problems */
  readonly rejected?: number | undefined
  readonly problems?: ReadonlyArray<RejectedRecord> | undefined
}
