/**
 * Error answers as JSON problem bodies (`application/problem+json`, after RFC 9457):
 * `{type, title, status, detail, field?, index?}`. One schema per status, so the OpenAPI
 * document lists them and clients can decode them; `fromError` maps every engine error to
 * its problem. Bodies never carry stack traces; storage failures get a generic detail.
 *
 * @since 0.1.0
 */
import type { Errors } from "@acd-bridge/core"
import type { PushApi } from "@acd-bridge/api-push"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"

const fields = {
  /** A URI naming the kind of problem (`urn:acd-bridge:problem:<kind>`). */
  type: Schema.String,
  /** A short summary of the kind of problem. */
  title: Schema.String,
  /** What went wrong in this request, in words an administrator understands. */
  detail: Schema.String,
  /** The request field at fault (`timestamp`, `meta.integrationConfigurationId`, `queueIds`…). */
  field: Schema.optional(Schema.String),
  /** The position of the record at fault in the pushed `data` array (0-based). */
  index: Schema.optional(Schema.Int)
}

const annotations = <A>(status: number, description: string): Schema.Annotations.Schema<A> => ({
  ...HttpApiSchema.annotations<A>({ status, description }),
  [HttpApiSchema.AnnotationEncoding]: { kind: "Json", contentType: "application/problem+json" }
})

/** 400: malformed JSON, or a path or query parameter that can't be read. @since 0.1.0 @category problems */
export class BadRequest extends Schema.Class<BadRequest>("BadRequest")(
  { ...fields, status: Schema.Literal(400) },
  annotations(400, "Malformed JSON, or a path or query parameter that can't be read")
) {}

/** 401: missing, unknown or revoked credentials (one answer for all: no key oracle). @since 0.1.0 @category problems */
export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")(
  { ...fields, status: Schema.Literal(401) },
  annotations(401, "Missing, unknown or revoked credentials")
) {}

/** 403: the credentials may not do this (an API key pushing into another integration). @since 0.1.0 @category problems */
export class Forbidden extends Schema.Class<Forbidden>("Forbidden")(
  { ...fields, status: Schema.Literal(403) },
  annotations(403, "The credentials may not do this")
) {}

/** @since 0.1.0 @category problems */
export class NotFound extends Schema.Class<NotFound>("NotFound")(
  { ...fields, status: Schema.Literal(404) },
  annotations(404, "No such integration, queue, workload or route")
) {}

/** @since 0.1.0 @category problems */
export class Conflict extends Schema.Class<Conflict>("Conflict")(
  { ...fields, status: Schema.Literal(409) },
  annotations(409, "The request conflicts with the current state")
) {}

/** 410: the integration was deleted; deletion is final. @since 0.1.0 @category problems */
export class Gone extends Schema.Class<Gone>("Gone")(
  { ...fields, status: Schema.Literal(410) },
  annotations(410, "The integration was deleted")
) {}

/** @since 0.1.0 @category problems */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")(
  { ...fields, status: Schema.Literal(413) },
  annotations(413, "The request body is over the size limit")
) {}

/** 415: a body that is not declared as JSON (`Content-Type: application/json`). @since 0.1.0 @category problems */
export class UnsupportedMediaType extends Schema.Class<UnsupportedMediaType>("UnsupportedMediaType")(
  { ...fields, status: Schema.Literal(415) },
  annotations(415, "The body is not declared as JSON: send Content-Type: application/json")
) {}

/** 422: well-formed but invalid (a record, a body field, a config, a connector). @since 0.1.0 @category problems */
export class UnprocessableEntity extends Schema.Class<UnprocessableEntity>("UnprocessableEntity")(
  { ...fields, status: Schema.Literal(422) },
  annotations(422, "Well-formed but invalid: nothing was applied")
) {}

/** 429: over the rate limit, or the paused integration's staging is full; see `Retry-After`. @since 0.1.0 @category problems */
export class TooManyRequests extends Schema.Class<TooManyRequests>("TooManyRequests")(
  {
    ...fields,
    status: Schema.Literal(429),
    /** Also sent as the `Retry-After` header. */
    retryAfterSeconds: Schema.Int
  },
  annotations(429, "Too many requests, or the paused integration's staging area is full; retry after Retry-After")
) {}

/** 500: the engine failed; the detail is generic, the log has the rest. @since 0.1.0 @category problems */
export class InternalError extends Schema.Class<InternalError>("InternalError")(
  { ...fields, status: Schema.Literal(500) },
  annotations(500, "The engine failed; nothing was applied")
) {}

/** 503: the store can't be reached, or has no room left. @since 0.1.0 @category problems */
export class ServiceUnavailable extends Schema.Class<ServiceUnavailable>("ServiceUnavailable")(
  {
    ...fields,
    status: Schema.Literal(503),
    /** Also sent as the `Retry-After` header, when the engine can tell. @since 0.4.0 */
    retryAfterSeconds: Schema.optional(Schema.Int)
  },
  annotations(503, "The engine can't reach its store, or its store is out of space; nothing was applied")
) {}

/** 426: a link speaks a protocol version this engine can't serve. @since 0.3.0 @category problems */
export class UpgradeRequired extends Schema.Class<UpgradeRequired>("UpgradeRequired")(
  { ...fields, status: Schema.Literal(426) },
  annotations(426, "The link speaks a protocol this engine can't serve; the detail says which side to upgrade")
) {}

/** Every problem. @since 0.1.0 @category models */
export type Problem =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | Conflict
  | Gone
  | PayloadTooLarge
  | UnsupportedMediaType
  | UnprocessableEntity
  | TooManyRequests
  | InternalError
  | ServiceUnavailable
  | UpgradeRequired

/** @since 0.1.0 @category guards */
export const isProblem = (u: unknown): u is Problem =>
  u instanceof BadRequest || u instanceof Unauthorized || u instanceof Forbidden || u instanceof NotFound ||
  u instanceof Conflict || u instanceof Gone || u instanceof PayloadTooLarge || u instanceof UnsupportedMediaType ||
  u instanceof UnprocessableEntity ||
  u instanceof TooManyRequests || u instanceof InternalError || u instanceof ServiceUnavailable ||
  u instanceof UpgradeRequired

const kebab = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()

/** The `type` URI of a kind of problem. @since 0.1.0 @category constructors */
export const typeUri = (kind: string): string => `urn:acd-bridge:problem:${kebab(kind)}`

interface Details {
  readonly detail: string
  readonly field?: string | undefined
  readonly index?: number | undefined
}

const body = (kind: string, title: string, d: Details) => ({
  type: typeUri(kind),
  title,
  detail: d.detail,
  ...(d.field === undefined ? {} : { field: d.field }),
  ...(d.index === undefined ? {} : { index: d.index })
})

/** @since 0.1.0 @category constructors */
export const badRequest = (detail: string, field?: string): BadRequest =>
  new BadRequest({ ...body("BadRequest", "Bad request", { detail, field }), status: 400 })

/** @since 0.1.0 @category constructors */
export const unauthorized = (): Unauthorized =>
  new Unauthorized({
    ...body("Unauthorized", "Unauthorized", {
      detail: "Missing, unknown or revoked credentials. Send Authorization: Bearer <token>."
    }),
    status: 401
  })

/** @since 0.1.0 @category constructors */
export const forbidden = (detail: string): Forbidden =>
  new Forbidden({ ...body("Forbidden", "Forbidden", { detail }), status: 403 })

/** @since 0.1.0 @category constructors */
export const notFound = (detail: string): NotFound =>
  new NotFound({ ...body("NotFound", "Not found", { detail }), status: 404 })

/** @since 0.1.0 @category constructors */
export const payloadTooLarge = (limitBytes: number): PayloadTooLarge =>
  new PayloadTooLarge({
    ...body("PayloadTooLarge", "Payload too large", {
      detail: `The request body is over the limit of ${limitBytes} bytes; send smaller batches`
    }),
    status: 413
  })

/**
 * 413 for a push with more records than the integration may send at once.
 *
 * @since 0.1.0 @category constructors
 */
export const tooManyRecords = (records: number, limit: number): PayloadTooLarge =>
  new PayloadTooLarge({
    ...body("PayloadTooLarge", "Payload too large", {
      detail: `The batch holds ${records} records; this integration may push at most ${limit} records at once. ` +
        "Send smaller batches",
      field: "data"
    }),
    status: 413
  })

/** @since 0.1.0 @category constructors */
export const unsupportedMediaType = (contentType: string | undefined): UnsupportedMediaType =>
  new UnsupportedMediaType({
    ...body("UnsupportedMediaType", "Unsupported media type", {
      detail: `${contentType === undefined ? "The body has no Content-Type" : `The body is declared as ${contentType}`}; ` +
        "send JSON as Content-Type: application/json (UTF-8)"
    }),
    status: 415
  })

/** @since 0.1.0 @category constructors */
export const unprocessable = (detail: string, field?: string, index?: number): UnprocessableEntity =>
  new UnprocessableEntity({ ...body("InvalidRequest", "Invalid request", { detail, field, index }), status: 422 })

/** @since 0.1.0 @category constructors */
export const rateLimited = (
  retryAfterSeconds: number,
  detail = `Rate limit exceeded for these credentials; retry after ${retryAfterSeconds} s`
): TooManyRequests =>
  new TooManyRequests({ ...body("RateLimited", "Too many requests", { detail }), status: 429, retryAfterSeconds })

/**
 * 429 for a client address with too many failed authentications: its credentials are not
 * looked at until `retryAfterSeconds` have passed.
 *
 * @since 0.1.0 @category constructors
 */
export const authenticationLimited = (retryAfterSeconds: number): TooManyRequests =>
  rateLimited(
    retryAfterSeconds,
    `Too many failed authentications from this address; retry after ${retryAfterSeconds} s`
  )

/**
 * 429 for a push over the integration's records per second.
 *
 * @since 0.1.0 @category constructors
 */
export const recordsLimited = (retryAfterSeconds: number): TooManyRequests =>
  rateLimited(
    retryAfterSeconds,
    `This integration is over its rate limit of records; retry after ${retryAfterSeconds} s`
  )

/** @since 0.1.0 @category constructors */
export const internal = (): InternalError =>
  new InternalError({
    ...body("InternalError", "Internal error", {
      detail: "The engine failed to process the request; nothing was applied. The server log has the details."
    }),
    status: 500
  })

/** @since 0.1.0 @category constructors */
export const unavailable = (): ServiceUnavailable =>
  new ServiceUnavailable({
    ...body("ServiceUnavailable", "Service unavailable", { detail: "The engine can't reach its store" }),
    status: 503
  })

/**
 * 503 for a store out of disk space: nothing was applied, and the same request will succeed
 * once an operator frees space, so the client is told to come back rather than to give up.
 *
 * @since 0.4.0 @category constructors
 */
export const storageFull = (): ServiceUnavailable =>
  new ServiceUnavailable({
    ...body("ServiceUnavailable", "Store full", {
      detail: "The engine's store is out of disk space; nothing was applied. Retry later: the operator has to free space."
    }),
    status: 503,
    retryAfterSeconds: 60
  })

// SQLite, Node's file system, and PostgreSQL (SQLSTATE 53100 disk_full, or a failed extend)
const outOfSpace = /SQLITE_FULL|database or disk is full|ENOSPC|no space left on device|\b53100\b|could not extend file/i

/**
 * Whether a failure (a `StorageError`, a driver's error, a defect) is a full disk: its message
 * or code, or those of the errors it wraps, name the driver's out-of-space error.
 *
 * @since 0.4.0 @category predicates
 */
export const isOutOfSpace = (failure: unknown): boolean => {
  let current: unknown = failure
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const error = current as { readonly message?: unknown; readonly reason?: unknown; readonly code?: unknown; readonly cause?: unknown }
    if (error.code === "53100" || error.code === "SQLITE_FULL" || error.code === "ENOSPC") return true
    if (typeof error.reason === "string" && outOfSpace.test(error.reason)) return true
    if (typeof error.message === "string" && outOfSpace.test(error.message)) return true
    current = error.cause
  }
  return false
}

/**
 * The engine errors `fromError` maps.
 *
 * @since 0.1.0 @category models
 */
export type EngineError =
  | Errors.IntegrationNotFound
  | Errors.AccessTokenNotFound
  | Errors.IntegrationDeleted
  | Errors.IntegrationNotActive
  | Errors.UnknownConnector
  | Errors.InvalidConfig
  | Errors.DeliveryModeNotSupported
  | Errors.InvalidRequest
  | Errors.InvalidRecord
  | Errors.QueueNotFound
  | Errors.QueueUndeletable
  | Errors.QueueOfDeletedIntegration
  | Errors.WorkloadNotFound
  | Errors.Unauthorized
  | Errors.Forbidden
  | Errors.StagingFull
  | Errors.IdempotencyKeyReused
  | Errors.CursorLocked
  | Errors.VersionConflict
  | Errors.StorageError
  | PushApi.MalformedBody

/**
 * The problem each engine error becomes.
 *
 * @since 0.1.0 @category models
 */
export type ProblemFor<E> = E extends
  | Errors.IntegrationNotFound
  | Errors.QueueNotFound
  | Errors.WorkloadNotFound
  | Errors.AccessTokenNotFound ?
  NotFound
  : E extends Errors.IntegrationDeleted ? Gone
  : E extends
    | Errors.IntegrationNotActive
    | Errors.QueueUndeletable
    | Errors.QueueOfDeletedIntegration
    | Errors.IdempotencyKeyReused
    | Errors.CursorLocked
    | Errors.VersionConflict ? Conflict
  : E extends
    | Errors.UnknownConnector
    | Errors.InvalidConfig
    | Errors.DeliveryModeNotSupported
    | Errors.InvalidRequest
    | Errors.InvalidRecord ? UnprocessableEntity
  : E extends Errors.Unauthorized ? Unauthorized
  : E extends Errors.Forbidden ? Forbidden
  : E extends Errors.StagingFull ? TooManyRequests
  : E extends PushApi.MalformedBody ? BadRequest
  : E extends Errors.StorageError ? InternalError | ServiceUnavailable
  : never

const titles: Record<EngineError["_tag"], string> = {
  IntegrationNotFound: "Integration not found",
  AccessTokenNotFound: "Access token not found",
  IntegrationDeleted: "Integration deleted",
  IntegrationNotActive: "Integration not active",
  UnknownConnector: "Unknown connector",
  InvalidConfig: "Invalid configuration",
  DeliveryModeNotSupported: "Delivery mode not supported",
  InvalidRequest: "Invalid request",
  InvalidRecord: "Invalid record",
  QueueNotFound: "Queue not found",
  QueueUndeletable: "Queue can't be deleted",
  QueueOfDeletedIntegration: "Queue of a deleted integration",
  WorkloadNotFound: "Workload not found",
  Unauthorized: "Unauthorized",
  Forbidden: "Forbidden",
  StagingFull: "Staging area full",
  IdempotencyKeyReused: "Idempotency key reused",
  CursorLocked: "Cursor locked",
  VersionConflict: "Changed meanwhile",
  StorageError: "Internal error",
  MalformedBody: "Malformed JSON"
}

const make = (error: EngineError): Problem => {
  const head = (d: Details) => body(error._tag, titles[error._tag], d)
  switch (error._tag) {
    case "IntegrationNotFound":
    case "AccessTokenNotFound":
    case "QueueNotFound":
    case "WorkloadNotFound":
      return new NotFound({ ...head({ detail: error.message }), status: 404 })
    case "IntegrationDeleted":
      return new Gone({ ...head({ detail: error.message }), status: 410 })
    case "IntegrationNotActive":
    case "QueueUndeletable":
    case "QueueOfDeletedIntegration":
    case "IdempotencyKeyReused":
    case "CursorLocked":
    case "VersionConflict":
      return new Conflict({ ...head({ detail: error.message }), status: 409 })
    case "InvalidRecord":
      return new UnprocessableEntity({
        ...head({ detail: error.message, field: error.field, index: error.index }),
        status: 422
      })
    case "InvalidRequest":
      return new UnprocessableEntity({ ...head({ detail: error.message, field: error.field }), status: 422 })
    case "InvalidConfig":
      return new UnprocessableEntity({
        ...head({ detail: error.message, field: error.field === undefined ? "config" : `config.${error.field}` }),
        status: 422
      })
    case "UnknownConnector":
      return new UnprocessableEntity({ ...head({ detail: error.message, field: "connector" }), status: 422 })
    case "DeliveryModeNotSupported":
      return new UnprocessableEntity({ ...head({ detail: error.message, field: "deliveryMode" }), status: 422 })
    case "Unauthorized":
      return unauthorized()
    case "Forbidden":
      return new Forbidden({ ...head({ detail: error.message }), status: 403 })
    case "StagingFull":
      return new TooManyRequests({
        ...head({ detail: error.message }),
        status: 429,
        retryAfterSeconds: Math.max(1, Math.ceil(error.retryAfterSeconds))
      })
    case "MalformedBody":
      return new BadRequest({ ...head({ detail: error.message, field: error.field }), status: 400 })
    case "StorageError":
      return isOutOfSpace(error) ? storageFull() : internal()
  }
}

/**
 * The problem an engine error becomes: 404 for what doesn't exist, 409 for conflicts with
 * the current state, 410 for a deleted integration, 422 for invalid input, 429 for a full
 * staging area, 503 with Retry-After for a store out of disk space, 500 (generic detail) for
 * other storage failures.
 *
 * @since 0.1.0 @category constructors
 */
export const fromError = <E extends EngineError>(error: E): ProblemFor<E> => make(error) as ProblemFor<E>

/**
 * The JSON body of a problem (what the wire carries).
 *
 * @since 0.1.0 @category encoding
 */
export const toJson = (problem: Problem): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail
  }
  if (problem.field !== undefined) out.field = problem.field
  if (problem.index !== undefined) out.index = problem.index
  if (problem instanceof TooManyRequests) out.retryAfterSeconds = problem.retryAfterSeconds
  if (problem instanceof ServiceUnavailable && problem.retryAfterSeconds !== undefined) {
    out.retryAfterSeconds = problem.retryAfterSeconds
  }
  return out
}
