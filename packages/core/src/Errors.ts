/**
 * Errors that cross the engine's boundary (HTTP, storage, hosts). Each carries the fields a
 * caller needs to act, and a message in words an administrator understands.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { DeliveryMode, IntegrationId, IntegrationStatus, QueueId } from "./Domain.js"

/** @since 0.1.0 @category errors */
export class IntegrationNotFound extends Schema.TaggedError<IntegrationNotFound>()("IntegrationNotFound", {
  integrationId: Schema.String
}) {
  override get message() {
    return `Integration ${this.integrationId} does not exist`
  }
}

/** @since 0.1.0 @category errors */
export class IntegrationDeleted extends Schema.TaggedError<IntegrationDeleted>()("IntegrationDeleted", {
  integrationId: IntegrationId
}) {
  override get message() {
    return `Integration ${this.integrationId} was deleted; deletion is final`
  }
}

/**
 * A pulled window arrived for an integration that is not active (paused): nothing applied.
 *
 * @since 0.1.0 @category errors
 */
export class IntegrationNotActive extends Schema.TaggedError<IntegrationNotActive>()("IntegrationNotActive", {
  integrationId: IntegrationId,
  status: IntegrationStatus
}) {
  override get message() {
    return `Integration ${this.integrationId} is ${this.status}; nothing was applied`
  }
}

/** @since 0.1.0 @category errors */
export class UnknownConnector extends Schema.TaggedError<UnknownConnector>()("UnknownConnector", {
  connector: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Unknown connector "${this.connector}"; this engine has: ${this.known.join(", ") || "none"}`
  }
}

/** @since 0.1.0 @category errors */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  connector: Schema.String,
  field: Schema.optional(Schema.String),
  reason: Schema.String
}) {
  override get message() {
    return `Invalid configuration for connector "${this.connector}"${
      this.field ? ` at ${this.field}` : ""
    }: ${this.reason}`
  }
}

/** @since 0.1.0 @category errors */
export class DeliveryModeNotSupported extends Schema.TaggedError<DeliveryModeNotSupported>()(
  "DeliveryModeNotSupported",
  { connector: Schema.String, deliveryMode: DeliveryMode, supported: Schema.Array(DeliveryMode) }
) {
  override get message() {
    return `Connector "${this.connector}" does not support delivery mode "${this.deliveryMode}" (it supports: ${
      this.supported.join(", ")
    })`
  }
}

/**
 * A request field that fails validation outside of a record list (admin bodies, queries).
 *
 * @since 0.1.0 @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.field}: ${this.reason}`
  }
}

/**
 * One record of a batch is invalid: the whole batch is rejected and nothing of it applied.
 *
 * @since 0.1.0 @category errors
 */
export class InvalidRecord extends Schema.TaggedError<InvalidRecord>()("InvalidRecord", {
  index: Schema.Number,
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Record ${this.index}, field ${this.field}: ${this.reason}. Nothing of this batch was applied.`
  }
}

/** @since 0.1.0 @category errors */
export class QueueNotFound extends Schema.TaggedError<QueueNotFound>()("QueueNotFound", {
  queueId: Schema.String
}) {
  override get message() {
    return `Queue ${this.queueId} does not exist`
  }
}

/** @since 0.1.0 @category errors */
export class QueueUndeletable extends Schema.TaggedError<QueueUndeletable>()("QueueUndeletable", {
  queueId: QueueId,
  integrationId: IntegrationId
}) {
  override get message() {
    return `Queue ${this.queueId} was created by integration ${this.integrationId} and can't be deleted`
  }
}

/** @since 0.1.0 @category errors */
export class QueueOfDeletedIntegration extends Schema.TaggedError<QueueOfDeletedIntegration>()(
  "QueueOfDeletedIntegration",
  { queueId: QueueId, integrationId: IntegrationId }
) {
  override get message() {
    return `Queue ${this.queueId} belongs to deleted integration ${this.integrationId} and can't join a workload`
  }
}

/** @since 0.1.0 @category errors */
export class WorkloadNotFound extends Schema.TaggedError<WorkloadNotFound>()("WorkloadNotFound", {
  workloadId: Schema.String
}) {
  override get message() {
    return `Workload ${this.workloadId} does not exist`
  }
}

/**
 * Missing, unknown or revoked credentials. Deliberately one answer for all three, so the
 * response reveals nothing about which keys exist.
 *
 * @since 0.1.0 @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {}) {
  override get message() {
    return "Missing, unknown or revoked credentials"
  }
}

/** @since 0.1.0 @category errors */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/**
 * The staging area of a paused integration is full: the caller retries later.
 *
 * @since 0.1.0 @category errors
 */
export class StagingFull extends Schema.TaggedError<StagingFull>()("StagingFull", {
  integrationId: IntegrationId,
  limit: Schema.Number,
  retryAfterSeconds: Schema.Number
}) {
  override get message() {
    return `Integration ${this.integrationId} is paused and its staging area is full (${this.limit} records); retry after resume`
  }
}

/** @since 0.1.0 @category errors */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", {
  key: Schema.String
}) {
  override get message() {
    return `Idempotency-Key "${this.key}" was already used for a different request body within the last 24 hours`
  }
}

/** @since 0.1.0 @category errors */
export class CursorLocked extends Schema.TaggedError<CursorLocked>()("CursorLocked", {
  integrationId: IntegrationId
}) {
  override get message() {
    return `Integration ${this.integrationId} is running; pause it before setting its cursor`
  }
}

/** @since 0.2.0 @category errors */
export class AccessTokenNotFound extends Schema.TaggedError<AccessTokenNotFound>()("AccessTokenNotFound", {
  tokenId: Schema.String
}) {
  override get message() {
    return `Personal access token ${this.tokenId} does not exist`
  }
}

/**
 * A change was made on a version of the integration that is no longer the stored one (another
 * change landed in between): nothing was written. Read the integration again and retry.
 *
 * @since 0.2.0 @category errors
 */
export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  integrationId: IntegrationId,
  expected: Schema.Number,
  actual: Schema.Number
}) {
  override get message() {
    return `Integration ${this.integrationId} is at version ${this.actual}, not ${this.expected}: it changed since it ` +
      "was read. Read it again and repeat the change"
  }
}

/**
 * The messages along an error's `cause` chain, outermost first ("Failed to execute statement:
 * no such table: cursors"), for a reason a person can read.
 */
const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const text = current instanceof Error || (typeof current === "object" && "message" in current)
      ? String((current as { readonly message: unknown }).message)
      : String(current)
    if (text !== "" && !parts.includes(text)) parts.push(text)
    current = typeof current === "object" && "cause" in current ? current.cause : undefined
  }
  return parts.join(": ") || "unknown cause"
}

/**
 * The store failed (connection lost, disk full, constraint broken). Nothing was applied.
 * `reason` says what happened in words; `cause` keeps what the driver failed with (an
 * `SqlError`, a parse error, the host store's own error), with its type and stack.
 *
 * @since 0.1.0 @category errors
 */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  operation: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * A `StorageError` for `operation` that keeps `cause`; the reason is `reason` when given,
   * else the messages of `cause` and the causes it wraps.
   *
   * @since 0.1.0
   */
  static fromCause(operation: string, cause: unknown, reason?: string): StorageError {
    return new StorageError({ operation, reason: reason ?? describeCause(cause), cause })
  }

  override get message() {
    return `Storage failed during ${this.operation}: ${this.reason}`
  }
}

/**
 * A window's commit found the integration's cursors moved since the window was planned (a
 * re-import or a cursor written meanwhile, on this node or another): the window no longer fits
 * the plan, so nothing was applied and the scheduler plans again.
 *
 * @since 0.3.0 @category errors
 */
export class CursorsMoved extends Schema.TaggedError<CursorsMoved>()("CursorsMoved", {
  integrationId: IntegrationId
}) {
  override get message() {
    return `Integration ${this.integrationId}'s cursors moved since the window was planned; nothing was applied`
  }
}

/**
 * A commit fenced by a lease found the lease moved on: another node took the integration over
 * (this node's lease expired while it was paused or cut off). Nothing was applied.
 *
 * @since 0.3.0 @category errors
 */
export class OwnershipLost extends Schema.TaggedError<OwnershipLost>()("OwnershipLost", {
  integrationId: IntegrationId,
  stream: Schema.String,
  /** the epoch this node holds */
  held: Schema.Number,
  /** the epoch the store holds, or null when it holds none */
  current: Schema.NullOr(Schema.Number)
}) {
  override get message() {
    return `Integration ${this.integrationId} is held by lease epoch ${
      this.current ?? "none"
    }, not ${this.held} (another node took it over); nothing was applied`
  }
}
