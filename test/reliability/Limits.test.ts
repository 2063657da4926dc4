/**
 * Big bodies and slow clients, over real sockets to a server child on a real SQLite file:
 *
 * - **413.** A body declared bigger than the limit is refused at once, before it is sent; a
 *   chunked body past it is 413 at its end, and one that never ends is cut off (the server
 *   keeps at most the limit of it and reads no more than four times it); a batch holding more records
 *   than the records' budget can ever allow is 413 too. Each leaves the store unchanged and
 *   the server answering.
 * - **Slow and idle clients.** Idle connections, clients sending their headers a byte at a
 *   time, clients trickling a declared body, and an event-stream reader that never reads, all
 *   held open while an ordinary client pushes and reads: every ordinary request is answered
 *   (200, nothing lost: the pushed totals read back exactly) while the attackers are still
 *   connected. Latencies are reported, not asserted (speed is measured in `bench/`).
 */
import * as net from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { changedTables, sqliteRows, sqliteWatcher } from "./support/digest.js"
import { adminToken, call, notAClientProblem, percentile, pushIntegration, type Server, sleep, startServer, tempDir } from "./support/harness.js"
import { summary } from "./support/summary.js"

const counts = summary(import.meta.filename)
const dir = tempDir("acd-rel-limits-")
const database = `${dir.path}/limits.sqlite`
/** the records' budget of this server: a batch above it can never pass */
const RECORDS_BURST = 2_000
let server: Server
let integration: { id: string; apiKey: string }
let watcher: ReturnType<typeof sqliteWatcher>

const contactPath = "/external-systems/contact-events"
const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000

const contacts = (queue: string, n: number) => ({
  data: Array.from({ length: n }, (_, i) => ({
    properties: { offered: true, handled: true, duration: 2 },
    queueName: queue,
    queueIdentifier: queue,
    timestamp: new Date(hour + (i % 3_600) * 1_000).toISOString(),
    channel: "calls"
  })),
  meta: { integrationConfigurationId: integration.id }
})

beforeAll(async () => {
  server = await startServer({
    database,
    synchronous: "normal",
    // the default body limit (10 MiB); a records' budget small enough to reach cheaply
    adapter: { rateLimit: { recordsBurst: RECORDS_BURST, recordsPerSecond: 1_000_000, requestsPerSecond: 100_000, burst: 100_000 } },
    tokens: []
  })
  integration = await pushIntegration(server, adminToken, "limits")
  watcher = sqliteWatcher(database)
}, 120_000)

afterAll(async () => {
  await server?.kill()
  watcher?.close()
  dir.remove()
  counts.flush()
})

const port = () => Number(new URL(server.url).port)

/** A raw connection to the server; `answer()` resolves with everything it sent back once it closes or the time is up. */
const connect = async () => {
  const socket = net.connect(port(), "127.0.0.1")
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve)
    socket.once("error", reject)
  })
  let received = ""
  let closed = false
  socket.setEncoding("latin1")
  socket.on("data", (chunk: string) => (received += chunk))
  socket.on("error", () => {})
  socket.on("close", () => (closed = true))
  return {
    socket,
    received: () => received,
    closed: () => closed,
    /** the status line's code once the head has arrived */
    status: () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received)
      return match ? Number(match[1]) : undefined
    }
  }
}

const headOf = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`

describe("limits", () => {
  it("bodies over the limit are 413 (declared: before they are sent; chunked: at their end, or cut off); an over-budget batch is 413; nothing changes", async () => {
    const before = watcher.digest()
    let faults = 0
    // 1. declared bigger than 10 MiB: answered without sending a byte of it
    const declared = await connect()
    declared.socket.write(headOf("POST", contactPath, {
      authorization: `Bearer ${integration.apiKey}`,
      "content-type": "application/json",
      "content-length": 10 * 1024 * 1024 + 1
    }))
    faults++
    const deadline = Date.now() + 10_000
    while (declared.status() === undefined && Date.now() < deadline) await sleep(20)
    assert.strictEqual(declared.status(), 413, `declared: ${declared.received().slice(0, 300)}`)
    declared.socket.destroy()

    // 2. chunked (no length declared): 11 MiB, then the end of the body: 413
    const piece = Buffer.from(`[${"1,".repeat(32_767)}1]`) // 64 KiB of a JSON array
    const frame = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")])
    /** writes frames until `bytes` are sent or the server closed the connection; answers what was sent */
    const stream = async (target: Awaited<ReturnType<typeof connect>>, bytes: number) => {
      let sent = 0
      while (!target.closed() && sent < bytes) {
        const ok = target.socket.write(frame)
        sent += piece.length
        if (!ok) await new Promise<void>((resolve) => target.socket.once("drain", resolve).once("close", resolve))
      }
      return sent
    }
    const chunkedHead = headOf("POST", contactPath, {
      authorization: `Bearer ${integration.apiKey}`,
      "content-type": "application/json",
      "transfer-encoding": "chunked"
    })
    const chunked = await connect()
    chunked.socket.write(chunkedHead)
    faults++
    await stream(chunked, 11 * 1024 * 1024)
    chunked.socket.write("0\r\n\r\n")
    const waitUntil = Date.now() + 20_000
    while (chunked.status() === undefined && Date.now() < waitUntil) await sleep(20)
    assert.strictEqual(chunked.status(), 413, `chunked: ${chunked.received().slice(0, 300)}`)
    chunked.socket.destroy()

    // 2b. chunked and never ending: the server drops what is over the limit and cuts the
    // connection (documented: past four times the limit) instead of reading forever
    const endless = await connect()
    endless.socket.write(chunkedHead)
    faults++
    const sent = await stream(endless, 80 * 1024 * 1024)
    const closeBy = Date.now() + 20_000
    while (!endless.closed() && Date.now() < closeBy) await sleep(20)
    assert.isTrue(endless.closed(), `the server still reads a never-ending body after ${sent} bytes`)
    assert.isBelow(sent, 80 * 1024 * 1024, "the server read 80 MiB without cutting the connection")
    endless.socket.destroy()

    // 3. the same through an ordinary client: a real 11 MB JSON body
    const huge = contacts("huge", 1)
    const padded = JSON.stringify({ ...huge, meta: { ...huge.meta, externalSystem: "x".repeat(11 * 1024 * 1024) } })
    faults++
    // (the server may close the connection while the client is still sending: `reset`)
    const hugeAnswer = await call(server, "POST", contactPath, { token: integration.apiKey, raw: padded })
    assert.strictEqual(hugeAnswer.status, 413)
    assert.isUndefined(notAClientProblem(hugeAnswer))
    const hugeStatus = hugeAnswer.reset === true ? "413 or a reset while sending" : "413"

    // 4. more records than the budget can ever allow: 413 saying how many a batch may hold
    const over = await call<{ detail: string }>(server, "POST", contactPath, { token: integration.apiKey, json: contacts("over-budget", RECORDS_BURST + 1) })
    faults++
    assert.strictEqual(over.status, 413, over.text.slice(0, 300))
    assert.isUndefined(notAClientProblem(over))
    assert.include(over.body.detail, String(RECORDS_BURST))

    const changed = changedTables(before, watcher.digest())
    assert.strictEqual((await call(server, "GET", "/health")).status, 200)
    // at the budget exactly: accepted
    const at = await call(server, "POST", contactPath, { token: integration.apiKey, json: contacts("at-budget", RECORDS_BURST) })
    assert.strictEqual(at.status, 200, at.text.slice(0, 300))
    counts.record({
      case: "bodies over the limit: 413",
      inputs: 6,
      faults,
      losses: Object.keys(changed).length,
      note: `declared 10 MiB + 1: 413 before the body; chunked 11 MiB: 413; chunked without end: cut after ${(sent / 1024 / 1024).toFixed(1)} MiB sent; ` +
        `an 11 MB JSON body: ${hugeStatus}; ` +
        `${RECORDS_BURST + 1} records over a budget of ${RECORDS_BURST}: 413; no table changed; the batch at the budget: 200`
    })
    assert.deepStrictEqual(changed, {})
  }, 120_000)

  it("idle, slow-header, slow-body and never-reading clients don't starve an ordinary one", async () => {
    const IDLE = 40
    const SLOW_HEADERS = 10
    const SLOW_BODIES = 10
    const pushes = 40
    // the ordinary client's latency with nobody else connected
    const idleLatency: Array<number> = []
    for (let i = 0; i < 10; i++) idleLatency.push((await call(server, "GET", `/v1/queues?integrationId=${integration.id}`, { token: adminToken })).ms)

    const attackers: Array<Awaited<ReturnType<typeof connect>>> = []
    for (let i = 0; i < IDLE; i++) attackers.push(await connect())
    const slowHeaders = await Promise.all(Array.from({ length: SLOW_HEADERS }, () => connect()))
    const slowBodies = await Promise.all(Array.from({ length: SLOW_BODIES }, () => connect()))
    attackers.push(...slowHeaders, ...slowBodies)
    const head = headOf("POST", contactPath, { authorization: `Bearer ${integration.apiKey}`, "content-type": "application/json", "content-length": 100_000 })
    for (const s of slowBodies) s.socket.write(head)
    // a reader of the event stream that never reads what it is sent
    const deaf = await connect()
    deaf.socket.write(headOf("GET", "/v1/agent-statuses/stream", { authorization: `Bearer ${adminToken}` }))
    deaf.socket.pause()
    attackers.push(deaf)
    let stop = false
    // headers one byte every 100 ms, bodies one byte every 100 ms
    const dribble = (async () => {
      let i = 0
      const slowHead = headOf("GET", "/health", { "x-pad": "y".repeat(200) })
      while (!stop) {
        for (const s of slowHeaders) if (!s.closed()) s.socket.write(slowHead[i % slowHead.length]!)
        for (const s of slowBodies) if (!s.closed()) s.socket.write("[")
        i++
        await sleep(100)
      }
    })()

    // the ordinary client: pushes (contacts and statuses, which feed the deaf stream) and reads
    const latency: Array<number> = []
    const statuses: Array<number> = []
    for (let i = 0; i < pushes; i++) {
      const pushed = await call(server, "POST", contactPath, { token: integration.apiKey, json: contacts("ordinary", 25) })
      const status = await call(server, "POST", "/external-systems/agent-statuses", {
        token: integration.apiKey,
        json: {
          data: Array.from({ length: 50 }, (_, j) => ({ agentIdentifier: `agent-${i}-${j}`, activityIdentifier: "Talk".repeat(50), startTime: new Date(Date.now() - 60_000).toISOString() })),
          meta: { integrationConfigurationId: integration.id }
        }
      })
      const read = await call(server, "GET", `/v1/queues?integrationId=${integration.id}`, { token: adminToken })
      statuses.push(pushed.status, status.status, read.status)
      latency.push(pushed.ms, status.ms, read.ms)
    }
    const stillConnected = attackers.filter((s) => !s.closed()).length
    stop = true
    await dribble
    for (const s of attackers) s.socket.destroy()

    const offered = sqliteRows<{ n: number }>(
      database,
      "SELECT COALESCE(SUM(s.offered), 0) AS n FROM interval_stats s JOIN queues q ON q.id = s.queue_id WHERE q.integration_id = ? AND q.identifier = 'ordinary'",
      integration.id
    )[0]!.n
    const refused = statuses.filter((s) => s !== 200).length
    const lost = pushes * 25 - offered
    counts.record({
      case: "slow and idle clients",
      inputs: statuses.length,
      faults: IDLE + SLOW_HEADERS + SLOW_BODIES + 1,
      losses: Math.abs(lost) + refused,
      note: `${IDLE} idle, ${SLOW_HEADERS} slow-header, ${SLOW_BODIES} slow-body connections and a never-reading event stream ` +
        `(${stillConnected} still connected at the end); ${statuses.length} ordinary requests: ${statuses.length - refused} answered 200; ` +
        `p50/p99 ${percentile(latency, 50).toFixed(0)}/${percentile(latency, 99).toFixed(0)} ms (alone: p50 ${percentile(idleLatency, 50).toFixed(0)} ms)`
    })
    assert.deepStrictEqual(statuses.filter((s) => s !== 200), [], "an ordinary request was refused while slow clients were connected")
    assert.strictEqual(offered, pushes * 25, "pushed contacts lost or doubled")
    // the attack was on while the ordinary client worked (a server that dropped them at once would make this test prove nothing)
    assert.isAbove(stillConnected, IDLE / 2, "the slow clients were gone before the ordinary client finished")
    assert.strictEqual((await call(server, "GET", "/health")).status, 200)
  }, 120_000)
})
