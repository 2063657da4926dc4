/**
 * The connector's reads: paged endpoints split into windows the API serves, queue visits joined
 * with the agent legs of their interactions, agent states whole however long, and the realtime
 * poll of agent states.
 */
import type { Domain } from "@acd-bridge/core"
import { Connector, Time } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Config } from "./config.js"
import { endpointOf, HOUR, splitWindow } from "./config.js"
import { decodeItem, getJson } from "./http.js"
import type { Page } from "./mapping.js"
import { emptyBatch, instantOf, iso, statusOf, visitEventOf } from "./mapping.js"
import { Sessions } from "./sessions.js"
import type { QueueEntry } from "./visits.js"
import { categoryOf, entriesOf, noTime, takeEntry } from "./visits.js"
import * as Wire from "./wire.js"

/** `GET {apiBaseUrl}{path}` with the session of the config's credentials, held for the request. */
export const get = (config: Config, path: string, params: Readonly<Record<string, string>>) => {
  const ep = endpointOf(config)
  return Effect.scoped(
    Effect.flatMap(Sessions, (sessions) =>
      Effect.flatMap(sessions.get(ep), (session) => getJson(session, ep, path, params)))
  )
}

/** Every item of a paginated endpoint, one chunk per page. */
const pages = <A, I>(
  config: Config,
  path: string,
  params: Readonly<Record<string, string>>,
  schema: Schema.Schema<A, I>
): Stream.Stream<Page<A>, Connector.ConnectorError, HttpClient.HttpClient | Sessions> => {
  return Stream.paginateChunkEffect(1, (page: number) =>
    Effect.gen(function*() {
      const query = { ...params, page: String(page), limit: String(config.pageSize) }
      const where = `GET ${path}?${new URLSearchParams(query).toString()}`
      const body = yield* get(config, path, query)
      const envelope = yield* decodeItem(Wire.Envelope, body, where)
      const items = yield* Effect.forEach(
        envelope.items,
        (item, i) => decodeItem(schema, item, `${where} item ${i}`)
      )
      const more = envelope.meta.page < envelope.meta.pageCount && envelope.items.length > 0
      const result: Page<A> = { items, upTo: instantOf(envelope.upTo) }
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
              start: Time.utc(entry.at),
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

/** Reads a window: its contacts (one per queue visit) and the agent states that overlap it. */
export const pull = (config: Config, window: Connector.Window) => {
  const from = DateTime.toEpochMillis(window.from)
  const to = DateTime.toEpochMillis(window.to)
  const parts: Array<Stream.Stream<Domain.Batch, Connector.ConnectorError, HttpClient.HttpClient | Sessions>> = []
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
export const realtime = (config: Config, position?: number | undefined) => {
  const poll = (since: number) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
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
          yield* get(config, "/stats/wfm/agent-states", query),
          where
        )
        for (let i = 0; i < envelope.items.length; i++) {
          const state = yield* decodeItem(Wire.AgentState, envelope.items[i], `${where} item ${i}`)
          out.push(...Option.toArray(statusOf(state, config)))
        }
        upTo = instantOf(envelope.upTo) ?? upTo
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
