/**
 * The in-memory driver: plain maps, indexed per integration (and per queue and channel for
 * interval rows), so a window replace or an aggregate touches only its integration's rows.
 *
 * Transactions run one at a time behind a semaphore, which makes `lock` a no-op. Every write
 * records how to undo itself in the running transaction's log; a failed, dying or interrupted
 * transaction is rolled back from the log (a nested one back to where it started). Reads and
 * writes outside a transaction take the semaphore too, so nobody sees half of a transaction.
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import type {
  AgentSegment,
  Integration,
  IntegrationId,
  IntervalStat,
  Queue,
  QueueId,
  TenantId,
  WorkloadId
} from "../Domain.js"
import { AccessToken, ApiKey, ImportRun, Workload } from "../Domain.js"
import { StorageError } from "../Errors.js"
import { addMeasures, queueKey } from "../BatchPlan.js"
import * as MemoryLinks from "./memoryLinks.js"
import type { IdempotencyRecord, StagedBatch, StorageDriverShape, StoredSegment } from "../StorageDriver.js"

/** Appends to a map of arrays, creating the array. */
const bucket = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let found = map.get(key)
  if (found === undefined) {
    found = make()
    map.set(key, found)
  }
  return found
}

export const make: Effect.Effect<StorageDriverShape> = Effect.gen(function*() {
  const semaphore = yield* Effect.makeSemaphore(1)
  const inTransaction = yield* Effect.sync(() => FiberRef.unsafeMake(false))
  /** The undo log of the running transaction (one at a time, so one log). */
  let log: Array<() => void> = []

  // every mutation goes through these, so it can be undone
  const set = <K, V>(map: Map<K, V>, key: K, value: V) => {
    const had = map.has(key)
    const previous = map.get(key)
    log.push(() => (had ? map.set(key, previous as V) : map.delete(key)))
    map.set(key, value)
  }
  const remove = <K, V>(map: Map<K, V>, key: K) => {
    if (!map.has(key)) return
    const previous = map.get(key) as V
    log.push(() => map.set(key, previous))
    map.delete(key)
  }
  const push = <A>(list: Array<A>, value: A) => {
    const length = list.length
    log.push(() => (list.length = length))
    list.push(value)
  }
  const add = <A>(set: Set<A>, value: A) => {
    if (set.has(value)) return
    log.push(() => set.delete(value))
    set.add(value)
  }
  /** The inner map of `outer` at `key`, created (undoably) when missing. */
  const inner = <K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> => {
    const found = outer.get(key)
    if (found !== undefined) return found
    const created = new Map<K2, V>()
    set(outer, key, created)
    return created
  }

  const rollback = (to: number) => {
    for (let i = log.length - 1; i >= to; i--) log[i]!()
    log.length = to
  }

  const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(FiberRef.get(inTransaction), (inside) => {
      if (inside) {
        // a savepoint: a failure undoes this part only
        return Effect.suspend(() => {
          const mark = log.length
          return Effect.onExit(effect, (exit) => Effect.sync(() => Exit.isFailure(exit) && rollback(mark)))
        })
      }
      return semaphore.withPermits(1)(Effect.suspend(() => {
        log = []
        return effect.pipe(
          Effect.locally(inTransaction, true),
          Effect.onExit((exit) =>
            Effect.sync(() => {
              if (Exit.isFailure(exit)) rollback(0)
              log = []
            })
          )
        )
      }))
    })

  /** A primitive: a unit of its own outside a transaction, part of it inside. */
  const atomic = <A>(f: () => A): Effect.Effect<A> => transaction(Effect.sync(f))

  // -------------------------------------------------------------------------
  // state
  // -------------------------------------------------------------------------

  const integrations = new Map<IntegrationId, Integration>()
  const integrationsByTenant = new Map<TenantId, Set<IntegrationId>>()
  const queues = new Map<QueueId, Queue>()
  const queuesByTenant = new Map<TenantId, Set<QueueId>>()
  /** integration → queue identity (`BatchPlan.queueKey`) → id, for the queues it created */
  const ownQueues = new Map<IntegrationId, Map<string, QueueId>>()
  const workloads = new Map<WorkloadId, Workload>()
  const agentMappings = new Map<IntegrationId, Map<string, string>>()
  const activityMappings = new Map<IntegrationId, Map<string, string>>()
  const apiKeys = new Map<string, ApiKey>()
  const apiKeysByIntegration = new Map<IntegrationId, Set<string>>()
  const tokens = new Map<string, AccessToken>()
  const runs = new Map<IntegrationId, Array<ImportRun>>()
  const runIds = new Set<string>()
  const cursors = new Map<IntegrationId, Map<string, number>>()
  /** integration → `queue|channel` → start → row */
  const stats = new Map<IntegrationId, Map<string, Map<number, IntervalStat>>>()
  /** integration → agent → ref → segment */
  const segments = new Map<IntegrationId, Map<string, Map<number, AgentSegment>>>()
  let segmentSeq = 0
  const staged = new Map<IntegrationId, Array<StagedBatch>>()
  const idempotency = new Map<IntegrationId, Map<string, IdempotencyRecord>>()

  const lane = (queueId: QueueId, channel: string) => `${queueId}|${channel}`

  const upsertQueue = (queue: Queue) => {
    const old = queues.get(queue.id)
    if (old && old.tenantId !== queue.tenantId) queuesByTenant.get(old.tenantId)?.delete(queue.id)
    set(queues, queue.id, queue)
    add(bucket(queuesByTenant, queue.tenantId, () => new Set()), queue.id)
  }

  const loadSegments = (
    id: IntegrationId,
    agents: Iterable<string>,
    keep: (s: AgentSegment) => boolean
  ): Array<StoredSegment> => {
    const byAgent = segments.get(id)
    const out: Array<StoredSegment> = []
    if (byAgent === undefined) return out
    for (const agent of agents) {
      for (const [ref, segment] of byAgent.get(agent) ?? []) if (keep(segment)) out.push({ ref, segment })
    }
    return out
  }

  const countBy = (id: IntegrationId, pick: (s: AgentSegment) => string) => {
    const counts = new Map<string, number>()
    for (const agent of segments.get(id)?.values() ?? []) {
      for (const s of agent.values()) counts.set(pick(s), (counts.get(pick(s)) ?? 0) + 1)
    }
    return Array.from(counts, ([externalId, n]) => ({ externalId, segments: n }))
  }

  /** The entries of `ids` that `store` has. */
  const pick = (store: ReadonlyMap<string, string> | undefined, ids: ReadonlyArray<string>) => {
    const found = new Map<string, string>()
    for (const externalId of ids) {
      const mapped = store?.get(externalId)
      if (mapped !== undefined) found.set(externalId, mapped)
    }
    return found
  }

  const putMappings = (
    store: Map<IntegrationId, Map<string, string>>,
    id: IntegrationId,
    entries: ReadonlyArray<readonly [string, string]>
  ) =>
    atomic(() => {
      const m = inner(store, id)
      for (const [k, v] of entries) set(m, k, v)
    })

  const linkRows = MemoryLinks.make({ atomic, transaction, set, remove })

  const driver: StorageDriverShape = {
    transaction,
    lock: () => Effect.void,
    links: linkRows.links,
    linkTasks: linkRows.linkTasks,

    integrations: {
      insert: (i) =>
        transaction(Effect.suspend(() => {
          if (integrations.has(i.id)) {
            return Effect.fail(new StorageError({ operation: "integrations.insert", reason: `integration ${i.id} exists` }))
          }
          set(integrations, i.id, i)
          add(bucket(integrationsByTenant, i.tenantId, () => new Set()), i.id)
          return Effect.void
        })),
      get: (id) => atomic(() => Option.fromNullable(integrations.get(id))),
      list: (tenantId) =>
        atomic(() => Array.from(integrationsByTenant.get(tenantId) ?? [], (id) => integrations.get(id)!)),
      update: (i, expected) =>
        atomic(() => {
          const stored = integrations.get(i.id)
          if (stored === undefined || stored.version !== expected) return false
          set(integrations, i.id, i)
          return true
        })
    },

    queues: {
      insert: (queue) =>
        atomic(() => {
          const old = queues.get(queue.id)
          if (old?.createdByIntegration && old.integrationId !== null) {
            remove(inner(ownQueues, old.integrationId), queueKey(old.identifier, old.name))
          }
          upsertQueue(queue)
          if (queue.createdByIntegration && queue.integrationId !== null) {
            set(inner(ownQueues, queue.integrationId), queueKey(queue.identifier, queue.name), queue.id)
          }
        }),
      get: (id) => atomic(() => Option.fromNullable(queues.get(id))),
      list: (tenantId, integrationId) =>
        atomic(() =>
          Array.from(queuesByTenant.get(tenantId) ?? [], (id) => queues.get(id)!).filter((q) =>
            integrationId === undefined || q.integrationId === integrationId
          )
        ),
      delete: (id) =>
        atomic(() => {
          const queue = queues.get(id)
          if (queue === undefined) return
          remove(queues, id)
          const byTenant = queuesByTenant.get(queue.tenantId)
          if (byTenant?.has(id)) {
            log.push(() => byTenant.add(id))
            byTenant.delete(id)
          }
          if (queue.createdByIntegration && queue.integrationId !== null) {
            const own = ownQueues.get(queue.integrationId)
            if (own?.get(queueKey(queue.identifier, queue.name)) === id) {
              remove(own, queueKey(queue.identifier, queue.name))
            }
          }
        }),
      findOwn: (integrationId, identifiers) =>
        atomic(() => {
          const wanted = new Set(identifiers)
          const out: Array<{ id: QueueId; identifier: string; name: string }> = []
          for (const id of ownQueues.get(integrationId)?.values() ?? []) {
            const q = queues.get(id)!
            if (wanted.has(q.identifier)) out.push({ id, identifier: q.identifier, name: q.name })
          }
          return out
        }),
      insertOwn: (created) =>
        atomic(() => {
          const inserted = new Set<QueueId>()
          for (const queue of created) {
            const own = inner(ownQueues, queue.integrationId!)
            const key = queueKey(queue.identifier, queue.name)
            if (own.has(key)) continue
            upsertQueue(queue)
            set(own, key, queue.id)
            inserted.add(queue.id)
          }
          return inserted
        })
    },

    workloads: {
      insert: (w) => atomic(() => set(workloads, w.id, w)),
      get: (id) => atomic(() => Option.fromNullable(workloads.get(id))),
      list: (tenantId) => atomic(() => Array.from(workloads.values()).filter((w) => w.tenantId === tenantId)),
      setQueues: (id, queueIds) =>
        atomic(() => {
          const w = workloads.get(id)
          if (w) set(workloads, id, new Workload({ ...w, queueIds: [...queueIds] }))
        }),
      dropQueue: (queueId) =>
        atomic(() => {
          for (const [id, w] of workloads) {
            if (w.queueIds.includes(queueId)) {
              set(workloads, id, new Workload({ ...w, queueIds: w.queueIds.filter((q) => q !== queueId) }))
            }
          }
        }),
      ofQueues: (ids) =>
        atomic(() => {
          const out = new Map<QueueId, Array<WorkloadId>>()
          for (const id of ids) out.set(id, [])
          for (const w of workloads.values()) {
            for (const q of w.queueIds) out.get(q)?.push(w.id)
          }
          return out
        })
    },

    mappings: {
      putAgents: (id, ms) => putMappings(agentMappings, id, ms.map((m) => [m.externalId, m.employeeId] as const)),
      putActivities: (id, ms) => putMappings(activityMappings, id, ms.map((m) => [m.externalId, m.activityId] as const)),
      agents: (id) =>
        atomic(() => Array.from(agentMappings.get(id) ?? [], ([externalId, employeeId]) => ({ externalId, employeeId }))),
      activities: (id) =>
        atomic(() => Array.from(activityMappings.get(id) ?? [], ([externalId, activityId]) => ({ externalId, activityId }))),
      lookup: (id, ids) =>
        atomic(() => ({
          agents: pick(agentMappings.get(id), ids.agents),
          activities: pick(activityMappings.get(id), ids.activities)
        }))
    },

    apiKeys: {
      revokeLive: (integrationId, at) =>
        atomic(() => {
          for (const keyId of apiKeysByIntegration.get(integrationId) ?? []) {
            const key = apiKeys.get(keyId)!
            if (key.revokedAt === null) set(apiKeys, keyId, new ApiKey({ ...key, revokedAt: DateTime.unsafeMake(at) }))
          }
        }),
      insert: (key) =>
        atomic(() => {
          set(apiKeys, key.id, key)
          add(bucket(apiKeysByIntegration, key.integrationId, () => new Set()), key.id)
        }),
      findByHash: (hash) =>
        atomic(() => Option.fromNullable(Array.from(apiKeys.values()).find((k) => k.hash === hash)))
    },

    accessTokens: {
      insert: (t) => atomic(() => set(tokens, t.id, t)),
      findByHash: (hash) => atomic(() => Option.fromNullable(Array.from(tokens.values()).find((t) => t.hash === hash))),
      get: (id) => atomic(() => Option.fromNullable(tokens.get(id))),
      list: (tenantId) => atomic(() => Array.from(tokens.values()).filter((t) => t.tenantId === tenantId)),
      revoke: (id, at) =>
        atomic(() => {
          const t = tokens.get(id)
          if (t && t.revokedAt === null) set(tokens, id, new AccessToken({ ...t, revokedAt: DateTime.unsafeMake(at) }))
        })
    },

    runs: {
      insert: (run) =>
        transaction(Effect.suspend(() => {
          if (runIds.has(run.id)) {
            return Effect.fail(
              new StorageError({ operation: "runs.insert", reason: `import run ${run.id} is already stored` })
            )
          }
          add(runIds, run.id)
          push(bucket(runs, run.integrationId, () => []), new ImportRun(run))
          return Effect.void
        })),
      list: (id, limit) =>
        atomic(() =>
          [...(runs.get(id) ?? [])]
            .sort((a, b) => DateTime.toEpochMillis(b.startedAt) - DateTime.toEpochMillis(a.startedAt))
            .slice(0, Math.max(0, Math.floor(limit)))
        ),
      integrations: (before) =>
        atomic(() =>
          Array.from(runs).filter(([, list]) => list.some((r) => DateTime.toEpochMillis(r.startedAt) < before)).map((
            [id]
          ) => id)
        ),
      prune: (id, before, keep, limit) =>
        atomic(() => {
          const list = runs.get(id)
          if (list === undefined) return 0
          const newest = list.map((r) => DateTime.toEpochMillis(r.startedAt)).sort((a, b) => b - a)
          const boundary = newest[keep - 1]
          if (boundary === undefined) return 0
          const doomed = list.filter((r) => {
            const t = DateTime.toEpochMillis(r.startedAt)
            return t < before && t < boundary
          }).sort((a, b) => DateTime.toEpochMillis(a.startedAt) - DateTime.toEpochMillis(b.startedAt)).slice(0, limit)
          if (doomed.length === 0) return 0
          const gone = new Set(doomed.map((r) => r.id))
          const kept = list.filter((r) => !gone.has(r.id))
          set(runs, id, kept)
          for (const runId of gone) {
            log.push(() => runIds.add(runId))
            runIds.delete(runId)
          }
          return doomed.length
        })
    },

    cursors: {
      get: (id, stream) => atomic(() => Option.fromNullable(cursors.get(id)?.get(stream))),
      list: (id) => atomic(() => new Map(cursors.get(id) ?? [])),
      listMany: (ids, streams) =>
        atomic(() =>
          ids.flatMap((id) =>
            streams.flatMap((stream) => {
              const value = cursors.get(id)?.get(stream)
              return value === undefined ? [] : [{ id, stream, value }]
            })
          )
        ),
      set: (id, stream, value) => atomic(() => set(inner(cursors, id), stream, value)),
      compareAndSet: (id, stream, expected, value) =>
        atomic(() => {
          const streams = inner(cursors, id)
          if ((streams.get(stream) ?? null) !== expected) return false
          set(streams, stream, value)
          return true
        })
    },

    stats: {
      add: (integration, rows) =>
        atomic(() => {
          const lanes = inner(stats, integration.id)
          for (const row of rows) {
            const byStart = inner(lanes, lane(row.queueId, row.channel))
            const existing = byStart.get(row.start)
            set(byStart, row.start, {
              ...(existing ? addMeasures(existing, row.measures) : row.measures),
              integrationId: integration.id,
              queueId: row.queueId,
              channel: row.channel,
              start: row.start,
              lengthMinutes: existing?.lengthMinutes ?? row.lengthMinutes
            })
          }
        }),
      replace: (integration, ranges, rows) =>
        atomic(() => {
          const lanes = inner(stats, integration.id)
          for (const range of ranges) {
            const byStart = lanes.get(lane(range.queueId, range.channel))
            if (byStart === undefined) continue
            for (const start of Array.from(byStart.keys())) {
              if (start >= range.start && start < range.end) remove(byStart, start)
            }
          }
          for (const row of rows) {
            set(inner(lanes, lane(row.queueId, row.channel)), row.start, {
              ...row.measures,
              integrationId: integration.id,
              queueId: row.queueId,
              channel: row.channel,
              start: row.start,
              lengthMinutes: row.lengthMinutes
            })
          }
        }),
      clearWindow: (id, from, to) =>
        atomic(() => {
          for (const byStart of stats.get(id)?.values() ?? []) {
            for (const start of Array.from(byStart.keys())) if (start >= from && start < to) remove(byStart, start)
          }
        }),
      query: (q) =>
        atomic(() => {
          const wanted = q.queueIds ? new Set<string>(q.queueIds) : undefined
          const ids = q.integrationId === undefined
            ? Array.from(integrationsByTenant.get(q.tenantId) ?? [])
            : integrations.get(q.integrationId)?.tenantId === q.tenantId
            ? [q.integrationId]
            : []
          const out: Array<IntervalStat> = []
          for (const id of ids) {
            for (const byStart of stats.get(id)?.values() ?? []) {
              for (const row of byStart.values()) {
                if (row.start < q.from || row.start >= q.to) continue
                if (wanted && !wanted.has(row.queueId)) continue
                out.push(row)
              }
            }
          }
          return out
        })
    },

    segments: {
      load: (id, agents, from, to) =>
        atomic(() =>
          loadSegments(id, agents, (s) => (s.end === null || s.end >= from) && (to === null || s.start <= to))
        ),
      loadWindow: (id, from, to) =>
        atomic(() =>
          loadSegments(id, segments.get(id)?.keys() ?? [], (s) => s.start < to && (s.end === null || s.end > from))
        ),
      write: (integration, deletes, inserts) =>
        atomic(() => {
          const byAgent = inner(segments, integration.id)
          const gone = new Set(deletes)
          if (gone.size > 0) {
            for (const refs of byAgent.values()) {
              for (const ref of Array.from(refs.keys())) if (gone.has(ref)) remove(refs, ref)
            }
          }
          for (const s of inserts) set(inner(byAgent, s.agentIdentifier), ++segmentSeq, s)
        }),
      query: (q) =>
        atomic(() => {
          const ids = q.integrationId === undefined
            ? Array.from(integrationsByTenant.get(q.tenantId) ?? [])
            : integrations.get(q.integrationId)?.tenantId === q.tenantId
            ? [q.integrationId]
            : []
          const out: Array<AgentSegment> = []
          for (const id of ids) {
            const byAgent = segments.get(id)
            if (byAgent === undefined) continue
            const agents = q.agentIdentifier === undefined ? byAgent.values() : [byAgent.get(q.agentIdentifier) ?? []]
            for (const refs of agents) {
              for (const s of refs.values()) if (s.start < q.to && (s.end === null || s.end > q.from)) out.push(s)
            }
          }
          return out
        }),
      counts: (id, by) =>
        atomic(() => countBy(id, by === "agent" ? (s) => s.agentIdentifier : (s) => s.activityIdentifier))
    },

    staging: {
      held: (id) => atomic(() => (staged.get(id) ?? []).reduce((n, b) => n + b.records, 0)),
      append: (id, b) => atomic(() => push(bucket(staged, id, () => []), b)),
      list: (id) => atomic(() => (staged.get(id) ?? []).map((b) => b.body)),
      clear: (id) => atomic(() => remove(staged, id))
    },

    idempotency: {
      get: (id, key) => atomic(() => Option.fromNullable(idempotency.get(id)?.get(key))),
      put: (id, key, record, expiredBefore) =>
        atomic(() => {
          const records = inner(idempotency, id)
          for (const [k, r] of Array.from(records)) if (r.at <= expiredBefore) remove(records, k)
          set(records, key, record)
        }),
      prune: (before, limit) =>
        atomic(() => {
          let deleted = 0
          for (const records of idempotency.values()) {
            for (const [k, r] of Array.from(records)) {
              if (deleted >= limit) return deleted
              if (r.at <= before) {
                remove(records, k)
                deleted++
              }
            }
          }
          return deleted
        })
    }
  }
  return driver
})
