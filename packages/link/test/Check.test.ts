/**
 * `acd-link check` next to a running link: it tests the engine's URL and token without
 * changing what the engine records about the link (its `serves` list) and without leasing a
 * task the running link should get.
 */
import { ConnectorRegistry, Domain, Engine, LinkModel, LinkTasks, Storage } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlConnector } from "@acd-bridge/sql-source"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as HttpServer from "@effect/platform/HttpServer"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const adminToken = "check-test-admin-token-0123456789"
const tenantId = Domain.TenantId.make("tenant-check")
const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

const runCli = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += String(d)))
    child.stderr.on("data", (d) => (err += String(d)))
    child.on("exit", (code) => resolve({ code, out, err }))
  })

describe("acd-link check", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-check-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("keeps the link's recorded serves and leases nothing", async () => {
    const customer = join(dir, "customer.sqlite")
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE contacts (queue_id TEXT, queue_name TEXT, channel TEXT, ts TEXT, offered INTEGER, handled INTEGER, seconds REAL)`
    }).pipe(Effect.provide(SqliteClient.layer({ filename: customer }))))

    // no scheduler: the one task below is offered by hand, so nothing else moves it
    const core = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(
      SqlStorage.layerSqlite({ filename: join(dir, "engine.sqlite") }),
      ConnectorRegistry.layer(SqlConnector.connector),
      LinkModel.layerOnPremise("link")
    )))
    const runtime = ManagedRuntime.make(
      HttpAdapter.layer({ port: 0, host: "127.0.0.1", rateLimit: false }).pipe(
        Layer.provide(Authenticator.layer({ adminToken: Redacted.make(adminToken), tenantId })),
        Layer.provideMerge(core),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
      )
    )
    try {
      const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const call = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
        (await (await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })).json()) as T
      const integration = await call<{ id: string }>("POST", "/v1/integrations", {
        name: "Customer DB",
        connector: "sql",
        deliveryMode: "on-premise",
        historyDepthDays: 1,
        timezone: "UTC",
        config: {}
      })
      const link = await call<{ id: string; token: string }>("POST", "/v1/links", { name: "site-1" })
      // the running link polls for its integration, as `acd-link run` does
      const poll = await fetch(`${base}/v1/link/tasks?wait=0&max=1&integrations=${integration.id}`, {
        headers: {
          authorization: `Bearer ${link.token}`,
          [LinkModel.protocolHeader]: String(LinkModel.protocolVersion),
          [LinkModel.agentVersionHeader]: "0.3.0"
        }
      })
      assert.strictEqual(poll.status, 200)
      const servesOf = async () =>
        (await call<ReadonlyArray<{ id: string; serves: ReadonlyArray<string> }>>("GET", "/v1/links"))
          .find((l) => l.id === link.id)?.serves
      assert.deepStrictEqual(await servesOf(), [integration.id])

      // a window waits for the running link: check must not take it
      const task = await runtime.runPromise(Effect.gen(function*() {
        const tasks = yield* LinkTasks.LinkTasks
        const found = yield* Effect.flatMap(Storage.Storage, (s) => s.integrations.get(Domain.IntegrationId.make(integration.id)))
        if (found._tag === "None") return yield* Effect.die("integration not found")
        return yield* tasks.offerWindow(found.value, {
          runKind: "history",
          planTask: "history",
          from: Date.now() - 3_600_000,
          to: Date.now(),
          snapshot: new Map()
        })
      }))

      const config = join(dir, "link.yaml")
      writeFileSync(config, JSON.stringify({
        engine: { url: base, token: link.token },
        outbox: join(dir, "outbox.sqlite"),
        integrations: [{
          id: integration.id,
          connector: "sql",
          config: {
            driver: "sqlite",
            connection: { filename: customer },
            contacts: {
              query: "SELECT queue_id AS queue_identifier, queue_name, channel, ts AS timestamp, offered, handled, seconds AS duration FROM contacts WHERE ts >= :from AND ts < :to"
            }
          }
        }]
      }))
      const checked = await runCli(["check", "--config", config])
      assert.strictEqual(checked.code, 0, checked.out + checked.err)
      assert.include(checked.out, `✓ engine ${base}: token accepted`)
      assert.notInclude(checked.out + checked.err, link.token)

      assert.deepStrictEqual(await servesOf(), [integration.id])
      const after = await runtime.runPromise(Effect.flatMap(Storage.Storage, (s) => s.linkTasks.open(tenantId)))
      const same = after.find((t) => t.id === task.id)
      assert.strictEqual(same?.state, "pending")
      assert.strictEqual(same?.leasedBy ?? null, null)

      // a wrong token is still refused by check
      writeFileSync(config, JSON.stringify({
        engine: { url: base, token: "acdl_wrong" },
        outbox: join(dir, "outbox.sqlite"),
        integrations: [{ id: integration.id, connector: "sql", config: { driver: "sqlite", connection: { filename: customer }, contacts: { query: "SELECT 1" } } }]
      }))
      const refused = await runCli(["check", "--config", config])
      assert.strictEqual(refused.code, 1)
      assert.match(refused.out, /✗ engine .*401/)
    } finally {
      await runtime.dispose()
    }
  }, 180_000)
})
