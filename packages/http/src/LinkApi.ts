/**
 * The routes of on-premise links (DESIGN §3, `docs/on-premise.md`):
 *
 * - admin (`AdminAuthentication`): `POST /v1/links` registers a link and shows its token once,
 *   `GET /v1/links` lists the tenant's links (last seen, release, protocol, what they serve),
 *   `DELETE /v1/links/{id}` revokes one at once;
 * - agent (`LinkAuthentication`, a link token `acdl_…` and the `acd-link-protocol` header):
 *   `GET /v1/link/tasks?wait=` long-polls for leased tasks, `POST …/renew` and `…/release`
 *   hold or hand back a lease, `PUT …/results/{resultId}/parts/{n}` uploads a part of a result,
 *   `POST …/commit` applies it (a repeat answers the first answer), `POST …/fail` reports that
 *   the source could not be read; `POST /v1/link/files` offers a file the link found (a task the
 *   link holds at once), `POST …/realtime` sends a batch of a realtime stream.
 *
 * @since 0.3.0
 */
import { Domain, LinkModel } from "@acd-bridge/core"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import * as Problem from "./Problem.js"
import { AdminAuthentication } from "./Security.js"

const Instant = Schema.DateTimeUtc

/**
 * The link of the current request.
 *
 * @since 0.3.0 @category tags
 */
export class CurrentLink extends Context.Tag("@acd-bridge/http/CurrentLink")<CurrentLink, LinkModel.Link>() {}

/**
 * The agent routes: a link token (`Authorization: Bearer acdl_…`) and the link protocol
 * header.
 *
 * @since 0.3.0 @category middleware
 */
export class LinkAuthentication extends HttpApiMiddleware.Tag<LinkAuthentication>()(
  "@acd-bridge/http/LinkAuthentication",
  {
    failure: Schema.Union(Problem.Unauthorized, Problem.UpgradeRequired, Problem.TooManyRequests, Problem.InternalError),
    provides: CurrentLink,
    security: {
      bearer: HttpApiSecurity.bearer.pipe(
        HttpApiSecurity.annotate(
          OpenApi.Description,
          `\`Authorization: Bearer <link token>\` (acdl_…), with the header \`${LinkModel.protocolHeader}: ${LinkModel.protocolVersion}\``
        )
      )
    }
  }
) {}

// ---------------------------------------------------------------------------
// views
// ---------------------------------------------------------------------------

/** A link as the admin API shows it (never its hash). @since 0.3.0 @category schemas */
export const LinkView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  prefix: Schema.String,
  createdAt: Instant,
  revokedAt: Schema.NullOr(Instant),
  lastSeenAt: Schema.NullOr(Instant),
  agentVersion: Schema.NullOr(Schema.String),
  protocol: Schema.NullOr(Schema.Int),
  /** the integrations its configuration holds, as it said when it last asked for work */
  serves: Schema.Array(Schema.String),
  /** the integrations that name this link */
  integrations: Schema.Array(Schema.String)
}).annotations({ identifier: "Link" })

/** @since 0.3.0 @category schemas */
export const LinkCreated = Schema.Struct({
  ...LinkView.fields,
  /** shown once: put it in the link's configuration now */
  token: Schema.String
}).annotations({ identifier: "LinkCreated" })

/** @since 0.3.0 @category schemas */
export const CreateLink = Schema.Struct({ name: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)) })

/**
 * A leased task as a link receives it: what to read, under which lease, and the integration's
 * non-secret settings.
 *
 * @since 0.3.0 @category schemas
 */
export const TaskView = Schema.Struct({
  taskId: Schema.String,
  integrationId: Schema.String,
  connector: Schema.String,
  kind: LinkModel.TaskKind,
  runKind: Domain.ImportRunKind,
  window: Schema.NullOr(Schema.Struct({ from: Instant, to: Instant })),
  leaseId: Schema.String,
  leaseUntil: Instant,
  attempts: Schema.Int,
  progress: Schema.NullOr(Schema.Struct({ windowsDone: Schema.Int, windowsTotal: Schema.Int })),
  /** a realtime task: the committed source position to resume after (null: from the start) */
  position: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null }),
  integration: Schema.Struct({
    name: Schema.String,
    timezone: Schema.String,
    dataKinds: Schema.Array(Domain.DataKind),
    settings: Schema.Unknown
  })
}).annotations({ identifier: "LinkTask" })

/** @since 0.3.0 @category schemas */
export const LeaseAnswer = Schema.Struct({
  protocol: Schema.Int,
  /** how long a lease holds without a renewal, in ms */
  leaseMs: Schema.Int,
  tasks: Schema.Array(TaskView)
}).annotations({ identifier: "LinkLease" })

/** @since 0.3.0 @category schemas */
export const LeaseBody = Schema.Struct({ leaseId: Schema.String })

/** @since 0.3.0 @category schemas */
export const Renewed = Schema.Struct({ leaseUntil: Instant })

/** @since 0.3.0 @category schemas */
export const CommitBody = Schema.Struct({
  resultId: Schema.NonEmptyTrimmedString,
  parts: Schema.Int.pipe(Schema.between(0, 100_000)),
  records: Schema.Int.pipe(Schema.nonNegative()),
  /** records the link read and refused itself (a file's bad rows) */
  rejected: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** why, for the first of them (`record` as `file.csv:12`) */
  problems: Schema.optional(Schema.Array(Domain.RejectedRecord).pipe(Schema.maxItems(1_000)))
})

/**
 * A file the link found in a watched folder: the integration, the file's name and its
 * content's SHA-256 (also the upload's `resultId`: the same content offered again finds the
 * same task).
 *
 * @since 0.3.0 @category schemas
 */
export const OfferFileBody = Schema.Struct({
  integrationId: Schema.NonEmptyTrimmedString,
  name: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(500)),
  sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "must be a hex SHA-256" }))
})

/**
 * The file's task: held by the link (`leased`, upload its rows under `resultId` and commit), or
 * already ended — `committed` with its first answer (the same content was imported before),
 * `failed` with the reason it was refused.
 *
 * @since 0.3.0 @category schemas
 */
export const FileTaskView = Schema.Struct({
  taskId: Schema.String,
  state: LinkModel.TaskState,
  /** the upload's id to use for the parts and the commit */
  resultId: Schema.String,
  leaseId: Schema.NullOr(Schema.String),
  leaseUntil: Schema.NullOr(Instant),
  answer: Schema.NullOr(LinkModel.TaskAnswer),
  error: Schema.NullOr(Schema.String)
}).annotations({ identifier: "LinkFileTask" })

/**
 * One batch of a realtime task, with the source position just after it (kept as the
 * integration's `realtime` cursor, so the stream resumes there).
 *
 * @since 0.3.0 @category schemas
 */
export const RealtimeBody = Schema.Struct({
  leaseId: Schema.String,
  position: Schema.optional(Schema.Number),
  batch: Domain.BatchJson
})

/** @since 0.3.0 @category schemas */
export const RealtimeApplied = Schema.Struct({ applied: Schema.Int })

/**
 * Why the link could not read the source, as the connector said: the scheduler treats it like
 * the same error of a local pull (`Transient`: backoff; `RateLimited`: wait `retryAfterMs`;
 * `AuthFailed`: marked failing; `InvalidData`: next run).
 *
 * @since 0.3.0 @category schemas
 */
export const FailBody = Schema.Struct({
  error: Schema.Struct({
    _tag: Schema.Literal("Transient", "RateLimited", "AuthFailed", "InvalidData"),
    reason: Schema.String.pipe(Schema.maxLength(2_000)),
    retryAfterMs: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
    record: Schema.optional(Schema.String.pipe(Schema.maxLength(500)))
  }),
  read: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 })
})

/** @since 0.3.0 @category schemas */
export const PartPath = Schema.Struct({
  id: Schema.String,
  resultId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  n: Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 99_999))
})

const linkId = HttpApiSchema.param("id", Schema.String)
const taskId = HttpApiSchema.param("id", Schema.String)

/** The admin routes of links. @since 0.3.0 @category api */
export const LinksGroup = HttpApiGroup.make("links")
  .add(
    HttpApiEndpoint.post("create", "/v1/links")
      .setPayload(CreateLink)
      .addSuccess(LinkCreated, { status: 201 })
      .annotate(OpenApi.Summary, "Register a link agent (its token is shown once)")
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/links")
      .addSuccess(Schema.Array(LinkView))
      .annotate(OpenApi.Summary, "The tenant's links, with last seen, release and what they serve")
  )
  .add(
    HttpApiEndpoint.del("revoke")`/v1/links/${linkId}`
      .addSuccess(LinkView)
      .annotate(OpenApi.Summary, "Revoke a link's token at once (its leases go back to the queue)")
  )
  .addError(Problem.Forbidden)
  .addError(Problem.NotFound)
  .addError(Problem.Conflict)
  .addError(Problem.Gone)
  .addError(Problem.UnprocessableEntity)
  .middleware(AdminAuthentication)
  .annotate(OpenApi.Title, "Links")
  .annotate(OpenApi.Description, "On-premise link agents of the tenant: create (token shown once), list with last seen and what they serve, revoke.")

/** The routes a link agent calls. @since 0.3.0 @category api */
export const LinkAgentGroup = HttpApiGroup.make("linkAgent")
  .add(
    HttpApiEndpoint.get("lease", "/v1/link/tasks")
      .setUrlParams(Schema.Struct({
        /** seconds to wait for work (long poll), at most the engine's limit */
        wait: Schema.optional(Schema.NumberFromString.pipe(Schema.nonNegative())),
        max: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100))),
        /** the integration ids the link's configuration holds, comma-separated */
        integrations: Schema.optional(Schema.String)
      }))
      .addSuccess(LeaseAnswer)
      .annotate(OpenApi.Summary, "Lease tasks of the integrations the link serves, waiting up to `wait` seconds")
  )
  .add(
    HttpApiEndpoint.post("renew")`/v1/link/tasks/${taskId}/renew`
      .setPayload(LeaseBody)
      .addSuccess(Renewed)
      .annotate(OpenApi.Summary, "Extend a lease")
  )
  .add(
    HttpApiEndpoint.post("release")`/v1/link/tasks/${taskId}/release`
      .setPayload(LeaseBody)
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Summary, "Hand a lease back (the task is offered again at once)")
  )
  .add(
    HttpApiEndpoint.put("putPart", "/v1/link/tasks/:id/results/:resultId/parts/:n")
      .setPath(PartPath)
      .setPayload(Domain.BatchJson)
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Summary, "Upload one part of a task's result (a repeat replaces it)")
  )
  .add(
    HttpApiEndpoint.post("commit")`/v1/link/tasks/${taskId}/commit`
      .setPayload(CommitBody)
      .addSuccess(LinkModel.TaskAnswer)
      .annotate(OpenApi.Summary, "Apply the uploaded result (a repeat answers the first answer)")
  )
  .add(
    HttpApiEndpoint.post("offerFile", "/v1/link/files")
      .setPayload(OfferFileBody)
      .addSuccess(FileTaskView)
      .annotate(OpenApi.Summary, "Offer a file found in a watched folder: its task, held by this link (or its first end)")
  )
  .add(
    HttpApiEndpoint.post("realtime")`/v1/link/tasks/${taskId}/realtime`
      .setPayload(RealtimeBody)
      .addSuccess(RealtimeApplied)
      .annotate(OpenApi.Summary, "Send a batch of a realtime task: applied at once and published to stream subscribers")
  )
  .add(
    HttpApiEndpoint.post("fail")`/v1/link/tasks/${taskId}/fail`
      .setPayload(FailBody)
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Summary, "Report that the source could not be read")
  )
  .addError(Problem.Forbidden)
  .addError(Problem.NotFound)
  .addError(Problem.Conflict)
  .addError(Problem.Gone)
  .addError(Problem.UnprocessableEntity)
  .middleware(LinkAuthentication)
  .annotate(OpenApi.Title, "Link agent")
  .annotate(OpenApi.Description, "What a link agent calls with its link token: lease tasks (long poll), renew or release a lease, upload a result in parts and commit it, or report a failure; offer a file it found; send realtime batches.")
