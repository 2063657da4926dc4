/**
 * The route implementations: each reads the caller from `CurrentPrincipal`, calls one core
 * service and maps its errors to problems.
 */
import { PushApi } from "@acd-bridge/api-push"
import type { PushWire } from "@acd-bridge/api-push"
import {
  AgentStatuses,
  type ApiKeys,
  
  ConnectorRegistry,
  Domain,
  
  Integrations,
  Intervals,
  type Lifecycle,
  type Mappings,
  Queues,
  Scheduler,
  Storage,
  Workloads
} from "@acd-bridge/core"
import { AccessTokens } from "@acd-bridge/core"
import type { Ingest, KeyMaterial } from "@acd-bridge/core"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { type AccessTokenView, Api, CreateAccessToken,   SetQueues } from "../Api.js"
import * as Metrics from "../Metrics.js"
import * as Problem from "../Problem.js"
import { CurrentPrincipal, MetricsReader } from "../Security.js"
import type { AdminAuthentication, MetricsAuthentication, PushAuthentication } from "../Security.js"
import * as Body from "./body.js"
import * as IntervalAnswer from "./intervalAnswer.js"
import { Limits } from "./limits.js"
import type { Options } from "./handlerSupport.js"
import { encodeStatus, problems, queueView, rangeOf, workloadProblems, zoneOf } from "./handlerSupport.js"
import { integrationsGroup } from "./integrationHandlers.js"

export type { Options } from "./handlerSupport.js"

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
  | ConnectorRegistry.ConnectorRegistry

type Groups =
  | HttpApiGroup.ApiGroup<"acd-bridge", "push">
  | HttpApiGroup.ApiGroup<"acd-bridge", "connectors">
  | HttpApiGroup.ApiGroup<"acd-bridge", "accessTokens">
  | HttpApiGroup.ApiGroup<"acd-bridge", "metrics">
  | HttpApiGroup.ApiGroup<"acd-bridge", "integrations">
  | HttpApiGroup.ApiGroup<"acd-bridge", "queues">
  | HttpApiGroup.ApiGroup<"acd-bridge", "workloads">
  | HttpApiGroup.ApiGroup<"acd-bridge", "intervals">
  | HttpApiGroup.ApiGroup<"acd-bridge", "agentStatuses">
  | HttpApiGroup.ApiGroup<"acd-bridge", "health">

export const layer = (
  options: Options
): Layer.Layer<
  Groups,
  never,
  Requirements | AdminAuthentication | PushAuthentication | MetricsAuthentication | Metrics.Metrics
> => {

  const IntegrationsLive = integrationsGroup(options)

  const ConnectorsLive = HttpApiBuilder.group(Api, "connectors", (handlers) =>
    Effect.gen(function*() {
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      return handlers.handle("list", () =>
        Effect.succeed(registry.list.map((connector) => ({
          key: connector.key,
          displayName: connector.displayName,
          deliveryModes: connector.deliveryModes,
          dataKinds: connector.dataKinds,
          pull: connector.capabilities.pull,
          realtime: connector.capabilities.realtime,
          check: connector.capabilities.check,
          push: !connector.capabilities.pull && !connector.capabilities.realtime,
          settleDelaySeconds: connector.settleDelayMs === undefined ? null : connector.settleDelayMs / 1000,
          historyLimitDays: connector.historyLimitDays ?? null,
          configSchema: connector.configJsonSchema()
        }))))
    }))

  const AccessTokensLive = HttpApiBuilder.group(Api, "accessTokens", (handlers) =>
    Effect.gen(function*() {
      const tokens = yield* AccessTokens.AccessTokens
      const bodyOptions = { maxBodyBytes: options.maxBodyBytes, maxJsonDepth: options.maxJsonDepth }
      // a token can't mint or revoke tokens: one leaked token must not become many
      const adminOnly = Effect.flatMap(CurrentPrincipal, (principal) =>
        principal._tag === "Admin"
          ? Effect.succeed(principal)
          : Effect.fail(Problem.forbidden("Personal access tokens are managed with the admin token")))
      const tokenView = (t: Domain.AccessToken): typeof AccessTokenView.Type => ({
        id: t.id,
        name: t.name,
        userId: t.userId,
        prefix: t.prefix,
        createdAt: t.createdAt,
        revokedAt: t.revokedAt
      })
      return handlers
        .handleRaw("create", ({ request }) =>
          Effect.gen(function*() {
            const principal = yield* adminOnly
            const input = yield* Body.json(request, CreateAccessToken, bodyOptions)
            const created = yield* problems(tokens.create({
              tenantId: principal.tenantId,
              userId: Domain.UserId.make(input.userId ?? "admin"),
              name: input.name
            }))
            return { ...tokenView(created.record), token: created.token }
          }))
        .handle("list", () =>
          Effect.gen(function*() {
            const principal = yield* adminOnly
            return (yield* problems(tokens.list(principal.tenantId))).map(tokenView)
          }))
        .handle("revoke", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* adminOnly
            yield* problems(tokens.revoke(path.id, principal.tenantId))
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
      const bodyOptions = { maxBodyBytes: options.maxBodyBytes, maxJsonDepth: options.maxJsonDepth }
      return handlers
        .handleRaw("create", ({ request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const input = yield* Body.json(request, Workloads.CreateWorkload, bodyOptions)
            return yield* workloadProblems(workloads.create(principal.tenantId, input))
          }))
        .handle("list", () =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* problems(workloads.list(principal.tenantId))
          }))
        .handle("get", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* problems(workloads.get(principal.tenantId, path.id))
          }))
        .handleRaw("setQueues", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const input = yield* Body.json(request, SetQueues, bodyOptions)
            return yield* workloadProblems(workloads.setQueues(principal.tenantId, path.id, input.queueIds))
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
          const length = urlParams.length === "30" ? 30 : urlParams.length === "60" ? 60 : 15
          // the longest range grows with the length (as many intervals per queue at any length):
          // 400 days of quarter-hours, 800 of half-hours, 1,600 of hours by default
          const { from, to } = yield* rangeOf(urlParams, zone, options.maxIntervalRangeDays * (length / 15))
          const inScope = queue !== undefined
            ? [queue]
            : (yield* problems(queues.list(principal.tenantId, integration?.id))).map((view) => view.queue)
          return yield* IntervalAnswer.answer({
            fromMs: DateTime.toEpochMillis(from),
            toMs: DateTime.toEpochMillis(to),
            length,
            zone,
            fill: urlParams.fill ?? "none",
            queues: inScope,
            maxRows: options.maxIntervalRows,
            query: (fromMs, toMs, fill) =>
              problems(intervals.rows(principal.tenantId, {
                integrationId: integration?.id,
                queueId: queue?.id,
                from: DateTime.unsafeMake(fromMs),
                to: DateTime.unsafeMake(toMs),
                length,
                timezone,
                fill
              }))
          })
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
            return found
          }))
        .handle("stream", ({ headers, urlParams }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const integration = urlParams.integrationId === undefined
              ? undefined
              : yield* problems(integrations.get(principal.tenantId, urlParams.integrationId))
            // subscribed before the answer starts, so nothing accepted after this point is missed
            const feed = yield* statuses.resume(
              principal.tenantId,
              integration?.id,
              headers["last-event-id"] ?? urlParams.lastEventId
            )
            const frames = Stream.merge(
              Stream.map(feed, (item) =>
                item._tag === "Status"
                  ? `id: ${item.id}\nevent: agent-status\ndata: ${JSON.stringify(encodeStatus(item.status))}\n\n`
                  : `id: ${item.id}\nevent: reset\ndata: ${
                    JSON.stringify({ reason: item.reason, query: "/v1/agent-statuses" })
                  }\n\n`),
              Stream.fromSchedule(Schedule.spaced(options.keepAliveMs)).pipe(Stream.as(": keep-alive\n\n"))
            ).pipe(
              Stream.prepend(Chunk.of(`: connected\nretry: ${options.retryMs}\n\n`)),
              Stream.map((text) => encoder.encode(text))
            )
            const metrics = yield* Metrics.Metrics
            metrics.sseSubscribers.inc()
            return HttpServerResponse.stream(frames.pipe(Stream.ensuring(Effect.sync(() => metrics.sseSubscribers.dec()))), {
              contentType: "text/event-stream",
              headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
            })
          }))
    }))

  const HealthLive = HttpApiBuilder.group(Api, "health", (handlers) =>
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const probe = Domain.IntegrationId.make("health-probe")
      const startedAt = yield* Clock.currentTimeMillis
      return handlers.handle("health", () =>
        Effect.gen(function*() {
          const before = yield* Clock.currentTimeMillis
          yield* storage.integrations.get(probe)
          const now = yield* Clock.currentTimeMillis
          const scheduler = yield* Effect.serviceOption(Scheduler.Scheduler)
          return {
            status: "ok" as const,
            storage: { latencyMs: now - before },
            scheduler: Option.isSome(scheduler),
            startedAt: DateTime.unsafeMake(startedAt),
            uptimeSeconds: Math.floor((now - startedAt) / 1_000)
          }
        }).pipe(
          Effect.tapError((error) => Effect.logError("health check failed", error)),
          Effect.mapError(() => Problem.unavailable())
        ))
    }))

  const PushLive = HttpApiBuilder.group(Api, "push", (handlers) => Effect.gen(function*() {
    const limits = yield* Limits
    const metrics = yield* Metrics.Metrics
    /** How many records a refused body held, when it is readable JSON with a `data` array. */
    const recordsIn = (body: Uint8Array): number => {
      try {
        const data: unknown = (JSON.parse(new TextDecoder().decode(body)) as { data?: unknown }).data
        return Array.isArray(data) ? data.length : 0
      } catch {
        return 0
      }
    }
    const decodeOptions = { maxDepth: options.maxJsonDepth, timestamps: options.timestamps }
    // the target is resolved once and the body decoded once (PushApi.decode); the records are
    // counted against the integration's limit before anything is written
    const push = (
      kind: PushWire.Kind,
      request: HttpServerRequest.HttpServerRequest,
      headers: { readonly "idempotency-key"?: string | undefined }
    ) =>
      Effect.gen(function*() {
        const principal = yield* CurrentPrincipal
        const body = yield* Body.bytes(request, options.maxBodyBytes)
        const decoded = yield* problems(PushApi.decode(kind, principal, body, decodeOptions)).pipe(
          Effect.tapError((problem) =>
            problem.status === 422
              ? Effect.sync(() => metrics.pushRecords.inc({ kind, outcome: "rejected" }, recordsIn(body)))
              : Effect.void
          )
        )
        const integrationId = decoded.target.integration.id
        const wait = yield* limits.records(integrationId, decoded.records, yield* Clock.currentTimeMillis)
        if (wait === Number.POSITIVE_INFINITY) {
          return yield* Effect.fail(Problem.tooManyRecords(decoded.records, limits.recordsBurst(integrationId)))
        }
        if (wait > 0) return yield* Effect.fail(Problem.recordsLimited(Math.max(1, Math.ceil(wait / 1000))))
        const answer = yield* problems(PushApi.apply(decoded, { idempotencyKey: headers["idempotency-key"] })).pipe(
          Effect.tapError((problem) =>
            problem.status === 422 || problem.status === 410
              ? Effect.sync(() => metrics.pushRecords.inc({ kind, outcome: "rejected" }, decoded.records))
              : Effect.void
          )
        )
        metrics.pushRecords.inc({ kind, outcome: "accepted" }, answer.accepted)
        return answer
      })
    return handlers
      .handleRaw("contactEvents", ({ headers, request }) => push("contactEvents", request, headers))
      .handleRaw("agentStatuses", ({ headers, request }) => push("agentStatuses", request, headers))
  }))

  const MetricsLive = HttpApiBuilder.group(Api, "metrics", (handlers) =>
    Effect.gen(function*() {
      const metrics = yield* Metrics.Metrics
      const storage = yield* Storage.Storage
      return handlers.handle("metrics", () =>
        Effect.gen(function*() {
          const reader = yield* MetricsReader
          yield* Metrics.refresh(metrics, reader.tenants, yield* Clock.currentTimeMillis, Scheduler.streams.incremental).pipe(
            Effect.provideService(Storage.Storage, storage),
            Effect.catchAll((error) => Effect.logWarning("metrics: the store could not be read", error))
          )
          const text = yield* Effect.promise(() => metrics.registry.metrics())
          return HttpServerResponse.text(text, { contentType: metrics.registry.contentType })
        }))
    }))

  return Layer.mergeAll(MetricsLive, IntegrationsLive, ConnectorsLive, AccessTokensLive, QueuesLive, WorkloadsLive, IntervalsLive, AgentStatusesLive, HealthLive, PushLive)
}
