/**
 * What happens after a failed attempt: it is recorded as an import run, and the error decides
 * what the integration's fiber does next.
 *
 * | error | next |
 * | --- | --- |
 * | `Transient`, storage failures, a defect (connector or scheduler code) | backoff, counted in the failure streak |
 * | `RateLimited` | wait `retryAfterMs` (health says so), not counted |
 * | `AuthFailed`, a config the connector refuses | marked failing; no calls until the config changes |
 * | `InvalidData`, `InvalidRecord` | wait for the next run (health shows the stall) |
 * | the integration was paused / deleted meanwhile | plan again / stop |
 *
 * A streak that reaches the bound (`failingAfter`) marks the integration failing with the
 * reason; the fiber keeps retrying with the capped backoff, and the next success clears both.
 *
 * On a cluster node every one of these writes carries the node's lease `fence`: it is made only
 * while the lease still holds the node's epoch, in one unit of work with the check, so a node
 * that lost the integration (frozen, cut off) records no failed run, counts no streak and sets
 * no health mark for it (`Storage.cursors.whileHeld`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ImportRunKind, IntegrationId } from "../../Domain.js"
import type { Integration } from "../../Domain.js"
import type { StorageError } from "../../Errors.js"
import type { Fence } from "../../Ownership.js"
import type { Task } from "../../Scheduler.js"
import * as Plan from "../schedulePlan.js"
import type { Deps, Outcome, WindowError } from "./context.js"
import { retry, stop } from "./context.js"
import * as Retry from "./retry.js"

export interface Failures {
  /** Records a failed attempt as an import run; a store that can't keep it gets a log line. */
  readonly record: (
    integration: Integration,
    kind: ImportRunKind,
    started: number,
    read: number,
    window: { readonly from: number; readonly to: number } | undefined,
    error: WindowError,
    fence: Fence | undefined
  ) => Effect.Effect<void>
  /**
   * Marks the integration failing for good (credentials rejected, a config the connector
   * refuses): its fiber waits until the config changes. Skipped when the integration changed
   * since `seen` was read (the change may be the fix).
   */
  readonly markStopped: (seen: Integration, reason: string, fence: Fence | undefined) => Effect.Effect<void, StorageError>
  /** What to do after a failed (and recorded) attempt of `task`. */
  readonly onFailure: (
    integration: Integration,
    timing: Plan.Timing | undefined,
    error: WindowError,
    read: number,
    task: Task,
    fence: Fence | undefined
  ) => Effect.Effect<Outcome, StorageError>
  /** A failure outside any attempt (the step itself died or its store failed): recorded and counted. */
  readonly onStepFailure: (id: IntegrationId, error: WindowError, fence: Fence | undefined) => Effect.Effect<void>
  /**
   * After a success: ends the streak and clears the failing mark it set; the integration as
   * written when it cleared one. `cursors`, when the caller has them fresh, saves a read.
   */
  readonly succeeded: (
    integration: Integration,
    cursors: ReadonlyMap<string, number> | undefined,
    fence: Fence | undefined
  ) => Effect.Effect<Integration | undefined, StorageError>
  /** The failing mark, if any, is one retries set (keep retrying) rather than a stop. */
  readonly retrying: (cursors: ReadonlyMap<string, number>) => boolean
}

export const make = (deps: Deps): Failures => {
  const { ingest, options, storage } = deps

  /**
   * `effect` as it is without a fence; with one, only while the lease holds the node's epoch
   * (`None`, and a log line, when another node holds the integration now).
   */
  const held = <A, E>(id: IntegrationId, fence: Fence | undefined, effect: Effect.Effect<A, E>, what: string) =>
    fence === undefined
      ? Effect.map(effect, Option.some)
      : Effect.tap(
        storage.cursors.whileHeld(id, fence, effect),
        (done) =>
          Option.isNone(done)
            ? Effect.logWarning(`lease lost: ${what} not written (epoch ${fence.epoch} moved on)`)
            : Effect.void
      )

  const record: Failures["record"] = (integration, kind, started, read, window, error, fence) =>
    held(
      integration.id,
      fence,
      ingest.record(integration.id, kind, started, { read, applied: 0, rejected: 0 }, window, error.message),
      "the failed run"
    ).pipe(
      Effect.asVoid,
      Effect.catchAll((e) => Effect.logError("could not record a failed run", e.message))
    )

  /**
   * Writes the failing mark (or clears it with `null`), unless the integration changed since
   * `seen`: one compare-and-set on its version, so a pause made meanwhile is never overwritten.
   */
  const setFailing = (seen: Integration, reason: string | null) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const written = yield* storage.integrations.markFailing(seen.id, reason, now, { ifVersion: seen.version })
      return Option.getOrUndefined(written)
    })

  const resetStreak = (id: IntegrationId) => storage.cursors.set(id, Retry.streams.attempts, 0)

  const markStopped: Failures["markStopped"] = (seen, reason, fence) =>
    Effect.asVoid(held(seen.id, fence, markStoppedNow(seen, reason), "the failing mark"))

  const markStoppedNow = (seen: Integration, reason: string) =>
    Effect.gen(function*() {
      // first: a mark without a streak is one that waits for a config change
      yield* resetStreak(seen.id)
      if ((yield* setFailing(seen, reason)) !== undefined) {
        yield* Effect.logWarning("integration marked failing; its schedule stops until its config changes").pipe(
          Effect.annotateLogs({ reason })
        )
      }
    })

  /** One more failure in a row; at the bound, the failing mark. */
  const count = (id: IntegrationId, seen: Integration | undefined, error: WindowError) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const streak = Retry.extend(Retry.streakOf(yield* storage.cursors.list(id)), now)
      // `since` first: a streak is there once `attempts` is
      if (streak.attempts === 1) yield* storage.cursors.set(id, Retry.streams.since, streak.since)
      yield* storage.cursors.set(id, Retry.streams.attempts, streak.attempts)
      if (seen === undefined || seen.failing !== null || !Retry.exceeds(streak, now, options)) return
      const reason = Retry.failingReason(streak, error.message, options)
      if ((yield* setFailing(seen, reason)) !== undefined) {
        yield* Effect.logWarning("integration marked failing; retrying with backoff until it succeeds").pipe(
          Effect.annotateLogs({ reason })
        )
      }
    })

  const onFailure: Failures["onFailure"] = (integration, timing, error, read, task, fence) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      switch (error._tag) {
        case "Transient":
        case "StorageError":
        case "StagingFull":
        case "IdempotencyKeyReused":
        case "Defect":
          yield* error._tag === "Defect"
            ? Effect.logError(`import failed, retrying with backoff: ${error.message}`, Cause.die(error.defect))
            : Effect.logWarning(`import failed, retrying with backoff: ${error.message}`)
          if (Option.isNone(yield* held(integration.id, fence, count(integration.id, integration, error), "the failure streak"))) {
            return stop
          }
          return { _tag: "Backoff" } as const
        case "RateLimited":
          yield* Effect.logInfo(`rate limited by the source; waiting ${error.retryAfterMs} ms`)
          return { _tag: "Wait", until: now + Math.max(0, error.retryAfterMs), wakeable: false, rateLimited: task }
        case "AuthFailed":
          if (Option.isNone(yield* held(integration.id, fence, markStoppedNow(integration, error.message), "the failing mark"))) {
            return stop
          }
          return retry
        case "InvalidData":
        case "InvalidRecord": {
          yield* Effect.logWarning(
            `the source returned data that can't be imported${
              read > 0 ? ` (after reading ${read} records; the watermark does not move)` : ""
            }: ${error.message}`
          )
          const until = timing ? Plan.nextRunAt(now, timing) : now + options.pollIntervalMs * 10
          return { _tag: "Wait", until, wakeable: true }
        }
        case "IntegrationNotActive":
          return retry
        case "IntegrationDeleted":
        case "IntegrationNotFound":
        case "OwnershipLost":
          // deleted, or another node took the integration over
          return stop
      }
    })

  const onStepFailure: Failures["onStepFailure"] = (id, error, fence) =>
    Effect.gen(function*() {
      yield* error._tag === "Defect"
        ? Effect.logError(`scheduler step failed, retrying with backoff: ${error.message}`, Cause.die(error.defect))
        : Effect.logWarning(`scheduler step failed, retrying with backoff: ${error.message}`)
      const found = yield* storage.integrations.get(id)
      const integration = Option.getOrUndefined(found)
      const started = yield* Clock.currentTimeMillis
      yield* held(
        id,
        fence,
        Effect.gen(function*() {
          if (integration) {
            const kind = integration.schedule.type === "realtime" ? "realtime" : "pull"
            yield* ingest.record(id, kind, started, { read: 0, applied: 0, rejected: 0 }, undefined, error.message).pipe(
              Effect.catchAll((e) => Effect.logError("could not record a failed run", e.message))
            )
          }
          yield* count(id, integration, error)
        }),
        "the failed step"
      )
    }).pipe(Effect.catchAll((e) => Effect.logError("could not count a failed step", e.message)))

  const succeeded: Failures["succeeded"] = (integration, cursors, fence) =>
    Effect.gen(function*() {
      if (Retry.streakOf(cursors ?? (yield* storage.cursors.list(integration.id))) === undefined) return undefined
      return Option.getOrUndefined(yield* held(integration.id, fence, clearStreak(integration), "the end of the failure streak"))
    })

  const clearStreak = (integration: Integration) =>
    Effect.gen(function*() {
      // the mark first: a crash in between leaves a streak, whose next failure marks again,
      // never a mark without a streak, which would wait for a config change
      const fresh = Option.getOrUndefined(yield* storage.integrations.get(integration.id))
      const cleared = fresh && fresh.failing !== null ? yield* setFailing(fresh, null) : undefined
      if (cleared) yield* Effect.logInfo("the import succeeded again; the failing mark is cleared")
      yield* resetStreak(integration.id)
      return cleared
    })

  const retrying = (cursors: ReadonlyMap<string, number>) => Retry.streakOf(cursors) !== undefined

  return { record, markStopped, onFailure, onStepFailure, succeeded, retrying }
}
