/**
 * The load generator that push-http (SQLite) and push-pg (PostgreSQL) share: a push server
 * started as a child (the engine or a baseline), and clients sending serialised contact-event
 * batches to it, timed, with the server's CPU time, RSS and, between parts, its memory after
 * full GCs.
 */
import { performance } from "node:perf_hooks"
import type { BenchChild, MemoryProbe } from "./_lib.js"
import { cpuMsOf, percentile, pushBodies, rssMbOf, startChild } from "./_lib.js"

/** What a push server prints once it listens. */
export interface PushInfo {
  readonly port: number
  readonly apiKey: string
  readonly integrationId: string
}

/** A started push server. */
export interface PushServer extends BenchChild<PushInfo> {
  /** RSS once listening, before any request, MB */
  readonly rssIdle: number
  /** CPU time the server process has used so far, ms (user + system; undefined without /proc) */
  readonly cpuMs: () => number | undefined
}

/** `<file> serve <args…>`, with memory probes (the child calls `answerMemoryProbes`). */
export const startPushServer = async (
  file: string,
  args: ReadonlyArray<string>,
  profileDir: string | undefined
): Promise<PushServer> => {
  const child = await startChild<PushInfo>(file, args, { profileDir, memoryProbe: true })
  return { ...child, rssIdle: (await rssMbOf(child.pid)) ?? 0, cpuMs: () => cpuMsOf(child.pid) }
}

/** The load. */
export interface Load {
  readonly records: number
  readonly batch: number
  readonly clients: number
  /** untimed batches first (JIT, connections), on other queues */
  readonly warmup: number
  /** an Idempotency-Key on every request */
  readonly idempotency: boolean
  /**
   * the run in this many parts with a memory probe after each (untimed), so memory growth is
   * the slope after the first part (caches and heap filled), not the warm-up's
   */
  readonly parts: number
}

/** Sends the load to a push server and measures it. */
export const drivePush = async (server: PushServer, load: Load) => {
  const url = `http://127.0.0.1:${server.info.port}/external-systems/contact-events`
  const headers = (i: number): Record<string, string> => ({
    authorization: `Bearer ${server.info.apiKey}`,
    "content-type": "application/json",
    ...(load.idempotency ? { "idempotency-key": `bench-${i}` } : {})
  })
  const send = async (body: string, i: number) => {
    const response = await fetch(url, { method: "POST", headers: headers(i), body })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`${response.status}: ${text.slice(0, 300)}`)
  }
  /** `each(i)` for i in [from, to), by `load.clients` clients at once */
  const inParallel = async (from: number, to: number, each: (i: number) => Promise<void>) => {
    let next = from
    await Promise.all(Array.from({ length: load.clients }, async () => {
      while (next < to) await each(next++)
    }))
  }
  // the same for both servers: other queues, same shape
  const warm = pushBodies(server.info.integrationId, 0, load.warmup * load.batch, load.batch)
    .map((b) => b.replaceAll("\"q-", "\"warm-"))
  await inParallel(0, warm.length, (i) => send(warm[i]!, -1 - i))

  const all = pushBodies(server.info.integrationId, 0, load.records, load.batch)
  const latencies: Array<number> = []
  let rssPeak = (await rssMbOf(server.pid)) ?? 0
  const sampler = setInterval(() => {
    void rssMbOf(server.pid).then((mb) => {
      rssPeak = Math.max(rssPeak, mb ?? 0)
    })
  }, 50)
  const afterPart: Array<MemoryProbe> = []
  let seconds = 0
  let cpuMs: number | undefined = 0
  for (let part = 1; part <= load.parts; part++) {
    const started = performance.now()
    const cpuBefore = server.cpuMs()
    await inParallel(Math.round((all.length * (part - 1)) / load.parts), Math.round((all.length * part) / load.parts), async (i) => {
      const t = performance.now()
      await send(all[i]!, i)
      latencies.push(performance.now() - t)
    })
    seconds += (performance.now() - started) / 1000
    const cpuAfter = server.cpuMs()
    cpuMs = cpuMs === undefined || cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuMs + cpuAfter - cpuBefore
    if (load.parts > 1) afterPart.push(await server.memory())
  }
  clearInterval(sampler)
  rssPeak = Math.max(rssPeak, (await rssMbOf(server.pid)) ?? 0)
  latencies.sort((a, b) => a - b)
  const first = afterPart[0]
  const last = afterPart[afterPart.length - 1]
  // records pushed between the first and the last probe
  const measured = first === undefined ? 0 : load.records - Math.min(load.records, Math.round(all.length / load.parts) * load.batch)
  const per1M = (growth: number) => (measured === 0 ? 0 : (growth * 1_000_000) / measured)
  return {
    rssIdle: server.rssIdle,
    rssPeak,
    rssGrowthPer1M: per1M((last?.rssMb ?? 0) - (first?.rssMb ?? 0)),
    heapGrowthPer1M: per1M((last?.heapMb ?? 0) - (first?.heapMb ?? 0)),
    heapAfter: last?.heapMb ?? 0,
    measured,
    recordsPerSecond: load.records / seconds,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    // the server's CPU time per 1,000 records (the clock ticks are 10 ms: meaningful over a whole run)
    cpuMsPer1000: cpuMs === undefined ? undefined : (cpuMs * 1000) / load.records
  }
}

/** What `drivePush` measured. */
export type PushResult = Awaited<ReturnType<typeof drivePush>>

/** One line of a push bench's output. */
export const pushLine = (name: string, r: PushResult): string =>
  `${name.padEnd(44)} ${Math.round(r.recordsPerSecond).toLocaleString("en").padStart(10)} rec/s   ` +
  `p50 ${r.p50.toFixed(1).padStart(7)} ms   p99 ${r.p99.toFixed(1).padStart(7)} ms` +
  (r.cpuMsPer1000 === undefined ? "" : `   server CPU ${r.cpuMsPer1000.toFixed(1).padStart(5)} ms / 1,000 records`)
