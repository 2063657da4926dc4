/**
 * One integration's fiber: it reads the integration, decides whether it runs (active, a
 * connector that accepts its config, no failing mark that waits for a config change), hands
 * the step to the historical or realtime runner, and then does what the step's outcome says:
 * step again, wait for an instant (which `wake` may cut short), or back off along the retry
 * `Schedule`. A step that dies or whose store fails is recorded and retried like a failed
 * attempt, so nothing loops without a trace.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { IntegrationId } from "../../Domain.js"
import type { StorageError } from "../../Errors.js"
import type { Deps, Handle, Life, Outcome } from "./context.js"
import { Defect, retry, stop, viaLink } from "./context.js"
import type { Failures } from "./failures.js"
import type { HistoricalStep } from "./historical.js"
import type { RealtimeStep } from "./realtime.js"
import * as Plan from "../schedulePlan.js"
import * as Retry from "./retry.js"
import type { Running } from "./running.js"

export const make = (
  deps: Deps,
  running: Running,
  failures: Failures,
  historical: HistoricalStep,
  realtime: RealtimeStep
): (id: IntegrationId) => Effect.Effect<void> => {
  const { options, ownership, registry, storage } = deps
  const schedule = Retry.backoffSchedule(options)
  const backoffAfterFailure: Outcome = { _tag: "Backoff" }

  const step = (id: IntegrationId, handle: Handle, life: Life): Effect.Effect<Outcome, StorageError> =>
    Effect.gen(function*() {
      // another node holds it (or nobody may): this fiber ends; the supervisor starts it again if it comes back
      const owned = yield* ownership.owns(id)
      if (Option.isNone(owned)) return stop
      life.fence = owned.value
      const found = yield* storage.integrations.get(id)
      if (Option.isNone(found) || found.value.status === "deleted") {
        // its stream and any window offered ahead of the one its fiber waited for
        if (deps.links !== undefined) yield* deps.links.withdrawOpen(id, "the integration was deleted")
        return stop
      }
      const integration = found.value
      const now = yield* Clock.currentTimeMillis
      const idle: Outcome = { _tag: "Wait", until: now + options.pollIntervalMs, wakeable: true }
      const updatedAt = DateTime.toEpochMillis(integration.updatedAt)
      if (life.seen !== undefined && life.seen !== updatedAt) life.resumed = true
      life.seen = updatedAt
      const stopped = integration.status !== "active" ||
        (integration.failing !== null && !failures.retrying(yield* storage.cursors.list(id)))
      if (stopped) {
        // what is missed from here on is a gap, imported as backfill when it runs again
        life.resumed = true
        // a linked stream (or window) ends with the pause: the link holding it is told so at its next request
        if (viaLink(deps, integration)) {
          yield* deps.links!.withdrawOpen(id, `the integration is ${integration.status === "active" ? "failing" : integration.status}`)
        }
        return idle
      }
      const registered = yield* Effect.either(registry.get(integration.connector))
      if (Either.isLeft(registered)) {
        yield* Effect.logWarning(registered.left.message)
        return idle
      }
      if (viaLink(deps, integration)) {
        // the connection config is the link's: windows are planned here and run there
        if (integration.schedule.type === "historical") {
          return yield* historical(integration, handle, registered.right, undefined, life)
        }
        // the link holds the stream open and sends its batches to the task; here it is only offered
        const position = yield* storage.cursors.get(id, Plan.streams.realtime)
        const task = yield* deps.links!.offerRealtime(integration, Option.getOrNull(position))
        yield* running.setState(id, { _tag: "Linked", taskId: task.id })
        return idle
      }
      const configured = registered.right.configure(integration.config)
      if (Either.isLeft(configured)) {
        yield* failures.markStopped(integration, configured.left.message, life.fence)
        return retry
      }
      return integration.schedule.type === "historical"
        ? yield* historical(integration, handle, registered.right, configured.right, life)
        : yield* realtime(integration, handle, configured.right, life)
    })

  return (id) =>
    Effect.gen(function*() {
      const handle = running.handleOf(id)
      // a schedule that starts treats what it missed (the engine was down) as a gap
      const life: Life = { resumed: true, seen: undefined, fence: undefined }
      const backoff = yield* Retry.makeBackoff(schedule)
      while (true) {
        handle.woken = false
        yield* handle.latch.close
        yield* running.setState(id, { _tag: "Busy" })
        const outcome = yield* step(id, handle, life).pipe(
          Effect.catchAllDefect((defect) => Effect.fail(new Defect({ where: "scheduler", defect }))),
          Effect.catchAll((error) => Effect.as(failures.onStepFailure(id, error, life.fence), backoffAfterFailure))
        )
        const now = yield* Clock.currentTimeMillis
        switch (outcome._tag) {
          case "Stop":
            yield* Effect.logInfo("schedule stopped")
            return
          case "Again":
            if (outcome.succeeded) yield* backoff.reset
            yield* Effect.yieldNow()
            break
          case "Backoff": {
            if (outcome.reset) yield* backoff.reset
            const delay = yield* backoff.next
            yield* running.setState(id, { _tag: "Waiting", until: now + delay, wakeable: false, backoff: true })
            yield* Effect.sleep(Duration.millis(delay))
            break
          }
          case "Wait": {
            // woken while working: look again at once
            if (outcome.wakeable && handle.woken) break
            const delay = Math.max(0, outcome.until - now)
            yield* running.setState(id, {
              _tag: "Waiting",
              until: now + delay,
              wakeable: outcome.wakeable,
              rateLimited: outcome.rateLimited
            })
            yield* outcome.wakeable
              ? Effect.raceFirst(Effect.sleep(Duration.millis(delay)), handle.latch.await)
              : Effect.sleep(Duration.millis(delay))
            break
          }
        }
      }
    })
}
