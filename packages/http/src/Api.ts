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
import { LinkAgentGroup, LinksGroup } from "./LinkApi.js"
import * as Problem from "./Problem.js"
import { AdminAuthentication, MetricsAuthentication, PushAuthentication } from "./Security.js"

import { AccessTokenCreated, AccessTokenView, ApiKeyCreated, CheckReportView, ConnectorView, CreateAccessToken, CreatedIntegration, Health, Instant, IntegrationHealthView, IntegrationView, IntervalParams, IntervalRow, QueueView, RunView, SetQueues, StatusParams, StatusView, UnmappedView, WorkloadView } from "./internal/views.js"

export {
  AccessTokenCreated,
  AccessTokenView,
  ApiKeyCreated,
  CheckReportView,
  ConnectorView,
  CreateAccessToken,
  CreatedIntegration,
  Health,
  IntegrationHealthView,
  IntegrationView,
  IntervalParams,
  IntervalRow,
  QueueView,
  RunView,
  SetQueues,
  StatusParams,
  StatusView,
  UnmappedView,
  WorkloadView
} from "./internal/views.js"

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
    HttpApiEndpoint.patch("update")`/v1/integrations/${id}`
      .setPayload(Integrations.UpdateIntegration)
      .setHeaders(Schema.Struct({
        "if-match": Schema.optional(Schema.String.annotations({
          description: "The version the change was made on (the integration's `version`, as sent in `ETag`); " +
            "409 when the integration changed since"
        }))
      }))
      .addSuccess(IntegrationView)
      .addError(Problem.NotFound)
      .addError(Problem.Conflict)
      .addError(Problem.Gone)
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Change an integration's name, config, schedule, time zone or history depth")
      .annotate(
        OpenApi.Description,
        "Fields left out stay. `config` is a JSON merge patch (RFC 7396) onto the stored config: objects merge at " +
          "every level, null removes a key, a secret left out (or sent back as \"<redacted>\") keeps its stored " +
          "value. Validated like create (422 naming the field). A config change clears `failing` and wakes the " +
          "integration's schedule. The change is a compare-and-set on `version`: with `If-Match`, a change made " +
          "meanwhile is 409."
      )
  )
  .add(
    HttpApiEndpoint.post("check")`/v1/integrations/${id}/check`
      .addSuccess(CheckReportView)
      .addError(Problem.NotFound)
      .addError(Problem.Gone)
      .addError(Problem.UnprocessableEntity)
      .annotate(OpenApi.Summary, "Run the connector's check with the stored config (connection, credentials)")
      .annotate(
        OpenApi.Description,
        "Answers 200 with the report whether or not the check passed; a config the connector no longer accepts is a " +
          "failed item. Secrets never appear in the report."
      )
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
    HttpApiEndpoint.get("health")`/v1/integrations/${id}/health`
      .addSuccess(IntegrationHealthView)
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Import health: failing, retrying, lag, backfill progress, last run and error, stall")
      .annotate(
        OpenApi.Description,
        "What core's Scheduler knows of the integration: status and the failing reason, the watermark and lag, the " +
          "progress of the history import, a resume gap or a re-import (windows done/total, records, rate, ETA), the " +
          "last run and last error, retries and rate limits, a stall, and whether it waits for a link. `warnings` " +
          "says what needs attention in sentences. On an engine without a scheduler the answer holds what the store " +
          "knows (status, failing, watermark, last run and error) with `scheduled: false`."
      )
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
  .annotate(OpenApi.Description, "Connections to ACD/CRM sources: create, read, change, pause, resume, delete, check, re-import, health, import runs and the mapping of external agent and activity ids.")

/** @since 0.2.0 @category api */
export const ConnectorsGroup = HttpApiGroup.make("connectors")
  .add(
    HttpApiEndpoint.get("list", "/v1/connectors")
      .addSuccess(Schema.Array(ConnectorView))
      .annotate(OpenApi.Summary, "The connectors this engine offers, with their config as JSON Schema")
      .annotate(
        OpenApi.Description,
        "Each connector's key (what `POST /v1/integrations` names), display name, delivery modes, data kinds, what " +
          "it can do (pull, realtime, check, push), settle delay, history limit and its config as JSON Schema " +
          "(draft 2020-12) generated from its Effect Schema: secrets are `writeOnly`, choices are `enum`."
      )
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Connectors")
  .annotate(OpenApi.Description, "The connectors this server has registered, with their configuration as JSON Schema.")
  .annotate(OpenApi.Description, "What integrations can be created with, and how each is configured")

const tokenId = HttpApiSchema.param("id", Schema.String)

/** @since 0.2.0 @category api */
export const AccessTokensGroup = HttpApiGroup.make("accessTokens")
  .add(
    HttpApiEndpoint.post("create", "/v1/access-tokens")
      .setPayload(CreateAccessToken)
      .addSuccess(AccessTokenCreated, { status: 201 })
      .addError(Problem.UnprocessableEntity)
      .addError(Problem.PayloadTooLarge)
      .addError(Problem.UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Create a personal access token (shown once)")
      .annotate(
        OpenApi.Description,
        "The answer holds the token once; only its hash is stored. It acts as `userId` (default `admin`) of the " +
          "tenant on the admin routes and pushes into the tenant's integrations, until revoked."
      )
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/access-tokens")
      .addSuccess(Schema.Array(AccessTokenView))
      .annotate(OpenApi.Summary, "List the tenant's personal access tokens (revoked ones included, never the token)")
  )
  .add(
    HttpApiEndpoint.del("revoke")`/v1/access-tokens/${tokenId}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Revoke a personal access token (at once; revoking twice changes nothing)")
  )
  .middleware(AdminAuthentication)
  .addError(Problem.Forbidden)
  .annotate(OpenApi.Title, "Access tokens")
  .annotate(OpenApi.Description, "Personal access tokens of users (shown once when created, stored hashed, revocable).")
  .annotate(
    OpenApi.Description,
    "Personal access tokens (acdp_…) act as a user of the tenant on the admin routes and push into the tenant's " +
      "integrations. Only the admin token manages them (403 for a personal access token)."
  )

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
  .annotate(OpenApi.Description, "Queues are created by the data (every new queue identifier, name and integration); queues made by hand can be deleted.")

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
  .annotate(OpenApi.Description, "Groups of queues a WFM forecasts together.")

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
  .annotate(OpenApi.Description, "Offered and handled contacts and handling times per queue, channel and 15/30/60-minute interval of any time zone.")

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
      .setUrlParams(Schema.Struct({
        integrationId: Schema.optional(Schema.String.annotations({ description: "Only this integration's statuses" })),
        lastEventId: Schema.optional(Schema.String.annotations({
          description: "Resume after this event id, for clients that can't send the Last-Event-ID header"
        }))
      }))
      .setHeaders(Schema.Struct({
        "last-event-id": Schema.optional(Schema.String.annotations({
          description: "Resume after this event id (sent by an EventSource when it reconnects): what was missed comes first"
        }))
      }))
      .addSuccess(HttpApiSchema.Text({ contentType: "text/event-stream" }))
      .addError(Problem.NotFound)
      .annotate(OpenApi.Summary, "Server-sent events: each accepted agent status as `event: agent-status` with an `id:`")
      .annotate(
        OpenApi.Description,
        "Each status is `id: <id>`, `event: agent-status`, `data: <the JSON of GET /v1/agent-statuses>`. A client that " +
          "reconnects with `Last-Event-ID` first gets what it missed (from a bounded in-memory log per tenant). When " +
          "that can't be told (the id is older than the log, from before a restart, or the client fell behind), an " +
          "`event: reset` with `data: {reason, query}` says to read `GET /v1/agent-statuses` again; the stream goes on " +
          "live after it. `: keep-alive` comments keep idle connections open."
      )
  )
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Agent statuses")
  .annotate(OpenApi.Description, "Which agent was in which activity from when to when, as a query and as a live server-sent event stream.")

/** @since 0.1.0 @category api */
export const HealthGroup = HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Health)
      .addError(Problem.ServiceUnavailable)
      .annotate(OpenApi.Summary, "Liveness and store reachability (no credentials needed)")
      .annotate(
        OpenApi.Description,
        "200 while the store answers a read (with how long it took), whether a scheduler runs and the uptime; 503 " +
          "when the store fails (the log has why). Says nothing about tenants or integrations: their health is " +
          "`GET /v1/integrations/{id}/health`, behind credentials."
      )
  )
  .annotate(OpenApi.Title, "Health")
  .annotate(OpenApi.Description, "Liveness and readiness of the server (no tenant data).")

/** @since 0.2.0 @category api */
export const MetricsGroup = HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4; charset=utf-8" }))
      .annotate(OpenApi.Summary, "Prometheus metrics (text format 0.0.4)")
      .annotate(
        OpenApi.Description,
        "Requests by route and status, push records accepted and rejected, import runs by outcome, lag, failing " +
          "marks and staged records per integration, open event streams, storage times, process metrics. " +
          "Credentials: the metrics token, the admin token or a personal access token."
      )
  )
  .middleware(MetricsAuthentication)
  .annotate(OpenApi.Title, "Metrics")
  .annotate(OpenApi.Description, "Prometheus metrics of the server.")
  .annotate(OpenApi.Description, "Prometheus metrics for monitoring and alerts")

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
  if (components?.schemas !== undefined) {
    delete components.schemas["HttpApiDecodeError"]
    pruneUnreferenced(spec, components.schemas)
  }
  return spec
}

/** Drops the schemas only the replaced decode error used (`Issue`, `PropertyKey`): nothing refers to them. */
const pruneUnreferenced = (spec: Record<string, unknown>, schemas: Record<string, unknown>): void => {
  for (;;) {
    const text = JSON.stringify(spec)
    const unused = Object.keys(schemas).filter((name) => !text.includes(`"#/components/schemas/${name}"`))
    if (unused.length === 0) return
    for (const name of unused) delete schemas[name]
  }
}

/**
 * The whole API. Errors every route may answer: 400, 401 (authenticated routes), 429, 500.
 *
 * @since 0.1.0 @category api
 */
export class Api extends HttpApi.make("acd-bridge")
  .add(PushGroup)
  .add(ConnectorsGroup)
  .add(IntegrationsGroup)
  .add(AccessTokensGroup)
  .add(QueuesGroup)
  .add(WorkloadsGroup)
  .add(IntervalsGroup)
  .add(AgentStatusesGroup)
  .add(HealthGroup)
  .add(MetricsGroup)
  .add(LinksGroup)
  .add(LinkAgentGroup)
  .addError(Problem.BadRequest)
  .addError(Problem.TooManyRequests)
  .addError(Problem.InternalError)
  .addError(Problem.ServiceUnavailable)
  .annotate(OpenApi.Title, "acd-bridge")
  .annotate(OpenApi.License, { name: "MIT", url: "https://opensource.org/licenses/MIT" })
  .annotate(OpenApi.Servers, [{ url: "http://127.0.0.1:8080", description: "the example server (pnpm start); use your deployment's origin" }])
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Transform, problemBadRequests)
  .annotate(
    OpenApi.Description,
    "Imports contact-centre data (contact events, interval statistics, agent statuses) into a WFM system. " +
      "Errors are problem bodies {type, title, status, detail, field?, index?}."
  )
{}
