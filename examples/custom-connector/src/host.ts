/**
 * A host that registers the Acme connector with the engine and lets the scheduler import:
 * the first connect reads a week of history, then every 15 minutes the newest interval.
 *
 * Runs against the simulator: `pnpm --filter @acd-bridge/example-custom-connector start`.
 * Against a real Acme, provide `FetchHttpClient.layer` (`@effect/platform`) instead of
 * `AcmeSimulator.layer()`.
 */
import { ConnectorRegistry, Domain, Engine, Integrations, Intervals, Scheduler, Storage } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as HttpClient from "@effect/platform/HttpClient"
import { AcmeClients, connector } from "./AcmeConnector.js"
import * as AcmeSimulator from "./AcmeSimulator.js"

export const tenantId = Domain.TenantId.make("demo")

/**
 * The engine with the Acme connector, over `http` (the simulator or `FetchHttpClient.layer`),
 * and its scheduler; the connector's HTTP clients (`AcmeClients`) live as long as the engine.
 */
export const HostLayer = (
  http: Layer.Layer<HttpClient.HttpClient>
): Layer.Layer<Scheduler.Scheduler | Engine.Services | Storage.Storage | ConnectorRegistry.ConnectorRegistry> => {
  const engine = Engine.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(connector).pipe(Layer.provide(Layer.merge(http, AcmeClients.Default)))))
  )
  return Scheduler.layer({ tenants: [tenantId] }).pipe(Layer.provideMerge(engine))
}

/** Creates the integration, waits for the first import, and reads what it brought. */
export const program: Effect.Effect<
  { readonly health: Scheduler.Health; readonly intervals: ReadonlyArray<Intervals.IntervalRow> },
  never,
  Integrations.Integrations | Scheduler.Scheduler | Intervals.Intervals
> = Effect.gen(function*() {
  const { integration } = yield* (yield* Integrations.Integrations).create(tenantId, {
    name: "Acme",
    connector: "acme",
    timezone: "Europe/Berlin",
    historyDepthDays: 7,
    config: { baseUrl: "https://acme.example", token: AcmeSimulator.token }
  })
  const scheduler = yield* Scheduler.Scheduler
  yield* scheduler.wake(tenantId, integration.id)
  yield* scheduler.awaitIdle
  const health = yield* scheduler.health(tenantId, integration.id)
  const now = yield* DateTime.now
  const intervals = yield* (yield* Intervals.Intervals).query(tenantId, {
    integrationId: integration.id,
    from: DateTime.subtract(now, { days: 1 }),
    to: now,
    length: 60,
    timezone: "Europe/Berlin"
  })
  return { health, intervals }
}).pipe(Effect.orDie)

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(
    Effect.provide(HostLayer(AcmeSimulator.layer())),
    Logger.withMinimumLogLevel(LogLevel.Info),
    Effect.runPromise
  ).then(({ health, intervals }) => {
    process.stdout.write(
      `history: ${health.history?.windowsDone}/${health.history?.windowsTotal} days, lag ${
        Math.round((health.lagMs ?? 0) / 60_000)
      } min\n`
    )
    process.stdout.write(`${JSON.stringify(intervals.slice(-6), null, 2)}\n`)
  })
}
