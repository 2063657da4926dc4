/**
 * A small deterministic source and a pull/realtime connector over it, for the scheduler tests.
 * (The full-featured one for plugin authors is `FakeSource` in @acd-bridge/testkit; core's
 * tests don't depend on testkit.)
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import type { AgentStatus, Batch, ContactEvent, Integration, IntervalAggregate } from "../src/Domain.js"
import { TenantId } from "../src/Domain.js"
import * as Engine from "../src/Engine.js"
import { Integrations } from "../src/Integrations.js"
import * as Scheduler from "../src/Scheduler.js"
import * as Storage from "../src/Storage.js"

export const tenant = TenantId.make("tenant-s")

/** Durations in ms, for the scheduler tests. */
export const SEC = 1000
export const MIN = 60 * SEC
export const HOUR = 60 * MIN
export const DAY = 24 * HOUR
const QUARTER = 15 * MIN

/** An ISO instant as epoch ms. */
export const iso = (s: string): number => DateTime.toEpochMillis(DateTime.unsafeMake(s))

const mix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
const unit = (...keys: ReadonlyArray<number>): number => {
  let h = 0x2545f491
  for (const k of keys) h = mix(h ^ mix(Math.floor(k) | 0) ^ mix(Math.floor(k / 4294967296)))
  return h / 4294967296
}

export interface SourceOptions {
  readonly seed: number
  /** contacts per queue and quarter are 0..2·mean */
  readonly mean: number
  /** share of quarters with contacts */
  readonly active: number
  readonly agents: number
  /** one 60-minute aggregate per queue and hour instead of contacts */
  readonly aggregates: boolean
  /** how often the live feed emits (ms) */
  readonly tickMs: number
  /** share of quarters restated, and how long after they close */
  readonly corrections?: { readonly share: number; readonly delayMs: number } | undefined
  /**
   * how long after a status ends the source writes its end (late ETL); until then the source
   * reports it open, unless the agent's next status already shows
   */
  readonly closeDelayMs?: number | undefined
}

export interface TestSourceShape {
  readonly options: SourceOptions
  readonly read: (key: string, from: number, to: number) => Effect.Effect<Batch, Connector.ConnectorError>
  readonly live: (key: string, position: number | undefined) => Stream.Stream<Connector.RealtimeBatch, Connector.ConnectorError>
  readonly fail: (error: Connector.ConnectorError, times?: number) => Effect.Effect<void>
  readonly setKey: (key: string) => Effect.Effect<void>
  /** while on, every read also returns a status that ends before it starts */
  readonly setCorrupt: (on: boolean) => Effect.Effect<void>
  /** while on, every read (and live feed) throws: a defect in the connector's code */
  readonly setBroken: (on: boolean) => Effect.Effect<void>
  /** forgets the failures injected with `fail` that have not happened yet */
  readonly clearFailures: Effect.Effect<void>
  /** the next read waits until `release`; `reached` completes when it waits */
  readonly hold: Effect.Effect<{ readonly reached: Effect.Effect<void>; readonly release: Effect.Effect<void> }>
  readonly calls: Effect.Effect<number>
  readonly windows: Effect.Effect<ReadonlyArray<readonly [number, number]>>
  /** live feeds opened: the position asked for, and when */
  readonly opens: Effect.Effect<ReadonlyArray<{ readonly position: number | undefined; readonly at: number }>>
}

export class TestSource extends Context.Tag("test/TestSource")<TestSource, TestSourceShape>() {}

const contactsOf = (o: SourceOptions, qi: number, quarter: number, now: number): Array<ContactEvent> => {
  const q = quarter / QUARTER
  if (unit(o.seed, 1, qi, q) >= o.active) return []
  const corrected = o.corrections !== undefined && unit(o.seed, 3, qi, q) < o.corrections.share &&
    now >= quarter + QUARTER + o.corrections.delayMs
  const count = Math.floor(unit(o.seed, 2, qi, q) * (2 * o.mean + 1)) + (corrected ? 1 : 0)
  const out: Array<ContactEvent> = []
  for (let k = 0; k < count; k++) {
    const second = k === 0 && unit(o.seed, 4, qi, q) < 0.3 ? 0 : Math.floor(unit(o.seed, 5, qi, q, k) * 900)
    const timestamp = quarter + second * 1000
    if (timestamp >= now) continue
    const handled = unit(o.seed, 6, qi, q, k) < 0.8
    out.push({
      queueIdentifier: `q${qi}`,
      queueName: `Queue ${qi}`,
      channel: qi === 0 ? "calls" : "chats",
      timestamp: DateTime.unsafeMake(timestamp),
      offered: true,
      handled,
      durationMs: (30 + Math.floor(unit(o.seed, 7, qi, q, k) * 300)) * 1000 + (corrected ? 10_000 : 0)
    })
  }
  return out
}

const aggregateOf = (o: SourceOptions, qi: number, hour: number, now: number): IntervalAggregate | undefined => {
  if (hour + HOUR > now) return undefined
  const contacts = [0, 1, 2, 3].flatMap((k) => contactsOf(o, qi, hour + k * QUARTER, now))
  if (contacts.length === 0) return undefined
  const handled = contacts.filter((c) => c.handled)
  return {
    queueIdentifier: `q${qi}`,
    queueName: `Queue ${qi}`,
    channel: qi === 0 ? "calls" : "chats",
    start: DateTime.unsafeMake(hour),
    lengthMinutes: 60,
    offered: contacts.length,
    handled: handled.length,
    handlingMs: handled.reduce((n, c) => n + c.durationMs, 0),
    unhandledMs: contacts.filter((c) => !c.handled).reduce((n, c) => n + c.durationMs, 0),
    talkMs: 0,
    holdMs: 0,
    afterCallWorkMs: 0,
    waitMs: 0,
    abandoned: 0,
    shortAbandoned: 0,
    breakout: 0,
    answeredInThreshold: 0
  }
}

const cut = (o: SourceOptions, agent: number, hour: number) => hour * HOUR + Math.floor(unit(o.seed, 8, agent, hour) * 3600) * 1000
const activities = ["Ready", "Talk", "Break", "Offline"] as const

const statusesIn = (o: SourceOptions, from: number, to: number, now: number): Array<AgentStatus> => {
  const out: Array<AgentStatus> = []
  for (let agent = 0; agent < o.agents; agent++) {
    const delay = o.closeDelayMs ?? 0
    for (let h = Math.floor((from - delay) / HOUR) - 1; h <= Math.floor(to / HOUR); h++) {
      const activity = activities[Math.floor(unit(o.seed, 9, agent, h) * activities.length)]!
      const start = cut(o, agent, h)
      // the end as the source knows it now: a status whose end isn't written yet is open
      const end = cut(o, agent, h + 1) + delay <= now ? cut(o, agent, h + 1) : null
      if (activity === "Offline" || start >= to || (end !== null && end <= from) || start >= now) continue
      out.push({
        agentIdentifier: `agent-${agent}`,
        activityIdentifier: activity,
        start: DateTime.unsafeMake(start),
        end: end === null ? null : DateTime.unsafeMake(end)
      })
    }
  }
  return out
}

/** What the source holds for [from, to) at `now`. */
export const snapshot = (o: SourceOptions, from: number, to: number, now: number): Batch => {
  const upper = Math.min(to, now)
  const contacts: Array<ContactEvent> = []
  const aggregates: Array<IntervalAggregate> = []
  if (o.aggregates) {
    for (let hour = Math.ceil(from / HOUR) * HOUR; hour < upper; hour += HOUR) {
      for (let qi = 0; qi < 2; qi++) {
        const a = aggregateOf(o, qi, hour, now)
        if (a) aggregates.push(a)
      }
    }
  } else {
    for (let quarter = Math.floor(from / QUARTER) * QUARTER; quarter < upper; quarter += QUARTER) {
      for (let qi = 0; qi < 2; qi++) {
        for (const c of contactsOf(o, qi, quarter, now)) {
          const t = DateTime.toEpochMillis(c.timestamp)
          if (t >= from && t < upper) contacts.push(c)
        }
      }
    }
  }
  return { contacts, aggregates, statuses: from < upper ? statusesIn(o, from, upper, now) : [] }
}

export const makeSource = (options: Partial<SourceOptions> = {}) =>
  Effect.gen(function*() {
    const o: SourceOptions = { seed: 1, mean: 2, active: 1, agents: 2, aggregates: false, tickMs: 1000, ...options }
    const failures = yield* Ref.make<ReadonlyArray<Connector.ConnectorError>>([])
    const key = yield* Ref.make("good-key")
    const corrupt = yield* Ref.make(false)
    const broken = yield* Ref.make(false)
    const calls = yield* Ref.make(0)
    const windows = yield* Ref.make<ReadonlyArray<readonly [number, number]>>([])
    const opens = yield* Ref.make<ReadonlyArray<{ readonly position: number | undefined; readonly at: number }>>([])
    const gate = yield* Ref.make<{ reached: Deferred.Deferred<void>; release: Deferred.Deferred<void> } | undefined>(
      undefined
    )
    const admit = (given: string) =>
      Effect.gen(function*() {
        yield* Ref.update(calls, (n) => n + 1)
        const held = yield* Ref.getAndSet(gate, undefined)
        if (held) {
          yield* Deferred.succeed(held.reached, undefined)
          yield* Deferred.await(held.release)
        }
        if (yield* Ref.get(broken)) throw new TypeError("Cannot read properties of undefined (reading 'rows')")
        const injected = yield* Ref.modify(failures, (l) => [l[0], l.slice(1)] as const)
        if (injected) return yield* Effect.fail(injected)
        if (given !== (yield* Ref.get(key))) return yield* new Connector.AuthFailed({ reason: "unknown key" })
      })
    const shape: TestSourceShape = {
      options: o,
      read: (given, from, to) =>
        Effect.gen(function*() {
          yield* Ref.update(windows, (l) => [...l, [from, to] as const])
          yield* admit(given)
          const batch = snapshot(o, from, to, yield* Clock.currentTimeMillis)
          if (!(yield* Ref.get(corrupt))) return batch
          const bad: AgentStatus = {
            agentIdentifier: "agent-x",
            activityIdentifier: "Ready",
            start: DateTime.unsafeMake(from + 60_000),
            end: DateTime.unsafeMake(from + 30_000)
          }
          return { ...batch, statuses: [...batch.statuses, bad] }
        }),
      live: (given, position) =>
        Stream.unwrap(Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          yield* Ref.update(opens, (l) => [...l, { position, at }])
          yield* admit(given)
          let last = position ?? (yield* Clock.currentTimeMillis)
          return Stream.repeatEffect(Effect.gen(function*() {
            yield* Effect.sleep(o.tickMs)
            const now = yield* Clock.currentTimeMillis
            const from = last
            last = now
            if (yield* Ref.get(broken)) throw new TypeError("Cannot read properties of undefined (reading 'events')")
            const injected = yield* Ref.modify(failures, (l) => [l[0], l.slice(1)] as const)
            if (injected) return yield* Effect.fail(injected)
            const statuses = statusesIn(o, from - 2 * HOUR, now, now).filter((s) => {
              const start = DateTime.toEpochMillis(s.start)
              const end = s.end === null ? undefined : DateTime.toEpochMillis(s.end)
              return (start >= from && start < now) || (end !== undefined && end >= from && end < now)
            })
            const element: Connector.RealtimeBatch = { contacts: [], aggregates: [], statuses, position: now }
            return element
          }))
        })),
      fail: (error, times = 1) => Ref.update(failures, (l) => [...l, ...Array.from({ length: times }, () => error)]),
      setKey: (k) => Ref.set(key, k),
      setCorrupt: (on) => Ref.set(corrupt, on),
      setBroken: (on) => Ref.set(broken, on),
      clearFailures: Ref.set(failures, []),
      hold: Effect.gen(function*() {
        const reached = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        yield* Ref.set(gate, { reached, release })
        return { reached: Deferred.await(reached), release: Deferred.succeed(release, undefined).pipe(Effect.asVoid) }
      }),
      calls: Ref.get(calls),
      windows: Ref.get(windows),
      opens: Ref.get(opens)
    }
    return shape
  })

export const PullConfig = Schema.Struct({ apiKey: Schema.Redacted(Schema.String) })

/** A pull and realtime connector over `TestSource` (its `R`). */
export const testConnector = Connector.make({
  key: "test-pull",
  displayName: "Test source",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: PullConfig,
  pull: (config, window) =>
    Stream.unwrap(Effect.gen(function*() {
      const source = yield* TestSource
      const batch = yield* source.read(
        Redacted.value(config.apiKey),
        DateTime.toEpochMillis(window.from),
        DateTime.toEpochMillis(window.to)
      )
      // two pages, so the scheduler has to put a window together
      const half = Math.floor(batch.contacts.length / 2)
      return Stream.make(
        { contacts: batch.contacts.slice(0, half), aggregates: batch.aggregates, statuses: [] },
        { contacts: batch.contacts.slice(half), aggregates: [], statuses: batch.statuses }
      )
    })),
  realtime: (config, position) =>
    Stream.unwrap(Effect.map(TestSource, (source) => source.live(Redacted.value(config.apiKey), position))),
  check: () => Effect.succeed({ ok: true, items: [{ name: "source", ok: true, detail: "reachable" }] })
})

/** The engine over a memory store, with the test connector reading `source`. */
export const engineLayer = (source: TestSourceShape, storage: Layer.Layer<Storage.Storage> = Storage.layerMemory) =>
  Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        storage,
        ConnectorRegistry.layer(testConnector).pipe(Layer.provide(Layer.succeed(TestSource, source)))
      )
    )
  )

export type EngineServices = Layer.Layer.Success<ReturnType<typeof engineLayer>>

/** Starts a scheduler in its own scope, so a test can stop it ("crash") and start another. */
export const startScheduler = (options: Scheduler.Options) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const context = yield* Layer.buildWithScope(
      Scheduler.layer({ ...options, backoff: { jitter: false, ...options.backoff } }),
      scope
    )
    return {
      scheduler: Context.get(context, Scheduler.Scheduler),
      stop: Scope.close(scope, Exit.void)
    }
  })

/** Advances the TestClock in steps, letting the scheduler finish its work after each. */
export const advance = (scheduler: Scheduler.Scheduler, total: number, stepMs = 5 * 60_000) =>
  Effect.gen(function*() {
    let left = total
    yield* scheduler.awaitIdle
    while (left > 0) {
      const step = Math.min(stepMs, left)
      yield* TestClock.adjust(step)
      yield* scheduler.awaitIdle
      left -= step
    }
  })

export const createPull = (overrides: {
  readonly schedule?: Integration["schedule"]
  readonly historyDepthDays?: number
  readonly timezone?: string
  readonly config?: unknown
} = {}) =>
  Effect.flatMap(Integrations, (s) =>
    s.create(tenant, {
      name: "Pull ACD",
      connector: "test-pull",
      schedule: overrides.schedule ?? { type: "historical", everyMinutes: 15 },
      historyDepthDays: overrides.historyDepthDays ?? 1,
      timezone: overrides.timezone ?? "Europe/Berlin",
      config: overrides.config ?? { apiKey: "good-key" }
    })).pipe(Effect.map((r) => r.integration))

/** Stored intervals and segments of an integration, comparable across stores (queue ids replaced). */
export const stored = (storage: Storage.StorageShape, integration: Integration) =>
  Effect.gen(function*() {
    const queues = new Map(
      (yield* storage.queues.list({ tenantId: integration.tenantId, integrationId: integration.id })).map((q) => [
        q.id,
        `${q.identifier}/${q.name}`
      ])
    )
    const stats = yield* storage.data.intervalStats({
      tenantId: integration.tenantId,
      integrationId: integration.id,
      from: 0,
      to: Number.MAX_SAFE_INTEGER
    })
    const segments = yield* storage.data.segments({
      tenantId: integration.tenantId,
      integrationId: integration.id,
      from: 0,
      to: Number.MAX_SAFE_INTEGER
    })
    return {
      intervals: stats.map(({ queueId, integrationId: _i, ...rest }) => ({ queue: queues.get(queueId), ...rest }))
        .sort((a, b) => a.start - b.start || String(a.queue).localeCompare(String(b.queue))),
      segments: segments.map(({ integrationId: _i, ...rest }) => rest)
    }
  })

/** A clean import: one window [from, to) from the source at the current clock, into a fresh store. */
export const cleanImport = (
  source: TestSourceShape,
  integration: Integration,
  from: number,
  to: number
) =>
  Effect.gen(function*() {
    const storage = yield* Effect.provide(Storage.Storage, Storage.layerMemory)
    yield* storage.integrations.insert(integration)
    const now = yield* Clock.currentTimeMillis
    const batch = snapshot(source.options, from, to, now)
    yield* storage.data.ingest({
      integrationId: integration.id,
      batch,
      mode: "pull",
      replaceWindow: { from, to },
      stagingLimit: 1_000_000,
      now
    })
    return yield* stored(storage, integration)
  })
