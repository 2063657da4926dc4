/**
 * What the route implementations share: their options, error mapping, time parsing and the
 * integration views with their ETag.
 */
import type { PushWire } from "@acd-bridge/api-push"
import { Bucketing, type Domain, type Errors, Integrations, type Queues, Scheduler } from "@acd-bridge/core"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { IntegrationView, StatusView } from "../Api.js"
import * as Problem from "../Problem.js"

export interface Options {
  readonly maxBodyBytes: number
  /** deepest nesting of arrays and objects in a JSON body */
  readonly maxJsonDepth: number
  /** longest [from, to) of an interval query at 15 minutes (twice that at 30, four times at 60) */
  readonly maxIntervalRangeDays: number
  /** most rows of an interval answer */
  readonly maxIntervalRows: number
  /** longest [from, to) of an agent-status query */
  readonly maxStatusRangeDays: number
  /** how far from now pushed timestamps may be */
  readonly timestamps: PushWire.AcceptanceWindow
  /** comment line sent on idle event streams */
  readonly keepAliveMs: number
  /** longest a connector's check may run */
  readonly checkTimeoutMs: number
  /** how soon an event-stream client should reconnect (the `retry:` field) */
  readonly retryMs: number
}

export const DAY_MS = 86_400_000

export const encodeStatus = Schema.encodeSync(StatusView)

/**
 * Tells the host's scheduler (if it runs one) at once, so a pause stops at the next window
 * boundary and a resume starts importing the gap now rather than at its next poll.
 */
export const wake = (tenantId: Domain.TenantId, id: string) =>
  Effect.flatMap(Effect.serviceOption(Scheduler.Scheduler), (scheduler) =>
    Option.match(scheduler, {
      onNone: () => Effect.void,
      onSome: (s) => Effect.ignore(s.wake(tenantId, id))
    }))

/** Engine errors to problems; storage failures are logged here (the answer stays generic). */
export const problems = <A, E extends Problem.EngineError, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapError((error) =>
      error._tag === "StorageError" ? Effect.logError("storage failed", error) : Effect.void
    ),
    Effect.mapError(Problem.fromError)
  )

export const queueView = (view: Queues.QueueView) => ({ ...view.queue, workloadIds: view.workloadIds })

/** Workload bodies name queues: one that doesn't exist is an invalid body (422), not a missing route. */
export const workloadProblems = <A, E extends Problem.EngineError, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapError((error) => error._tag === "StorageError" ? Effect.logError("storage failed", error) : Effect.void),
    Effect.mapError((error) =>
      error._tag === "QueueNotFound"
        ? Problem.unprocessable(error.message, "queueIds")
        : Problem.fromError(error as Exclude<E, Errors.QueueNotFound>)
    )
  )

/** A query's time zone: 422 when it is not an IANA zone. */
export const zoneOf = (name: string) =>
  Either.mapLeft(Bucketing.zone(name), (error) => Problem.unprocessable(error.message, "timezone"))

/** A query's instant: ISO-8601, read in `zone` when it has no offset. 400 when unreadable. */
export const instantOf = (text: string, zone: DateTime.TimeZone, field: string) =>
  Either.match(Bucketing.parseTimestamp(text, zone), {
    onLeft: (error) => Either.left(Problem.badRequest(`${field}: ${error.message}`, field)),
    onRight: (ms) => Either.right(DateTime.unsafeMake(ms))
  })

export const rangeOf = (
  params: { readonly from: string; readonly to: string },
  zone: DateTime.TimeZone,
  maxDays: number
) =>
  Effect.gen(function*() {
    const from = yield* instantOf(params.from, zone, "from")
    const to = yield* instantOf(params.to, zone, "to")
    const span = DateTime.toEpochMillis(to) - DateTime.toEpochMillis(from)
    if (span <= 0) return yield* Effect.fail(Problem.unprocessable("to: must be after from", "to"))
    if (span > maxDays * DAY_MS) {
      return yield* Effect.fail(
        Problem.unprocessable(`to: [from, to) may span at most ${maxDays} days; query in parts`, "to")
      )
    }
    return { from, to }
  })

/** A PATCH body: the settings, and the fields that can't change, to refuse them by name. */
export const PatchBody = Schema.Struct({
  ...Integrations.UpdateIntegration.fields,
  connector: Schema.optional(Schema.Unknown),
  deliveryMode: Schema.optional(Schema.Unknown),
  dataKinds: Schema.optional(Schema.Unknown),
  status: Schema.optional(Schema.Unknown),
  id: Schema.optional(Schema.Unknown)
})

export const fixedFields: Record<string, string> = {
  connector: "the connector can't change: create a new integration",
  deliveryMode: "the delivery mode can't change: create a new integration",
  dataKinds: "the data kinds can't change: create a new integration",
  status: "the status changes with POST …/pause, …/resume and DELETE",
  id: "the id can't change"
}

/** `If-Match: "3"` (or `W/"3"`, or `3`): the version a change was made on. */
export const versionOf = (header: string | undefined) => {
  if (header === undefined) return Either.right(undefined)
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header)
  return match === null
    ? Either.left(Problem.badRequest(`If-Match: must be the integration's version as an ETag (e.g. "3"); got ${header}`, "if-match"))
    : Either.right(Number(match[1]))
}

export const encodeIntegration = Schema.encode(IntegrationView)

/** The integration as JSON with its version as `ETag`, for a client's next `If-Match`. */
export const withEtag = (view: typeof IntegrationView.Type) =>
  Effect.map(Effect.orDie(encodeIntegration(view)), (body) =>
    HttpServerResponse.unsafeJson(body, { headers: { etag: `"${view.version}"` } }))
