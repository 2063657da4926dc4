/**
 * The push API: its two routes as an `HttpApiGroup`, and `push`, which turns one request body
 * into one applied (or staged) batch.
 *
 * The group carries the routes, bodies and answers; the host's HTTP adapter
 * (`@acd-bridge/http`) adds authentication, error bodies and limits, reads the body and calls
 * `push` with the authenticated principal.
 *
 * @since 0.1.0
 */
import { Bucketing, Errors, Ingest, Integrations, KeyMaterial } from "@acd-bridge/core"
import type { Principal } from "@acd-bridge/core"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as PushWire from "./PushWire.js"

/**
 * The body is not JSON.
 *
 * @since 0.1.0 @category errors
 */
export class MalformedBody extends Schema.TaggedError<MalformedBody>()("MalformedBody", {
  reason: Schema.String
}) {
  override get message() {
    return `The request body is not valid JSON: ${this.reason}`
  }
}

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
 * The push routes, wire-compatible with the injixo push API (DESIGN §4).
 *
 * @since 0.1.0 @category api
 */
export const group = HttpApiGroup.make("push")
  .add(contactEvents)
  .add(agentStatuses)
  .annotate(OpenApi.Title, "Push")
  .annotate(OpenApi.Description, "Contact events and agent statuses pushed by a source")

/** @since 0.1.0 @category models */
export interface PushOptions {
  readonly idempotencyKey?: string | undefined
}

/**
 * Everything `push` can fail with.
 *
 * @since 0.1.0 @category errors
 */
export type PushError =
  | MalformedBody
  | Errors.InvalidRequest
  | Errors.InvalidRecord
  | Errors.Forbidden
  | Errors.IntegrationNotFound
  | Errors.IntegrationDeleted
  | Errors.IdempotencyKeyReused
  | Errors.StagingFull
  | Errors.StorageError

/**
 * Parses and checks one push body and hands the batch to `Ingest.push`:
 *
 * - the envelope first (`InvalidRequest`), then whether the principal may push into the named
 *   integration (`Forbidden` for another integration's key, `IntegrationNotFound`,
 *   `IntegrationDeleted`), then every record (`InvalidRecord` with index and field);
 * - timestamps without an offset are read in the integration's source time zone;
 * - with an idempotency key, the SHA-256 of route and body is kept with the answer, so a
 *   repeat returns it and a reused key with another body fails (`IdempotencyKeyReused`).
 *
 * Returns how many records were accepted (applied, or staged while paused).
 *
 * @since 0.1.0 @category handlers
 */
export const push = Effect.fn("PushApi.push")(function*(
  kind: PushWire.Kind,
  principal: Principal.Principal,
  body: string,
  options: PushOptions = {}
) {
  const json = yield* Either.try({
    try: (): unknown => JSON.parse(body),
    catch: (error) => new MalformedBody({ reason: body.trim() === "" ? "the body is empty" : String(error) })
  })
  const envelope = yield* PushWire.decodeEnvelope(json)
  if (principal._tag === "IntegrationKey" && principal.integrationId !== envelope.integrationId) {
    return yield* new Errors.Forbidden({
      reason: "This API key may only push into its own integration (meta.integrationConfigurationId)"
    })
  }
  const integration = yield* (yield* Integrations.Integrations).get(principal.tenantId, envelope.integrationId)
  if (integration.status === "deleted") return yield* new Errors.IntegrationDeleted({ integrationId: integration.id })
  const dataKind = kind === "contactEvents" ? "contacts" : "agentStatuses"
  if (!integration.dataKinds.includes(dataKind)) {
    return yield* new Errors.InvalidRequest({
      field: "data",
      reason: `integration ${integration.id} does not import ${dataKind} (it imports: ${integration.dataKinds.join(", ")})`
    })
  }
  const zone = yield* Either.mapLeft(
    Bucketing.zone(integration.timezone),
    () => new Errors.InvalidRequest({ field: "timezone", reason: `"${integration.timezone}" is not an IANA time zone` })
  )
  const batch = yield* PushWire.decodeBatch(kind, envelope.data, zone)
  const requestHash = options.idempotencyKey === undefined
    ? undefined
    : yield* (yield* KeyMaterial.KeyMaterial).sha256(`${kind}\n${body}`)
  const outcome = yield* (yield* Ingest.Ingest).push(principal, integration.id, batch, {
    idempotencyKey: options.idempotencyKey,
    requestHash
  })
  yield* Effect.annotateCurrentSpan({ integrationId: integration.id, accepted: outcome.accepted, outcome: outcome._tag })
  return { accepted: outcome.accepted } as const
})
