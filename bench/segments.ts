/**
 * Agent segments: statuses, each agent's in the order they arrive (some overlapping the one
 * before), resolved into non-overlapping segments and split into 15-minute intervals of a zone
 * with DST (Europe/Berlin), summed per agent, activity and interval.
 *
 * - engine: `Segments.apply` per status on the agent's open segments (those a later status can
 *   still touch), `Segments.splitAtBoundaries` per finished segment;
 * - baseline: a hand-written loop: the previous segment's end cut at the new start, the split
 *   by quarter-hour arithmetic (in Berlin every 15-minute interval is a UTC quarter).
 *
 * BENCH_SEGMENT_STATUSES (default 1,000,000; `--quick` 100,000) statuses of 1,000 agents.
 */
import { Bucketing, Segments } from "@acd-bridge/core"
import * as Either from "effect/Either"
import { performance } from "node:perf_hooks"
import { atLeast, report, size } from "./_lib.js"

const STATUSES = size("BENCH_SEGMENT_STATUSES", 1_000_000, 100_000)
const AGENTS = 1_000
const PER_AGENT = Math.ceil(STATUSES / AGENTS)
const T0 = Date.parse("2026-03-28T00:00:00Z")
const QUARTER = 900_000
const ACTIVITIES = ["READY", "TALK", "ACW", "BREAK"] as const

interface Status {
  readonly agent: number
  readonly activity: string
  readonly start: number
  readonly end: number
}

/** Statuses as they arrive: agent by agent interleaved; every fifth starts 5 s before the previous ends. */
const statuses: Array<Status> = (() => {
  const out: Array<Status> = []
  const at = new Array<number>(AGENTS).fill(T0)
  for (let k = 0; k < PER_AGENT; k++) {
    for (let a = 0; a < AGENTS && out.length < STATUSES; a++) {
      const n = k * AGENTS + a
      const duration = 30_000 + ((n * 7_919) % 1_170_000)
      const start = n % 5 === 0 && k > 0 ? at[a]! - 5_000 : at[a]!
      out.push({ agent: a, activity: ACTIVITIES[n % 4]!, start, end: start + duration })
      at[a] = start + duration
    }
  }
  return out
})()

const engine = () => {
  const zone = Either.getOrThrow(Bucketing.zone("Europe/Berlin"))
  const open: Array<ReadonlyArray<Segments.Segment & { readonly activity: string }>> = Array.from({ length: AGENTS }, () => [])
  const sums = new Map<string, number>()
  const finish = (agent: number, s: Segments.Segment & { readonly activity: string }) => {
    for (const part of Segments.splitAtBoundaries(s, 15, zone, s.end ?? s.start)) {
      const key = `${agent}|${s.activity}|${part.intervalStart}`
      sums.set(key, (sums.get(key) ?? 0) + part.ms)
    }
  }
  for (const status of statuses) {
    const current = Segments.apply(open[status.agent]!, { start: status.start, end: status.end, activity: status.activity })
    // segments ending at or before this start are final: statuses arrive in order
    const keep: Array<Segments.Segment & { readonly activity: string }> = []
    for (const s of current) {
      if (s.end !== null && s.end <= status.start) finish(status.agent, s)
      else keep.push(s)
    }
    open[status.agent] = keep
  }
  open.forEach((list, agent) => list.forEach((s) => finish(agent, s)))
  return sums
}

const baseline = () => {
  const last: Array<Status | undefined> = new Array(AGENTS)
  const sums = new Map<string, number>()
  const finish = (s: Status) => {
    let at = s.start
    while (at < s.end) {
      const quarter = at - (at % QUARTER)
      const until = Math.min(s.end, quarter + QUARTER)
      const key = `${s.agent}|${s.activity}|${quarter}`
      sums.set(key, (sums.get(key) ?? 0) + (until - at))
      at = until
    }
  }
  for (const status of statuses) {
    const previous = last[status.agent]
    if (previous !== undefined) {
      const end = Math.min(previous.end, status.start)
      if (end > previous.start) finish({ ...previous, end })
    }
    last[status.agent] = status
  }
  for (const s of last) if (s !== undefined) finish(s)
  return sums
}

const time = <A>(f: () => A): readonly [A, number] => {
  const t = performance.now()
  const a = f()
  return [a, (performance.now() - t) / 1000]
}
const [base, baseSeconds] = time(baseline)
const [ours, engineSeconds] = time(engine)
const total = (m: Map<string, number>) => Array.from(m.values()).reduce((a, b) => a + b, 0)
if (total(base) !== total(ours) || base.size !== ours.size) {
  throw new Error(`results differ: baseline ${total(base)} ms in ${base.size} rows, engine ${total(ours)} ms in ${ours.size}`)
}
report([{
  name: "segments: statuses → segments → 15-min intervals",
  unit: "statuses/s",
  engine: STATUSES / engineSeconds,
  baseline: STATUSES / baseSeconds,
  target: atLeast(0.5),
  note: `${STATUSES.toLocaleString("en")} statuses of ${AGENTS} agents, overlaps resolved, Europe/Berlin`
}])
