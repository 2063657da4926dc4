/**
 * The Vonage connector's configuration: its schema, the windows the API serves, and the
 * endpoint (credentials, addresses, limits) a config's requests use.
 */
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Schema from "effect/Schema"
import type { Endpoint } from "./http.js"

export const DAY = 24 * 60 * 60_000
export const HOUR = 60 * 60_000

/** @since 0.1.0 @category config */
export const Region = Schema.Literal("emea", "nam", "apac")
/** @since 0.1.0 @category config */
export type Region = typeof Region.Type

const Channel = Schema.Literal("calls", "chats", "emails", "social_media", "documents", "cases", "back_office")

/**
 * Default mapping of VCC `medium` values to channels. Only `Phone` is documented; the others
 * are [U]nverified guesses: override them with `mediumChannels`.
 *
 * @since 0.1.0 @category config
 */
export const defaultMediumChannels: Readonly<Record<string, Domain.Channel>> = {
  "Phone": "calls",
  "Phone Callback": "calls",
  "Chat": "chats",
  "Email": "emails",
  "SMS": "social_media",
  "Social": "social_media"
}

/**
 * An http(s) URL with a host (a base URL of the API or of its token endpoint).
 *
 * @since 0.2.0 @category config
 */
export const HttpUrl = Schema.String.pipe(
  Schema.filter((value) => {
    const reason = `must be an http(s) URL with a host, such as https://emea.api.newvoicemedia.com (got ${
      JSON.stringify(value)
    })`
    try {
      const url = new URL(value)
      return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "" ? true : reason
    } catch {
      return reason
    }
  }, { identifier: "HttpUrl", jsonSchema: { format: "uri" } })
)

const EventName = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))

// what a setting means and its default, in the config's JSON Schema
const { describeSetting: describe, settingWithDefault: withDefault } = Connector

/**
 * Names of the interaction events the connector reads. `Queue` and `Connected` are documented;
 * `Hold` and `Wrap` are [U]nverified, hence configurable.
 *
 * @since 0.1.0 @category config
 */
export const EventTypes = Schema.Struct({
  queue: EventName.pipe(describe("The event type of a queue visit (documented: `Queue`).")),
  connected: EventName.pipe(describe("The event type of an answer (documented: `Connected`).")),
  hold: EventName.pipe(describe("The event type of a hold (`Hold`). Configurable because the name is unverified.")),
  wrap: EventName.pipe(describe("The event type of after-call work (`Wrap`). Configurable because the name is unverified."))
})

/**
 * The connector's configuration. The secret is `Redacted` (a plain string in JSON).
 *
 * @since 0.1.0 @category config
 */
export const Config = Schema.Struct({
  region: withDefault(Region, "emea", "The Vonage Contact Center region of the account; it names the default API and token addresses."),
  clientId: Schema.NonEmptyTrimmedString.pipe(describe("The client ID of the API credentials (OAuth client credentials, scope `stats`).")),
  clientSecret: Schema.Redacted(Schema.NonEmptyString).annotations({ description: "The client secret of those credentials." }),
  /** default `https://{region}.cc.vonage.com` */
  authBaseUrl: Schema.optional(
    HttpUrl.pipe(describe("The origin of the token endpoint; by default `https://{region}.cc.vonage.com` (set it for a proxy or a simulator)."))
  ),
  /** default `https://{region}.api.newvoicemedia.com` */
  apiBaseUrl: Schema.optional(
    HttpUrl.pipe(describe("The origin of the stats API; by default `https://{region}.api.newvoicemedia.com` (set it for a proxy or a simulator)."))
  ),
  /** sent as `x-external-id` (the official samples send the integration's name; its purpose is [U]) */
  externalId: Schema.optional(
    Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)).pipe(describe("Sent as the `x-external-id` header (the official samples send the integration's name); unset, no header. Its meaning is unverified."))
  ),
  /** items per page (`limit`); the API's maximum is [U], samples use up to 5000 */
  pageSize: withDefault(
    Schema.Int.pipe(Schema.between(1, 5000)),
    1000,
    "Items per page (`limit`). Configurable because the API's maximum is unverified (samples use up to 5000)."
  ),
  /** when set, `answeredInThreshold` is filled: answered after at most this many seconds in queue */
  serviceLevelSeconds: Schema.optional(
    Schema.Number.pipe(Schema.between(0, 3600)).pipe(describe("The service level threshold in seconds: contacts answered after at most this long in queue count as answered in threshold. Unset: not filled."))
  ),
  /** an abandon after less than this many seconds in queue is also a short abandon ([U]: VCC reports none; 0 turns it off) */
  shortAbandonSeconds: withDefault(
    Schema.Number.pipe(Schema.between(0, 600)),
    5,
    "An abandon after less than this many seconds in queue is also a short abandon (VCC reports none, so this is our rule); 0 turns it off."
  ),
  /**
   * how far before a window interactions are read: a visit's interaction is listed at its start,
   * before the queue entry (IVR time, earlier visits), and ends within this span of it
   */
  maxContactSpanHours: withDefault(
    Schema.Number.pipe(Schema.between(0, 48)),
    4,
    "How far before a window interactions are read, in hours: an interaction is listed at its start, before its queue entry, and ends within this span."
  ),
  /**
   * where queue visits come from: `queueTimes` (default; how each visit ended is VCC's own
   * `category`) or the `Queue` events of `interactions` alone (for an account that can't read
   * queue-times; a breakout out of the centre then counts as an abandon)
   */
  contactSource: withDefault(
    Schema.Literal("queueTimes", "interactions"),
    "queueTimes",
    "Where queue visits come from: `queueTimes` (how each visit ended is VCC's own category) or the `Queue` events of `interactions` (for an account that can't read queue-times; a breakout then counts as an abandon)."
  ),
  /** which queues' visits count (`queueType` of queue-times): ACD queues (the API's default), virtual queues or both */
  queueType: withDefault(
    Schema.Literal("ACD", "Virtual", "All"),
    "ACD",
    "Which queues' visits count (`queueType` of queue-times): ACD queues, virtual queues or both."
  ),
  mediumChannels: withDefault(
    Schema.Record({ key: Schema.NonEmptyString, value: Channel }),
    defaultMediumChannels,
    "The channel of each VCC `medium` value. Only `Phone` is documented: the others are unverified guesses, hence configurable."
  ),
  eventTypes: withDefault(
    EventTypes,
    { queue: "Queue", connected: "Connected", hold: "Hold", wrap: "Wrap" },
    "The names of the interaction events read; give all four to change any."
  ),
  /** agent states not imported (e.g. `["LoggedOut"]` where logged-out time should be no status) */
  skipStates: withDefault(
    Schema.Array(Schema.NonEmptyString),
    [],
    "Agent states not imported (e.g. `[\"LoggedOut\"]` where logged-out time should be no status)."
  ),
  /** `State:Description` (default) or only `State` as the activity identifier */
  activity: withDefault(
    Schema.Literal("stateAndDescription", "state"),
    "stateAndDescription",
    "The activity identifier of an agent state: `State:Description` (`stateAndDescription`) or only `State`."
  ),
  /**
   * how far before a window states are looked for: a state that started this far back and is
   * still in force in the window (a logged-out weekend) comes back whole; one that started or
   * ended within the window always does, however long
   */
  stateLookbackHours: withDefault(
    Schema.Number.pipe(Schema.between(0, 24 * 93)),
    168,
    "How far before a window agent states are looked for, in hours: a state that started this far back and is still in force in the window (a logged-out weekend) comes back whole."
  ),
  /** what to import */
  import: withDefault(
    Schema.Array(Schema.Literal("contacts", "agentStatuses")),
    ["contacts", "agentStatuses"],
    "What to import: contacts, agent statuses, or both."
  ),
  /** realtime polling period */
  pollSeconds: withDefault(
    Schema.Number.pipe(Schema.between(1, 3600)),
    15,
    "How often realtime agent states are polled, in seconds."
  ),
  maxRetries: withDefault(
    Schema.Int.pipe(Schema.between(0, 20)),
    4,
    "How often a transient failure (network, 5xx) of a request is retried."
  ),
  maxRateLimitRetries: withDefault(
    Schema.Int.pipe(Schema.between(0, 100)),
    8,
    "How often a rate-limited request (429) is retried after the wait the API asks for. Configurable because the fair-use limit is unverified."
  ),
  concurrency: withDefault(
    Schema.Int.pipe(Schema.between(1, 16)),
    2,
    "How many requests the connector sends at once to the account."
  )
})
/** @since 0.1.0 @category config */
export type Config = typeof Config.Type
/** @since 0.1.0 @category config */
export type ConfigEncoded = typeof Config.Encoded

/** The longest window the API serves in one request. @since 0.1.0 @category constants */
export const maxWindowMs = 31 * DAY

/**
 * Splits [from, to) into windows of at most `maxWindowMs`.
 *
 * @since 0.1.0 @category windows
 */
export const splitWindow = (from: number, to: number, max = maxWindowMs): Array<{ from: number; to: number }> => {
  const out: Array<{ from: number; to: number }> = []
  for (let s = from; s < to; s += max) out.push({ from: s, to: Math.min(to, s + max) })
  return out
}

/**
 * The activity identifier of a VCC agent state.
 *
 * @since 0.1.0 @category mapping
 */
export const activityIdentifier = (
  state: string,
  description: string | null | undefined,
  format: Config["activity"] = "stateAndDescription"
): string => (format === "state" || !description ? state : `${state}:${description}`)

/** What a request needs of a config: its credentials, addresses and limits (a session's key). */
export const endpointOf = (config: Config): Endpoint => ({
  authBaseUrl: (config.authBaseUrl ?? `https://${config.region}.cc.vonage.com`).replace(/\/$/, ""),
  apiBaseUrl: (config.apiBaseUrl ?? `https://${config.region}.api.newvoicemedia.com`).replace(/\/$/, ""),
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  scope: "stats",
  externalId: config.externalId,
  maxRetries: config.maxRetries,
  maxRateLimitRetries: config.maxRateLimitRetries,
  concurrency: config.concurrency
})
