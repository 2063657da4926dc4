/**
 * The engine side of the end-to-end tests: core's `Engine.layer` over SQLite storage from
 * `@acd-bridge/sql-storage`, with the Genesys connector registered, and a pull loop that does
 * what a scheduler does each run: read [cursor − look-back, now) and import it as one window
 * (replace), committing the watermark with it.
 */
import {
  AgentStatuses,
  ConnectorRegistry,
  Domain,
  Engine,
  type Errors,
  Ingest,
  Integrations,
  Intervals,
  type Storage
} from "@acd-bridge/core"
import type { Connector } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as HttpServer from "@effect/platform/HttpServer"
import type { Scenario } from "@acd-bridge/testkit"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as path from "node:path"
import * as GenesysEngage from "../src/GenesysEngage.js"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import type * as GenesysSimulator from "../src/GenesysSimulator.js"

export const tenant = Domain.TenantId.make("tenant-genesys")

/** The engine over a SQLite store in `dir`. */
export const engineLayer = (
  dir: string
): Layer.Layer<Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry, Errors.StorageError> =>
  Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        SqlStorage.layerSqlite({ filename: path.join(dir, "engine.sqlite") }),
        ConnectorRegistry.layer(GenesysEngage.connector)
      )
    )
  )

export const adminToken = "genesys-e2e-admin-token-0123456789"

/** The engine with its HTTP API on a free loopback port. */
export const engineWithHttp = (
  dir: string
): Layer.Layer<
  Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry | HttpServer.HttpServer,
  unknown
> =>
  HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId: tenant })),
    Layer.provideMerge(engineLayer(dir))
  )

/** `GET /v1/intervals` of the served API. */
export const intervalsOverHttp = (query: string) =>
  Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const response = yield* Effect.promise(() =>
      fetch(`http://127.0.0.1:${port}/v1/intervals?${query}`, { headers: { authorization: `Bearer ${adminToken}` } })
    )
    const body = yield* Effect.promise(() => response.text())
    if (response.status !== 200) return yield* Effect.dieMessage(`GET /v1/intervals: ${response.status} ${body}`)
    return JSON.parse(body) as ReadonlyArray<Intervals.IntervalRow>
  })

const QUARTER = 900_000
const DAY = 86_400_000

/** Merges the batches of one pull into one. */
export const mergeBatches = (batches: Iterable<Domain.Batch>): Domain.Batch => {
  const contacts: Array<Domain.ContactEvent> = []
  const aggregates: Array<Domain.IntervalAggregate> = []
  const statuses: Array<Domain.AgentStatus> = []
  for (const b of batches) {
    contacts.push(...b.contacts)
    aggregates.push(...b.aggregates)
    statuses.push(...b.statuses)
  }
  return { contacts, aggregates, statuses }
}

/** What `setup` gives a test. */
export interface Harness {
  readonly integration: Domain.Integration
  readonly importWindow: (from: number, to: number) => Effect.Effect<Domain.Batch, Connector.ConnectorError>
  readonly run: (now: number, start: number, lookBackMs?: number) => Effect.Effect<void, Connector.ConnectorError>
  readonly intervals: (
    scenario: Scenario.Scenario,
    length: Domain.IntervalMinutes,
    tz?: string
  ) => Effect.Effect<ReadonlyArray<Intervals.IntervalRow>, Errors.InvalidRequest | Errors.StorageError, Intervals.Intervals>
  readonly segments: (
    scenario: Scenario.Scenario
  ) => Effect.Effect<
    Array<{ agentIdentifier: string; activityIdentifier: string; start: number; end: number | null }>,
    Errors.StorageError,
    AgentStatuses.AgentStatuses
  >
}

/**
 * An integration of the Genesys connector and a pull loop over it.
 */
export const setup = (
  config: GenesysConfigEncoded,
  timezone: string
): Effect.Effect<Harness, unknown, Engine.Services | ConnectorRegistry.ConnectorRegistry> =>
  Effect.gen(function*() {
    const { integration } = yield* (yield* Integrations.Integrations).create(tenant, {
      name: "Genesys Info Mart",
      connector: GenesysEngage.key,
      deliveryMode: "on-premise",
      timezone,
      config
    })
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    const configured = yield* Effect.orDie(
      Effect.flatMap(registry.get(GenesysEngage.key), (r) => r.configure(config))
    )
    const ingest = yield* Ingest.Ingest
    let cursor: number | undefined

    /** Pulls [from, to) and imports it as one window. Fails with the connector's error. */
    const importWindow = (from: number, to: number): Effect.Effect<Domain.Batch, Connector.ConnectorError> =>
      Effect.gen(function*() {
        const pull = configured.pull
        if (pull._tag === "None") return yield* Effect.dieMessage("the connector has no pull")
        const batches = yield* Stream.runCollect(pull.value({ from: DateTime.unsafeMake(from), to: DateTime.unsafeMake(to) }))
        const batch = mergeBatches(Chunk.toArray(batches))
        yield* Effect.orDie(ingest.importWindow({
          integration,
          batch,
          kind: "pull",
          window: { from, to },
          watermark: { stream: "genesys", value: to }
        }))
        return batch
      })

    /**
     * One scheduler run at `now` (the clock moves there: the connector reads open states up to
     * its present): [cursor − lookBack, now) with `now` cut to the quarter-hour.
     */
    const run = (now: number, start: number, lookBackMs = DAY) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(now)
        const to = Math.floor(now / QUARTER) * QUARTER
        const from = cursor === undefined ? start : Math.max(start, cursor - lookBackMs)
        if (to <= from) return
        yield* importWindow(from, to)
        cursor = to
      })

    const intervals = (scenario: Scenario.Scenario, length: Domain.IntervalMinutes, tz = timezone) =>
      Effect.flatMap(Intervals.Intervals, (s) =>
        s.query(tenant, {
          integrationId: integration.id,
          from: DateTime.unsafeMake(scenario.from),
          to: DateTime.unsafeMake(scenario.to),
          length,
          timezone: tz
        }))

    const segments = (scenario: Scenario.Scenario) =>
      Effect.map(
        Effect.flatMap(AgentStatuses.AgentStatuses, (s) =>
          s.query(tenant, {
            integrationId: integration.id,
            from: DateTime.unsafeMake(scenario.from),
            to: DateTime.unsafeMake(scenario.to)
          })),
        (views) =>
          views.map((v) => ({
            agentIdentifier: v.agentIdentifier,
            activityIdentifier: v.activityIdentifier,
            start: DateTime.toEpochMillis(v.start),
            end: v.end === null ? null : DateTime.toEpochMillis(v.end)
          })).sort((a, b) =>
            (a.agentIdentifier < b.agentIdentifier ? -1 : a.agentIdentifier > b.agentIdentifier ? 1 : 0) ||
            a.start - b.start
          )
      )

    return { integration, importWindow, run, intervals, segments }
  })

/** Every measure of an interval row, in core's integer ms, keyed for comparison. */
export const rowKey = (r: { queueIdentifier: string; queueName: string; channel: string; start: number }) =>
  `${r.start}|${r.queueIdentifier}|${r.queueName}|${r.channel}`

export interface Comparable {
  readonly key: string
  readonly offered: number
  readonly handled: number
  readonly handlingMs: number
  readonly unhandledMs: number
  readonly talkMs: number
  readonly holdMs: number
  readonly afterCallWorkMs: number
  readonly waitMs: number
  readonly abandoned: number
  readonly answeredInThreshold: number
}

/** An engine interval row as integer-ms measures. */
export const fromRow = (r: Intervals.IntervalRow): Comparable => ({
  key: rowKey({ ...r, start: Date.parse(r.start) }),
  offered: r.offered,
  handled: r.handled,
  handlingMs: Math.round(r.handlingSeconds * 1000),
  unhandledMs: Math.round(r.unhandledSeconds * 1000),
  talkMs: Math.round(r.talkSeconds * 1000),
  holdMs: Math.round(r.holdSeconds * 1000),
  afterCallWorkMs: Math.round(r.afterCallWorkSeconds * 1000),
  waitMs: Math.round(r.waitSeconds * 1000),
  abandoned: r.abandoned,
  answeredInThreshold: r.answeredInThreshold
})

/** An expected interval with the queue named as the Info Mart names it (RESOURCE_NAME). */
export const fromExpected = (
  sim: GenesysSimulator.GenesysSimulator,
  e: Scenario.ExpectedInterval
): Comparable => {
  const name = sim.queueName(e.queueIdentifier)
  return {
    key: rowKey({ queueIdentifier: name, queueName: name, channel: e.channel, start: e.start }),
    offered: e.offered,
    handled: e.handled,
    handlingMs: e.handlingMs,
    unhandledMs: e.unhandledMs,
    talkMs: e.talkMs,
    holdMs: e.holdMs,
    afterCallWorkMs: e.afterCallWorkMs,
    waitMs: e.waitMs,
    abandoned: e.abandoned,
    answeredInThreshold: e.answeredInThreshold
  }
}
