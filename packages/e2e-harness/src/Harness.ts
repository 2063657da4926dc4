/**
 * Drives a connector through the engine the way the scheduler does: one pull per window,
 * applied with `Ingest.importWindow` (replace the window, whole or not at all), then read back
 * with `Intervals.query` and `AgentStatuses.query`; or through core's Scheduler and the HTTP
 * API (`serverLayer`, `runScheduler`, `httpIntervals`).
 */
import type { Connector } from "@acd-bridge/core"
import {
  AgentStatuses,
  ConnectorRegistry,
  Domain,
  Engine,
  Ingest,
  Integrations,
  Intervals,
  Scheduler,
  type Storage
} from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Redacted from "effect/Redacted"
import { SqlStorage } from "@acd-bridge/sql-storage"
import { Scenario } from "@acd-bridge/testkit"
import { assert } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const tenant = Domain.TenantId.make("tenant-e2e")

/** A temporary directory for the layer's lifetime, removed with everything in it when the layer is released. */
const scopedTempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "acd-e2e-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The engine on a fresh SQLite file (removed afterwards) with the given connectors registered. */
export const engineLayer = <R>(
  registry: Layer.Layer<ConnectorRegistry.ConnectorRegistry, never, R>
): Layer.Layer<Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry, never, R> =>
  Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        Layer.unwrapScoped(
          Effect.map(scopedTempDir, (dir) => SqlStorage.layerSqlite({ filename: join(dir, "engine.sqlite") }))
        ).pipe(Layer.orDie),
        registry
      )
    )
  )

export const createIntegration = (
  connector: string,
  config: unknown,
  timezone: string,
  historyDepthDays?: number
): Effect.Effect<Domain.Integration, never, Integrations.Integrations> =>
  Effect.flatMap(Integrations.Integrations, (s) =>
    Effect.map(
      s.create(tenant, {
        name: `${connector} e2e`,
        connector,
        config,
        timezone,
        ...(historyDepthDays === undefined ? {} : { historyDepthDays })
      }),
      (r) => r.integration
    )).pipe(
      Effect.orDie
    )

/** Everything one pull of a window returns, as one batch. */
export const pullWindow = (
  integration: Domain.Integration,
  from: number,
  to: number
): Effect.Effect<Domain.Batch, Connector.ConnectorError, ConnectorRegistry.ConnectorRegistry> =>
  Effect.gen(function*() {
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    const registered = yield* Effect.orDie(registry.get(integration.connector))
    const configured = Either.getOrThrow(registered.configure(integration.config))
    const pull = Option.getOrThrow(configured.pull)
    const batches = yield* Stream.runCollect(
      pull({ from: DateTime.unsafeMake(from), to: DateTime.unsafeMake(to) })
    )
    const all: { contacts: Array<Domain.ContactEvent>; aggregates: Array<Domain.IntervalAggregate>; statuses: Array<Domain.AgentStatus> } = {
      contacts: [],
      aggregates: [],
      statuses: []
    }
    for (const b of batches) {
      all.contacts.push(...b.contacts)
      all.aggregates.push(...b.aggregates)
      all.statuses.push(...b.statuses)
    }
    return all as Domain.Batch
  })

/** Pulls and applies one window (replacing it). */
export const importWindow = (
  integration: Domain.Integration,
  from: number,
  to: number
): Effect.Effect<Domain.Batch, Connector.ConnectorError, ConnectorRegistry.ConnectorRegistry | Ingest.Ingest> =>
  Effect.gen(function*() {
    const batch = yield* pullWindow(integration, from, to)
    const ingest = yield* Ingest.Ingest
    yield* Effect.orDie(ingest.importWindow({ integration, batch, kind: "pull", window: { from, to } }))
    return batch
  })

/** Imports [from, to) in windows of `stepMs`. */
export const importRange = (
  integration: Domain.Integration,
  from: number,
  to: number,
  stepMs: number
): Effect.Effect<void, Connector.ConnectorError, ConnectorRegistry.ConnectorRegistry | Ingest.Ingest> =>
  Effect.gen(function*() {
    for (let s = from; s < to; s += stepMs) yield* importWindow(integration, s, Math.min(to, s + stepMs))
  })

const round = (n: number) => Math.round(n * 1000) / 1000

/** The engine's intervals in the shape `Scenario.expectedIntervals` has (ms sums). */
export const engineIntervals = (
  integration: Domain.Integration,
  from: number,
  to: number,
  length: Domain.IntervalMinutes,
  timezone: string
): Effect.Effect<Array<Scenario.ExpectedInterval>, never, Intervals.Intervals> =>
  Effect.gen(function*() {
    const rows = yield* Effect.orDie((yield* Intervals.Intervals).query(tenant, {
      integrationId: integration.id,
      from: DateTime.unsafeMake(from),
      to: DateTime.unsafeMake(to),
      length,
      timezone
    }))
    return rows.map((r) => ({
      queueIdentifier: r.queueIdentifier,
      queueName: r.queueName,
      channel: r.channel,
      start: Date.parse(r.start),
      end: Date.parse(r.end),
      offered: r.offered,
      handled: r.handled,
      handlingMs: round(r.handlingSeconds * 1000),
      unhandledMs: round(r.unhandledSeconds * 1000),
      talkMs: round(r.talkSeconds * 1000),
      holdMs: round(r.holdSeconds * 1000),
      afterCallWorkMs: round(r.afterCallWorkSeconds * 1000),
      waitMs: round(r.waitSeconds * 1000),
      abandoned: r.abandoned,
      shortAbandoned: r.shortAbandoned,
      breakout: r.breakout,
      answeredInThreshold: r.answeredInThreshold
    }))
  })

const key = (r: { queueIdentifier: string; queueName: string; channel: string; start: number }) =>
  `${r.start}|${r.queueIdentifier}|${r.queueName}|${r.channel}`

/** Every queue and interval equal, with a readable first difference. */
export const assertSameIntervals = (
  actual: ReadonlyArray<Scenario.ExpectedInterval>,
  expected: ReadonlyArray<Scenario.ExpectedInterval>
) => {
  const a = new Map(actual.map((r) => [key(r), r]))
  const e = new Map(expected.map((r) => [key(r), r]))
  for (const [k, want] of e) {
    const got = a.get(k)
    assert.isDefined(got, `missing interval ${k}`)
    assert.deepStrictEqual({ ...got! }, { ...want }, `interval ${k}`)
  }
  for (const k of a.keys()) assert.isTrue(e.has(k), `unexpected interval ${k}`)
  assert.strictEqual(actual.length, expected.length)
}

/** The engine's agent segments of the integration overlapping [from, to). */
export const engineSegments = (
  integration: Domain.Integration,
  from: number,
  to: number
): Effect.Effect<Array<Segment>, never, AgentStatuses.AgentStatuses> =>
  Effect.gen(function*() {
    const rows = yield* Effect.orDie((yield* AgentStatuses.AgentStatuses).query(tenant, {
      integrationId: integration.id,
      from: DateTime.unsafeMake(from),
      to: DateTime.unsafeMake(to)
    }))
    return rows.map((s) => ({
      agentIdentifier: s.agentIdentifier,
      activityIdentifier: s.activityIdentifier,
      start: DateTime.toEpochMillis(s.start),
      end: s.end === null ? null : DateTime.toEpochMillis(s.end)
    })).sort((x, y) =>
      (x.agentIdentifier < y.agentIdentifier ? -1 : x.agentIdentifier > y.agentIdentifier ? 1 : 0) || x.start - y.start
    )
  })

export interface Segment {
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  readonly start: number
  readonly end: number | null
}

export const assertSameSegments = (actual: ReadonlyArray<Segment>, expected: ReadonlyArray<Segment>) => {
  const n = Math.min(actual.length, expected.length)
  for (let i = 0; i < n; i++) {
    const a = actual[i]!, e = expected[i]!
    if (
      a.agentIdentifier !== e.agentIdentifier || a.activityIdentifier !== e.activityIdentifier || a.start !== e.start ||
      a.end !== e.end
    ) {
      assert.deepStrictEqual(a, e, `segment ${i}`)
    }
  }
  assert.strictEqual(actual.length, expected.length, "segment count")
}

/** What `GET /v1/intervals` answers, in the shape `Scenario.expectedIntervals` has (ms sums). */
export const httpIntervals = (
  url: string,
  token: string,
  integrationId: string,
  from: number,
  to: number,
  length: Domain.IntervalMinutes,
  timezone: string
): Effect.Effect<Array<Scenario.ExpectedInterval>> =>
  Effect.promise(async () => {
    const query = new URLSearchParams({
      integrationId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      length: String(length),
      timezone
    })
    const res = await fetch(`${url}/v1/intervals?${query.toString()}`, { headers: { authorization: `Bearer ${token}` } })
    if (res.status !== 200) throw new Error(`GET /v1/intervals: HTTP ${res.status} ${await res.text()}`)
    return (await res.json() as Array<Record<string, unknown>>).map(Scenario.intervalOfAnswer)
  })

export const adminToken = "e2e-admin-token-0123456789abcdef"

/**
 * The engine behind the HTTP API on 127.0.0.1 (a free port), with the given connectors; the
 * scheduler is started separately with `runScheduler`.
 */
export const serverLayer = <R>(
  registry: Layer.Layer<ConnectorRegistry.ConnectorRegistry, never, R>
): Layer.Layer<
  HttpServer.HttpServer | Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry,
  never,
  R
> =>
  HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId: tenant })),
    Layer.provideMerge(engineLayer(registry)),
    Layer.orDie
  )

export const serverUrl: Effect.Effect<string, never, HttpServer.HttpServer> = Effect.map(
  HttpServer.HttpServer,
  (s) => (s.address._tag === "TcpAddress" ? `http://127.0.0.1:${s.address.port}` : "")
)

/** Runs the scheduler for the tenant until it has nothing left to do, then stops it. */
export const runScheduler: Effect.Effect<
  void,
  never,
  Storage.Storage | ConnectorRegistry.ConnectorRegistry | Ingest.Ingest
> = Effect.flatMap(Scheduler.Scheduler, (s) => s.awaitIdle).pipe(
  Effect.provide(Scheduler.layer({ tenants: [tenant] }))
)
