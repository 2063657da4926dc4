/**
 * `Storage.make`: the storage port over a driver. Every rule is here or in the modules beside
 * this one; the driver only reads and writes rows.
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { IntegrationId } from "../../Domain.js"
import { StorageError } from "../../Errors.js"
import type { MakeOptions, MappingIds, StorageShape } from "../../Storage.js"
import type { StorageDriverShape } from "../../StorageDriver.js"
import * as IntervalSums from "../intervalSums.js"
import * as ApplyBatch from "./applyBatch.js"
import * as Ingest from "./ingest.js"
import * as Integrations from "./integrations.js"
import * as Links from "./links.js"

/** Names the port operation in a driver's `StorageError` (its reason and cause stay). */
const named = (operation: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapError(self, (error) =>
    error instanceof StorageError && error.operation !== operation
      ? (new StorageError({ operation, reason: error.reason, cause: error.cause }) as E)
      : error)

/** A port operation: named errors and a span. */
const operation = (name: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  // no stack trace: it would only name this module, at a cost on every call
  self.pipe(named(name), Effect.withSpan(`Storage.${name}`, { captureStackTrace: false }))

const byText = (a: string, b: string) => a.localeCompare(b)

/** `mappings.lookup` of a driver without one: every mapping of the integration, then the ids asked for. */
const lookupInAll = (driver: StorageDriverShape, id: IntegrationId, ids: MappingIds) =>
  Effect.zipWith(driver.mappings.agents(id), driver.mappings.activities(id), (agents, activities) => {
    const wanted = { agents: new Set(ids.agents), activities: new Set(ids.activities) }
    return {
      agents: new Map(agents.filter((m) => wanted.agents.has(m.externalId)).map((m) => [m.externalId, m.employeeId])),
      activities: new Map(
        activities.filter((m) => wanted.activities.has(m.externalId)).map((m) => [m.externalId, m.activityId])
      )
    }
  })

/** Rows one retention unit of work deletes at most: short enough not to hold writers up. */
const pruneBatch = 5_000

const dedupeLast = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Array<A> => {
  const byKey = new Map<string, A>()
  for (const item of items) byKey.set(key(item), item)
  return Array.from(byKey.values())
}

export const make = (driver: StorageDriverShape, options: MakeOptions = {}): Effect.Effect<StorageShape> =>
  Effect.sync(() => {
    const newId = options.newId ?? (() => globalThis.crypto.randomUUID())
    const apply = ApplyBatch.make(driver, newId)
    const integrations = Integrations.make(driver, apply)
    const ingest = Ingest.make(driver, apply, integrations)
    const links = Links.make(driver, ingest)
    const tx = driver.transaction

    const cursorsEqual = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>) => {
      if (a.size !== b.size) return false
      for (const [k, v] of a) if (b.get(k) !== v) return false
      return true
    }

    // a driver's one read per 1,000 integrations, or its `list` per integration
    const listMany = (
      ids: ReadonlyArray<IntegrationId>,
      streams: ReadonlyArray<string>
    ): Effect.Effect<ReadonlyMap<IntegrationId, ReadonlyMap<string, number>>, StorageError> =>
      Effect.gen(function*() {
        const out = new Map<IntegrationId, Map<string, number>>()
        if (ids.length === 0 || streams.length === 0) return out
        const wanted = new Set(streams)
        const many = driver.cursors.listMany
        for (let at = 0; at < ids.length; at += 1_000) {
          const slice = ids.slice(at, at + 1_000)
          const rows = many !== undefined
            ? yield* many(slice, Array.from(wanted))
            : (yield* Effect.forEach(slice, (id) =>
              Effect.map(driver.cursors.list(id), (values) =>
                Array.from(values, ([stream, value]) => ({ id, stream, value })).filter((row) => wanted.has(row.stream))))).flat()
          for (const row of rows) {
            let values = out.get(row.id)
            if (values === undefined) {
              values = new Map()
              out.set(row.id, values)
            }
            values.set(row.stream, row.value)
          }
        }
        return out
      })

    const counts = (id: IntegrationId, by: "agent" | "activity") =>
      driver.segments.counts(id, by).pipe(
        Effect.map((rows) => [...rows].sort((a, b) => byText(a.externalId, b.externalId))),
        named(by === "agent" ? "data.agentCounts" : "data.activityCounts")
      )

    const shape: StorageShape = {
      integrations: {
        insert: (i) => driver.integrations.insert(i).pipe(operation("integrations.insert")),
        get: (id) => driver.integrations.get(id).pipe(named("integrations.get")),
        list: (tenantId) =>
          driver.integrations.list(tenantId).pipe(
            Effect.map((list) =>
              [...list].sort((a, b) => DateTime.toEpochMillis(a.createdAt) - DateTime.toEpochMillis(b.createdAt))
            ),
            named("integrations.list")
          ),
        pause: (id, at) => integrations.pause(id, at).pipe(operation("integrations.pause")),
        resume: (id, at, run) => integrations.resume(id, at, run).pipe(operation("integrations.resume")),
        markFailing: (id, reason, at, options) =>
          integrations.markFailing(id, reason, at, options).pipe(operation("integrations.markFailing")),
        setConfig: (id, config, at) => integrations.setConfig(id, config, at).pipe(operation("integrations.setConfig")),
        update: (id, settings, at, options) =>
          integrations.update(id, settings, at, options).pipe(operation("integrations.update")),
        markDeleted: (id, at) => integrations.markDeleted(id, at).pipe(operation("integrations.markDeleted")),
        stagedCount: (id) => driver.staging.held(id).pipe(named("integrations.stagedCount"))
      },
      queues: {
        list: (q) => driver.queues.list(q.tenantId, q.integrationId).pipe(named("queues.list")),
        get: (id) => driver.queues.get(id).pipe(named("queues.get")),
        insert: (queue) => driver.queues.insert(queue).pipe(operation("queues.insert")),
        delete: (id) =>
          tx(Effect.zipRight(driver.workloads.dropQueue(id), driver.queues.delete(id))).pipe(operation("queues.delete")),
        workloadIds: (ids) => driver.workloads.ofQueues(Array.from(new Set(ids))).pipe(named("queues.workloadIds"))
      },
      workloads: {
        insert: (w) => tx(driver.workloads.insert(w)).pipe(operation("workloads.insert")),
        get: (id) => driver.workloads.get(id).pipe(named("workloads.get")),
        list: (tenantId) => driver.workloads.list(tenantId).pipe(named("workloads.list")),
        setQueues: (id, queueIds) => tx(driver.workloads.setQueues(id, queueIds)).pipe(operation("workloads.setQueues"))
      },
      mappings: {
        putAgents: (id, ms) =>
          tx(driver.mappings.putAgents(id, dedupeLast(ms, (m) => m.externalId))).pipe(operation("mappings.putAgents")),
        putActivities: (id, ms) =>
          tx(driver.mappings.putActivities(id, dedupeLast(ms, (m) => m.externalId))).pipe(
            operation("mappings.putActivities")
          ),
        agents: (id) => driver.mappings.agents(id).pipe(named("mappings.agents")),
        activities: (id) => driver.mappings.activities(id).pipe(named("mappings.activities")),
        lookup: (id, ids) => {
          const lookup = driver.mappings.lookup
          return (lookup === undefined ? lookupInAll(driver, id, ids) : lookup(id, ids)).pipe(named("mappings.lookup"))
        }
      },
      apiKeys: {
        replace: (key) =>
          tx(Effect.zipRight(
            driver.apiKeys.revokeLive(key.integrationId, DateTime.toEpochMillis(key.createdAt)),
            driver.apiKeys.insert(key)
          )).pipe(operation("apiKeys.replace")),
        findByHash: (hash) => driver.apiKeys.findByHash(hash).pipe(named("apiKeys.findByHash"))
      },
      accessTokens: {
        insert: (t) => driver.accessTokens.insert(t).pipe(operation("accessTokens.insert")),
        findByHash: (hash) => driver.accessTokens.findByHash(hash).pipe(named("accessTokens.findByHash")),
        get: (id) => driver.accessTokens.get(id).pipe(named("accessTokens.get")),
        list: (tenantId) =>
          driver.accessTokens.list(tenantId).pipe(
            Effect.map((list) =>
              [...list].sort((a, b) => DateTime.toEpochMillis(a.createdAt) - DateTime.toEpochMillis(b.createdAt))
            ),
            named("accessTokens.list")
          ),
        revoke: (id, at) => driver.accessTokens.revoke(id, at).pipe(operation("accessTokens.revoke"))
      },
      runs: {
        insert: (run) => driver.runs.insert(run).pipe(operation("runs.insert")),
        list: (id, limit) => driver.runs.list(id, limit).pipe(named("runs.list"))
      },
      retention: {
        prune: (policy) =>
          Effect.gen(function*() {
            const keep = Math.max(1, Math.floor(policy.keepRuns))
            let runs = 0
            for (const id of yield* driver.runs.integrations(policy.runsBefore)) {
              while (true) {
                const deleted = yield* tx(driver.runs.prune(id, policy.runsBefore, keep, pruneBatch))
                runs += deleted
                if (deleted < pruneBatch) break
              }
            }
            let idempotencyKeys = 0
            while (true) {
              const deleted = yield* tx(driver.idempotency.prune(policy.idempotencyBefore, pruneBatch))
              idempotencyKeys += deleted
              if (deleted < pruneBatch) break
            }
            return { runs, idempotencyKeys }
          }).pipe(operation("retention.prune")),
      },
      cursors: {
        get: (id, stream) => driver.cursors.get(id, stream).pipe(named("cursors.get")),
        list: (id) => driver.cursors.list(id).pipe(named("cursors.list")),
        listMany: (ids, streams) => listMany(ids, streams).pipe(named("cursors.listMany")),
        set: (id, stream, value) =>
          tx(Effect.zipRight(driver.lock("cursors", id, "shared"), driver.cursors.set(id, stream, value))).pipe(
            operation("cursors.set")
          ),
        compareAndSet: (id, stream, expected, value) =>
          tx(Effect.zipRight(
            driver.lock("cursors", id, "shared"),
            driver.cursors.compareAndSet(id, stream, Option.getOrNull(expected), value)
          )).pipe(operation("cursors.compareAndSet")),
        commit: (id, { expected, writes }) =>
          tx(Effect.gen(function*() {
            // exclusive: no cursor of the integration changes between the comparison and the writes
            yield* driver.lock("cursors", id, "exclusive")
            if (!cursorsEqual(expected, yield* driver.cursors.list(id))) return false
            for (const [stream, value] of writes) yield* driver.cursors.set(id, stream, value)
            return true
          })).pipe(operation("cursors.commit")),
        whileHeld: (id, fence, effect) =>
          tx(Effect.gen(function*() {
            // exclusive, as a fenced commit: a takeover's move of the lease waits, or this sees it
            yield* driver.lock("cursors", id, "exclusive")
            const current = yield* driver.cursors.get(id, fence.stream)
            if (Option.getOrNull(current) !== fence.epoch) return Option.none()
            return Option.some(yield* effect)
          })).pipe(operation("cursors.whileHeld"))
      },
      data: {
        ingest: (request) => ingest(request).pipe(operation("data.ingest")),
        intervalStats: (q) =>
          q.queueIds !== undefined && q.queueIds.length === 0
            ? Effect.succeed([])
            : driver.stats.query(q).pipe(
              Effect.map((rows) =>
                [...rows].sort((a, b) =>
                  a.start - b.start || byText(a.queueId, b.queueId) || byText(a.channel, b.channel)
                )
              ),
              named("data.intervalStats")
            ),
        intervalSums: (q) => {
          if (q.queueIds !== undefined && q.queueIds.length === 0) return Effect.succeed([])
          const sum = driver.stats.sum
          return (sum === undefined
            ? Effect.map(driver.stats.query(IntervalSums.rowRange(q)), (rows) => IntervalSums.sum(q, rows))
            : sum(q)).pipe(named("data.intervalSums"))
        },
        segments: (q) =>
          driver.segments.query(q).pipe(
            Effect.map((rows) =>
              [...rows].sort((a, b) =>
                byText(a.integrationId, b.integrationId) || byText(a.agentIdentifier, b.agentIdentifier) ||
                a.start - b.start
              )
            ),
            named("data.segments")
          ),
        agentCounts: (id) => counts(id, "agent"),
        activityCounts: (id) => counts(id, "activity")
      },
      links: {
        insert: (link) => driver.links.insert(link).pipe(operation("links.insert")),
        get: (id) => driver.links.get(id).pipe(named("links.get")),
        findByHash: (hash) => driver.links.findByHash(hash).pipe(named("links.findByHash")),
        list: (tenantId) => driver.links.list(tenantId).pipe(named("links.list")),
        touch: (id, seen) => driver.links.touch(id, seen).pipe(operation("links.touch")),
        revoke: (id, at) => driver.links.revoke(id, at).pipe(operation("links.revoke"))
      },
      linkTasks: {
        insert: (task) => driver.linkTasks.insert(task).pipe(operation("linkTasks.insert")),
        get: (id) => driver.linkTasks.get(id).pipe(named("linkTasks.get")),
        open: (tenantId) => driver.linkTasks.open(tenantId).pipe(named("linkTasks.open")),
        ofIntegration: (id, states) => driver.linkTasks.ofIntegration(id, states).pipe(named("linkTasks.ofIntegration")),
        update: (task, epoch) => driver.linkTasks.update(task, epoch).pipe(operation("linkTasks.update")),
        prune: (before) => tx(driver.linkTasks.prune(before)).pipe(operation("linkTasks.prune")),
        putPart: (taskId, resultId, part) =>
          driver.linkTasks.putPart(taskId, resultId, part).pipe(operation("linkTasks.putPart")),
        parts: (taskId, resultId) =>
          driver.linkTasks.parts(taskId, resultId).pipe(
            Effect.map((parts) => [...parts].sort((a, b) => a.n - b.n)),
            named("linkTasks.parts")
          ),
        fail: (task, epoch, run) => links.fail(task, epoch, run).pipe(operation("linkTasks.fail")),
        finish: (task, epoch) => links.finish(task, epoch).pipe(operation("linkTasks.finish")),
        commit: (request) =>
          links.commit(request).pipe(
            // a link's commit carries no node fence (links lease tasks, not integrations), so it can't lose one
            // and compares the cursors itself (`links.commit`), so expects none from the ingest
            Effect.catchTags({ OwnershipLost: (error) => Effect.die(error), CursorsMoved: (error) => Effect.die(error) }),
            operation("linkTasks.commit")
          )
      }
    }
    return shape
  })
