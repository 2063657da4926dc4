/**
 * Several servers on one PostgreSQL database: every node serves the whole HTTP API, and each
 * integration's schedule runs on exactly one node, the holder of its lease.
 *
 * Leases are rows in the shared database (`acd_bridge_leases`: integration, node, epoch,
 * expiry), as pg-boss and graphile-worker keep their jobs: every `renewEvery` a node
 *
 * 1. writes its heartbeat (`acd_bridge_nodes`) and counts the live nodes (a heartbeat younger
 *    than `leaseTtl`);
 * 2. renews the leases it holds (a lease nobody took over stays its holder's, even expired);
 * 3. takes free or expired leases, `FOR UPDATE SKIP LOCKED`, up to its share
 *    `ceil(integrations / live nodes)`, counting each one's `epoch` up, and moves the
 *    integration's `lease` cursor to the new epoch (a monotonic compare-and-set);
 * 4. gives back what it holds over its share, so a node that joins gets work.
 *
 * The core scheduler (`Ownership`) runs only what this node holds and fences every commit with
 * the epoch: a node that lost its lease while it was stopped (SIGSTOP, a long pause, a
 * partition) writes nothing when it wakes, because the `lease` cursor moved on. A node that
 * dies is replaced within `leaseTtl + renewEvery` (plus the time to read the window again).
 * A node that stops cleanly gives its leases back at once.
 *
 * @since 0.3.0
 */
import type { Domain } from "@acd-bridge/core"
import { ConnectorRegistry, Errors, Ownership, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as os from "node:os"

/**
 * How a node takes part in the cluster.
 *
 * @since 0.3.0 @category models
 */
export interface Options {
  /** This node's name in `acd_bridge_nodes` and `acd_bridge_leases` (default: host name and process id). */
  readonly nodeId?: string | undefined
  /** How long a lease lasts without renewal: the bound on moving a dead node's integrations (default 15 s). */
  readonly leaseTtl?: Duration.DurationInput | undefined
  /** How often a node renews, takes and gives back leases (default a third of `leaseTtl`). */
  readonly renewEvery?: Duration.DurationInput | undefined
  /** The tenants whose integrations are leased (the scheduler's tenants). */
  readonly tenants: ReadonlyArray<Domain.TenantId>
  /** The delivery modes this node's scheduler runs. */
  readonly deliveryModes: ReadonlyArray<Domain.DeliveryMode>
  /**
   * On-premise integrations are read by links (`ACD_BRIDGE_ON_PREMISE=link`): their windows are
   * still planned by the scheduler, so they are leased like the rest (historical ones).
   */
  readonly links?: boolean | undefined
}

/**
 * The cluster settings of `acd-bridge serve`: `ACD_BRIDGE_CLUSTER=true` turns leasing on (it
 * needs a PostgreSQL `ACD_BRIDGE_DATABASE_URL`).
 *
 * @since 0.3.0 @category config
 */
export const config: Config.Config<
  Option.Option<{ readonly nodeId: string; readonly leaseTtl: Duration.Duration; readonly renewEvery: Option.Option<Duration.Duration> }>
> = Config.all({
  enabled: Config.boolean("ACD_BRIDGE_CLUSTER").pipe(Config.withDefault(false)),
  nodeId: Config.string("ACD_BRIDGE_NODE_ID").pipe(Config.withDefault(`${os.hostname()}:${process.pid}`)),
  leaseTtl: Config.duration("ACD_BRIDGE_LEASE_TTL").pipe(
    Config.withDefault(Duration.seconds(15)),
    Config.validate({
      message: "ACD_BRIDGE_LEASE_TTL must be at least 1 second",
      validation: (d) => Duration.toMillis(d) >= 1_000
    })
  ),
  renewEvery: Config.option(Config.duration("ACD_BRIDGE_LEASE_RENEW"))
}).pipe(Config.map(({ enabled, ...settings }) => enabled ? Option.some(settings) : Option.none()))

/**
 * The cursors a re-import request writes (`Scheduler.reimport`; core's Scheduler documents
 * them): the range's bounds, not the progress through it, which the owner moves itself. They are
 * read for every integration held in one `Storage.cursors.listMany` per round.
 */
const reimportStreams = ["backfill.reimport.from", "backfill.reimport.to"]

const lost = (operation: string) => (cause: unknown) => Errors.StorageError.fromCause(`cluster: ${operation}`, cause)

/** Creates the lease tables once, whichever node starts first. */
const ensureTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(Effect.gen(function*() {
    // concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: one node at a time
    yield* sql`SELECT pg_advisory_xact_lock(hashtext('acd_bridge_cluster_schema'))`
    yield* sql`CREATE TABLE IF NOT EXISTS acd_bridge_nodes (
      node_id TEXT PRIMARY KEY,
      started_at TIMESTAMPTZ NOT NULL,
      heartbeat_at TIMESTAMPTZ NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS acd_bridge_leases (
      integration_id TEXT PRIMARY KEY,
      node_id TEXT,
      epoch BIGINT NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS acd_bridge_leases_node ON acd_bridge_leases (node_id)`
  }))
})

interface LeaseRow {
  readonly integration_id: string
  readonly epoch: string | number
}

/**
 * This node's `Ownership` from leases in PostgreSQL. It needs a PostgreSQL `SqlClient`, the
 * engine's `Storage` (the integrations and their `lease` cursor) and the `ConnectorRegistry`
 * (which integrations have a schedule to run).
 *
 * @since 0.3.0 @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Ownership.Ownership, Errors.StorageError, SqlClient.SqlClient | Storage.Storage | ConnectorRegistry.ConnectorRegistry> =>
  Layer.scoped(
    Ownership.Ownership,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const storage = yield* Storage.Storage
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      const nodeId = options.nodeId ?? `${os.hostname()}:${process.pid}`
      const ttlMs = Duration.toMillis(Duration.decode(options.leaseTtl ?? Duration.seconds(15)))
      const renewMs = options.renewEvery === undefined
        ? Math.max(200, Math.floor(ttlMs / 3))
        : Duration.toMillis(Duration.decode(options.renewEvery))
      yield* ensureTables.pipe(Effect.mapError(lost("create the lease tables")))

      /** integration → the epoch this node holds, once its `lease` cursor holds it too */
      const held = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
      /** integrations whose lease row this node made sure of, and deleted ones whose row it removed */
      const rowsMade = new Set<string>()
      const deletedSeen = new Set<string>()
      /** integration → `version` last seen, to tell this node's fibers about changes made elsewhere */
      const versions = new Map<string, number>()
      /** integration held here → its requested re-import range as last seen (the cursors' values) */
      const reimports = new Map<string, string>()
      const changes = yield* PubSub.unbounded<void>()
      const changed = yield* PubSub.unbounded<Domain.IntegrationId>()

      /** Whether this node's scheduler would run the integration at all. */
      const leased = (integration: Domain.Integration) =>
        Effect.gen(function*() {
          if (integration.status === "deleted") return false
          // as the scheduler's supervisor decides: a link reads the window, this node plans it
          const linked = options.links === true && integration.deliveryMode === "on-premise"
          if (!linked && !options.deliveryModes.includes(integration.deliveryMode)) return false
          const registered = yield* Effect.option(registry.get(integration.connector))
          if (Option.isNone(registered)) return false
          if (linked) return integration.schedule.type === "historical"
          const configured = registered.value.configure(integration.config)
          if (Either.isLeft(configured)) return true
          return integration.schedule.type === "historical"
            ? Option.isSome(configured.right.pull)
            : Option.isSome(configured.right.realtime)
        })

      /** Moves the integration's `lease` cursor up to `epoch`; false when it is past it already. */
      const fence = (id: Domain.IntegrationId, epoch: number): Effect.Effect<boolean, Errors.StorageError> =>
        Effect.gen(function*() {
          for (;;) {
            const current = Option.getOrNull(yield* storage.cursors.get(id, Ownership.fenceStream))
            if (current !== null && current >= epoch) return current === epoch
            if (yield* storage.cursors.compareAndSet(id, Ownership.fenceStream, Option.fromNullable(current), epoch)) {
              return true
            }
          }
        })

      const ms = (n: number) => sql.literal(`${Math.max(0, Math.round(n))} milliseconds`)

      const tick = Effect.gen(function*() {
        yield* sql`INSERT INTO acd_bridge_nodes (node_id, started_at, heartbeat_at) VALUES (${nodeId}, now(), now())
          ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now()`
        const [alive] = yield* sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM acd_bridge_nodes
          WHERE heartbeat_at > now() - interval '${ms(ttlMs)}'`
        const live = Math.max(1, Number(alive?.n ?? 1))

        const integrations: Array<Domain.Integration> = []
        for (const tenantId of options.tenants) integrations.push(...(yield* storage.integrations.list(tenantId)))
        const wanted: Array<Domain.Integration> = []
        const gone: Array<string> = []
        for (const integration of integrations) {
          if (yield* leased(integration)) wanted.push(integration)
          else if (integration.status === "deleted") gone.push(integration.id)
        }
        // a lease row for each integration this node has not seen yet (in chunks: bounded statements)
        const unseen = wanted.filter((i) => !rowsMade.has(i.id))
        for (let at = 0; at < unseen.length; at += 1_000) {
          const chunk = unseen.slice(at, at + 1_000)
          yield* sql`INSERT INTO acd_bridge_leases ${
            sql.insert(chunk.map((i) => ({ integration_id: i.id, node_id: null, epoch: 0, expires_at: new Date(0) })))
          } ON CONFLICT (integration_id) DO NOTHING`
          for (const i of chunk) rowsMade.add(i.id)
        }
        const goneRows = gone.filter((id) => rowsMade.has(id) || !deletedSeen.has(id))
        if (goneRows.length > 0) {
          yield* sql`DELETE FROM acd_bridge_leases WHERE integration_id IN ${sql.in(goneRows)}`
          for (const id of goneRows) {
            rowsMade.delete(id)
            deletedSeen.add(id)
          }
        }

        // renew: what this node still holds (a lease taken over is no longer this node's)
        const renewed = yield* sql<LeaseRow>`UPDATE acd_bridge_leases SET expires_at = now() + interval '${ms(ttlMs)}'
          WHERE node_id = ${nodeId} RETURNING integration_id, epoch`
        const before = yield* Ref.get(held)
        const next = new Map<string, number>()
        for (const row of renewed) {
          const epoch = Number(row.epoch)
          if (before.get(row.integration_id) === epoch || (yield* fence(row.integration_id as Domain.IntegrationId, epoch))) {
            next.set(row.integration_id, epoch)
          }
        }

        // take free and expired leases up to this node's share
        const share = Math.ceil(wanted.length / live)
        if (next.size < share) {
          // The fence moves before the lease row does, while the row is locked: a holder that
          // lost its lease (frozen, cut off) is refused from the moment anyone could act on the
          // takeover, and its commit in flight, holding the cursor lock, finishes first.
          const taken = yield* sql.withTransaction(Effect.gen(function*() {
            const free = yield* sql<LeaseRow>`SELECT integration_id, epoch FROM acd_bridge_leases
              WHERE node_id IS NULL OR expires_at < clock_timestamp()
              ORDER BY expires_at, integration_id
              LIMIT ${share - next.size}
              FOR UPDATE SKIP LOCKED`
            const fenced: Array<{ readonly id: string; readonly epoch: number }> = []
            for (const row of free) {
              const epoch = Number(row.epoch) + 1
              if (yield* fence(row.integration_id as Domain.IntegrationId, epoch)) fenced.push({ id: row.integration_id, epoch })
            }
            if (fenced.length > 0) {
              yield* sql`UPDATE acd_bridge_leases
                SET node_id = ${nodeId}, epoch = epoch + 1, expires_at = clock_timestamp() + interval '${ms(ttlMs)}'
                WHERE integration_id IN ${sql.in(fenced.map((f) => f.id))}`
            }
            return fenced
          }))
          for (const { epoch, id } of taken) {
            next.set(id, epoch)
            yield* Effect.logInfo("lease taken").pipe(Effect.annotateLogs({ integrationId: id, epoch }))
          }
        } else if (next.size > share && live > 1) {
          // give back what is over the share, so the other nodes can take it
          const extra = Array.from(next.keys()).sort().slice(share)
          for (const id of extra) next.delete(id)
          yield* Ref.set(held, next)
          yield* PubSub.publish(changes, undefined)
          yield* sql`UPDATE acd_bridge_leases SET node_id = NULL, expires_at = 'epoch'
            WHERE node_id = ${nodeId} AND integration_id IN ${sql.in(extra)}`
          yield* Effect.logInfo(`gave back ${extra.length} leases (share ${share} of ${wanted.length} on ${live} nodes)`)
        }

        const lostIds = Array.from(before.keys()).filter((id) => !next.has(id))
        for (const id of lostIds) {
          yield* Effect.logWarning("lease lost: another node holds the integration now").pipe(
            Effect.annotateLogs({ integrationId: id, epoch: before.get(id) })
          )
        }
        const gained = Array.from(next.keys()).some((id) => before.get(id) !== next.get(id))
        yield* Ref.set(held, next)
        if (gained || lostIds.length > 0) yield* PubSub.publish(changes, undefined)

        // an integration changed on another node (paused, resumed, patched): wake its fiber here
        const woken = new Set<string>()
        for (const integration of integrations) {
          const seen = versions.get(integration.id)
          versions.set(integration.id, integration.version)
          if (seen !== undefined && seen !== integration.version && next.has(integration.id)) woken.add(integration.id)
        }
        // a re-import requested on another node writes only cursors (the integration's version
        // stays): wake the fiber when the requested range of an integration held here changed,
        // or it would wait for its next scheduled run (up to an hour away)
        const heldIds = Array.from(next.keys())
        const requested = yield* storage.cursors.listMany(heldIds.map((id) => id as Domain.IntegrationId), reimportStreams)
        const ranges = new Map<string, string>()
        for (const [id, values] of requested) {
          // in the streams' order, so the same range always reads the same
          ranges.set(id, reimportStreams.map((stream) => `${stream}=${values.get(stream) ?? ""};`).join(""))
        }
        for (const id of heldIds) {
          const range = ranges.get(id) ?? ""
          // a lease just taken: the fiber starting now reads the cursors itself
          if (before.get(id) === next.get(id) && reimports.has(id) && reimports.get(id) !== range) woken.add(id)
          reimports.set(id, range)
        }
        for (const id of Array.from(reimports.keys())) if (!next.has(id)) reimports.delete(id)
        for (const id of woken) yield* PubSub.publish(changed, id as Domain.IntegrationId)
      })

      const release = Effect.gen(function*() {
        yield* Ref.set(held, new Map())
        yield* sql`UPDATE acd_bridge_leases SET node_id = NULL, expires_at = 'epoch' WHERE node_id = ${nodeId}`
        yield* sql`DELETE FROM acd_bridge_nodes WHERE node_id = ${nodeId}`
        yield* Effect.logInfo("cluster: leases given back")
      }).pipe(Effect.catchAll((error) => Effect.logWarning(`cluster: could not give the leases back: ${error.message}`)))

      yield* tick.pipe(
        Effect.catchAll((error) => Effect.logWarning(`cluster: lease round failed: ${error.message}`)),
        Effect.catchAllDefect((defect) => Effect.logError("cluster: lease round died", defect)),
        Effect.withSpan("Cluster.tick"),
        Effect.repeat(Schedule.spaced(Duration.millis(renewMs))),
        Effect.annotateLogs({ node: nodeId }),
        Effect.interruptible,
        Effect.forkScoped
      )
      yield* Effect.addFinalizer(() => release.pipe(Effect.annotateLogs({ node: nodeId })))
      yield* Effect.logInfo(`cluster: node ${nodeId}, leases of ${ttlMs} ms renewed every ${renewMs} ms`)

      return {
        owns: (id) =>
          Effect.map(Ref.get(held), (m) => {
            const epoch = m.get(id)
            return epoch === undefined
              ? Option.none()
              : Option.some<Ownership.Fence | undefined>({ stream: Ownership.fenceStream, epoch })
          }),
        changes: Stream.fromPubSub(changes),
        changed: Stream.fromPubSub(changed)
      } satisfies Ownership.OwnershipShape
    })
  )

/**
 * The cluster's `Ownership` on its own PostgreSQL connections (a few: one round a second).
 *
 * @since 0.3.0 @category layers
 */
export const layerPg = (
  url: Redacted.Redacted<string>,
  options: Options
): Layer.Layer<Ownership.Ownership, Errors.StorageError, Storage.Storage | ConnectorRegistry.ConnectorRegistry> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/sql-pg/PgClient")),
      (PgClient) =>
        layer(options).pipe(
          Layer.provide(
            PgClient.layer({ url, maxConnections: 3, applicationName: `acd-bridge cluster ${options.nodeId ?? ""}` }).pipe(
              Layer.mapError(lost("connect"))
            )
          )
        )
    )
  )
