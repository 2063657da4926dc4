/**
 * Realtime: how long an agent status pushed over HTTP takes to reach a subscriber of the
 * event stream, on loopback. The engine (`@acd-bridge/http` over `SqlStorage.layerSqlite`, its
 * **default rate limits**) against a bare `node:http` relay in the same run (a POST is parsed
 * and written to every open `text/event-stream` response, nothing stored).
 *
 * A status per request (the unbatched feed of a realtime source) at 20 and at 1,000 statuses
 * per second (BENCH_REALTIME_RATES=20,1000), for BENCH_REALTIME_MS (default 10,000; `--quick` 500) each; the latency is from
 * just before the request is sent to the event's arrival at the subscriber, both in this
 * process. Requests the server refuses (429 from a rate limit) are counted: the defaults must
 * fit a large site's feed, so any refusal fails the row.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { adminToken, atMost, below, percentile, report, servePushEngine, size, startChild } from "./_lib.js"

const SECONDS = size("BENCH_REALTIME_MS", 10_000, 500) / 1000
const RATES = (process.env["BENCH_REALTIME_RATES"] ?? "20,1000").split(",").map(Number)

// the default rate limits: the row checks that they fit the feed
const serveEngine = (dir: string) => servePushEngine(dir, { integration: { dataKinds: ["agentStatuses"] } })

/** The bare relay: every POSTed status is written to every subscriber at once. */
const serveBaseline = () => {
  const subscribers = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
      res.write(": connected\n\n")
      subscribers.add(res)
      req.on("close", () => subscribers.delete(res))
      return
    }
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: Array<unknown> }
      for (const status of body.data) {
        const frame = `event: agent-status\ndata: ${JSON.stringify(status)}\n\n`
        for (const s of subscribers) s.write(frame)
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ accepted: body.data.length }))
    })
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.stdout.write(
      `${JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0, apiKey: "none", integrationId: "baseline" })}\n`
    )
  })
}

interface Started {
  readonly port: number
  readonly apiKey: string
  readonly integrationId: string
  readonly stop: () => Promise<void>
}

const startServer = async (kind: "engine" | "baseline", dir: string): Promise<Started> => {
  const child = await startChild<{ port: number; apiKey: string; integrationId: string }>(fileURLToPath(import.meta.url), [kind, dir])
  return { ...child.info, stop: child.stop }
}

/** Subscribes, pushes one status per request at `rate` for SECONDS, returns latencies and refusals. */
const measure = async (server: Started, kind: "engine" | "baseline", rate: number) => {
  const sent = new Map<string, number>()
  const latencies: Array<number> = []
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  // the subscriber
  const subscriber = await new Promise<http.ClientRequest>((resolve, reject) => {
    const req = http.get({
      host: "127.0.0.1",
      port: server.port,
      path: kind === "engine" ? `/v1/agent-statuses/stream?integrationId=${server.integrationId}` : "/stream",
      headers: { authorization: `Bearer ${adminToken}`, accept: "text/event-stream" }
    }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`${kind} stream: ${res.statusCode}`))
      let buffer = ""
      res.setEncoding("utf8")
      res.on("data", (text: string) => {
        buffer += text
        let end = buffer.indexOf("\n\n")
        while (end >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = frame.split("\n").find((l) => l.startsWith("data: "))
          if (data !== undefined) {
            const status = JSON.parse(data.slice(6)) as { agentIdentifier: string }
            const at = sent.get(status.agentIdentifier)
            if (at !== undefined) latencies.push(performance.now() - at)
          }
          end = buffer.indexOf("\n\n")
        }
      })
      resolve(req)
    })
    req.on("error", reject)
  })
  const total = Math.max(1, Math.round(rate * SECONDS))
  let refused = 0
  let failed = 0
  const inFlight: Array<Promise<void>> = []
  const started = performance.now()
  for (let i = 0; i < total; i++) {
    // open loop: the i-th request leaves at i / rate seconds, whatever the answers
    const due = started + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    const id = `agent-${rate}-${i}`
    const body = JSON.stringify({
      data: [{ agentIdentifier: id, activityIdentifier: "READY", startTime: new Date().toISOString() }],
      meta: { integrationConfigurationId: server.integrationId }
    })
    sent.set(id, performance.now())
    inFlight.push(new Promise<void>((resolve) => {
      const req = http.request({
        host: "127.0.0.1",
        port: server.port,
        method: "POST",
        path: kind === "engine" ? "/external-systems/agent-statuses" : "/push",
        agent,
        headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      }, (res) => {
        if (res.statusCode === 429) refused++
        else if (res.statusCode !== 200) failed++
        res.resume()
        res.on("end", () => resolve())
      })
      req.on("error", () => {
        failed++
        resolve()
      })
      req.end(body)
    }))
  }
  await Promise.all(inFlight)
  // the last events may still be on their way
  const deadline = performance.now() + 2_000
  while (latencies.length < total - refused - failed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  subscriber.destroy()
  agent.destroy()
  if (process.env["BENCH_REALTIME_TRACE"] === "1") process.stderr.write(`${kind} ${rate}/s: ${latencies.map((x) => x.toFixed(0)).join(" ")}\n`)
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), received: latencies.length, total, refused, failed }
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-realtime-"))
  const rows: Array<Row> = []
  try {
    const results: Record<string, Record<number, Awaited<ReturnType<typeof measure>>>> = {}
    for (const kind of ["baseline", "engine"] as const) {
      const server = await startServer(kind, dir)
      try {
        results[kind] = {}
        for (const rate of RATES) results[kind][rate] = await measure(server, kind, rate)
      } finally {
        await server.stop()
      }
    }
    for (const rate of RATES) {
      const base = results["baseline"]![rate]!
      const ours = results["engine"]![rate]!
      const note = `${ours.total.toLocaleString("en")} single-status requests over ${SECONDS} s, default rate limits`
      process.stderr.write(
        `  ${rate}/s: engine p50 ${ours.p50.toFixed(1)} p99 ${ours.p99.toFixed(1)} ms (${ours.received} received, ${ours.refused} refused, ${ours.failed} failed); ` +
          `relay p50 ${base.p50.toFixed(1)} p99 ${base.p99.toFixed(1)} ms\n`
      )
      rows.push(
        { name: `realtime: push → SSE p99 at ${rate.toLocaleString("en")} statuses/s`, unit: "ms", engine: ours.p99, baseline: base.p99, target: below(50, "engine"), note },
        { name: `realtime: push → SSE p50 at ${rate.toLocaleString("en")} statuses/s`, unit: "ms", engine: ours.p50, baseline: base.p50, target: null, note },
        { name: `realtime: requests refused at ${rate.toLocaleString("en")} statuses/s`, unit: "%", engine: (100 * (ours.refused + ours.failed)) / ours.total, baseline: null, target: atMost(0, "engine"), note }
      )
    }
    report(rows)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === "serve") {
  if (process.argv[3] === "engine") await serveEngine(process.argv[4]!)
  else serveBaseline()
} else {
  await main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
