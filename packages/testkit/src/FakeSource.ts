/**
 * A fake contact-centre source: deterministic, seeded, in memory, over any time range. It
 * answers like a vendor API would (windows, pages, a live feed, credentials) and has switches
 * to make it misbehave: rejected credentials, rate limits, transient failures, malformed data,
 * late corrections, slowness. Every record is a pure function of the seed and the time, so
 * three years cost nothing until they are read, and two reads of a closed window agree.
 *
 * ```ts
 * import { FakeConnector, FakeSource } from "@acd-bridge/testkit"
 *
 * const Source = FakeSource.layer({ seed: 7, contactsPerQuarter: 2 })
 * const Registry = ConnectorRegistry.layer(FakeConnector.connector).pipe(Layer.provide(Source))
 * // in a test: yield* (yield* FakeSource.FakeSource).fail(new Connector.Transient({ reason: "boom" }), 2)
 * ```
 *
 * What the source holds:
 *
 * - per queue and UTC quarter-hour (when the quarter is "active", see `activeShare`) a seeded
 *   number of contacts around `contactsPerQuarter`, at whole seconds inside the quarter, some
 *   exactly on its first instant (so window edges are exercised); 85 % handled;
 * - with `shape: "aggregates"` the same data as one 15-minute interval aggregate per queue and
 *   quarter (exactly the sum of the contacts), returned once the quarter has closed;
 * - per agent a timeline cut once an hour at a seeded second, so statuses last up to two hours
 *   and cross window edges; some pieces are "logged out" (no status);
 * - nothing in the future: contacts before now, statuses started before now (open when they
 *   have not ended yet);
 * - with `corrections`, a share of quarters is restated `delay` after it closes (longer
 *   durations and one more contact), as vendors restate late data.
 *
 * **Scenario mode** (`scenario`): the source serves a `Scenario` instead, as a source of
 * per-segment records does (Genesys' mediation segments, Vonage's interaction events): one
 * record per queue visit (at its queue entry) and one per agent leg (at the leg's start), each
 * at its own instant, as `Scenario.asKnownAt(scenario, now)` shows them: finished contacts once
 * written (or every contact as far as it got, with `liveContacts`), after-call work as first
 * written until its correction. `records` selects them by their own instant, so a contact's
 * legs lie in later windows than its queue entry: a connector must read ahead (the maximum
 * contact span) to count each visit once, whole (`FakeConnector` does). `read` then returns the
 * agent statuses (LoggedOut included) overlapping the window, whole, and no contacts.
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Scenario from "./Scenario.js"

const QUARTER = 900_000
const HOUR = 3_600_000

/** @since 0.1.0 @category models */
export interface QueueSpec {
  readonly identifier: string
  readonly name: string
  readonly channel: Domain.Channel
}

/** @since 0.1.0 @category models */
export interface Options {
  readonly seed?: number | undefined
  /** default: two queues, calls and chats */
  readonly queues?: ReadonlyArray<QueueSpec> | undefined
  /** agents with status timelines (default 3; 0 for none) */
  readonly agents?: number | undefined
  /** per-contact events (default) or 15-minute interval aggregates */
  readonly shape?: "contacts" | "aggregates" | undefined
  /** mean contacts per queue and active quarter-hour (default 3) */
  readonly contactsPerQuarter?: number | undefined
  /** share of quarter-hours that have contacts, per queue (default 1); lower it for multi-year tests */
  readonly activeShare?: number | undefined
  /** restate a share of quarters `delay` after they close */
  readonly corrections?: { readonly share: number; readonly delay: Duration.DurationInput } | undefined
  /** the credential the source accepts (default "fake-secret") */
  readonly apiKey?: string | undefined
  /** how long every request takes, on the Clock (default 0) */
  readonly latency?: Duration.DurationInput | undefined
  /** records per stream element (default 500) */
  readonly pageSize?: number | undefined
  /** how many days back the source keeps data (default: forever) */
  readonly keepsDays?: number | undefined
  /** how often the live feed emits (default 1 second) */
  readonly tick?: Duration.DurationInput | undefined
  /** serve this scenario (see "Scenario mode" above) instead of the seeded quarters and timelines */
  readonly scenario?: Scenario.Scenario | undefined
  /** scenario mode: show contacts still running or not yet written as far as they got (default false: written contacts only) */
  readonly liveContacts?: boolean | undefined
}

/**
 * Scenario mode: a queue visit as the source's record of it, at the instant the contact entered
 * the queue. `outcome` is `"waiting"` while the contact still waits (`liveContacts`).
 *
 * @since 0.2.0 @category models
 */
export interface VisitRecord {
  readonly kind: "visit"
  readonly contactId: string
  readonly contactStart: number
  /** index of the visit in its contact */
  readonly visit: number
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Domain.Channel
  /** when the contact entered the queue */
  readonly at: number
  readonly waitMs: number
  readonly outcome: Scenario.VisitOutcome | "waiting"
  readonly shortAbandoned: boolean
}

/**
 * Scenario mode: an agent leg as the source's record of it, at the instant the agent was
 * connected.
 *
 * @since 0.2.0 @category models
 */
export interface LegRecord {
  readonly kind: "leg"
  readonly contactId: string
  readonly contactStart: number
  /** index of the visit the leg belongs to */
  readonly visit: number
  readonly leg: number
  readonly legKind: Scenario.LegKind
  readonly agentId: string
  /** when the agent was connected */
  readonly at: number
  readonly talkMs: number
  readonly holdMs: number
  readonly afterCallWorkMs: number
  readonly transferred: boolean
}

/** @since 0.2.0 @category models */
export type SourceRecord = VisitRecord | LegRecord

/** @since 0.1.0 @category models */
export interface Window {
  readonly from: number
  readonly to: number
}

/** The activities of the fake timelines; "Offline" pieces are gaps with no status. @since 0.1.0 @category models */
export const activities = ["Ready", "Talk", "AfterCallWork", "Break", "Offline"] as const

/** @since 0.1.0 @category models */
export interface FakeSourceShape {
  readonly options: Options
  /** one window as pages (stream elements); fails as the switches say */
  readonly read: (apiKey: Redacted.Redacted<string> | string, window: Window) => Stream.Stream<Domain.Batch, Connector.ConnectorError>
  /** the live feed, from `position` (epoch ms) or now; every element carries its position */
  readonly live: (
    apiKey: Redacted.Redacted<string> | string,
    position?: number | undefined
  ) => Stream.Stream<Connector.RealtimeBatch, Connector.ConnectorError>
  /** what `check` reports for a credential */
  readonly verify: (apiKey: Redacted.Redacted<string> | string) => Effect.Effect<Connector.CheckReport>
  /**
   * everything in the window as the source reports it at `at` (default now), ignoring the
   * switches; in scenario mode the contact events of the visits that entered their queue in the
   * window (`Scenario.knownEvents`), as a connector that reads around its window emits them
   */
  readonly truth: (window: Window, at?: number) => Effect.Effect<Domain.Batch>
  /** the scenario served, in scenario mode */
  readonly scenario: Scenario.Scenario | undefined
  /**
   * scenario mode: the records whose own instant lies in the window, as the source shows them
   * now, in pages; nothing (an empty stream) otherwise. Counts as a request like `read`.
   */
  readonly records: (
    apiKey: Redacted.Redacted<string> | string,
    window: Window
  ) => Stream.Stream<ReadonlyArray<SourceRecord>, Connector.ConnectorError>
  /** the next `times` requests (reads and live feeds) fail with `error` */
  readonly fail: (error: Connector.ConnectorError, times?: number) => Effect.Effect<void>
  /** while on, reads return their first page and then fail with `InvalidData` */
  readonly setMalformed: (on: boolean) => Effect.Effect<void>
  /** the credential the source accepts from now on */
  readonly setApiKey: (key: string) => Effect.Effect<void>
  /** requests so far (reads, live feeds, checks) */
  readonly calls: Effect.Effect<number>
  /** the windows read so far, in order */
  readonly windows: Effect.Effect<ReadonlyArray<Window>>
  /** records served so far */
  readonly served: Effect.Effect<number>
}

/**
 * The source as a service, so a connector reaches it through its `R`.
 *
 * @since 0.1.0 @category tags
 */
export class FakeSource extends Context.Tag("@acd-bridge/testkit/FakeSource")<FakeSource, FakeSourceShape>() {}

// ---------------------------------------------------------------------------
// seeded values
// ---------------------------------------------------------------------------

const mix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A number in [0, 1) determined by the seed and the keys. */
const unit = (seed: number, ...keys: ReadonlyArray<number>): number => {
  let h = mix(seed ^ 0x9e3779b9)
  for (const k of keys) {
    h = mix(h ^ mix(Math.floor(k) | 0) ^ mix(Math.floor(k / 4294967296)))
  }
  return h / 4294967296
}

const defaultQueues: ReadonlyArray<QueueSpec> = [
  { identifier: "1337_99", name: "Level 1 support", channel: "calls" },
  { identifier: "chat-de", name: "Chat DE", channel: "chats" }
]

interface Resolved {
  readonly seed: number
  readonly queues: ReadonlyArray<QueueSpec>
  readonly agents: number
  readonly shape: "contacts" | "aggregates"
  readonly mean: number
  readonly activeShare: number
  readonly corrections: { readonly share: number; readonly delayMs: number } | undefined
  readonly pageSize: number
}

const contactsOf = (r: Resolved, qi: number, quarter: number, now: number): Array<Domain.ContactEvent> => {
  const q = quarter / QUARTER
  if (unit(r.seed, 1, qi, q) >= r.activeShare) return []
  const corrected = r.corrections !== undefined && unit(r.seed, 3, qi, q) < r.corrections.share &&
    now >= quarter + QUARTER + r.corrections.delayMs
  const count = Math.floor(unit(r.seed, 2, qi, q) * (2 * r.mean + 1)) + (corrected ? 1 : 0)
  const queue = r.queues[qi]!
  const out: Array<Domain.ContactEvent> = []
  for (let k = 0; k < count; k++) {
    const onEdge = k === 0 && unit(r.seed, 4, qi, q) < 0.25
    const second = onEdge ? 0 : Math.floor(unit(r.seed, 10, qi, q, k) * 900)
    const timestamp = quarter + second * 1000
    if (timestamp >= now) continue
    const handled = unit(r.seed, 11, qi, q, k) < 0.85
    const talkMs = (20 + Math.floor(unit(r.seed, 12, qi, q, k) * 400)) * 1000
    const holdMs = unit(r.seed, 13, qi, q, k) < 0.2 ? (5 + Math.floor(unit(r.seed, 14, qi, q, k) * 60)) * 1000 : 0
    const afterCallWorkMs = (Math.floor(unit(r.seed, 15, qi, q, k) * 60)) * 1000 + (corrected ? 15_000 : 0)
    const waitMs = Math.floor(unit(r.seed, 16, qi, q, k) * 120) * 1000
    out.push({
      queueIdentifier: queue.identifier,
      queueName: queue.name,
      channel: queue.channel,
      timestamp: DateTime.unsafeMake(timestamp),
      offered: true,
      handled,
      durationMs: handled ? talkMs + holdMs + afterCallWorkMs : waitMs,
      ...(handled ? { talkMs, holdMs, afterCallWorkMs } : {}),
      waitMs,
      abandoned: !handled
    })
  }
  return out
}

const aggregateOf = (
  queue: QueueSpec,
  quarter: number,
  contacts: ReadonlyArray<Domain.ContactEvent>
): Domain.IntervalAggregate => {
  const m = {
    offered: 0,
    handled: 0,
    handlingMs: 0,
    unhandledMs: 0,
    talkMs: 0,
    holdMs: 0,
    afterCallWorkMs: 0,
    waitMs: 0,
    abandoned: 0,
    shortAbandoned: 0,
    breakout: 0,
    answeredInThreshold: 0
  }
  for (const c of contacts) {
    m.offered += c.offered ? 1 : 0
    m.handled += c.handled ? 1 : 0
    if (c.handled) m.handlingMs += c.durationMs
    else m.unhandledMs += c.durationMs
    m.talkMs += c.talkMs ?? 0
    m.holdMs += c.holdMs ?? 0
    m.afterCallWorkMs += c.afterCallWorkMs ?? 0
    m.waitMs += c.waitMs ?? 0
    m.abandoned += c.abandoned ? 1 : 0
  }
  return {
    queueIdentifier: queue.identifier,
    queueName: queue.name,
    channel: queue.channel,
    start: DateTime.unsafeMake(quarter),
    lengthMinutes: 15,
    ...m
  }
}

interface Piece {
  readonly agent: number
  readonly activity: typeof activities[number]
  readonly start: number
  readonly end: number
}

const cut = (r: Resolved, agent: number, hour: number): number =>
  hour * HOUR + Math.floor(unit(r.seed, 20, agent, hour) * 3600) * 1000

const piece = (r: Resolved, agent: number, hour: number): Piece => ({
  agent,
  activity: activities[Math.floor(unit(r.seed, 21, agent, hour) * activities.length)]!,
  start: cut(r, agent, hour),
  end: cut(r, agent, hour + 1)
})

/** The pieces of every agent's timeline that overlap [from, to), in start order per agent. */
const piecesIn = (r: Resolved, from: number, to: number): Array<Piece> => {
  const out: Array<Piece> = []
  for (let agent = 0; agent < r.agents; agent++) {
    for (let hour = Math.floor(from / HOUR) - 1; hour <= Math.floor(to / HOUR); hour++) {
      const p = piece(r, agent, hour)
      if (p.activity !== "Offline" && p.start < to && p.end > from) out.push(p)
    }
  }
  return out
}

const statusOf = (p: Piece, now: number): Domain.AgentStatus => ({
  agentIdentifier: `agent-${p.agent + 1}`,
  activityIdentifier: p.activity,
  start: DateTime.unsafeMake(p.start),
  end: p.end <= now ? DateTime.unsafeMake(p.end) : null
})

/** Everything the source reports for [from, to) at `now`. */
const snapshot = (r: Resolved, window: Window, now: number): Domain.Batch => {
  const to = Math.min(window.to, now)
  const contacts: Array<Domain.ContactEvent> = []
  const aggregates: Array<Domain.IntervalAggregate> = []
  if (window.from < to) {
    const first = Math.floor(window.from / QUARTER) * QUARTER
    for (let quarter = first; quarter < to; quarter += QUARTER) {
      for (let qi = 0; qi < r.queues.length; qi++) {
        if (r.shape === "aggregates") {
          if (quarter < window.from || quarter + QUARTER > now) continue
          const all = contactsOf(r, qi, quarter, now)
          if (all.length > 0) aggregates.push(aggregateOf(r.queues[qi]!, quarter, all))
        } else {
          for (const c of contactsOf(r, qi, quarter, now)) {
            const t = DateTime.toEpochMillis(c.timestamp)
            if (t >= window.from && t < to) contacts.push(c)
          }
        }
      }
    }
  }
  const statuses = window.from < to
    ? piecesIn(r, window.from, to).filter((p) => p.start < now).map((p) => statusOf(p, now))
    : []
  return { contacts, aggregates, statuses }
}

// ---------------------------------------------------------------------------
// scenario mode
// ---------------------------------------------------------------------------

interface ScenarioSource {
  readonly scenario: Scenario.Scenario
  readonly live: boolean
  /** every agent's timeline with overlaps trimmed (one state at a time), LoggedOut included */
  readonly timeline: ReadonlyArray<Scenario.TimelineState>
}

const scenarioSource = (scenario: Scenario.Scenario, live: boolean): ScenarioSource => {
  const byAgent = new Map<string, Array<Scenario.TimelineState>>()
  for (const s of Scenario.timeline(scenario)) {
    const list = byAgent.get(s.agentId)
    if (list) list.push(s)
    else byAgent.set(s.agentId, [s])
  }
  const timeline: Array<Scenario.TimelineState> = []
  for (const agentId of Array.from(byAgent.keys()).sort()) {
    timeline.push(...Scenario.trimOverlaps(byAgent.get(agentId)!))
  }
  return { scenario, live, timeline }
}

/** The records the source shows at `now` whose own instant lies in the window, in instant order. */
const recordsIn = (src: ScenarioSource, window: Window, now: number): Array<SourceRecord> => {
  const out: Array<SourceRecord> = []
  if (window.from >= window.to) return out
  for (const c of Scenario.asKnownAt(src.scenario, now).contacts) {
    if (!src.live && c.phase !== "written") continue
    c.visits.forEach((v, i) => {
      if (v.enteredAt >= window.from && v.enteredAt < window.to) {
        out.push({
          kind: "visit",
          contactId: c.id,
          contactStart: c.start,
          visit: i,
          queueIdentifier: v.queueIdentifier,
          queueName: v.queueName,
          channel: v.channel,
          at: v.enteredAt,
          waitMs: v.waitMs,
          outcome: v.outcome,
          shortAbandoned: v.shortAbandoned
        })
      }
      v.legs.forEach((l, j) => {
        if (l.start < window.from || l.start >= window.to) return
        out.push({
          kind: "leg",
          contactId: c.id,
          contactStart: c.start,
          visit: i,
          leg: j,
          legKind: l.kind,
          agentId: l.agentId,
          at: l.start,
          talkMs: l.talkMs,
          holdMs: l.holdMs,
          afterCallWorkMs: l.afterCallWorkMs,
          transferred: l.transferred
        })
      })
    })
  }
  return out.sort((a, b) => a.at - b.at)
}

/** The statuses the source shows at `now` that overlap the window, whole; open while they run. */
const scenarioStatuses = (src: ScenarioSource, window: Window, now: number): Array<Domain.AgentStatus> => {
  const to = Math.min(window.to, now)
  if (window.from >= to) return []
  return src.timeline
    .filter((s) => s.start < to && s.end > window.from)
    .map((s) => ({
      agentIdentifier: s.agentId,
      activityIdentifier: s.activity,
      start: DateTime.unsafeMake(s.start),
      end: s.end <= now ? DateTime.unsafeMake(s.end) : null
    }))
}

/** Scenario mode's truth: the visits that entered their queue in the window, and the statuses. */
const scenarioTruth = (src: ScenarioSource, window: Window, now: number): Domain.Batch => ({
  contacts: Scenario.knownEvents(Scenario.asKnownAt(src.scenario, now), { liveContacts: src.live }).filter((e) => {
    const t = DateTime.toEpochMillis(e.timestamp)
    return t >= window.from && t < window.to
  }),
  aggregates: [],
  statuses: scenarioStatuses(src, window, now)
})

const pages = (batch: Domain.Batch, size: number): Array<Domain.Batch> => {
  const out: Array<Domain.Batch> = []
  const push = <K extends keyof Domain.Batch>(key: K) => {
    const items = batch[key]
    for (let i = 0; i < items.length; i += size) {
      out.push({ contacts: [], aggregates: [], statuses: [], [key]: items.slice(i, i + size) })
    }
  }
  push("contacts")
  push("aggregates")
  push("statuses")
  return out
}

const reveal = (key: Redacted.Redacted<string> | string): string => typeof key === "string" ? key : Redacted.value(key)

/**
 * A fresh source.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<FakeSourceShape> =>
  Effect.gen(function*() {
    const r: Resolved = {
      seed: options.seed ?? 1,
      queues: options.queues ?? defaultQueues,
      agents: options.agents ?? 3,
      shape: options.shape ?? "contacts",
      mean: options.contactsPerQuarter ?? 3,
      activeShare: options.activeShare ?? 1,
      corrections: options.corrections
        ? { share: options.corrections.share, delayMs: Duration.toMillis(Duration.decode(options.corrections.delay)) }
        : undefined,
      pageSize: Math.max(1, options.pageSize ?? 500)
    }
    const latency = Duration.decode(options.latency ?? 0)
    const tick = Duration.decode(options.tick ?? "1 second")
    const keepsMs = options.keepsDays === undefined ? undefined : options.keepsDays * 86_400_000
    const failures = yield* Ref.make<ReadonlyArray<Connector.ConnectorError>>([])
    const malformed = yield* Ref.make(false)
    const apiKey = yield* Ref.make(options.apiKey ?? "fake-secret")
    const calls = yield* Ref.make(0)
    const windows = yield* Ref.make<ReadonlyArray<Window>>([])
    const served = yield* Ref.make(0)
    const src = options.scenario === undefined
      ? undefined
      : scenarioSource(options.scenario, options.liveContacts ?? false)
    /** what `read` holds for a window at `now`: in scenario mode the statuses only */
    const batchAt = (window: Window, now: number): Domain.Batch =>
      src === undefined
        ? snapshot(r, window, now)
        : { contacts: [], aggregates: [], statuses: scenarioStatuses(src, window, now) }

    /** One request: counts it, waits the latency, checks the switches and the credential. */
    const request = (key: Redacted.Redacted<string> | string) =>
      Effect.gen(function*() {
        yield* Ref.update(calls, (n) => n + 1)
        if (Duration.toMillis(latency) > 0) yield* Effect.sleep(latency)
        const injected = yield* Ref.modify(failures, (list) => [list[0], list.slice(1)] as const)
        if (injected !== undefined) return yield* Effect.fail(injected)
        if (reveal(key) !== (yield* Ref.get(apiKey))) {
          return yield* Effect.fail(new Connector.AuthFailed({ reason: "the fake source does not know this API key" }))
        }
      })

    const read = (key: Redacted.Redacted<string> | string, window: Window) =>
      Stream.unwrap(Effect.gen(function*() {
        yield* Ref.update(windows, (list) => [...list, window])
        yield* request(key)
        const now = yield* Clock.currentTimeMillis
        const from = keepsMs === undefined ? window.from : Math.max(window.from, now - keepsMs)
        const all = pages(batchAt({ from, to: window.to }, now), r.pageSize)
        if (yield* Ref.get(malformed)) {
          const first = all[0] ?? { contacts: [], aggregates: [], statuses: [] }
          return Stream.make(first).pipe(
            Stream.concat(Stream.fail(
              new Connector.InvalidData({ record: `page 2 of ${new Date(window.from).toISOString()}`, reason: "duration is \"n/a\"" })
            )),
            Stream.tap((b) => Ref.update(served, (n) => n + b.contacts.length + b.aggregates.length + b.statuses.length))
          )
        }
        return Stream.fromIterable(all).pipe(
          Stream.tap((b) => Ref.update(served, (n) => n + b.contacts.length + b.aggregates.length + b.statuses.length))
        )
      }))

    const records = (
      key: Redacted.Redacted<string> | string,
      window: Window
    ): Stream.Stream<ReadonlyArray<SourceRecord>, Connector.ConnectorError> =>
      src === undefined ? Stream.empty : Stream.unwrap(Effect.gen(function*() {
        yield* Ref.update(windows, (list) => [...list, window])
        yield* request(key)
        const now = yield* Clock.currentTimeMillis
        const from = keepsMs === undefined ? window.from : Math.max(window.from, now - keepsMs)
        const all = recordsIn(src, { from, to: window.to }, now)
        const chunks: Array<ReadonlyArray<SourceRecord>> = []
        for (let i = 0; i < all.length; i += r.pageSize) chunks.push(all.slice(i, i + r.pageSize))
        const count = (pages: Stream.Stream<ReadonlyArray<SourceRecord>, Connector.ConnectorError>) =>
          Stream.tap(pages, (page) => Ref.update(served, (n) => n + page.length))
        if (yield* Ref.get(malformed)) {
          return Stream.make<[ReadonlyArray<SourceRecord>]>(chunks[0] ?? []).pipe(
            Stream.concat(Stream.fail(
              new Connector.InvalidData({
                record: `records page 2 of ${new Date(window.from).toISOString()}`,
                reason: "talkMs is \"n/a\""
              })
            )),
            count
          )
        }
        return Stream.fromIterable<ReadonlyArray<SourceRecord>>(chunks).pipe(count)
      }))

    const live = (key: Redacted.Redacted<string> | string, position?: number | undefined) =>
      Stream.unwrap(Effect.gen(function*() {
        yield* request(key)
        let last = position ?? (yield* Clock.currentTimeMillis)
        return Stream.repeatEffect(Effect.gen(function*() {
          yield* Effect.sleep(tick)
          const now = yield* Clock.currentTimeMillis
          const from = last
          last = now
          const injected = yield* Ref.modify(failures, (list) => [list[0], list.slice(1)] as const)
          if (injected !== undefined) return yield* Effect.fail(injected)
          const contacts = src === undefined && r.shape === "contacts"
            ? snapshot(r, { from, to: now }, now).contacts
            : []
          const statuses = src !== undefined
            ? src.timeline
              .filter((s) => (s.start >= from && s.start < now) || (s.end >= from && s.end < now))
              .map((s) => ({
                agentIdentifier: s.agentId,
                activityIdentifier: s.activity,
                start: DateTime.unsafeMake(s.start),
                end: s.end <= now ? DateTime.unsafeMake(s.end) : null
              }))
            : piecesIn(r, from - 2 * HOUR, now)
              .filter((p) => (p.start >= from && p.start < now) || (p.end >= from && p.end < now))
              .map((p) => statusOf(p, now))
          yield* Ref.update(served, (n) => n + contacts.length + statuses.length)
          const element: Connector.RealtimeBatch = { contacts, aggregates: [], statuses, position: now }
          return element
        }))
      }))

    const verify = (key: Redacted.Redacted<string> | string) =>
      Effect.gen(function*() {
        yield* Ref.update(calls, (n) => n + 1)
        const ok = reveal(key) === (yield* Ref.get(apiKey))
        return {
          ok,
          items: [
            { name: "reachable", ok: true, detail: "the fake source answers" },
            {
              name: "credentials",
              ok,
              detail: ok ? "the API key is accepted" : "the API key is rejected (401); check the key in the config"
            }
          ]
        }
      })

    return {
      options,
      read,
      live,
      verify,
      truth: (window, at) =>
        Effect.map(
          Clock.currentTimeMillis,
          (now) => src === undefined ? snapshot(r, window, at ?? now) : scenarioTruth(src, window, at ?? now)
        ),
      scenario: options.scenario,
      records,
      fail: (error, times = 1) => Ref.update(failures, (list) => [...list, ...Array.from({ length: times }, () => error)]),
      setMalformed: (on) => Ref.set(malformed, on),
      setApiKey: (key) => Ref.set(apiKey, key),
      calls: Ref.get(calls),
      windows: Ref.get(windows),
      served: Ref.get(served)
    } satisfies FakeSourceShape
  })

/**
 * A layer with a fresh source.
 *
 * @since 0.1.0 @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<FakeSource> => Layer.effect(FakeSource, make(options))
