/**
 * The HTTP contract of DESIGN §4 as an `HttpApi` definition: admin routes, the push routes of
 * `@acd-bridge/api-push`, and health. The server (`HttpAdapter`), the OpenAPI document and
 * typed clients (`HttpApiClient.make(Api.Api)`) all come from this one definition.
 *
 * @since 0.1.0
 */
import { PushApi } from "@acd-bridge/api-push"
import { Domain, Integrations, Workloads } from "@acd-bridge/core"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as Struct from "effect/Struct"
import { LinkAgentGroup, LinksGroup } from "./LinkApi.js"
import * as Problem from "./Problem.js"
import { AdminAuthentication, PushAuthentication } from "./Security.js"

// ---------------------------------------------------------------------------
// views
// ---------------------------------------------------------------------------

const Instant = Schema.DateTimeUtc

// The views are the domain classes' fields, with instants as ISO-8601 text on the wire and the
// fields a caller must not see (tenant ids of tenant-scoped rows) left out. Handlers return
// domain values; encoding drops whatever a view doesn't list.

/**
 * An integration as the API shows it: `config` with secrets replaced by `"<redacted>"`, and
 * never its API key.
 *
 * @since 0.1.0 @category schemas
 */
export const IntegrationView = Schema.Struct({
  ...Domain.Integration.fields,
  createdAt: Instant,
  updatedAt: Instant,
  deletedAt: Schema.NullOr(Instant)
}).annotations({ identifier: "Integration" })

/** @since 0.1.0 @category schemas */
export const CreatedIntegration = Schema.Struct({
  ...IntegrationView.fields,
  /** e.g. another integration has the same name */
  warnings: Schema.Array(Schema.String)
}).annotations({ identifier: "CreatedIntegration" })

/** @since 0.1.0 @category schemas */
export const ApiKeyCreated = Schema.Struct({
  /** shown once: store it now */
  apiKey: Schema.String,
  prefix: Schema.String
}).annotations({ identifier: "ApiKeyCreated" })

/** @since 0.1.0 @category schemas */
export const RunView = Schema.Struct({
  ...Domain.ImportRun.fields,
  windowStart: Schema.NullOr(Instant),
  windowEnd: Schema.NullOr(Instant),
  startedAt: Instant,
  problems: Schema.Array(Domain.Problem)
}).annotations({ identifier: "ImportRun" })

/** @since 0.1.0 @category schemas */
export const QueueView = Schema.Struct({
  ...Struct.omit(Domain.Queue.fields, "tenantId"),
  createdAt: Instant,
  workloadIds: Schema.Array(Domain.WorkloadId)
}).annotations({ identifier: "Queue" })

/** @since 0.1.0 @category schemas */
export const WorkloadView = Schema.Struct({
  ...Struct.omit(Domain.Workload.fields, "tenantId"),
  createdAt: Instant
}).annotations({ identifier: "Workload" })

/** @since 0.1.0 @category schemas */
export const SetQueues = Schema.Struct({ queueIds: Schema.Array(Schema.String) }).annotations({
  identifier: "SetWorkloadQueues"
})

const IdentifierCount = Schema.Struct({ externalId: Schema.String, segments: Schema.Int })

/** @since 0.1.0 @category schemas */
export const UnmappedView = Schema.Struct({
  agents: Schema.Array(IdentifierCount),
  activities: Schema.Array(IdentifierCount)
}).annotations({ identifier: "Unmapped" })

/**
 * One interval of one queue and channel. `start`/`end` are local times with offset in the
 * requested zone; seconds are decimal; `ahtSeconds` is null when nothing was handled.
 *
 * @since 0.1.0 @category schemas
 */
export const IntervalRow = Schema.Struct({
  queueId: Schema.String,
  queueIdentifier: Schema.String,
  queueName: Schema.String,
  channel: Domain.Channel,
  start: Schema.String,
  end: Schema.String,
  offered: Schema.Int,
  handled: Schema.Int,
  handlingSeconds: Schema.Number,
  ahtSeconds: Schema.NullOr(Schema.Number),
  unhandledSeconds: Schema.Number,
  talkSeconds: Schema.Number,
  holdSeconds: Schema.Number,
  afterCallWorkSeconds: Schema.Number,
  waitSeconds: Schema.Number,
  abandoned: Schema.Int,
  shortAbandoned: Schema.Int,
  breakout: Schema.Int,
  answeredInThreshold: Schema.Int
}).annotations({ identifier: "IntervalRow" })

const TimeParam = Schema.String.annotations({
  description: "ISO-8601 instant (e.g. 2026-03-29T00:00:00Z); without an offset it is read in `timezone`"
})

/** @since 0.1.0 @category schemas */
export const IntervalParams = Schema.Struct({
  integrationId: Schema.optional(Schema.String),
  queueId: Schema.optional(Schema.String),
  from: TimeParam,
  to: TimeParam,
  length: Schema.optional(Schema.Literal("15", "30", "60")),
  timezone: Schema.optional(Schema.String.annotations({
    description: "IANA zone the intervals are aligned to and labelled in; default: the integration's zone, else UTC"
  })),
  fill: Schema.optional(Schema.Literal("zero", "none"))
})

/**
 * An agent status with its mappings: core's `AgentStatus` with the wire's names for its
 * instants (`startTime`, `endTime`).
 *
 * @since 0.1.0 @category schemas
 */
export const StatusView = Schema.Struct({
  integrationId: Domain.IntegrationId,
  ...Struct.pick(Domain.AgentStatus.fields, "agentIdentifier", "activityIdentifier"),
  start: Schema.propertySignature(Instant).pipe(Schema.fromKey("startTime")),
  end: Schema.propertySignature(Schema.NullOr(Instant)).pipe(Schema.fromKey("endTime")),
  employeeId: Schema.NullOr(Schema.String),
  activityId: Schema.NullOr(Schema.String)
}).annotations({ identifier: "AgentStatus" })

/** @since 0.1.0 @category schemas */
export const StatusParams = Schema.Struct({
  integrationId: Schema.optional(Schema.String),
  agentIdentifier: Schema.optional(Schema.String),
  from: TimeParam,
  to: TimeParam
})

/** @since 0.1.0 @category schemas */
export const Health = Schema.Struct({ status: Schema.Literal("ok") }).annotations({ identifier: "Health" })

// ---------------------------------------------------------------------------
// groups
// ---------------------------------------------------------------------------

const id = HttpApiSchema.param("id", Schema.String)

/**
 * A range to import again: asked as `{from, to}` (ISO-8601 instants), answered as accepted
 * (aligned outward to interval boundaries, capped at the newest closed interval).
 *
 * @since 0.1.0 @category schemas
 */
export const ReimportRange = Schema.Struct({ from: Instant, to: Instant }).annotations({ identifier: "ReimportRange" })

/** @since 0.1.0 @category api */
export const IntegrationsGroup = HttpApiGroup.make("integrations")
  .add(
    HttpApiEndpoint.post("create", "/v1/integrations")
      .setPayload(Integrations.CreateIntegration)
      .addSuccess(CreatedIntegration, { status: 201 })
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Create an integration")
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/integrations")
      .addSuccess(Schema.Array(IntegrationView))
      .annotate(OpenApi.Summary, "List the tenant's integrations (deleted ones included)")
  )
  .add(
    HttpApiEndpoint.get("get")`/v1/integrations/${id}`
      .addSuccess(IntegrationView)
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Read an integration (never its key or secrets)")
  )
  .add(
    HttpApiEndpoint.post("createApiKey")`/v1/integrations/${id}/api-key`
      .addSuccess(ApiKeyCreated, { status: 201 })
      .addError(Problem.NotFound)
      .addError(Problem.Gone)
      .annotate(OpenApi.Summary, "Generate the integration's API key (shown once; the previous key stops working)")
  )
  .add(
    HttpApiEndpoint.post("pause")`/v1/integrations/${id}/pause`
      .addSuccess(IntegrationView)
      .addError(Problem.NotFound)
      .addError(Problem.Gone)
      .annotate(OpenApi.Summary, "Pause: nothing is applied; pushes are staged until resume")
  )
  .add(
    HttpApiEndpoint.post("resume")`/v1/integrations/${id}/resume`
      .addSuccess(IntegrationView)
      .addError(Problem.NotFound)
      .addError(Problem.Gone)
      .annotate(OpenApi.Summary, "Resume: staged pushes are applied in arrival order")
  )
  .add(
    HttpApiEndpoint.del("delete")`/v1/integrations/${id}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(Problem.NotFound)
      .addError(Problem.Gone)
      .annotate(OpenApi.Summary, "Delete (final): keys revoked, data and queues kept")
  )
  .add(
    HttpApiEndpoint.get("runs")`/v1/integrations/${id}/runs`
      .setUrlParams(Schema.Struct({ limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000))) }))
      .addSuccess(Schema.Array(RunView))
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Import runs, newest first (the integration's health)")
  )
  .add(
    HttpApiEndpoint.post("reimport")`/v1/integrations/${id}/reimport`
      .setPayload(ReimportRange)
      .addSuccess(ReimportRange, { status: 202 })
      .addError(Problem.NotFound)
      .addError(Problem.Gone)
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(
        OpenApi.Summary,
        "Import a date range again (aligned to the integration's intervals; each window replaces what was stored)"
      )
  )
  .add(
    HttpApiEndpoint.put("putAgentMappings")`/v1/integrations/${id}/mappings/agents`
      .setPayload(Schema.Array(Domain.AgentMapping))
      .addSuccess(Schema.Array(Domain.AgentMapping))
      .addError(Problem.NotFound)
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Map external agent ids to employees (upsert; applies to stored data)")
  )
  .add(
    HttpApiEndpoint.put("putActivityMappings")`/v1/integrations/${id}/mappings/activities`
      .setPayload(Schema.Array(Domain.ActivityMapping))
      .addSuccess(Schema.Array(Domain.ActivityMapping))
      .addError(Problem.NotFound)
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Map external activity ids to WFM activities (upsert; applies to stored data)")
  )
  .add(
    HttpApiEndpoint.get("unmapped")`/v1/integrations/${id}/unmapped`
      .addSuccess(UnmappedView)
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "External agent and activity ids without a mapping, with their segment counts")
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Integrations")

/** @since 0.1.0 @category api */
export const QueuesGroup = HttpApiGroup.make("queues")
  .add(
    HttpApiEndpoint.get("list", "/v1/queues")
      .setUrlParams(Schema.Struct({ integrationId: Schema.optional(Schema.String) }))
      .addSuccess(Schema.Array(QueueView))
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "List queues with the workloads they sit in")
  )
  .add(
    HttpApiEndpoint.del("delete")`/v1/queues/${id}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(Problem.NotFound)
      .addError(Problem.Conflict)
      .annotate(OpenApi.Summary, "Delete a queue made by hand (queues of integrations can't be deleted: 409)")
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Queues")

/** @since 0.1.0 @category api */
export const WorkloadsGroup = HttpApiGroup.make("workloads")
  .add(
    HttpApiEndpoint.post("create", "/v1/workloads")
      .setPayload(Workloads.CreateWorkload)
      .addSuccess(WorkloadView, { status: 201 })
      .addError(Problem.Conflict)
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Create a workload (a group of queues for forecasting)")
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/workloads")
      .addSuccess(Schema.Array(WorkloadView))
      .annotate(OpenApi.Summary, "List workloads")
  )
  .add(
    HttpApiEndpoint.get("get")`/v1/workloads/${id}`
      .addSuccess(WorkloadView)
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Read a workload")
  )
  .add(
    HttpApiEndpoint.put("setQueues")`/v1/workloads/${id}/queues`
      .setPayload(SetQueues)
      .addSuccess(WorkloadView)
      .addError(Problem.NotFound)
      .addError(Problem.Conflict)
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(
        OpenApi.Summary,
        "Replace the workload's queues (a deleted integration's queue may stay but not join: 409)"
      )
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Workloads")

/** @since 0.1.0 @category api */
export const IntervalsGroup = HttpApiGroup.make("intervals")
  .add(
    HttpApiEndpoint.get("query", "/v1/intervals")
      .setUrlParams(IntervalParams)
      .addSuccess(Schema.Array(IntervalRow))
      .addError(Problem.NotFound)
      .addError(Problem.UnprocessableEntity)
      .annotate(OpenApi.Summary, "Interval statistics per queue and channel; intervals starting in [from, to)")
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Intervals")

/** @since 0.1.0 @category api */
export const AgentStatusesGroup = HttpApiGroup.make("agentStatuses")
  .add(
    HttpApiEndpoint.get("query", "/v1/agent-statuses")
      .setUrlParams(StatusParams)
      .addSuccess(Schema.Array(StatusView))
      .addError(Problem.NotFound)
      .addError(Problem.UnprocessableEntity)
      .annotate(OpenApi.Summary, "Agent statuses overlapping [from, to), with their mappings")
  )
  .add(
    HttpApiEndpoint.get("stream", "/v1/agent-statuses/stream")
      .setUrlParams(Schema.Struct({ integrationId: Schema.optional(Schema.String) }))
      .addSuccess(HttpApiSchema.Text({ contentType: "text/event-stream" }))
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Server-sent events: each accepted agent status as `event: agent-status`")
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Agent statuses")

/** @since 0.1.0 @category api */
export const HealthGroup = HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Health)
      .addError(Problem.ServiceUnavailable)
      .annotate(OpenApi.Summary, "Liveness and store reachability (no credentials needed)")
  )
  .annotate(OpenApi.Title, "Health")

/** The push routes with their authentication and errors. @since 0.1.0 @category api */
export const PushGroup = PushApi.group
  .middleware(PushAuthentication)
  .addError(Problem.Forbidden)
  .addError(Problem.NotFound)
  .addError(Problem.Conflict)
  .addError(Problem.Gone)
  .addError(Problem.PayloadTooLarge)
  .addError(Problem.UnsupportedMediaType)
  .addError(Problem.UnprocessableEntity)

/**
 * The adapter answers every 400 as a `BadRequest` problem (its middleware turns the platform's
 * `HttpApiDecodeError` into one), so the document says so.
 */
const problemBadRequests = (spec: Record<string, unknown>): Record<string, unknown> => {
  const paths = (spec["paths"] ?? {}) as Record<string, Record<string, { responses?: Record<string, unknown> }>>
  for (const methods of Object.values(paths)) {
    for (const operation of Object.values(methods)) {
      if (operation.responses?.["400"] !== undefined) {
        operation.responses["400"] = {
          description: "Malformed JSON, or a path or query parameter that can't be read",
          content: { "application/problem+json": { schema: { $ref: "#/components/schemas/BadRequest" } } }
        }
      }
    }
  }
  const components = spec["components"] as { schemas?: Record<string, unknown> } | undefined
  if (components?.schemas !== undefined) delete components.schemas["HttpApiDecodeError"]
  return spec
}

/**
 * The whole API. Errors every route may answer: 400, 401 (authenticated routes), 429, 500.
 *
 * @since 0.1.0 @category api
 */
export class Api extends HttpApi.make("acd-bridge")
  .add(PushGroup)
  .add(IntegrationsGroup)
  .add(QueuesGroup)
  .add(WorkloadsGroup)
  .add(IntervalsGroup)
  .add(AgentStatusesGroup)
  .add(HealthGroup)
  .add(LinksGroup)
  .add(LinkAgentGroup)
  .addError(Problem.BadRequest)
  .addError(Problem.TooManyRequests)
  .addError(Problem.InternalError)
  .annotate(OpenApi.Title, "acd-bridge")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Transform, problemBadRequests)
  .annotate(
    OpenApi.Description,
    "Imports contact-centre data (contact events, interval statistics, agent statuses) into a WFM system. " +
      "Errors are problem bodies {type, title, status, detail, field?, index?}."
  )
{}
