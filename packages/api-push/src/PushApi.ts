/**
 * The push API: its two routes as an `HttpApiGroup`, and the push itself in two steps, so a
 * host can act between them (the HTTP adapter counts the records against the integration's
 * rate limit there):
 *
 * - `decode`: the body read strictly (`JsonBody`), `meta` decoded, the target resolved (one
 *   read of the integration), the records decoded with the route's schema;
 * - `apply`: the decoded batch handed to `Ingest.pushTo`, with its idempotency key.
 *
 * `push` does both. The group carries the routes, bodies and answers; the host's HTTP adapter
 * (`@acd-bridge/http`) adds authentication, error bodies and limits, reads the body and calls
 * `decode` and `apply` with the authenticated principal.
 *
 * @since 0.1.0
 */
import { Errors, Ingest, Issues, KeyMaterial, Time } from "@acd-bridge/core"
import type { Domain, Principal } from "@acd-bridge/core"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as JsonBody from "./JsonBody.js"
import * as PushWire from "./PushWire.js"

/**
 * The body can't be read as JSON (see `JsonBody`).
 *
 * @since 0.1.0 @category errors
 */
export const MalformedBody = JsonBody.MalformedBody

/** @since 0.1.0 @category errors */
export type MalformedBody = JsonBody.MalformedBody

/**
 * The headers a push may carry. `Idempotency-Key`: a repeat within 24 hours returns the
 * first answer and applies nothing (scoped to the integration).
 *
 * @since 0.1.0 @category schemas
 */
export const PushHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(
    Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)).annotations({
      description: "Any string up to 255 characters; a repeat within 24 hours returns the first answer"
    })
  )
})

const contactEvents = HttpApiEndpoint.post("contactEvents", "/external-systems/contact-events")
  .setPayload(PushWire.ContactEventsBody)
  .setHeaders(PushHeaders)
  .addSuccess(PushWire.Accepted)
  .annotate(OpenApi.Summary, "Push contact events")
  .annotate(
    OpenApi.Description,
    "One element per contact event. The batch is applied whole or not at all: one invalid record rejects it " +
      "with 422 naming the record's index and field. While the integration is paused the batch is staged and " +
      "applied on resume."
  )

const agentStatuses = HttpApiEndpoint.post("agentStatuses", "/external-systems/agent-statuses")
  .setPayload(PushWire.AgentStatusesBody)
  .setHeaders(PushHeaders)
  .addSuccess(PushWire.Accepted)
  .annotate(OpenApi.Summary, "Push agent statuses")
  .annotate(
    OpenApi.Description,
    "Agent activities from startTime to endTime (absent or null: ongoing). The segment received last replaces " +
      "the parts of older ones it overlaps; sending the same segments again changes nothing."
  )

/**
 * The push routes, wire-compatible with the injixo push API (DESIGN §4). Their payloads are
 * the wire schemas `decode` reads the body with; a host reads the raw body itself
 * (`handleRaw`) because the strict reading (UTF-8, nesting, duplicate keys) and the
 * idempotency hash need its bytes.
 *
 * @since 0.1.0 @category api
 */
export const group = HttpApiGroup.make("push")
  .add(contactEvents)
  .add(agentStatuses)
  .annotate(OpenApi.Title, "Push")
  .annotate(OpenApi.Description, "Contact events and agent statuses pushed by a source")

/** @since 0.1.0 @category models */
export interface DecodeOptions extends JsonBody.Options {
  /** How far from now pushed timestamps may be (default 5 years back, 1 day ahead). */
  readonly timestamps?: PushWire.AcceptanceWindow | undefined
}

/** @since 0.1.0 @category models */
export interface PushOptions extends DecodeOptions {
  readonly idempotencyKey?: string | undefined
}

/**
 * A push read and checked, ready for `apply`.
 *
 * @since 0.1.0 @category models
 */
export interface Decoded {
  readonly kind: PushWire.Kind
  readonly target: Ingest.Target
  readonly batch: Domain.Batch
  /** the body's text, hashed with the route for an idempotency key */
  readonly text: string
  /** how many records the batch carries */
  readonly records: number
}

/**
 * Everything `decode` can fail with.
 *
 * @since 0.1.0 @category errors
 */
export type DecodeError =
  | MalformedBody
  | Errors.InvalidRequest
  | Errors.InvalidRecord
  | Errors.Forbidden
  | Errors.IntegrationNotFound
  | Errors.StorageError

/**
 * Everything `apply` can fail with.
 *
 * @since 0.1.0 @category errors
 */
export type ApplyError =
  | Errors.InvalidRecord
  | Errors.IntegrationDeleted
  | Errors.IdempotencyKeyReused
  | Errors.StagingFull
  | Errors.StorageError

/**
 * Everything `push` can fail with.
 *
 * @since 0.1.0 @category errors
 */
export type PushError = DecodeError | ApplyError

/** A string that is not well-formed UTF-16 is a bad record (under `data`) or a bad field. */
const malformedText = (error: JsonBody.MalformedText): Errors.InvalidRecord | Errors.InvalidRequest => {
  const [first, index, ...rest] = error.path
  if (first === "data" && typeof index === "number") {
    return new Errors.InvalidRecord({ index, field: rest.length === 0 ? "record" : Issues.fieldOf(rest), reason: error.reason })
  }
  return new Errors.InvalidRequest({ field: error.path.length === 0 ? "body" : Issues.fieldOf(error.path), reason: error.reason })
}

/**
 * Reads one push body and checks it, in this order (the first failure answers):
 *
 * 1. the body is JSON read strictly (`MalformedBody`: not UTF-8, not JSON, nested deeper than
 *    `maxDepth`, a key twice in one object; `InvalidRequest`/`InvalidRecord` for text that is
 *    not well-formed UTF-16);
 * 2. `meta` (`InvalidRequest` naming the field);
 * 3. whether the principal may push into the named integration (`Forbidden` for another
 *    integration's key, `IntegrationNotFound`) — one read of the integration;
 * 4. that the integration imports what the route carries (`InvalidRequest` on `data`);
 * 5. every record (`InvalidRecord` with index and field); timestamps without an offset are
 *    read in the integration's source time zone and must fall inside the acceptance window.
 *
 * @since 0.1.0 @category handlers
 */
export const decode = Effect.fn("PushApi.decode")(function*(
  kind: PushWire.Kind,
  principal: Principal.Principal,
  body: string | Uint8Array,
  options: DecodeOptions = {}
) {
  const parsed = yield* Either.mapLeft(
    JsonBody.parse(body, options),
    (error) => error._tag === "MalformedText" ? malformedText(error) : error
  )
  const meta = yield* PushWire.decodeMeta(kind, parsed.json)
  const target = yield* (yield* Ingest.Ingest).resolveTarget(principal, meta.integrationId)
  const integration = target.integration
  const dataKind = kind === "contactEvents" ? "contacts" : "agentStatuses"
  if (!integration.dataKinds.includes(dataKind)) {
    return yield* new Errors.InvalidRequest({
      field: "data",
      reason: `integration ${integration.id} does not import ${dataKind} (it imports: ${integration.dataKinds.join(", ")})`
    })
  }
  const zone = yield* Either.mapLeft(
    Time.zone(integration.timezone),
    () => new Errors.InvalidRequest({ field: "timezone", reason: `"${integration.timezone}" is not an IANA time zone` })
  )
  const now = yield* Clock.currentTimeMillis
  const batch = yield* PushWire.decodeData(kind, parsed.json, zone, PushWire.window(now, options.timestamps))
  const records = batch.contacts.length + batch.statuses.length
  yield* Effect.annotateCurrentSpan({ integrationId: integration.id, records })
  return { kind, target, batch, text: parsed.text, records } satisfies Decoded
})

/**
 * Applies a decoded push (`Ingest.pushTo`). With an idempotency key, the SHA-256 of route and
 * body is kept with the answer, so a repeat returns it and a reused key with another body
 * fails (`IdempotencyKeyReused`). Returns how many records were accepted (applied, or staged
 * while paused).
 *
 * @since 0.1.0 @category handlers
 */
export const apply = Effect.fn("PushApi.apply")(function*(decoded: Decoded, options: { readonly idempotencyKey?: string | undefined } = {}) {
  const requestHash = options.idempotencyKey === undefined
    ? undefined
    : yield* (yield* KeyMaterial.KeyMaterial).sha256(`${decoded.kind}\n${decoded.text}`)
  const outcome = yield* (yield* Ingest.Ingest).pushTo(decoded.target, decoded.batch, {
    idempotencyKey: options.idempotencyKey,
    requestHash
  })
  yield* Effect.annotateCurrentSpan({ accepted: outcome.accepted, outcome: outcome._tag })
  return { accepted: outcome.accepted } as const
})

/**
 * `decode`, then `apply`: one request body turned into one applied (or staged) batch.
 *
 * @since 0.1.0 @category handlers
 */
export const push = (
  kind: PushWire.Kind,
  principal: Principal.Principal,
  body: string | Uint8Array,
  options: PushOptions = {}
) => Effect.flatMap(decode(kind, principal, body, options), (decoded) => apply(decoded, options))
