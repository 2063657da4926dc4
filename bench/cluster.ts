/**
 * Several engine processes on one PostgreSQL database (`ACD_BRIDGE_CLUSTER=true`, issue 18):
 * the built `acd-bridge serve` as deployed, on a fresh database of the bench's PostgreSQL server
 * (`ACD_BRIDGE_TEST_PG_URL`, or a throwaway cluster with fsync off).
 *
 * 1. **Push records/s with 1, 2 and 3 nodes**: the same work each time (BENCH_CLUSTER_RECORDS,
 *    default 200,000 contact events in batches of 1,000, BENCH_CLUSTER_CLIENTS = 6 clients, each
 *    pushing to an `api-push` integration of its own), the requests spread round-robin over
 *    the nodes. The ratio is n nodes / 1 node. Each node's CPU and PostgreSQL's (postmaster and
 *    backends, from /proc) are measured as cores busy (CPU time / wall time): on a 2-core
 *    machine the nodes and PostgreSQL share the same two cores, so adding nodes adds no CPU.
 * 2. **Scheduled windows/s**: BENCH_CLUSTER_INTEGRATIONS (default 60) integrations on the
 *    testkit's fake source (no latency), BENCH_CLUSTER_DAYS (default 7) days of history each,
 *    created at once; windows committed per second until every history is done, with 3 nodes
 *    against the same with 1 node (ratio 3 nodes / 1 node).
 * 3. **Failover**: BENCH_CLUSTER_KILLS (default 10) times, the node holding a chosen
 *    integration's lease is SIGKILLed and the time until a live node holds that lease is
 *    measured (min/median/max), then the node is started again. With the default lease
 *    settings (ACD_BRIDGE_LEASE_TTL 15 s, renewal every 5 s; target ≤ 30 s) and with a short
 *    lease (3 s, renewal every 500 ms, as the cluster test runs). `--quick`: 2 kills with the
 *    short lease and 1 with the default one, without restarts.
 */
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import pg from "pg"
import type { BuiltServer, Row } from "./_lib.js"
import {
  adminCall,
  atMost,
  cpuMsOf,
  freshDatabase,
  postgresCpuMs,
  postgresServer,
  pushBodies,
  quick,
  report,
  serveBuilt,
  size,
  spread,
  waitFor
} from "./_lib.js"

const RECORDS = size("BENCH_CLUSTER_RECORDS", 200_000, 12_000)
const BATCH = size("BENCH_BATCH", 1_000, 1_000)
const CLIENTS = size("BENCH_CLUSTER_CLIENTS", 6, 6)
const INTEGRATIONS = size("BENCH_CLUSTER_INTEGRATIONS", 60, 12)
const DAYS = size("BENCH_CLUSTER_DAYS", 7, 2)
const KILLS = size("BENCH_CLUSTER_KILLS", 10, 2)
/** the default-lease kills in --quick: one (each waits out a 15 s lease) */
const DEFAULT_KILLS = size("BENCH_CLUSTER_DEFAULT_KILLS", KILLS, 1)
const SHORT_TTL_MS = 3_000
const SHORT_RENEW_MS = 500
const plugin = fileURLToPath(new URL("../packages/server/test/fixtures/fake-plugin.mjs", import.meta.url))

// ---------------------------------------------------------------------------
// nodes
// ---------------------------------------------------------------------------

interface Lease {
  readonly short: boolean
}

let started = 0

/** A node of the cluster on `url`; a fresh node id each start (a restarted node is a new member). */
const startNode = (url: string, lease: Lease): Promise<BuiltServer & { readonly nodeId: string }> => {
  const nodeId = `node-${++started}`
  const t0 = performance.now()
  return serveBuilt({
    ACD_BRIDGE_DATABASE_URL: url,
    ACD_BRIDGE_CLUSTER: "true",
    ACD_BRIDGE_NODE_ID: nodeId,
    ACD_BRIDGE_PLUGINS: plugin,
    ACD_BRIDGE_POLL_INTERVAL: "1 second",
    FAKE_LATENCY_MS: "0",
    ...(lease.short ? { ACD_BRIDGE_LEASE_TTL: `${SHORT_TTL_MS} millis`, ACD_BRIDGE_LEASE_RENEW: `${SHORT_RENEW_MS} millis` } : {})
  }).then((s) => {
    process.stderr.write(`    ${nodeId} listening after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
    return { ...s, nodeId }
  })
}

// ---------------------------------------------------------------------------
// 1. push
// ---------------------------------------------------------------------------

interface PushResult {
  readonly recordsPerSecond: number
  readonly nodeCores: number
  readonly pgCores: number | undefined
  readonly perNodeCores: ReadonlyArray<number>
  /** this process, sending the requests */
  readonly clientCores: number
}

/** The same pushes, spread round-robin over `nodes`, into fresh integrations (one per client). */
const push = async (nodes: ReadonlyArray<BuiltServer>, backendPid: number, label: string): Promise<PushResult> => {
  const clients: Array<{ readonly key: string; readonly bodies: Array<string> }> = []
  const per = Math.ceil(RECORDS / CLIENTS)
  for (let c = 0; c < CLIENTS; c++) {
    const created = await adminCall<{ id: string }>(nodes[c % nodes.length]!, "POST", "/v1/integrations", {
      name: `push ${label} ${c}`,
      connector: "api-push"
    })
    const { apiKey } = await adminCall<{ apiKey: string }>(nodes[c % nodes.length]!, "POST", `/v1/integrations/${created.id}/api-key`)
    clients.push({ key: apiKey, bodies: pushBodies(created.id, c * per, Math.min(RECORDS, (c + 1) * per), BATCH) })
  }
  let request = 0
  const send = async (key: string, body: string) => {
    const node = nodes[request++ % nodes.length]!
    const response = await fetch(`${node.url}/external-systems/contact-events`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body
    })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`push: ${response.status} ${text.slice(0, 300)}`)
  }
  // warm-up: a few batches per client into other queues, not timed
  await Promise.all(clients.map(async (c) => {
    for (const body of c.bodies.slice(0, 3)) await send(c.key, body.replaceAll("\"q-", "\"warm-"))
  }))
  const cpu0 = nodes.map((n) => cpuMsOf(n.pid) ?? 0)
  const pg0 = postgresCpuMs(backendPid)
  const client0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(clients.map(async (c) => {
    for (const body of c.bodies) await send(c.key, body)
  }))
  const wallMs = performance.now() - t0
  const client1 = process.cpuUsage(client0)
  const perNodeCores = nodes.map((n, i) => ((cpuMsOf(n.pid) ?? 0) - cpu0[i]!) / wallMs)
  const pg1 = postgresCpuMs(backendPid)
  return {
    recordsPerSecond: (RECORDS * 1000) / wallMs,
    perNodeCores,
    nodeCores: perNodeCores.reduce((a, b) => a + b, 0),
    pgCores: pg0 === undefined || pg1 === undefined ? undefined : (pg1 - pg0) / wallMs,
    clientCores: (client1.user + client1.system) / 1000 / wallMs
  }
}

// ---------------------------------------------------------------------------
// 2. scheduled windows
// ---------------------------------------------------------------------------

/** Creates INTEGRATIONS fake integrations and waits until every history is done: windows/s. */
const windows = async (nodes: ReadonlyArray<BuiltServer>, client: pg.Client, label: string) => {
  const ids: Array<string> = []
  const t0 = performance.now()
  for (let i = 0; i < INTEGRATIONS; i++) {
    const created = await adminCall<{ id: string }>(nodes[i % nodes.length]!, "POST", "/v1/integrations", {
      name: `fake ${label} ${i}`,
      connector: "fake",
      config: { apiKey: "fake-secret" },
      schedule: { type: "historical", everyMinutes: 15 },
      timezone: "UTC",
      historyDepthDays: DAYS,
      dataKinds: ["contacts"]
    })
    ids.push(created.id)
  }
  await waitFor(async () => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM integrations i WHERE i.id = ANY($1) AND EXISTS (
         SELECT 1 FROM cursors f, cursors c, cursors l, cursors h
         WHERE f.integration_id = i.id AND f.stream = 'backfill.history.from'
           AND c.integration_id = i.id AND c.stream = 'backfill.history.cutoff'
           AND l.integration_id = i.id AND l.stream = 'backfill.history.low'
           AND h.integration_id = i.id AND h.stream = 'backfill.history.high'
           AND l.value <= f.value AND h.value >= c.value)`,
      [ids]
    )
    return Number(rows[0]!.n) === ids.length ? true : undefined
  }, 600_000, `${label}: every history to be done`, 200)
  const seconds = (performance.now() - t0) / 1000
  const { rows } = await client.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM import_runs WHERE integration_id = ANY($1) AND error IS NULL",
    [ids]
  )
  const committed = Number(rows[0]!.n)
  if (committed < INTEGRATIONS * DAYS) throw new Error(`${label}: ${committed} windows committed, expected at least ${INTEGRATIONS * DAYS}`)
  return { windowsPerSecond: committed / seconds, committed, seconds }
}

// ---------------------------------------------------------------------------
// 3. failover
// ---------------------------------------------------------------------------

interface LeaseRow {
  readonly integration_id: string
  readonly node_id: string | null
  readonly live: boolean
}

/**
 * `kills` times: SIGKILL the node holding a lease and time until a live node holds it. With
 * `restart`, a node is started again after each kill and the leases spread over three nodes
 * before the next one (--quick: no restarts, each kill leaves one node fewer).
 */
const failover = async (
  url: string,
  client: pg.Client,
  lease: Lease,
  nodes: Array<BuiltServer & { readonly nodeId: string }>,
  kills: number,
  restart: boolean
): Promise<Array<number>> => {
  const times: Array<number> = []
  const leases = async () =>
    (await client.query<LeaseRow>("SELECT integration_id, node_id, expires_at > now() AS live FROM acd_bridge_leases")).rows
  const balanced = async () => {
    const rows = await leases()
    const live = new Set(nodes.map((n) => n.nodeId))
    const per = new Map<string, number>()
    for (const r of rows) if (r.live && r.node_id !== null && live.has(r.node_id)) per.set(r.node_id, (per.get(r.node_id) ?? 0) + 1)
    const held = Array.from(per.values()).reduce((a, b) => a + b, 0)
    return held === rows.length && per.size === nodes.length ? true : undefined
  }
  await waitFor(balanced, 120_000, "the leases to spread over the nodes", 200)
  for (let k = 0; k < kills; k++) {
    if (nodes.length < 2) throw new Error("a failover needs two live nodes")
    const rows = await leases()
    const victim = nodes[k % nodes.length]!
    const chosen = rows.find((r) => r.node_id === victim.nodeId && r.live)
    if (chosen === undefined) throw new Error(`${victim.nodeId} holds no lease`)
    const killedAt = performance.now()
    await victim.kill()
    nodes.splice(nodes.indexOf(victim), 1)
    await waitFor(async () => {
      const { rows } = await client.query<{ node_id: string | null; live: boolean }>(
        "SELECT node_id, expires_at > now() AS live FROM acd_bridge_leases WHERE integration_id = $1",
        [chosen.integration_id]
      )
      const r = rows[0]
      return r !== undefined && r.live && r.node_id !== null && r.node_id !== victim.nodeId ? true : undefined
    }, 120_000, "a live node to take the lease over", 50)
    times.push((performance.now() - killedAt) / 1000)
    process.stderr.write(`    kill ${k + 1}/${kills} (${lease.short ? "short" : "default"} lease): taken over after ${times[times.length - 1]!.toFixed(2)} s\n`)
    if (k === kills - 1) break
    if (restart) nodes.push(await startNode(url, lease))
    await waitFor(balanced, 120_000, "the leases to spread over the nodes again", 200)
  }
  return times
}

// ---------------------------------------------------------------------------

const main = async () => {
  const server = await postgresServer()
  const db = await freshDatabase(server.url)
  const nodes: Array<BuiltServer & { readonly nodeId: string }> = []
  const client = new pg.Client({ connectionString: db.url })
  const rows: Array<Row> = []
  const stopAll = async () => {
    for (const n of nodes.splice(0)) await n.kill()
  }
  try {
    process.stderr.write(
      `cluster: ${RECORDS.toLocaleString("en")} pushed records (${CLIENTS} clients), ${INTEGRATIONS} integrations × ${DAYS} days, ` +
        `${KILLS} kills (${os.cpus().length} CPUs, Node ${process.version})\n`
    )
    const short: Lease = { short: true }
    nodes.push(await startNode(db.url, short))
    await client.connect()
    const backendPid = Number((await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid)

    const pushes: Array<PushResult> = []
    let windowsOne: Awaited<ReturnType<typeof windows>> | undefined
    let windowsThree: Awaited<ReturnType<typeof windows>> | undefined
    for (let n = 1; n <= 3; n++) {
      while (nodes.length < n) nodes.push(await startNode(db.url, short))
      if (n === 1) windowsOne = await windows(nodes, client, "1 node")
      const result = await push(nodes, backendPid, `${n} nodes`)
      pushes.push(result)
      process.stderr.write(
        `  push, ${n} node${n > 1 ? "s" : ""}: ${Math.round(result.recordsPerSecond).toLocaleString("en")} records/s; cores busy: nodes ` +
          `${result.perNodeCores.map((c) => c.toFixed(2)).join(" + ")} = ${result.nodeCores.toFixed(2)}, PostgreSQL ${result.pgCores?.toFixed(2) ?? "?"}, load generator ${result.clientCores.toFixed(2)}; ` +
          `load average ${os.loadavg()[0]!.toFixed(1)}\n`
      )
      if (n === 3) windowsThree = await windows(nodes, client, "3 nodes")
    }
    for (const [label, w] of [["1 node", windowsOne!], ["3 nodes", windowsThree!]] as const) {
      process.stderr.write(`  scheduled windows, ${label}: ${w.committed} in ${w.seconds.toFixed(1)} s = ${w.windowsPerSecond.toFixed(1)} windows/s\n`)
    }

    const shortTimes = await failover(db.url, client, short, nodes, KILLS, !quick)
    await stopAll()
    // the default lease settings: the short leases the old nodes held run out after 3 s
    const defaults: Lease = { short: false }
    nodes.push(...await Promise.all(Array.from({ length: quick ? 2 : 3 }, () => startNode(db.url, defaults))))
    const defaultTimes = await failover(db.url, client, defaults, nodes, DEFAULT_KILLS, !quick)

    const pushNote = `${RECORDS.toLocaleString("en")} contact events, batches of ${BATCH}, ${CLIENTS} clients (an integration each), requests round-robin over the nodes; ${os.cpus().length} CPUs shared by nodes, PostgreSQL and the load generator`
    const [one, two, three] = pushes as [PushResult, PushResult, PushResult]
    rows.push(
      { name: "cluster: push records/s, 1 node", unit: "records/s", engine: one.recordsPerSecond, baseline: null, target: null, note: pushNote },
      { name: "cluster: push records/s, 2 nodes vs 1", unit: "records/s", engine: two.recordsPerSecond, baseline: one.recordsPerSecond, target: null, note: pushNote },
      { name: "cluster: push records/s, 3 nodes vs 1", unit: "records/s", engine: three.recordsPerSecond, baseline: one.recordsPerSecond, target: null, note: pushNote },
      { name: "cluster: push, 1 node: cores busy, node (baseline: PostgreSQL)", unit: "cores", engine: one.nodeCores, baseline: one.pgCores ?? null, target: null, note: "CPU time / wall time over the timed pushes" },
      { name: "cluster: push, 3 nodes: cores busy, nodes (baseline: PostgreSQL)", unit: "cores", engine: three.nodeCores, baseline: three.pgCores ?? null, target: null, note: `nodes ${three.perNodeCores.map((c) => c.toFixed(2)).join(" + ")}` },
      {
        name: "cluster: scheduled windows/s, 3 nodes vs 1",
        unit: "windows/s",
        engine: windowsThree!.windowsPerSecond,
        baseline: windowsOne!.windowsPerSecond,
        target: null,
        note: `${INTEGRATIONS} fake-source integrations (no latency) × ${DAYS} days of history, created at once; committed windows until every history is done`
      }
    )
    const failoverRows = (label: string, times: ReadonlyArray<number>, target: number | null, note: string): Array<Row> => {
      const s = spread(times)
      return [
        { name: `cluster: failover, ${label}: min`, unit: "s", engine: s.min, baseline: null, target: null, note },
        { name: `cluster: failover, ${label}: median`, unit: "s", engine: s.median, baseline: null, target: null, note },
        { name: `cluster: failover, ${label}: max`, unit: "s", engine: s.max, baseline: null, target: target === null ? null : atMost(target, "engine"), note }
      ]
    }
    rows.push(
      ...failoverRows(
        "default lease (15 s)",
        defaultTimes,
        30,
        `${defaultTimes.length} SIGKILLs of the node holding a chosen lease: time until a live node holds it (TTL 15 s, renewal 5 s)`
      ),
      ...failoverRows(
        "short lease (3 s)",
        shortTimes,
        null,
        `${shortTimes.length} SIGKILLs: ACD_BRIDGE_LEASE_TTL 3 s, ACD_BRIDGE_LEASE_RENEW 500 ms`
      )
    )
    report(rows)
  } finally {
    await stopAll()
    await client.end().catch(() => {})
    await db.drop()
    server.stop()
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
