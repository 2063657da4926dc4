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
import * as Http from "node:http"
import * as Https from "node:https"
import { isIP } from "node:net"
import { Api } from "./Api.js"
import type { Authenticator } from "./Authenticator.js"
import * as handlers from "./internal/handlers.js"
import * as middleware from "./internal/middleware.js"
import * as Security from "./Security.js"

/**
 * Per-credential token bucket: `burst` requests at once, then `requestsPerSecond`.
 *
 * @since 0.1.0 @category models
 */
export interface RateLimit {
  readonly requestsPerSecond: number
  readonly burst: number
}

/**
 * What the routes need to know.
 *
 * @since 0.1.0 @category models
 */
export interface ApiOptions {
  /** Largest request body in bytes; 413 above it. Default 10 MiB (10,485,760). */
  readonly maxBodyBytes?: number | undefined
  /** Per bearer credential (or per address without one); `false` turns it off. Default 50/s, burst 100. */
  readonly rateLimit?: RateLimit | false | undefined
  /** Level of the one-line access log per request (with its request id). Default `Debug`. */
  readonly accessLog?: LogLevel.LogLevel | undefined
  /** Longest [from, to) of `GET /v1/intervals`. Default 400 days. */
  readonly maxIntervalRangeDays?: number | undefined
  /** Longest [from, to) of `GET /v1/agent-statuses`. Default 93 days. */
  readonly maxStatusRangeDays?: number | undefined
  /** Idle event streams get a comment line this often. Default 15 seconds. */
  readonly keepAlive?: Duration.DurationInput | undefined
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
  /** Serve HTTPS with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array } | undefined
  /**
   * A TLS-terminating proxy sits in front: plain HTTP may then listen on any address.
   * Without `tls` and without this, only loopback addresses are allowed.
   */
  readonly trustProxy?: boolean | undefined
  /** How long shutdown waits for requests in flight before closing their connections. Default 5 seconds. */
  readonly shutdownGrace?: Duration.DurationInput | undefined
}

/** Default body limit: 10 MiB. @since 0.1.0 @category constants */
export const defaultMaxBodyBytes = 10 * 1024 * 1024

/** Default rate limit per credential. @since 0.1.0 @category constants */
export const defaultRateLimit: RateLimit = { requestsPerSecond: 50, burst: 100 }

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
export type Requirements = Authenticator | handlers.Requirements

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
export const layerApi = (options: ApiOptions = {}): Layer.Layer<HttpApi.Api, never, Requirements> => {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
  return HttpApiBuilder.api(Api).pipe(
    Layer.provide(handlers.layer({
      maxBodyBytes,
      maxIntervalRangeDays: options.maxIntervalRangeDays ?? 400,
      maxStatusRangeDays: options.maxStatusRangeDays ?? 93,
      keepAliveMs: Duration.toMillis(options.keepAlive ?? "15 seconds")
    })),
    Layer.provide(Security.layer),
    Layer.provideMerge(HttpApiBuilder.middleware(middleware.make({
      maxBodyBytes,
      rateLimit: options.rateLimit ?? defaultRateLimit,
      accessLog: options.accessLog ?? LogLevel.Debug
    }))),
    (api) => Layer.merge(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" }).pipe(Layer.provide(api)), api)
  )
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
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError | InsecureListen, Requirements> =>
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
): Effect.Effect<never, HttpServerError.ServeError | InsecureListen, Requirements> => Layer.launch(layer(options))
