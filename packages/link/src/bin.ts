#!/usr/bin/env node
/**
 * `acd-link run|check|status --config link.yaml`.
 *
 * @since 0.3.0
 */
import { CsvConnector } from "@acd-bridge/csv"
import { GenesysEngage } from "@acd-bridge/genesys-engage"
import { SqlConnector } from "@acd-bridge/sql-source"
import { ConnectorRegistry } from "@acd-bridge/core"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Agent from "./Agent.js"
import * as LinkConfig from "./LinkConfig.js"
import * as Outbox from "./Outbox.js"

const config = Options.file("config").pipe(
  Options.withAlias("c"),
  Options.withDescription("the link's configuration (YAML or JSON)"),
  Options.withDefault("link.yaml")
)

const registry = ConnectorRegistry.layer(CsvConnector.connector, SqlConnector.connector, GenesysEngage.connector)

const loaded = (file: string) =>
  LinkConfig.load(file).pipe(
    Effect.tapError((error) => Console.error(error.message)),
    Effect.orElse(() => Effect.sync(() => process.exit(2)))
  )

const run = Command.make("run", { config }, ({ config: file }) =>
  Effect.gen(function*() {
    const cfg = yield* loaded(file)
    yield* Agent.run(cfg).pipe(
      Effect.provide(Layer.mergeAll(Outbox.layer(cfg.outbox), registry, FetchHttpClient.layer))
    )
  })).pipe(Command.withDescription("lease the engine's tasks and run them until stopped (SIGTERM hands leases back)"))

const check = Command.make("check", { config }, ({ config: file }) =>
  Effect.gen(function*() {
    const cfg = yield* loaded(file)
    let failed = false
    const reg = yield* ConnectorRegistry.ConnectorRegistry
    for (const entry of cfg.integrations) {
      const registered = yield* reg.get(entry.connector).pipe(Effect.orDie)
      const configured = registered.configure(entry.config)
      if (Either.isLeft(configured)) {
        failed = true
        yield* Console.log(`✗ ${entry.id} (${entry.connector}): ${configured.left.message}`)
        continue
      }
      const report = yield* configured.right.check
      failed ||= !report.ok
      yield* Console.log(`${report.ok ? "✓" : "✗"} ${entry.id} (${entry.connector})`)
      for (const item of report.items) yield* Console.log(`    ${item.ok ? "✓" : "✗"} ${item.name}: ${item.detail}`)
    }
    const client = yield* Agent.makeClient(cfg)
    const engine = yield* Effect.either(client.lease(0, []))
    if (Either.isLeft(engine)) failed = true
    yield* Console.log(
      Either.isRight(engine) ? `✓ engine ${cfg.engine.url}: token accepted` : `✗ engine ${cfg.engine.url}: ${engine.left.message}`
    )
    if (failed) return yield* Effect.sync(() => process.exit(1))
  }).pipe(Effect.provide(Layer.mergeAll(registry, FetchHttpClient.layer)))).pipe(
    Command.withDescription("test every integration's connection and the engine's URL and token; non-zero exit on failure")
  )

const status = Command.make("status", { config }, ({ config: file }) =>
  Effect.gen(function*() {
    const cfg = yield* loaded(file)
    const s = yield* Agent.status.pipe(Effect.provide(Outbox.layer(cfg.outbox)))
    yield* Console.log(`outbox: ${s.depth} result(s) waiting for upload, ${s.parked.length} parked`)
    for (const p of s.parked) yield* Console.log(`  parked ${p.taskId} (${p.integrationId}, ${p.records} records): ${p.reason}`)
  })).pipe(Command.withDescription("the outbox's depth and parked results"))

const cli = Command.run(Command.make("acd-link").pipe(Command.withSubcommands([run, check, status])), {
  name: "acd-link",
  version: Agent.version
})

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
