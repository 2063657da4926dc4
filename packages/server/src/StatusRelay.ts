/**
 * The realtime feed across the nodes of a cluster (`Cluster`): agent statuses accepted on any
 * node reach the event-stream subscribers of every node, and a subscriber resumes
 * (`Last-Event-ID`) on any node.
 *
 * Through PostgreSQL: a node appends the statuses it accepted to `acd_bridge_status_feed`
 * (after their own commit) and `NOTIFY`s the channel of the same name; every node `LISTEN`s,
 * reads the rows after the last one it read, and hands them to its `AgentStatuses` feed.
 * A notification only says that there is something new (a `NOTIFY` payload is limited to
 * 8,000 bytes; the rows carry the statuses). A feed position is the row's `seq`: appends take one advisory
 * lock, so the numbers are given in commit order and a reader never passes a row still being
 * committed. Every node also reads once a second, so a notification lost with a dropped
 * connection delays statuses, never loses them. The table keeps the latest `keep` rows: the
 * replay of a subscriber that comes back later than that is a reset.
 *
 * @since 0.3.0
 */
import type { Domain } from "@acd-bridge/core"
import { AgentStatuses, Errors } from "@acd-bridge/core"
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/** @since 0.3.0 @category models */
export interface Options {
  /** How many of the latest statuses (all tenants) the table keeps for replays (default 100,000). */
  readonly keep?: number | undefined
  /** How often a node reads the table without a notification (default 1 second). */
  readonly pollEvery?: Duration.DurationInput | undefined
}

const channel = "acd_bridge_status_feed"

const failed = (operation: string) => (cause: unknown) => Errors.StorageError.fromCause(`status relay: ${operation}`, cause)

interface FeedRow {
  readonly seq: string | number
  readonly tenant_id: string
  readonly body: string
}

/** A status as the table stores it (start and end in epoch milliseconds). */
interface Body {
  readonly integrationId: string
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  readonly start: number
  readonly end: number | null
  readonly employeeId: string | null
  readonly activityId: string | null
}

const bodyOf = (s: AgentStatuses.StatusView): string =>
  JSON.stringify({
    integrationId: s.integrationId,
    agentIdentifier: s.agentIdentifier,
    activityIdentifier: s.activityIdentifier,
    start: DateTime.toEpochMillis(s.start),
    end: s.end === null ? null : DateTime.toEpochMillis(s.end),
    employeeId: s.employeeId,
    activityId: s.activityId
  } satisfies Body)

const relayedOf = (row: FeedRow): AgentStatuses.RelayedStatus => {
  const b = JSON.parse(row.body) as Body
  return {
    tenantId: row.tenant_id as Domain.TenantId,
    seq: Number(row.seq),
    status: {
      integrationId: b.integrationId as Domain.IntegrationId,
      agentIdentifier: b.agentIdentifier,
      activityIdentifier: b.activityIdentifier,
      start: DateTime.unsafeMake(b.start),
      end: b.end === null ? null : DateTime.unsafeMake(b.end),
      employeeId: b.employeeId,
      activityId: b.activityId
    }
  }
}

/**
 * The relay on a PostgreSQL client (its pool gives the listening connection).
 *
 * @since 0.3.0 @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<AgentStatuses.StatusRelay, Errors.StorageError, PgClient.PgClient> =>
  Layer.scoped(
    AgentStatuses.StatusRelay,
    Effect.gen(function*() {
      const { PgClient: Tag } = yield* Effect.promise(() => import("@effect/sql-pg/PgClient"))
      const sql = yield* Tag
      const keep = Math.max(1, options.keep ?? 100_000)
      const pollMs = Duration.toMillis(Duration.decode(options.pollEvery ?? "1 second"))

      yield* sql.withTransaction(Effect.gen(function*() {
        // concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: one node at a time
        yield* sql`SELECT pg_advisory_xact_lock(hashtext('acd_bridge_status_feed_schema'))`
        yield* sql`CREATE TABLE IF NOT EXISTS acd_bridge_status_feed (
          seq BIGSERIAL PRIMARY KEY,
          tenant_id TEXT NOT NULL,
          body TEXT NOT NULL
        )`
        yield* sql`CREATE INDEX IF NOT EXISTS acd_bridge_status_feed_tenant ON acd_bridge_status_feed (tenant_id, seq)`
      })).pipe(Effect.mapError(failed("create the table")))
      // the table's identity names the numbering: a table made again numbers anew
      const [named] = yield* sql<{ readonly oid: string | number }>`SELECT 'acd_bridge_status_feed'::regclass::oid AS oid`.pipe(
        Effect.mapError(failed("read the table"))
      )
      const run = (Number(named?.oid ?? 0) >>> 0).toString(16).padStart(8, "0")

      // ---- receiving: every node's rows, in `seq` order, from the rows after the newest at start
      const [top] = yield* sql<{ readonly seq: string | number | null }>`SELECT max(seq) AS seq FROM acd_bridge_status_feed`
        .pipe(Effect.mapError(failed("read the table")))
      let last = Number(top?.seq ?? 0)
      const received = yield* PubSub.unbounded<AgentStatuses.RelayedStatus>()
      const wake = yield* Queue.sliding<void>(1)
      const readNew: Effect.Effect<void, Errors.StorageError> = Effect.gen(function*() {
        for (;;) {
          const rows = yield* sql<FeedRow>`SELECT seq, tenant_id, body FROM acd_bridge_status_feed
            WHERE seq > ${last} ORDER BY seq LIMIT 5000`.pipe(Effect.mapError(failed("read")))
          if (rows.length === 0) return
          last = Number(rows[rows.length - 1]!.seq)
          yield* PubSub.publishAll(received, rows.map(relayedOf))
          if (rows.length < 5000) return
        }
      })
      yield* Queue.take(wake).pipe(
        Effect.zipRight(readNew),
        Effect.catchAll((error) => Effect.logWarning("status relay: reading the feed failed", error)),
        Effect.forever,
        Effect.forkScoped
      )
      yield* sql.listen(channel).pipe(
        Stream.runForEach(() => Queue.offer(wake, undefined)),
        Effect.tapError((error) => Effect.logWarning("status relay: the listening connection failed", error)),
        Effect.retry(Schedule.spaced("1 second")),
        Effect.forkScoped
      )
      yield* Queue.offer(wake, undefined).pipe(
        Effect.repeat(Schedule.spaced(Duration.millis(pollMs))),
        Effect.forkScoped
      )

      // ---- sending: what this node accepted, appended in order by one fiber (a batch per
      // round: what queued while the last append ran goes in one statement)
      const outbox = yield* Queue.unbounded<{ readonly tenantId: Domain.TenantId; readonly body: string }>()
      let appended = 0
      const append = (items: ReadonlyArray<{ readonly tenantId: Domain.TenantId; readonly body: string }>) =>
        sql.withTransaction(Effect.gen(function*() {
          // the numbers in commit order: a reader that saw row n never misses a row before it
          yield* sql`SELECT pg_advisory_xact_lock(hashtext('acd_bridge_status_feed'))`
          for (let at = 0; at < items.length; at += 1_000) {
            yield* sql`INSERT INTO acd_bridge_status_feed ${
              sql.insert(items.slice(at, at + 1_000).map((i) => ({ tenant_id: i.tenantId, body: i.body })))
            }`
          }
          // pg_notify: the client's `notify` sends the payload as a parameter, which NOTIFY can't
          // take; a payload at all, because the client's `listen` drops empty ones
          yield* sql`SELECT pg_notify(${channel}, 'new')`
          appended += items.length
          if (appended >= Math.min(keep, 1_000)) {
            appended = 0
            yield* sql`DELETE FROM acd_bridge_status_feed WHERE seq <= (SELECT max(seq) FROM acd_bridge_status_feed) - ${keep}`
          }
        })).pipe(Effect.mapError(failed("append")))
      yield* Queue.takeBetween(outbox, 1, 10_000).pipe(
        Effect.flatMap((chunk) =>
          append(Array.from(chunk)).pipe(
            Effect.retry({ times: 3, schedule: Schedule.exponential("50 millis") }),
            Effect.catchAll((error) =>
              Effect.logWarning(`status relay: ${chunk.length} statuses could not be relayed to the other nodes`, error)
            )
          )
        ),
        Effect.forever,
        Effect.forkScoped
      )

      return {
        run,
        send: (tenantId, statuses) => Queue.offerAll(outbox, statuses.map((s) => ({ tenantId, body: bodyOf(s) }))),
        received: Effect.map(PubSub.subscribe(received), (queue) => Stream.fromQueue(queue)),
        since: (tenantId, seq, limit) =>
          Effect.gen(function*() {
            const [kept] = yield* sql<{ readonly seq: string | number | null }>`SELECT min(seq) AS seq FROM acd_bridge_status_feed`
            if (kept?.seq !== null && kept?.seq !== undefined && seq + 1 < Number(kept.seq)) return Option.none()
            const rows = yield* sql<FeedRow>`SELECT seq, tenant_id, body FROM acd_bridge_status_feed
              WHERE tenant_id = ${tenantId} AND seq > ${seq} ORDER BY seq LIMIT ${limit + 1}`
            return rows.length > limit ? Option.none() : Option.some(rows.map(relayedOf))
          }).pipe(Effect.mapError(failed("replay")))
      } satisfies AgentStatuses.StatusRelayShape
    })
  )

/**
 * The relay on its own PostgreSQL connections (a few: one listens, one appends, one reads).
 *
 * @since 0.3.0 @category layers
 */
export const layerPg = (
  url: Redacted.Redacted<string>,
  options: Options & { readonly nodeId?: string | undefined } = {}
): Layer.Layer<AgentStatuses.StatusRelay, Errors.StorageError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/sql-pg/PgClient")),
      (PgClient) =>
        layer(options).pipe(
          Layer.provide(
            PgClient.layer({ url, maxConnections: 4, applicationName: `acd-bridge status relay ${options.nodeId ?? ""}` })
              .pipe(Layer.mapError(failed("connect")))
          )
        )
    )
  )
