/**
 * The example server: the engine with SQLite (or PostgreSQL) storage, the HTTP API, a demo
 * tenant with an `api-push` integration, and a demo feeder pushing realistic traffic to it.
 *
 *   pnpm start                 # from the repository root
 *   pnpm start -- --no-demo    # without the feeder
 *
 * Environment: PORT (8080), HOST (127.0.0.1), ACD_BRIDGE_DATABASE_URL (./data/acd-bridge.sqlite,
 * or postgres://…), ACD_BRIDGE_ADMIN_TOKEN (generated and printed when unset),
 * ACD_BRIDGE_TRUST_PROXY, ACD_BRIDGE_TLS_CERT / ACD_BRIDGE_TLS_KEY (PEM files),
 * ACD_BRIDGE_DEMO_SPEED (1), ACD_BRIDGE_LOG_LEVEL (Info).
 */
import { PushConnector } from "@acd-bridge/api-push"
import { ApiKeys, ConnectorRegistry, Domain, Engine, Integrations } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Predicate from "effect/Predicate"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import { mkdirSync, readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import * as Feeder from "./feeder.js"

const tenantId = Domain.TenantId.make("demo")
const demoName = "Demo ACD"
const demoTimezone = "Europe/Berlin"

const ServerConfig = Config.all({
  port: Config.integer("PORT").pipe(Config.withDefault(8080)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1")),
  databaseUrl: Config.string("ACD_BRIDGE_DATABASE_URL").pipe(Config.withDefault("./data/acd-bridge.sqlite")),
  adminToken: Config.option(Config.redacted("ACD_BRIDGE_ADMIN_TOKEN")),
  trustProxy: Config.boolean("ACD_BRIDGE_TRUST_PROXY").pipe(Config.withDefault(false)),
  tlsCert: Config.option(Config.string("ACD_BRIDGE_TLS_CERT")),
  tlsKey: Config.option(Config.string("ACD_BRIDGE_TLS_KEY")),
  demoSpeed: Config.number("ACD_BRIDGE_DEMO_SPEED").pipe(Config.withDefault(1)),
  logLevel: Config.logLevel("ACD_BRIDGE_LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
})

const isPostgres = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/** SQLite at a file path (its directory created), or PostgreSQL for postgres:// URLs. */
const storageLayer = (url: string) => {
  if (isPostgres(url)) return SqlStorage.layerPg({ url: Redacted.make(url) })
  const filename = resolve(url.replace(/^(sqlite|file):(\/\/)?/i, ""))
  mkdirSync(dirname(filename), { recursive: true })
  return SqlStorage.layerSqlite({ filename })
}

/** The demo integration: found again after a restart, created on first start. A fresh API key each start. */
const setUpDemo = Effect.gen(function*() {
  const integrations = yield* Integrations.Integrations
  const existing = (yield* integrations.list(tenantId)).find((i) =>
    i.connector === PushConnector.key && i.name === demoName && i.status !== "deleted"
  )
  const integration = existing ??
    (yield* integrations.create(tenantId, { name: demoName, connector: PushConnector.key, timezone: demoTimezone }))
      .integration
  const { apiKey } = yield* (yield* ApiKeys.ApiKeys).generate(tenantId, integration.id)
  return { integration, apiKey, created: existing === undefined }
})

const banner = (lines: ReadonlyArray<string>) => Console.log(lines.join("\n"))

const run = (options: { readonly demo: boolean }) =>
  Effect.gen(function*() {
    const config = yield* ServerConfig
    const generated = Option.isNone(config.adminToken)
    const adminToken = Option.getOrElse(config.adminToken, () => Redacted.make(`acda_${randomBytes(24).toString("base64url")}`))
    const tls = Option.isSome(config.tlsCert) && Option.isSome(config.tlsKey)
      ? { cert: readFileSync(config.tlsCert.value), key: readFileSync(config.tlsKey.value) }
      : undefined

    const engine = Engine.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(storageLayer(config.databaseUrl), ConnectorRegistry.layer(PushConnector.connector)))
    )
    const server = HttpAdapter.layer({ port: config.port, host: config.host, tls, trustProxy: config.trustProxy }).pipe(
      Layer.provide(Authenticator.layer({ adminToken, tenantId })),
      Layer.provideMerge(engine)
    )

    yield* Effect.gen(function*() {
      const address = (yield* HttpServer.HttpServer).address
      const port = address._tag === "TcpAddress" ? address.port : config.port
      const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
      const baseUrl = `${tls === undefined ? "http" : "https"}://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`
      const { apiKey, created, integration } = yield* setUpDemo
      const token = Redacted.value(adminToken)
      const now = new Date()
      const from = new Date(Math.floor((now.getTime() - 86_400_000) / 3_600_000) * 3_600_000).toISOString()
      const to = new Date(Math.ceil((now.getTime() + 900_000) / 900_000) * 900_000).toISOString()
      yield* banner([
        "",
        `acd-bridge example server listening on ${baseUrl}`,
        `  storage: ${isPostgres(config.databaseUrl) ? "PostgreSQL" : `SQLite ${resolve(config.databaseUrl)}`}`,
        generated
          ? `  admin token (generated; set ACD_BRIDGE_ADMIN_TOKEN to keep one): ${token}`
          : "  admin token: from ACD_BRIDGE_ADMIN_TOKEN",
        `  tenant: ${tenantId}`,
        `  integration ${integration.id} "${integration.name}" (${created ? "created" : "found"}, ${integration.status})`,
        `  API key (shown once; a new one is made at every start): ${apiKey}`,
        `  demo feeder: ${options.demo ? `on (speed ${config.demoSpeed})` : "off"}`,
        "",
        "Try:",
        // a token the operator chose stays theirs: point at where it is instead of printing it
        generated ? `  export TOKEN='${token}'` : "  export TOKEN=\"$ACD_BRIDGE_ADMIN_TOKEN\"",
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/integrations'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/intervals?integrationId=${integration.id}&from=${from}&to=${to}&length=60&timezone=${demoTimezone}'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/queues?integrationId=${integration.id}'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/agent-statuses?integrationId=${integration.id}&from=${from}&to=${to}'`,
        `  curl -sN -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/agent-statuses/stream'`,
        `  curl -s -X POST -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' '${baseUrl}/external-systems/contact-events' \\`,
        `    -d '{"data":[{"properties":{"offered":true,"handled":true,"duration":200.1},"queueName":"Level 1 support","queueIdentifier":"1337_99","timestamp":"${now.toISOString()}","channel":"calls"}],"meta":{"integrationConfigurationId":"${integration.id}"}}'`,
        `  open ${baseUrl}/openapi.json`,
        ""
      ])
      if (options.demo) {
        yield* Effect.forkScoped(Feeder.make({
          baseUrl,
          apiKey,
          adminToken: token,
          integrationId: integration.id,
          timezone: demoTimezone,
          speed: config.demoSpeed
        }))
      }
      yield* Effect.addFinalizer(() => Console.log("acd-bridge example server: shutting down"))
      return yield* Effect.never
    }).pipe(
      Effect.scoped,
      Effect.provide(server),
      // a taken port is an operator's everyday mistake: say what to do instead of a stack trace
      Effect.catchTag("ServeError", (error) =>
        Predicate.hasProperty(error.cause, "code") && error.cause.code === "EADDRINUSE"
          ? Console.error(
            `acd-bridge example server: ${config.host}:${config.port} is already in use; stop the other process or set PORT`
          ).pipe(Effect.zipRight(Effect.sync(() => {
            process.exitCode = 1
          })))
          : Effect.fail(error)),
      Logger.withMinimumLogLevel(config.logLevel)
    )
  })

const command = Command.make(
  "acd-bridge-example-server",
  { noDemo: Options.boolean("no-demo").pipe(Options.withDescription("Do not run the demo feeder")) },
  ({ noDemo }) => run({ demo: !noDemo })
)

const cli = Command.run(command, { name: "acd-bridge example server", version: "0.1.0" })

// `pnpm start -- --no-demo` hands the script a literal "--" first: drop it
const argv = process.argv.filter((arg, i) => !(arg === "--" && i === 2))

cli(argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
