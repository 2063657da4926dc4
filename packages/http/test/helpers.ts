import { PushConnector } from "@acd-bridge/api-push"
import { AccessTokens, AgentStatuses, Connector, ConnectorRegistry, Domain, Engine, Scheduler, Storage } from "@acd-bridge/core"
import * as FakeConnector from "@acd-bridge/testkit/FakeConnector"
import * as FakeSource from "@acd-bridge/testkit/FakeSource"
import type { Errors } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Authenticator, HttpAdapter, Metrics } from "../src/index.js"

export const adminToken = "test-admin-token-0123456789abcdef"
export const tenantId = Domain.TenantId.make("tenant-a")

export interface TestServer {
  readonly url: string
  readonly runtime: ManagedRuntime.ManagedRuntime<Engine.Services | Storage.Storage | HttpServer.HttpServer, unknown>
  /** a personal access token of a user of `tenantId` */
  readonly pat: (tenant?: string) => Promise<string>
  readonly close: () => Promise<void>
}

export interface TestServerOptions extends HttpAdapter.Options {
  readonly storage?: "sqlite" | "memory" | Layer.Layer<Storage.Storage, Errors.StorageError>
  /** collect the server's log lines here (all levels) instead of printing warnings and errors */
  readonly logs?: Array<LogLine>
  /** replace the default authenticator */
  readonly authenticator?: Layer.Layer<Authenticator.Authenticator>
  /** run core's Scheduler, with testkit's fake pull connector registered (key "fake") */
  readonly scheduler?: boolean
  /** statuses kept per tenant for event-stream clients that resume */
  readonly replayLog?: number
  /** share one Metrics service between the adapter and the store (Metrics.layerStorage) */
  readonly instrumented?: boolean
}

export interface LogLine {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

/** A connector with a secret in its config, to check that secrets are never shown. */
export const secretConnector = Connector.make({
  key: "files",
  displayName: "Files",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({ folder: Schema.NonEmptyString, password: Schema.Redacted(Schema.String) })
})

/**
 * A connector with a nested secret and a check that reports what it was given (as a careless
 * source's error message would), to check that PATCH keeps secrets and reports never show them.
 */
export const nestedSecretConnector = Connector.make({
  key: "nested",
  displayName: "Nested secrets",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({
    connection: Schema.Struct({
      host: Schema.NonEmptyString,
      user: Schema.NonEmptyString,
      password: Schema.Redacted(Schema.NonEmptyString)
    }),
    region: Schema.optional(Schema.Literal("emea", "nam")),
    token: Schema.optional(Schema.Redacted(Schema.String))
  }),
  check: (config) =>
    Effect.succeed({
      ok: Redacted.value(config.connection.password) === "right-password",
      items: [{
        name: "login",
        ok: Redacted.value(config.connection.password) === "right-password",
        detail: `logged in to ${config.connection.host} as ${config.connection.user} with ${
          Redacted.value(config.connection.password)
        }`
      }]
    })
})

/** A real server on 127.0.0.1 (free port) over a fresh SQLite file (or memory). */
export const startServer = async (options: TestServerOptions = {}): Promise<TestServer> => {
  const dir = mkdtempSync(join(tmpdir(), "acd-http-"))
  const storage = options.storage === "memory"
    ? Storage.layerMemory
    : options.storage === undefined || options.storage === "sqlite"
    ? SqlStorage.layerSqlite({ filename: join(dir, "test.sqlite"), synchronous: "normal" })
    : options.storage
  const registry = options.scheduler
    ? ConnectorRegistry.layer(PushConnector.connector, secretConnector, nestedSecretConnector, FakeConnector.connector)
      .pipe(Layer.provide(FakeSource.layer({ seed: 1 })))
    : ConnectorRegistry.layer(PushConnector.connector, secretConnector, nestedSecretConnector)
  // the same layer value in both places: one Metrics service, shared by the store and the adapter
  const store = options.instrumented ? Metrics.layerStorage.pipe(Layer.provide(Layer.merge(storage, Metrics.layer))) : storage
  const core = Engine.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(store, registry)),
    Layer.provide(Layer.succeed(AgentStatuses.ReplayLog, { size: options.replayLog ?? 10_000 }))
  )
  const engine = options.scheduler
    ? Layer.merge(core, Scheduler.layer({ tenants: [tenantId] }).pipe(Layer.provide(core)))
    : core
  const {
    authenticator,
    instrumented: _instrumented,
    logs,
    replayLog: _replayLog,
    scheduler: _scheduler,
    storage: _storage,
    ...adapterOptions
  } = options
  const logging = logs === undefined
    ? Logger.minimumLogLevel(LogLevel.Warning)
    : Layer.merge(
      Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ annotations, logLevel, message }) => {
          logs.push({ level: logLevel.label, message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
        })
      ),
      Logger.minimumLogLevel(LogLevel.All)
    )
  const server = HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false, ...adapterOptions }).pipe(
    Layer.provide(authenticator ?? Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
    Layer.provideMerge(engine),
    Layer.provide(options.instrumented ? Metrics.layer : Layer.empty),
    Layer.provide(logging)
  )
  const runtime = ManagedRuntime.make(server)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return {
    url: `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${address.port}`,
    runtime,
    pat: (tenant = tenantId) =>
      runtime.runPromise(Effect.gen(function*() {
        const tokens = yield* AccessTokens.AccessTokens
        const created = yield* tokens.create({
          tenantId: Domain.TenantId.make(tenant),
          userId: Domain.UserId.make("user-1"),
          name: "test"
        })
        return created.token
      })),
    close: async () => {
      await runtime.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

export interface Answer<T = unknown> {
  readonly status: number
  readonly headers: Headers
  readonly body: T
}

/** One HTTP call; the body is parsed as JSON when there is one. */
export const call = async <T = unknown>(
  server: { readonly url: string },
  method: string,
  path: string,
  options: {
    readonly token?: string | undefined
    readonly body?: unknown
    readonly raw?: string | Uint8Array
    readonly headers?: Record<string, string>
  } = {}
): Promise<Answer<T>> => {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let body: string | Uint8Array | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined) headers["content-type"] ??= "application/json"
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  let parsed: unknown = text
  if (text !== "" && (response.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text)
  return { status: response.status, headers: response.headers, body: parsed as T }
}

export const admin = (server: { readonly url: string }) => ({
  get: <T = unknown>(path: string) => call<T>(server, "GET", path, { token: adminToken }),
  post: <T = unknown>(path: string, body?: unknown) => call<T>(server, "POST", path, { token: adminToken, body }),
  put: <T = unknown>(path: string, body: unknown) => call<T>(server, "PUT", path, { token: adminToken, body }),
  patch: <T = unknown>(path: string, body: unknown, headers: Record<string, string> = {}) =>
    call<T>(server, "PATCH", path, { token: adminToken, body, headers }),
  del: <T = unknown>(path: string) => call<T>(server, "DELETE", path, { token: adminToken })
})

export interface IntegrationBody {
  readonly id: string
  readonly name: string
  readonly status: string
  readonly timezone: string
  readonly warnings?: ReadonlyArray<string>
}

/** Creates an api-push integration and its API key. */
export const pushIntegration = async (server: TestServer, input: { name?: string; timezone?: string } = {}) => {
  const created = await admin(server).post<IntegrationBody>("/v1/integrations", {
    name: input.name ?? "ACD",
    connector: "api-push",
    ...(input.timezone === undefined ? {} : { timezone: input.timezone })
  })
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`)
  const key = await admin(server).post<{ apiKey: string; prefix: string }>(`/v1/integrations/${created.body.id}/api-key`)
  if (key.status !== 201) throw new Error(`api-key failed: ${key.status}`)
  return { id: created.body.id, apiKey: key.body.apiKey }
}

export interface ContactInput {
  readonly queueIdentifier?: string
  readonly queueName?: string
  readonly channel?: string
  readonly timestamp: string
  readonly offered?: boolean
  readonly handled?: boolean
  readonly duration?: number
}

export const contactRecord = (c: ContactInput) => ({
  properties: { offered: c.offered ?? true, handled: c.handled ?? true, duration: c.duration ?? 200.1 },
  queueName: c.queueName ?? "Level 1 support",
  queueIdentifier: c.queueIdentifier ?? "1337_99",
  timestamp: c.timestamp,
  channel: c.channel ?? "calls"
})

export const pushContacts = (
  server: { readonly url: string },
  token: string,
  integrationId: string | number,
  data: ReadonlyArray<unknown>,
  headers: Record<string, string> = {}
) =>
  call<{ accepted: number } | Problem>(server, "POST", "/external-systems/contact-events", {
    token,
    body: { data, meta: { integrationConfigurationId: integrationId } },
    headers
  })

export const pushStatuses = (
  server: { readonly url: string },
  token: string,
  integrationId: string | number,
  data: ReadonlyArray<unknown>,
  headers: Record<string, string> = {}
) =>
  call<{ accepted: number } | Problem>(server, "POST", "/external-systems/agent-statuses", {
    token,
    body: { data, meta: { integrationConfigurationId: integrationId, externalSystem: "test-acd" } },
    headers
  })

export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly field?: string
  readonly index?: number
}

export interface IntervalRow {
  readonly queueId: string
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: string
  readonly start: string
  readonly end: string
  readonly offered: number
  readonly handled: number
  readonly handlingSeconds: number
  readonly ahtSeconds: number | null
}

/** The interval rows of an integration, without the queue ids (which differ between integrations). */
export const intervals = async (
  server: { readonly url: string },
  integrationId: string,
  params: { from: string; to: string; length?: 15 | 30 | 60; timezone?: string; fill?: "zero" }
) => {
  const query = new URLSearchParams({ integrationId, from: params.from, to: params.to })
  if (params.length !== undefined) query.set("length", String(params.length))
  if (params.timezone !== undefined) query.set("timezone", params.timezone)
  if (params.fill !== undefined) query.set("fill", params.fill)
  const answer = await call<Array<IntervalRow>>(server, "GET", `/v1/intervals?${query}`, { token: adminToken })
  if (answer.status !== 200) throw new Error(`intervals: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body.map(({ queueId: _queueId, ...rest }) => rest)
}
