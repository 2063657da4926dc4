/**
 * The push API's wire format (DESIGN §4, wire-compatible with the injixo push API) and its
 * decoding into core's `Domain.Batch`.
 *
 * The body schemas (`ContactEventsBody`, `AgentStatusesBody`) are the one definition of the
 * wire: the OpenAPI document, the typed clients and the decoding all come from them. Decoding
 * reads a body in two steps, each with the schema's own part, so the caller can check who may
 * push between them:
 *
 * 1. `decodeMeta`: the body is an object and its `meta` is valid → `InvalidRequest` naming the
 *    field;
 * 2. `decodeData`: `data` holds at least one record and every record is valid →
 *    `InvalidRequest` (`data` itself) or `InvalidRecord` with the record's index and field;
 *    timestamps are read in the integration's source time zone when they carry no offset and
 *    must fall inside the acceptance window.
 *
 * One bad record rejects the whole batch: nothing of it is applied.
 *
 * @since 0.1.0
 */
import { Domain, Errors, Issues, Time } from "@acd-bridge/core"
import type * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Validator from "./internal/validator.js"

// ---------------------------------------------------------------------------
// schemas
// ---------------------------------------------------------------------------

/** Longest accepted `duration`: about 115 days, far beyond any real contact. @since 0.1.0 @category constants */
export const maxDurationSeconds = 10_000_000

// `String.prototype.isWellFormed` (ES2024, Node 20): native, unlike a /\p{Cs}/u test per string
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

const Text = (min: number, max: number) =>
  Schema.String.pipe(
    Schema.minLength(min, { message: () => (min === 1 ? "must not be empty" : `must have at least ${min} characters`) }),
    Schema.maxLength(max, { message: () => `must have at most ${max} characters` }),
    // PostgreSQL can't store NUL in text; every other character is kept verbatim
    Schema.filter((s) => !s.includes("\u0000"), { message: () => "must not contain NUL characters" }),
    // half a surrogate pair can't be stored as it was sent (stores would keep an altered identifier)
    Schema.filter(isWellFormed, {
      message: () => "must be well-formed Unicode text (it holds half of a UTF-16 surrogate pair)"
    })
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
  description: "ISO-8601 instant; without an offset it is read in the integration's source time zone. " +
    "Accepted from 5 years before to 1 day after the server's clock (configurable by the host).",
  examples: ["2026-03-29T01:30:00Z"]
})

/**
 * `meta.integrationConfigurationId`: the integration's id, as a JSON string or number
 * (compared as a string).
 *
 * @since 0.1.0 @category schemas
 */
export const IntegrationConfigurationId = Schema.Union(
  Schema.String.pipe(Schema.filter((s) => s.trim() !== "", { message: () => "must not be empty" })),
  Schema.Number
).annotations({ description: "The integration's id (a JSON string or number, compared as a string)" })

/**
 * `meta` of both routes. `externalSystem` names the sending system; it is informational.
 *
 * @since 0.1.0 @category schemas
 */
export const PushMeta = Schema.Struct({
  integrationConfigurationId: IntegrationConfigurationId,
  externalSystem: Schema.optional(Schema.String.annotations({ description: "The sending system (informational)" }))
}).annotations({ identifier: "PushMeta" })

/** @since 0.1.0 @category schemas */
export const ContactEventsMeta = PushMeta

/** @since 0.1.0 @category schemas */
export const AgentStatusesMeta = PushMeta

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

const records = <A, I>(record: Schema.Schema<A, I>) =>
  Schema.Array(record).pipe(Schema.minItems(1, { message: () => "must contain at least one record" }))

/**
 * The body of `POST /external-systems/contact-events`.
 *
 * @since 0.1.0 @category schemas
 */
export const ContactEventsBody = Schema.Struct({
  data: records(ContactEventRecord),
  meta: ContactEventsMeta
}).annotations({ identifier: "PushContactEventsBody" })

/**
 * The body of `POST /external-systems/agent-statuses`.
 *
 * @since 0.1.0 @category schemas
 */
export const AgentStatusesBody = Schema.Struct({
  data: records(AgentStatusRecord),
  meta: AgentStatusesMeta
}).annotations({ identifier: "PushAgentStatusesBody" })

/**
 * The answer to an accepted push: how many records it carried.
 *
 * @since 0.1.0 @category schemas
 */
export const Accepted = Schema.Struct({ accepted: Schema.Int }).annotations({ identifier: "PushAccepted" })

/**
 * What a push carries, by route.
 *
 * @since 0.1.0 @category models
 */
export type Kind = "contactEvents" | "agentStatuses"

// ---------------------------------------------------------------------------
// the acceptance window
// ---------------------------------------------------------------------------

/**
 * How far from the server's clock a pushed timestamp may be. Defaults: 5 years back (a
 * generous history import), 1 day ahead (clocks that run fast, zones mixed up); a timestamp
 * outside is refused with the record's index and field.
 *
 * @since 0.1.0 @category models
 */
export interface AcceptanceWindow {
  readonly maxAge?: Duration.DurationInput | undefined
  readonly maxFuture?: Duration.DurationInput | undefined
}

/** @since 0.1.0 @category constants */
export const defaultMaxAge: Duration.Duration = Duration.days(5 * 365)

/** @since 0.1.0 @category constants */
export const defaultMaxFuture: Duration.Duration = Duration.days(1)

/**
 * The window around `now` (epoch ms) that timestamps must fall in.
 *
 * @since 0.1.0 @category models
 */
export interface Window {
  readonly earliest: number
  readonly latest: number
  readonly maxAgeMs: number
  readonly maxFutureMs: number
}

/**
 * The window for a push received at `now`.
 *
 * @since 0.1.0 @category constructors
 */
export const window = (now: number, options: AcceptanceWindow = {}): Window => {
  const maxAgeMs = Duration.toMillis(options.maxAge ?? defaultMaxAge)
  const maxFutureMs = Duration.toMillis(options.maxFuture ?? defaultMaxFuture)
  return { earliest: now - maxAgeMs, latest: now + maxFutureMs, maxAgeMs, maxFutureMs }
}

const DAY_MS = 86_400_000

const span = (ms: number): string => {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`
  if (ms % (365 * DAY_MS) === 0) return plural(ms / (365 * DAY_MS), "year")
  if (ms % DAY_MS === 0) return plural(ms / DAY_MS, "day")
  if (ms % 3_600_000 === 0) return plural(ms / 3_600_000, "hour")
  return plural(Math.ceil(ms / 60_000), "minute")
}

const outside = (ms: number, w: Window): string | undefined =>
  ms < w.earliest
    ? `is older than the push API accepts (more than ${span(w.maxAgeMs)} before now: before ${new Date(w.earliest).toISOString()})`
    : ms > w.latest
    ? `is too far in the future (more than ${span(w.maxFutureMs)} after now: after ${new Date(w.latest).toISOString()})`
    : undefined

// ---------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------

const bodies = { contactEvents: ContactEventsBody, agentStatuses: AgentStatusesBody } as const

/**
 * The body schema of a route.
 *
 * @since 0.1.0 @category schemas
 */
export const bodySchema = <K extends Kind>(kind: K): typeof bodies[K] => bodies[kind]

/**
 * `meta` as the engine uses it: the integration's id as a string.
 *
 * @since 0.1.0 @category models
 */
export interface Meta {
  readonly integrationId: string
  readonly externalSystem?: string | undefined
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const decodeMetas = {
  contactEvents: Schema.decodeUnknownEither(ContactEventsBody.fields.meta),
  agentStatuses: Schema.decodeUnknownEither(AgentStatusesBody.fields.meta)
} as const

/**
 * Step 1: the body is a JSON object and its `meta` is valid.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeMeta = (kind: Kind, body: unknown): Either.Either<Meta, Errors.InvalidRequest> => {
  if (!isRecord(body)) {
    return Either.left(new Errors.InvalidRequest({ field: "body", reason: "must be a JSON object with data and meta" }))
  }
  return Either.match(decodeMetas[kind](body["meta"]), {
    onLeft: (error) => {
      const issue = Issues.describe(error)
      return Either.left(
        new Errors.InvalidRequest({
          field: Issues.fieldOf(["meta", ...issue.path]),
          reason: issue.path.length === 0 && body["meta"] === undefined ? "is missing" : issue.message
        })
      )
    },
    onRight: (meta) =>
      Either.right({ integrationId: String(meta.integrationConfigurationId).trim(), externalSystem: meta.externalSystem })
  })
}

const recordError = (data: unknown, error: ParseResult.ParseError): Errors.InvalidRecord | Errors.InvalidRequest => {
  const issue = Issues.describe(error)
  const [index, ...rest] = issue.path
  if (typeof index !== "number") {
    return new Errors.InvalidRequest({ field: "data", reason: Array.isArray(data) ? issue.message : "must be an array of records" })
  }
  return new Errors.InvalidRecord({
    index,
    field: rest.length === 0 ? "record" : Issues.fieldOf(rest),
    reason: rest.length === 0 ? "must be a JSON object" : issue.message
  })
}

/**
 * `data` checked against its schema: the records as they are when the predicate compiled from
 * the schema accepts them, else the schema's first issue.
 */
const checked = <A, I>(schema: Schema.Schema<ReadonlyArray<A>, I>) => {
  const valid = Validator.compile(schema)
  const decode = Schema.decodeUnknownEither(schema)
  return (data: unknown): Either.Either<ReadonlyArray<A>, Errors.InvalidRecord | Errors.InvalidRequest> =>
    valid(data) ? Either.right(data) : Either.mapLeft(decode(data), (error) => recordError(data, error))
}

const checkContacts = checked(ContactEventsBody.fields.data)
const checkStatuses = checked(AgentStatusesBody.fields.data)

/** The instant of a pushed timestamp (epoch ms), or why it is refused. */
const timestamp = (
  text: string,
  zone: DateTime.TimeZone,
  w: Window | undefined,
  index: number,
  field: string
): number | Errors.InvalidRecord => {
  const at = Time.parseIso(text, zone)
  if (Either.isLeft(at)) return new Errors.InvalidRecord({ index, field, reason: at.left.message })
  const refused = w === undefined ? undefined : outside(at.right, w)
  return refused === undefined ? at.right : new Errors.InvalidRecord({ index, field, reason: `${text} ${refused}` })
}

const toContacts = (list: ReadonlyArray<ContactEventRecord>, zone: DateTime.TimeZone, w: Window | undefined) => {
  const out: Array<Domain.ContactEvent> = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!
    const at = timestamp(r.timestamp, zone, w, i, "timestamp")
    if (typeof at !== "number") return Either.left(at)
    out[i] = {
      queueIdentifier: r.queueIdentifier,
      queueName: r.queueName,
      channel: r.channel,
      timestamp: Time.utc(at),
      offered: r.properties.offered,
      handled: r.properties.handled,
      durationMs: Math.round(r.properties.duration * 1000)
    }
  }
  return Either.right(out)
}

// an end before the start is core's rule (`Ingest.validate`), checked where every batch passes
const toStatuses = (list: ReadonlyArray<AgentStatusRecord>, zone: DateTime.TimeZone, w: Window | undefined) => {
  const out: Array<Domain.AgentStatus> = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!
    const start = timestamp(r.startTime, zone, w, i, "startTime")
    if (typeof start !== "number") return Either.left(start)
    let end: DateTime.Utc | null = null
    if (r.endTime !== undefined && r.endTime !== null) {
      const parsed = timestamp(r.endTime, zone, w, i, "endTime")
      if (typeof parsed !== "number") return Either.left(parsed)
      end = Time.utc(parsed)
    }
    out[i] = {
      agentIdentifier: r.agentIdentifier,
      activityIdentifier: r.activityIdentifier,
      start: Time.utc(start),
      end
    }
  }
  return Either.right(out)
}

/**
 * Decodes contact-event records; timestamps without an offset are read in `zone` and, with a
 * window, must fall inside it.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeContactEvents = (
  data: unknown,
  zone: DateTime.TimeZone,
  w?: Window
): Either.Either<ReadonlyArray<Domain.ContactEvent>, Errors.InvalidRecord | Errors.InvalidRequest> =>
  Either.flatMap(checkContacts(data), (list) => toContacts(list, zone, w))

/**
 * Decodes agent-status records; timestamps without an offset are read in `zone` and, with a
 * window, must fall inside it.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeAgentStatuses = (
  data: unknown,
  zone: DateTime.TimeZone,
  w?: Window
): Either.Either<ReadonlyArray<Domain.AgentStatus>, Errors.InvalidRecord | Errors.InvalidRequest> =>
  Either.flatMap(checkStatuses(data), (list) => toStatuses(list, zone, w))

/**
 * Step 2: the body's `data` as a batch of the route's kind.
 *
 * @since 0.1.0 @category decoding
 */
export const decodeData = (
  kind: Kind,
  body: unknown,
  zone: DateTime.TimeZone,
  w?: Window
): Either.Either<Domain.Batch, Errors.InvalidRecord | Errors.InvalidRequest> => {
  const data = isRecord(body) ? body["data"] : undefined
  if (data === undefined) return Either.left(new Errors.InvalidRequest({ field: "data", reason: "is missing" }))
  return kind === "contactEvents"
    ? Either.map(decodeContactEvents(data, zone, w), (contacts) => ({ ...Domain.emptyBatch, contacts }))
    : Either.map(decodeAgentStatuses(data, zone, w), (statuses) => ({ ...Domain.emptyBatch, statuses }))
}
