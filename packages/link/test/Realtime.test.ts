/**
 * Realtime over the link, with a real engine on 127.0.0.1 and the agent in this process: the
 * engine offers an on-premise realtime integration's stream as a task, the link leases it and
 * streams what the source produces; statuses reach an SSE subscriber of the engine (latency
 * measured and reported; the bound asserted is generous, not a timing test). A pause ends the
 * task and closes the source's stream; resume offers it again and the link reopens the stream
 * after the last committed position.
 */
import { Connector, ConnectorRegistry, Scheduler } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Agent from "../src/Agent.js"
import type { LinkConfig } from "../src/LinkConfig.js"
import * as Outbox from "../src/Outbox.js"
import { adminToken, call, startEngine, tenantId, until } from "./support.js"

describe("acd-link: realtime", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-realtime-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("statuses produced at the source reach the engine's SSE subscribers; pause closes the stream, resume reopens it after the last position", async () => {
    // the source: an agent-state feed the test drives; it records each open (with its position) and close
    const feed = Effect.runSync(Queue.unbounded<Domain.AgentStatus & { readonly position: number }>())
    const opened: Array<number | undefined> = []
    let closed = 0
    const connector = Connector.make({
      key: "sql",
      displayName: "agent states (test)",
      deliveryModes: ["on-premise"],
      dataKinds: ["agentStatuses"],
      configSchema: Schema.Struct({ dsn: Schema.String }),
      pull: () => Stream.empty,
      realtime: (_config, position) =>
        Stream.suspend(() => {
          opened.push(position)
          return Stream.fromQueue(feed).pipe(
            Stream.map(({ position, ...status }) => ({ contacts: [], aggregates: [], statuses: [status], position })),
            Stream.ensuring(Effect.sync(() => closed++))
          )
        })
    })
    const { port, runtime } = await startEngine({ file: join(dir, "engine.sqlite"), connectors: [connector], lease: "3 seconds" })
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "site" })
    const integration = await call<{ id: string }>(port, "POST", "/v1/integrations", {
      name: "Agent states",
      connector: "sql",
      deliveryMode: "on-premise",
      dataKinds: ["agentStatuses"],
      schedule: { type: "realtime" },
      timezone: "UTC",
      historyDepthDays: 1,
      config: {}
    })
    assert.strictEqual(integration.status, 201, JSON.stringify(integration.body))
    const id = integration.body.id
    const config: LinkConfig = {
      engine: { url: `http://127.0.0.1:${port}`, token: Redacted.make(link.body.token) },
      outbox: join(dir, "outbox.sqlite"),
      wait: 1,
      watchSeconds: 10,
      partSize: 1_000,
      integrations: [{ id, connector: "sql", config: { dsn: "agent-states" } }]
    }
    const agent = Effect.runFork(Agent.run(config).pipe(Effect.provide(Layer.mergeAll(
      Outbox.layer(config.outbox),
      ConnectorRegistry.layer(connector),
      FetchHttpClient.layer,
      Logger.minimumLogLevel(LogLevel.Error)
    ))))
    // an SSE subscriber of the engine
    const subscriber = new AbortController()
    const response = await fetch(`http://127.0.0.1:${port}/v1/agent-statuses/stream?integrationId=${id}`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: subscriber.signal
    })
    assert.strictEqual(response.status, 200)
    let received = ""
    // when each agent's status arrived at the subscriber
    const arrivals = new Map<string, number>()
    const reading = (async () => {
      const decoder = new TextDecoder()
      const reader = response.body!.getReader()
      try {
        while (true) {
          const { done, value } = await reader.read()
          if (done) return
          const text = decoder.decode(value, { stream: true })
          const at = performance.now()
          received += text
          for (const m of text.matchAll(/"(agent-\d+)"/g)) if (!arrivals.has(m[1]!)) arrivals.set(m[1]!, at)
        }
      } catch {
        // aborted at the end of the test
      }
    })()
    try {
      assert.isTrue(await until(() => opened.length === 1, 20_000), "the link opens the source's stream")
      assert.strictEqual(opened[0], undefined)
      const latencies: Array<number> = []
      for (let n = 1; n <= 5; n++) {
        const sent = performance.now()
        const start = DateTime.unsafeMake(Date.now() - 1_000)
        Queue.unsafeOffer(feed, { agentIdentifier: `agent-${n}`, activityIdentifier: "READY", start, end: null, position: n })
        assert.isTrue(await until(() => received.includes(`"agent-${n}"`), 5_000), `agent-${n} reaches the subscriber`)
        latencies.push(arrivals.get(`agent-${n}`)! - sent)
      }
      // every latency is well under the bound asserted here (a generous one: machines are shared)
      assert.isTrue(latencies.every((ms) => ms < 5_000), JSON.stringify(latencies))
      console.info(`realtime over the link, source → SSE latency (ms): ${latencies.map((ms) => ms.toFixed(0)).join(", ")}`)
      const frames = received.split("\n\n").filter((f) => f.includes("event: agent-status"))
      assert.strictEqual(frames.length, 5)
      const first = JSON.parse(frames[0]!.split("data: ")[1]!) as { integrationId: string; activityIdentifier?: string }
      assert.strictEqual(first.integrationId, id)
      assert.include(frames[0]!, "READY")
      const cursor = async () =>
        (await runtime.runPromise(Effect.flatMap(Scheduler.Scheduler, (s) => s.cursor(tenantId, id))))["realtime"]
      assert.isTrue(await until(async () => (await cursor()) === 5, 5_000))

      // pause: the task ends and the link closes the source's stream
      assert.strictEqual((await call(port, "POST", `/v1/integrations/${id}/pause`)).status, 200)
      assert.isTrue(await until(() => closed === 1, 10_000), "the stream closes on pause")
      // resume: offered again, reopened after the last committed position
      assert.strictEqual((await call(port, "POST", `/v1/integrations/${id}/resume`)).status, 200)
      assert.isTrue(await until(() => opened.length === 2, 10_000), "the stream reopens on resume")
      assert.strictEqual(opened[1], 5)
      Queue.unsafeOffer(feed, {
        agentIdentifier: "agent-6",
        activityIdentifier: "BREAK",
        start: DateTime.unsafeMake(Date.now()),
        end: null,
        position: 6
      })
      assert.isTrue(await until(() => received.includes(`"agent-6"`), 5_000))
    } finally {
      subscriber.abort()
      await reading
      await Effect.runPromise(Fiber.interrupt(agent))
      await runtime.dispose()
    }
  }, 60_000)
})
