/**
 * The historical runner: one step of a pull integration. It asks the planner
 * (`schedulePlan.plan`) what to do from the committed cursors and the time, writes the
 * cursors a decision needs (first connect, a gap), or reads and commits the planned windows,
 * each replacing the integration's data in it together with its watermark.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Configured, Registered } from "../../ConnectorRegistry.js"
import type { Integration } from "../../Domain.js"
import type { Fence } from "../../Ownership.js"
import { batchSize } from "../../Domain.js"
import type { StorageError } from "../../Errors.js"
import { Transient } from "../../Connector.js"
import { isOpen } from "../../LinkModel.js"
import type { LinkTasksShape, WindowOffer } from "../../LinkTasks.js"
import * as Plan from "../schedulePlan.js"
import type { Deps, Handle, Life, Outcome, WindowError } from "./context.js"
import { again, Defect, historyDays, retry, stop, timingOf, toUtc, viaLink } from "./context.js"
import type { Failures } from "./failures.js"
import type { Progress } from "./progress.js"
import type { Running } from "./running.js"
import { addBatch, emptyCollected, fitWindow, plannedCursors, sameCursors } from "./windows.js"

type Run = Extract<Plan.Step, { _tag: "Run" }>

export type HistoricalStep = (
  integration: Integration,
  handle: Handle,
  registered: Registered,
  /** undefined: the integration is read by a link (see `viaLink`) */
  configured: Configured | undefined,
  life: Life
) => Effect.Effect<Outcome, StorageError>

type WindowResult =
  | { readonly _tag: "Failed"; readonly error: WindowError; readonly read: number }
  | { readonly _tag: "Moved" }
  | { readonly _tag: "Lost" }
  | {
    readonly _tag: "Committed"
    readonly cursors: ReadonlyMap<string, number>
    readonly read: number
    readonly applied: number
    readonly rejected: number
  }

export const make = (deps: Deps, running: Running, progress: Progress, failures: Failures): HistoricalStep => {
  const { ingest, storage } = deps

  /**
   * Offers the window to the integration's link and waits until the task ends: a link's
   * commit applied it (data, watermark and run in one unit of work, as a local pull would), a
   * link reported a failure (recorded with its run; handled like the same failure here), or
   * it was withdrawn (the cursors moved, the integration stopped). While it waits the fiber
   * counts as idle, and a pause or delete withdraws the task at once.
   */
  const linkWindow = (
    links: LinkTasksShape,
    integration: Integration,
    step: Run,
    index: number,
    window: Plan.PlannedWindow,
    snapshot: ReadonlyMap<string, number>,
    ahead: ReadonlyArray<WindowOffer>
  ): Effect.Effect<WindowResult, StorageError> =>
    Effect.gen(function*() {
      let task = yield* links.offerWindow(integration, {
        runKind: step.kind,
        planTask: step.task,
        from: window.from,
        to: window.to,
        watermark: window.watermark,
        snapshot,
        progress: step.task === "incremental"
          ? { windowsDone: index, windowsTotal: step.windows.length }
          : { windowsDone: step.windowsDone, windowsTotal: step.windowsTotal }
      }, ahead)
      yield* running.setState(integration.id, { _tag: "Linked", taskId: task.id })
      while (isOpen(task)) {
        const changed = yield* links.awaitChange(task.id, task.epoch, deps.options.pollIntervalMs)
        if (Option.isNone(changed)) return { _tag: "Moved" } as const
        task = changed.value
        if (!isOpen(task)) break
        const fresh = yield* storage.integrations.get(integration.id)
        if (Option.isNone(fresh) || fresh.value.status !== "active") {
          // paused or deleted: no link gets the window (nor the one offered ahead); resume plans it again
          yield* links.withdrawOpen(
            integration.id,
            `the integration is ${Option.isNone(fresh) ? "gone" : fresh.value.status}`,
            "window"
          )
          return { _tag: "Moved" } as const
        }
      }
      yield* running.setState(integration.id, { _tag: "Busy" })
      switch (task.state) {
        case "committed": {
          const answer = task.answer
          return {
            _tag: "Committed",
            cursors: yield* storage.cursors.list(integration.id),
            read: answer?.read ?? 0,
            applied: answer?.applied ?? 0,
            rejected: answer?.rejected ?? 0
          } as const
        }
        case "failed":
          // the link's failure is recorded with its run already
          return {
            _tag: "Failed",
            error: task.sourceError ?? new Transient({ reason: task.error ?? "the link failed to read the window" }),
            read: 0
          } as const
        default:
          return { _tag: "Moved" } as const
      }
    })

  /** Reads one window, fits it, and commits it with its watermark, unless the cursors moved. */
  const importWindow = (
    integration: Integration,
    handle: Handle,
    configured: Configured,
    step: Run,
    window: Plan.PlannedWindow,
    snapshot: ReadonlyMap<string, number>,
    fence: Fence | undefined
  ): Effect.Effect<WindowResult, StorageError> =>
    Effect.gen(function*() {
      const pull = Option.getOrThrow(configured.pull)
      const started = yield* Clock.currentTimeMillis
      const collected = emptyCollected()
      const read = yield* Stream.suspend(() => pull({ from: toUtc(window.from), to: toUtc(window.to) })).pipe(
        Stream.runForEach((batch) => Effect.sync(() => addBatch(collected, batch))),
        // a connector that throws is a failure like any other: recorded, counted, retried
        Effect.catchAllDefect((defect) => Effect.fail(new Defect({ where: "connector", defect }))),
        Effect.either
      )
      if (Either.isLeft(read)) {
        yield* failures.record(integration, step.kind, started, collected.read, window, read.left, fence)
        return { _tag: "Failed", error: read.left, read: collected.read } as const
      }
      const { batch, rejected } = fitWindow(collected, window, integration.dataKinds)
      if (rejected > 0) {
        yield* Effect.logWarning(`the connector returned ${rejected} records outside the window; they were not imported`)
      }
      const committed = yield* handle.lock.withPermits(1)(Effect.gen(function*() {
        const current = yield* storage.cursors.list(integration.id)
        if (!sameCursors(snapshot, current)) return Option.none()
        const applied = yield* ingest.importWindow({
          integration,
          batch,
          kind: step.kind,
          window: { from: window.from, to: window.to },
          watermark: window.watermark,
          fence,
          // checked again in the commit's unit of work: a re-import asked on another node
          // between this check and the commit must not be overwritten by the watermark
          expectedCursors: plannedCursors(snapshot),
          rejected
        }).pipe(Effect.as(true), Effect.catchTag("CursorsMoved", () => Effect.succeed(false)))
        return applied ? Option.some(yield* storage.cursors.list(integration.id)) : Option.none()
      })).pipe(Effect.either)
      if (Either.isLeft(committed) && committed.left._tag === "OwnershipLost") {
        // another node owns the window now and reads it itself: nothing to record here
        yield* Effect.logWarning(`window not committed: ${committed.left.message}`)
        return { _tag: "Lost" } as const
      }
      if (Either.isLeft(committed)) {
        yield* failures.record(integration, step.kind, started, collected.read, window, committed.left, fence)
        return { _tag: "Failed", error: committed.left, read: collected.read } as const
      }
      if (Option.isNone(committed.right)) return { _tag: "Moved" } as const
      yield* Effect.logDebug("window committed").pipe(
        Effect.annotateLogs({ from: toUtc(window.from).toJSON(), to: toUtc(window.to).toJSON(), epoch: fence?.epoch ?? null })
      )
      return {
        _tag: "Committed",
        cursors: committed.right.value,
        read: collected.read,
        applied: batchSize(batch),
        rejected
      } as const
    })

  const taskDone = (task: Plan.Task, cursors: ReadonlyMap<string, number>, last: boolean): boolean => {
    switch (task) {
      case "incremental":
        return last
      case "history":
        return !Plan.historyPending(Plan.history(cursors))
      case "gap":
        return Plan.pendingRange(cursors, Plan.gapNames) === undefined
      case "reimport":
        return Plan.pendingRange(cursors, Plan.reimportNames) === undefined
    }
  }

  /**
   * The windows a link may read ahead while `window` (the step's only one) is uploaded and
   * committed (up to `count`): the history windows the planner plans from the cursors the
   * commits before each leave (the planned cursors with the watermarks). Only history windows
   * are read ahead: their plan follows from the cursors alone, so the window planned after a
   * commit is the next of these, and the task offered ahead is found again.
   */
  const aheadOf = (
    step: Run,
    window: Plan.PlannedWindow,
    cursors: ReadonlyMap<string, number>,
    plan: (cursors: ReadonlyMap<string, number>) => Plan.Step,
    count: number
  ): ReadonlyArray<WindowOffer> => {
    if (step.task !== "history" || step.windows.length !== 1 || window.watermark === undefined) return []
    const out: Array<WindowOffer> = []
    let watermark: Plan.PlannedWindow["watermark"] = window.watermark
    let after: ReadonlyMap<string, number> = cursors
    while (out.length < count && watermark !== undefined) {
      after = new Map(after).set(watermark.stream, watermark.value)
      const next = plan(after)
      if (next._tag !== "Run" || next.task !== "history" || next.windows.length !== 1) break
      const w = next.windows[0]!
      out.push({
        runKind: next.kind,
        planTask: next.task,
        from: w.from,
        to: w.to,
        watermark: w.watermark,
        snapshot: after,
        progress: { windowsDone: next.windowsDone, windowsTotal: next.windowsTotal }
      })
      watermark = w.watermark
    }
    return out
  }

  const runWindows = (
    integration: Integration,
    handle: Handle,
    configured: Configured | undefined,
    timing: Plan.Timing,
    step: Run,
    cursors: ReadonlyMap<string, number>,
    fence: Fence | undefined,
    plan: (cursors: ReadonlyMap<string, number>) => Plan.Step
  ) =>
    Effect.gen(function*() {
      let snapshot = cursors
      for (let i = 0; i < step.windows.length; i++) {
        const window = step.windows[i]!
        if (i > 0) {
          // pause and delete take effect at a window boundary
          const fresh = yield* storage.integrations.get(integration.id)
          if (Option.isNone(fresh) || fresh.value.status !== "active") return retry
        }
        const result = configured === undefined
          ? yield* linkWindow(deps.links!, integration, step, i, window, snapshot, aheadOf(step, window, snapshot, plan, deps.links!.options.readAhead))
          : yield* importWindow(integration, handle, configured, step, window, snapshot, fence)
        if (result._tag === "Moved") return retry
        if (result._tag === "Lost") return stop
        if (result._tag === "Failed") {
          return yield* failures.onFailure(integration, timing, result.error, result.read, step.task, fence)
        }
        snapshot = result.cursors
        if (i === 0) yield* failures.succeeded(integration, snapshot, fence)
        const last = i === step.windows.length - 1
        const done = taskDone(step.task, snapshot, last)
        const windowsDone = step.task === "incremental" ? i + 1 : Math.min(step.windowsTotal, step.windowsDone + 1)
        yield* progress.publish({
          tenantId: integration.tenantId,
          integrationId: integration.id,
          task: step.task,
          kind: step.kind,
          from: toUtc(window.from),
          to: toUtc(window.to),
          read: result.read,
          applied: result.applied,
          rejected: result.rejected,
          windowsDone: done && step.task !== "incremental" ? step.windowsTotal : windowsDone,
          windowsTotal: step.windowsTotal,
          records: progress.count(integration.id, step.task, result.applied),
          done
        })
        if (done && step.task !== "incremental") {
          yield* Effect.logInfo(`${step.task} import finished`)
        }
      }
      return again
    })

  /** Writes the cursors of a planned decision, unless they moved since the plan. */
  const write = (
    integration: Integration,
    handle: Handle,
    step: Extract<Plan.Step, { _tag: "Write" }>,
    cursors: ReadonlyMap<string, number>,
    fence: Fence | undefined
  ) =>
    Effect.gen(function*() {
      // one compare-and-set: the plan is written only if no cursor moved since it was read
      // (and, on a cluster, only while the lease holds the epoch this node holds)
      const expected = fence === undefined ? cursors : new Map(cursors).set(fence.stream, fence.epoch)
      const written = yield* handle.lock.withPermits(1)(
        storage.cursors.commit(integration.id, { expected, writes: step.writes })
      )
      if (!written) return
      const at = (s: string) => toUtc(step.writes.find(([k]) => k === s)?.[1] ?? 0).toJSON()
      yield* step.reason === "init"
        ? Effect.logInfo("first connect: history import planned").pipe(Effect.annotateLogs({
          from: at(Plan.streams.historyFrom),
          cutoff: at(Plan.streams.historyCutoff)
        }))
        : step.reason === "history"
        ? Effect.logInfo("history depth changed: history range planned again").pipe(
          Effect.annotateLogs({ from: at(Plan.streams.historyFrom) })
        )
        : Effect.logInfo("gap detected: importing it as backfill, after a look-back before it").pipe(
          Effect.annotateLogs({
            from: at(Plan.streams.gapNext),
            missing: at(Plan.streams.gapMissing),
            cutoff: at(Plan.streams.gapTo)
          })
        )
    })

  return (integration, handle, registered, configured, life) =>
    Effect.gen(function*() {
      const timing = timingOf(deps.options, integration, registered)
      const linked = viaLink(deps, integration) && configured === undefined
      if (timing === undefined || (!linked && (configured === undefined || Option.isNone(configured.pull)))) return stop
      const now = yield* Clock.currentTimeMillis
      const cursors = yield* storage.cursors.list(integration.id)
      const fence = life.fence
      if (fence !== undefined && cursors.get(fence.stream) !== fence.epoch) {
        // taken over: the node that holds the lease now runs it
        yield* Effect.logWarning(`lease lost: epoch ${cursors.get(fence.stream) ?? "none"} is not ${fence.epoch}`)
        return stop
      }
      const days = historyDays(integration, registered)
      const step = Plan.plan(cursors, now, days, timing, life.resumed)
      if ((step._tag === "Write" && step.reason === "gap") || (step._tag === "Run" && step.task === "incremental")) {
        life.resumed = false
      }
      switch (step._tag) {
        case "Idle":
          return { _tag: "Wait", until: step.until, wakeable: true } as const
        case "Write":
          yield* write(integration, handle, step, cursors, life.fence)
          return retry
        case "Run":
          return yield* runWindows(
            integration,
            handle,
            configured,
            timing,
            step,
            cursors,
            life.fence,
            // the planner as the next step will call it (a gap or incremental step in between ends the look ahead)
            (after) => Plan.plan(after, now, days, timing, false)
          )
      }
    })
}
