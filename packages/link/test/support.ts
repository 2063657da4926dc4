/**
 * An engine for the link's tests: the server's HTTP adapter on 127.0.0.1 over a SQLite store,
 * the scheduler in link mode, and an admin token; plus small HTTP helpers.
 */
import type { Connector } from "@acd-bridge/core"
import { ConnectorRegistry, Domain, Engine, LinkModel, LinkTasks, Scheduler, type Storage } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"

export const adminToken = "link-support-admin-token-0123456789"
export const tenantId = Domain.TenantId.make("tenant-link-support")

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- connectors of any config type register alike
type AnyConnector = Connector.Connector<any, any>

/** The engine on `port` (0: any free port); its runtime and the port it listens on. */
export const startEngine = async (options: {
  readonly file: string
  readonly connectors: ReadonlyArray<AnyConnector>
  readonly port?: number
  readonly lease?: Duration.DurationInput
  readonly pollInterval?: Duration.DurationInput
}): Promise<{ readonly runtime: ManagedRuntime.ManagedRuntime<Storage.Storage | Scheduler.Scheduler, unknown>; readonly port: number }> => {
  const core = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(
    SqlStorage.layerSqlite({ filename: options.file, synchronous: "normal" }),
    ConnectorRegistry.layer(...options.connectors),
    LinkModel.layerOnPremise("link"),
    LinkTasks.layerOptions({ lease: options.lease ?? "60 seconds" })
  )))
  const engine = Layer.merge(
    core,
    Scheduler.layer({ tenants: [tenantId], pollInterval: options.pollInterval ?? "100 millis" }).pipe(Layer.provide(core))
  )
  const runtime = ManagedRuntime.make(
    HttpAdapter.layer({ port: options.port ?? 0, host: "127.0.0.1", rateLimit: false, shutdownGrace: "10 millis" }).pipe(
      Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
      Layer.provideMerge(engine),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
  )
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  const port = address._tag === "TcpAddress" ? address.port : 0
  return { runtime, port }
}

/** An admin request; the status and the JSON body. */
export const call = async <T>(port: number, method: string, path: string, body?: unknown) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as T }
}

/** Polls `check` every 100 ms until it is true or `ms` passed; whether it became true. */
export const until = async (check: () => Promise<boolean> | boolean, ms: number) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}
