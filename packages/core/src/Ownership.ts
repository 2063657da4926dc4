/**
 * Which integrations this engine's scheduler may run, for hosts that run several engines on
 * one database. A single engine owns every integration: without an `Ownership` in its context
 * the scheduler runs everything it watches, as before. A cluster host provides its own (leases
 * in the shared database, `@acd-bridge/server`'s `Cluster`): the scheduler then starts a fiber
 * only for integrations this node holds, stops the ones it lost, and fences every commit with
 * the lease's epoch, so a node that lost its lease while it was still reading (a long pause, a
 * partition) writes nothing.
 *
 * The fence is a cursor stream like any other (`fenceStream`, "lease"): the node that takes a
 * lease over moves it to its new epoch, and every window, realtime batch and plan write commits
 * only while the stream still holds the epoch the committing node holds (a compare-and-set in
 * the same unit of work as the data).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { IntegrationId } from "./Domain.js"

/**
 * The cursor stream that holds an integration's lease epoch.
 *
 * @since 0.3.0 @category constants
 */
export const fenceStream = "lease"

/**
 * What a node's commits into an integration must find: `stream` still holding `epoch`.
 *
 * @since 0.3.0 @category models
 */
export interface Fence {
  readonly stream: string
  readonly epoch: number
}

/**
 * @since 0.3.0 @category models
 */
export interface OwnershipShape {
  /**
   * Whether this node runs the integration now: `Some(fence)` when it holds it (`fence` is
   * `undefined` for an owner that needs none), `None` when another node does or nobody may.
   */
  readonly owns: (id: IntegrationId) => Effect.Effect<Option.Option<Fence | undefined>>
  /**
   * Emits whenever what this node holds changed, so the scheduler starts and stops fibers at
   * once instead of at its next poll.
   */
  readonly changes: Stream.Stream<void>
  /**
   * Integrations changed by another node (paused, resumed, reconfigured, deleted), so that this
   * node's fiber looks at them again at once.
   */
  readonly changed: Stream.Stream<IntegrationId>
}

/**
 * Which integrations this node's scheduler runs (optional: without it, all of them).
 *
 * @since 0.3.0 @category tags
 */
export class Ownership extends Context.Tag("@acd-bridge/core/Ownership")<Ownership, OwnershipShape>() {}

/**
 * A single engine's ownership: every integration, no fence.
 *
 * @since 0.3.0 @category constructors
 */
export const everything: OwnershipShape = {
  owns: () => Effect.succeed(Option.some(undefined)),
  changes: Stream.never,
  changed: Stream.never
}
