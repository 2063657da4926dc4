/**
 * The Vonage connector's configuration: its schema, the windows the API serves, and the
 * endpoint (credentials, addresses, limits) a config's requests use.
 */
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

/**
 * Names of the interaction events the connector reads. `Queue` and `Connected` are documented;
 * `Hold` and `Wrap` are [U]nverified, hence configurable.
 *
 * @since 0.1.0 @category config
 */
export const EventTypes = Schema.Struct({
  queue: EventName,
  connected: EventName,
  hold: EventName,
  wrap: EventName
})

/**
 * The connector's configuration. The secret is `Redacted` (a plain string in JSON).
 *
 * @since 0.1.0 @category config
 */
export const Config = Schema.Struct({
  region: Schema.optionalWith(Region, { default: () => "emea" as const }),
  clientId: Schema.NonEmptyTrimmedString,
  clientSecret: Schema.Redacted(Schema.NonEmptyString),
  /** default `https://{region}.cc.vonage.com` */
  authBaseUrl: Schema.optional(HttpUrl),
  /** default `https://{region}.api.newvoicemedia.com` */
  apiBaseUrl: Schema.optional(HttpUrl),
  /** sent as `x-external-id` (the official samples send the integration's name; its purpose is [U]) */
  externalId: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200))),
  /** items per page (`limit`); the API's maximum is [U], samples use up to 5000 */
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 5000)), { default: () => 1000 }),
  /** when set, `answeredInThreshold` is filled: answered after at most this many seconds in queue */
  serviceLevelSeconds: Schema.optional(Schema.Number.pipe(Schema.between(0, 3600))),
  /** an abandon after less than this many seconds in queue is also a short abandon ([U]: VCC reports none; 0 turns it off) */
  shortAbandonSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 600)), { default: () => 5 }),
  /**
   * how far before a window interactions are read: a visit's interaction is listed at its start,
   * before the queue entry (IVR time, earlier visits), and ends within this span of it
   */
  maxContactSpanHours: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 48)), { default: () => 4 }),
  /**
   * where queue visits come from: `queueTimes` (default; how each visit ended is VCC's own
   * `category`) or the `Queue` events of `interactions` alone (for an account that can't read
   * queue-times; a breakout out of the centre then counts as an abandon)
   */
  contactSource: Schema.optionalWith(Schema.Literal("queueTimes", "interactions"), {
    default: () => "queueTimes" as const
  }),
  /** which queues' visits count (`queueType` of queue-times): ACD queues (the API's default), virtual queues or both */
  queueType: Schema.optionalWith(Schema.Literal("ACD", "Virtual", "All"), { default: () => "ACD" as const }),
  mediumChannels: Schema.optionalWith(Schema.Record({ key: Schema.NonEmptyString, value: Channel }), {
    default: () => defaultMediumChannels
  }),
  eventTypes: Schema.optionalWith(EventTypes, {
    default: () => ({ queue: "Queue", connected: "Connected", hold: "Hold", wrap: "Wrap" })
  }),
  /** agent states not imported (e.g. `["LoggedOut"]` where logged-out time should be no status) */
  skipStates: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [] }),
  /** `State:Description` (default) or only `State` as the activity identifier */
  activity: Schema.optionalWith(Schema.Literal("stateAndDescription", "state"), {
    default: () => "stateAndDescription" as const
  }),
  /**
   * how far before a window states are looked for: a state that started this far back and is
   * still in force in the window (a logged-out weekend) comes back whole; one that started or
   * ended within the window always does, however long
   */
  stateLookbackHours: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 24 * 93)), { default: () => 168 }),
  /** what to import */
  import: Schema.optionalWith(Schema.Array(Schema.Literal("contacts", "agentStatuses")), {
    default: () => ["contacts", "agentStatuses"] as const
  }),
  /** realtime polling period */
  pollSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 3600)), { default: () => 15 }),
  maxRetries: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 20)), { default: () => 4 }),
  maxRateLimitRetries: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 100)), { default: () => 8 }),
  concurrency: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 16)), { default: () => 2 })
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
