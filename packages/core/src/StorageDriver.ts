/**
 * What a store has to do for `Storage.make`: small transactional primitives over rows. The
 * rules of storage — ingest, staging while paused, idempotency, import runs, resume, state
 * changes of integrations, id generation, cursor commits — live once in core (`Storage.make`)
 * and reach the rows only through these primitives, so a driver (memory, SQLite, PostgreSQL, a
 * host's own) has no rule to get wrong and every driver gets all of them.
 *
 * A driver promises:
 *
 * - **`transaction(effect)`** runs `effect` as one unit: every primitive called inside it
 *   (on any fiber the effect forks) is part of the unit, and a failure, defect or
 *   interruption undoes all of it. A transaction inside a transaction joins it, and its own
 *   failure undoes only its part (a savepoint). The driver may run `effect` again when the
 *   database reports a transient conflict (deadlock, serialisation failure), so `effect`
 *   must be safe to re-run, which `Storage.make`'s are. A primitive called outside a
 *   transaction is a unit of its own.
 * - **isolation**: what a transaction wrote is seen by other callers only once it is
 *   committed. Where writers run concurrently (several connections, several processes),
 *   `lock` and the `lock` argument of `integrations.get` serialise the rules that read before
 *   they write; a driver that runs one transaction at a time implements them as no-ops.
 * - **ordering**: lists come back in the order named on each primitive; where no order is
 *   named, `Storage.make` sorts.
 * - **errors**: a primitive fails only with `StorageError` (keep the driver's own error as
 *   its `cause`); `Storage.make` names the port operation in it.
 *
 * `@acd-bridge/testkit`'s `DriverSuite` checks these promises, and its `StorageSuite` checks
 * the rules on top; both take any driver.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type {
  AgentSegment,
  ApiKey,
  Channel,
  Integration,
  IntegrationId,
  IntervalMinutes,
  IntervalStat,
  Measures,
  Queue,
  QueueId,
  TenantId,
  Workload,
  WorkloadId
} from "./Domain.js"
import type { StorageError } from "./Errors.js"
import type { LinksDriver, LinkTasksDriver } from "./LinkStorage.js"
import type {
  IdentifierCount,
  IntervalStatQuery,
  IntervalSum,
  IntervalSumQuery,
  SegmentQuery,
  StorageShape
} from "./Storage.js"
import * as internal from "./internal/memoryDriver.js"

/**
 * Which rule a lock serialises, per key:
 *
 * - `integration` (key: integration id): shared by batches writing agent segments, exclusive
 *   for a window replace;
 * - `agent` (key: `<integration id>|<agent>`): the read-modify-write of one agent's segments;
 * - `idempotency` (key: `<integration id>|<key>`): the check and record of one key;
 * - `staging` (key: integration id): the limit check and append of staged batches;
 * - `cursors` (key: integration id): shared by cursor writes, exclusive for a commit that
 *   compares the integration's cursors first.
 *
 * @since 0.2.0 @category models
 */
export type LockScope = "integration" | "agent" | "idempotency" | "staging" | "cursors"

/** @since 0.2.0 @category models */
export type LockMode = "shared" | "exclusive"

/**
 * How `integrations.get` reads the row inside a transaction: `share` keeps it from changing
 * until the transaction ends (a batch in flight), `update` keeps others from reading it with a
 * lock too (a state change). Outside a transaction both mean nothing.
 *
 * @since 0.2.0 @category models
 */
export type RowLock = "none" | "share" | "update"

/**
 * An interval row to write: queue, channel, start (epoch ms), length and measures.
 *
 * @since 0.2.0 @category models
 */
export interface StatRow {
  readonly queueId: QueueId
  readonly channel: Channel
  readonly start: number
  readonly lengthMinutes: IntervalMinutes
  readonly measures: Measures
}

/**
 * The rows of one queue and channel starting in [start, end), which an aggregate replaces.
 *
 * @since 0.2.0 @category models
 */
export interface StatRange {
  readonly queueId: QueueId
  readonly channel: Channel
  readonly start: number
  readonly end: number
}

/**
 * A driver's handle of one stored segment (a row number, a key), given back to
 * `segments.write` to delete it.
 *
 * @since 0.2.0 @category models
 */
export type SegmentRef = string | number

/** @since 0.2.0 @category models */
export interface StoredSegment {
  readonly ref: SegmentRef
  readonly segment: AgentSegment
}

/** The identity of a queue an integration created. @since 0.2.0 @category models */
export interface OwnQueue {
  readonly id: QueueId
  readonly identifier: string
  readonly name: string
}

/** What an idempotency key recorded. @since 0.2.0 @category models */
export interface IdempotencyRecord {
  readonly requestHash: string
  /** when the request was applied or staged, epoch ms */
  readonly at: number
  readonly accepted: number
  readonly outcome: "Applied" | "Staged"
}

/** A batch staged while paused: its record count and its JSON (`Domain.BatchJson`). @since 0.2.0 @category models */
export interface StagedBatch {
  readonly records: number
  readonly body: string
  readonly at: number
}

/**
 * The primitives. Each says what it does to the rows; none knows a rule of the engine.
 *
 * @since 0.2.0 @category models
 */
export interface StorageDriverShape {
  /** Runs `effect` as one unit of work (see the module documentation). */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
  /** Takes a lock held until the current transaction ends (see `LockScope`). */
  readonly lock: (scope: LockScope, key: string, mode: LockMode) => Effect.Effect<void, StorageError>

  readonly integrations: {
    /** Stores a new integration as given (its id is new). */
    readonly insert: (integration: Integration) => Effect.Effect<void, StorageError>
    readonly get: (id: IntegrationId, lock?: RowLock) => Effect.Effect<Option.Option<Integration>, StorageError>
    /** The tenant's integrations, in insertion order. */
    readonly list: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<Integration>, StorageError>
    /**
     * Compare-and-set: replaces the stored integration with the same id by `integration`
     * (whose `version` is the new one) only if the stored one's version is `expectedVersion`,
     * atomically. Returns whether it did.
     */
    readonly update: (integration: Integration, expectedVersion: number) => Effect.Effect<boolean, StorageError>
  }

  readonly queues: {
    /** Inserts the queue, or replaces the one with its id. */
    readonly insert: (queue: Queue) => Effect.Effect<void, StorageError>
    readonly get: (id: QueueId) => Effect.Effect<Option.Option<Queue>, StorageError>
    /** The tenant's queues (of one integration, when given), in insertion order. */
    readonly list: (
      tenantId: TenantId,
      integrationId?: IntegrationId | undefined
    ) => Effect.Effect<ReadonlyArray<Queue>, StorageError>
    /** Deletes the queue (its workload memberships are dropped first with `workloads.dropQueue`). */
    readonly delete: (id: QueueId) => Effect.Effect<void, StorageError>
    /** The queues the integration created (`createdByIntegration`) with these identifiers. */
    readonly findOwn: (
      integrationId: IntegrationId,
      identifiers: ReadonlyArray<string>
    ) => Effect.Effect<ReadonlyArray<OwnQueue>, StorageError>
    /**
     * Inserts queues an integration created, skipping each whose (integration, identifier,
     * name) is taken already (another writer created it first). Returns the ids it inserted.
     */
    readonly insertOwn: (queues: ReadonlyArray<Queue>) => Effect.Effect<ReadonlySet<QueueId>, StorageError>
  }

  readonly workloads: {
    /** Inserts the workload with its queue list, or replaces the one with its id. */
    readonly insert: (workload: Workload) => Effect.Effect<void, StorageError>
    readonly get: (id: WorkloadId) => Effect.Effect<Option.Option<Workload>, StorageError>
    /** The tenant's workloads, in insertion order. */
    readonly list: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<Workload>, StorageError>
    /** Replaces the workload's queue list (keeping the given order); nothing when it doesn't exist. */
    readonly setQueues: (id: WorkloadId, queueIds: ReadonlyArray<QueueId>) => Effect.Effect<void, StorageError>
    /** Removes the queue from every workload's list. */
    readonly dropQueue: (id: QueueId) => Effect.Effect<void, StorageError>
    /** For each of `ids`, the workloads listing it, in workload insertion order. */
    readonly ofQueues: (
      ids: ReadonlyArray<QueueId>
    ) => Effect.Effect<ReadonlyMap<QueueId, ReadonlyArray<WorkloadId>>, StorageError>
  }

  /**
   * As the port's: upserts by external id (each list names an external id once), others stay;
   * lists in order of first insertion. `lookup` is optional (added in 0.3.0): a driver without
   * it is asked for every mapping of the integration and the port picks the ids from those.
   */
  readonly mappings: Omit<StorageShape["mappings"], "lookup"> & {
    readonly lookup?: StorageShape["mappings"]["lookup"] | undefined
  }

  readonly apiKeys: {
    /** Sets `revokedAt` on every key of the integration that has none. */
    readonly revokeLive: (integrationId: IntegrationId, at: number) => Effect.Effect<void, StorageError>
    /** Inserts the key, or replaces the one with its id. */
    readonly insert: (key: ApiKey) => Effect.Effect<void, StorageError>
    /** The first inserted key with this hash. */
    readonly findByHash: (hash: string) => Effect.Effect<Option.Option<ApiKey>, StorageError>
  }

  /**
   * As the port's: `insert` inserts or replaces the token with its id, `findByHash` gives the
   * first inserted token with the hash, `get` the token with the id, `list` the tenant's
   * tokens in insertion order, `revoke` sets `revokedAt` unless it is set already.
   */
  readonly accessTokens: StorageShape["accessTokens"]

  /**
   * As the port's: `insert` fails with `StorageError` on an id that is stored already; `list`
   * gives the integration's runs newest `startedAt` first (ties in insertion order), at most
   * `limit`. And what retention needs:
   */
  readonly runs: StorageShape["runs"] & {
    /**
     * The integrations that have runs started before `before` (epoch ms), each once, in any
     * order.
     */
    readonly integrations: (before: number) => Effect.Effect<ReadonlyArray<IntegrationId>, StorageError>
    /**
     * Deletes at most `limit` of the integration's runs started before `before` that are older
     * than its `keep` newest runs (`keep` ≥ 1; runs started at the same instant as the
     * `keep`-th newest stay too). Returns how many it deleted.
     */
    readonly prune: (
      id: IntegrationId,
      before: number,
      keep: number,
      limit: number
    ) => Effect.Effect<number, StorageError>
  }

  readonly cursors: {
    readonly get: (id: IntegrationId, stream: string) => Effect.Effect<Option.Option<number>, StorageError>
    readonly list: (id: IntegrationId) => Effect.Effect<ReadonlyMap<string, number>, StorageError>
    /**
     * Optional: the values of `streams` of every integration in `ids` (neither list empty, at
     * most 1,000 ids), in one read. Without it `Storage.make` calls `list` per integration.
     *
     * @since 0.3.0
     */
    readonly listMany?: (
      ids: ReadonlyArray<IntegrationId>,
      streams: ReadonlyArray<string>
    ) => Effect.Effect<ReadonlyArray<{ readonly id: IntegrationId; readonly stream: string; readonly value: number }>, StorageError>
    /** Inserts or overwrites. */
    readonly set: (id: IntegrationId, stream: string, value: number) => Effect.Effect<void, StorageError>
    /**
     * Compare-and-set, atomic: writes `value` only if the stream's stored value is `expected`
     * (`null`: the stream has no value yet). Returns whether it wrote.
     */
    readonly compareAndSet: (
      id: IntegrationId,
      stream: string,
      expected: number | null,
      value: number
    ) => Effect.Effect<boolean, StorageError>
  }

  readonly stats: {
    /**
     * Adds each row's measures to the stored row with its queue, channel and start (keeping
     * that row's length), or inserts it. Rows come sorted by queue, channel, start.
     */
    readonly add: (integration: Integration, rows: ReadonlyArray<StatRow>) => Effect.Effect<void, StorageError>
    /**
     * Deletes the rows inside each range, then writes `rows` (replacing a row with the same
     * queue, channel and start). Rows come sorted by queue, channel, start.
     */
    readonly replace: (
      integration: Integration,
      ranges: ReadonlyArray<StatRange>,
      rows: ReadonlyArray<StatRow>
    ) => Effect.Effect<void, StorageError>
    /** Deletes the integration's rows whose start is in [from, to). */
    readonly clearWindow: (id: IntegrationId, from: number, to: number) => Effect.Effect<void, StorageError>
    /** Rows as `IntervalStatQuery` says (`queueIds`, when given, is never empty). */
    readonly query: (query: IntervalStatQuery) => Effect.Effect<ReadonlyArray<IntervalStat>, StorageError>
    /**
     * Optional: rows summed into intervals in the database, as `IntervalSumQuery` says, ordered
     * by start, queue id, channel (`queueIds`, when given, is never empty). Without it
     * `Storage.make` reads the rows with `query` and sums them itself, with the same result.
     */
    readonly sum?: ((query: IntervalSumQuery) => Effect.Effect<ReadonlyArray<IntervalSum>, StorageError>) | undefined
  }

  readonly segments: {
    /**
     * At least every segment of these agents that ends at or after `from` (an open one always
     * does) and, when `to` is not null, starts at or before `to`: the segments new ones in
     * [from, to] (`to` null: open) can touch. More is fine.
     */
    readonly load: (
      id: IntegrationId,
      agents: ReadonlyArray<string>,
      from: number,
      to: number | null
    ) => Effect.Effect<ReadonlyArray<StoredSegment>, StorageError>
    /** At least every segment of the integration overlapping [from, to). More is fine. */
    readonly loadWindow: (
      id: IntegrationId,
      from: number,
      to: number
    ) => Effect.Effect<ReadonlyArray<StoredSegment>, StorageError>
    /** Deletes the segments named by `deletes`, then inserts `inserts`. */
    readonly write: (
      integration: Integration,
      deletes: ReadonlyArray<SegmentRef>,
      inserts: ReadonlyArray<AgentSegment>
    ) => Effect.Effect<void, StorageError>
    readonly query: (query: SegmentQuery) => Effect.Effect<ReadonlyArray<AgentSegment>, StorageError>
    /** Stored segments of the integration per agent (or activity) identifier. */
    readonly counts: (
      id: IntegrationId,
      by: "agent" | "activity"
    ) => Effect.Effect<ReadonlyArray<IdentifierCount>, StorageError>
  }

  readonly staging: {
    /** The records of the integration's staged batches, summed. */
    readonly held: (id: IntegrationId) => Effect.Effect<number, StorageError>
    readonly append: (id: IntegrationId, batch: StagedBatch) => Effect.Effect<void, StorageError>
    /** The staged batches' bodies, in the order they were appended. */
    readonly list: (id: IntegrationId) => Effect.Effect<ReadonlyArray<string>, StorageError>
    readonly clear: (id: IntegrationId) => Effect.Effect<void, StorageError>
  }

  readonly idempotency: {
    readonly get: (id: IntegrationId, key: string) => Effect.Effect<Option.Option<IdempotencyRecord>, StorageError>
    /**
     * Writes the key's record (replacing an older one) and may delete the integration's
     * records written at or before `expiredBefore`.
     */
    readonly put: (
      id: IntegrationId,
      key: string,
      record: IdempotencyRecord,
      expiredBefore: number
    ) => Effect.Effect<void, StorageError>
    /** Deletes at most `limit` records (of any integration) written at or before `before`; how many. */
    readonly prune: (before: number, limit: number) => Effect.Effect<number, StorageError>
  }

  /** Registered on-premise links (see `LinkStorage`). */
  readonly links: LinksDriver
  /** Tasks offered to links and the parts of their results (see `LinkStorage`). */
  readonly linkTasks: LinkTasksDriver
}

/**
 * The driver `Storage.layer` builds the port on. No default: the host picks one.
 *
 * @since 0.2.0 @category tags
 */
export class StorageDriver extends Context.Tag("@acd-bridge/core/StorageDriver")<StorageDriver, StorageDriverShape>() {}

/**
 * A driver over plain maps, indexed per integration: for tests, demos and hosts that keep
 * nothing. Transactions run one at a time and are undone from a log when they fail.
 *
 * @since 0.2.0 @category constructors
 */
export const makeMemory: Effect.Effect<StorageDriverShape> = internal.make

/**
 * The in-memory driver as a layer.
 *
 * @since 0.2.0 @category layers
 */
export const layerMemory: Layer.Layer<StorageDriver> = Layer.effect(StorageDriver, internal.make)
