/**
 * What the agent tells a progress display: a window was leased, a window ended. The agent
 * reports through the optional `ProgressReporter` service, so a link run without a display
 * (tests, embedders) pays nothing; `acd-link run` provides one (`Progress.layer`).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * Where a window stands in the backfill it belongs to, as the engine's plan says:
 * `windowsDone` windows of `windowsTotal` were done before this one.
 *
 * @since 0.3.0 @category models
 */
export interface PlanProgress {
  readonly windowsDone: number
  readonly windowsTotal: number
}

/**
 * One window of an integration, as the engine offered it.
 *
 * @since 0.3.0 @category models
 */
export interface WindowEvent {
  readonly integrationId: string
  /** the integration's name in the engine, when the engine sent it */
  readonly name: string | undefined
  /** `history` (first connect), `resume` (gap), `reimport`, `pull` (incremental)… */
  readonly runKind: string | undefined
  readonly progress: PlanProgress | null
}

/**
 * How a window ended on the link: `committed` by the engine, `parked` (the engine refused
 * it), `dropped` (the task ended before the result arrived) or `failed` (the source could not
 * be read).
 *
 * @since 0.3.0 @category models
 */
export type Outcome = "committed" | "parked" | "dropped" | "failed"

/**
 * A display of the agent's progress.
 *
 * @since 0.3.0 @category services
 */
export class ProgressReporter extends Context.Tag("@acd-bridge/link/ProgressReporter")<ProgressReporter, {
  readonly windowStarted: (event: WindowEvent) => Effect.Effect<void>
  readonly windowEnded: (event: WindowEvent, outcome: Outcome, records: number) => Effect.Effect<void>
}>() {}

/**
 * Tells the display, when there is one.
 *
 * @since 0.3.0 @category reporting
 */
export const report = (
  f: (reporter: Context.Tag.Service<ProgressReporter>) => Effect.Effect<void>
): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(ProgressReporter), Option.match({ onNone: () => Effect.void, onSome: f }))
