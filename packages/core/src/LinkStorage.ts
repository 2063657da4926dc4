/**
 * The storage of links and their tasks: the driver primitives a store implements
 * (`StorageDriverShape.links` / `.linkTasks`) and the port operations `Storage.make` builds on
 * them (`StorageShape.links` / `.linkTasks`). As for the rest of storage, every rule is core's:
 * a task commit is one unit of work that checks the task, compares the planner's cursors,
 * applies the result through `data.ingest`'s rules and marks the task committed with its
 * answer.
 *
 * @since 0.3.0
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { ImportRun, IntegrationId, LinkId, TenantId } from "./Domain.js"
import type {
  IdempotencyKeyReused,
  IntegrationDeleted,
  IntegrationNotActive,
  IntegrationNotFound,
  StagingFull,
  StorageError
} from "./Errors.js"
import type { Link, LinkTask, TaskState } from "./LinkModel.js"
import type { IngestOutcome, IngestRequest } from "./Storage.js"

/**
 * One uploaded part of a task's result (a chunk of records as `Domain.BatchJson` text).
 *
 * @since 0.3.0 @category models
 */
export interface ResultPart {
  readonly n: number
  readonly records: number
  readonly body: string
}

/**
 * The primitives of links (`StorageDriverShape.links`).
 *
 * @since 0.3.0 @category models
 */
export interface LinksDriver {
  /** Stores a new link (its id is new). */
  readonly insert: (link: Link) => Effect.Effect<void, StorageError>
  readonly get: (id: LinkId) => Effect.Effect<Option.Option<Link>, StorageError>
  /** The first inserted link with this token hash. */
  readonly findByHash: (hash: string) => Effect.Effect<Option.Option<Link>, StorageError>
  /** The tenant's links, in insertion order. */
  readonly list: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<Link>, StorageError>
  /**
   * Sets what the link said when it was last seen (and nothing else: a revocation made
   * meanwhile stays).
   */
  readonly touch: (id: LinkId, seen: LinkSeen) => Effect.Effect<void, StorageError>
  /** Sets `revokedAt` unless it is set already. */
  readonly revoke: (id: LinkId, at: number) => Effect.Effect<void, StorageError>
}

/**
 * What a link said when it was last seen.
 *
 * @since 0.3.0 @category models
 */
export interface LinkSeen {
  readonly at: number
  readonly agentVersion: string | null
  readonly protocol: number | null
  readonly serves: ReadonlyArray<IntegrationId>
}

/**
 * The primitives of tasks (`StorageDriverShape.linkTasks`).
 *
 * @since 0.3.0 @category models
 */
export interface LinkTasksDriver {
  /** Stores a new task; an id that is stored already fails with `StorageError`. */
  readonly insert: (task: LinkTask) => Effect.Effect<void, StorageError>
  readonly get: (id: string) => Effect.Effect<Option.Option<LinkTask>, StorageError>
  /** The tenant's tasks in state `pending` or `leased`, in insertion order. */
  readonly open: (tenantId: TenantId) => Effect.Effect<ReadonlyArray<LinkTask>, StorageError>
  /** The integration's tasks in one of `states`, in insertion order. */
  readonly ofIntegration: (
    id: IntegrationId,
    states: ReadonlyArray<TaskState>
  ) => Effect.Effect<ReadonlyArray<LinkTask>, StorageError>
  /**
   * Compare-and-set: replaces the stored task with the same id by `task` only if the stored
   * one's `epoch` is `expectedEpoch`, atomically. Returns whether it did.
   */
  readonly update: (task: LinkTask, expectedEpoch: number) => Effect.Effect<boolean, StorageError>
  /** Deletes tasks that finished (`finishedAt`) before `before`, with their parts. */
  readonly prune: (before: number) => Effect.Effect<void, StorageError>
  /** Inserts the part, or replaces the one with its task, result and number. */
  readonly putPart: (
    taskId: string,
    resultId: string,
    part: ResultPart
  ) => Effect.Effect<void, StorageError>
  /** The parts of one result of the task, by number. */
  readonly parts: (taskId: string, resultId: string) => Effect.Effect<ReadonlyArray<ResultPart>, StorageError>
  /** Deletes every part of the task. */
  readonly clearParts: (taskId: string) => Effect.Effect<void, StorageError>
}

/**
 * What `linkTasks.commit` is asked to do: apply `ingest` and mark the task committed, in one
 * unit of work, while the task is still at `epoch` (and, for a window, while the planner's
 * cursors still equal the task's snapshot).
 *
 * @since 0.3.0 @category models
 */
export interface CommitRequest {
  readonly taskId: string
  /** the task as the caller checked it */
  readonly epoch: number
  /** the batch as `data.ingest` takes it (mode, window replaced, watermark, run) */
  readonly ingest: IngestRequest
  /** compare the planner's cursors with the task's snapshot first (windows) */
  readonly checkCursors: boolean
  /** read, applied, rejected for the answer */
  readonly counts: { readonly read: number; readonly rejected: number }
  readonly now: number
}

/**
 * How a commit ended.
 *
 * - `Committed`: applied (or staged) with the task marked committed.
 * - `Changed`: the task is no longer at the epoch the caller read (another commit, a renewal,
 *   a withdrawal): nothing applied; read it again.
 * - `Withdrawn`: the integration is paused or deleted, or its cursors moved: the task is
 *   marked withdrawn, nothing applied.
 *
 * @since 0.3.0 @category models
 */
export type CommitOutcome =
  | { readonly _tag: "Committed"; readonly task: LinkTask; readonly ingest: IngestOutcome }
  | { readonly _tag: "Changed" }
  | { readonly _tag: "Withdrawn"; readonly task: LinkTask }

/**
 * The port's operations on links (`StorageShape.links`).
 *
 * @since 0.3.0 @category models
 */
export interface LinksPort extends LinksDriver {}

/**
 * The port's operations on tasks (`StorageShape.linkTasks`).
 *
 * @since 0.3.0 @category models
 */
export interface LinkTasksPort {
  readonly insert: LinkTasksDriver["insert"]
  readonly get: LinkTasksDriver["get"]
  readonly open: LinkTasksDriver["open"]
  readonly ofIntegration: LinkTasksDriver["ofIntegration"]
  readonly update: LinkTasksDriver["update"]
  readonly prune: LinkTasksDriver["prune"]
  readonly putPart: LinkTasksDriver["putPart"]
  readonly parts: LinkTasksDriver["parts"]
  /**
   * Marks the task failed (compare-and-set on `expectedEpoch`) and records `run`, in one unit
   * of work; parts are dropped. Returns whether it wrote.
   */
  readonly fail: (task: LinkTask, expectedEpoch: number, run: ImportRun) => Effect.Effect<boolean, StorageError>
  /**
   * Ends a task without a result (compare-and-set), dropping its parts. Returns whether it
   * wrote.
   */
  readonly finish: (task: LinkTask, expectedEpoch: number) => Effect.Effect<boolean, StorageError>
  /** See `CommitRequest`. */
  readonly commit: (
    request: CommitRequest
  ) => Effect.Effect<
    CommitOutcome,
    StorageError | IntegrationNotFound | IntegrationDeleted | IntegrationNotActive | StagingFull | IdempotencyKeyReused
  >
}
