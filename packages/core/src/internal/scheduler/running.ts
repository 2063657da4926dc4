/**
 * The integrations this scheduler runs, as the rest of it sees them: each one's handle (its
 * wake latch and cursor lock) and what its fiber is doing, so that `wake` can end a wait,
 * `awaitIdle` can tell when every fiber waits for the future, and health can say until when.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { IntegrationId } from "../../Domain.js"
import type { FiberState, Handle } from "./context.js"

export interface Running {
  /** The integration's handle, made on first use. */
  readonly handleOf: (id: IntegrationId) => Handle
  /** Sets (or, with `undefined`, forgets) what the integration's fiber is doing. */
  readonly setState: (id: IntegrationId, state: FiberState | undefined) => Effect.Effect<void>
  readonly stateOf: (id: IntegrationId) => Effect.Effect<FiberState | undefined>
  /** Wakes the integration's fiber from a wakeable wait (or makes its next wait return at once). */
  readonly signal: (id: IntegrationId) => Effect.Effect<void>
  /** Completes when every fiber waits for a future instant or streams. */
  readonly awaitIdle: Effect.Effect<void>
}

/**
 * `taskOpen` tells whether a link task a fiber waits for is still open: a fiber waiting for a
 * link is idle only while its task is (once a link committed it, the fiber has work to do).
 */
export const make = (
  taskOpen: (taskId: string) => Effect.Effect<boolean> = () => Effect.succeed(false)
): Effect.Effect<Running> => Effect.gen(function*() {
  const states = yield* SubscriptionRef.make<ReadonlyMap<IntegrationId, FiberState>>(new Map())
  const handles = new Map<IntegrationId, Handle>()

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

  const stateOf = (id: IntegrationId) => Effect.map(SubscriptionRef.get(states), (m) => m.get(id))

  const signal = (id: IntegrationId) =>
    Effect.gen(function*() {
      const handle = handleOf(id)
      handle.woken = true
      yield* SubscriptionRef.update(states, (current) => {
        const state = current.get(id)
        if (
          state === undefined || state._tag === "Busy" || state._tag === "Linked" ||
          (state._tag === "Waiting" && !state.wakeable)
        ) {
          return current
        }
        return new Map(current).set(id, { _tag: "Busy" })
      })
      yield* handle.latch.open
    })

  const awaitIdle: Effect.Effect<void> = Effect.gen(function*() {
    const isIdle = (m: ReadonlyMap<IntegrationId, FiberState>, now: number) =>
      Effect.forEach(m.values(), (s) =>
        s._tag === "Linked"
          ? taskOpen(s.taskId)
          : Effect.succeed(s._tag === "Streaming" || (s._tag === "Waiting" && s.until > now))).pipe(
          Effect.map((idle) => idle.every(Boolean))
        )
    yield* states.changes.pipe(
      Stream.mapEffect((m) => Effect.flatMap(Clock.currentTimeMillis, (now) => isIdle(m, now))),
      Stream.takeUntil((idle) => idle),
      Stream.runDrain
    )
  })

  return { handleOf, setState, stateOf, signal, awaitIdle }
})
