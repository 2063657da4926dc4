/**
 * The realtime runner: one connection of a realtime integration. It opens the connector's
 * stream from the last committed position, applies what arrives within
 * `realtimeBatchWindow` as one unit with the position of its last element, and closes the
 * stream when the integration is paused, deleted, reconfigured or marked failing for good.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { RealtimeBatch } from "../../Connector.js"
import type { Configured } from "../../ConnectorRegistry.js"
import type { Integration } from "../../Domain.js"
import { batchSize } from "../../Domain.js"
import type { StorageError } from "../../Errors.js"
import * as Plan from "../schedulePlan.js"
import type { Deps, Handle, Life, Outcome } from "./context.js"
import { Defect, retry, stop } from "./context.js"
import type { Failures } from "./failures.js"
import type { Progress } from "./progress.js"
import type { Running } from "./running.js"
import { addBatch, emptyCollected, fitWindow } from "./windows.js"

export type RealtimeStep = (
  integration: Integration,
  handle: Handle,
  configured: Configured,
  life: Life
) => Effect.Effect<Outcome, StorageError>

export const make = (deps: Deps, running: Running, progress: Progress, failures: Failures): RealtimeStep => {
  const { ingest, options, storage } = deps

  return (integration, handle, configured, life) =>
    Effect.gen(function*() {
      if (Option.isNone(configured.realtime)) return stop
      const open = configured.realtime.value
      const position = yield* storage.cursors.get(integration.id, Plan.streams.realtime)
      let applied = 0
      let read = 0
      // the integration as this connection knows it: a change by anyone else closes the stream
      let seen = integration.updatedAt
      const apply = (elements: ReadonlyArray<RealtimeBatch>) =>
        Effect.gen(function*() {
          yield* running.setState(integration.id, { _tag: "Busy" })
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
            watermark: last === undefined ? undefined : { stream: Plan.streams.realtime, value: last },
            fence: life.fence
          }).pipe(
            // a realtime batch expects no cursors: it moves its own position
            Effect.catchTag("CursorsMoved", (error) => Effect.die(error))
          )
          // the first batch applied after failures ends the streak (and its failing mark)
          if (applied === 0) {
            const cleared = yield* failures.succeeded(integration, undefined, life.fence)
            if (cleared) seen = cleared.updatedAt
          }
          applied += batchSize(batch)
          yield* progress.publish({
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
            records: progress.count(integration.id, "realtime", batchSize(batch)),
            done: false
          })
        }).pipe(Effect.ensuring(running.setState(integration.id, { _tag: "Streaming" })))
      const consume = Stream.suspend(() => open(Option.getOrUndefined(position))).pipe(
        Stream.groupedWithin(10_000, Duration.millis(options.realtimeBatchWindowMs)),
        Stream.runForEach((chunk) => apply(Array.from(chunk))),
        Effect.catchAllDefect((defect) => Effect.fail(new Defect({ where: "connector", defect }))),
        Effect.either
      )
      // stops the stream when the integration is paused, deleted, reconfigured or marked failing
      // (a failing mark that was there when it opened is one it retries through)
      const watch = Effect.gen(function*() {
        while (true) {
          yield* Effect.raceFirst(Effect.sleep(Duration.millis(options.pollIntervalMs)), handle.latch.await)
          handle.woken = false
          yield* handle.latch.close
          const fresh = yield* storage.integrations.get(integration.id)
          if (
            Option.isNone(fresh) || fresh.value.status !== "active" || !DateTime.Equivalence(fresh.value.updatedAt, seen)
          ) return
          yield* running.setState(integration.id, { _tag: "Streaming" })
        }
      })
      yield* Effect.logInfo("realtime stream opened").pipe(
        Effect.annotateLogs({ position: Option.getOrNull(position) })
      )
      const started = yield* Clock.currentTimeMillis
      yield* running.setState(integration.id, { _tag: "Streaming" })
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
      if (error._tag === "OwnershipLost") {
        // another node owns the stream now
        yield* Effect.logWarning(`realtime batch not committed: ${error.message}`)
        return stop
      }
      if (error._tag !== "IntegrationNotActive") {
        yield* failures.record(integration, "realtime", started, read - applied, undefined, error, life.fence)
      }
      const next = yield* failures.onFailure(integration, undefined, error, read - applied, "realtime", life.fence)
      // a stream that delivered before failing starts the backoff over
      return next._tag === "Backoff" ? { _tag: "Backoff", reset: applied > 0 } as const : next
    })
}
