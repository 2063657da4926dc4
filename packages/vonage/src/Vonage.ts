/**
 * The Vonage Contact Center (VCC, formerly NewVoiceMedia) connector. Cloud only: it reads the
 * Insights Stats API with an OAuth2 client-credentials token (scope `stats`).
 *
 * - contacts: `GET /stats/interactions`, one contact event per interaction that entered a queue,
 *   counted at the interaction's `start` (the instant the API filters windows on);
 * - agent states: `GET /stats/wfm/agent-states` (ms durations, `duration: null` while open), one
 *   agent status per state, activity `State:Description` (e.g. `Away:Lunch`, `Busy:Live`);
 * - realtime: polls agent states with `include=Processed` from the previous answer's `upTo`.
 *
 * Paging follows `meta.pageCount`; windows longer than 31 days are split; every request of one
 * connector instance and credential shares one gate, so a 429 (with Retry-After) on any endpoint
 * holds back all of them. The engine's window re-import replaces what an earlier read stored, so
 * records that change at the source after delivery (open states, ongoing interactions) land.
 *
 * @since 0.1.0
 */
import type { Domain } from "@acd-bridge/core"
import { Connector } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Endpoint, Session } from "./internal/http.js"
import { decodeItem, getJson, makeSession, token } from "./internal/http.js"
import * as Wire from "./internal/wire.js"

const DAY = 24 * 60 * 60_000

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
 * Names of the interaction events the connector reads. `Queue` and `Connected` are documented;
 * `Hold` and `Wrap` are [U]nverified, hence configurable.
 *
 * @since 0.1.0 @category config
 */
export const EventTypes = Schema.Struct({
  queue: Schema.String,
  connected: Schema.String,
  hold: Schema.String,
  wrap: Schema.String
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
  authBaseUrl: Schema.optional(Schema.String),
  /** default `https://{region}.api.newvoicemedia.com` */
  apiBaseUrl: Schema.optional(Schema.String),
  /** sent as `x-external-id` (the official samples send the integration's name; its purpose is [U]) */
  externalId: Schema.optional(Schema.String),
  /** items per page (`limit`); the API's maximum is [U], samples use up to 5000 */
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 5000)), { default: () => 1000 }),
  /** when set, `answeredInThreshold` is filled: answered after at most this many seconds in queue */
  serviceLevelSeconds: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  mediumChannels: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Channel }), {
    default: () => defaultMediumChannels
  }),
  eventTypes: Schema.optionalWith(EventTypes, {
    default: () => ({ queue: "Queue", connected: "Connected", hold: "Hold", wrap: "Wrap" })
  }),
  /** agent states not imported (logged-out time is not an activity) */
  skipStates: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ["LoggedOut"] }),
  /** `State:Description` (default) or only `State` as the activity identifier */
  activity: Schema.optionalWith(Schema.Literal("stateAndDescription", "state"), {
    default: () => "stateAndDescription" as const
  }),
  /** how far before a window states are read, to catch those that started earlier and reach into it */
  stateLookbackHours: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 24 * 7)), { default: () => 12 }),
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

const iso = (ms: number) => new Date(ms).toISOString()

const endpointOf = (config: Config): Endpoint => ({
  authBaseUrl: (config.authBaseUrl ?? `https://${config.region}.cc.vonage.com`).replace(/\/$/, ""),
  apiBaseUrl: (config.apiBaseUrl ?? `https://${config.region}.api.newvoicemedia.com`).replace(/\/$/, ""),
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  scope: "stats",
  externalId: config.externalId,
  maxRetries: config.maxRetries,
  maxRateLimitRetries: config.maxRateLimitRetries
})

/**
 * One interaction as a contact event, or none when it never entered a queue.
 *
 * @since 0.1.0 @category mapping
 */
export const contactOf = (
  interaction: Wire.Interaction,
  config: Pick<Config, "mediumChannels" | "eventTypes" | "serviceLevelSeconds">,
  where: string
): Effect.Effect<Option.Option<Domain.ContactEvent>, Connector.InvalidData> =>
  Effect.suspend(() => {
    const types = config.eventTypes
    const queued = interaction.channels
      .flatMap((c) => c.events.filter((e) => e.type === types.queue))
      .sort((a, b) => a.offset - b.offset)
    const first = queued[0]
    if (first === undefined) return Effect.succeed(Option.none())
    const channel = config.mediumChannels[interaction.medium]
    if (channel === undefined) {
      return Effect.fail(
        new Connector.InvalidData({
          record: where,
          reason: `medium "${interaction.medium}" has no channel: add it to the mediumChannels setting`
        })
      )
    }
    const queueName = first.name ?? ""
    if (queueName === "") {
      return Effect.fail(new Connector.InvalidData({ record: where, reason: "the Queue event has no queue name" }))
    }
    const agents = interaction.channels.filter((c) => c.party.role === "Agent")
    const sum = (type: string) =>
      agents.reduce((n, c) => n + c.events.reduce((m, e) => m + (e.type === type ? e.duration ?? 0 : 0), 0), 0)
    const handled = agents.some((c) => c.events.some((e) => e.type === types.connected))
    const talkMs = sum(types.connected)
    const holdMs = sum(types.hold)
    const afterCallWorkMs = sum(types.wrap)
    const waitMs = first.duration ?? 0
    const completed = interaction.status === "Completed"
    const event: Domain.ContactEvent = {
      queueIdentifier: queueName,
      queueName,
      channel,
      timestamp: interaction.start,
      offered: true,
      handled,
      durationMs: handled ? talkMs + holdMs + afterCallWorkMs : waitMs,
      talkMs,
      holdMs,
      afterCallWorkMs,
      waitMs,
      abandoned: !handled && completed,
      ...(config.serviceLevelSeconds === undefined
        ? {}
        : { answeredInThreshold: handled && waitMs <= config.serviceLevelSeconds * 1000 })
    }
    return Effect.succeed(Option.some(event))
  })

/**
 * One agent state as an agent status (`end` null while open), or none when skipped.
 *
 * @since 0.1.0 @category mapping
 */
export const statusOf = (
  state: Wire.AgentState,
  config: Pick<Config, "skipStates" | "activity">
): Option.Option<Domain.AgentStatus> => {
  if (config.skipStates.includes(state.state)) return Option.none()
  const start = state.start
  return Option.some({
    agentIdentifier: String(state.agentId),
    activityIdentifier: activityIdentifier(state.state, state.description, config.activity),
    start,
    end: state.duration === null ? null : DateTime.unsafeMake(DateTime.toEpochMillis(start) + state.duration)
  })
}

/**
 * A connector instance with its diagnostics (token requests, 429s and retries per credential).
 *
 * @since 0.1.0 @category models
 */
export interface VonageConnector extends Connector.Connector<Config, ConfigEncoded, HttpClient.HttpClient> {
  readonly stats: (config: Config) => { tokenRequests: number; rateLimited: number; retries: number } | undefined
}

/**
 * Makes a connector instance. Its token cache and rate-limit gate live in the instance, one per
 * (token endpoint, client id): register one instance per engine.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (): VonageConnector => {
  const sessions = new Map<string, Session>()
  const sessionOf = (config: Config, ep: Endpoint) => {
    const key = `${ep.authBaseUrl}|${ep.apiBaseUrl}|${config.clientId}`
    let s = sessions.get(key)
    if (!s) {
      s = makeSession(config.concurrency)
      sessions.set(key, s)
    }
    return s
  }

  /** Every item of a paginated endpoint, one chunk per page. */
  const pages = <A, I>(
    config: Config,
    path: string,
    params: Readonly<Record<string, string>>,
    schema: Schema.Schema<A, I>
  ): Stream.Stream<Chunk.Chunk<A>, Connector.ConnectorError, HttpClient.HttpClient> => {
    const ep = endpointOf(config)
    const session = sessionOf(config, ep)
    return Stream.paginateChunkEffect(1, (page: number) =>
      Effect.gen(function*() {
        const query = { ...params, page: String(page), limit: String(config.pageSize) }
        const where = `GET ${path}?${new URLSearchParams(query).toString()}`
        const body = yield* getJson(session, ep, path, query)
        const envelope = yield* decodeItem(Wire.Envelope, body, where)
        const items = yield* Effect.forEach(
          envelope.items,
          (item, i) => decodeItem(schema, item, `${where} item ${i}`)
        )
        const more = envelope.meta.page < envelope.meta.pageCount && envelope.items.length > 0
        return [Chunk.of(Chunk.unsafeFromArray(items)), more ? Option.some(page + 1) : Option.none()] as const
      }))
  }

  const contacts = (config: Config, from: number, to: number) =>
    // suspended: the set of seen interactions belongs to one run of the stream
    Stream.suspend(() => contactsOnce(config, from, to))

  const contactsOnce = (config: Config, from: number, to: number) =>
    Stream.fromIterable(splitWindow(from, to)).pipe(
      Stream.flatMap((w) =>
        pages(config, "/stats/interactions", { start: iso(w.from), end: iso(w.to) }, Wire.Interaction)
      ),
      Stream.mapAccumEffect(new Set<string>(), (seen, page) =>
        Effect.map(
          Effect.forEach(page, (interaction) => {
            // an interaction seen on an earlier page (data shifting between pages) counts once
            if (seen.has(interaction.guid)) return Effect.succeed(Option.none<Domain.ContactEvent>())
            seen.add(interaction.guid)
            const at = DateTime.toEpochMillis(interaction.start)
            if (at < from || at >= to) return Effect.succeed(Option.none<Domain.ContactEvent>())
            return contactOf(interaction, config, `interaction ${interaction.guid}`)
          }),
          (events) => [seen, { ...emptyBatch, contacts: events.flatMap(Option.toArray) }] as const
        )),
      Stream.filter((b) => b.contacts.length > 0)
    )

  const statuses = (config: Config, from: number, to: number) =>
    Stream.fromIterable(splitWindow(from - config.stateLookbackHours * 3_600_000, to)).pipe(
      Stream.flatMap((w) =>
        pages(config, "/stats/wfm/agent-states", { start: iso(w.from), end: iso(w.to) }, Wire.AgentState)
      ),
      Stream.map((page): Domain.Batch => ({
        ...emptyBatch,
        statuses: Chunk.toReadonlyArray(page).flatMap((s) => {
          const start = DateTime.toEpochMillis(s.start)
          const end = s.duration === null ? Number.POSITIVE_INFINITY : start + s.duration
          // states that overlap the window (a lookback state that ended before it is not ours)
          if (start >= to || end <= from) return []
          return Option.toArray(statusOf(s, config))
        })
      })),
      Stream.filter((b) => b.statuses.length > 0)
    )

  const pull = (config: Config, window: Connector.Window) => {
    const from = DateTime.toEpochMillis(window.from)
    const to = DateTime.toEpochMillis(window.to)
    const parts: Array<Stream.Stream<Domain.Batch, Connector.ConnectorError, HttpClient.HttpClient>> = []
    if (config.import.includes("contacts")) parts.push(contacts(config, from, to))
    if (config.import.includes("agentStatuses")) parts.push(statuses(config, from, to))
    return Stream.concatAll(Chunk.unsafeFromArray(parts))
  }

  /**
   * Polls agent states processed since the previous answer's `upTo` (the vendor's recipe). Each
   * batch carries that `upTo` (epoch ms) as its position, so a reconnect resumes from it.
   */
  const realtime = (config: Config, position?: number | undefined) => {
    const poll = (since: number) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const ep = endpointOf(config)
        const session = sessionOf(config, ep)
        const out: Array<Domain.AgentStatus> = []
        let upTo: number | undefined
        for (let page = 1;; page++) {
          const query = {
            start: iso(since),
            include: "Processed",
            page: String(page),
            limit: String(config.pageSize)
          }
          const where = `GET /stats/wfm/agent-states?${new URLSearchParams(query).toString()}`
          const envelope = yield* decodeItem(
            Wire.Envelope,
            yield* getJson(session, ep, "/stats/wfm/agent-states", query),
            where
          )
          for (let i = 0; i < envelope.items.length; i++) {
            const state = yield* decodeItem(Wire.AgentState, envelope.items[i], `${where} item ${i}`)
            out.push(...Option.toArray(statusOf(state, config)))
          }
          if (envelope.upTo) {
            const parsed = Date.parse(envelope.upTo)
            if (Number.isFinite(parsed)) upTo = parsed
          }
          if (envelope.meta.page >= envelope.meta.pageCount || envelope.items.length === 0) break
        }
        return { statuses: out, next: upTo ?? now }
      })
    return Stream.paginateChunkEffect(
      { since: position ?? -1, first: true },
      (cursor: { since: number; first: boolean }) =>
        Effect.gen(function*() {
          if (!cursor.first) yield* Effect.sleep(Duration.seconds(config.pollSeconds))
          const since = cursor.since >= 0 ? cursor.since : (yield* Clock.currentTimeMillis) - 15_000
          const { next, statuses } = yield* poll(since)
          const batch: Connector.RealtimeBatch = { ...emptyBatch, statuses, position: next }
          return [Chunk.of(batch), Option.some({ since: next, first: false })] as const
        })
    )
  }

  const check = (config: Config): Effect.Effect<Connector.CheckReport, never, HttpClient.HttpClient> =>
    Effect.gen(function*() {
      const ep = endpointOf(config)
      const session = sessionOf(config, ep)
      const items: Array<Connector.CheckItem> = []
      const signedIn = yield* Effect.either(token(session, ep, session.token?.value))
      if (signedIn._tag === "Left") {
        items.push({ name: "credentials", ok: false, detail: explain(signedIn.left, ep) })
        return { ok: false, items }
      }
      items.push({
        name: "credentials",
        ok: true,
        detail: `Signed in at ${ep.authBaseUrl} as API client "${config.clientId}" with the "stats" scope`
      })
      const now = yield* Clock.currentTimeMillis
      for (
        const [name, path] of [
          ["agent states", "/stats/wfm/agent-states"],
          ["interactions", "/stats/interactions"]
        ] as const
      ) {
        const result = yield* Effect.either(
          getJson(session, ep, path, { start: iso(now - 3_600_000), end: iso(now), page: "1", limit: "1" }).pipe(
            Effect.flatMap((body) => decodeItem(Wire.Envelope, body, `GET ${path}`))
          )
        )
        items.push(
          result._tag === "Right"
            ? {
              name,
              ok: true,
              detail: `${ep.apiBaseUrl}${path} answers (${result.right.meta.totalCount} records in the last hour)`
            }
            : { name, ok: false, detail: explain(result.left, ep, path) }
        )
      }
      return { ok: items.every((i) => i.ok), items }
    })

  return {
    ...Connector.make({
      key: "vonage",
      displayName: "Vonage Contact Center",
      deliveryModes: ["cloud"],
      dataKinds: ["contacts", "agentStatuses"],
      configSchema: Config,
      pull,
      realtime,
      check,
      settleDelay: "5 minutes"
    }),
    stats: (config) => {
      const ep = endpointOf(config)
      return sessions.get(`${ep.authBaseUrl}|${ep.apiBaseUrl}|${config.clientId}`)?.stats
    }
  }
}

const emptyBatch: Domain.Batch = { contacts: [], aggregates: [], statuses: [] }

const explain = (error: Connector.ConnectorError, ep: Endpoint, path?: string): string => {
  switch (error._tag) {
    case "AuthFailed":
      return `Vonage refused the credentials: ${error.reason}.`
    case "RateLimited":
      return `Vonage is rate limiting this account (fair-use limit shared by all its API clients); try again in ${
        Math.ceil(error.retryAfterMs / 1000)
      } s.`
    case "Transient":
      return `Could not reach Vonage: ${error.reason}. Check the region (${ep.authBaseUrl}, ${ep.apiBaseUrl}) and the network.`
    case "InvalidData":
      if (/HTTP 404/.test(error.reason)) {
        return `${ep.apiBaseUrl}${path ?? ""} does not exist (HTTP 404): check the region or the apiBaseUrl setting.`
      }
      if (/HTTP 406/.test(error.reason)) {
        return `${ep.apiBaseUrl}${
          path ?? ""
        } refused the API version (HTTP 406): the Insights Stats API v3 is required.`
      }
      return `${ep.apiBaseUrl}${path ?? ""} answered something unexpected: ${error.reason}.`
  }
}

/**
 * The default connector instance.
 *
 * @since 0.1.0 @category connectors
 */
export const connector: VonageConnector = make()
