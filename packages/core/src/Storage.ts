/**
 * The storage port: what the engine's services call to keep and read their data. A host gets
 * one from a driver: `Storage.layerMemory` here (tests, demos), SQLite/PostgreSQL from
 * `@acd-bridge/sql-storage`, or `Storage.make(driver)` over a driver of its own.
 *
 * The rules of storage live here, once: `make` implements every operation of the port on a
 * driver's primitives (see `StorageDriver`) — ingest with its idempotency, staging while paused
 * and resume, import runs written with their data, state changes of integrations as
 * compare-and-set on a version, queue ids, cursor commits — each write inside one driver
 * transaction, so what it writes is written whole or not at all. The conformance suite in
 * `@acd-bridge/testkit` runs the same cases against every driver.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type {
  AccessToken,
  ActivityMapping,
  AgentMapping,
  AgentSegment,
  ApiKey,
  Batch,
  Channel,
  ImportRun,
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
import type {
  IdempotencyKeyReused,
  IntegrationDeleted,
  IntegrationNotActive,
  IntegrationNotFound,
  CursorsMoved,
  OwnershipLost,
  StagingFull,
  StorageError,
  VersionConflict
} from "./Errors.js"
import * as internal from "./internal/storage/make.js"
import type { LinksPort, LinkTasksPort } from "./LinkStorage.js"
import type { StorageDriverShape } from "./StorageDriver.js"
import { layerMemory as driverMemory, StorageDriver } from "./StorageDriver.js"

/**
 * What `data.ingest` is asked to do.
 *
 * @since 0.1.0 @category models
 */
export interface IngestRequest {
  readonly integrationId: IntegrationId
  readonly batch: Batch
  /**
   * `push`: while the integration is paused the batch is staged (bounded by `stagingLimit`
   * records) and applied on resume. `pull`: while paused nothing is applied and the call
   * fails with `IntegrationNotActive` (the window is re-imported on resume).
   * A deleted integration fails with `IntegrationDeleted` in both modes.
   */
  readonly mode: "push" | "pull"
  /**
   * Pull re-import: the integration's interval rows starting in [from, to) and the parts of
   * its agent segments inside [from, to) are removed before the batch is applied, in the same
   * unit of work, so a re-import replaces and never adds. Epoch ms.
   */
  readonly replaceWindow?: { readonly from: number; readonly to: number } | undefined
  /** Committed in the same unit of work as the data it covers. */
  readonly watermark?: { readonly stream: string; readonly value: number } | undefined
  /**
   * Applies only while the cursor `stream` holds `epoch` (a lease, see `Ownership`): checked
   * under the integration's exclusive cursor lock in the same unit of work, so a lease taken
   * over before the commit fails it with `OwnershipLost` and nothing is applied.
   */
  readonly fence?: { readonly stream: string; readonly epoch: number } | undefined
  /**
   * Applies only while each of these cursors still holds its value (the streams a window was
   * planned from): compared under the integration's exclusive cursor lock in the same unit of
   * work, so one written meanwhile by any writer (a re-import requested on another node) fails
   * it with `CursorsMoved` and nothing is applied, rather than the watermark overwriting that
   * write. Streams not named here are not compared.
   */
  readonly expectedCursors?: ReadonlyMap<string, number> | undefined
  /**
   * A repeat of `key` whose record is younger than `ttlMs` returns the first outcome
   * (as `Replayed`) and applies nothing; with another `requestHash` it fails with
   * `IdempotencyKeyReused`. The record is written in the same unit of work as the batch.
   */
  readonly idempotency?: { readonly key: string; readonly requestHash: string; readonly ttlMs: number } | undefined
  /** Max records a paused integration may hold staged (the caller's policy; `Ingest` passes its option). */
  readonly stagingLimit: number
  /** Clock time of the request, epoch ms (for idempotency records and queue creation). */
  readonly now: number
  /**
   * The import run that describes this batch, written in the same unit of work as its data,
   * so a crash leaves both or neither and a push costs one commit. It is written only when
   * the batch is applied (outcome `Applied`):
   * - `Replayed`: nothing is applied, so nothing is recorded; the first request's run stands.
   * - `Staged` (a push while paused): nothing is applied yet; `integrations.resume` applies
   *   the staged batches later, and that resume is what gets recorded (once, with its `run`).
   * - a failure (`IdempotencyKeyReused`, `IntegrationNotActive`, `StagingFull`, a storage
   *   error): the unit of work is undone, run included. A caller that keeps failed runs
   *   writes them on their own with `runs.insert`.
   *
   * The store sets `durationMs` with its `Clock`: from `startedAt` to the moment it writes
   * the run, after the batch's data and before the commit. So it covers validation, planning
   * and the writes, but not the commit's flush to disk, which can't be known inside the unit
   * of work it ends. A run id that is already stored fails the whole unit of work.
   */
  readonly run?: ImportRunDraft | undefined
}

/**
 * An import run as `data.ingest` takes it: every field but `durationMs`, which the store
 * sets when it writes the run (see `IngestRequest.run`).
 *
 * @since 0.1.0 @category models
 */
export type ImportRunDraft = Omit<ImportRun, "durationMs">

/**
 * The import run of a resume as `integrations.resume` takes it: its id and start. The rest
 * depends on what the store finds staged, so the store fills it in (see
 * `StorageShape.integrations.resume`).
 *
 * @since 0.1.0 @category models
 */
export type ImportRunStart = Pick<ImportRun, "id" | "startedAt">

/**
 * @since 0.1.0 @category models
 */
export type IngestOutcome =
  | {
    readonly _tag: "Applied"
    readonly accepted: number
    /** queues this batch created, in order of first sight */
    readonly createdQueues: ReadonlyArray<Queue>
    /** the segments the batch's statuses left in the store, for realtime subscribers */
    readonly statusesApplied: number
  }
  | { readonly _tag: "Staged"; readonly accepted: number }
  | { readonly _tag: "Replayed"; readonly accepted: number; readonly outcome: "Applied" | "Staged" }

/**
 * What an operator may change on an integration (the rest is fixed at creation or changed by
 * pause, resume and delete). Unset fields stay as they are.
 *
 * @since 0.2.0 @category models
 */
export type IntegrationSettings = {
  readonly [K in "name" | "config" | "schedule" | "timezone" | "historyDepthDays"]?: Integration[K] | undefined
}

/**
 * What `retention.prune` deletes (epoch ms).
 *
 * @since 0.2.0 @category models
 */
export interface RetentionPolicy {
  readonly runsBefore: number
  readonly keepRuns: number
  readonly idempotencyBefore: number
}

/** How many rows `retention.prune` deleted. @since 0.2.0 @category models */
export interface RetentionResult {
  readonly runs: number
  readonly idempotencyKeys: number
}

/** @since 0.1.0 @category models */
export interface IntervalStatQuery {
  readonly tenantId: TenantId
  readonly integrationId?: IntegrationId | undefined
  readonly queueIds?: ReadonlyArray<QueueId> | undefined
  /** rows whose start is in [from, to), epoch ms */
  readonly from: number
  readonly to: number
}

/**
 * From `start` (epoch ms, a quarter-hour) until the next piece, the reporting zone's UTC
 * offset is `offsetMs` (rounded to a quarter-hour): what an interval query needs to know of
 * the zone (see `IntervalSumQuery`).
 *
 * @since 0.3.0 @category models
 */
export interface OffsetPiece {
  readonly start: number
  readonly offsetMs: number
}

/**
 * Stored rows summed into the intervals of a reporting zone. A stored row starting at `s`
 * belongs to the piece with the greatest `start <= s` (the first piece when none), and to the
 * interval starting at `s - mod(s + piece.offsetMs, lengthMinutes · 60,000)` (the last local
 * multiple of the length at or before `s`), or at `piece.start` when that is later and the
 * piece is not the first (an offset change is a boundary; the first piece's start is only
 * where the list begins).
 * Intervals starting in [from, to) are summed, from the rows starting in
 * [from, to + lengthMinutes · 60,000) of the tenant (and of the integration and queues, when
 * given). `Intervals` builds the pieces from the zone (`Bucketing`'s boundaries).
 *
 * @since 0.3.0 @category models
 */
export interface IntervalSumQuery extends IntervalStatQuery {
  readonly lengthMinutes: IntervalMinutes
  /** ordered by `start`, the first at or before `from` */
  readonly pieces: ReadonlyArray<OffsetPiece>
}

/**
 * One interval of one queue and channel: its start (epoch ms) and its rows' measures summed.
 *
 * @since 0.3.0 @category models
 */
export interface IntervalSum extends Measures {
  readonly queueId: QueueId
  readonly channel: Channel
  readonly start: number
}

/** @since 0.1.0 @category models */
export interface SegmentQuery {
  readonly tenantId: TenantId
  readonly integrationId?: IntegrationId | undefined
  readonly agentIdentifier?: string | undefined
  /** segments overlapping [from, to): start < to and (end is null or end > from), epoch ms */
  readonly from: number
  readonly to: number
}

/** @since 0.1.0 @category models */
export interface QueueQuery {
  readonly tenantId: TenantId
  readonly integrationId?: IntegrationId | undefined
}

/** Counts of stored segments per external id, for the unmapped report. @since 0.1.0 @category models */
export interface IdentifierCount {
  readonly externalId: string
  readonly segments: number
}

/** External ids to look up in an integration's mappings (`mappings.lookup`). @since 0.3.0 @category models */
export interface MappingIds {
  readonly agents: ReadonlyArray<string>
  readonly activities: ReadonlyArray<string>
}

/** The mappings `mappings.lookup` found: external id → employee id, external id → activity id. @since 0.3.0 @category models */
export interface MappedIds {
  readonly agents: ReadonlyMap<string, string>
  readonly activities: ReadonlyMap<string, string>
}

/**
 * @since 0.1.0 @category models
 */
export interface StorageShape {
  readonly integrations: {
    /** Stores a new integration (its id must be new). */
    readonly insert: (integration: Integration) => Effect.Effect<void, StorageError>
    readonly get: (id: IntegrationId) => Effect.Effect<Option.Option<Integration>, StorageError>
    /** The tenant's integrations, oldest first. */
    readonly list: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<Integration>, StorageError>
    /**
     * Sets the status to paused, waiting for batches in flight. Pausing a paused integration
     * changes nothing; pausing never touches data, cursors or the failing mark.
     */
    readonly pause: (
      id: IntegrationId,
      at: number
    ) => Effect.Effect<Integration, StorageError | IntegrationNotFound | IntegrationDeleted>
    /**
     * Applies the staged batches in arrival order, removes them, sets the status to active
     * and writes `run`, all in one unit of work, so a crash never leaves the staged data
     * applied without its run. Returns how many records were applied and the queues created
     * on the way. Resuming an active integration with nothing staged changes nothing.
     *
     * `run` is written only when records were applied (a resume with nothing staged records
     * nothing), as an `ImportRun` of kind `resume` with `read` and `applied` the records
     * applied, `rejected` 0, no window, no error and no problems; like `IngestRequest.run`,
     * its `durationMs` is measured with the store's `Clock` from `startedAt` to the write,
     * after the data and before the commit. A run id that is already stored fails the whole
     * unit of work. Without `run`, no run is written.
     */
    readonly resume: (
      id: IntegrationId,
      at: number,
      run?: ImportRunStart | undefined
    ) => Effect.Effect<
      { readonly integration: Integration; readonly applied: number; readonly createdQueues: ReadonlyArray<Queue> },
      StorageError | IntegrationNotFound | IntegrationDeleted
    >
    /**
     * Sets the failing mark (`null` clears it), only the failing mark: a concurrent pause or
     * resume is kept. With `ifVersion`, only if the integration is still at that version
     * (nobody changed it since the caller read it). `None` when nothing was written: no such
     * integration, deleted, the version moved, or the mark was already `reason`.
     */
    readonly markFailing: (
      id: IntegrationId,
      reason: string | null,
      at: number,
      options?: { readonly ifVersion?: number | undefined }
    ) => Effect.Effect<Option.Option<Integration>, StorageError>
    /**
     * Changes the integration's settings (`IntegrationSettings`) in one unit of work; the status
     * is kept. A change that sets `config` also clears the failing mark (the operator fixed
     * what was wrong). With `ifVersion`, only if the integration is still at that version
     * (`VersionConflict` otherwise). A deleted integration fails with `IntegrationDeleted`.
     * Nothing to change writes nothing (the version stays).
     */
    readonly update: (
      id: IntegrationId,
      settings: IntegrationSettings,
      at: number,
      options?: { readonly ifVersion?: number | undefined }
    ) => Effect.Effect<Integration, StorageError | IntegrationNotFound | IntegrationDeleted | VersionConflict>
    /** Replaces the connector config and clears the failing mark; the status is kept. */
    readonly setConfig: (
      id: IntegrationId,
      config: unknown,
      at: number
    ) => Effect.Effect<Integration, StorageError | IntegrationNotFound>
    /**
     * Marks the integration deleted, revokes all its API keys and drops what it had staged,
     * in one unit of work. Data, queues and workload memberships stay. Deleting a deleted
     * integration changes nothing more.
     */
    readonly markDeleted: (
      id: IntegrationId,
      at: number
    ) => Effect.Effect<Integration, StorageError | IntegrationNotFound>
    /** Number of records staged while paused. */
    readonly stagedCount: (id: IntegrationId) => Effect.Effect<number, StorageError>
  }
  readonly queues: {
    readonly list: (query: QueueQuery) => Effect.Effect<ReadonlyArray<Queue>, StorageError>
    readonly get: (id: QueueId) => Effect.Effect<Option.Option<Queue>, StorageError>
    /** Inserts a queue made by hand (not by an integration). */
    readonly insert: (queue: Queue) => Effect.Effect<void, StorageError>
    /** Deletes the queue and its workload memberships. */
    readonly delete: (id: QueueId) => Effect.Effect<void, StorageError>
    /** Workload ids per queue id, for the queue listing. */
    readonly workloadIds: (
      ids: ReadonlyArray<QueueId>
    ) => Effect.Effect<ReadonlyMap<QueueId, ReadonlyArray<WorkloadId>>, StorageError>
  }
  readonly workloads: {
    readonly insert: (workload: Workload) => Effect.Effect<void, StorageError>
    readonly get: (id: WorkloadId) => Effect.Effect<Option.Option<Workload>, StorageError>
    readonly list: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<Workload>, StorageError>
    /** Replaces the workload's queue list. */
    readonly setQueues: (id: WorkloadId, queueIds: ReadonlyArray<QueueId>) => Effect.Effect<void, StorageError>
  }
  readonly mappings: {
    /** Upserts by external id (other mappings stay). */
    readonly putAgents: (id: IntegrationId, mappings: ReadonlyArray<AgentMapping>) => Effect.Effect<void, StorageError>
    readonly putActivities: (
      id: IntegrationId,
      mappings: ReadonlyArray<ActivityMapping>
    ) => Effect.Effect<void, StorageError>
    readonly agents: (id: IntegrationId) => Effect.Effect<ReadonlyArray<AgentMapping>, StorageError>
    readonly activities: (id: IntegrationId) => Effect.Effect<ReadonlyArray<ActivityMapping>, StorageError>
    /**
     * The mappings of these external agent and activity ids only (ids without one are left
     * out): what a push of statuses needs, where `agents`/`activities` read every mapping of the
     * integration (thousands at a large site) for the few agents of a batch.
     *
     * @since 0.3.0
     */
    readonly lookup: (id: IntegrationId, ids: MappingIds) => Effect.Effect<MappedIds, StorageError>
  }
  readonly apiKeys: {
    /** Revokes every live key of the integration and stores the new one, in one unit of work. */
    readonly replace: (key: ApiKey) => Effect.Effect<void, StorageError>
    readonly findByHash: (hash: string) => Effect.Effect<Option.Option<ApiKey>, StorageError>
  }
  readonly accessTokens: {
    readonly insert: (token: AccessToken) => Effect.Effect<void, StorageError>
    readonly findByHash: (hash: string) => Effect.Effect<Option.Option<AccessToken>, StorageError>
    readonly get: (id: string) => Effect.Effect<Option.Option<AccessToken>, StorageError>
    /** The tenant's tokens (revoked ones included), oldest first. */
    readonly list: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<AccessToken>, StorageError>
    readonly revoke: (id: string, at: number) => Effect.Effect<void, StorageError>
  }
  readonly runs: {
    /**
     * Records a run on its own (a failed run, or one run for several `data.ingest` calls).
     * Run ids are unique: an id that is already stored fails with `StorageError`.
     */
    readonly insert: (run: ImportRun) => Effect.Effect<void, StorageError>
    /** Newest first. */
    readonly list: (id: IntegrationId, limit: number) => Effect.Effect<ReadonlyArray<ImportRun>, StorageError>
  }
  readonly retention: {
    /**
     * Deletes what is past its horizon: import runs started before `runsBefore`, except each
     * integration's `keepRuns` newest (at least 1), and idempotency records written at or
     * before `idempotencyBefore`. Interval data, agent statuses, queues and cursors are never
     * touched. Deletes in batches, each its own unit of work, so writers are held up briefly;
     * safe to run while the engine works. Returns how many of each it deleted.
     */
    readonly prune: (policy: RetentionPolicy) => Effect.Effect<RetentionResult, StorageError>
  }
  readonly cursors: {
    readonly get: (id: IntegrationId, stream: string) => Effect.Effect<Option.Option<number>, StorageError>
    readonly set: (id: IntegrationId, stream: string, value: number) => Effect.Effect<void, StorageError>
    /** Every stream's value for the integration. */
    readonly list: (id: IntegrationId) => Effect.Effect<ReadonlyMap<string, number>, StorageError>
    /**
     * The values of `streams` of each of `ids` that has any, read together (a cluster node
     * watching the integrations it holds reads them in one round, not one call each). Not one
     * unit of work: each integration's streams are as `list` would return them at some moment
     * of the read.
     *
     * @since 0.3.0
     */
    readonly listMany: (
      ids: ReadonlyArray<IntegrationId>,
      streams: ReadonlyArray<string>
    ) => Effect.Effect<ReadonlyMap<IntegrationId, ReadonlyMap<string, number>>, StorageError>
    /**
     * Writes `value` only if the stream still holds `expected` (`None`: no value yet), in one
     * atomic step; returns whether it wrote. For a writer that must not move a cursor another
     * writer moved since it read it: a run committing the value it started from, or a node
     * checking the lease epoch it holds (kept as a stream of its own).
     */
    readonly compareAndSet: (
      id: IntegrationId,
      stream: string,
      expected: Option.Option<number>,
      value: number
    ) => Effect.Effect<boolean, StorageError>
    /**
     * Writes `writes` only if the integration's cursors, every stream, still equal `expected`
     * (as `list` returned them), all in one unit of work; returns whether it wrote. The
     * comparison and the writes hold the integration's cursors against every other writer.
     */
    readonly commit: (
      id: IntegrationId,
      change: {
        readonly expected: ReadonlyMap<string, number>
        readonly writes: ReadonlyArray<readonly [stream: string, value: number]>
      }
    ) => Effect.Effect<boolean, StorageError>
    /**
     * Runs `effect` (storage calls, which join this unit of work) only while the integration's
     * `fence.stream` still holds `fence.epoch`, checked under the integration's exclusive cursor
     * lock in the same unit of work: `None`, with nothing run, when the stream moved on. For a
     * cluster node's writes besides its commits (a failed run, the failure streak, a health
     * mark): a node that lost its lease writes none of them.
     *
     * @since 0.3.0
     */
    readonly whileHeld: <A, E>(
      id: IntegrationId,
      fence: { readonly stream: string; readonly epoch: number },
      effect: Effect.Effect<A, E>
    ) => Effect.Effect<Option.Option<A>, E | StorageError>
  }
  readonly data: {
    /**
     * Applies a batch in one unit of work: creates the queues first seen in it (identity:
     * integration + queue identifier + queue name; the channel of first sight is the
     * queue's channel), adds contact events to their quarter-hour rows (additive),
     * replaces interval aggregates (the row at that start, and finer rows inside it),
     * applies agent statuses with the overlap rules of `Segments.apply` in the batch's
     * order, commits the watermark, the idempotency record and the import run. See
     * `IngestRequest`.
     */
    readonly ingest: (
      request: IngestRequest
    ) => Effect.Effect<
      IngestOutcome,
      | StorageError
      | IntegrationNotFound
      | IntegrationDeleted
      | IntegrationNotActive
      | StagingFull
      | IdempotencyKeyReused
      | OwnershipLost
      | CursorsMoved
    >
    readonly intervalStats: (query: IntervalStatQuery) => Effect.Effect<ReadonlyArray<IntervalStat>, StorageError>
    /**
     * Rows summed into intervals (see `IntervalSumQuery`), ordered by start, queue id, channel.
     * A driver with `stats.sum` sums in the database; otherwise the rows are read and summed here.
     */
    readonly intervalSums: (query: IntervalSumQuery) => Effect.Effect<ReadonlyArray<IntervalSum>, StorageError>
    /** Ordered by integration, agent, start. */
    readonly segments: (query: SegmentQuery) => Effect.Effect<ReadonlyArray<AgentSegment>, StorageError>
    readonly agentCounts: (id: IntegrationId) => Effect.Effect<ReadonlyArray<IdentifierCount>, StorageError>
    readonly activityCounts: (id: IntegrationId) => Effect.Effect<ReadonlyArray<IdentifierCount>, StorageError>
  }
  /** Registered on-premise links (see `LinkStorage`). */
  readonly links: LinksPort
  /** Tasks offered to links: offer, lease, fail, commit (see `LinkStorage`). */
  readonly linkTasks: LinkTasksPort
}

/**
 * The storage port. No default: the host picks an implementation.
 *
 * @since 0.1.0 @category tags
 */
export class Storage extends Context.Tag("@acd-bridge/core/Storage")<Storage, StorageShape>() {}

/**
 * Options of `make`.
 *
 * @since 0.2.0 @category models
 */
export interface MakeOptions {
  /** Ids of the queues batches create (default: random UUIDs). */
  readonly newId?: (() => string) | undefined
}

/**
 * The port over `driver`: every rule of storage on top of the driver's primitives (see the
 * module documentation and `StorageDriver`).
 *
 * @since 0.2.0 @category constructors
 */
export const make: (driver: StorageDriverShape, options?: MakeOptions) => Effect.Effect<StorageShape> =
  internal.make

/**
 * The port over the `StorageDriver` in context.
 *
 * @since 0.2.0 @category layers
 */
export const layer: Layer.Layer<Storage, never, StorageDriver> = Layer.effect(
  Storage,
  Effect.flatMap(StorageDriver, (driver) => make(driver))
)

/**
 * An in-memory store for tests, demos and hosts that keep nothing. Data is lost when the
 * process ends.
 *
 * @since 0.1.0 @category layers
 */
export const layerMemory: Layer.Layer<Storage> = layer.pipe(Layer.provide(driverMemory))
