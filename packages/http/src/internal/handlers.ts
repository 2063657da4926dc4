/**
 * The route implementations: each reads the caller from `CurrentPrincipal`, calls one core
 * service and maps its errors to problems.
 */
import { PushApi } from "@acd-bridge/api-push"
import type { PushWire } from "@acd-bridge/api-push"
import {
  AgentStatuses,
  ApiKeys,
  Bucketing,
  Domain,
  Errors,
  Integrations,
  Intervals,
  Lifecycle,
  Mappings,
  Queues,
  Scheduler,
  Storage,
  Workloads
} from "@acd-bridge/core"
import type { AccessTokens, Ingest, KeyMaterial } from "@acd-bridge/core"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Api, ReimportRange, SetQueues, StatusView } from "../Api.js"
import * as Problem from "../Problem.js"
import { CurrentPrincipal } from "../Security.js"
import type { AdminAuthentication, PushAuthentication } from "../Security.js"
import * as Body from "./body.js"

export interface Options {
  readonly maxBodyBytes: number
  /** longest [from, to) of an interval query */
  readonly maxIntervalRangeDays: number
  /** longest [from, to) of an agent-status query */
  readonly maxStatusRangeDays: number
  /** comment line sent on idle event streams */
  readonly keepAliveMs: number
}

const DAY_MS = 86_400_000

const encodeStatus = Schema.encodeSync(StatusView)

/**
 * Tells the host's scheduler (if it runs one) at once, so a pause stops at the next window
 * boundary and a resume starts importing the gap now rather than at its next poll.
 */
const wake = (tenantId: Domain.TenantId, id: string) =>
  Effect.flatMap(Effect.serviceOption(Scheduler.Scheduler), (scheduler) =>
    Option.match(scheduler, {
      onNone: () => Effect.void,
      onSome: (s) => Effect.ignore(s.wake(tenantId, id))
    }))

/** Engine errors to problems; storage failures are logged here (the answer stays generic). */
const problems = <A, E extends Problem.EngineError, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapError((error) =>
      error._tag === "StorageError" ? Effect.logError("storage failed", error) : Effect.void
    ),
    Effect.mapError(Problem.fromError)
  )

const integrationView = (integration: Domain.Integration, config: unknown) => ({
  id: integration.id,
  tenantId: integration.tenantId,
  name: integration.name,
  connector: integration.connector,
  deliveryMode: integration.deliveryMode,
  dataKinds: integration.dataKinds,
  schedule: integration.schedule,
  timezone: integration.timezone,
  config,
  historyDepthDays: integration.historyDepthDays,
  status: integration.status,
  failing: integration.failing,
  createdAt: integration.createdAt,
  updatedAt: integration.updatedAt,
  deletedAt: integration.deletedAt
})

const queueView = (view: Queues.QueueView) => ({
  id: view.queue.id,
  integrationId: view.queue.integrationId,
  identifier: view.queue.identifier,
  name: view.queue.name,
  channel: view.queue.channel,
  createdByIntegration: view.queue.createdByIntegration,
  workloadIds: view.workloadIds,
  createdAt: view.queue.createdAt
})

const workloadView = (workload: Domain.Workload) => ({
  id: workload.id,
  name: workload.name,
  queueIds: workload.queueIds,
  createdAt: workload.createdAt
})

const statusView = (s: AgentStatuses.StatusView) => ({
  integrationId: s.integrationId,
  agentIdentifier: s.agentIdentifier,
  activityIdentifier: s.activityIdentifier,
  startTime: s.start,
  endTime: s.end,
  employeeId: s.employeeId,
  activityId: s.activityId
})

/** Workload bodies name queues: one that doesn't exist is an invalid body (422), not a missing route. */
const workloadProblems = <A, E extends Problem.EngineError, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapError((error) => error._tag === "StorageError" ? Effect.logError("storage failed", error) : Effect.void),
    Effect.mapError((error) =>
      error._tag === "QueueNotFound"
        ? Problem.unprocessable(error.message, "queueIds")
        : Problem.fromError(error as Exclude<E, Errors.QueueNotFound>)
    )
  )

/** A query's time zone: 422 when it is not an IANA zone. */
const zoneOf = (name: string) =>
  Either.mapLeft(Bucketing.zone(name), (error) => Problem.unprocessable(error.message, "timezone"))

/** A query's instant: ISO-8601, read in `zone` when it has no offset. 400 when unreadable. */
const instantOf = (text: string, zone: DateTime.TimeZone, field: string) =>
  Either.match(Bucketing.parseTimestamp(text, zone), {
    onLeft: (error) => Either.left(Problem.badRequest(`${field}: ${error.message}`, field)),
    onRight: (ms) => Either.right(DateTime.unsafeMake(ms))
  })

const rangeOf = (
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

/** The engine services the routes use. */
export type Requirements =
  | Storage.Storage
  | Integrations.Integrations
  | Lifecycle.Lifecycle
  | Queues.Queues
  | Workloads.Workloads
  | Mappings.Mappings
  | Ingest.Ingest
  | Intervals.Intervals
  | AgentStatuses.AgentStatuses
  | ApiKeys.ApiKeys
  | AccessTokens.AccessTokens
  | KeyMaterial.KeyMaterial

type Groups =
  | HttpApiGroup.ApiGroup<"acd-bridge", "push">
  | HttpApiGroup.ApiGroup<"acd-bridge", "integrations">
  | HttpApiGroup.ApiGroup<"acd-bridge", "queues">
  | HttpApiGroup.ApiGroup<"acd-bridge", "workloads">
  | HttpApiGroup.ApiGroup<"acd-bridge", "intervals">
  | HttpApiGroup.ApiGroup<"acd-bridge", "agentStatuses">
  | HttpApiGroup.ApiGroup<"acd-bridge", "health">

export const layer = (
  options: Options
): Layer.Layer<Groups, never, Requirements | AdminAuthentication | PushAuthentication> => {
  const IntegrationsLive = HttpApiBuilder.group(Api, "integrations", (handlers) =>
    Effect.gen(function*() {
      const integrations = yield* Integrations.Integrations
      const lifecycle = yield* Lifecycle.Lifecycle
      const apiKeys = yield* ApiKeys.ApiKeys
      const mappings = yield* Mappings.Mappings
      const storage = yield* Storage.Storage
      const view = (integration: Domain.Integration) =>
        Effect.map(integrations.redactedConfig(integration), (config) => integrationView(integration, config))
      return handlers
        .handleRaw("create", ({ request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const input = yield* Body.json(request, Integrations.CreateIntegration, options.maxBodyBytes)
            const { integration, warnings } = yield* problems(integrations.create(principal.tenantId, input))
            return { ...(yield* view(integration)), warnings }
          }))
        .handle("list", () =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const all = yield* problems(integrations.list(principal.tenantId))
            return yield* Effect.forEach(all, view)
          }))
        .handle("get", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* view(yield* problems(integrations.get(principal.tenantId, path.id)))
          }))
        .handle("createApiKey", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const created = yield* problems(apiKeys.generate(principal.tenantId, path.id))
            return { apiKey: created.apiKey, prefix: created.prefix }
          }))
        .handle("pause", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const paused = yield* problems(lifecycle.pause(principal.tenantId, path.id))
            yield* wake(principal.tenantId, path.id)
            return yield* view(paused)
          }))
        .handle("resume", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const resumed = yield* problems(lifecycle.resume(principal.tenantId, path.id))
            yield* wake(principal.tenantId, path.id)
            return yield* view(resumed)
          }))
        .handle("delete", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            yield* problems(lifecycle.delete(principal.tenantId, path.id))
          }))
        .handle("runs", ({ path, urlParams }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const integration = yield* problems(integrations.get(principal.tenantId, path.id))
            const runs = yield* problems(storage.runs.list(integration.id, urlParams.limit ?? 100))
            return runs.map((run) => ({
              id: run.id,
              integrationId: run.integrationId,
              kind: run.kind,
              windowStart: run.windowStart,
              windowEnd: run.windowEnd,
              read: run.read,
              applied: run.applied,
              rejected: run.rejected,
              startedAt: run.startedAt,
              durationMs: run.durationMs,
              error: run.error,
              problems: run.problems
            }))
          }))
        .handleRaw("reimport", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const range = yield* Body.json(request, ReimportRange, options.maxBodyBytes)
            // a push-only host runs no scheduler: say so instead of failing to build the adapter
            const scheduler = yield* Effect.serviceOption(Scheduler.Scheduler)
            if (Option.isNone(scheduler)) {
              return yield* problems(Effect.fail(
                new Errors.InvalidRequest({
                  field: "integration",
                  reason: "this engine runs no scheduler, so it imports nothing in windows and can't re-import a range"
                })
              ))
            }
            return yield* problems(scheduler.value.reimport(principal.tenantId, path.id, range))
          }))
        .handleRaw("putAgentMappings", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const body = yield* Body.json(request, Schema.Array(Domain.AgentMapping), options.maxBodyBytes)
            return yield* problems(mappings.putAgents(principal.tenantId, path.id, body))
          }))
        .handleRaw("putActivityMappings", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const body = yield* Body.json(request, Schema.Array(Domain.ActivityMapping), options.maxBodyBytes)
            return yield* problems(mappings.putActivities(principal.tenantId, path.id, body))
          }))
        .handle("unmapped", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* problems(mappings.unmapped(principal.tenantId, path.id))
          }))
    }))

  const QueuesLive = HttpApiBuilder.group(Api, "queues", (handlers) =>
    Effect.gen(function*() {
      const queues = yield* Queues.Queues
      const integrations = yield* Integrations.Integrations
      return handlers
        .handle("list", ({ urlParams }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const integrationId = urlParams.integrationId === undefined
              ? undefined
              : (yield* problems(integrations.get(principal.tenantId, urlParams.integrationId))).id
            const views = yield* problems(queues.list(principal.tenantId, integrationId))
            return views.map(queueView)
          }))
        .handle("delete", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            yield* problems(queues.delete(principal.tenantId, path.id))
          }))
    }))

  const WorkloadsLive = HttpApiBuilder.group(Api, "workloads", (handlers) =>
    Effect.gen(function*() {
      const workloads = yield* Workloads.Workloads
      return handlers
        .handleRaw("create", ({ request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const input = yield* Body.json(request, Workloads.CreateWorkload, options.maxBodyBytes)
            return workloadView(yield* workloadProblems(workloads.create(principal.tenantId, input)))
          }))
        .handle("list", () =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return (yield* problems(workloads.list(principal.tenantId))).map(workloadView)
          }))
        .handle("get", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return workloadView(yield* problems(workloads.get(principal.tenantId, path.id)))
          }))
        .handleRaw("setQueues", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const input = yield* Body.json(request, SetQueues, options.maxBodyBytes)
            return workloadView(
              yield* workloadProblems(workloads.setQueues(principal.tenantId, path.id, input.queueIds))
            )
          }))
    }))

  const IntervalsLive = HttpApiBuilder.group(Api, "intervals", (handlers) =>
    Effect.gen(function*() {
      const intervals = yield* Intervals.Intervals
      const integrations = yield* Integrations.Integrations
      const queues = yield* Queues.Queues
      return handlers.handle("query", ({ urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          const integration = urlParams.integrationId === undefined
            ? undefined
            : yield* problems(integrations.get(principal.tenantId, urlParams.integrationId))
          const queue = urlParams.queueId === undefined
            ? undefined
            : yield* problems(queues.get(principal.tenantId, urlParams.queueId))
          const timezone = urlParams.timezone ?? integration?.timezone ?? "UTC"
          const zone = yield* zoneOf(timezone)
          const { from, to } = yield* rangeOf(urlParams, zone, options.maxIntervalRangeDays)
          const length = urlParams.length === undefined ? 15 : urlParams.length === "30" ? 30 : urlParams.length === "60" ? 60 : 15
          return yield* problems(intervals.query(principal.tenantId, {
            integrationId: integration?.id,
            queueId: queue?.id,
            from,
            to,
            length,
            timezone,
            fill: urlParams.fill
          }))
        }))
    }))

  const AgentStatusesLive = HttpApiBuilder.group(Api, "agentStatuses", (handlers) =>
    Effect.gen(function*() {
      const statuses = yield* AgentStatuses.AgentStatuses
      const integrations = yield* Integrations.Integrations
      const encoder = new TextEncoder()
      return handlers
        .handle("query", ({ urlParams }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const integration = urlParams.integrationId === undefined
              ? undefined
              : yield* problems(integrations.get(principal.tenantId, urlParams.integrationId))
            const zone = yield* zoneOf(integration?.timezone ?? "UTC")
            const { from, to } = yield* rangeOf(urlParams, zone, options.maxStatusRangeDays)
            const found = yield* problems(statuses.query(principal.tenantId, {
              integrationId: integration?.id,
              agentIdentifier: urlParams.agentIdentifier,
              from,
              to
            }))
            return found.map(statusView)
          }))
        .handle("stream", ({ urlParams }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const integration = urlParams.integrationId === undefined
              ? undefined
              : yield* problems(integrations.get(principal.tenantId, urlParams.integrationId))
            // subscribed before the answer starts, so nothing accepted after this point is missed
            const events = yield* statuses.subscription(principal.tenantId, integration?.id)
            const frames = Stream.merge(
              Stream.map(events, (status) =>
                `event: agent-status\ndata: ${JSON.stringify(encodeStatus(statusView(status)))}\n\n`),
              Stream.fromSchedule(Schedule.spaced(options.keepAliveMs)).pipe(Stream.as(": keep-alive\n\n"))
            ).pipe(Stream.prepend(Chunk.of(": connected\n\n")), Stream.map((text) => encoder.encode(text)))
            return HttpServerResponse.stream(frames, {
              contentType: "text/event-stream",
              headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
            })
          }))
    }))

  const HealthLive = HttpApiBuilder.group(Api, "health", (handlers) =>
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const probe = Domain.IntegrationId.make("health-probe")
      return handlers.handle("health", () =>
        storage.integrations.get(probe).pipe(
          Effect.as({ status: "ok" as const }),
          Effect.tapError((error) => Effect.logError("health check failed", error)),
          Effect.mapError(() => Problem.unavailable())
        ))
    }))

  const PushLive = HttpApiBuilder.group(Api, "push", (handlers) => {
    const push = (
      kind: PushWire.Kind,
      request: HttpServerRequest.HttpServerRequest,
      headers: { readonly "idempotency-key"?: string | undefined }
    ) =>
      Effect.gen(function*() {
        const principal = yield* CurrentPrincipal
        const body = yield* Body.text(request, options.maxBodyBytes)
        return yield* problems(PushApi.push(kind, principal, body, { idempotencyKey: headers["idempotency-key"] }))
      })
    return handlers
      .handleRaw("contactEvents", ({ headers, request }) => push("contactEvents", request, headers))
      .handleRaw("agentStatuses", ({ headers, request }) => push("agentStatuses", request, headers))
  })

  return Layer.mergeAll(IntegrationsLive, QueuesLive, WorkloadsLive, IntervalsLive, AgentStatusesLive, HealthLive, PushLive)
}
