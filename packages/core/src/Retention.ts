/**
 * Retention: import runs and idempotency records are pruned on a horizon, so the store stops
 * growing with every run (at a 15-minute cadence with a 24-hour look-back, one integration
 * writes about a hundred runs a day; the demo's wrote 35,000). Interval data, agent statuses,
 * queues, mappings and cursors are never pruned.
 *
 * - Import runs older than `runs.maxAge` (default 90 days) go, except each integration's
 *   `runs.keep` newest (default 1,000), so a quiet integration keeps its history of runs and
 *   health always has runs to read.
 * - Idempotency records older than `idempotency.maxAge` (default 24 hours, the window in
 *   which a repeated `Idempotency-Key` returns the first answer: older records are ignored
 *   anyway) go.
 *
 * `layer(options)` runs `prune` at start and then every `interval` (default 1 hour) in a
 * background fiber that lives as long as the layer; a failed prune is logged and tried again at
 * the next interval. Time is `Clock`'s, so tests drive it with `TestClock`.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type { StorageError } from "./Errors.js"
import { idempotencyTtlMs } from "./Ingest.js"
import { Storage } from "./Storage.js"
import type { RetentionResult } from "./Storage.js"

/**
 * What to keep. Every field has a default.
 *
 * @since 0.2.0 @category models
 */
export interface Options {
  readonly runs?: {
    /** Import runs older than this go (default 90 days). */
    readonly maxAge?: Duration.DurationInput | undefined
    /** …except each integration's newest this many (default 1,000; at least 1). */
    readonly keep?: number | undefined
  } | undefined
  readonly idempotency?: {
    /**
     * Idempotency records older than this go (default 24 hours; never less, since a repeat
     * within 24 hours must still return the first answer).
     */
    readonly maxAge?: Duration.DurationInput | undefined
  } | undefined
  /** How often to prune (default 1 hour). */
  readonly interval?: Duration.DurationInput | undefined
}

/** @since 0.2.0 @category models */
export interface ResolvedOptions {
  readonly runsMaxAgeMs: number
  readonly keepRuns: number
  readonly idempotencyMaxAgeMs: number
  readonly intervalMs: number
}

const millis = (d: Duration.DurationInput | undefined, fallback: number) =>
  d === undefined ? fallback : Duration.toMillis(Duration.decode(d))

/**
 * The options with their defaults.
 *
 * @since 0.2.0 @category constructors
 */
export const resolve = (options: Options = {}): ResolvedOptions => ({
  runsMaxAgeMs: millis(options.runs?.maxAge, 90 * 86_400_000),
  keepRuns: Math.max(1, Math.floor(options.runs?.keep ?? 1_000)),
  idempotencyMaxAgeMs: Math.max(idempotencyTtlMs, millis(options.idempotency?.maxAge, idempotencyTtlMs)),
  intervalMs: Math.max(1_000, millis(options.interval, 3_600_000))
})

/**
 * Prunes once, now: what `layer` runs every interval.
 *
 * @since 0.2.0 @category constructors
 */
export const prune = (options: Options = {}): Effect.Effect<RetentionResult, StorageError, Storage> =>
  Effect.gen(function*() {
    const resolved = resolve(options)
    const storage = yield* Storage
    const now = yield* Clock.currentTimeMillis
    const result = yield* storage.retention.prune({
      runsBefore: now - resolved.runsMaxAgeMs,
      keepRuns: resolved.keepRuns,
      idempotencyBefore: now - resolved.idempotencyMaxAgeMs
    })
    if (result.runs > 0 || result.idempotencyKeys > 0) {
      yield* Effect.logInfo("retention: pruned old import runs and idempotency records").pipe(
        Effect.annotateLogs({ runs: result.runs, idempotencyKeys: result.idempotencyKeys })
      )
    }
    return result
  }).pipe(Effect.withSpan("Retention.prune"))

/**
 * Prunes at start and every `interval`, in a background fiber scoped to the layer.
 *
 * @since 0.2.0 @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<never, never, Storage> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const storage = yield* Storage
      const { intervalMs } = resolve(options)
      const once = prune(options).pipe(
        Effect.provideService(Storage, storage),
        Effect.catchAll((error) => Effect.logWarning("retention: prune failed; trying again at the next interval", error))
      )
      yield* Effect.forkScoped(Effect.repeat(once, Schedule.spaced(Duration.millis(intervalMs))))
    })
  )

/**
 * `layer` from configuration, e.g.
 * `layerConfig({ runs: { maxAge: Config.duration("ACD_BRIDGE_RETAIN_RUNS") } })`.
 *
 * @since 0.2.0 @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<never, ConfigError.ConfigError, Storage> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(options), layer))
