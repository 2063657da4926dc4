/**
 * Realtime tasks: the engine offers a realtime integration's stream as a task; the link that
 * leases it opens the connector's realtime stream next to the source (from the position the
 * engine committed last) and sends what it reads, batched for at most `batchWindow`, to the
 * task (`POST /v1/link/tasks/{id}/realtime`): the engine applies each batch at once and
 * publishes its statuses to stream subscribers. The lease is renewed while the stream is open.
 *
 * The stream ends when the engine ends the task (paused, deleted: 410; lease lost: 409), and
 * the link hands the lease back when it stops (SIGTERM) or the source's stream ends, so another
 * link (or this one) takes it at once. A source that fails is reported as the task's failure;
 * the engine offers the stream again at its next poll.
 *
 * @since 0.3.0
 */
import { Connector, ConnectorRegistry, Domain } from "@acd-bridge/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Client, EngineRefused, EngineUnavailable, TaskView } from "./Agent.js"
import type { LinkConfig } from "./LinkConfig.js"

/** Elements of the source's stream sent as one batch: what arrives within this time. */
const batchWindow = Duration.millis(100)

/** Network errors and 5xx: retried with backoff (capped at 10 s: a stream is live data). */
const retryUnavailable = Schedule.exponential("200 millis").pipe(
  Schedule.union(Schedule.spaced("10 seconds")),
  Schedule.jittered,
  Schedule.whileInput((e: EngineUnavailable | EngineRefused) => e._tag === "EngineUnavailable")
)

/** Runs the stream of one leased realtime task until the task or the source ends. */
const stream = (client: Client, config: LinkConfig, leaseMs: number, task: TaskView) =>
  Effect.gen(function*() {
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    const entry = config.integrations.find((i) => i.id === task.integrationId)
    if (entry === undefined) return yield* Effect.ignore(client.release(task))
    const registered = yield* registry.get(entry.connector).pipe(Effect.orDie)
    const configured = registered.configure(entry.config)
    if (Either.isLeft(configured) || Option.isNone(configured.right.realtime)) {
      const reason = Either.isLeft(configured)
        ? configured.left.message
        : `the ${entry.connector} connector has no realtime stream`
      yield* Effect.logError(`integration ${entry.id} can't stream: ${reason}`)
      return yield* Effect.ignore(client.fail(task, new Connector.AuthFailed({ reason })))
    }
    const open = configured.right.realtime.value
    const every = Duration.millis(Math.max(500, Math.floor(leaseMs / 3)))
    // a renewal the engine refuses (the task ended, the lease was lost) ends the stream
    const renewing = client.renew(task).pipe(
      Effect.retry(retryUnavailable),
      Effect.repeat(Schedule.spaced(every)),
      Effect.delay(every)
    )
    const send = Stream.suspend(() => open(task.position ?? undefined)).pipe(
      Stream.groupedWithin(1_000, batchWindow),
      Stream.mapError((error) => ({ _tag: "Source" as const, error })),
      Stream.runForEach((chunk) => {
        const batch = { contacts: [] as Array<Domain.ContactEvent>, aggregates: [] as Array<Domain.IntervalAggregate>, statuses: [] as Array<Domain.AgentStatus> }
        let position: number | undefined
        for (const element of chunk) {
          batch.contacts.push(...element.contacts)
          batch.aggregates.push(...element.aggregates)
          batch.statuses.push(...element.statuses)
          if (element.position !== undefined) position = element.position
        }
        if (Domain.batchSize(batch) === 0 && position === undefined) return Effect.void
        return client.realtime(task, position, batch).pipe(
          Effect.tapError((e) => e._tag === "EngineUnavailable" ? Effect.logWarning(`realtime batch not sent, retrying: ${e.reason}`) : Effect.void),
          Effect.retry(retryUnavailable)
        )
      })
    )
    yield* Effect.logInfo("realtime stream opened").pipe(Effect.annotateLogs({ position: task.position }))
    const ended = yield* Effect.either(Effect.raceFirst(send, Effect.zipRight(renewing, Effect.never)))
    if (Either.isRight(ended)) {
      // the source's stream ended: hand the task back, it is opened again at once
      yield* Effect.logInfo("realtime stream ended; handing the task back")
      return yield* Effect.ignore(client.release(task))
    }
    const error = ended.left
    if (error._tag === "Source") {
      yield* Effect.logWarning(`the realtime source failed: ${error.error.message}`)
      return yield* Effect.ignore(client.fail(task, error.error).pipe(Effect.retry(retryUnavailable)))
    }
    yield* Effect.logInfo(`realtime task ended: ${error.message}`)
  }).pipe(
    Effect.onInterrupt(() => Effect.ignore(client.release(task).pipe(Effect.timeout("5 seconds")))),
    Effect.annotateLogs({ taskId: task.taskId, integrationId: task.integrationId })
  )

/**
 * Starts the stream of a leased realtime task in the background (in the caller's scope: a
 * stopped link hands the lease back) and returns at once.
 *
 * @since 0.3.0 @category constructors
 */
export const start = (
  client: Client,
  config: LinkConfig,
  leaseMs: number,
  task: TaskView
): Effect.Effect<void, never, ConnectorRegistry.ConnectorRegistry | Scope.Scope> =>
  Effect.asVoid(Effect.forkScoped(stream(client, config, leaseMs, task)))
