/**
 * Window replace in the in-memory store, alone and beside many other integrations: a pull
 * re-import of one day (interval aggregates, contacts and statuses, `replaceWindow`) into one
 * integration of a store that holds nobody else, and of a store that holds BENCH_OTHERS
 * (default 1,000) other integrations with two days of data each. The same-run baseline is the
 * store with nobody else: a store indexed per integration does the same work in both, so the
 * ratio stays near 1; a store that scans every row grows with the other integrations' data.
 *
 *   pnpm bench memory-replace
 */
import { Domain, Storage } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { performance } from "node:perf_hooks"
import { benchIntegration, atMost, report, size } from "./_lib.js"

const OTHERS = size("BENCH_OTHERS", 1_000, 100)
const REPLACES = size("BENCH_REPLACES", 30, 10)
const T0 = Date.parse("2026-01-05T00:00:00Z")
const QUARTER = 900_000
const DAY = 96 * QUARTER

const integration = (n: number, tenant: string) =>
  benchIntegration({ id: `bench-${tenant}-${n}`, tenantId: tenant, name: `Bench ${n}`, at: T0, dataKinds: ["contacts", "agentStatuses"] })

/** `days` days from `from`: a contact per quarter on two queues, and an agent status per hour. */
const contactsAndStatuses = (from: number, days: number): Domain.Batch => {
  const contacts: Array<Domain.ContactEvent> = []
  const statuses: Array<Domain.AgentStatus> = []
  for (let q = 0; q < days * 96; q++) {
    for (const queue of ["a", "b"]) {
      contacts.push({
        queueIdentifier: queue,
        queueName: queue,
        channel: "calls",
        timestamp: DateTime.unsafeMake(from + q * QUARTER),
        offered: true,
        handled: true,
        durationMs: 60_000
      })
    }
    if (q % 4 === 0) {
      statuses.push({
        agentIdentifier: `agent-${q % 3}`,
        activityIdentifier: "READY",
        start: DateTime.unsafeMake(from + q * QUARTER),
        end: DateTime.unsafeMake(from + (q + 2) * QUARTER)
      })
    }
  }
  return { contacts, aggregates: [], statuses }
}

/** One day re-imported: 96 aggregates per queue, and statuses. */
const reimport = (from: number): Domain.Batch => ({
  contacts: [],
  aggregates: Array.from({ length: 96 * 2 }, (_, k) => ({
    queueIdentifier: k % 2 === 0 ? "a" : "b",
    queueName: k % 2 === 0 ? "a" : "b",
    channel: "calls" as const,
    start: DateTime.unsafeMake(from + Math.floor(k / 2) * QUARTER),
    lengthMinutes: 15 as const,
    ...Domain.emptyMeasures,
    offered: 3,
    handled: 2,
    handlingMs: 120_000
  })),
  statuses: contactsAndStatuses(from, 1).statuses
})

let queueIds = 0
const request = (i: Domain.Integration, batch: Domain.Batch, replaceWindow?: { from: number; to: number }) => ({
  integrationId: i.id,
  batch,
  mode: replaceWindow ? ("pull" as const) : ("push" as const),
  replaceWindow,
  stagingLimit: 0,
  now: T0,
  // read by stores that take their queue ids from the caller (before `Storage.make` named them)
  newQueueId: () => Domain.QueueId.make(`queue-${queueIds++}`)
})

/** Milliseconds per replace of one day in one integration, beside `others` integrations. */
const measure = (others: number) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    for (let n = 0; n < others; n++) {
      const other = integration(n, `other-${n % 50}`)
      yield* storage.integrations.insert(other)
      yield* storage.data.ingest(request(other, contactsAndStatuses(T0, 2)))
    }
    const target = integration(0, "target")
    yield* storage.integrations.insert(target)
    yield* storage.data.ingest(request(target, contactsAndStatuses(T0, 2)))
    const started = performance.now()
    for (let r = 0; r < REPLACES; r++) {
      const day = T0 + (r % 2) * DAY
      yield* storage.data.ingest(request(target, reimport(day), { from: day, to: day + DAY }))
    }
    return (performance.now() - started) / REPLACES
  }).pipe(Effect.provide(Storage.layerMemory))

const main = Effect.gen(function*() {
  // warm up the code paths once, then measure
  yield* measure(10)
  const alone = yield* measure(0)
  const beside = yield* measure(OTHERS)
  process.stderr.write(
    `memory-replace: one day re-imported into one integration (${REPLACES} times), memory store\n` +
      `  alone:                          ${alone.toFixed(2).padStart(9)} ms per replace\n` +
      `  beside ${String(OTHERS).padEnd(5)} other integrations: ${beside.toFixed(2).padStart(9)} ms per replace\n` +
      `  ratio beside / alone: ${(beside / alone).toFixed(2)}\n`
  )
  report([{
    name: "memory store: window replace beside other integrations",
    unit: "ms/replace",
    engine: beside,
    baseline: alone,
    target: atMost(2),
    note: `one day re-imported ${REPLACES} times, beside ${OTHERS} other integrations vs alone`
  }])
})

Effect.runPromise(main)
