/**
 * The Vonage Contact Center (VCC, formerly NewVoiceMedia) connector. Cloud only: it reads the
 * Insights Stats API with an OAuth2 client-credentials token (scope `stats`), and counts as
 * `docs/counting.md` says:
 *
 * - contacts: one contact event per **queue visit**, from `GET /stats/queue-times` (one item per
 *   interaction entering a queue: the queue, the instant it entered, `category` Answered /
 *   Abandoned / Breakout, the time in queue), counted at its queue at the instant it entered
 *   that queue; the visit's handling time (talk, hold, wrap) from the agent channels of its
 *   interaction in `GET /stats/interactions`, read `maxContactSpanHours` behind the window
 *   (interactions are listed by their start, which lies before the queue entry). Consults count
 *   nowhere; breakouts and short abandons are kept apart from abandons;
 * - agent states: `GET /stats/wfm/agent-states` with `include=StartedOrEnded` from
 *   `stateLookbackHours` before the window, every state that overlaps the window whole (its
 *   own start and end, `end` null while open); activity `State:Description` (`Away:Lunch`,
 *   `Busy:Live`, `LoggedOut`);
 * - realtime: polls agent states with `include=Processed` from the previous answer's `upTo`.
 *
 * Paging follows `meta.pageCount`; windows longer than 31 days are split; every request of one
 * connector instance and credential shares one gate, so a 429 (with Retry-After) on any endpoint
 * holds back all of them. The engine's window re-import replaces what an earlier read stored, so
 * records that change at the source after delivery (open states, late corrections) land.
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
import type { AgentTime as VisitTime, QueueEntry } from "./internal/visits.js"
import { categoryOf, entriesOf, noTime, takeEntry } from "./internal/visits.js"
import * as Wire from "./internal/wire.js"

const DAY = 24 * 60 * 60_000
const HOUR = 60 * 60_000

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
 * Talk, hold and after-call work (ms) of a queue visit's own agent legs, consults excluded.
 *
 * @since 0.2.0 @category mapping
 */
export type AgentTime = VisitTime

/**
 * One queue visit (a queue-times item) as a contact event, at its queue, at the instant it
 * entered it: `handled` when answered, with the talk, hold and wrap of its own agent legs
 * (`time`, from its interaction); abandoned, short-abandoned (under `shortAbandonSeconds`)
 * and breakout apart. A visit still queued (no `category`) is offered only.
 *
 * @since 0.2.0 @category mapping
 */
export const visitEventOf = (
  visit: Wire.QueueTime,
  time: AgentTime,
  config: Pick<Config, "mediumChannels" | "serviceLevelSeconds" | "shortAbandonSeconds">,
  where: string
): Effect.Effect<Domain.ContactEvent, Connector.InvalidData> =>
  Effect.suspend(() => {
    const channel = config.mediumChannels[visit.medium]
    if (channel === undefined) {
      return Effect.fail(
        new Connector.InvalidData({
          record: where,
          reason: `medium "${visit.medium}" has no channel: add it to the mediumChannels setting`
        })
      )
    }
    const handled = visit.category === "Answered"
    const waitMs = visit.duration ?? 0
    const own = handled ? time : noTime
    const abandoned = visit.category === "Abandoned"
    const event: Domain.ContactEvent = {
      queueIdentifier: visit.queue,
      queueName: visit.queue,
      channel,
      timestamp: visit.start,
      offered: true,
      handled,
      durationMs: handled ? own.talkMs + own.holdMs + own.afterCallWorkMs : waitMs,
      talkMs: own.talkMs,
      holdMs: own.holdMs,
      afterCallWorkMs: own.afterCallWorkMs,
      waitMs,
      abandoned,
      shortAbandoned: abandoned && waitMs < config.shortAbandonSeconds * 1000,
      breakout: visit.category === "Breakout",
      ...(config.serviceLevelSeconds === undefined
        ? {}
        : { answeredInThreshold: handled && waitMs <= config.serviceLevelSeconds * 1000 })
    }
    return Effect.succeed(event)
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
  ): Stream.Stream<Page<A>, Connector.ConnectorError, HttpClient.HttpClient> => {
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
        const upTo = envelope.upTo ? Date.parse(envelope.upTo) : Number.NaN
        const more = envelope.meta.page < envelope.meta.pageCount && envelope.items.length > 0
        const result: Page<A> = { items, upTo: Number.isFinite(upTo) ? upTo : undefined }
        return [Chunk.of(result), more ? Option.some(page + 1) : Option.none()] as const
      }))
  }

  /** Every page of an endpoint over [from, to), split into windows the API serves. */
  const windowPages = <A, I>(
    config: Config,
    path: string,
    params: Readonly<Record<string, string>>,
    schema: Schema.Schema<A, I>,
    from: number,
    to: number
  ) =>
    Stream.fromIterable(splitWindow(from, to)).pipe(
      Stream.flatMap((w) => pages(config, path, { start: iso(w.from), end: iso(w.to), ...params }, schema))
    )

  /** Every item of an endpoint over [from, to). */
  const items = <A, I>(
    config: Config,
    path: string,
    params: Readonly<Record<string, string>>,
    schema: Schema.Schema<A, I>,
    from: number,
    to: number
  ) => windowPages(config, path, params, schema, from, to).pipe(Stream.flatMap((p) => Stream.fromIterable(p.items)))

  /**
   * The visits that entered a queue in [from, to), each with its own agent legs: the
   * queue-times items of the window first (visits are few and small), then the interactions
   * that started up to `maxContactSpanHours` before the earliest answered one, joined by
   * interaction guid and queue entry as they stream past.
   */
  const contacts = (config: Config, from: number, to: number) =>
    Stream.unwrap(Effect.gen(function*() {
      const pending = new Map<string, Array<Wire.QueueTime>>()
      const seen = new Set<string>()
      yield* Stream.runForEach(
        items(config, "/stats/queue-times", { include: "Started", queueType: config.queueType }, Wire.QueueTime, from, to),
        (visit) =>
          Effect.sync(() => {
            const at = DateTime.toEpochMillis(visit.start)
            // an item met again while pages shift counts once
            const key = `${visit.interactionGuid}|${visit.queue}|${at}`
            if (at < from || at >= to || seen.has(key)) return
            seen.add(key)
            const list = pending.get(visit.interactionGuid)
            if (list) list.push(visit)
            else pending.set(visit.interactionGuid, [visit])
          })
      )
      let first = Number.POSITIVE_INFINITY
      let last = Number.NEGATIVE_INFINITY
      for (const visits of pending.values()) {
        for (const v of visits) {
          if (v.category !== "Answered") continue
          const at = DateTime.toEpochMillis(v.start)
          first = Math.min(first, at)
          last = Math.max(last, at)
        }
      }
      // answered visits whose interaction shows no queue entry for them (not listed yet, or
      // eventTypes.queue names another event): counted without handling time, said once
      const unmatched: Array<string> = []
      const emit = (visits: ReadonlyArray<Wire.QueueTime>, entries: ReadonlyArray<QueueEntry>) => {
        const taken = new Set<number>()
        return Effect.forEach(visits, (visit) => {
          const at = DateTime.toEpochMillis(visit.start)
          const entry = takeEntry(entries, taken, visit.queue, at)
          if (visit.category === "Answered" && entry === undefined) {
            unmatched.push(`${visit.interactionGuid} (${visit.queue}, ${iso(at)})`)
          }
          const where = `queue-times item of interaction ${visit.interactionGuid} at ${visit.queue} ${iso(at)}`
          return visitEventOf(visit, entry?.time ?? noTime, config, where)
        })
      }
      const joined = first > last
        ? Stream.empty
        : items(
          config,
          "/stats/interactions",
          { include: "Started" },
          Wire.Interaction,
          first - config.maxContactSpanHours * HOUR,
          last + 1
        ).pipe(
          Stream.filter((interaction) => pending.has(interaction.guid)),
          Stream.mapEffect((interaction) => {
            const visits = pending.get(interaction.guid)!
            pending.delete(interaction.guid)
            const entries = entriesOf(interaction, config.eventTypes, DateTime.toEpochMillis(interaction.start))
            return emit(visits, entries)
          }),
          Stream.filter((events) => events.length > 0),
          Stream.map((events): Domain.Batch => ({ ...emptyBatch, contacts: events }))
        )
      // visits whose interaction was not listed: counted from queue-times alone
      const rest = Stream.fromIterableEffect(
        Effect.suspend(() => emit(Array.from(pending.values()).flat(), [])).pipe(
          Effect.tap(() =>
            unmatched.length === 0 ? Effect.void : Effect.logWarning(
              `Vonage: ${unmatched.length} answered queue visit(s) have no ${config.eventTypes.queue} event for their queue in an interaction of GET /stats/interactions (e.g. ${
                unmatched.slice(0, 3).join("; ")
              }); they count without handling time until a later import finds it. If this persists, check the eventTypes setting and maxContactSpanHours.`
            )
          )
        )
      ).pipe(
        Stream.grouped(500),
        Stream.map((events): Domain.Batch => ({ ...emptyBatch, contacts: Chunk.toReadonlyArray(events) }))
      )
      return Stream.concat(joined, rest)
    }))

  /**
   * The visits that entered a queue in [from, to) as the interaction records alone show them:
   * every `Queue` event is a visit, with the agent legs that follow it; how it ended is
   * inferred (`categoryOf`). Interactions are read from `maxContactSpanHours` before the window.
   */
  const contactsFromInteractions = (config: Config, from: number, to: number) =>
    Stream.suspend(() => {
      const seen = new Set<string>()
      return items(
        config,
        "/stats/interactions",
        { include: "Started" },
        Wire.Interaction,
        from - config.maxContactSpanHours * HOUR,
        to
      ).pipe(
        Stream.filter((interaction) => {
          if (seen.has(interaction.guid)) return false
          seen.add(interaction.guid)
          return true
        }),
        Stream.mapEffect((interaction) => {
          const entries = entriesOf(interaction, config.eventTypes, DateTime.toEpochMillis(interaction.start))
          const completed = interaction.status === "Completed"
          return Effect.forEach(
            entries.flatMap((entry, i) => entry.at >= from && entry.at < to ? [{ entry, i }] : []),
            ({ entry, i }) => {
              const where = `interaction ${interaction.guid}`
              if (entry.queue === "") {
                return Effect.fail(
                  new Connector.InvalidData({ record: where, reason: `a ${config.eventTypes.queue} event has no queue name` })
                )
              }
              const visit: Wire.QueueTime = {
                start: DateTime.unsafeMake(entry.at),
                interactionGuid: interaction.guid,
                medium: interaction.medium,
                queue: entry.queue,
                category: categoryOf(entries, i, completed),
                duration: entry.waitMs
              }
              return visitEventOf(visit, entry.time, config, where)
            }
          )
        }),
        Stream.filter((events) => events.length > 0),
        Stream.map((events): Domain.Batch => ({ ...emptyBatch, contacts: events }))
      )
    })

  /**
   * Every state that overlaps [from, to), whole. The API selects states that started or ended in
   * a search window, so one read from `stateLookbackHours` before the window finds the states
   * that start or end in it however long they are, and those in force all through it that
   * started within the look-back.
   */
  const statuses = (config: Config, from: number, to: number) =>
    Stream.unwrap(Effect.gen(function*() {
      let present = yield* Clock.currentTimeMillis
      const seen = new Set<string>()
      // open states that started before the window: in force until the source's present
      // (the answers' `upTo`), so in the window unless the window lies after it
      const earlier: Array<Wire.AgentState> = []
      const read = windowPages(
        config,
        "/stats/wfm/agent-states",
        { include: "StartedOrEnded" },
        Wire.AgentState,
        from - config.stateLookbackHours * HOUR,
        to
      ).pipe(
        Stream.map((page): Domain.Batch => {
          if (page.upTo !== undefined) present = Math.max(present, page.upTo)
          const statuses = page.items.filter((s) => {
            const start = DateTime.toEpochMillis(s.start)
            const key = `${s.agentId}|${start}`
            // met twice: started in one search window, ended in the next
            if (start >= to || seen.has(key)) return false
            if (s.duration === null && start < from) {
              seen.add(key)
              earlier.push(s)
              return false
            }
            if (s.duration !== null && start + s.duration <= from) return false
            seen.add(key)
            return true
          }).flatMap((s) => Option.toArray(statusOf(s, config)))
          return { ...emptyBatch, statuses }
        })
      )
      const open = Stream.suspend(() =>
        Stream.succeed<Domain.Batch>({
          ...emptyBatch,
          statuses: present > from ? earlier.flatMap((s) => Option.toArray(statusOf(s, config))) : []
        })
      )
      return Stream.concat(read, open).pipe(Stream.filter((b) => b.statuses.length > 0))
    }))

  const pull = (config: Config, window: Connector.Window) => {
    const from = DateTime.toEpochMillis(window.from)
    const to = DateTime.toEpochMillis(window.to)
    const parts: Array<Stream.Stream<Domain.Batch, Connector.ConnectorError, HttpClient.HttpClient>> = []
    if (config.import.includes("contacts")) {
      parts.push(
        config.contactSource === "queueTimes"
          ? contacts(config, from, to)
          : contactsFromInteractions(config, from, to)
      )
    }
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
      const contacts = config.import.includes("contacts")
      const endpoints: ReadonlyArray<readonly [string, string]> = [
        ...(config.import.includes("agentStatuses") ? [["agent states", "/stats/wfm/agent-states"] as const] : []),
        ...(contacts && config.contactSource === "queueTimes" ? [["queue times", "/stats/queue-times"] as const] : []),
        ...(contacts ? [["interactions", "/stats/interactions"] as const] : [])
      ]
      for (const [name, path] of endpoints) {
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

/** One page of an endpoint: its items and its `upTo` (the source's present, epoch ms). */
interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly upTo: number | undefined
}

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
