/**
 * Two built servers on one PostgreSQL database (ACD_BRIDGE_CLUSTER=true): what a client sees
 * does not depend on which node the load balancer picked.
 *
 * - Rate limits: one principal's requests spread over both nodes are counted once, in the
 *   shared database; beyond the limit both nodes answer 429 with Retry-After and the problem body.
 * - Idempotency keys: the same key sent to both nodes at once is applied once; both answers equal.
 * - Link tasks: a link leases a task through one node, uploads its parts through the other and
 *   commits through the first; the node whose scheduler holds the integration sees the commit.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { type ClusterDatabase, leasesOf, makeDatabase, startNode } from "./clusterSupport.js"
import { api, type IntervalRow, iso, killAll, type Running, stop, waitFor } from "./support.js"

const RATE = 1
const BURST = 40
const HOUR = 3_600_000

let db: ClusterDatabase
const nodes: Array<Running> = []
const dir = mkdtempSync(join(tmpdir(), "acd-cluster-shared-"))

beforeAll(async () => {
  db = await makeDatabase("acd_cluster_shared")
  const env = {
    ACD_BRIDGE_ON_PREMISE: "link",
    ACD_BRIDGE_RATE_LIMIT_RPS: String(RATE),
    ACD_BRIDGE_RATE_LIMIT_BURST: String(BURST)
  }
  // the first node creates the schema
  nodes.push(await startNode(db.url, "a", env))
  nodes.push(await startNode(db.url, "b", env))
}, 120_000)

afterAll(async () => {
  for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) await stop(node)
  killAll()
  await db?.drop()
  rmSync(dir, { recursive: true, force: true })
})

/** An api-push integration and its API key (a principal of its own, with a full bucket). */
const pushIntegration = async (via: Running, name: string) => {
  const created = await api<{ id: string }>(via, "POST", "/v1/integrations", { name, connector: "api-push" })
  assert.strictEqual(created.status, 201, JSON.stringify(created.body))
  const key = await api<{ apiKey: string }>(via, "POST", `/v1/integrations/${created.body.id}/api-key`)
  assert.strictEqual(key.status, 201, JSON.stringify(key.body))
  return { id: created.body.id, apiKey: key.body.apiKey }
}

const contactEvents = (integrationId: string, timestamps: ReadonlyArray<number>) =>
  JSON.stringify({
    data: timestamps.map((t) => ({
      properties: { offered: true, handled: true, duration: 60 },
      queueName: "Level 1",
      queueIdentifier: "q1",
      timestamp: iso(t),
      channel: "calls"
    })),
    meta: { integrationConfigurationId: integrationId }
  })

const push = async (via: Running, apiKey: string, body: string, idempotencyKey?: string) => {
  const response = await fetch(`${via.url}/external-systems/contact-events`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      ...(idempotencyKey === undefined ? {} : { "idempotency-key": idempotencyKey })
    },
    body
  })
  const text = await response.text()
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    contentType: response.headers.get("content-type"),
    body: JSON.parse(text) as Record<string, unknown>
  }
}

/** Offered contacts stored for the integration in [from, to). */
const offered = async (id: string, from: number, to: number) => {
  const rows = await api<Array<IntervalRow>>(nodes[0]!, "GET", `/v1/intervals?integrationId=${id}&from=${iso(from)}&to=${iso(to)}&length=15`)
  assert.strictEqual(rows.status, 200, JSON.stringify(rows.body))
  return rows.body.reduce((n, r) => n + r.offered, 0)
}

describe("two servers on one PostgreSQL database", () => {
  it("count one principal's requests once across both nodes: beyond the limit, 429 with Retry-After and a problem body", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!]
    const { apiKey, id } = await pushIntegration(a, "rate limited")
    const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR
    const total = 2 * BURST + 20
    const startedAt = Date.now()
    // every request its own record (a distinct minute), alternating between the nodes
    const answers = await Promise.all(
      Array.from({ length: total }, (_, i) => {
        const via = i % 2 === 0 ? a : b
        return push(via, apiKey, contactEvents(id, [base + i * 60_000])).then((r) => ({ ...r, via: via === a ? "a" : "b" }))
      })
    )
    const elapsedS = (Date.now() - startedAt) / 1000
    const accepted = answers.filter((r) => r.status === 200)
    const refused = answers.filter((r) => r.status === 429)
    assert.strictEqual(accepted.length + refused.length, total, JSON.stringify(answers.filter((r) => r.status !== 200 && r.status !== 429)))
    // the burst, plus what the rate refilled while the requests were in flight; per-process
    // buckets would have let up to twice the burst through
    assert.isAtLeast(accepted.length, BURST)
    assert.isAtMost(accepted.length, BURST + Math.ceil(elapsedS * RATE) + 1, `accepted ${accepted.length} in ${elapsedS} s: ${a.output().split("\n").filter((l) => l.includes("rate limit")).slice(0, 3).join("\n")}`)
    // both nodes took requests and both refused some: one bucket for the principal
    for (const node of ["a", "b"]) {
      assert.isAbove(accepted.filter((r) => r.via === node).length, 0, `node ${node} accepted none`)
      assert.isAbove(refused.filter((r) => r.via === node).length, 0, `node ${node} refused none`)
    }
    for (const r of refused) {
      assert.match(r.retryAfter ?? "", /^[1-9]\d*$/)
      assert.include(r.contentType ?? "", "application/problem+json")
      assert.strictEqual(r.body["status"], 429)
      assert.strictEqual(r.body["title"], "Too many requests")
      assert.include(String(r.body["detail"]), "Rate limit exceeded")
    }
    // what was accepted is stored, nothing of what was refused
    assert.strictEqual(await offered(id, base, base + total * 60_000), accepted.length)
  }, 60_000)

  it("applies an Idempotency-Key sent to both nodes at once once: both answers equal, stored once", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!]
    const { apiKey, id } = await pushIntegration(b, "idempotent")
    const base = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR
    const rounds = 8
    for (let round = 0; round < rounds; round++) {
      const body = contactEvents(id, [base + round * 120_000, base + round * 120_000 + 60_000])
      const key = `cluster-key-${round}`
      const [fromA, fromB] = await Promise.all([push(a, apiKey, body, key), push(b, apiKey, body, key)])
      assert.strictEqual(fromA.status, 200, JSON.stringify(fromA.body))
      assert.strictEqual(fromB.status, 200, JSON.stringify(fromB.body))
      assert.deepStrictEqual(fromA.body, fromB.body)
    }
    assert.strictEqual(await offered(id, base, base + rounds * 120_000), rounds * 2)
    const [keys] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM idempotency_keys WHERE integration_id = $1`, [id])
    assert.strictEqual(keys!.n, rounds)
    const [runs] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM import_runs WHERE integration_id = $1 AND kind = 'push'`, [id])
    assert.strictEqual(runs!.n, rounds, "one import run per key")
  }, 60_000)

  it("leases a link task through one node, takes its parts through the other, and the owner sees the commit", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!]
    const link = await api<{ id: string; token: string }>(a, "POST", "/v1/links", { name: "Berlin site" })
    assert.strictEqual(link.status, 201, JSON.stringify(link.body))
    const folder = join(dir, "drop")
    mkdirSync(folder)
    const created = await api<{ id: string }>(b, "POST", "/v1/integrations", {
      name: "CSV through a link",
      connector: "csv",
      deliveryMode: "on-premise",
      linkId: link.body.id,
      schedule: { type: "historical", everyMinutes: 15 },
      timezone: "UTC",
      historyDepthDays: 1,
      config: {
        source: { folder },
        layout: "contacts",
        channel: "calls",
        timezone: "UTC",
        columns: { queueIdentifier: "queue", timestamp: "time", handled: "handled", duration: "duration" }
      }
    })
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    const id = created.body.id
    // one node's scheduler holds it (a lease like any other integration's)
    const owner = await waitFor(async () => {
      const lease = (await leasesOf(db)).find((l) => l.integration_id === id && l.live && l.node_id !== null)
      return lease?.node_id ?? undefined
    }, 15_000, "a node to lease the link's integration")
    const other = owner === "a" ? b : a
    const ownerNode = owner === "a" ? a : b

    const agentCall = async <T>(via: Running, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${via.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${link.body.token}`,
          "acd-link-protocol": "1",
          "acd-link-version": "0.3.0-test",
          ...(body === undefined ? {} : { "content-type": "application/json" })
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      return { status: response.status, body: (text.length === 0 ? null : JSON.parse(text)) as T }
    }
    interface Task {
      readonly taskId: string
      readonly leaseId: string
      readonly window: { readonly from: string; readonly to: string } | null
    }
    // leased through the node that does not run the integration's schedule
    const leased = await agentCall<{ tasks: ReadonlyArray<Task> }>(other, "GET", `/v1/link/tasks?wait=10&integrations=${id}`)
    assert.strictEqual(leased.status, 200, JSON.stringify(leased.body))
    assert.strictEqual(leased.body.tasks.length, 1, JSON.stringify(leased.body))
    const task = leased.body.tasks[0]!
    assert.isNotNull(task.window)
    const from = Date.parse(task.window!.from)
    const contacts = Array.from({ length: 6 }, (_, i) => ({
      queueIdentifier: "q1",
      queueName: "Level 1",
      channel: "calls",
      timestamp: iso(from + i * 300_000 + 30_000),
      offered: true,
      handled: i % 2 === 0,
      durationMs: 100_000
    }))
    // the parts through the owner, the commit through the other node
    for (const [n, part] of [contacts.slice(0, 3), contacts.slice(3)].entries()) {
      const put = await agentCall(ownerNode, "PUT", `/v1/link/tasks/${task.taskId}/results/r1/parts/${n}`, {
        contacts: part,
        aggregates: [],
        statuses: []
      })
      assert.strictEqual(put.status, 204, JSON.stringify(put.body))
    }
    const commit = await agentCall<{ outcome: string; applied: number }>(other, "POST", `/v1/link/tasks/${task.taskId}/commit`, {
      resultId: "r1",
      parts: 2,
      records: contacts.length
    })
    assert.strictEqual(commit.status, 200, JSON.stringify(commit.body))
    assert.deepStrictEqual([commit.body.outcome, commit.body.applied], ["applied", contacts.length])
    // a repeat through the owner answers the first answer, applies nothing more
    const again = await agentCall(ownerNode, "POST", `/v1/link/tasks/${task.taskId}/commit`, {
      resultId: "r1",
      parts: 2,
      records: contacts.length
    })
    assert.deepStrictEqual(again.body, commit.body)
    assert.strictEqual(await offered(id, from, from + HOUR), contacts.length)

    // the owner's scheduler, waiting on the task, saw the commit: the history is done there
    await waitFor(async () =>
      ownerNode.output().split("\n").some((l) => l.includes("history import finished") && l.includes(id)) ? true : undefined,
      15_000, "the owner to see the link's commit")
    assert.isFalse(other.output().split("\n").some((l) => l.includes("history import finished") && l.includes(id)))
  }, 90_000)
})
