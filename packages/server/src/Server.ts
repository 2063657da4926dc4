/**
 * The server: the engine over a store, every connector, the scheduler for the tenants it
 * serves, and the HTTP API. `layer(options)` is the composition a host reuses with its own
 * connectors and authenticator; `serve` is what `acd-bridge serve` runs: it reads every
 * setting from the environment (`ServerConfig`), loads the plugins, opens the database,
 * prints where it listens and runs until SIGTERM/SIGINT, then stops accepting requests, lets
 * those in flight finish, stops the scheduler and closes the store.
 *
 * ```ts
 * import { Authenticator } from "@acd-bridge/http"
 * import { Connectors, Database, Server } from "@acd-bridge/server"
 *
 * Server.layer({
 *   tenantId: "acme",
 *   connectors: [...Connectors.builtins, AcmeConnector.connector],
 *   authenticator: MyAuthenticator, // a Layer<Authenticator.Authenticator, never, Engine services>
 *   http: { port: 8080 }
 * }).pipe(
 *   Layer.provide(Server.storageFromUrl("./data/acd-bridge.sqlite")),
 *   Layer.launch,
 *   NodeRuntime.runMain
 * )
 * ```
 *
 * @since 0.1.0
 */
import type { ConnectorRegistry } from "@acd-bridge/core"
import { Domain, Engine, type Errors, Retention, Scheduler, type Storage } from "@acd-bridge/core"
import * as AdminConsole from "@acd-bridge/console"
import { Authenticator, HttpAdapter, Metrics, type Security } from "@acd-bridge/http"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as Cluster from "./Cluster.js"
import * as Connectors from "./Connectors.js"
import * as Database from "./Database.js"
import * as Logging from "./Logging.js"
import * as ServerConfig from "./ServerConfig.js"

/**
 * How the server is put together.
 *
 * @since 0.1.0 @category models
 */
export interface Options<E = never> {
  /** The tenant whose integrations the scheduler runs (the admin token's tenant). */
  readonly tenantId: string
  /** More tenants the scheduler runs. */
  readonly tenants?: ReadonlyArray<string> | undefined
  /** The connectors offered (default: `Connectors.builtins`). */
  readonly connectors?: ReadonlyArray<Connectors.ServerConnector> | undefined
  /** Who is calling: default `Authenticator.layer` with `adminToken` in `tenantId`. */
  readonly authenticator?: Layer.Layer<Authenticator.Authenticator, E, Engine.Services> | undefined
  /** The admin token of the default authenticator (needed unless `authenticator` is given). */
  readonly adminToken?: Redacted.Redacted<string> | undefined
  /** Where and how to listen (`HttpAdapter.Options`); the access log defaults to Info here. */
  readonly http?: HttpAdapter.Options | undefined
  /** The scheduler's options, or `false` for a node that only serves the API. */
  readonly scheduler?: Omit<Scheduler.Options, "tenants"> | false | undefined
  /** What the store keeps of import runs and idempotency records (`Retention.Options`), or `false` to keep everything. */
  readonly retention?: Retention.Options | false | undefined
  /**
   * `local` (default): this server also runs on-premise integrations (csv, sql, genesys-engage);
   * `link`: it leaves them to an on-premise link agent.
   */
  readonly onPremise?: ServerConfig.OnPremise | undefined
  /** Serve the admin console at `/admin` (default `true`; `@acd-bridge/console`). */
  readonly adminConsole?: boolean | undefined
  /**
   * Several servers on one PostgreSQL database (`Cluster`): the scheduler runs only the
   * integrations whose lease this node holds, and fences its commits with the lease.
   */
  readonly cluster?:
    | Omit<Cluster.Options, "tenants" | "deliveryModes"> & { readonly url: Redacted.Redacted<string> }
    | undefined
}

/**
 * What the server provides: the engine's services, its store and registry, the HTTP server
 * (its `address` tells the bound port) and, unless turned off, the scheduler.
 *
 * @since 0.1.0 @category models
 */
export type Services =
  | Engine.Services
  | ConnectorRegistry.ConnectorRegistry
  | HttpServer.HttpServer

/**
 * What code started with `serve` may use: the server's services, its store, and the scope of
 * the running server.
 *
 * @since 0.1.0 @category models
 */
export type StartedServices = Services | Storage.Storage | Scope.Scope

/**
 * No authenticator and no admin token were given.
 *
 * @since 0.1.0 @category errors
 */
export class MissingAuthenticator extends Data.TaggedError("MissingAuthenticator")<{}> {
  override get message() {
    return "Server.layer needs an authenticator or an adminToken"
  }
}

/** The delivery modes this server's scheduler runs. */
const deliveryModes = (onPremise: ServerConfig.OnPremise | undefined): ReadonlyArray<Domain.DeliveryMode> =>
  onPremise === "link" ? ["cloud"] : ["cloud", "on-premise"]

/**
 * The server over a `Storage` the host provides.
 *
 * @since 0.1.0 @category layers
 */
export const layer = <E = never>(
  options: Options<E>
): Layer.Layer<
  Services,
  | E
  | HttpServerError.ServeError
  | HttpAdapter.InsecureListen
  | MissingAuthenticator
  | Authenticator.InvalidAdminToken
  | Security.InvalidMetricsToken
  | Errors.StorageError,
  Storage.Storage
> => {
  const engine = Engine.layer.pipe(Layer.provideMerge(Connectors.registryLayer(options.connectors)))
  const tenants = [...new Set([options.tenantId, ...(options.tenants ?? [])])].map((t) => Domain.TenantId.make(t))
  // the scheduler is given to the HTTP adapter too: its re-import route and pause/resume use it
  const scheduler = Scheduler.layer({ ...options.scheduler, tenants, deliveryModes: deliveryModes(options.onPremise) })
  const core = options.scheduler === false
    ? engine
    : (options.cluster === undefined
      ? scheduler
      : scheduler.pipe(Layer.provide(
        Cluster.layerPg(options.cluster.url, {
          ...options.cluster,
          tenants,
          deliveryModes: deliveryModes(options.onPremise)
        })
      ))).pipe(Layer.provideMerge(engine))
  const authenticator: Layer.Layer<
    Authenticator.Authenticator,
    E | MissingAuthenticator | Authenticator.InvalidAdminToken,
    Engine.Services
  > =
    options.authenticator ??
      (options.adminToken === undefined
        ? Layer.fail(new MissingAuthenticator())
        : Authenticator.layer({ adminToken: options.adminToken, tenantId: options.tenantId }))
  // the console's routes join the API's router (one router per layer build), so they are
  // provided to the adapter like its handlers
  const server = HttpAdapter.layer({ accessLog: LogLevel.Info, ...options.http }).pipe(
    Layer.provide(options.adminConsole === false ? authenticator : Layer.merge(authenticator, AdminConsole.layer())),
    Layer.provideMerge(core)
  )
  const withRetention = options.retention === false ? server : Layer.merge(server, Retention.layer(options.retention))
  // one metrics registry for the HTTP adapter (/metrics) and the engine's store, so import
  // runs and storage times are counted beside the requests
  return withRetention.pipe(Layer.provide(Metrics.layerStorage), Layer.provide(Metrics.layer))
}

/**
 * The store at a database URL (`ACD_BRIDGE_DATABASE_URL`'s syntax): a SQLite file, or
 * PostgreSQL for `postgres://…`.
 *
 * @since 0.1.0 @category layers
 */
export const storageFromUrl = (
  url: string
): Layer.Layer<Storage.Storage, Database.InvalidDatabaseUrl | Errors.StorageError> =>
  Layer.unwrapEffect(Effect.map(Database.parse(url), (database) => Database.storageLayer(database)))

/**
 * What a running server tells the code started with it (`serve`'s `onStarted`).
 *
 * @since 0.1.0 @category models
 */
export interface Started {
  /** `http(s)://host:port` as clients on this machine reach it */
  readonly baseUrl: string
  readonly adminToken: Redacted.Redacted<string>
  /** the token was generated at this start (ACD_BRIDGE_ADMIN_TOKEN unset) */
  readonly adminTokenGenerated: boolean
  readonly tenantId: Domain.TenantId
  readonly settings: ServerConfig.Settings
  readonly database: Database.Database
  readonly connectors: ReadonlyArray<Connectors.ServerConnector>
}

/**
 * A setting that can't be used (a TLS file that can't be read).
 *
 * @since 0.1.0 @category errors
 */
export class SettingError extends Data.TaggedError("SettingError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

const readPem = (name: string, file: string) =>
  Effect.try({
    try: () => fs.readFileSync(file),
    catch: (cause) =>
      new SettingError({ reason: `${name}: can't read ${file}: ${cause instanceof Error ? cause.message : String(cause)}` })
  })

/** The server can't start: every reason an operator meets, said plainly. */
const describeFailure = (
  error:
    | ConfigError.ConfigError
    | Database.InvalidDatabaseUrl
    | Errors.StorageError
    | Connectors.PluginError
    | SettingError
    | HttpServerError.ServeError
    | HttpAdapter.InsecureListen
    | MissingAuthenticator
    | Authenticator.InvalidAdminToken
    | Security.InvalidMetricsToken,
  settings: Option.Option<ServerConfig.Settings>
): string => {
  if (error._tag === "ServeError" && Predicate.hasProperty(error.cause, "code") && error.cause.code === "EADDRINUSE") {
    const where = Option.match(settings, { onNone: () => "the address", onSome: (s) => `${s.host}:${s.port}` })
    return `${where} is already in use; stop the other process or set PORT`
  }
  if (ConfigError.isConfigError(error)) {
    // "(Invalid data at PORT: \"…\")" → "PORT: …"
    return String(error)
      .replace(/^\(|\)$/g, "")
      .replace(/(Invalid|Missing) data at ([^:]*): "?([^"]*)"?/g, (_, _kind, at: string, what: string) =>
        at === "" ? what : `${at}: ${what}`)
  }
  if (error._tag === "InsecureListen") {
    return `${error.message} (set ACD_BRIDGE_TLS_CERT and ACD_BRIDGE_TLS_KEY, or ACD_BRIDGE_TRUST_PROXY=true)`
  }
  return error.message
}

/**
 * `acd-bridge serve`: reads the settings, starts the server, prints where it listens (or logs
 * it, with `ACD_BRIDGE_LOG_FORMAT=json`), runs `onStarted` and waits until interrupted. A
 * failure to start is printed as one sentence and sets the exit code to 1.
 *
 * @since 0.1.0 @category programs
 */
export const serve = (
  options: {
    /** code to run once the server listens, for as long as it runs (a demo feeder) */
    readonly onStarted?: ((started: Started) => Effect.Effect<void, never, StartedServices>) | undefined
    /** what the banner calls the program */
    readonly title?: string | undefined
  } = {}
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const settingsOrError = yield* Effect.either(ServerConfig.config)
    const settings = Option.getRight(settingsOrError)
    const program = Effect.gen(function*() {
      const config = yield* settingsOrError
      const database = yield* Database.parse(config.databaseUrl)
      const cluster = yield* Cluster.config
      if (Option.isSome(cluster) && database._tag !== "Postgres") {
        return yield* new SettingError({ reason: "ACD_BRIDGE_CLUSTER=true needs a PostgreSQL ACD_BRIDGE_DATABASE_URL" })
      }
      const plugins = yield* Connectors.load(config.plugins)
      const connectors = [...Connectors.builtins, ...plugins]
      const generated = Option.isNone(config.adminToken)
      const adminToken = Option.getOrElse(
        config.adminToken,
        () => Redacted.make(`acda_${randomBytes(24).toString("base64url")}`)
      )
      const tls = Option.isSome(config.tlsCert) && Option.isSome(config.tlsKey)
        ? { cert: yield* readPem("ACD_BRIDGE_TLS_CERT", config.tlsCert.value), key: yield* readPem("ACD_BRIDGE_TLS_KEY", config.tlsKey.value) }
        : undefined
      const server = layer({
        tenantId: config.tenant,
        tenants: config.tenants,
        connectors,
        adminToken,
        onPremise: config.onPremise,
        scheduler: config.scheduler ? { pollInterval: config.pollInterval } : false,
        cluster: Option.isSome(cluster) && database._tag === "Postgres"
          ? {
            url: database.url,
            nodeId: cluster.value.nodeId,
            leaseTtl: cluster.value.leaseTtl,
            renewEvery: Option.getOrUndefined(cluster.value.renewEvery)
          }
          : undefined,
        retention: retentionOf(config),
        http: {
          port: config.port,
          host: config.host,
          tls,
          trustProxy: config.trustProxy,
          maxBodyBytes: config.maxBodyBytes,
          shutdownGrace: config.shutdownGrace,
          metrics: metricsOf(config)
        }
      }).pipe(Layer.provideMerge(Database.storageLayer(database)))

      yield* Effect.gen(function*() {
        const address = (yield* HttpServer.HttpServer).address
        const port = address._tag === "TcpAddress" ? address.port : config.port
        const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
        const baseUrl = `${tls === undefined ? "http" : "https"}://${
          shownHost.includes(":") ? `[${shownHost}]` : shownHost
        }:${port}`
        const started: Started = {
          baseUrl,
          adminToken,
          adminTokenGenerated: generated,
          tenantId: Domain.TenantId.make(config.tenant),
          settings: config,
          database,
          connectors
        }
        yield* announce(started, options.title ?? "acd-bridge")
        if (options.onStarted) yield* options.onStarted(started)
        yield* Effect.addFinalizer(() => Effect.logInfo(`${options.title ?? "acd-bridge"}: shutting down`))
        return yield* Effect.never
      }).pipe(Effect.scoped, Effect.provide(server))
    })
    yield* program.pipe(
      Effect.catchAll((error) =>
        Effect.zipRight(
          Console.error(`${options.title ?? "acd-bridge"}: ${describeFailure(error, settings)}`),
          Effect.sync(() => {
            process.exitCode = 1
          })
        )
      ),
      Effect.provide(
        Option.match(settings, {
          onNone: () => Layer.empty,
          onSome: (s) => Logging.layer({ format: s.logFormat, level: s.logLevel })
        })
      )
    )
  })

/** Who reads `/metrics` besides the admin routes' tokens: the metrics token, for every tenant served. */
const metricsOf = (settings: ServerConfig.Settings): Security.MetricsAccess => ({
  token: Option.getOrUndefined(settings.metricsToken),
  tenants: [settings.tenant, ...settings.tenants]
})

/** The retention options of the settings. */
const retentionOf = (settings: ServerConfig.Settings): Retention.Options => ({
  runs: { maxAge: settings.retainRuns, keep: settings.retainRunsKeep },
  interval: settings.retentionInterval
})

/** Where the server listens and what it runs: a banner on a terminal, one log line in JSON mode. */
const announce = (started: Started, title: string) =>
  Effect.gen(function*() {
    const { database, settings } = started
    const scheduler = settings.scheduler
      ? `on, ${settings.onPremise === "local" ? "cloud and on-premise integrations" : "cloud integrations (on-premise: link)"}, tenants ${
        [settings.tenant, ...settings.tenants].join(", ")
      }`
      : "off"
    if (settings.logFormat === "json" || settings.logFormat === "logfmt") {
      yield* Effect.logInfo(`${title} listening on ${started.baseUrl}`).pipe(Effect.annotateLogs({
        url: started.baseUrl,
        storage: Database.describe(database),
        tenant: settings.tenant,
        connectors: started.connectors.map((c) => c.key).join(","),
        scheduler
      }))
      if (started.adminTokenGenerated) {
        // never into the structured log: that goes to log stores; a terminal reads stderr
        yield* Console.error(
          `admin token (generated; set ACD_BRIDGE_ADMIN_TOKEN to keep one): ${Redacted.value(started.adminToken)}`
        )
      }
      return
    }
    yield* Console.log([
      "",
      `${title} listening on ${started.baseUrl}`,
      `  storage: ${Database.describe(database)}`,
      started.adminTokenGenerated
        ? `  admin token (generated; set ACD_BRIDGE_ADMIN_TOKEN to keep one): ${Redacted.value(started.adminToken)}`
        : "  admin token: from ACD_BRIDGE_ADMIN_TOKEN",
      `  tenant: ${settings.tenant}`,
      `  connectors: ${started.connectors.map((c) => c.key).join(", ")}`,
      `  scheduler: ${scheduler}`,
      `  API description: ${started.baseUrl}/openapi.json`,
      `  admin console: ${started.baseUrl}/admin`
    ].join("\n"))
  })

/**
 * Settings as `Server.layer` options, for hosts that read `ServerConfig.config` themselves.
 *
 * @since 0.1.0 @category constructors
 */
export const optionsFromSettings = (
  settings: ServerConfig.Settings,
  extra: { readonly connectors?: ReadonlyArray<Connectors.ServerConnector> | undefined } = {}
): Options => ({
  tenantId: settings.tenant,
  tenants: settings.tenants,
  connectors: extra.connectors,
  adminToken: Option.getOrUndefined(settings.adminToken),
  onPremise: settings.onPremise,
  scheduler: settings.scheduler ? { pollInterval: Duration.toMillis(settings.pollInterval) } : false,
  retention: retentionOf(settings),
  http: {
    port: settings.port,
    host: settings.host,
    trustProxy: settings.trustProxy,
    maxBodyBytes: settings.maxBodyBytes,
    shutdownGrace: settings.shutdownGrace,
    metrics: metricsOf(settings)
  }
})
