/**
 * The realtime feed across two built servers on one PostgreSQL database
 * (ACD_BRIDGE_CLUSTER=true): statuses pushed to node A reach an event-stream subscriber on node
 * B, every one, in push order, with their content; a subscriber that comes back to node A with
 * the last event id it got from node B receives what it missed, no more.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { randomUUID } from "node:crypto"
import { performance } from "node:perf_hooks"
import { afterAll, assert, beforeAll, describe, inject, it } from "vitest"
import { adminToken, api, iso, killAll, type Running, serve, stop } from "./support.js"

declare module "vitest" {
  export interface ProvidedContext {
    acdBridgeTestPgUrl: string
  }
}

const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"] ?? inject("acdBridgeTestPgUrl")
const database = `acd_feed_${randomUUID().replace(/-/g, "")}`
const url = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  return u.toString()
})()

const admin = (text: string) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(baseUrl), maxConnections: 1 })
      yield* sql.unsafe(text)
    })).pipe(Effect.provide(Reactivity.layer))
  )

const nodes: { a?: Running; b?: Running } = {}

const start = (nodeId: string) =>
  serve({
    ACD_BRIDGE_DATABASE_URL: url,
    ACD_BRIDGE_CLUSTER: "true",
    ACD_BRIDGE_NODE_ID: nodeId,
    ACD_BRIDGE_LOG_LEVEL: "Warn"
  })

beforeAll(async () => {
  await admin(`CREATE DATABASE ${database}`)
  nodes.a = await start("feed-a")
  nodes.b = await start("feed-b")
}, 120_000)

afterAll(async () => {
  for (const node of [nodes.a, nodes.b]) if (node !== undefined && node.child.exitCode === null) await stop(node)
  killAll()
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
})

interface Received {
  readonly id: string
  readonly event: string
  readonly data: Record<string, unknown>
  readonly at: number
}

/** Subscribes on `node` and collects events until stopped. */
const subscribe = async (node: Running, integrationId: string, lastEventId?: string) => {
  const controller = new AbortController()
  const response = await fetch(`${node.url}/v1/agent-statuses/stream?integrationId=${integrationId}`, {
    headers: { authorization: `Bearer ${adminToken}`, ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
    signal: controller.signal
  })
  assert.strictEqual(response.status, 200)
  const events: Array<Received> = []
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  const done = (async () => {
    let buffer = ""
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end = buffer.indexOf("\n\n")
        while (end >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const field = (name: string) => frame.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
          const data = field("data")
          if (data !== undefined) {
            events.push({ id: field("id") ?? "", event: field("event") ?? "", data: JSON.parse(data), at: performance.now() })
          }
          end = buffer.indexOf("\n\n")
        }
      }
    } catch {
      // aborted
    }
  })()
  return {
    events,
    close: async () => {
      controller.abort()
      await done
    }
  }
}

const until = async (check: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe("the realtime feed of a cluster", () => {
  it("statuses pushed to node A reach node B's subscriber, every one, in order; Last-Event-ID resumes on either node", async () => {
    const a = nodes.a!
    const b = nodes.b!
    const integration = await api<{ id: string }>(a, "POST", "/v1/integrations", { name: "Feed", connector: "api-push" })
    assert.strictEqual(integration.status, 201)
    const key = await api<{ apiKey: string }>(a, "POST", `/v1/integrations/${integration.body.id}/api-key`)
    const now = Date.now()
    const sent = new Map<string, number>()
    const answered = new Map<string, number>()
    const push = async (agents: ReadonlyArray<string>) => {
      for (const agent of agents) sent.set(agent, performance.now())
      const response = await fetch(`${a.url}/external-systems/agent-statuses`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.body.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          data: agents.map((agent, i) => ({
            agentIdentifier: agent,
            activityIdentifier: `ACT-${agent}`,
            startTime: iso(now - 60_000 + i * 1_000),
            endTime: null
          })),
          meta: { integrationConfigurationId: integration.body.id }
        })
      })
      assert.strictEqual(response.status, 200, await response.text())
      for (const agent of agents) answered.set(agent, performance.now())
    }

    const onB = await subscribe(b, integration.body.id)
    // 60 single-status pushes and one of 40, as a feed sends them
    const first = Array.from({ length: 60 }, (_, i) => `agent-${String(i).padStart(3, "0")}`)
    for (const agent of first) await push([agent])
    const batch = Array.from({ length: 40 }, (_, i) => `agent-${String(60 + i).padStart(3, "0")}`)
    await push(batch)
    const all = [...first, ...batch]
    await until(() => onB.events.length >= all.length, 30_000, `${all.length} statuses on node B (got ${onB.events.length})`)
    await onB.close()
    assert.deepStrictEqual(onB.events.map((e) => e.event), all.map(() => "agent-status"))
    assert.deepStrictEqual(onB.events.map((e) => e.data["agentIdentifier"]), all)
    assert.deepStrictEqual(onB.events.map((e) => e.data["activityIdentifier"]), all.map((agent) => `ACT-${agent}`))
    assert.deepStrictEqual(onB.events.map((e) => e.data["integrationId"]), all.map(() => integration.body.id))
    // positions increase
    const seqs = onB.events.map((e) => Number(e.id.split("-")[1]))
    assert.deepStrictEqual([...seqs].sort((x, y) => x - y), seqs)
    assert.strictEqual(new Set(seqs).size, seqs.length)
    const latencies = onB.events.map((e) => e.at - sent.get(String(e.data["agentIdentifier"]))!).sort((x, y) => x - y)
    const afterAnswer = onB.events.map((e) => e.at - answered.get(String(e.data["agentIdentifier"]))!).sort((x, y) => x - y)
    const p50 = (xs: ReadonlyArray<number>) => xs[Math.floor(xs.length / 2)]!.toFixed(1)
    // measured, not asserted (the machine's load decides it)
    process.stderr.write(
      `cluster feed, A → B: from the push p50 ${p50(latencies)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; ` +
        `from the push's answer p50 ${p50(afterAnswer)} ms, max ${afterAnswer.at(-1)!.toFixed(1)} ms\n`
    )

    // the subscriber comes back on node A with the id it got 30 events before the end on B
    const resumeAfter = onB.events[all.length - 31]!
    const later = Array.from({ length: 5 }, (_, i) => `agent-late-${i}`)
    await push(later)
    const onA = await subscribe(a, integration.body.id, resumeAfter.id)
    await until(() => onA.events.length >= 35, 30_000, `35 statuses replayed on node A (got ${onA.events.length})`)
    // nothing more comes: a second later the count is the same
    await new Promise((r) => setTimeout(r, 1_000))
    await onA.close()
    assert.deepStrictEqual(onA.events.map((e) => e.event), Array.from({ length: 35 }, () => "agent-status"))
    assert.deepStrictEqual(onA.events.map((e) => e.data["agentIdentifier"]), [...all.slice(-30), ...later])
    // and node B resumes from node A's ids the same way
    const onB2 = await subscribe(b, integration.body.id, onA.events[29]!.id)
    await until(() => onB2.events.length >= 5, 30_000, `5 statuses replayed on node B (got ${onB2.events.length})`)
    await new Promise((r) => setTimeout(r, 500))
    await onB2.close()
    assert.deepStrictEqual(onB2.events.map((e) => e.data["agentIdentifier"]), later)
  }, 120_000)
})
