/**
 * Realtime: how long an agent status pushed over HTTP takes to reach a subscriber of the
 * event stream, on loopback. The engine (`@acd-bridge/http` over `SqlStorage.layerSqlite`, its
 * **default rate limits**) against a bare `node:http` relay in the same run (a POST is parsed
 * and written to every open `text/event-stream` response, nothing stored).
 *
 * Two feeds, for BENCH_REALTIME_MS (default 10,000; `--quick` 500) each:
 *
 * - at 20 statuses per second, a status per request (the unbatched feed of a small source);
 * - at 1,000 statuses per second (a large site), sent as a realtime client should send them
 *   (and `acd-link` does, every 100 ms): the statuses that arose in the last
 *   BENCH_REALTIME_BATCH_MS (default 10) in one request, about 10 a request. The latency counts
 *   from the instant each status arose, so the wait for its request is in it.
 *
 * Each server first takes the batched feed for BENCH_REALTIME_WARMUP_MS (default 2,000;
 * `--quick` 1,000), untimed. BENCH_REALTIME_RATES (default `20,1000`) picks the rates; a rate above 100 is batched. The
 * latency is to the event's arrival at the subscriber, both ends in this process. Requests the
 * server refuses (429 from a rate limit) are counted: the defaults must fit a large site's feed,
 * so any refusal fails the row. A third measure is how many single-status requests a second
 * one process answers when 16 clients push as fast as they can (closed loop, no target): it
 * tells what an unbatched feed can reach (a single-status request costs about as much CPU as
 * one of 10, so 1,000 single-status requests a second overload one process).
 *
 * The engine's integration maps every agent the feeds name to an employee (10,200 at full size)
 * and READY to an activity, as a large site's does, so each event carries its employee and
 * activity ids.
 *
 * BENCH_REALTIME_TRACE=1 prints every status's latency and its push's answer time (the feed's
 * share is the difference); BENCH_SERVER_PROF=<dir> runs the servers under `node --cpu-prof`
 * and writes their profiles there.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row } from "./_lib.js"
import { atMost, below, percentile, report, size } from "./_lib.js"

const SECONDS = size("BENCH_REALTIME_MS", 10_000, 500) / 1000
/** untimed: each server first takes the batched feed this long (JIT, statement caches) */
const WARMUP_SECONDS = size("BENCH_REALTIME_WARMUP_MS", 2_000, 1_000) / 1000
const RATES = (process.env["BENCH_REALTIME_RATES"] ?? "20,1000").split(",").map(Number)
const BATCH_MS = Number(process.env["BENCH_REALTIME_BATCH_MS"] ?? 10)
/** rates above this are sent in batches of BATCH_MS */
const UNBATCHED_UP_TO = 100
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
const here = path.dirname(fileURLToPath(import.meta.url))

const serveEngine = async (dir: string) => {
  const { PushConnector } = await import("../packages/api-push/src/index.js")
  const { ApiKeys, ConnectorRegistry, Domain, Engine, Integrations, Mappings } = await import("@acd-bridge/core")
  const { Authenticator, HttpAdapter } = await import("../packages/http/src/index.js")
  const { SqlStorage } = await import("@acd-bridge/sql-storage")
  const HttpServer = await import("@effect/platform/HttpServer")
  const Effect = await import("effect/Effect")
  const Layer = await import("effect/Layer")
  const Logger = await import("effect/Logger")
  const LogLevel = await import("effect/LogLevel")
  const Redacted = await import("effect/Redacted")
  const tenantId = Domain.TenantId.make("bench")
  const engine = Engine.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      SqlStorage.layerSqlite({ filename: path.join(dir, "engine.sqlite") }),
      ConnectorRegistry.layer(PushConnector.connector)
    ))
  )
  // the default rate limits: the row checks that they fit the feed
  const server = HttpAdapter.layer({ port: 0, host: "127.0.0.1" }).pipe(
    Layer.provide(Authenticator.layer({ adminToken: Redacted.make(ADMIN_TOKEN), tenantId })),
    Layer.provideMerge(engine)
  )
  const program = Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    const { integration } = yield* (yield* Integrations.Integrations).create(tenantId, {
      name: "bench",
      connector: "api-push",
      dataKinds: ["agentStatuses"]
    })
    const { apiKey } = yield* (yield* ApiKeys.ApiKeys).generate(tenantId, integration.id)
    // a large site maps its agents and activities: every agent the feeds name, and READY
    const mappings = yield* Mappings.Mappings
    yield* mappings.putAgents(tenantId, integration.id, mappedAgents().map((id) => ({ externalId: id, employeeId: `employee-${id}` })))
    yield* mappings.putActivities(tenantId, integration.id, [{ externalId: "READY", activityId: "activity-ready" }])
    process.stdout.write(
      `${JSON.stringify({ port: address._tag === "TcpAddress" ? address.port : 0, apiKey, integrationId: integration.id })}\n`
    )
    return yield* Effect.never
  })
  await Effect.runPromise(program.pipe(Effect.provide(server), Logger.withMinimumLogLevel(LogLevel.Warning)))
}

/** The agent ids the latency feeds name (`agent-<rate>-<n>`, warm-up included), all mapped to employees. */
const mappedAgents = () =>
  [...new Set([...RATES, 1_000])].flatMap((rate) =>
    Array.from({ length: Math.round(rate * Math.max(SECONDS, WARMUP_SECONDS)) }, (_, n) => `agent-${rate}-${n}`)
  )

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

const startServer = (kind: "engine" | "baseline", dir: string): Promise<Started> =>
  new Promise((resolve, reject) => {
    const prof = process.env["BENCH_SERVER_PROF"]
    const child = spawn(process.execPath, [
      ...(prof === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${prof}`]),
      "--import",
      "tsx",
      fileURLToPath(import.meta.url), "serve", kind, dir], {
      cwd: here,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined && out.includes("\n")) {
        resolve({
          ...(JSON.parse(line) as { port: number; apiKey: string; integrationId: string }),
          stop: () =>
            new Promise((done) => {
              child.on("exit", () => done())
              // a profiled server (BENCH_SERVER_PROF) exits cleanly so Node writes the profile
              child.kill(process.env["BENCH_SERVER_PROF"] === undefined ? "SIGKILL" : "SIGTERM")
            })
        })
      }
    })
    child.on("exit", (code) => reject(new Error(`${kind} server exited (${code}): ${out}`)))
  })

/** One push of these agents' statuses; its HTTP status (0: the connection failed). */
const pushStatuses = (server: Started, kind: "engine" | "baseline", agent: http.Agent, ids: ReadonlyArray<string>) =>
  new Promise<number>((resolve) => {
    const body = JSON.stringify({
      data: ids.map((id) => ({ agentIdentifier: id, activityIdentifier: "READY", startTime: new Date().toISOString() })),
      meta: { integrationConfigurationId: server.integrationId }
    })
    const req = http.request({
      host: "127.0.0.1",
      port: server.port,
      method: "POST",
      path: kind === "engine" ? "/external-systems/agent-statuses" : "/push",
      agent,
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) }
    }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", () => resolve(0))
    req.end(body)
  })

/** Subscribes, pushes statuses at `rate` for `seconds` (batched above UNBATCHED_UP_TO), returns latencies and refusals. */
const measure = async (server: Started, kind: "engine" | "baseline", rate: number, seconds: number) => {
  const sent = new Map<string, number>()
  const latencies: Array<number> = []
  /** engine events without their agent's employee id (the mapping is part of the engine's work) */
  let unmapped = 0
  /** request → response, to tell the write path's time from the feed's */
  const answered: Array<number> = []
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  // the subscriber
  const subscriber = await new Promise<http.ClientRequest>((resolve, reject) => {
    const req = http.get({
      host: "127.0.0.1",
      port: server.port,
      path: kind === "engine" ? `/v1/agent-statuses/stream?integrationId=${server.integrationId}` : "/stream",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "text/event-stream" }
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
            const status = JSON.parse(data.slice(6)) as { agentIdentifier: string; employeeId?: string | null }
            if (kind === "engine" && status.employeeId !== `employee-${status.agentIdentifier}`) unmapped++
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
  const total = Math.max(1, Math.round(rate * seconds))
  const every = rate > UNBATCHED_UP_TO ? BATCH_MS : 0
  let refused = 0
  let failed = 0
  const inFlight: Array<Promise<void>> = []
  const post = (ids: ReadonlyArray<string>) => {
    const at = performance.now()
    inFlight.push(pushStatuses(server, kind, agent, ids).then((status) => {
      answered.push(performance.now() - at)
      if (status === 429) refused += ids.length
      else if (status !== 200) failed += ids.length
    }))
  }
  const started = performance.now()
  // open loop: the i-th status arises at i / rate seconds, whatever the answers; unbatched it
  // leaves at once, batched with the others that arose since the last request
  let next = 0
  while (next < total) {
    const due = started + (every === 0 ? (next * 1000) / rate : Math.ceil(((next * 1000) / rate) / every) * every)
    // a timer can fire up to a millisecond before `due` (libuv counts whole milliseconds), so
    // wait until `due` has passed: a request sent just before it would carry one status, and
    // the rest of the batch would follow one request each
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(1, due - performance.now())))
    const now = performance.now()
    const ids: Array<string> = []
    while (next < total && (ids.length === 0 || started + (next * 1000) / rate <= now)) {
      const id = `agent-${rate}-${next}`
      // unbatched: from just before the request; batched: from the instant the status arose
      sent.set(id, every === 0 ? now : Math.min(now, started + (next * 1000) / rate))
      ids.push(id)
      next++
      if (every === 0) break
    }
    post(ids)
  }
  await Promise.all(inFlight)
  // the last events may still be on their way
  const deadline = performance.now() + 2_000
  while (latencies.length < total - refused - failed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  subscriber.destroy()
  agent.destroy()
  if (process.env["BENCH_REALTIME_TRACE"] === "1") process.stderr.write(`${kind} ${rate}/s: ${latencies.map((x) => x.toFixed(0)).join(" ")}\n  answered: ${answered.map((x) => x.toFixed(0)).join(" ")}\n`)
  if (unmapped > 0) throw new Error(`${kind} ${rate}/s: ${unmapped} events lacked their agent's employee id`)
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), received: latencies.length, total, refused, failed }
}

/** Single-status requests answered per second with 16 clients pushing back to back. */
const capacity = async (server: Started, kind: "engine" | "baseline") => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  const until = performance.now() + SECONDS * 1000
  let answered = 0
  let refused = 0
  const client = async (c: number) => {
    for (let i = 0; performance.now() < until; i++) {
      const status = await pushStatuses(server, kind, agent, [`capacity-${c}-${i}`])
      if (status === 200) answered++
      else if (status === 429) refused++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: 16 }, (_, c) => client(c)))
  agent.destroy()
  return { perSecond: answered / ((performance.now() - started) / 1000), refused }
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-realtime-"))
  const rows: Array<Row> = []
  try {
    const results: Record<string, Record<number, Awaited<ReturnType<typeof measure>>>> = {}
    const capacities: Record<string, Awaited<ReturnType<typeof capacity>>> = {}
    for (const kind of ["baseline", "engine"] as const) {
      const server = await startServer(kind, dir)
      try {
        results[kind] = {}
        await measure(server, kind, 1_000, WARMUP_SECONDS)
        for (const rate of RATES) results[kind][rate] = await measure(server, kind, rate, SECONDS)
        // last: its load must not reach the latency rows
        capacities[kind] = await capacity(server, kind)
      } finally {
        await server.stop()
      }
    }
    for (const rate of RATES) {
      const base = results["baseline"]![rate]!
      const ours = results["engine"]![rate]!
      const note = rate > UNBATCHED_UP_TO
        ? `${ours.total.toLocaleString("en")} statuses over ${SECONDS} s, a request every ${BATCH_MS} ms (≈ ${
          Math.round((rate * BATCH_MS) / 1000)
        } statuses each), latency from each status's arising, default rate limits`
        : `${ours.total.toLocaleString("en")} single-status requests over ${SECONDS} s, default rate limits`
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
    const engineCapacity = capacities["engine"]!
    process.stderr.write(
      `  capacity: engine ${engineCapacity.perSecond.toFixed(0)} single-status requests/s (${engineCapacity.refused} refused), relay ${
        capacities["baseline"]!.perSecond.toFixed(0)
      }\n`
    )
    rows.push({
      name: "realtime: single-status requests/s one process answers",
      unit: "requests/s",
      engine: engineCapacity.perSecond,
      baseline: capacities["baseline"]!.perSecond,
      target: null,
      note: `16 clients pushing back to back for ${SECONDS} s (closed loop); the load generator shares the machine`
    })
    report(rows)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === "serve") {
  process.on("SIGTERM", () => process.exit(0))
  if (process.argv[3] === "engine") await serveEngine(process.argv[4]!)
  else serveBaseline()
} else {
  await main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
