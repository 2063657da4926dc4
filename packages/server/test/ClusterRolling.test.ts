/**
 * Three built servers on one PostgreSQL database (ACD_BRIDGE_CLUSTER=true), 60 integrations:
 * 54 pulling from the testkit's fake source (each request takes 300 ms) and 6 fed by pushes
 * that go on all the time, spread over every live node (each push with its own
 * Idempotency-Key, retried on another node when its node goes away). One node is SIGKILLed
 * while every history is still being imported; then the others are restarted one at a time
 * (SIGTERM, start, wait until it is healthy and holds its share) and the killed one comes back:
 * a rolling restart of all three, with pushes going on.
 *
 * In the end: every pulled integration's store equals what the source holds, exactly; every
 * history window was committed once and no integration's runs overlap (never two nodes at
 * once); every push that was answered 200 is stored exactly once, none twice.
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { FakeSource } from "@acd-bridge/testkit"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { type ClusterDatabase, leasesOf, makeDatabase, sleep, startNode } from "./clusterSupport.js"
import { api, type IntervalRow, iso, killAll, type Running, stop, waitFor } from "./support.js"

const PULLED = 54
const PUSHED = 6
const HISTORY_DAYS = 2
const HOUR = 3_600_000
const plugin = fileURLToPath(new URL("./fixtures/fake-plugin.mjs", import.meta.url))

let db: ClusterDatabase
const nodes = new Map<string, Running | undefined>()

const start = async (name: string) => {
  const node = await startNode(db.url, name, { ACD_BRIDGE_PLUGINS: plugin, FAKE_LATENCY_MS: "300", ACD_BRIDGE_LOG_LEVEL: "Info" })
  nodes.set(name, node)
  return node
}

const t0 = Date.now()
const phase = (what: string) => console.info(`cluster rolling test: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`)

const live = () => Array.from(nodes.values()).filter((n): n is Running => n !== undefined)

beforeAll(async () => {
  db = await makeDatabase("acd_cluster_rolling")
  await start("a")
  await Promise.all([start("b"), start("c")])
}, 120_000)

afterAll(async () => {
  for (const node of live()) if (node.child.exitCode === null && node.child.signalCode === null) await stop(node)
  killAll()
  await db?.drop()
})

/** Pushes one contact per request into the push integrations, round robin over the live nodes, until stopped. */
const pusher = (targets: ReadonlyArray<{ readonly id: string; readonly apiKey: string }>, base: number) => {
  let running = true
  let seq = 0
  let retried = 0
  /** integration → minutes (after `base`) of the contacts answered 200 */
  const accepted = new Map<string, Array<number>>(targets.map((t) => [t.id, []]))
  const worker = async (w: number) => {
    let turn = w
    while (running) {
      const n = seq++
      const target = targets[n % targets.length]!
      const minute = Math.floor(n / targets.length)
      const body = JSON.stringify({
        data: [{
          properties: { offered: true, handled: true, duration: 30 },
          queueName: "Pushed",
          queueIdentifier: "push-q",
          timestamp: iso(base + minute * 60_000),
          channel: "calls"
        }],
        meta: { integrationConfigurationId: target.id }
      })
      // the same key until a node answers: a retry of an applied push replays its answer
      for (let attempt = 0;; attempt++) {
        const nodesNow = live()
        const via = nodesNow[turn++ % nodesNow.length]!
        try {
          const response = await fetch(`${via.url}/external-systems/contact-events`, {
            method: "POST",
            headers: { authorization: `Bearer ${target.apiKey}`, "content-type": "application/json", "idempotency-key": `push-${n}` },
            body,
            signal: AbortSignal.timeout(10_000)
          })
          await response.text()
          if (response.status === 200) {
            accepted.get(target.id)!.push(minute)
            break
          }
          if (response.status < 500) throw new Error(`push ${n} refused with ${response.status}`)
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("push ")) throw error
        }
        retried++
        if (attempt > 50) throw new Error(`push ${n} found no node in 50 attempts`)
        await sleep(100)
      }
      await sleep(20)
    }
  }
  const done = Promise.all([0, 1, 2].map(worker))
  return {
    stop: async () => {
      running = false
      await done
      return { accepted, retried, sent: seq }
    }
  }
}

const historyDone = (c: Map<string, number>) => {
  const from = c.get("backfill.history.from")
  const cutoff = c.get("backfill.history.cutoff")
  const low = c.get("backfill.history.low")
  const high = c.get("backfill.history.high")
  return from !== undefined && cutoff !== undefined && low !== undefined && high !== undefined && low <= from &&
    high >= cutoff
}

const allCursors = async () => {
  const all = new Map<string, Map<string, number>>()
  for (const r of await db.query<{ integration_id: string; stream: string; value: string }>(
    `SELECT integration_id, stream, value::text AS value FROM cursors`
  )) {
    const one = all.get(r.integration_id) ?? new Map<string, number>()
    one.set(r.stream, Number(r.value))
    all.set(r.integration_id, one)
  }
  return all
}

/** Restarts a node: SIGTERM (it hands its leases back), start again, wait until it serves and holds its share. */
const restart = async (name: string, share: number) => {
  const node = nodes.get(name)!
  nodes.set(name, undefined)
  assert.strictEqual(await stop(node), 0, node.output().slice(-3_000))
  const again = await start(name)
  const health = await api(again, "GET", "/health")
  assert.strictEqual(health.status, 200)
  await waitFor(async () => {
    const held = (await leasesOf(db)).filter((l) => l.node_id === name && l.live).length
    return held >= share - 1 ? true : undefined
  }, 20_000, `${name} to take its share again`)
}

describe("three servers, 60 integrations, a kill, a restart and a rolling restart", () => {
  it("loses nothing and imports every window once", async () => {
    const [a, b, c] = [nodes.get("a")!, nodes.get("b")!, nodes.get("c")!]
    const pulled: Array<string> = []
    for (let i = 0; i < PULLED; i++) {
      const created = await api<{ id: string }>([a, b, c][i % 3]!, "POST", "/v1/integrations", {
        name: `fake ${i}`,
        connector: "fake",
        config: { apiKey: "fake-secret" },
        schedule: { type: "historical", everyMinutes: 15 },
        timezone: "UTC",
        historyDepthDays: HISTORY_DAYS,
        dataKinds: ["contacts"]
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      pulled.push(created.body.id)
    }
    const pushed: Array<{ id: string; apiKey: string }> = []
    for (let i = 0; i < PUSHED; i++) {
      const via = [a, b, c][i % 3]!
      const created = await api<{ id: string }>(via, "POST", "/v1/integrations", { name: `pushed ${i}`, connector: "api-push" })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const key = await api<{ apiKey: string }>(via, "POST", `/v1/integrations/${created.body.id}/api-key`)
      pushed.push({ id: created.body.id, apiKey: key.body.apiKey })
    }
    phase("integrations created")
    const pushBase = Math.floor(Date.now() / HOUR) * HOUR - 20 * HOUR
    const pushes = pusher(pushed, pushBase)

    // every pulled integration leased, a third on each node
    const share = Math.ceil(PULLED / 3)
    await waitFor(async () => {
      const held = (await leasesOf(db)).filter((l) => l.node_id !== null && l.live)
      return held.length === PULLED && ["a", "b", "c"].every((n) => held.filter((l) => l.node_id === n).length === share)
        ? true
        : undefined
    }, 30_000, "the leases to spread over the three nodes")

    phase("leases spread")
    // c is SIGKILLed with windows in flight: its integrations move
    await sleep(1_000)
    const ofC = (await leasesOf(db)).filter((l) => l.node_id === "c").map((l) => l.integration_id)
    c.child.kill("SIGKILL")
    nodes.set("c", undefined)
    await waitFor(async () => {
      const rows = await leasesOf(db)
      return ofC.every((id) => rows.some((r) => r.integration_id === id && r.live && r.node_id !== "c")) ? true : undefined
    }, 20_000, "c's integrations to move")

    phase("c's integrations moved")
    await waitFor(async () => {
      const all = await allCursors()
      return pulled.every((id) => historyDone(all.get(id) ?? new Map())) ? true : undefined
    }, 60_000, "every history import to finish")

    phase("every history imported")
    // later another node is restarted (SIGTERM: it gives its leases back at once), then the
    // next: a rolling restart, one node at a time, pushes going on all along; c comes back last
    await restart("a", Math.ceil(PULLED / 2))
    phase("a restarted")
    await restart("b", Math.ceil(PULLED / 2))
    phase("b restarted")
    await start("c")
    await waitFor(async () => {
      const held = (await leasesOf(db)).filter((l) => l.node_id === "c" && l.live).length
      return held >= share - 1 ? true : undefined
    }, 20_000, "c to take its share again")
    const { accepted, retried, sent } = await pushes.stop()
    console.info(`cluster rolling test: ${sent} pushes sent, ${retried} retried on another node`)

    phase("rolling restart done")
    // pushes: every one answered 200 stored exactly once (its own minute), none lost, none twice
    for (const { id } of pushed) {
      const minutes = accepted.get(id)!
      assert.isAbove(minutes.length, 0)
      const to = pushBase + (Math.max(...minutes) + 1) * 60_000
      const rows = (await api<Array<IntervalRow>>(live()[0]!, "GET", `/v1/intervals?integrationId=${id}&from=${iso(pushBase)}&to=${iso(to)}&length=15`)).body
      const stored = new Map<string, number>()
      for (const r of rows) if (r.offered > 0) stored.set(new Date(r.start).toISOString(), r.offered)
      const expected = new Map<string, number>()
      for (const m of minutes) {
        const quarter = iso(Math.floor((pushBase + m * 60_000) / 900_000) * 900_000)
        expected.set(quarter, (expected.get(quarter) ?? 0) + 1)
      }
      assert.deepStrictEqual(Object.fromEntries(stored), Object.fromEntries(expected), `pushed integration ${id}`)
      const [runs] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM import_runs WHERE integration_id = $1 AND kind = 'push'`, [id])
      assert.strictEqual(runs!.n, minutes.length, `push runs of ${id}`)
    }

    // pulled: every history window committed once; no integration's runs overlap
    const runs = await db.query<{ integration_id: string; kind: string; window_start: string | null; started_at: string; duration_ms: string }>(
      `SELECT integration_id, kind, window_start::text, started_at::text, duration_ms::text FROM import_runs WHERE error IS NULL AND kind <> 'push'`
    )
    const windows = new Map<string, number>()
    for (const r of runs.filter((r) => r.kind === "history")) {
      const key = `${r.integration_id}|${r.window_start}`
      windows.set(key, (windows.get(key) ?? 0) + 1)
    }
    assert.deepStrictEqual(Array.from(windows).filter(([, n]) => n > 1), [], "history windows committed more than once")
    assert.isAtLeast(windows.size, PULLED * HISTORY_DAYS)
    for (const id of pulled) {
      const mine = runs.filter((r) => r.integration_id === id)
        .map((r) => ({ from: Number(r.started_at), to: Number(r.started_at) + Number(r.duration_ms) }))
        .sort((x, y) => x.from - y.from)
      for (let i = 1; i < mine.length; i++) assert.isAtMost(mine[i - 1]!.to, mine[i]!.from, `two runs of ${id} overlap`)
    }

    // pulled stores equal one clean import: per queue, channel and hour, what the source holds
    const source = await Effect.runPromise(FakeSource.make({ seed: 11, agents: 0, contactsPerQuarter: 2, latency: Duration.zero }))
    const cursorsAtEnd = await allCursors()
    for (const id of pulled) {
      const cur = cursorsAtEnd.get(id)!
      const from = Math.ceil(cur.get("backfill.history.from")! / HOUR) * HOUR
      const to = Math.floor(cur.get("backfill.history.cutoff")! / HOUR) * HOUR
      const truth = await Effect.runPromise(source.truth({ from, to }))
      const expected = new Map<string, number>()
      for (const e of truth.contacts) {
        const hour = Math.floor(DateTime.toEpochMillis(e.timestamp) / HOUR) * HOUR
        const key = `${e.queueIdentifier}|${e.channel}|${iso(hour)}`
        expected.set(key, (expected.get(key) ?? 0) + (e.offered ? 1 : 0))
      }
      const rows = (await api<Array<IntervalRow>>(live()[0]!, "GET", `/v1/intervals?integrationId=${id}&from=${iso(from)}&to=${iso(to)}&length=60`)).body
      const stored = new Map<string, number>()
      for (const r of rows) if (r.offered > 0) stored.set(`${r.queueIdentifier}|${r.channel}|${new Date(r.start).toISOString()}`, r.offered)
      for (const [k, v] of Array.from(expected)) if (v === 0) expected.delete(k)
      assert.deepStrictEqual(Object.fromEntries(stored), Object.fromEntries(expected), `integration ${id}`)
    }
  }, 360_000)
})
