import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type {
  AgentSegment,
  Batch,
  IntegrationId,
  IntervalStat,
  Queue as QueueT,
  QueueId,
  WorkloadId
} from "../Domain.js"
import { AccessToken, ApiKey, batchSize, ImportRun, Integration, Queue, Workload } from "../Domain.js"
import {
  IdempotencyKeyReused,
  IntegrationDeleted,
  IntegrationNotActive,
  IntegrationNotFound,
  StagingFull,
  StorageError
} from "../Errors.js"
import { addMeasures, plan, queueKey } from "../Plan.js"
import * as Segments from "../Segments.js"
import type { IdentifierCount, IngestOutcome, IngestRequest, StorageShape } from "../Storage.js"
import { resumeRunRecord } from "./runRecords.js"

interface IdempotencyRecord {
  readonly hash: string
  readonly at: number
  readonly accepted: number
  readonly outcome: "Applied" | "Staged"
}

/**
 * The in-memory store. Every write checks all that can fail first and then mutates
 * synchronously, so no reader ever sees half a batch and a failed write leaves nothing
 * behind; writes are serialised by a semaphore because checks and mutation must not
 * interleave with another writer's.
 */
export const make = Effect.gen(function*() {
  const lock = yield* Effect.makeSemaphore(1)
  const integrations = new Map<IntegrationId, Integration>()
  const queues = new Map<QueueId, QueueT>()
  const queueIndex = new Map<string, QueueId>()
  const workloads = new Map<WorkloadId, Workload>()
  const agentMappings = new Map<IntegrationId, Map<string, string>>()
  const activityMappings = new Map<IntegrationId, Map<string, string>>()
  const apiKeys = new Map<string, ApiKey>()
  const tokens = new Map<string, AccessToken>()
  const runs: Array<ImportRun> = []
  const runIds = new Set<string>()
  const cursors = new Map<string, number>()
  const stats = new Map<string, IntervalStat>()
  const segments = new Map<string, ReadonlyArray<AgentSegment>>()
  const staged = new Map<IntegrationId, Array<Batch>>()
  const idempotency = new Map<string, IdempotencyRecord>()

  const write = <A, E>(effect: Effect.Effect<A, E>) => lock.withPermits(1)(effect)
  const statKey = (queueId: QueueId, channel: string, start: number) => `${queueId}|${channel}|${start}`
  const segKey = (id: IntegrationId, agent: string) => JSON.stringify([id, agent])
  const at = (ms: number) => DateTime.unsafeMake(ms)

  const applyBatch = (
    integration: Integration,
    batch: Batch,
    now: number,
    newQueueId: () => QueueId,
    replaceWindow?: { readonly from: number; readonly to: number }
  ): { createdQueues: ReadonlyArray<QueueT>; statuses: number } => {
    const p = plan(batch)
    const id = integration.id
    if (replaceWindow) {
      for (const [key, row] of stats) {
        if (row.integrationId === id && row.start >= replaceWindow.from && row.start < replaceWindow.to) {
          stats.delete(key)
        }
      }
      for (const [key, segs] of segments) {
        if (segs.length > 0 && segs[0]!.integrationId === id) {
          segments.set(key, Segments.clearWindow(segs, replaceWindow.from, replaceWindow.to))
        }
      }
    }
    const createdQueues: Array<QueueT> = []
    const queueIdOf = (identifier: string, name: string): QueueId => {
      const key = `${id}|${queueKey(identifier, name)}`
      return queueIndex.get(key)!
    }
    for (const ref of p.queues) {
      const key = `${id}|${queueKey(ref.identifier, ref.name)}`
      if (queueIndex.has(key)) continue
      const queue = new Queue({
        id: newQueueId(),
        tenantId: integration.tenantId,
        integrationId: id,
        identifier: ref.identifier,
        name: ref.name,
        channel: ref.channel,
        createdByIntegration: true,
        createdAt: at(now)
      })
      queues.set(queue.id, queue)
      queueIndex.set(key, queue.id)
      createdQueues.push(queue)
    }
    for (const row of p.aggregateRows) {
      const queueId = queueIdOf(row.queue.identifier, row.queue.name)
      const end = row.start + row.lengthMinutes * 60_000
      for (const [key, existing] of stats) {
        if (
          existing.queueId === queueId && existing.channel === row.channel && existing.start >= row.start &&
          existing.start < end
        ) stats.delete(key)
      }
      stats.set(statKey(queueId, row.channel, row.start), {
        integrationId: id,
        queueId,
        channel: row.channel,
        start: row.start,
        lengthMinutes: row.lengthMinutes,
        ...row.measures
      })
    }
    for (const row of p.contactRows) {
      const queueId = queueIdOf(row.queue.identifier, row.queue.name)
      const key = statKey(queueId, row.channel, row.start)
      const existing = stats.get(key)
      stats.set(key, {
        integrationId: id,
        queueId,
        channel: row.channel,
        start: row.start,
        lengthMinutes: existing?.lengthMinutes ?? 15,
        ...(existing ? addMeasures(existing, row.measures) : row.measures)
      })
    }
    let statuses = 0
    for (const [agent, rows] of p.statuses) {
      const key = segKey(id, agent)
      let current = segments.get(key) ?? []
      for (const row of rows) {
        current = Segments.apply(current, {
          integrationId: id,
          agentIdentifier: agent,
          activityIdentifier: row.activityIdentifier,
          start: row.start,
          end: row.end
        })
        statuses++
      }
      segments.set(key, current)
    }
    return { createdQueues, statuses }
  }

  // the SQL stores refuse a second run with the same id (a unique column); so does this one
  const duplicateRun = (id: string, operation: string) =>
    runIds.has(id)
      ? Effect.fail(new StorageError({ operation, reason: `import run ${id} is already stored` }))
      : Effect.void

  const addRun = (run: ImportRun) => {
    runs.push(run)
    runIds.add(run.id)
  }

  /**
   * A run written with its data (validated before the data was touched): its duration runs
   * from its start to now, the write.
   */
  const addMeasuredRun = (run: ImportRun) =>
    Effect.map(Clock.currentTimeMillis, (written) => {
      const durationMs = Math.max(0, written - DateTime.toEpochMillis(run.startedAt))
      addRun(new ImportRun({ ...run, durationMs }, true))
    })

  const findIntegration = (id: IntegrationId) =>
    Effect.suspend(() => {
      const found = integrations.get(id)
      return found ? Effect.succeed(found) : Effect.fail(new IntegrationNotFound({ integrationId: id }))
    })

  const ingest = (request: IngestRequest) =>
    write(Effect.gen(function*() {
      const integration = yield* findIntegration(request.integrationId)
      if (integration.status === "deleted") {
        return yield* Effect.fail(new IntegrationDeleted({ integrationId: integration.id }))
      }
      const accepted = batchSize(request.batch)
      const idemKey = request.idempotency ? `${integration.id}|${request.idempotency.key}` : undefined
      if (request.idempotency && idemKey) {
        const previous = idempotency.get(idemKey)
        if (previous && previous.at + request.idempotency.ttlMs > request.now) {
          if (previous.hash !== request.idempotency.requestHash) {
            return yield* Effect.fail(new IdempotencyKeyReused({ key: request.idempotency.key }))
          }
          return { _tag: "Replayed", accepted: previous.accepted, outcome: previous.outcome } satisfies IngestOutcome
        }
      }
      const remember = (outcome: "Applied" | "Staged") => {
        if (request.idempotency && idemKey) {
          idempotency.set(idemKey, { hash: request.idempotency.requestHash, at: request.now, accepted, outcome })
        }
      }
      if (integration.status === "paused") {
        if (request.mode === "pull") {
          return yield* Effect.fail(new IntegrationNotActive({ integrationId: integration.id, status: "paused" }))
        }
        const queue = staged.get(integration.id) ?? []
        const held = queue.reduce((n, b) => n + batchSize(b), 0)
        if (held + accepted > request.stagingLimit) {
          return yield* Effect.fail(
            new StagingFull({ integrationId: integration.id, limit: request.stagingLimit, retryAfterSeconds: 60 })
          )
        }
        queue.push(request.batch)
        staged.set(integration.id, queue)
        remember("Staged")
        return { _tag: "Staged", accepted } satisfies IngestOutcome
      }
      // everything that can fail comes before the first mutation: the run is validated here
      // and only its duration is filled in once the data is written
      const run = request.run ? new ImportRun({ ...request.run, durationMs: 0 }) : undefined
      if (run) yield* duplicateRun(run.id, "data.ingest")
      const result = applyBatch(integration, request.batch, request.now, request.newQueueId, request.replaceWindow)
      if (request.watermark) cursors.set(`${integration.id}|${request.watermark.stream}`, request.watermark.value)
      remember("Applied")
      if (run) yield* addMeasuredRun(run)
      return {
        _tag: "Applied",
        accepted,
        createdQueues: result.createdQueues,
        statusesApplied: result.statuses
      } satisfies IngestOutcome
    }))

  const countBy = (id: IntegrationId, pick: (s: AgentSegment) => string): ReadonlyArray<IdentifierCount> => {
    const counts = new Map<string, number>()
    for (const segs of segments.values()) {
      for (const s of segs) {
        if (s.integrationId === id) counts.set(pick(s), (counts.get(pick(s)) ?? 0) + 1)
      }
    }
    return Array.from(counts, ([externalId, n]) => ({ externalId, segments: n }))
      .sort((a, b) => a.externalId.localeCompare(b.externalId))
  }

  const putMappings = (
    store: Map<IntegrationId, Map<string, string>>,
    id: IntegrationId,
    entries: ReadonlyArray<readonly [string, string]>
  ) =>
    write(Effect.sync(() => {
      const m = store.get(id) ?? new Map<string, string>()
      for (const [k, v] of entries) m.set(k, v)
      store.set(id, m)
    }))

  const shape: StorageShape = {
    integrations: {
      insert: (i) => write(Effect.sync(() => void integrations.set(i.id, i))),
      update: (i) => write(Effect.sync(() => void integrations.set(i.id, i))),
      get: (id) => Effect.sync(() => Option.fromNullable(integrations.get(id))),
      list: (tenantId) =>
        Effect.sync(() =>
          Array.from(integrations.values()).filter((i) => i.tenantId === tenantId)
            .sort((a, b) => DateTime.toEpochMillis(a.createdAt) - DateTime.toEpochMillis(b.createdAt))
        ),
      markDeleted: (id, now) =>
        write(Effect.gen(function*() {
          const integration = yield* findIntegration(id)
          const deleted = new Integration({ ...integration, status: "deleted", updatedAt: at(now), deletedAt: at(now) })
          integrations.set(id, deleted)
          for (const [keyId, key] of apiKeys) {
            if (key.integrationId === id && key.revokedAt === null) {
              apiKeys.set(keyId, new ApiKey({ ...key, revokedAt: at(now) }))
            }
          }
          staged.delete(id)
          return deleted
        })),
      resume: (id, now, newQueueId, resumeRun) =>
        write(Effect.gen(function*() {
          const integration = yield* findIntegration(id)
          if (integration.status === "deleted") return yield* Effect.fail(new IntegrationDeleted({ integrationId: id }))
          const active = new Integration({ ...integration, status: "active", updatedAt: at(now) })
          const batches = staged.get(id) ?? []
          const applied = batches.reduce((n, b) => n + batchSize(b), 0)
          // as in ingest, the run is checked before anything is applied; an empty resume writes none
          const run = resumeRun && applied > 0
            ? new ImportRun({ ...resumeRunRecord(id, resumeRun, applied), durationMs: 0 })
            : undefined
          if (run) yield* duplicateRun(run.id, "integrations.resume")
          const createdQueues: Array<QueueT> = []
          for (const batch of batches) {
            createdQueues.push(...applyBatch(active, batch, now, newQueueId).createdQueues)
          }
          staged.delete(id)
          integrations.set(id, active)
          if (run) yield* addMeasuredRun(run)
          return { integration: active, applied, createdQueues }
        })),
      stagedCount: (id) => Effect.sync(() => (staged.get(id) ?? []).reduce((n, b) => n + batchSize(b), 0))
    },
    queues: {
      list: (q) =>
        Effect.sync(() =>
          Array.from(queues.values()).filter((x) =>
            x.tenantId === q.tenantId && (q.integrationId === undefined || x.integrationId === q.integrationId)
          )
        ),
      get: (id) => Effect.sync(() => Option.fromNullable(queues.get(id))),
      insert: (queue) => write(Effect.sync(() => void queues.set(queue.id, queue))),
      delete: (id) =>
        write(Effect.sync(() => {
          queues.delete(id)
          for (const [wid, w] of workloads) {
            if (w.queueIds.includes(id)) workloads.set(wid, new Workload({ ...w, queueIds: w.queueIds.filter((q) => q !== id) }))
          }
        })),
      workloadIds: (ids) =>
        Effect.sync(() => {
          const out = new Map<QueueId, Array<WorkloadId>>()
          for (const id of ids) out.set(id, [])
          for (const w of workloads.values()) {
            for (const q of w.queueIds) out.get(q)?.push(w.id)
          }
          return out
        })
    },
    workloads: {
      insert: (w) => write(Effect.sync(() => void workloads.set(w.id, w))),
      get: (id) => Effect.sync(() => Option.fromNullable(workloads.get(id))),
      list: (tenantId) => Effect.sync(() => Array.from(workloads.values()).filter((w) => w.tenantId === tenantId)),
      setQueues: (id, queueIds) =>
        write(Effect.sync(() => {
          const w = workloads.get(id)
          if (w) workloads.set(id, new Workload({ ...w, queueIds: [...queueIds] }))
        }))
    },
    mappings: {
      putAgents: (id, ms) => putMappings(agentMappings, id, ms.map((m) => [m.externalId, m.employeeId] as const)),
      putActivities: (id, ms) => putMappings(activityMappings, id, ms.map((m) => [m.externalId, m.activityId] as const)),
      agents: (id) =>
        Effect.sync(() => Array.from(agentMappings.get(id) ?? [], ([externalId, employeeId]) => ({ externalId, employeeId }))),
      activities: (id) =>
        Effect.sync(() =>
          Array.from(activityMappings.get(id) ?? [], ([externalId, activityId]) => ({ externalId, activityId }))
        )
    },
    apiKeys: {
      replace: (key) =>
        write(Effect.sync(() => {
          for (const [keyId, k] of apiKeys) {
            if (k.integrationId === key.integrationId && k.revokedAt === null) {
              apiKeys.set(keyId, new ApiKey({ ...k, revokedAt: key.createdAt }))
            }
          }
          apiKeys.set(key.id, key)
        })),
      findByHash: (hash) => Effect.sync(() => Option.fromNullable(Array.from(apiKeys.values()).find((k) => k.hash === hash)))
    },
    accessTokens: {
      insert: (t) => write(Effect.sync(() => void tokens.set(t.id, t))),
      findByHash: (hash) => Effect.sync(() => Option.fromNullable(Array.from(tokens.values()).find((t) => t.hash === hash))),
      revoke: (id, now) =>
        write(Effect.sync(() => {
          const t = tokens.get(id)
          if (t && t.revokedAt === null) tokens.set(id, new AccessToken({ ...t, revokedAt: at(now) }))
        }))
    },
    runs: {
      insert: (run) => write(Effect.zipRight(duplicateRun(run.id, "runs.insert"), Effect.sync(() => addRun(run)))),
      list: (id, limit) =>
        Effect.sync(() =>
          runs.filter((r) => r.integrationId === id)
            .sort((a, b) => DateTime.toEpochMillis(b.startedAt) - DateTime.toEpochMillis(a.startedAt))
            .slice(0, limit)
        )
    },
    cursors: {
      get: (id, stream) => Effect.sync(() => Option.fromNullable(cursors.get(`${id}|${stream}`))),
      set: (id, stream, value) => write(Effect.sync(() => void cursors.set(`${id}|${stream}`, value))),
      list: (id) =>
        Effect.sync(() => {
          const out = new Map<string, number>()
          const prefix = `${id}|`
          for (const [k, v] of cursors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v)
          return out
        })
    },
    data: {
      ingest,
      intervalStats: (q) =>
        Effect.sync(() => {
          const wanted = q.queueIds ? new Set<string>(q.queueIds) : undefined
          const out: Array<IntervalStat> = []
          for (const row of stats.values()) {
            if (row.start < q.from || row.start >= q.to) continue
            if (q.integrationId !== undefined && row.integrationId !== q.integrationId) continue
            if (wanted && !wanted.has(row.queueId)) continue
            const queue = queues.get(row.queueId)
            if (!queue || queue.tenantId !== q.tenantId) continue
            out.push(row)
          }
          return out.sort((a, b) => a.start - b.start || a.queueId.localeCompare(b.queueId))
        }),
      segments: (q) =>
        Effect.sync(() => {
          const out: Array<AgentSegment> = []
          for (const segs of segments.values()) {
            for (const s of segs) {
              if (q.integrationId !== undefined && s.integrationId !== q.integrationId) continue
              if (q.agentIdentifier !== undefined && s.agentIdentifier !== q.agentIdentifier) continue
              if (integrations.get(s.integrationId)?.tenantId !== q.tenantId) continue
              if (s.start < q.to && (s.end === null || s.end > q.from)) out.push(s)
            }
          }
          return out.sort((a, b) =>
            a.integrationId.localeCompare(b.integrationId) || a.agentIdentifier.localeCompare(b.agentIdentifier) ||
            a.start - b.start
          )
        }),
      agentCounts: (id) => Effect.sync(() => countBy(id, (s) => s.agentIdentifier)),
      activityCounts: (id) => Effect.sync(() => countBy(id, (s) => s.activityIdentifier))
    }
  }
  return shape
})
