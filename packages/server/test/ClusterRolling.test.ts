/**
 * Three built servers on one PostgreSQL database (ACD_BRIDGE_CLUSTER=true), 60 integrations:
 * 44 pulling from the testkit's fake source, 5 from Five9 simulators and 5 from Vonage
 * simulators (each on its own loopback port, serving a scenario with IVR time, transfers and
 * overflows between queues, breakouts, consults, agent-to-agent transfers, talks of an hour or
 * more, late contacts and late corrections), and 6 fed by pushes that go on all the time.
 * The simulators show their day as it stood when half its corrections were written; once the
 * vendors' histories are imported the sources write the rest (late contacts, late corrections
 * of contacts already imported) and a re-import of the day is requested through whichever node,
 * while the nodes go away and come back.
 *
 * The fake source is slowed while nodes go away (every read takes 30 s, `FAKE_LATENCY_FILE`),
 * so every disruption catches history windows in flight: one node is SIGKILLed, then the others
 * are restarted one at a time (SIGTERM, started again on the same port, wait until it is healthy
 * and holds its share) and the killed one comes back: a rolling restart of all three. The
 * pushers keep sending to every node's address all along, the one going away included: a push
 * that gets no answer (connection refused or reset, 5xx) is sent again with the same
 * Idempotency-Key to the next node in the rotation.
 *
 * In the end: each node that went away had history windows in flight (started in its log,
 * never finished), and each of them was committed exactly once, by a run that started after
 * the node went away; every history window was committed once and no integration's runs
 * overlap (never two nodes at once); every pulled integration's store equals the source's truth
 * exactly (the fake source's records; the vendor scenario's final intervals, every measure, the
 * re-import having run); every push answered 200 is stored exactly once, none twice.
 */
import { Five9Simulator } from "@acd-bridge/five9/simulator"
import { FakeSource, Scenario } from "@acd-bridge/testkit"
import { VonageSimulator } from "@acd-bridge/vonage/simulator"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { type ClusterDatabase, leasesOf, makeDatabase, sleep, startNode } from "./clusterSupport.js"
import { api, type IntervalRow, iso, killAll, portIsFree, type Running, stop, waitFor } from "./support.js"

const FAKE = 44
const FIVE9 = 5
const VONAGE = 5
const PULLED = FAKE + FIVE9 + VONAGE
const PUSHED = 6
const HISTORY_DAYS = 4
/** how long a fake read takes while nodes go away: longer than any phase of the test */
const SLOW_MS = 30_000
const HOUR = 3_600_000
const plugin = fileURLToPath(new URL("./fixtures/fake-plugin.mjs", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "acd-cluster-rolling-"))
const latencyFile = join(dir, "latency")

type Name = "a" | "b" | "c"
const names: ReadonlyArray<Name> = ["a", "b", "c"]

let db: ClusterDatabase
const nodes = new Map<Name, Running | undefined>()
/** each node's port: a restarted node listens where it listened before */
const ports = new Map<Name, number>()

const start = async (name: Name) => {
  const port = ports.get(name)
  if (port !== undefined) await waitFor(async () => (await portIsFree(port)) ? true : undefined, 20_000, `port ${port} to be free`)
  const node = await startNode(db.url, name, {
    ACD_BRIDGE_PLUGINS: plugin,
    FAKE_LATENCY_FILE: latencyFile,
    FAKE_TRACE_READS: "true",
    ACD_BRIDGE_LOG_LEVEL: "Info",
    ...(port === undefined ? {} : { PORT: String(port) })
  })
  if (port !== undefined) assert.strictEqual(node.port, port)
  ports.set(name, node.port)
  nodes.set(name, node)
  return node
}

const t0 = Date.now()
const phase = (what: string) => console.info(`cluster rolling test: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`)

const live = () => Array.from(nodes.values()).filter((n): n is Running => n !== undefined)

const vendorTz = "America/Los_Angeles"
/** the start of the data centre's day that holds `ms` */
const localMidnight = (ms: number) =>
  DateTime.toEpochMillis(DateTime.startOf(DateTime.unsafeMakeZoned(ms, { timeZone: vendorTz }), "day"))
// the vendor scenarios: the data centre's last whole day that ended six hours ago or more
// (everything written, corrections included, by the time the simulators show it). A whole local
// day: the scenario staffs only shifts that fit in it, so 24 hours cut at, say, 11:00 there
// staff two of five agents and no seed has an agent-to-agent transfer or a consult
const scenarioTo = localMidnight(Date.now() - 6 * HOUR)
const scenarioFrom = localMidnight(scenarioTo - 1)
/** as the vendor packages' cadence tests: every counting feature, corrections up to 3 hours late */
const features = {
  ...Scenario.allFeatures,
  corrections: { share: 0.1, minDelaySeconds: 60, maxDelaySeconds: 3 * 3600 }
} as const

/**
 * The simulators' first present: half the late corrections written. The histories are read as
 * the source stands then; later the source writes the rest and an operator asks for a re-import.
 */
const firstPresent = (scenario: Scenario.Scenario) => scenario.corrections[Math.floor(scenario.corrections.length / 2)]?.at ?? scenario.to
const DAY = 24 * HOUR
/** the simulators' last present: everything written, every correction */
const settled = (scenario: Scenario.Scenario) => scenario.to + DAY

/** The shapes a connector must count right, and how often a scenario has each. */
const shapes = (scenario: Scenario.Scenario) => {
  const visits = scenario.contacts.flatMap((c) => c.visits)
  const first = firstPresent(scenario)
  const writtenAt = new Map(scenario.contacts.map((c) => [c.id, c.writtenAt]))
  return {
    "transfers and overflows to another queue": scenario.contacts.filter((c) => c.visits.length > 1).length,
    "agent-to-agent transfers": visits.filter((v) => v.legs.filter((l) => l.kind === "agent").length > 1).length,
    "consults": visits.flatMap((v) => v.legs).filter((l) => l.kind === "consult").length,
    "breakouts": visits.filter((v) => v.outcome === "breakout").length,
    "talks of an hour or more": visits.flatMap((v) => v.legs).filter((l) => l.talkMs >= HOUR).length,
    "corrections written after the histories were read, of contacts read then": scenario.corrections.filter((k) =>
      k.at > first && writtenAt.get(k.contactId)! <= first
    ).length,
    "contacts written after the histories were read": scenario.contacts.filter((c) => c.writtenAt > first).length
  }
}

/**
 * The day's scenario of the first seed from `seed` on that has every shape (a day of two or three
 * small queues can miss one by chance, and the day moves with the clock).
 */
const scenarioWithEveryShape = (seed: number, queues: ReadonlyArray<Scenario.QueueSpec>) => {
  for (let s = seed; s < seed + 200; s++) {
    const scenario = Scenario.generate({ ...features, seed: s, from: scenarioFrom, to: scenarioTo, timezone: vendorTz, agents: 5, queues })
    if (Object.values(shapes(scenario)).every((n) => n > 0)) return scenario
  }
  throw new Error(`no seed from ${seed} gives a scenario with every shape`)
}

const five9Scenario = scenarioWithEveryShape(13, [
  { identifier: "SK Sales", name: "Sales", channel: "calls", dailyPeak: 9 },
  { identifier: "SK Care", name: "Care", channel: "calls", dailyPeak: 6, talkMeanSeconds: 300 }
])
const vonageScenario = scenarioWithEveryShape(12, [
  { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 9 },
  { identifier: "q-care", name: "Care", channel: "calls", dailyPeak: 6, talkMeanSeconds: 300 },
  { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 3 }
])
const simulators = Effect.runSync(Scope.make())
const five9Sims: Array<Five9Simulator.Five9Simulator> = []
const vonageSims: Array<VonageSimulator.VonageSimulator> = []

beforeAll(async () => {
  writeFileSync(latencyFile, String(SLOW_MS))
  db = await makeDatabase("acd_cluster_rolling")
  // one simulator per integration: a Five9 user makes one call at a time (a second one at
  // once closes the session), so every integration has its own account, as tenants do
  for (let i = 0; i < FIVE9; i++) {
    five9Sims.push(
      await Effect.runPromise(Scope.extend(Five9Simulator.make(five9Scenario, { now: firstPresent(five9Scenario) }), simulators))
    )
  }
  for (let i = 0; i < VONAGE; i++) {
    vonageSims.push(
      await Effect.runPromise(Scope.extend(VonageSimulator.make(vonageScenario, { now: firstPresent(vonageScenario) }), simulators))
    )
  }
  await start("a")
  await Promise.all([start("b"), start("c")])
}, 120_000)

afterAll(async () => {
  for (const node of live()) if (node.child.exitCode === null && node.child.signalCode === null) await stop(node)
  killAll()
  await db?.drop()
  await Effect.runPromise(Scope.close(simulators, Exit.void))
  rmSync(dir, { recursive: true, force: true })
})

/**
 * Pushes one contact per request into the push integrations until stopped, round robin over
 * every node's address, the one going away included. A push that gets no answer is sent again
 * with the same Idempotency-Key to the next node: a retry of an applied push replays its answer.
 */
const pusher = (targets: ReadonlyArray<{ readonly id: string; readonly apiKey: string }>, base: number) => {
  let running = true
  let seq = 0
  let retried = 0
  /** pushes answered 200 by a node after another attempt got no answer */
  let recovered = 0
  /** node → attempts that got no answer there (connection refused or reset, 5xx, timeout) */
  const unanswered = new Map<Name, number>(names.map((n) => [n, 0]))
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
      const deadline = Date.now() + 90_000
      for (let attempt = 0;; attempt++) {
        const name = names[turn++ % names.length]!
        try {
          const response = await fetch(`http://127.0.0.1:${ports.get(name)!}/external-systems/contact-events`, {
            method: "POST",
            headers: { authorization: `Bearer ${target.apiKey}`, "content-type": "application/json", "idempotency-key": `push-${n}` },
            body,
            signal: AbortSignal.timeout(15_000)
          })
          await response.text()
          if (response.status === 200) {
            accepted.get(target.id)!.push(minute)
            if (attempt > 0) recovered++
            break
          }
          if (response.status < 500) throw new Error(`push ${n} refused with ${response.status}`)
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("push ")) throw error
        }
        unanswered.set(name, unanswered.get(name)! + 1)
        retried++
        if (Date.now() > deadline) throw new Error(`push ${n} found no node in 90 s`)
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
      return { accepted, retried, recovered, unanswered, sent: seq }
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

/**
 * The fake reads (integration and window start) a node had in flight when it was signalled, its
 * output then `mark` characters long: started, never answered by the source, and not closed
 * before the signal (a read closed after it was cut off by the node's going away).
 */
const readsInFlight = (output: string, mark = output.length): Set<string> => {
  const open = new Set<string>()
  const answered = new Set<string>()
  let offset = 0
  for (const line of output.split("\n")) {
    const at = offset
    offset += line.length + 1
    if (!line.includes("fake read")) continue
    let parsed: { message?: unknown; annotations?: Record<string, unknown> }
    try {
      parsed = JSON.parse(line) as typeof parsed
    } catch {
      continue
    }
    const key = `${String(parsed.annotations?.["integrationId"])}|${Date.parse(String(parsed.annotations?.["from"]))}`
    if (parsed.message === "fake read started" && at < mark) open.add(key)
    else if (parsed.message === "fake read ended") answered.add(key)
    else if (parsed.message === "fake read closed" && at < mark) open.delete(key)
  }
  for (const key of answered) open.delete(key)
  return open
}

/** What a node that went away had in flight, and when it went. */
interface Disruption {
  readonly node: Name
  readonly how: "SIGKILL" | "SIGTERM"
  readonly at: number
  readonly inFlight: ReadonlySet<string>
}
const disruptions: Array<Disruption> = []

/** Waits until the node has fake reads in flight, so that the disruption provably catches some. */
const whileReading = (name: Name) =>
  waitFor(async () => readsInFlight(nodes.get(name)!.output()).size > 0 ? true : undefined, 30_000, `${name} to have reads in flight`)

/** Restarts a node with its reads in flight: SIGTERM (it hands its leases back), start again on its port, wait until it serves and holds its share. */
const restart = async (name: Name, share: number) => {
  const node = nodes.get(name)!
  await whileReading(name)
  const at = Date.now()
  const mark = node.output().length
  assert.strictEqual(await stop(node), 0, node.output().slice(-3_000))
  disruptions.push({ node: name, how: "SIGTERM", at, inFlight: readsInFlight(node.output(), mark) })
  nodes.set(name, undefined)
  const again = await start(name)
  const health = await api(again, "GET", "/health")
  assert.strictEqual(health.status, 200)
  await waitFor(async () => {
    const held = (await leasesOf(db)).filter((l) => l.node_id === name && l.live).length
    return held >= share - 1 ? true : undefined
  }, 30_000, `${name} to take its share again`)
}

/** `GET /v1/intervals` of an integration, in the shape `Scenario.expectedIntervals` has (sums in ms). */
const intervalsOf = async (id: string, from: number, to: number, length: 15 | 60): Promise<Array<Scenario.ExpectedInterval>> => {
  const query = new URLSearchParams({ integrationId: id, from: iso(from), to: iso(to), length: String(length), timezone: "UTC" })
  return (await api<Array<Record<string, unknown>>>(live()[0]!, "GET", `/v1/intervals?${query.toString()}`)).body.map(Scenario.intervalOfAnswer)
}

const byInterval = (rows: ReadonlyArray<Scenario.ExpectedInterval>) =>
  Object.fromEntries(rows.map((r) => [`${iso(r.start)}|${r.queueIdentifier}|${r.queueName}|${r.channel}`, { ...r }]))

/**
 * The vendor scenarios' final truth, as the vendor packages' own tests count it: Five9 at the
 * call's start with the skill as the queue, Vonage at the queue entry with the queue's name as
 * its identifier.
 */
const five9Truth = (length: 15 | 60) =>
  byInterval(
    Scenario.expectedIntervals(five9Scenario, { length, timezone: "UTC", instant: "contactStart" })
      .map((r) => ({ ...r, queueName: r.queueIdentifier }))
  )
const vonageTruth = (length: 15 | 60) =>
  byInterval(Scenario.expectedIntervals(vonageScenario, { length, timezone: "UTC" }).map((r) => ({ ...r, queueIdentifier: r.queueName })))
/** the range the vendor stores are compared over: the day with room on both sides */
const reportFrom = scenarioFrom - 6 * HOUR
const reportTo = scenarioTo + 6 * HOUR

describe("three servers, 60 integrations (fake source, Five9 and Vonage simulators, pushes), a kill and a rolling restart with windows in flight", () => {
  it("loses nothing and imports every window once", async () => {
    console.info(
      `cluster rolling test: vendor scenarios: Five9 ${JSON.stringify(shapes(five9Scenario))}, Vonage ${JSON.stringify(shapes(vonageScenario))}`
    )
    const [a, b, c] = [nodes.get("a")!, nodes.get("b")!, nodes.get("c")!]
    const create = async (via: Running, body: Record<string, unknown>) => {
      const created = await api<{ id: string }>(via, "POST", "/v1/integrations", {
        schedule: { type: "historical", everyMinutes: 15 },
        timezone: "UTC",
        historyDepthDays: HISTORY_DAYS,
        dataKinds: ["contacts"],
        ...body
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      return created.body.id
    }
    const fake: Array<string> = []
    for (let i = 0; i < FAKE; i++) {
      fake.push(await create([a, b, c][i % 3]!, { name: `fake ${i}`, connector: "fake", config: { apiKey: "fake-secret" } }))
    }
    const five9: Array<string> = []
    for (const [i, sim] of five9Sims.entries()) {
      // the call log with the SKILL column, as the Five9 cadence test reads it
      const config = sim.config({
        callLog: { folder: "Shared Reports", report: "Call Log with Skills", queueColumn: "SKILL" },
        import: ["contacts"]
      })
      five9.push(await create([a, b, c][i % 3]!, { name: `five9 ${i}`, connector: "five9", config }))
    }
    const vonage: Array<string> = []
    for (const [i, sim] of vonageSims.entries()) {
      const config = sim.config({ pageSize: 500, import: ["contacts"] })
      vonage.push(await create([a, b, c][i % 3]!, { name: `vonage ${i}`, connector: "vonage", config }))
    }
    const pulled = [...fake, ...five9, ...vonage]
    const pushed: Array<{ id: string; apiKey: string }> = []
    for (let i = 0; i < PUSHED; i++) {
      const via = [a, b, c][i % 3]!
      const id = await create(via, { name: `pushed ${i}`, connector: "api-push" })
      const key = await api<{ apiKey: string }>(via, "POST", `/v1/integrations/${id}/api-key`)
      pushed.push({ id, apiKey: key.body.apiKey })
    }
    phase("integrations created")
    const pushBase = Math.floor(Date.now() / HOUR) * HOUR - 20 * HOUR
    const pushes = pusher(pushed, pushBase)

    // every pulled integration leased, a third on each node
    const share = Math.ceil(PULLED / 3)
    await waitFor(async () => {
      const held = (await leasesOf(db)).filter((l) => l.node_id !== null && l.live)
      return held.length === PULLED && names.every((n) => held.filter((l) => l.node_id === n).length === share)
        ? true
        : undefined
    }, 30_000, "the leases to spread over the three nodes")
    phase("leases spread")

    // c is SIGKILLed with windows in flight: its integrations move
    await whileReading("c")
    const ofC = (await leasesOf(db)).filter((l) => l.node_id === "c").map((l) => l.integration_id)
    const killedAt = Date.now()
    const mark = c.output().length
    c.child.kill("SIGKILL")
    await c.exited
    disruptions.push({ node: "c", how: "SIGKILL", at: killedAt, inFlight: readsInFlight(c.output(), mark) })
    nodes.set("c", undefined)
    await waitFor(async () => {
      const rows = await leasesOf(db)
      return ofC.every((id) => rows.some((r) => r.integration_id === id && r.live && r.node_id !== "c")) ? true : undefined
    }, 20_000, "c's integrations to move")
    phase("c's integrations moved")

    // the vendors' histories were read as the sources stood at their first present; now the
    // sources write the rest (late contacts, late corrections of contacts already imported) and an
    // operator asks for a re-import of the day, through whichever node, while nodes restart
    const vendors = [...five9, ...vonage]
    await waitFor(async () => {
      const all = await allCursors()
      return vendors.every((id) => historyDone(all.get(id) ?? new Map())) ? true : undefined
    }, 60_000, "the vendors' histories to be imported")
    const intervalsBefore = [await intervalsOf(five9[0]!, reportFrom, reportTo, 15), await intervalsOf(vonage[0]!, reportFrom, reportTo, 15)]
    assert.notDeepEqual(byInterval(intervalsBefore[0]!), five9Truth(15), "the Five9 source had more to write")
    assert.notDeepEqual(byInterval(intervalsBefore[1]!), vonageTruth(15), "the Vonage source had more to write")
    for (const sim of five9Sims) sim.setNow(settled(five9Scenario))
    for (const sim of vonageSims) sim.setNow(settled(vonageScenario))
    for (const [i, id] of vendors.entries()) {
      const requested = await api(live()[i % live().length]!, "POST", `/v1/integrations/${id}/reimport`, {
        from: iso(scenarioFrom),
        to: iso(scenarioTo + 6 * HOUR)
      })
      assert.strictEqual(requested.status, 202, JSON.stringify(requested.body))
    }
    phase("the vendors' day re-import requested")

    // then a and b are restarted one at a time, each with its reads in flight, pushes going on
    // to all three addresses; c comes back last
    await restart("a", Math.ceil(PULLED / 2))
    phase("a restarted")
    await restart("b", Math.ceil(PULLED / 2))
    phase("b restarted")
    await start("c")
    await waitFor(async () => {
      const held = (await leasesOf(db)).filter((l) => l.node_id === "c" && l.live).length
      return held >= share - 1 ? true : undefined
    }, 30_000, "c to take its share again")
    phase("c back")

    // the histories were still being imported all along: now the source answers at once
    const before = await allCursors()
    const stillPending = fake.filter((id) => !historyDone(before.get(id) ?? new Map())).length
    console.info(`cluster rolling test: ${stillPending} of ${FAKE} fake histories still being imported after the rolling restart`)
    assert.isAbove(stillPending, 0, "the histories were in flight through every restart")
    writeFileSync(latencyFile, "0")
    await waitFor(async () => {
      const all = await allCursors()
      return pulled.every((id) => historyDone(all.get(id) ?? new Map())) &&
          vendors.every((id) => {
            const c = all.get(id) ?? new Map<string, number>()
            return (c.get("backfill.reimport.next") ?? 0) >= (c.get("backfill.reimport.to") ?? Number.POSITIVE_INFINITY)
          })
        ? true
        : undefined
    }, 120_000, "every history import and the vendors' re-imports to finish")
    phase("every history imported")
    const { accepted, recovered, retried, sent, unanswered } = await pushes.stop()
    console.info(
      `cluster rolling test: ${sent} pushes sent, ${retried} attempts got no answer (${
        names.map((n) => `${n}: ${unanswered.get(n)}`).join(", ")
      }), ${recovered} pushes answered on a later attempt`
    )
    // the pushes went to the nodes while they went away
    for (const n of names) assert.isAbove(unanswered.get(n)!, 0, `pushes sent to ${n} while it was away`)

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
    const windows = new Map<string, Array<number>>()
    for (const r of runs.filter((r) => r.kind === "history")) {
      const key = `${r.integration_id}|${Number(r.window_start)}`
      windows.set(key, [...(windows.get(key) ?? []), Number(r.started_at)])
    }
    assert.deepStrictEqual(Array.from(windows).filter(([, n]) => n.length > 1), [], "history windows committed more than once")
    assert.isAtLeast(windows.size, PULLED * HISTORY_DAYS)
    for (const id of pulled) {
      const mine = runs.filter((r) => r.integration_id === id)
        .map((r) => ({ from: Number(r.started_at), to: Number(r.started_at) + Number(r.duration_ms) }))
        .sort((x, y) => x.from - y.from)
      for (let i = 1; i < mine.length; i++) assert.isAtMost(mine[i - 1]!.to, mine[i]!.from, `two runs of ${id} overlap`)
    }

    // every node that went away had history windows in flight; each was committed once, by a
    // run that started after the node went away (re-run elsewhere or after its restart)
    for (const d of disruptions) {
      const history = Array.from(d.inFlight).filter((key) => windows.has(key))
      console.info(`cluster rolling test: ${d.node} (${d.how}) had ${d.inFlight.size} reads in flight, ${history.length} of history windows`)
      assert.isAbove(history.length, 0, `${d.node} had history windows in flight when it went away (${d.how})`)
      for (const key of history) {
        const starts = windows.get(key)!
        assert.strictEqual(starts.length, 1, key)
        assert.isAbove(starts[0]!, d.at, `${key}, in flight on ${d.node}, committed by a run that started after ${d.how}`)
      }
    }

    // the fake source's stores equal one clean import: per queue, channel and hour, what the source holds
    const source = await Effect.runPromise(FakeSource.make({ seed: 11, agents: 0, contactsPerQuarter: 2, latency: Duration.zero }))
    const cursorsAtEnd = await allCursors()
    for (const id of fake) {
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

    // the vendors' stores equal their scenario's final truth, every measure of every queue and
    // interval: the re-import, run by the owners while nodes restarted, brought the late data in
    for (const id of vendors) {
      const [reimports] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM import_runs WHERE integration_id = $1 AND kind = 'reimport' AND error IS NULL`,
        [id]
      )
      assert.isAbove(reimports!.n, 0, `re-import runs of ${id}`)
    }
    for (const length of [15, 60] as const) {
      assert.isAbove(Object.keys(five9Truth(length)).length, 20)
      assert.isAbove(Object.keys(vonageTruth(length)).length, 20)
      for (const id of five9) {
        assert.deepStrictEqual(byInterval(await intervalsOf(id, reportFrom, reportTo, length)), five9Truth(length), `five9 integration ${id}`)
      }
      for (const id of vonage) {
        assert.deepStrictEqual(byInterval(await intervalsOf(id, reportFrom, reportTo, length)), vonageTruth(length), `vonage integration ${id}`)
      }
    }
  }, 420_000)
})
