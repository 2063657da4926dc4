/**
 * What the engine keeps about on-premise `link` agents and the work it offers them: the
 * registered links of a tenant, the tasks (a planned window, a file, a realtime stream) and
 * their answers, and the errors of the link protocol. The rules are in `docs/on-premise.md`;
 * the services are `Links` (registering links) and `LinkTasks` (offering, leasing and
 * committing tasks).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { AuthFailed, InvalidData, RateLimited, Transient } from "./Connector.js"
import { ImportRunKind, IntegrationId, LinkId, TenantId } from "./Domain.js"

// ---------------------------------------------------------------------------
// protocol
// ---------------------------------------------------------------------------

/**
 * The link protocol version this engine speaks. A link sends its own in the
 * `acd-link-protocol` header; one the engine can't serve is refused with a problem that says
 * which side to upgrade.
 *
 * @since 0.3.0 @category constants
 */
export const protocolVersion = 1

/** Protocol versions this engine serves. @since 0.3.0 @category constants */
export const supportedProtocols: ReadonlyArray<number> = [1]

/** The request header carrying the link's protocol version. @since 0.3.0 @category constants */
export const protocolHeader = "acd-link-protocol"

/** The request header carrying the link agent's release (shown in `GET /v1/links`). @since 0.3.0 @category constants */
export const agentVersionHeader = "acd-link-version"

/** Every link token starts with this. @since 0.3.0 @category constants */
export const tokenPrefix = "acdl_"

/** Characters of a token kept visible (prefix included). @since 0.3.0 @category constants */
export const visibleLength = 12

// ---------------------------------------------------------------------------
// how on-premise integrations run
// ---------------------------------------------------------------------------

/**
 * Who reads an engine's on-premise integrations:
 *
 * - `local` (default): the engine itself, when its scheduler runs the `on-premise` delivery
 *   mode (a server deployed inside the customer's network); the integration's config holds the
 *   connection and is validated by the connector.
 * - `link`: a `link` agent next to the source. The scheduler offers each planned window as a
 *   task instead of calling `pull`; the connection config (and its secrets) lives in the link's
 *   own configuration, so the engine stores only non-secret settings and does not validate
 *   them with the connector's schema.
 *
 * @since 0.3.0 @category models
 */
export type OnPremiseMode = "local" | "link"

/**
 * The engine's on-premise mode, read by `Integrations` (config validation), the scheduler and
 * `LinkTasks` when their layers are built. `layerOnPremise("link")` sets it.
 *
 * @since 0.3.0 @category tags
 */
export class OnPremise extends Context.Reference<OnPremise>()("@acd-bridge/core/OnPremise", {
  defaultValue: (): OnPremiseMode => "local"
}) {}

/**
 * Sets the on-premise mode for the layers built on it (provide it under `Engine.layer` and the
 * scheduler's layer).
 *
 * @since 0.3.0 @category layers
 */
export const layerOnPremise = (mode: OnPremiseMode): Layer.Layer<OnPremise> => Layer.succeed(OnPremise, mode)

// ---------------------------------------------------------------------------
// links
// ---------------------------------------------------------------------------

/**
 * A registered link agent. Its token is shown once at creation; only its SHA-256 and a
 * visible prefix are kept.
 *
 * @since 0.3.0 @category models
 */
export class Link extends Schema.Class<Link>("@acd-bridge/Link")({
  id: LinkId,
  tenantId: TenantId,
  name: Schema.NonEmptyTrimmedString,
  prefix: Schema.String,
  hash: Schema.String,
  createdAt: Schema.DateTimeUtcFromSelf,
  revokedAt: Schema.NullOr(Schema.DateTimeUtcFromSelf),
  /** when the link last asked for work (or reported anything) */
  lastSeenAt: Schema.NullOr(Schema.DateTimeUtcFromSelf),
  /** the agent's release, as it said */
  agentVersion: Schema.NullOr(Schema.String),
  /** the protocol version it spoke */
  protocol: Schema.NullOr(Schema.Int),
  /** the integrations its configuration serves, as it said when it last asked for work */
  serves: Schema.Array(IntegrationId)
}) {}

// ---------------------------------------------------------------------------
// tasks
// ---------------------------------------------------------------------------

/**
 * What a task asks of a link:
 *
 * - `window`: read the planned window `[windowFrom, windowTo)` with the connector's `pull`;
 * - `file`: a file the link found in a watched folder (offered by the link itself);
 * - `realtime`: hold the connector's realtime stream open and send what it reads.
 *
 * @since 0.3.0 @category models
 */
export const TaskKind = Schema.Literal("window", "file", "realtime")
/** @since 0.3.0 @category models */
export type TaskKind = typeof TaskKind.Type

/**
 * A task's state: `pending` (offered, nobody holds it), `leased` (a link holds it until
 * `leaseUntil`; after that it counts as pending again), and the final ones.
 *
 * @since 0.3.0 @category models
 */
export const TaskState = Schema.Literal("pending", "leased", "committed", "failed", "withdrawn")
/** @since 0.3.0 @category models */
export type TaskState = typeof TaskState.Type

/**
 * The answer of a committed task, given again to every repeated commit.
 *
 * @since 0.3.0 @category models
 */
export const TaskAnswer = Schema.Struct({
  /** `staged`: a file of a paused integration, applied on resume */
  outcome: Schema.Literal("applied", "staged"),
  read: Schema.Int,
  applied: Schema.Int,
  rejected: Schema.Int,
  /** the import run that recorded it (null while staged) */
  runId: Schema.NullOr(Schema.String)
})
/** @since 0.3.0 @category models */
export type TaskAnswer = typeof TaskAnswer.Type

/**
 * Why a task reading the source failed, as the link reports it: the connector's own errors,
 * so the scheduler treats a failure on the link like the same failure of a local pull.
 *
 * @since 0.3.0 @category models
 */
export const SourceError = Schema.Union(Transient, RateLimited, AuthFailed, InvalidData)
/** @since 0.3.0 @category models */
export type SourceError = typeof SourceError.Type

/**
 * One unit of work offered to links. Times are epoch milliseconds.
 *
 * @since 0.3.0 @category models
 */
export class LinkTask extends Schema.Class<LinkTask>("@acd-bridge/LinkTask")({
  id: Schema.NonEmptyTrimmedString,
  tenantId: TenantId,
  integrationId: IntegrationId,
  /** the link that may take it; null: any link of the tenant serving the integration */
  linkId: Schema.NullOr(LinkId),
  connector: Schema.String,
  kind: TaskKind,
  /** the import run kind the result is recorded as */
  runKind: ImportRunKind,
  /** the scheduler's task the window belongs to */
  planTask: Schema.NullOr(Schema.Literal("incremental", "history", "gap", "reimport")),
  windowFrom: Schema.NullOr(Schema.Number),
  windowTo: Schema.NullOr(Schema.Number),
  watermarkStream: Schema.NullOr(Schema.String),
  watermarkValue: Schema.NullOr(Schema.Number),
  /** the planner's cursors the window was planned from: a commit applies only while they hold */
  snapshot: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** the backfill the window belongs to, for the link's progress display */
  progress: Schema.NullOr(Schema.Struct({ windowsDone: Schema.Int, windowsTotal: Schema.Int })),
  /** a file result: the file's name and content hash */
  file: Schema.NullOr(Schema.Struct({ name: Schema.String, sha256: Schema.String })),
  /** a realtime task: the committed source position to start after */
  position: Schema.NullOr(Schema.Number),
  state: TaskState,
  /** counts every change; updates compare and set it */
  epoch: Schema.Int,
  leaseId: Schema.NullOr(Schema.String),
  leasedBy: Schema.NullOr(LinkId),
  leaseUntil: Schema.NullOr(Schema.Number),
  /** leases given so far */
  attempts: Schema.Int,
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  finishedAt: Schema.NullOr(Schema.Number),
  answer: Schema.NullOr(TaskAnswer),
  /** why it failed or was withdrawn */
  error: Schema.NullOr(Schema.String),
  /** a failure the link reported, for the scheduler's failure rules */
  sourceError: Schema.NullOr(SourceError)
}) {}

/** Whether a task still waits for a link (pending, or leased and not yet finished). @since 0.3.0 @category predicates */
export const isOpen = (task: LinkTask): boolean => task.state === "pending" || task.state === "leased"

/** Whether a link may take the task now: pending, or its lease ran out. @since 0.3.0 @category predicates */
export const isLeasable = (task: LinkTask, now: number): boolean =>
  task.state === "pending" || (task.state === "leased" && (task.leaseUntil ?? 0) <= now)

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * No such task for this link (another tenant's tasks are reported alike).
 *
 * @since 0.3.0 @category errors
 */
export class TaskNotFound extends Schema.TaggedError<TaskNotFound>()("TaskNotFound", {
  taskId: Schema.String
}) {
  override get message() {
    return `Task ${this.taskId} does not exist`
  }
}

/**
 * The task ended without this result: withdrawn (the integration was paused, deleted or
 * reconfigured, or its cursors moved) or failed. The link drops its result.
 *
 * @since 0.3.0 @category errors
 */
export class TaskGone extends Schema.TaggedError<TaskGone>()("TaskGone", {
  taskId: Schema.String,
  state: TaskState,
  reason: Schema.String
}) {
  override get message() {
    return `Task ${this.taskId} is ${this.state}: ${this.reason}`
  }
}

/**
 * The link's lease ended and another lease holds the task now.
 *
 * @since 0.3.0 @category errors
 */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  taskId: Schema.String
}) {
  override get message() {
    return `The lease on task ${this.taskId} was lost: it ran out and another lease holds the task`
  }
}

/**
 * A result whose parts don't add up: missing parts, or another record count than the link
 * said.
 *
 * @since 0.3.0 @category errors
 */
export class ResultIncomplete extends Schema.TaggedError<ResultIncomplete>()("ResultIncomplete", {
  taskId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The result of task ${this.taskId} is incomplete: ${this.reason}`
  }
}

/**
 * A file's result with rows the link could not read: a file is applied whole or not at all,
 * so it is refused, naming its first bad row (`calls.csv:12`) and why. The task fails with an
 * `InvalidData` run that keeps every problem the link reported.
 *
 * @since 0.3.0 @category errors
 */
export class FileRejected extends Schema.TaggedError<FileRejected>()("FileRejected", {
  taskId: Schema.String,
  file: Schema.String,
  /** the first bad row, as `file.csv:12` */
  record: Schema.String,
  reason: Schema.String,
  rejected: Schema.Int
}) {
  override get message() {
    return `${this.record}: ${this.reason}; ${this.rejected} row${
      this.rejected === 1 ? "" : "s"
    } of ${this.file} could not be read, nothing of the file was applied`
  }
}

/**
 * The link speaks a protocol version this engine can't serve.
 *
 * @since 0.3.0 @category errors
 */
export class ProtocolUnsupported extends Schema.TaggedError<ProtocolUnsupported>()("ProtocolUnsupported", {
  offered: Schema.NullOr(Schema.String)
}) {
  override get message() {
    const supported = supportedProtocols.join(", ")
    if (this.offered === null) {
      return `The request names no link protocol: send the header ${protocolHeader}: ${protocolVersion}`
    }
    const offered = Number(this.offered)
    return Number.isInteger(offered) && offered > Math.max(...supportedProtocols)
      ? `This link speaks protocol ${this.offered}; this engine serves protocol ${supported}: upgrade the engine, or run a link release for protocol ${supported}`
      : `This link speaks protocol ${this.offered}; this engine serves protocol ${supported}: upgrade the link`
  }
}

/**
 * No such link in the tenant.
 *
 * @since 0.3.0 @category errors
 */
export class LinkNotFound extends Schema.TaggedError<LinkNotFound>()("LinkNotFound", {
  linkId: Schema.String
}) {
  override get message() {
    return `Link ${this.linkId} does not exist`
  }
}
