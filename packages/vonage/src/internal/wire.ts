/**
 * The Insights Stats API wire format, as schemas. Unknown fields are ignored; only what the
 * connector reads is required. Instants are ISO-8601 with their offset (`Time.IsoInstant`):
 * the API writes UTC, and text without an offset is refused rather than read in the host's zone.
 */
import { Time } from "@acd-bridge/core"
import * as Schema from "effect/Schema"

/** `Accept` header of the Insights Stats API v3 (the version is in the media type). */
export const acceptV3 = "application/vnd.newvoicemedia.v3+json"

const Ms = Schema.Int.pipe(Schema.nonNegative())

export const Meta = Schema.Struct({
  page: Schema.Int,
  count: Schema.Int,
  pageCount: Schema.Int,
  totalCount: Schema.Int
})

/** A page: items are decoded one by one so a bad row is reported with its position. */
export const Envelope = Schema.Struct({
  meta: Meta,
  items: Schema.Array(Schema.Unknown),
  upTo: Schema.optional(Schema.NullOr(Schema.String))
})
export type Envelope = typeof Envelope.Type

export const Token = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  token_type: Schema.String,
  expires_in: Schema.Number
})

export const ErrorBody = Schema.Struct({ message: Schema.String })

export const Event = Schema.Struct({
  type: Schema.String,
  offset: Ms,
  name: Schema.optional(Schema.NullOr(Schema.String)),
  duration: Schema.NullOr(Ms),
  properties: Schema.optional(Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })))
})
export type Event = typeof Event.Type

export const Party = Schema.Struct({
  id: Schema.optional(Schema.NullOr(Schema.String)),
  role: Schema.String
})

export const InteractionChannel = Schema.Struct({
  guid: Schema.String,
  offset: Ms,
  duration: Schema.NullOr(Ms),
  party: Party,
  events: Schema.Array(Event)
})
export type InteractionChannel = typeof InteractionChannel.Type

/**
 * An item of `GET /stats/interactions`. Channel and event offsets are ms from the interaction's
 * `start`.
 */
export const Interaction = Schema.Struct({
  guid: Schema.String.pipe(Schema.minLength(1)),
  status: Schema.String,
  medium: Schema.String,
  direction: Schema.optional(Schema.NullOr(Schema.String)),
  start: Time.IsoInstant,
  duration: Schema.NullOr(Ms),
  channels: Schema.Array(InteractionChannel)
})
export type Interaction = typeof Interaction.Type

/** How a queue visit ended (`category` of a queue-times item); null while still queued ([U]). */
export const QueueCategory = Schema.Literal("Answered", "Abandoned", "Breakout")
export type QueueCategory = typeof QueueCategory.Type

/**
 * An item of `GET /stats/queue-times`: one interaction entering one queue. `start` is the
 * instant it entered the queue, `duration` the ms it spent there.
 */
export const QueueTime = Schema.Struct({
  start: Time.IsoInstant,
  interactionGuid: Schema.String.pipe(Schema.minLength(1)),
  medium: Schema.String,
  queue: Schema.String.pipe(Schema.minLength(1)),
  type: Schema.optional(Schema.NullOr(Schema.String)),
  category: Schema.NullOr(QueueCategory),
  reason: Schema.optional(Schema.NullOr(Schema.String)),
  duration: Schema.NullOr(Ms)
})
export type QueueTime = typeof QueueTime.Type

/** An item of `GET /stats/wfm/agent-states`: `duration` null while the state is open. */
export const AgentState = Schema.Struct({
  agentId: Schema.Union(Schema.String.pipe(Schema.minLength(1)), Schema.Int),
  start: Time.IsoInstant,
  duration: Schema.NullOr(Ms),
  state: Schema.String.pipe(Schema.minLength(1)),
  description: Schema.optional(Schema.NullOr(Schema.String))
})
export type AgentState = typeof AgentState.Type
