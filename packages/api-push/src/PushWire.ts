/**
 * The push API's wire format (DESIGN §4, wire-compatible with the injixo push API) and its
 * decoding into core's `Domain.Batch`.
 *
 * Decoding runs in three steps, each failing with an error that names what is wrong:
 *
 * 1. the envelope (`data` array, `meta.integrationConfigurationId`) → `InvalidRequest`;
 * 2. every record against its Schema → `InvalidRecord` with the record's index and field;
 * 3. timestamps in the integration's source time zone (when they carry no offset) →
 *    `InvalidRecord`, e.g. for a local time inside a spring-forward gap.
 *
 * One bad record rejects the whole batch: nothing of it is applied.
 *
 * @since 0.1.0
 */
import { Bucketing, Domain, Errors } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------
// schemas
// ---------------------------------------------------------------------------

/** Longest accepted `duration`: about 115 days, far beyond any real contact. @since 0.1.0 @category constants */
export const maxDurationSeconds = 10_000_000

const Text = (min: number, max: number) =>
  Schema.String.pipe(
    Schema.minLength(min, { message: () => (min === 1 ? "must not be empty" : `must have at least ${min} characters`) }),
    Schema.maxLength(max, { message: () => `must have at most ${max} characters` }),
    // PostgreSQL can't store NUL in text; every other character is kept verbatim
    Schema.filter((s) => !s.includes("\u0000"), { message: () => "must not contain NUL characters" })
  )

/**
 * The channels the push API accepts (core's `back_office` is not a push wire value).
 *
 * @since 0.1.0 @category schemas
 */
export const WireChannel = Schema.Literal("calls", "chats", "emails", "social_media", "documents", "cases")

/**
 * An instant as text: ISO-8601 with an offset (`2026-03-29T01:30:00Z`,
 * `2026-03-29T03:30:00+02:00`), or a local time without one, read in the integration's source
 * time zone.
 *
 * @since 0.1.0 @category schemas
 */
export const WireTimestamp = Text(1, 64).annotations({
  description: "ISO-8601 instant; without an offset it is read in the integration's source time zone",
  examples: ["2026-03-29T01:30:00Z"]
})

/**
 * `meta.integrationConfigurationId`: the integration's id, as a JSON string or number
 * (compared as a string).
 *
 * @since 0.1.0 @category schemas
 */
export const IntegrationConfigurationId = Schema.Union(Schema.String, Schema.Number).annotations({
  description: "The integration's id (a JSON string or number, compared as a string)"
})

/** @since 0.1.0 @category schemas */
export const ContactEventsMeta = Schema.Struct({
  integrationConfigurationId: IntegrationConfigurationId
})

/** @since 0.1.0 @category schemas */
export const AgentStatusesMeta = Schema.Struct({
  integrationConfigurationId: IntegrationConfigurationId,
  externalSystem: Schema.optional(Schema.String)
})

/**
 * One contact event on the wire. `duration` is in decimal seconds.
 *
 * @since 0.1.0 @category schemas
 */
export const ContactEventRecord = Schema.Struct({
  properties: Schema.Struct({
    offered: Schema.Boolean,
    handled: Schema.Boolean,
    duration: Schema.Number.pipe(
      Schema.finite({ message: () => "must be a finite number of seconds" }),
      Schema.nonNegative({ message: () => "must not be negative" }),
      Schema.lessThanOrEqualTo(maxDurationSeconds, {
        message: () => `must be at most ${maxDurationSeconds} seconds`
      })
    )
  }),
  queueName: Text(0, 255),
  queueIdentifier: Text(1, 255),
  timestamp: WireTimestamp,
  channel: WireChannel
}).annotations({ identifier: "PushContactEvent" })

/** @since 0.1.0 @category models */
export type ContactEventRecord = typeof ContactEventRecord.Type

/**
 * One agent status on the wire; `endTime` absent or null means the activity is ongoing.
 *
 * @since 0.1.0 @category schemas
 */
export const AgentStatusRecord = Schema.Struct({
  agentIdentifier: Text(1, 255),
  activityIdentifier: Text(1, 255),
  startTime: WireTimestamp,
  endTime: Schema.optional(Schema.NullOr(WireTimestamp))
}).annotations({ identifier: "PushAgentStatus" })

/** @since 0.1.0 @category models */
export type AgentStatusRecord = typeof AgentStatusRecord.Type

/**
 * The body of `POST /external-systems/contact-events`.
 *
 * @since 0.1.0 @category schemas
 */
export const ContactEventsBody = Schema.Struct({
  data: Schema.Array(ContactEventRecord).pipe(Schema.minItems(1)),
  meta: ContactEventsMeta
}).annotations({ identifier: "PushContactEventsBody" })

/**
 * The body of `POST /external-systems/agent-statuses`.
 *
 * @since 0.1.0 @category schemas
 */
export const AgentStatusesBody = Schema.Struct({
  data: Schema.Array(AgentStatusRecord).pipe(Schema.minItems(1)),
  meta: AgentStatusesMeta
}).annotations({ identifier: "PushAgentStatusesBody" })

/**
 * The answer to an accepted push: how many records it carried.
 *
 * @since 0.1.0 @category schemas
 */
export const Accepted = Schema.Struct({ accepted: Schema.Int }).annotations({ identifier: "PushAccepted" })

// ---------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------

/**
 * A parsed body whose envelope is valid; its records are still unchecked.
 *
 * @since 0.1.0 @category models
 */
export interface Envelope {
  readonly integrationId: string
  readonly data: ReadonlyArray<unknown>
}

const EnvelopeSchema = Schema.Struct({
  data: Schema.Array(Schema.Unknown),
  meta: Schema.Struct({ integrationConfigurationId: IntegrationConfigurationId })
})
const decodeEnvelopeSchema = Schema.decodeUnknownEither(EnvelopeSchema)

const firstIssue = (error: ParseResult.ParseError): { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  return issue ? { path: issue.path, message: issue.message } : { path: [], message: error.message }
}

/**
 * Checks the envelope: `data` is a non-empty array and `meta.integrationConfigurationId` is a
 * string or number.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeEnvelope = (json: unknown): Either.Either<Envelope, Errors.InvalidRequest> =>
  decodeEnvelopeSchema(json).pipe(
    Either.mapLeft((error) => {
      const issue = firstIssue(error)
      return new Errors.InvalidRequest({
        field: issue.path.length === 0 ? "body" : issue.path.map(String).join("."),
        reason: issue.path.length === 0 ? "must be a JSON object with data and meta" : issue.message
      })
    }),
    Either.flatMap((envelope) => {
      const integrationId = String(envelope.meta.integrationConfigurationId).trim()
      if (integrationId === "") {
        return Either.left(
          new Errors.InvalidRequest({ field: "meta.integrationConfigurationId", reason: "must not be empty" })
        )
      }
      if (envelope.data.length === 0) {
        return Either.left(new Errors.InvalidRequest({ field: "data", reason: "must contain at least one record" }))
      }
      return Either.right({ integrationId, data: envelope.data })
    })
  )

const recordError = (error: ParseResult.ParseError): Errors.InvalidRecord => {
  const issue = firstIssue(error)
  const [index, ...rest] = issue.path
  return new Errors.InvalidRecord({
    index: typeof index === "number" ? index : 0,
    field: rest.length === 0 ? "record" : rest.map(String).join("."),
    reason: rest.length === 0 ? "must be a JSON object" : issue.message
  })
}

const decodeContactRecords = Schema.decodeUnknownEither(Schema.Array(ContactEventRecord))
const decodeStatusRecords = Schema.decodeUnknownEither(Schema.Array(AgentStatusRecord))

// ---------------------------------------------------------------------------
// fast path
//
// Decoding with Schema costs about 10 µs per record, more than the rest of a push together.
// Valid batches take a hand-written check instead, which accepts only what the schemas above
// accept (test/PushWire.test.ts checks this property against the schemas with fast-check);
// anything it does not accept goes through the schemas, whose first issue names the record
// and field. The schemas stay the definition: of the wire, of the errors, of the OpenAPI doc.
// ---------------------------------------------------------------------------

const channels: ReadonlySet<unknown> = new Set(WireChannel.literals)

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const isText = (u: unknown, min: number, max: number): u is string =>
  typeof u === "string" && u.length >= min && u.length <= max && !u.includes("\u0000")

const isContactRecord = (u: unknown): u is ContactEventRecord => {
  if (!isObject(u)) return false
  const p = u["properties"]
  if (!isObject(p)) return false
  const duration = p["duration"]
  return typeof p["offered"] === "boolean" && typeof p["handled"] === "boolean" && typeof duration === "number" &&
    Number.isFinite(duration) && duration >= 0 && duration <= maxDurationSeconds &&
    isText(u["queueName"], 0, 255) && isText(u["queueIdentifier"], 1, 255) && isText(u["timestamp"], 1, 64) &&
    channels.has(u["channel"])
}

const isStatusRecord = (u: unknown): u is AgentStatusRecord => {
  if (!isObject(u)) return false
  const end = u["endTime"]
  return isText(u["agentIdentifier"], 1, 255) && isText(u["activityIdentifier"], 1, 255) &&
    isText(u["startTime"], 1, 64) && (end === undefined || end === null || isText(end, 1, 64))
}

/**
 * The records when every one passes `check`, else the schema's decoding (and its first error).
 * Exported for the property test that keeps the two in agreement.
 *
 * @internal
 */
export const records = <A>(
  data: ReadonlyArray<unknown>,
  check: (u: unknown) => u is A,
  decode: (u: unknown) => Either.Either<ReadonlyArray<A>, ParseResult.ParseError>
): Either.Either<ReadonlyArray<A>, Errors.InvalidRecord> => {
  for (let i = 0; i < data.length; i++) {
    if (!check(data[i])) return Either.mapLeft(decode(data), recordError)
  }
  return Either.right(data as ReadonlyArray<A>)
}

/** @internal */
export const fastCheck = { contact: isContactRecord, status: isStatusRecord } as const

const timestampError = (error: Bucketing.TimestampError, index: number, field: string) =>
  Either.left(new Errors.InvalidRecord({ index, field, reason: error.message }))

/**
 * Decodes contact-event records; timestamps without an offset are read in `zone`.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeContactEvents = (
  data: ReadonlyArray<unknown>,
  zone: DateTime.TimeZone
): Either.Either<ReadonlyArray<Domain.ContactEvent>, Errors.InvalidRecord> => {
  const decoded = records(data, isContactRecord, decodeContactRecords)
  if (Either.isLeft(decoded)) return Either.left(decoded.left)
  const list = decoded.right
  const out: Array<Domain.ContactEvent> = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!
    const at = Bucketing.parseTimestamp(r.timestamp, zone)
    if (Either.isLeft(at)) return timestampError(at.left, i, "timestamp")
    out[i] = {
      queueIdentifier: r.queueIdentifier,
      queueName: r.queueName,
      channel: r.channel,
      timestamp: DateTime.unsafeMake(at.right),
      offered: r.properties.offered,
      handled: r.properties.handled,
      durationMs: Math.round(r.properties.duration * 1000)
    }
  }
  return Either.right(out)
}

/**
 * Decodes agent-status records; timestamps without an offset are read in `zone`. A status
 * must not end before it starts.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeAgentStatuses = (
  data: ReadonlyArray<unknown>,
  zone: DateTime.TimeZone
): Either.Either<ReadonlyArray<Domain.AgentStatus>, Errors.InvalidRecord> => {
  const decoded = records(data, isStatusRecord, decodeStatusRecords)
  if (Either.isLeft(decoded)) return Either.left(decoded.left)
  const list = decoded.right
  const out: Array<Domain.AgentStatus> = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!
    const start = Bucketing.parseTimestamp(r.startTime, zone)
    if (Either.isLeft(start)) return timestampError(start.left, i, "startTime")
    let end: DateTime.Utc | null = null
    if (r.endTime !== undefined && r.endTime !== null) {
      const parsed = Bucketing.parseTimestamp(r.endTime, zone)
      if (Either.isLeft(parsed)) return timestampError(parsed.left, i, "endTime")
      if (parsed.right < start.right) {
        return Either.left(new Errors.InvalidRecord({ index: i, field: "endTime", reason: "endTime is before startTime" }))
      }
      end = DateTime.unsafeMake(parsed.right)
    }
    out[i] = {
      agentIdentifier: r.agentIdentifier,
      activityIdentifier: r.activityIdentifier,
      start: DateTime.unsafeMake(start.right),
      end
    }
  }
  return Either.right(out)
}

/**
 * What a push carries, by route.
 *
 * @since 0.1.0 @category models
 */
export type Kind = "contactEvents" | "agentStatuses"

/**
 * Decodes the records of either route into a batch.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeBatch = (
  kind: Kind,
  data: ReadonlyArray<unknown>,
  zone: DateTime.TimeZone
): Either.Either<Domain.Batch, Errors.InvalidRecord> =>
  kind === "contactEvents"
    ? Either.map(decodeContactEvents(data, zone), (contacts) => ({ ...Domain.emptyBatch, contacts }))
    : Either.map(decodeAgentStatuses(data, zone), (statuses) => ({ ...Domain.emptyBatch, statuses }))
