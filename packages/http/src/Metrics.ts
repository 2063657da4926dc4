/**
 * Prometheus metrics (`GET /metrics`, text format 0.0.4) with `prom-client`: one registry per
 * `Metrics` service, so two engines in one process (or one test run) never share counters.
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `acd_bridge_http_requests_total` | counter | `method`, `route` (the route's template, e.g. `/v1/integrations/{id}`), `status` |
 * | `acd_bridge_http_request_duration_seconds` | histogram | `method`, `route` |
 * | `acd_bridge_push_records_total` | counter | `kind` (`contactEvents`, `agentStatuses`), `outcome` (`accepted`, `rejected`) |
 * | `acd_bridge_import_runs_total` | counter | `kind` (`push`, `pull`, `history`, `resume`, `reimport`, `realtime`), `outcome` (`succeeded`, `failed`) |
 * | `acd_bridge_integration_lag_seconds` | gauge | `integration_id`, `connector`: now minus the committed watermark (pull integrations) |
 * | `acd_bridge_integration_failing` | gauge | `integration_id`, `connector`: 1 while marked failing |
 * | `acd_bridge_staged_records` | gauge | `integration_id`: records staged while paused |
 * | `acd_bridge_sse_subscribers` | gauge | — |
 * | `acd_bridge_storage_operation_seconds` | histogram | `operation` (`data.ingest`, `integrations.pause`…): the store's units of work |
 *
 * plus `prom-client`'s process metrics (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`…).
 *
 * The per-integration gauges are read from the store when `/metrics` is scraped, for the tenant
 * of the caller (the admin token's, a personal access token's) or, with the metrics token, the
 * tenants named in `HttpAdapter`'s `metrics.tenants`.
 *
 * Import runs and storage times are counted by `layerStorage`, which wraps the store the engine
 * uses; a host that wants them puts it between its storage layer and `Engine.layer`.
 *
 * @since 0.2.0
 */
import { Storage } from "@acd-bridge/core"
import type { Domain, Errors } from "@acd-bridge/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Prometheus from "prom-client"

/**
 * The registry and the metrics the engine updates.
 *
 * @since 0.2.0 @category models
 */
export interface MetricsShape {
  readonly registry: Prometheus.Registry
  readonly httpRequests: Prometheus.Counter<"method" | "route" | "status">
  readonly httpDuration: Prometheus.Histogram<"method" | "route">
  readonly pushRecords: Prometheus.Counter<"kind" | "outcome">
  readonly importRuns: Prometheus.Counter<"kind" | "outcome">
  readonly lag: Prometheus.Gauge<"integration_id" | "connector">
  readonly failing: Prometheus.Gauge<"integration_id" | "connector">
  readonly staged: Prometheus.Gauge<"integration_id">
  readonly sseSubscribers: Prometheus.Gauge
  readonly storageDuration: Prometheus.Histogram<"operation">
}

/**
 * The metrics service. `HttpAdapter` uses the one in context, or makes its own.
 *
 * @since 0.2.0 @category tags
 */
export class Metrics extends Context.Tag("@acd-bridge/http/Metrics")<Metrics, MetricsShape>() {}

/**
 * A fresh registry with every metric (and the process metrics).
 *
 * @since 0.2.0 @category constructors
 */
export const make: Effect.Effect<MetricsShape> = Effect.sync(() => {
  const registry = new Prometheus.Registry()
  const registers = [registry]
  Prometheus.collectDefaultMetrics({ register: registry })
  return {
    registry,
    httpRequests: new Prometheus.Counter({
      name: "acd_bridge_http_requests_total",
      help: "HTTP requests by method, route template and status",
      labelNames: ["method", "route", "status"] as const,
      registers
    }),
    httpDuration: new Prometheus.Histogram({
      name: "acd_bridge_http_request_duration_seconds",
      help: "Time to answer an HTTP request (to the start of the answer for streams)",
      labelNames: ["method", "route"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers
    }),
    pushRecords: new Prometheus.Counter({
      name: "acd_bridge_push_records_total",
      help: "Records pushed, accepted (applied or staged) or rejected (in a refused batch)",
      labelNames: ["kind", "outcome"] as const,
      registers
    }),
    importRuns: new Prometheus.Counter({
      name: "acd_bridge_import_runs_total",
      help: "Import runs recorded, by kind and outcome",
      labelNames: ["kind", "outcome"] as const,
      registers
    }),
    lag: new Prometheus.Gauge({
      name: "acd_bridge_integration_lag_seconds",
      help: "Now minus the committed watermark of a pull integration",
      labelNames: ["integration_id", "connector"] as const,
      registers
    }),
    failing: new Prometheus.Gauge({
      name: "acd_bridge_integration_failing",
      help: "1 while the integration is marked failing",
      labelNames: ["integration_id", "connector"] as const,
      registers
    }),
    staged: new Prometheus.Gauge({
      name: "acd_bridge_staged_records",
      help: "Records staged while the integration is paused",
      labelNames: ["integration_id"] as const,
      registers
    }),
    sseSubscribers: new Prometheus.Gauge({
      name: "acd_bridge_sse_subscribers",
      help: "Open agent status event streams",
      registers
    }),
    storageDuration: new Prometheus.Histogram({
      name: "acd_bridge_storage_operation_seconds",
      help: "Time of the store's units of work, by operation",
      labelNames: ["operation"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers
    })
  }
})

/**
 * The metrics service as a layer, to share between `HttpAdapter` and `layerStorage`.
 *
 * @since 0.2.0 @category layers
 */
export const layer: Layer.Layer<Metrics> = Layer.effect(Metrics, make)

const timed = <A, E, R>(metrics: MetricsShape, operation: string, effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const stop = metrics.storageDuration.startTimer({ operation })
    return Effect.ensuring(effect, Effect.sync(() => void stop()))
  })

const countRun = (metrics: MetricsShape, run: { readonly kind: Domain.ImportRunKind; readonly error: string | null }) =>
  Effect.sync(() => metrics.importRuns.inc({ kind: run.kind, outcome: run.error === null ? "succeeded" : "failed" }))

/**
 * The store with its writes timed (`acd_bridge_storage_operation_seconds`) and its import runs
 * counted (`acd_bridge_import_runs_total`): the store in context, wrapped. Put it between the
 * storage layer and `Engine.layer`:
 *
 * ```ts
 * const StorageLive = Metrics.layerStorage.pipe(Layer.provide(SqlStorage.layerSqlite({ filename })))
 * ```
 *
 * @since 0.2.0 @category layers
 */
export const layerStorage: Layer.Layer<Storage.Storage, never, Storage.Storage | Metrics> = Layer.effect(
  Storage.Storage,
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const metrics = yield* Metrics
    const i = storage.integrations
    const wrapped: Storage.StorageShape = {
      ...storage,
      integrations: {
        ...i,
        pause: (id, at) => timed(metrics, "integrations.pause", i.pause(id, at)),
        resume: (id, at, run) =>
          timed(metrics, "integrations.resume", i.resume(id, at, run)).pipe(
            Effect.tap((result) => run !== undefined && result.applied > 0 ? countRun(metrics, { kind: "resume", error: null }) : Effect.void)
          ),
        markFailing: (id, reason, at, options) =>
          timed(metrics, "integrations.markFailing", i.markFailing(id, reason, at, options)),
        update: (id, settings, at, options) => timed(metrics, "integrations.update", i.update(id, settings, at, options)),
        markDeleted: (id, at) => timed(metrics, "integrations.markDeleted", i.markDeleted(id, at))
      },
      runs: {
        ...storage.runs,
        insert: (run) => timed(metrics, "runs.insert", storage.runs.insert(run)).pipe(Effect.tap(() => countRun(metrics, run)))
      },
      cursors: {
        ...storage.cursors,
        commit: (id, change) => timed(metrics, "cursors.commit", storage.cursors.commit(id, change))
      },
      data: {
        ...storage.data,
        ingest: (request) =>
          timed(metrics, "data.ingest", storage.data.ingest(request)).pipe(
            Effect.tap((outcome) =>
              outcome._tag === "Applied" && request.run !== undefined ? countRun(metrics, request.run) : Effect.void
            )
          )
      },
      retention: { prune: (policy) => timed(metrics, "retention.prune", storage.retention.prune(policy)) }
    }
    return wrapped
  })
)

/**
 * Sets the per-integration gauges for these tenants from the store (before a scrape).
 *
 * @since 0.2.0 @category constructors
 */
export const refresh = (
  metrics: MetricsShape,
  tenants: ReadonlyArray<Domain.TenantId>,
  now: number,
  watermarkStream: string
): Effect.Effect<void, Errors.StorageError, Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    metrics.lag.reset()
    metrics.failing.reset()
    metrics.staged.reset()
    for (const tenantId of tenants) {
      for (const integration of yield* storage.integrations.list(tenantId)) {
        if (integration.status === "deleted") continue
        const labels = { integration_id: integration.id, connector: integration.connector }
        metrics.failing.set(labels, integration.failing === null ? 0 : 1)
        const watermark = yield* storage.cursors.get(integration.id, watermarkStream)
        if (watermark._tag === "Some") metrics.lag.set(labels, Math.max(0, (now - watermark.value) / 1_000))
        if (integration.status === "paused") {
          metrics.staged.set({ integration_id: integration.id }, yield* storage.integrations.stagedCount(integration.id))
        }
      }
    }
  })
