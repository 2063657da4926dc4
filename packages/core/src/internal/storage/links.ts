/**
 * The storage rules of link tasks: a commit applies a link's result and marks its task
 * committed in one unit of work, only while the task is as the caller read it and (for a
 * window) while the planner's cursors are still those the window was planned from; a failure
 * is recorded with its run; a task that ends drops its parts.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ImportRun, IntegrationId } from "../../Domain.js"
import type { CommitOutcome, CommitRequest } from "../../LinkStorage.js"
import { LinkTask } from "../../LinkModel.js"
import type { StorageDriverShape } from "../../StorageDriver.js"
import { sameCursors } from "../scheduler/windows.js"
import type * as Ingest from "./ingest.js"

/** The task's epoch moved between the check and the mark (a driver without row locks). */
class TaskMoved extends Data.TaggedError("TaskMoved")<{}> {}

export const make = (
  driver: StorageDriverShape,
  ingest: ReturnType<typeof Ingest.make>
) => {
  const tx = driver.transaction

  /** The task in a final state: parts dropped. */
  const finish = (task: LinkTask, expectedEpoch: number) =>
    tx(Effect.gen(function*() {
      const written = yield* driver.linkTasks.update(task, expectedEpoch)
      if (written) yield* driver.linkTasks.clearParts(task.id)
      return written
    }))

  const fail = (task: LinkTask, expectedEpoch: number, run: ImportRun) =>
    tx(Effect.gen(function*() {
      const written = yield* driver.linkTasks.update(task, expectedEpoch)
      if (!written) return false
      yield* driver.linkTasks.clearParts(task.id)
      yield* driver.runs.insert(run)
      return true
    }))

  const withdraw = (task: LinkTask, reason: string, now: number) =>
    new LinkTask({
      ...task,
      state: "withdrawn",
      epoch: task.epoch + 1,
      leaseId: null,
      leaseUntil: null,
      updatedAt: now,
      finishedAt: now,
      error: reason
    })

  const commit = (request: CommitRequest) =>
    tx(Effect.gen(function*() {
      const found = yield* driver.linkTasks.get(request.taskId)
      if (Option.isNone(found) || found.value.epoch !== request.epoch) return { _tag: "Changed" } as CommitOutcome
      const task = found.value
      const id: IntegrationId = task.integrationId
      if (request.checkCursors) {
        // exclusive: no cursor of the integration moves between this comparison and the watermark
        yield* driver.lock("cursors", id, "exclusive")
        const current = yield* driver.cursors.list(id)
        if (!sameCursors(new Map(Object.entries(task.snapshot)), current)) {
          const withdrawn = withdraw(
            task,
            "the integration's cursors moved since the window was planned (a re-import, a cursor set by an operator)",
            request.now
          )
          yield* finishInside(withdrawn, task.epoch)
          return { _tag: "Withdrawn", task: withdrawn } as CommitOutcome
        }
      }
      const applied = yield* Effect.either(ingest(request.ingest))
      if (applied._tag === "Left") {
        const error = applied.left
        if (error._tag === "IntegrationNotActive" || error._tag === "IntegrationDeleted") {
          const withdrawn = withdraw(
            task,
            error._tag === "IntegrationDeleted" ? "the integration was deleted" : "the integration is paused",
            request.now
          )
          yield* finishInside(withdrawn, task.epoch)
          return { _tag: "Withdrawn", task: withdrawn } as CommitOutcome
        }
        return yield* Effect.fail(applied.left)
      }
      const outcome = applied.right
      const accepted = outcome.accepted
      const committed = new LinkTask({
        ...task,
        state: "committed",
        epoch: task.epoch + 1,
        leaseUntil: null,
        updatedAt: request.now,
        finishedAt: request.now,
        answer: {
          outcome: outcome._tag === "Staged" ? "staged" : "applied",
          read: request.counts.read,
          applied: accepted,
          rejected: request.counts.rejected,
          runId: outcome._tag === "Applied" && request.ingest.run !== undefined ? request.ingest.run.id : null
        },
        error: null
      })
      if (!(yield* finishInside(committed, task.epoch))) {
        // the task moved under us: undo the data with the unit of work
        return yield* Effect.fail(new TaskMoved())
      }
      return { _tag: "Committed", task: committed, ingest: outcome } as CommitOutcome
    })).pipe(Effect.catchTag("TaskMoved", () => Effect.succeed<CommitOutcome>({ _tag: "Changed" })))

  /** `finish` inside the running unit of work. */
  const finishInside = (task: LinkTask, expectedEpoch: number) =>
    Effect.gen(function*() {
      const written = yield* driver.linkTasks.update(task, expectedEpoch)
      if (written) yield* driver.linkTasks.clearParts(task.id)
      return written
    })

  return { finish, fail, commit }
}
