/**
 * The engine as the reliability suite runs it: a child process serving the HTTP adapter over a
 * real store (a SQLite file or a PostgreSQL database), with the default authenticator, several
 * tenants' personal access tokens, and optionally core's scheduler over testkit's fake pull
 * connector. It is what `examples/server` composes, plus what the suite needs to attack it:
 * tokens of two tenants and a scheduled pull source.
 *
 *   REL_CONFIG='{"database":"/tmp/x.sqlite",...}' node --import tsx test/reliability/support/server.ts
 *
 * When it listens it prints one line `READY {"url":…,"tokens":{…}}` on stdout. SIGTERM stops it
 * gracefully; the suite mostly uses SIGKILL.
 */
import { PushConnector } from "@acd-bridge/api-push"
import { AccessTokens, ConnectorRegistry, Domain, Engine, Scheduler } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as FakeConnector from "@acd-bridge/testkit/FakeConnector"
import * as FakeSource from "@acd-bridge/testkit/FakeSource"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import type { ServerConfig } from "./config.js"

const config = JSON.parse(process.env["REL_CONFIG"] ?? "{}") as ServerConfig

// a test process that ends without killing its child (a hook timed out mid-start) must not
// leave a server behind: exit when reparented
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent) process.exit(1)
}, 500).unref()

const millis = (ms: number | undefined) => (ms === undefined ? undefined : Duration.millis(ms))

const storage = /^postgres(ql)?:\/\//i.test(config.database)
  ? SqlStorage.layerPg({ url: Redacted.make(config.database) })
  : SqlStorage.layerSqlite({ filename: config.database, synchronous: config.synchronous ?? "full" })

const registry = config.scheduler === undefined
  ? ConnectorRegistry.layer(PushConnector.connector)
  : ConnectorRegistry.layer(PushConnector.connector, FakeConnector.connector).pipe(
    Layer.provide(FakeSource.layer({
      ...config.scheduler.source,
      latency: Duration.millis(config.scheduler.source.latencyMs ?? 0)
    }))
  )

const core = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(storage, registry)))
const engine = config.scheduler === undefined
  ? core
  : Layer.merge(
    core,
    Scheduler.layer({
      tenants: config.tenants.map((t) => Domain.TenantId.make(t)),
      chunk: millis(config.scheduler.chunkMs),
      lookback: millis(config.scheduler.lookbackMs),
      settleDelay: millis(config.scheduler.settleDelayMs),
      backoff: { initial: "200 millis", max: "2 seconds" }
    }).pipe(Layer.provide(core))
  )

const server = HttpAdapter.layer({ port: 0, host: "127.0.0.1", ...config.adapter }).pipe(
  Layer.provide(Authenticator.layer({ adminToken: Redacted.make(config.adminToken), tenantId: config.tenants[0]! })),
  Layer.provideMerge(engine)
)

const program = Effect.gen(function*() {
  const address = (yield* HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
  const tokens = yield* AccessTokens.AccessTokens
  const issued: Record<string, string> = {}
  for (const wanted of config.tokens ?? []) {
    const created = yield* tokens.create({
      tenantId: Domain.TenantId.make(wanted.tenant),
      userId: Domain.UserId.make(wanted.user),
      name: wanted.name
    })
    if (wanted.revoked === true) yield* tokens.revoke(created.record.id)
    issued[wanted.name] = created.token
  }
  process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${address.port}`, tokens: issued })}\n`)
  return yield* Effect.never
})

program.pipe(
  Effect.provide(server),
  Logger.withMinimumLogLevel(LogLevel.fromLiteral(config.logLevel ?? "Warning")),
  NodeRuntime.runMain
)
