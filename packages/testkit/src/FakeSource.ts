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
}

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
  /** everything in the window as the source reports it at `at` (default now), ignoring the switches */
  readonly truth: (window: Window, at?: number) => Effect.Effect<Domain.Batch>
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
        const all = pages(snapshot(r, { from, to: window.to }, now), r.pageSize)
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
          const contacts = r.shape === "contacts" ? snapshot(r, { from, to: now }, now).contacts : []
          const statuses = piecesIn(r, from - 2 * HOUR, now)
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
      truth: (window, at) => Effect.map(Clock.currentTimeMillis, (now) => snapshot(r, window, at ?? now)),
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
