/**
 * Serves the engine over HTTP: the routes of `Api` with authentication, problem bodies,
 * body limit, per-credential rate limit, request ids and the OpenAPI document.
 *
 * - `layer(options)` listens (HTTPS with `tls`, else plain HTTP on a loopback address, or
 *   anywhere behind a TLS-terminating proxy with `trustProxy: true`).
 * - `layerApi(options)` gives the routes without a server, for hosts that serve them their own
 *   way (`HttpApiBuilder.serve()`, `HttpApiBuilder.toWebHandler`).
 *
 * Both need the engine's services (`Engine.layer` over a `Storage`) and an `Authenticator`.
 *
 * @since 0.1.0
 */
import { JsonBody } from "@acd-bridge/api-push"
import type { PushWire } from "@acd-bridge/api-push"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Http from "node:http"
import * as Https from "node:https"
import { isIP } from "node:net"
import { Api } from "./Api.js"
import type { Authenticator } from "./Authenticator.js"
import * as handlers from "./internal/handlers.js"
import * as linkHandlers from "./internal/linkHandlers.js"
import * as Limits from "./internal/limits.js"
import * as middleware from "./internal/middleware.js"
import * as Metrics from "./Metrics.js"
import * as Routes from "./internal/routes.js"
import * as Security from "./Security.js"

/**
 * Rate limits (token buckets: `burst` at once, then so many per second). Every field has a
 * default; see `docs/http-contract.md` for how the defaults follow from a 5,000-agent site.
 *
 * @since 0.1.0 @category models
 */
export interface RateLimit {
  /** Requests per second per authenticated principal (an API key, a user's token, the admin token). Default 2,000. */
  readonly requestsPerSecond?: number | undefined
  /** Requests a principal may send at once above the rate. Default 4,000. */
  readonly burst?: number | undefined
  /** Records per second pushed into one integration (by any principal). Default 20,000. */
  readonly recordsPerSecond?: number | undefined
  /** Records an integration may take at once; a batch over it is refused with 413. Default 200,000. */
  readonly recordsBurst?: number | undefined
  /** Failed authentications per second per client address. Default 1. */
  readonly failedAuthPerSecond?: number | undefined
  /** Failed authentications an address may have at once; past them its requests get 429 unchecked. Default 20. */
  readonly failedAuthBurst?: number | undefined
  /**
   * Overrides per integration: the requests of its API key and the records pushed into it.
   * A map by integration id, or a function the adapter asks on each request.
   */
  readonly integrations?:
    | Readonly<Record<string, IntegrationRateLimit>>
    | ((integrationId: string) => IntegrationRateLimit | undefined)
    | undefined
}

/**
 * An integration's own limits (unset fields take the adapter's).
 *
 * @since 0.1.0 @category models
 */
export interface IntegrationRateLimit {
  readonly requestsPerSecond?: number | undefined
  readonly burst?: number | undefined
  readonly recordsPerSecond?: number | undefined
  readonly recordsBurst?: number | undefined
}

/**
 * What the routes need to know.
 *
 * @since 0.1.0 @category models
 */
export interface ApiOptions {
  /** Largest request body in bytes; 413 above it. Default 10 MiB (10,485,760). */
  readonly maxBodyBytes?: number | undefined
  /** Deepest nesting of arrays and objects in a JSON body (its root is level 1); 400 beyond. Default 64. */
  readonly maxJsonDepth?: number | undefined
  /** Rate limits (see `RateLimit`); `false` turns them off. */
  readonly rateLimit?: RateLimit | false | undefined
  /** How far from the server's clock pushed timestamps may be. Default 5 years back, 1 day ahead. */
  readonly timestampWindow?: PushWire.AcceptanceWindow | undefined
  /**
   * Level of the one-line access log per request: method, path, route, status, duration and
   * request id, never a header, the query or a credential. Default `Info`.
   */
  readonly accessLog?: LogLevel.LogLevel | undefined
  /**
   * Longest [from, to) of `GET /v1/intervals` at 15-minute intervals; twice that at 30 minutes
   * and four times at 60 (as many intervals per queue at any length). Default 400 days (so 800
   * and 1,600 days: three years of hours fit one query).
   */
  readonly maxIntervalRangeDays?: number | undefined
  /** Most rows of a `GET /v1/intervals` answer (`fill=zero`: queues × intervals, checked first). Default 100,000. */
  readonly maxIntervalRows?: number | undefined
  /** Longest [from, to) of `GET /v1/agent-statuses`. Default 93 days. */
  readonly maxStatusRangeDays?: number | undefined
  /** Idle event streams get a comment line this often. Default 15 seconds. */
  readonly keepAlive?: Duration.DurationInput | undefined
  /** Longest a connector's check (`POST /v1/integrations/{id}/check`) may run before it is reported as not finished. Default 30 seconds. */
  readonly checkTimeout?: Duration.DurationInput | undefined
  /**
   * Who may read `/metrics` besides the admin token and personal access tokens: a metrics
   * token for a Prometheus scraper, and the tenants whose per-integration gauges it sees.
   */
  readonly metrics?: Security.MetricsAccess | undefined
  /**
   * A TLS-terminating proxy sits in front. Plain HTTP may then listen on any address, and
   * failed authentications are counted by the last address the proxy appended to
   * `X-Forwarded-For` instead of the proxy's own.
   */
  readonly trustProxy?: boolean | undefined
}

/**
 * Where and how to listen.
 *
 * @since 0.1.0 @category models
 */
export interface Options extends ApiOptions {
  /** Default 8080; 0 picks a free port (read it from `HttpServer.HttpServer`'s `address`). */
  readonly port?: number | undefined
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Serve HTTPS with this certificate and key (PEM). Without it and without `trustProxy`, only loopback addresses are allowed. */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array } | undefined
  /** How long shutdown waits for requests in flight before closing their connections. Default 5 seconds. */
  readonly shutdownGrace?: Duration.DurationInput | undefined
}

/** Default body limit: 10 MiB. @since 0.1.0 @category constants */
export const defaultMaxBodyBytes = 10 * 1024 * 1024

/** Default deepest nesting of a JSON body. @since 0.1.0 @category constants */
export const defaultMaxJsonDepth = JsonBody.defaultMaxDepth

/** Default most rows of an interval answer. @since 0.1.0 @category constants */
export const defaultMaxIntervalRows = 100_000

/**
 * Default rate limits, from the load of a 5,000-agent site (the arithmetic is in
 * `docs/http-contract.md`): its realtime feed, unbatched, peaks near 300 requests per second;
 * the request budget fits twice the 1,000 single-status requests per second the realtime
 * bench sends.
 *
 * @since 0.1.0 @category constants
 */
export const defaultRateLimit = {
  requestsPerSecond: 2_000,
  burst: 4_000,
  recordsPerSecond: 20_000,
  recordsBurst: 200_000,
  failedAuthPerSecond: 1,
  failedAuthBurst: 20
} as const satisfies RateLimit

const limitsOf = (rateLimit: RateLimit | false | undefined, trustProxy: boolean): Limits.LimitsShape => {
  if (rateLimit === false) return Limits.unlimited
  const given = rateLimit ?? {}
  const integrations = given.integrations
  return Limits.make({
    requests: {
      perSecond: given.requestsPerSecond ?? defaultRateLimit.requestsPerSecond,
      burst: given.burst ?? defaultRateLimit.burst
    },
    records: {
      perSecond: given.recordsPerSecond ?? defaultRateLimit.recordsPerSecond,
      burst: given.recordsBurst ?? defaultRateLimit.recordsBurst
    },
    failedAuth: {
      perSecond: given.failedAuthPerSecond ?? defaultRateLimit.failedAuthPerSecond,
      burst: given.failedAuthBurst ?? defaultRateLimit.failedAuthBurst
    },
    integration: typeof integrations === "function"
      ? integrations
      : (id) => (integrations !== undefined && Object.hasOwn(integrations, id) ? integrations[id] : undefined),
    trustProxy
  })
}

/**
 * Refused to listen: plain HTTP on a non-loopback address without `trustProxy`.
 *
 * @since 0.1.0 @category errors
 */
export class InsecureListen extends Data.TaggedError("InsecureListen")<{ readonly host: string }> {
  override get message() {
    return `Refusing to serve plain HTTP on ${this.host}: give a certificate (tls: {cert, key}), listen on a loopback ` +
      `address, or set trustProxy: true when a TLS-terminating proxy sits in front`
  }
}

/**
 * The engine services the routes use.
 *
 * @since 0.1.0 @category models
 */
export type Requirements = Authenticator | handlers.Requirements | linkHandlers.Requirements

/**
 * True for `localhost`, 127.0.0.0/8 and `::1`.
 *
 * @since 0.1.0 @category utils
 */
export const isLoopback = (host: string): boolean => {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "")
  if (h === "localhost") return true
  if (isIP(h) === 4) return h.startsWith("127.")
  if (isIP(h) === 6) return h === "::1" || h.startsWith("::ffff:127.")
  return false
}

/**
 * The routes (with their middleware and `/openapi.json`) as an `HttpApi.Api` layer.
 *
 * @since 0.1.0 @category layers
 */
export const layerApi = (
  options: ApiOptions = {}
): Layer.Layer<HttpApi.Api, Security.InvalidMetricsToken, Requirements> => {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
  const routeOf = Routes.make(Api, [["GET", "/openapi.json"]])
  return Layer.unwrapEffect(Effect.gen(function*() {
    // the host's metrics when it shares them with the store (Metrics.layerStorage), else the adapter's own
    const provided = yield* Effect.serviceOption(Metrics.Metrics)
    const metrics = Option.isSome(provided) ? provided.value : yield* Metrics.make
    return HttpApiBuilder.api(Api).pipe(
      Layer.provide(handlers.layer({
        maxBodyBytes,
        maxJsonDepth: options.maxJsonDepth ?? defaultMaxJsonDepth,
        maxIntervalRangeDays: options.maxIntervalRangeDays ?? 400,
        maxIntervalRows: options.maxIntervalRows ?? defaultMaxIntervalRows,
        maxStatusRangeDays: options.maxStatusRangeDays ?? 93,
        timestamps: options.timestampWindow ?? {},
        keepAliveMs: Duration.toMillis(options.keepAlive ?? "15 seconds"),
        checkTimeoutMs: Duration.toMillis(options.checkTimeout ?? "30 seconds"),
        retryMs: 3_000
      })),
      Layer.provide(linkHandlers.layer()),
      Layer.provide(Layer.mergeAll(Security.layer, Security.layerMetrics(options.metrics), linkHandlers.security)),
      Layer.provideMerge(HttpApiBuilder.middleware(middleware.make({
        maxBodyBytes,
        accessLog: options.accessLog ?? LogLevel.Info,
        metrics,
        routeOf
      }))),
      (api) => Layer.merge(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" }).pipe(Layer.provide(api)), api),
      Layer.provide(Layer.succeed(Limits.Limits, limitsOf(options.rateLimit, options.trustProxy === true))),
      Layer.provide(Layer.succeed(Metrics.Metrics, metrics))
    )
  }))
}

const listen = (options: Options) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    if (options.tls === undefined && options.trustProxy !== true && !isLoopback(host)) {
      return yield* new InsecureListen({ host })
    }
    const grace = Duration.toMillis(options.shutdownGrace ?? "5 seconds")
    return NodeHttpServer.layerContext.pipe(
      Layer.merge(Layer.scoped(
        HttpServer.HttpServer,
        Effect.gen(function*() {
          const tls = options.tls
          const server = tls === undefined
            ? Http.createServer()
            : Https.createServer({ cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) })
          const httpServer = yield* NodeHttpServer.make(() => server, { port: options.port ?? 8080, host })
          // runs before the server's own release: stop accepting, let requests in flight finish
          // for `grace`, then close what is left (event streams never finish by themselves)
          yield* Effect.addFinalizer(() =>
            Effect.async<void>((resume) => {
              server.close()
              server.closeIdleConnections()
              const deadline = Date.now() + grace
              const poll = () =>
                server.getConnections((_error, count) => {
                  if (count === 0 || Date.now() >= deadline) {
                    server.closeAllConnections()
                    resume(Effect.void)
                  } else {
                    setTimeout(poll, 50)
                  }
                })
              poll()
            })
          )
          return httpServer
        })
      ))
    )
  }))

/**
 * Listens and serves the API. The layer's `HttpServer.HttpServer` tells the bound address.
 *
 * @since 0.1.0 @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<
  HttpServer.HttpServer,
  HttpServerError.ServeError | InsecureListen | Security.InvalidMetricsToken,
  Requirements
> =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(layerApi(options)),
    Layer.provideMerge(listen(options))
  )

/**
 * `layer` as a program that runs until interrupted (e.g. by SIGINT/SIGTERM under
 * `NodeRuntime.runMain`).
 *
 * @since 0.1.0 @category constructors
 */
export const serve = (
  options: Options = {}
): Effect.Effect<never, HttpServerError.ServeError | InsecureListen | Security.InvalidMetricsToken, Requirements> =>
  Layer.launch(layer(options))
