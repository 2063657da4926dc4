/**
 * Agent status queries and the realtime feed. Mappings are joined when read, so a mapping
 * added later shows on statuses stored before it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { AgentSegment, AgentStatus, IntegrationId, TenantId } from "./Domain.js"
import type { StorageError } from "./Errors.js"
import { Storage } from "./Storage.js"
import * as Ring from "./internal/ring.js"

/**
 * A status as callers see it, with the employee and activity it maps to (null where unmapped).
 *
 * @since 0.1.0 @category models
 */
export interface StatusView {
  readonly integrationId: IntegrationId
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  readonly start: DateTime.Utc
  readonly end: DateTime.Utc | null
  readonly employeeId: string | null
  readonly activityId: string | null
}

/** @since 0.1.0 @category models */
export interface StatusQuery {
  readonly integrationId?: IntegrationId | undefined
  readonly agentIdentifier?: string | undefined
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
}

interface Published {
  readonly tenantId: TenantId
  /** this process's count of the tenant's statuses: consecutive, from 1 (a skip is a drop) */
  readonly n: number
  /** the status's position in the feed (this process's count, or the relay's number) */
  readonly seq: number
  readonly status: StatusView
}

/**
 * A status as the relay hands it to every engine process: numbered in one order for all of
 * them (increasing; not consecutive per tenant).
 *
 * @since 0.3.0 @category models
 */
export interface RelayedStatus {
  readonly tenantId: TenantId
  readonly seq: number
  readonly status: StatusView
}

/**
 * Carries the feed between the engine processes that share a database, so a subscriber on
 * any of them sees the statuses accepted on every one, and resumes on any of them. Without
 * one (the default) the feed is this process's own.
 *
 * @since 0.3.0 @category models
 */
export interface StatusRelayShape {
  /** names the relay's numbering (8 hex digits): a feed position from another numbering can't be resumed */
  readonly run: string
  /** hands statuses accepted here to every process (this one too, through `received`) */
  readonly send: (tenantId: TenantId, statuses: ReadonlyArray<StatusView>) => Effect.Effect<void, StorageError>
  /**
   * Every process's statuses from now on, in the relay's order: subscribed when the effect
   * completes, so nothing sent after that is missed.
   */
  readonly received: Effect.Effect<Stream.Stream<RelayedStatus>, never, Scope.Scope>
  /**
   * The tenant's statuses after `seq`, in order, at most `limit`; none when the relay no
   * longer keeps all of them (or there are more than `limit`).
   */
  readonly since: (
    tenantId: TenantId,
    seq: number,
    limit: number
  ) => Effect.Effect<Option.Option<ReadonlyArray<RelayedStatus>>, StorageError>
}

/**
 * The relay between engine processes (e.g. the server's PostgreSQL `LISTEN/NOTIFY` relay when
 * clustered). Optional: `AgentStatuses` uses it when it is in its context.
 *
 * @since 0.3.0 @category services
 */
export class StatusRelay extends Context.Tag("@acd-bridge/core/AgentStatuses/StatusRelay")<
  StatusRelay,
  StatusRelayShape
>() {}

/**
 * How many of each tenant's latest statuses the feed keeps in memory, so a subscriber that
 * reconnects gets what it missed (`resume`). Default 10,000 (about 3 MB per tenant): at the
 * 48 status changes per second of a 5,000-agent site's busy hour, 3.5 minutes.
 *
 * @since 0.2.0 @category models
 */
export class ReplayLog extends Context.Reference<ReplayLog>()("@acd-bridge/core/AgentStatuses/ReplayLog", {
  defaultValue: () => ({ size: 10_000 })
}) {}

/**
 * One status of the feed with its position: `id` is `<run>-<seq>`, where `run` names this
 * process's feed (a restarted engine has another) and `seq` counts the tenant's statuses.
 *
 * @since 0.2.0 @category models
 */
export interface FeedEvent {
  readonly _tag: "Status"
  readonly id: string
  readonly status: StatusView
}

/**
 * The feed can't say what a subscriber missed (the position is older than the log, from
 * another run of the engine, or a slow subscriber was overtaken): it must read the statuses
 * again (`query`) and go on from here.
 *
 * @since 0.2.0 @category models
 */
export interface FeedReset {
  readonly _tag: "Reset"
  /** the position the feed goes on from: resuming from it misses nothing after the reset */
  readonly id: string
  readonly reason: string
}

/** @since 0.2.0 @category models */
export type FeedItem = FeedEvent | FeedReset

/**
 * @since 0.1.0 @category services
 */
export class AgentStatuses extends Effect.Service<AgentStatuses>()("@acd-bridge/core/AgentStatuses", {
  scoped: Effect.gen(function*() {
    const storage = yield* Storage
    const { size: logSize } = yield* ReplayLog
    // sliding: a slow subscriber loses the oldest events instead of slowing ingest down (and
    // is told so: its sequence numbers skip, and `resume` answers a reset)
    const hub = yield* Effect.acquireRelease(PubSub.sliding<Published>(10_000), PubSub.shutdown)
    const relay = Option.getOrUndefined(yield* Effect.serviceOption(StatusRelay))
    const run = relay?.run ?? globalThis.crypto.randomUUID().slice(0, 8)
    /**
     * per tenant: the last count and feed position given, and the latest statuses (a ring of
     * `logSize`)
     */
    const logs = new Map<TenantId, { n: number; seq: number; readonly ring: Ring.Ring<Published> }>()
    const idOf = (seq: number) => `${run}-${seq}`

    /**
     * Numbers and logs statuses, then publishes them, in one synchronous step before the
     * publish, so a subscriber that subscribes and then reads the log sees each at least once.
     * `seq` is the relay's position, or (none) the next of this process's count.
     */
    const record = (tenantId: TenantId, items: ReadonlyArray<{ readonly seq?: number; readonly status: StatusView }>) =>
      Effect.flatMap(
        Effect.sync(() => {
          let log = logs.get(tenantId)
          if (log === undefined) {
            log = { n: 0, seq: 0, ring: Ring.make(logSize) }
            logs.set(tenantId, log)
          }
          const out: Array<Published> = []
          for (const item of items) {
            const seq = item.seq ?? log.seq + 1
            // the relay's order is increasing: an older position is one this process has seen
            if (seq <= log.seq) continue
            log.seq = seq
            const published = { tenantId, n: ++log.n, seq, status: item.status }
            out.push(published)
            Ring.push(log.ring, published)
          }
          return out
        }),
        (published) => PubSub.publishAll(hub, published)
      )

    if (relay !== undefined) {
      // every process's statuses, this one's too, enter the feed here in the relay's order
      yield* (yield* relay.received).pipe(
        Stream.runForEachChunk((chunk) => {
          // each tenant's statuses of the chunk in one step, in the relay's order
          const byTenant = new Map<TenantId, Array<RelayedStatus>>()
          for (const r of chunk) {
            const list = byTenant.get(r.tenantId)
            if (list === undefined) byTenant.set(r.tenantId, [r])
            else list.push(r)
          }
          return Effect.forEach(byTenant, ([tenantId, list]) => record(tenantId, list), { discard: true })
        }),
        Effect.forkScoped
      )
    }

    const mappingsOf = Effect.fn(function*(id: IntegrationId) {
      const agents = new Map((yield* storage.mappings.agents(id)).map((m) => [m.externalId, m.employeeId]))
      const activities = new Map((yield* storage.mappings.activities(id)).map((m) => [m.externalId, m.activityId]))
      return { agents, activities }
    })

    const view = (
      m: { agents: ReadonlyMap<string, string>; activities: ReadonlyMap<string, string> },
      s: AgentSegment
    ): StatusView => ({
      integrationId: s.integrationId,
      agentIdentifier: s.agentIdentifier,
      activityIdentifier: s.activityIdentifier,
      start: DateTime.unsafeMake(s.start),
      end: s.end === null ? null : DateTime.unsafeMake(s.end),
      employeeId: m.agents.get(s.agentIdentifier) ?? null,
      activityId: m.activities.get(s.activityIdentifier) ?? null
    })

    /** Segments overlapping [from, to), per agent in time order. */
    const query = Effect.fn("AgentStatuses.query")(function*(tenantId: TenantId, q: StatusQuery) {
      const segments = yield* storage.data.segments({
        tenantId,
        integrationId: q.integrationId,
        agentIdentifier: q.agentIdentifier,
        from: DateTime.toEpochMillis(q.from),
        to: DateTime.toEpochMillis(q.to)
      })
      const cache = new Map<IntegrationId, { agents: Map<string, string>; activities: Map<string, string> }>()
      const out: Array<StatusView> = []
      for (const s of segments) {
        let m = cache.get(s.integrationId)
        if (!m) {
          m = yield* mappingsOf(s.integrationId)
          cache.set(s.integrationId, m)
        }
        out.push(view(m, s))
      }
      return out
    })

    /** Called by ingest after a commit: subscribers see accepted statuses at once. */
    const publish = Effect.fn("AgentStatuses.publish")(
      function*(tenantId: TenantId, integrationId: IntegrationId, statuses: ReadonlyArray<AgentStatus>) {
        if (statuses.length === 0) return
        // the batch's ids only: a large site maps thousands of agents, a push names a few
        const m = yield* storage.mappings.lookup(integrationId, {
          agents: Array.from(new Set(statuses.map((s) => s.agentIdentifier))),
          activities: Array.from(new Set(statuses.map((s) => s.activityIdentifier)))
        })
        const views = statuses.map((s) =>
          view(m, {
            integrationId,
            agentIdentifier: s.agentIdentifier,
            activityIdentifier: s.activityIdentifier,
            start: DateTime.toEpochMillis(s.start),
            end: s.end === null ? null : DateTime.toEpochMillis(s.end)
          })
        )
        if (relay === undefined) return yield* record(tenantId, views.map((status) => ({ status })))
        // the statuses are stored already: a relay that fails loses them for the feed only
        // (subscribers read them with `query`), never the push that stored them
        yield* relay.send(tenantId, views).pipe(
          Effect.catchAll((error) => Effect.logWarning("agent statuses: the relay to the other nodes failed", error))
        )
      }
    )

    /**
     * Statuses of the tenant (optionally one integration) as they are accepted: a scoped
     * subscription, registered before the effect returns, so no status accepted after that is
     * missed.
     */
    const subscription = (tenantId: TenantId, integrationId?: IntegrationId) =>
      Effect.map(PubSub.subscribe(hub), (queue) =>
        Stream.fromQueue(queue).pipe(
          Stream.filter((p) =>
            p.tenantId === tenantId && (integrationId === undefined || p.status.integrationId === integrationId)
          ),
          Stream.map((p) => p.status)
        ))

    /**
     * The feed of the tenant (optionally one integration) with positions, resuming after
     * `lastEventId` (a `FeedEvent.id` a subscriber received before): first what it missed
     * from the replay log, then the live statuses. Never a silent gap: when the log can't
     * cover what was missed (too old, another run of the engine, an unreadable id) or a slow
     * subscriber is overtaken, a `Reset` says so and the feed goes on live. Subscribed before
     * the effect returns.
     */
    const resume = (tenantId: TenantId, integrationId?: IntegrationId, lastEventId?: string) =>
      Effect.gen(function*() {
        const queue = yield* PubSub.subscribe(hub)
        const wanted = (p: { readonly status: StatusView }) =>
          integrationId === undefined || p.status.integrationId === integrationId
        const log = logs.get(tenantId)
        const current = log?.seq ?? 0
        const oldest = (log === undefined ? undefined : Ring.oldest(log.ring))?.seq ?? current + 1
        const head: Array<FeedItem> = []
        /** live statuses are those after this position */
        let from = current
        /** the count of the tenant's statuses the subscriber has seen: a skip in it is a drop */
        let after = log?.n ?? 0
        const reset = (reason: string) => head.push({ _tag: "Reset", id: idOf(current), reason })
        if (lastEventId !== undefined) {
          const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId.trim())
          const seq = match === null ? undefined : Number(match[2])
          if (match === null || match[1] !== run || seq === undefined) {
            reset("the last event id is not from this run of the engine")
          } else if (seq <= current && seq + 1 >= oldest) {
            for (const p of log === undefined ? [] : Ring.values(log.ring)) {
              if (p.seq > seq && wanted(p)) head.push({ _tag: "Status", id: idOf(p.seq), status: p.status })
            }
          } else if (relay === undefined) {
            reset(
              seq > current
                ? "the last event id is not from this run of the engine"
                : `more than ${logSize} statuses were accepted since the last event id`
            )
          } else {
            // not in this process's log (it started later, its log is full, or another node
            // is ahead of it): the relay's rows after the id, and live ones after those (the
            // subscription came first, so a row is in one or the other, or both: once)
            const missed = yield* relay.since(tenantId, seq, logSize).pipe(
              Effect.catchAll((error) =>
                Effect.as(Effect.logWarning("agent statuses: the relay could not replay", error), Option.none())
              )
            )
            if (Option.isNone(missed)) {
              reset(`more than ${logSize} statuses were accepted since the last event id`)
            } else {
              from = seq
              for (const p of missed.value) {
                from = Math.max(from, p.seq)
                if (wanted(p)) head.push({ _tag: "Status", id: idOf(p.seq), status: p.status })
              }
            }
          }
        }
        const live = Stream.fromQueue(queue).pipe(
          Stream.filter((p) => p.tenantId === tenantId),
          Stream.mapConcat((p): ReadonlyArray<FeedItem> => {
            if (p.n <= after) return []
            // consecutive per tenant: a skip means the sliding hub dropped statuses for this subscriber
            const skipped = p.n > after + 1
            after = p.n
            if (p.seq <= from) return []
            const event: ReadonlyArray<FeedItem> = wanted(p) ? [{ _tag: "Status", id: idOf(p.seq), status: p.status }] : []
            return skipped
              ? [{ _tag: "Reset", id: idOf(p.seq - 1), reason: "this subscriber fell behind and statuses were dropped" }, ...event]
              : event
          })
        )
        return Stream.concat(Stream.fromIterable(head), live)
      })

    return { query, publish, subscription, resume } as const
  })
}) {}
