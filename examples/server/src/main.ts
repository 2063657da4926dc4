/**
 * The example server: `acd-bridge` (`@acd-bridge/server`) with a demo tenant that shows every
 * way data arrives — a push integration fed by a pretend ACD over HTTP (`feeder.ts`) and a
 * cloud integration the scheduler imports from a simulated Vonage contact centre (`demo.ts`).
 *
 *   pnpm start                 # from the repository root: this file's `serve`
 *   pnpm start --no-demo       # the server alone (the demo integrations stay, unfed)
 *
 * Every other command of `acd-bridge` works here too (`migrate`, `backup`, `integrations`…).
 * Settings are the server's environment variables (`--help` lists them); this example only
 * changes the tenant's default to `demo` and adds ACD_BRIDGE_DEMO_SPEED.
 */
import { Cli, type Server } from "@acd-bridge/server"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Demo from "./demo.js"
import * as Feeder from "./feeder.js"

const demoSpeed = Config.number("ACD_BRIDGE_DEMO_SPEED").pipe(Config.withDefault(1))

const onStarted = (started: Server.Started, noDemo: boolean) =>
  Effect.gen(function*() {
    const { apiKey, created, integration } = yield* Demo.setUpPush(started)
    const vonage = noDemo ? undefined : yield* Demo.setUpVonage(started)
    const speed = yield* demoSpeed
    const token = Redacted.value(started.adminToken)
    const baseUrl = started.baseUrl
    const now = new Date()
    const from = new Date(Math.floor((now.getTime() - 86_400_000) / 3_600_000) * 3_600_000).toISOString()
    const to = new Date(Math.ceil((now.getTime() + 900_000) / 900_000) * 900_000).toISOString()
    const intervals = (id: string) =>
      `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/intervals?integrationId=${id}&from=${from}&to=${to}&length=60&timezone=${Demo.timezone}'`
    yield* Console.log([
      `  integration ${integration.id} "${integration.name}" (${created ? "created" : "found"}, ${integration.status})`,
      `  API key (shown once; a new one is made at every start): ${apiKey}`,
      `  demo feeder: ${noDemo ? "off" : `on (speed ${speed})`}`,
      vonage === undefined
        ? "  simulated Vonage: off"
        : `  integration ${vonage.integration.id} "${vonage.integration.name}" (${vonage.created ? "created" : "found"}, ${vonage.integration.status}), simulator ${vonage.simulator.url}`,
      "",
      "Try:",
      // a token the operator chose stays theirs: point at where it is instead of printing it
      started.adminTokenGenerated ? `  export TOKEN='${token}'` : "  export TOKEN=\"$ACD_BRIDGE_ADMIN_TOKEN\"",
      `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/integrations'`,
      intervals(integration.id),
      ...(vonage === undefined ? [] : [intervals(vonage.integration.id)]),
      `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/queues?integrationId=${integration.id}'`,
      `  curl -s -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/agent-statuses?integrationId=${integration.id}&from=${from}&to=${to}'`,
      `  curl -sN -H "Authorization: Bearer $TOKEN" '${baseUrl}/v1/agent-statuses/stream'`,
      `  curl -s -X POST -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' '${baseUrl}/external-systems/contact-events' \\`,
      `    -d '{"data":[{"properties":{"offered":true,"handled":true,"duration":200.1},"queueName":"Level 1 support","queueIdentifier":"1337_99","timestamp":"${now.toISOString()}","channel":"calls"}],"meta":{"integrationConfigurationId":"${integration.id}"}}'`,
      "  ACD_BRIDGE_TOKEN=$TOKEN ACD_BRIDGE_URL=" + baseUrl + " pnpm acd-bridge integrations list",
      ""
    ].join("\n"))
    if (!noDemo) {
      yield* Effect.forkScoped(Feeder.make({
        baseUrl,
        apiKey,
        adminToken: token,
        integrationId: integration.id,
        timezone: Demo.timezone,
        speed
      }))
    }
  }).pipe(
    Effect.catchAll((error) => Effect.logError("the demo could not start", error))
  )

const serve = Cli.serveWith({
  title: "acd-bridge example server",
  description:
    "Runs the server with a demo tenant: a push integration fed by a pretend ACD and a Vonage integration imported from a local simulator (--no-demo: neither feeder nor simulator). ACD_BRIDGE_DEMO_SPEED (default 1) makes the feeder n times faster.",
  options: Options.boolean("no-demo").pipe(Options.withDescription("Do not run the demo feeder and simulator")),
  onStarted
})

// the example's tenant is `demo` unless ACD_BRIDGE_TENANT says otherwise
const provider = ConfigProvider.fromEnv().pipe(
  ConfigProvider.orElse(() => ConfigProvider.fromMap(new Map([["ACD_BRIDGE_TENANT", "demo"]])))
)

Cli.run(Cli.makeWith(serve), process.argv, { name: "acd-bridge example server" }).pipe(
  Effect.withConfigProvider(provider),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
