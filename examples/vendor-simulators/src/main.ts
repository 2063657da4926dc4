/**
 * Three contact centres on loopback and one engine importing from them:
 *
 * - "Five9": the Five9 SOAP simulator (`@acd-bridge/five9/simulator`), a Call Log and Agent State
 *   Details report of a generated week;
 * - "Vonage": the Vonage Insights Stats API simulator (`@acd-bridge/vonage`);
 * - "Genesys": a Genesys Info Mart in a SQLite file (`@acd-bridge/genesys-engage`) whose ETL
 *   runs every 10 seconds;
 *
 * and the engine (SQLite storage, the scheduler running all three integrations, the HTTP API
 * on 127.0.0.1). Each simulator serves a seeded scenario that runs from two days ago to
 * tomorrow and advances with the clock, so history arrives first and new data every few
 * minutes.
 *
 *   pnpm --filter @acd-bridge/example-vendor-simulators start
 *
 * Environment: PORT (8090; 0 for a free port), ACD_BRIDGE_DATA_DIR (default: a fresh temp
 * directory, removed at exit), ACD_BRIDGE_ADMIN_TOKEN (generated and printed when unset),
 * ACD_BRIDGE_SEED (1), ACD_BRIDGE_LOG_LEVEL (Warning).
 */
import { AgentStatuses, ConnectorRegistry, Domain, Engine, Integrations, Intervals, Scheduler } from "@acd-bridge/core"
import { Five9 } from "@acd-bridge/five9"
import { Five9Simulator } from "@acd-bridge/five9/simulator"
import { GenesysEngage } from "@acd-bridge/genesys-engage"
import { GenesysSimulator } from "@acd-bridge/genesys-engage/simulator"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import { Vonage } from "@acd-bridge/vonage"
import { VonageSimulator } from "@acd-bridge/vonage/simulator"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const tenantId = Domain.TenantId.make("demo")
const timezone = "Europe/Berlin"
const HOUR = 3_600_000
const DAY = 24 * HOUR

const ExampleConfig = Config.all({
  port: Config.integer("PORT").pipe(Config.withDefault(8090)),
  dataDir: Config.option(Config.string("ACD_BRIDGE_DATA_DIR").pipe(Config.validate({
    message: "ACD_BRIDGE_DATA_DIR is empty",
    validation: (s) => s.trim().length > 0
  }))),
  adminToken: Config.option(Config.redacted("ACD_BRIDGE_ADMIN_TOKEN")),
  seed: Config.integer("ACD_BRIDGE_SEED").pipe(Config.withDefault(1)),
  logLevel: Config.logLevel("ACD_BRIDGE_LOG_LEVEL").pipe(Config.withDefault(LogLevel.Warning))
})

/** One vendor's contact centre: two queues, eight agents, two days back and one ahead. */
const scenarioOf = (seed: number, now: number, queues: ReadonlyArray<Scenario.QueueSpec>) =>
  Scenario.generate({
    seed,
    from: Math.floor((now - 2 * DAY) / HOUR) * HOUR,
    to: Math.ceil((now + DAY) / HOUR) * HOUR,
    timezone,
    queues,
    agents: 8
  })

/** The data directory: given, or a temp directory removed when the program ends. */
const dataDirectory = (given: Option.Option<string>) =>
  Option.match(given, {
    onSome: (dir) =>
      Effect.sync(() => {
        const resolved = path.resolve(dir)
        fs.mkdirSync(resolved, { recursive: true })
        return { dir: resolved, temporary: false }
      }),
    onNone: () =>
      Effect.acquireRelease(
        Effect.sync(() => ({ dir: fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-vendors-")), temporary: true })),
        ({ dir }) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
  })

interface Wanted {
  readonly name: string
  readonly connector: string
  readonly deliveryMode: Domain.DeliveryMode
  readonly config: unknown
}

/** Creates the integration, or (after a restart over the same data directory) points it at the new simulator. */
const ensureIntegration = (wanted: Wanted) =>
  Effect.gen(function*() {
    const integrations = yield* Integrations.Integrations
    const existing = (yield* integrations.list(tenantId)).find((i) =>
      i.name === wanted.name && i.connector === wanted.connector && i.status !== "deleted"
    )
    if (existing) return yield* integrations.updateConfig(tenantId, existing.id, wanted.config)
    const { integration } = yield* integrations.create(tenantId, {
      name: wanted.name,
      connector: wanted.connector,
      deliveryMode: wanted.deliveryMode,
      schedule: { type: "historical", everyMinutes: 15 },
      timezone,
      historyDepthDays: 2,
      config: wanted.config
    })
    return integration
  })

/** A line per integration: what has arrived so far. */
const status = (integrations: ReadonlyArray<Domain.Integration>) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const from = DateTime.unsafeMake(Math.floor((now - 3 * DAY) / HOUR) * HOUR)
    const to = DateTime.unsafeMake(Math.ceil((now + HOUR) / HOUR) * HOUR)
    const parts: Array<string> = []
    for (const integration of integrations) {
      const rows = yield* (yield* Intervals.Intervals).query(tenantId, {
        integrationId: integration.id,
        from,
        to,
        length: 60,
        timezone
      })
      const statuses = yield* (yield* AgentStatuses.AgentStatuses).query(tenantId, {
        integrationId: integration.id,
        from,
        to
      })
      const offered = rows.reduce((n, r) => n + r.offered, 0)
      parts.push(`${integration.name}: ${offered} contacts in ${rows.length} hourly intervals, ${statuses.length} agent states`)
    }
    yield* Console.log(`[${new Date(now).toISOString().slice(11, 19)}] ${parts.join(" | ")}`)
  })

const program = Effect.gen(function*() {
  const config = yield* ExampleConfig
  const { dir, temporary } = yield* dataDirectory(config.dataDir)
  const generated = Option.isNone(config.adminToken)
  const adminToken = Option.getOrElse(config.adminToken, () => Redacted.make(`acda_${randomBytes(24).toString("base64url")}`))
  const now = yield* Clock.currentTimeMillis

  // --- the three contact centres
  const five9Scenario = scenarioOf(config.seed, now, [
    { identifier: "sales", name: "Sales", channel: "calls", dailyPeak: 30 },
    { identifier: "support", name: "Support", channel: "calls", dailyPeak: 20, talkMeanSeconds: 360 }
  ])
  const vonageScenario = scenarioOf(config.seed + 1, now, [
    { identifier: "billing", name: "Billing", channel: "calls", dailyPeak: 25 },
    { identifier: "webchat", name: "Web Chat", channel: "chats", dailyPeak: 12 }
  ])
  const genesysScenario = scenarioOf(config.seed + 2, now, [
    { identifier: "vq-service", name: "VQ_Service", channel: "calls", dailyPeak: 30 },
    { identifier: "vq-chat", name: "VQ_Chat", channel: "chats", dailyPeak: 10 }
  ])
  const five9 = yield* Five9Simulator.make(five9Scenario, { now })
  const vonage = yield* VonageSimulator.make(vonageScenario, { now })
  const infomart = path.join(dir, "genesys-infomart.sqlite")
  fs.rmSync(infomart, { force: true })
  const genesys = yield* GenesysSimulator.makeSqlite(infomart, genesysScenario, { etlLagSeconds: 60 })
  // the simulators follow the clock: what happened by now becomes visible
  yield* Effect.forkScoped(
    Effect.flatMap(Clock.currentTimeMillis, (t) =>
      Effect.sync(() => {
        five9.setNow(t)
        vonage.setNow(t)
      })).pipe(Effect.repeat(Schedule.spaced("5 seconds")))
  )
  yield* Effect.forkScoped(GenesysSimulator.runEtl(genesys, 10))

  // --- the engine: storage, connectors, HTTP API, scheduler
  const registry = ConnectorRegistry.layer(Five9.connector, Vonage.connector, GenesysEngage.connector).pipe(
    Layer.provide(Layer.mergeAll(FetchHttpClient.layer, Five9.layer, Vonage.layer))
  )
  const engine = Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(SqlStorage.layerSqlite({ filename: path.join(dir, "acd-bridge.sqlite") }), registry)
    )
  )
  const server = HttpAdapter.layer({ port: config.port, host: "127.0.0.1" }).pipe(
    Layer.provide(Authenticator.layer({ adminToken, tenantId })),
    Layer.provideMerge(engine)
  )

  yield* Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    const port = address._tag === "TcpAddress" ? address.port : config.port
    const baseUrl = `http://127.0.0.1:${port}`
    const integrations = [
      yield* ensureIntegration({
        name: "Five9 (simulated)",
        connector: Five9.connector.key,
        deliveryMode: "cloud",
        config: five9.config()
      }),
      yield* ensureIntegration({
        name: "Vonage (simulated)",
        connector: Vonage.connector.key,
        deliveryMode: "cloud",
        config: vonage.config()
      }),
      yield* ensureIntegration({
        name: "Genesys (simulated)",
        connector: GenesysEngage.key,
        deliveryMode: "on-premise",
        config: { driver: "sqlite", connection: { filename: infomart } }
      })
    ]
    // the scheduler starts once the integrations exist; this engine also runs the on-premise one
    yield* Layer.build(Scheduler.layer({
      tenants: [tenantId],
      deliveryModes: ["cloud", "on-premise"],
      pollInterval: "5 seconds",
      backoff: { initial: "1 second", max: "30 seconds" }
    }))

    const token = Redacted.value(adminToken)
    const from = new Date(Math.floor((now - DAY) / HOUR) * HOUR).toISOString()
    const to = new Date(Math.ceil((now + HOUR) / HOUR) * HOUR).toISOString()
    yield* Console.log([
      "",
      `acd-bridge with three simulated contact centres, listening on ${baseUrl}`,
      `  data: ${dir}${temporary ? " (temporary, removed at exit; set ACD_BRIDGE_DATA_DIR to keep it)" : ""}`,
      `  Five9 SOAP simulator:   ${five9.url}`,
      `  Vonage API simulator:   ${vonage.url}`,
      `  Genesys Info Mart:      ${infomart} (SQLite, ETL every 10 s)`,
      generated
        ? `  admin token (generated; set ACD_BRIDGE_ADMIN_TOKEN to keep one): ${token}`
        : "  admin token: from ACD_BRIDGE_ADMIN_TOKEN",
      ...integrations.map((i) => `  integration ${i.id} "${i.name}" (${i.connector}, ${i.deliveryMode})`),
      "",
      "History (two days) is imported first, then every 15 minutes. Try:",
      `  export TOKEN='${token}'`,
      `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/integrations'`,
      ...integrations.flatMap((i) => [
        `  # ${i.name}`,
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/intervals?integrationId=${i.id}&from=${from}&to=${to}&length=60&timezone=${timezone}'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/agent-statuses?integrationId=${i.id}&from=${from}&to=${to}'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/integrations/${i.id}/runs'`
      ]),
      `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/queues'`,
      "",
      "Ctrl-C stops everything.",
      ""
    ].join("\n"))
    yield* Effect.addFinalizer(() => Console.log("acd-bridge vendor simulators: shutting down"))
    yield* Effect.sleep("5 seconds")
    yield* status(integrations).pipe(
      Effect.catchAll((e) => Console.log(`status: ${e.message}`)),
      Effect.repeat(Schedule.spaced("15 seconds"))
    )
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.provide(server), Logger.withMinimumLogLevel(config.logLevel))
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
