/**
 * Retrying: the backoff between failed attempts as a `Schedule`, and the failure streak that
 * marks an integration failing once it lasts too long.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type { ResolvedOptions } from "../../Scheduler.js"

/**
 * The delays between failed attempts: exponential from `backoff.initial` (doubling), capped at
 * `backoff.max`, and with jitter spread over [delay/2, delay] so that integrations failing
 * together don't retry together.
 */
export const backoffSchedule = (options: ResolvedOptions): Schedule.Schedule<Duration.Duration> => {
  const capped = Schedule.exponential(Duration.millis(options.backoffInitialMs)).pipe(
    Schedule.union(Schedule.spaced(Duration.millis(options.backoffMaxMs)))
  )
  return Schedule.delays(options.jitter ? Schedule.jitteredWith(capped, { min: 0.5, max: 1 }) : capped)
}

/** A backoff in progress. */
export interface Backoff {
  /** The delay before the next attempt, in ms, one failure further along the schedule. */
  readonly next: Effect.Effect<number>
  /** Starts over: the next delay is the first one. */
  readonly reset: Effect.Effect<void>
}

/**
 * Steps `schedule` one failure at a time. The fiber needs the delay before it sleeps (it
 * tells `awaitIdle` and health until when it waits), which a `Schedule.driver` doesn't give.
 */
export const makeBackoff = (schedule: Schedule.Schedule<Duration.Duration>): Effect.Effect<Backoff> =>
  Effect.map(Ref.make<unknown>(schedule.initial), (state) => ({
    next: Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const [next, delay] = yield* schedule.step(now, undefined, yield* Ref.get(state))
      yield* Ref.set(state, next)
      return Math.max(0, Math.round(Duration.toMillis(delay)))
    }),
    reset: Ref.set(state, schedule.initial)
  }))

/**
 * Cursor streams of the failure streak: the attempts that failed in a row and when the first
 * of them started. Kept in storage like the planner's cursors, so a restarted scheduler
 * counts on, and tells a failing mark it set (retried) from one set by rejected credentials
 * (not retried until the config changes).
 */
export const streams = {
  attempts: "retry.attempts",
  since: "retry.since"
} as const

/** A run of failed attempts. */
export interface Streak {
  readonly attempts: number
  readonly since: number
}

export const streakOf = (cursors: ReadonlyMap<string, number>): Streak | undefined => {
  const attempts = cursors.get(streams.attempts) ?? 0
  if (attempts <= 0) return undefined
  return { attempts, since: cursors.get(streams.since) ?? 0 }
}

/** The streak after one more failure at `now`. */
export const extend = (streak: Streak | undefined, now: number): Streak =>
  streak ? { attempts: streak.attempts + 1, since: streak.since } : { attempts: 1, since: now }

/** Whether a streak has lasted long enough to mark the integration failing. */
export const exceeds = (streak: Streak, now: number, options: ResolvedOptions): boolean =>
  streak.attempts >= options.failingAfterAttempts || now - streak.since >= options.failingAfterMs

/** A duration as people say it: "90 seconds", "5 minutes", "2 hours". */
export const spoken = (ms: number): string => {
  const say = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return say(ms / 3_600_000, "hour")
  if (ms >= 60_000 && ms % 60_000 === 0) return say(ms / 60_000, "minute")
  return say(Math.round(ms / 1000), "second")
}

/** Why the integration is marked failing, as health and the integration show it. */
export const failingReason = (streak: Streak, lastError: string, options: ResolvedOptions): string =>
  `the import failed ${streak.attempts} times in a row since ${DateTime.formatIso(DateTime.unsafeMake(streak.since))}; ` +
  `retrying at least every ${spoken(options.backoffMaxMs)} until it succeeds; last error: ${lastError}`
