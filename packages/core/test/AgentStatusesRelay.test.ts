/**
 * The realtime feed over a relay (`AgentStatuses.StatusRelay`), as several engine processes
 * sharing a database use it: statuses accepted by one process reach the subscribers of every
 * other, numbered by the relay, and a subscriber resumes on any process, also one that started
 * after the statuses it missed.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import { AgentStatuses, type FeedItem, type RelayedStatus, StatusRelay } from "../src/AgentStatuses.js"
import type { AgentStatus } from "../src/Domain.js"
import { IntegrationId } from "../src/Domain.js"
import * as Storage from "../src/Storage.js"
import { tenant } from "./fixtures.js"

/** A relay in memory: numbers what is sent, hands it to every process, keeps the last `keep`. */
const memoryRelay = (keep: number) =>
  Effect.gen(function*() {
    const hub = yield* PubSub.unbounded<RelayedStatus>()
    const kept: Array<RelayedStatus> = []
    let seq = 100
    return StatusRelay.of({
      run: "0a0b0c0d",
      send: (tenantId, statuses) =>
        Effect.suspend(() => {
          const items = statuses.map((status) => ({ tenantId, seq: (seq += 3), status }))
          kept.push(...items)
          if (kept.length > keep) kept.splice(0, kept.length - keep)
          return PubSub.publishAll(hub, items)
        }),
      received: Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue)),
      since: (tenantId, after, limit) =>
        Effect.sync(() => {
          if (kept.length > 0 && after + 3 < kept[0]!.seq) return Option.none()
          const rows = kept.filter((r) => r.tenantId === tenantId && r.seq > after)
          return rows.length > limit ? Option.none() : Option.some(rows)
        })
    })
  })

const integrationId = IntegrationId.make("int-relay")
const status = (agent: string): AgentStatus => ({
  agentIdentifier: agent,
  activityIdentifier: "READY",
  start: DateTime.unsafeMake("2026-03-02T09:00:00Z"),
  end: null
})

/** One engine process's feed over the shared relay and store. */
const node = (relay: Context.Tag.Service<StatusRelay>, storage: Context.Tag.Service<Storage.Storage>) =>
  Layer.build(AgentStatuses.Default).pipe(
    Effect.map((context) => Context.get(context, AgentStatuses)),
    Effect.provideService(StatusRelay, relay),
    Effect.provideService(Storage.Storage, storage)
  )

const agentsOf = (items: Chunk.Chunk<FeedItem>) =>
  Chunk.toReadonlyArray(items).map((i) => (i._tag === "Status" ? i.status.agentIdentifier : `reset: ${i.reason}`))

describe("AgentStatuses over a relay", () => {
  it.scoped("a status accepted by one process reaches another's subscriber; resuming works on any process", () =>
    Effect.gen(function*() {
      const relay = yield* memoryRelay(1_000)
      const storage = yield* Effect.provide(Storage.Storage, Storage.layerMemory)
      const a = yield* node(relay, storage)
      const b = yield* node(relay, storage)
      const onB = yield* b.resume(tenant, integrationId)
      yield* a.publish(tenant, integrationId, [status("ann"), status("bob")])
      yield* a.publish(tenant, integrationId, [status("cid")])
      const received = yield* Stream.runCollect(Stream.take(onB, 3))
      assert.deepStrictEqual(agentsOf(received), ["ann", "bob", "cid"])
      const ids = Chunk.toReadonlyArray(received).map((i) => i.id)
      // the relay's numbers, not this process's count
      assert.deepStrictEqual(ids, ["0a0b0c0d-103", "0a0b0c0d-106", "0a0b0c0d-109"])

      // back on process A with B's id of the first: what came after it
      const onA = yield* a.resume(tenant, integrationId, ids[0])
      assert.deepStrictEqual(agentsOf(yield* Stream.runCollect(Stream.take(onA, 2))), ["bob", "cid"])

      // a process started after those statuses replays them from the relay
      const c = yield* node(relay, storage)
      const onC = yield* c.resume(tenant, integrationId, ids[0])
      yield* a.publish(tenant, integrationId, [status("dee")])
      assert.deepStrictEqual(agentsOf(yield* Stream.runCollect(Stream.take(onC, 3))), ["bob", "cid", "dee"])

      // an id of another numbering can't be resumed: a reset, then live
      const onD = yield* c.resume(tenant, integrationId, "ffffffff-2")
      yield* b.publish(tenant, integrationId, [status("eve")])
      const d = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(onD, 2)))
      assert.strictEqual(d[0]!._tag, "Reset")
      assert.deepStrictEqual(agentsOf(Chunk.fromIterable(d.slice(1))), ["eve"])
    }))

  it.scoped("an id older than the relay keeps is a reset, never a silent gap", () =>
    Effect.gen(function*() {
      const relay = yield* memoryRelay(2)
      const storage = yield* Effect.provide(Storage.Storage, Storage.layerMemory)
      const a = yield* node(relay, storage)
      const onA = yield* a.resume(tenant, integrationId)
      yield* a.publish(tenant, integrationId, [status("ann"), status("bob"), status("cid"), status("dee")])
      const ids = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(onA, 4))).map((i) => i.id)
      // a new process: its own log is empty, the relay kept only the last two
      const b = yield* node(relay, storage)
      const late = yield* b.resume(tenant, integrationId, ids[0])
      const first = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(late, 1)))
      assert.strictEqual(first[0]!._tag, "Reset")
      // and from the second-to-last, the last
      const recent = yield* b.resume(tenant, integrationId, ids[2])
      assert.deepStrictEqual(agentsOf(yield* Stream.runCollect(Stream.take(recent, 1))), ["dee"])
    }))
})
