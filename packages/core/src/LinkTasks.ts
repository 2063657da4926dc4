/**
 * The work the engine gives `link` agents, and what it does with their results. The engine
 * stays the only scheduler and cursor store: for an on-premise integration in `link` mode the
 * scheduler offers each planned window as a task (`offerWindow`) and waits for its end
 * (`awaitEnd`) where it would have called `pull`; a link long-polls (`lease`), holds the task
 * for `leaseMs` (renewed with `renew`), uploads the result in parts (`putPart`) and commits it
 * (`commit`), which applies it through the same storage rules as a local pull: the window
 * replaced and its watermark committed in one unit of work, the task marked committed in the
 * same unit, so a repeated commit changes nothing and answers the first answer. A lease that
 * runs out returns the task to the queue, so another link takes it over.
 *
 * Files (csv drop folders) go the other way: the link offers a file it found (`offerFile`)
 * and commits its rows like a window, without a window to replace (the file ledger stays on
 * the link). Realtime sources stream up through a realtime task (`realtime`): each batch is
 * applied at once and reaches subscribers within a second.
 *
 * Every operation of a link checks that the task belongs to the link's tenant (another
 * tenant's task is `TaskNotFound`) and that the link may serve its integration.
 *
 * @since 0.3.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import { InvalidData } from "./Connector.js"
import type { Batch, Integration, RejectedRecord, TenantId } from "./Domain.js"
import { batchSize, ImportRun, IntegrationId } from "./Domain.js"
import { Forbidden, IntegrationNotFound, InvalidRequest } from "./Errors.js"
import { Ingest, validate } from "./Ingest.js"
import { addBatch, emptyCollected, fitWindow, sameCursors } from "./internal/scheduler/windows.js"
import { KeyMaterial } from "./KeyMaterial.js"
import type { Link, SourceError, TaskAnswer } from "./LinkModel.js"
import { FileRejected, isLeasable, isOpen, LeaseLost, LinkTask, ResultIncomplete, TaskGone, TaskNotFound } from "./LinkModel.js"
import { Storage } from "./Storage.js"
import { LinkTasksOptions } from "./internal/linkTasks/model.js"
import type { CommitInput, Leased, LeaseRequest, WindowOffer } from "./internal/linkTasks/model.js"
import { assemble } from "./internal/linkTasks/assemble.js"
import * as DecodedParts from "./internal/linkTasks/decodedParts.js"
import * as Records from "./internal/linkTasks/records.js"

export { resolveOptions, LinkTasksOptions, layerOptions } from "./internal/linkTasks/model.js"
export type { Options, ResolvedOptions, WindowOffer, Leased, LeaseRequest, CommitInput } from "./internal/linkTasks/model.js"

/** Signals between callers in this process: a task changed (or was offered). */
interface Signal {
  readonly tenantId: TenantId
  readonly taskId: string
}

/** The errors of a link's requests about a task. */
export type TaskError = TaskNotFound | TaskGone | LeaseLost | Forbidden

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

const make = Effect.gen(function*() {
  const storage = yield* Storage
  const ingest = yield* Ingest
  const keys = yield* KeyMaterial
  const options = yield* LinkTasksOptions
  const hub = yield* PubSub.sliding<Signal>(10_000)
  const signal = (task: LinkTask) => Effect.asVoid(PubSub.publish(hub, { tenantId: task.tenantId, taskId: task.id }))

  const now = Clock.currentTimeMillis

  const { decoded, forget: forgetDecoded, keep: keepDecoded } = DecodedParts.make(options.decodedPartsRecords)

  // finished tasks are kept for repeated commits, then pruned: at most hourly, when work is
  // offered (no fiber of its own, so the service needs no scope and tests with `TestClock` none)
  let prunedAt = Number.NEGATIVE_INFINITY
  const pruneNow = Effect.gen(function*() {
    const at = yield* now
    if (at - prunedAt < 3_600_000) return
    prunedAt = at
    yield* storage.linkTasks.prune(at - options.keepFinishedMs).pipe(
      Effect.catchAll((error) => Effect.logWarning(`could not prune finished link tasks: ${error.message}`))
    )
  })


  const integrationOf = (id: IntegrationId) =>
    Effect.flatMap(storage.integrations.get(id), Option.match({
      onNone: () => Effect.fail(new IntegrationNotFound({ integrationId: id })),
      onSome: Effect.succeed
    }))

  /** Whether the link may serve the integration: its tenant, on-premise, and its link or any. */
  const mayServe = (link: Link, integration: Integration) =>
    integration.tenantId === link.tenantId && integration.deliveryMode === "on-premise" &&
    (integration.linkId === null || integration.linkId === link.id)

  /** The task of the link's tenant that the link may serve, or `TaskNotFound` / `Forbidden`. */
  const taskOf = (link: Link, taskId: string) =>
    Effect.gen(function*() {
      const found = yield* storage.linkTasks.get(taskId)
      if (Option.isNone(found) || found.value.tenantId !== link.tenantId) return yield* new TaskNotFound({ taskId })
      const task = found.value
      if (task.linkId !== null && task.linkId !== link.id) {
        return yield* new Forbidden({ reason: `Task ${taskId} is for another link of this tenant` })
      }
      return task
    })

  const gone = (task: LinkTask) =>
    new TaskGone({ taskId: task.id, state: task.state, reason: task.error ?? `the task is ${task.state}` })

  // -------------------------------------------------------------------------
  // the scheduler's side
  // -------------------------------------------------------------------------

  /** A new task, signalled to long polls. */
  const insert = (task: LinkTask) => Effect.zipRight(storage.linkTasks.insert(task), signal(task))

  /** Ends an open task without a result (a new plan superseded it, the integration stopped). */
  const withdraw = Effect.fn("LinkTasks.withdraw")(function*(task: LinkTask, reason: string) {
    const at = yield* now
    const next = new LinkTask({
      ...task,
      state: "withdrawn",
      epoch: task.epoch + 1,
      leaseId: null,
      leaseUntil: null,
      updatedAt: at,
      finishedAt: at,
      error: reason
    })
    const written = yield* storage.linkTasks.finish(next, task.epoch)
    if (written) yield* Effect.zipRight(signal(next), forgetDecoded(task.id))
    return written
  })

  /** Withdraws every open task of the integration (of one kind, when given). */
  const withdrawOpen = Effect.fn("LinkTasks.withdrawOpen")(
    function*(integrationId: IntegrationId, reason: string, kind?: LinkTask["kind"]) {
      for (const task of yield* storage.linkTasks.ofIntegration(integrationId, ["pending", "leased"])) {
        if (kind === undefined || task.kind === kind) yield* withdraw(task, reason)
      }
    }
  )

  /**
   * Offers a planned window, or finds the open task that offers it already (a restarted engine
   * plans the same window again and finds the task it offered before, lease and all). `ahead`
   * are the windows the planner will plan once this one commits, one after the other (each
   * with the cursors the commit before it leaves): they are offered too, after this one, so a
   * link reads them while this one's result is uploaded and committed; each one's commit waits
   * for the window before it (see `commit`). Other open window tasks of the integration were
   * planned from cursors that no longer hold: they are withdrawn.
   */
  const offerWindow = Effect.fn("LinkTasks.offerWindow")(
    function*(integration: Integration, offer: WindowOffer, ahead: ReadonlyArray<WindowOffer> = []) {
      yield* pruneNow
      const at = yield* now
      let found: LinkTask | undefined
      const foundAhead: Array<LinkTask | undefined> = ahead.map(() => undefined)
      for (const task of yield* storage.linkTasks.ofIntegration(integration.id, ["pending", "leased"])) {
        if (task.kind !== "window") continue
        if (found === undefined && Records.offers(task, offer)) {
          found = task
          continue
        }
        const i = ahead.findIndex((a, j) => foundAhead[j] === undefined && Records.offers(task, a))
        if (i >= 0) foundAhead[i] = task
        else yield* withdraw(task, "superseded: the scheduler planned another window")
      }
      if (found === undefined) {
        found = Records.windowTask(keys.uuid(), integration, offer, at)
        yield* insert(found)
      }
      // inserted after `offer`, in order: links lease the open tasks in the order they were offered
      for (const [j, next] of ahead.entries()) {
        if (foundAhead[j] === undefined) yield* insert(Records.windowTask(keys.uuid(), integration, next, at))
      }
      return found
    }
  )

  /** Offers the integration's realtime stream, or finds the open task that offers it. */
  const offerRealtime = Effect.fn("LinkTasks.offerRealtime")(
    function*(integration: Integration, position: number | null) {
      const open = (yield* storage.linkTasks.ofIntegration(integration.id, ["pending", "leased"])).filter((t) =>
        t.kind === "realtime"
      )
      if (open[0] !== undefined) return open[0]
      const task = Records.realtimeTask(keys.uuid(), integration, position, yield* now)
      yield* insert(task)
      return task
    }
  )

  /**
   * Waits until the task changes from `seen` (another epoch) or `timeoutMs` passes; the
   * task as it is then. Changes made by this process end the wait at once; changes made by
   * another engine process are seen within `poll`.
   */
  const awaitChange = (taskId: string, seen: number, timeoutMs: number) =>
    Effect.scoped(Effect.gen(function*() {
      const queue = yield* PubSub.subscribe(hub)
      const deadline = (yield* now) + timeoutMs
      while (true) {
        const task = yield* storage.linkTasks.get(taskId)
        if (Option.isNone(task) || task.value.epoch !== seen) return task
        const left = deadline - (yield* now)
        if (left <= 0) return task
        yield* Effect.raceFirst(
          Queue.take(queue).pipe(Effect.repeat({ until: (s) => s.taskId === taskId })),
          Effect.sleep(Duration.millis(Math.min(left, options.pollMs)))
        )
      }
    }))

  // -------------------------------------------------------------------------
  // the link's side
  // -------------------------------------------------------------------------

  /** The integrations the link may serve: on-premise, its tenant's, not deleted, its own or any link's. */
  const servable = Effect.fn("LinkTasks.servable")(function*(link: Link) {
    const all = yield* storage.integrations.list(link.tenantId)
    return all.filter((i) => i.status !== "deleted" && mayServe(link, i))
  })

  const tryLease = (link: Link, serves: ReadonlySet<string>, max: number) =>
    Effect.gen(function*() {
      const at = yield* now
      const out: Array<Leased> = []
      const integrations = new Map<string, Option.Option<Integration>>()
      for (const task of yield* storage.linkTasks.open(link.tenantId)) {
        if (out.length >= max) break
        if (task.kind === "file" || !serves.has(task.integrationId) || !isLeasable(task, at)) continue
        if (task.linkId !== null && task.linkId !== link.id) continue
        let integration = integrations.get(task.integrationId)
        if (integration === undefined) {
          integration = yield* storage.integrations.get(task.integrationId)
          integrations.set(task.integrationId, integration)
        }
        // a paused integration gets no work: its scheduler withdraws the task
        if (Option.isNone(integration) || integration.value.status !== "active" || !mayServe(link, integration.value)) {
          continue
        }
        const leased = new LinkTask({
          ...task,
          state: "leased",
          epoch: task.epoch + 1,
          leaseId: keys.uuid(),
          leasedBy: link.id,
          leaseUntil: at + options.leaseMs,
          attempts: task.attempts + 1,
          updatedAt: at
        })
        if (yield* storage.linkTasks.update(leased, task.epoch)) {
          if (task.state === "leased") {
            yield* Effect.logInfo("a lease ran out; another lease takes the task over").pipe(
              Effect.annotateLogs({ taskId: task.id, from: task.leasedBy ?? "", to: link.id })
            )
          }
          out.push({ task: leased, integration: integration.value })
          yield* signal(leased)
        }
      }
      return out
    })

  /**
   * Leases up to `max` tasks of the integrations the link serves, waiting up to `waitMs` for
   * one to be offered. Tasks of paused integrations are not handed out.
   */
  const lease = Effect.fn("LinkTasks.lease")(function*(link: Link, request: LeaseRequest) {
    const serves = new Set<string>(request.serves)
    const max = Math.max(1, Math.min(100, Math.floor(request.max ?? 1)))
    const waitMs = Math.max(0, Math.min(options.maxWaitMs, request.waitMs ?? 0))
    return yield* Effect.scoped(Effect.gen(function*() {
      const queue = yield* PubSub.subscribe(hub)
      const deadline = (yield* now) + waitMs
      while (true) {
        const got = yield* tryLease(link, serves, max)
        const left = deadline - (yield* now)
        if (got.length > 0 || left <= 0) return got
        yield* Effect.raceFirst(
          Queue.take(queue).pipe(Effect.repeat({ until: (s) => s.tenantId === link.tenantId })),
          Effect.sleep(Duration.millis(Math.min(left, options.pollMs)))
        )
      }
    }))
  })

  /** The task as the link holds it under `leaseId`: `LeaseLost` when another lease holds it, `TaskGone` when it ended. */
  const held = (link: Link, taskId: string, leaseId: string) =>
    Effect.gen(function*() {
      const task = yield* taskOf(link, taskId)
      if (!isOpen(task)) return yield* gone(task)
      if (task.state !== "leased" || task.leaseId !== leaseId) return yield* new LeaseLost({ taskId })
      return task
    })

  /** Extends the lease for another `leaseMs`. */
  const renew = Effect.fn("LinkTasks.renew")(function*(link: Link, taskId: string, leaseId: string) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const task = yield* held(link, taskId, leaseId)
      const at = yield* now
      const next = new LinkTask({ ...task, epoch: task.epoch + 1, leaseUntil: at + options.leaseMs, updatedAt: at })
      if (yield* storage.linkTasks.update(next, task.epoch)) return next
    }
    return yield* new LeaseLost({ taskId })
  })

  /** Hands the lease back (a link shutting down): the task is pending again at once. */
  const release = Effect.fn("LinkTasks.release")(function*(link: Link, taskId: string, leaseId: string) {
    const task = yield* held(link, taskId, leaseId)
    const at = yield* now
    const next = new LinkTask({ ...task, state: "pending", epoch: task.epoch + 1, leaseId: null, leaseUntil: null, updatedAt: at })
    if (yield* storage.linkTasks.update(next, task.epoch)) yield* signal(next)
  })

  /**
   * Keeps one part of a result (its records as `Domain.BatchJson` text, checked by the
   * caller). Uploading a part of a committed task changes nothing (the commit that follows
   * answers the first answer). `batch`, when given, is what the caller decoded from `body`:
   * this process keeps it for the commit, which then needn't decode the part again.
   */
  const putPart = Effect.fn("LinkTasks.putPart")(
    function*(
      link: Link,
      taskId: string,
      resultId: string,
      part: { readonly n: number; readonly records: number; readonly body: string; readonly batch?: Batch | undefined }
    ) {
      const task = yield* taskOf(link, taskId)
      if (task.state === "committed") return
      if (!isOpen(task)) return yield* gone(task)
      yield* storage.linkTasks.putPart(taskId, resultId, { n: part.n, records: part.records, body: part.body })
      if (part.batch !== undefined) yield* keepDecoded(taskId, resultId, part.n, part.body, part.batch, part.records)
    }
  )

  /** Marks the task failed with its run: the link's result was refused. */
  const refuse = (
    task: LinkTask,
    started: number,
    read: number,
    error: SourceError,
    problems: ReadonlyArray<RejectedRecord> = [],
    rejected = 0
  ) =>
    Effect.gen(function*() {
      const at = yield* now
      const failed = Records.failedTask(task, at, error)
      const run = new ImportRun({
        ...Records.describeRun(keys.uuid(), task, started, { read, applied: 0, rejected }, error.message, problems),
        durationMs: Math.max(0, at - started)
      })
      const written = yield* storage.linkTasks.fail(failed, task.epoch, run)
      if (written) yield* signal(failed)
      return written
    })

  /**
   * A window offered ahead (see `offerWindow`) commits after the window before it: while the
   * integration's cursors are not yet those the window was planned from and an earlier open
   * window task of the integration may still commit, this waits for that task to end (up to a
   * lease's time). True when it waited (the caller reads the task again), false when the
   * commit may go on (the storage's check of the cursors then has the last word).
   */
  const awaitPredecessor = (task: LinkTask) =>
    Effect.gen(function*() {
      const snapshot = new Map(Object.entries(task.snapshot))
      if (sameCursors(snapshot, yield* storage.cursors.list(task.integrationId))) return false
      const open = yield* storage.linkTasks.ofIntegration(task.integrationId, ["pending", "leased"])
      // open tasks come in the order they were offered
      const before = open.slice(0, open.findIndex((t) => t.id === task.id)).filter((t) => t.kind === "window")
      const first = before[0]
      if (first === undefined) return false
      const deadline = (yield* now) + options.leaseMs
      let seen = first
      while (true) {
        const changed = yield* awaitChange(seen.id, seen.epoch, Math.max(0, deadline - (yield* now)))
        if (Option.isNone(changed) || !isOpen(changed.value)) return true
        if ((yield* now) >= deadline) return false
        seen = changed.value
      }
    })

  /**
   * Applies the uploaded result: through `data.ingest`'s rules, the window replaced and its
   * watermark committed with the task's mark in one unit of work (a file's rows are applied
   * like a push: staged while paused). A repeated commit answers the first answer. A result
   * with an invalid record fails the task (the scheduler treats it as invalid source data) and
   * answers `InvalidRecord`.
   */
  const commit = (link: Link, taskId: string, input: CommitInput) =>
    commitOnce(link, taskId, input).pipe(
      // the decoded parts are kept while the link may still complete its result
      Effect.tapBoth({
        onSuccess: () => forgetDecoded(taskId),
        onFailure: (error) => error._tag === "ResultIncomplete" ? Effect.void : forgetDecoded(taskId)
      })
    )

  const commitOnce = Effect.fn("LinkTasks.commit")(function*(link: Link, taskId: string, input: CommitInput) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const task = yield* taskOf(link, taskId)
      if (task.state === "committed" && task.answer !== null) return task.answer
      if (!isOpen(task)) return yield* gone(task)
      const integration = yield* integrationOf(task.integrationId)
      if (!mayServe(link, integration)) {
        return yield* new Forbidden({ reason: `This link does not serve integration ${integration.id}` })
      }
      if (task.kind === "window" && (yield* awaitPredecessor(task))) continue
      const started = yield* now
      const collected = yield* assemble(storage, task, input, decoded)
      const linkRejected = Math.max(0, input.rejected ?? 0)
      const window = task.kind === "window" && task.windowFrom !== null && task.windowTo !== null
        ? { from: task.windowFrom, to: task.windowTo }
        : undefined
      const { batch, rejected: outside } = fitWindow(collected, window, integration.dataKinds)
      const invalid = validate(batch)
      const read = collected.read + linkRejected
      if (task.kind === "file" && linkRejected > 0) {
        // a file is applied whole or not at all: its first bad row is named, every problem kept on the run
        const first = input.problems?.[0]
        const name = task.file?.name ?? "the file"
        const refused = new FileRejected({
          taskId,
          file: name,
          record: first?.record ?? name,
          reason: first === undefined ? "a row could not be read" : `${first.field === null ? "" : `${first.field}: `}${first.reason}`,
          rejected: linkRejected
        })
        yield* refuse(task, started, read, new InvalidData({ record: refused.record, reason: refused.message }), input.problems, linkRejected)
        return yield* refused
      }
      if (Option.isSome(invalid)) {
        const error = invalid.value
        yield* refuse(task, started, read, new InvalidData({ record: `record ${error.index}`, reason: error.message }))
        return yield* error
      }
      if (outside > 0) {
        yield* Effect.logWarning(`the link returned ${outside} records outside the window; they were not imported`)
      }
      const rejected = outside + linkRejected
      const applied = batchSize(batch)
      const outcome = yield* storage.linkTasks.commit({
        taskId,
        epoch: task.epoch,
        checkCursors: task.kind === "window",
        counts: { read, rejected },
        now: started,
        ingest: {
          integrationId: integration.id,
          batch,
          mode: task.kind === "file" ? "push" : "pull",
          replaceWindow: window,
          watermark: task.watermarkStream !== null && task.watermarkValue !== null
            ? { stream: task.watermarkStream, value: task.watermarkValue }
            : undefined,
          stagingLimit: 1_000_000,
          now: started,
          run: Records.describeRun(keys.uuid(), task, started, { read, applied, rejected }, null, input.problems)
        }
      })
      switch (outcome._tag) {
        case "Changed":
          continue
        case "Withdrawn":
          yield* signal(outcome.task)
          return yield* gone(outcome.task)
        case "Committed": {
          yield* signal(outcome.task)
          yield* Effect.logDebug("link result committed").pipe(
            Effect.annotateLogs({ taskId, integrationId: integration.id, applied })
          )
          return outcome.task.answer as TaskAnswer
        }
      }
    }
    return yield* new ResultIncomplete({ taskId, reason: "the task kept changing during the commit; commit again" })
  })

  /**
   * Records the link's failure to read the source: the task fails with its run, and the
   * scheduler treats the error like the same error of a local pull (backoff, rate limit,
   * failing mark, next run). A repeated report changes nothing.
   */
  const fail = Effect.fn("LinkTasks.fail")(
    function*(link: Link, taskId: string, error: SourceError, read: number) {
      for (let attempt = 0; attempt < 10; attempt++) {
        const task = yield* taskOf(link, taskId)
        if (task.state === "failed") return
        if (!isOpen(task)) return yield* gone(task)
        if (yield* refuse(task, yield* now, Math.max(0, read), error)) return
      }
    }
  )

  /**
   * A file the link found, as a task of its own that the link holds: its rows are uploaded
   * and committed like a window's, applied without a window to replace. Offering the same
   * `resultId` again finds the same task.
   */
  const offerFile = Effect.fn("LinkTasks.offerFile")(function*(
    link: Link,
    input: { readonly integrationId: string; readonly resultId: string; readonly name: string; readonly sha256: string }
  ) {
    const integration = yield* integrationOf(IntegrationId.make(input.integrationId))
    if (integration.tenantId !== link.tenantId) {
      return yield* new IntegrationNotFound({ integrationId: input.integrationId })
    }
    if (!mayServe(link, integration)) {
      return yield* new Forbidden({ reason: `This link does not serve integration ${integration.id}` })
    }
    // one id per integration and content, short enough for a URL path segment
    const id = `file-${(yield* keys.sha256(`${integration.id}\u0000${input.resultId}`)).slice(0, 40)}`
    const existing = yield* storage.linkTasks.get(id)
    if (Option.isSome(existing)) return existing.value
    const at = yield* now
    const task = Records.fileTask(id, integration, link, input, { leaseId: keys.uuid(), at, until: at + options.leaseMs })
    yield* storage.linkTasks.insert(task)
    return task
  })

  /**
   * Applies one realtime batch of a realtime task the link holds, with the source position
   * after it, and publishes its statuses to subscribers. A paused or deleted integration ends
   * the task (`TaskGone`).
   */
  const realtime = Effect.fn("LinkTasks.realtime")(
    function*(link: Link, taskId: string, leaseId: string, input: { position?: number | undefined; batch: Batch }) {
      const task = yield* held(link, taskId, leaseId)
      if (task.kind !== "realtime") {
        return yield* new InvalidRequest({ field: "taskId", reason: `task ${taskId} is a ${task.kind} task, not realtime` })
      }
      const integration = yield* integrationOf(task.integrationId)
      const collected = emptyCollected()
      addBatch(collected, input.batch)
      const { batch } = fitWindow(collected, undefined, integration.dataKinds)
      if (batchSize(batch) === 0 && input.position === undefined) return { applied: 0 }
      const applied = yield* ingest.importWindow({
        integration,
        batch,
        kind: "realtime",
        watermark: input.position === undefined ? undefined : { stream: "realtime", value: input.position }
      }).pipe(
        Effect.catchTags({
          // no fence and no expected cursors: a link's batch is applied by whichever engine node answers it
          OwnershipLost: (error) => Effect.die(error),
          CursorsMoved: (error) => Effect.die(error),
          IntegrationNotActive: () =>
            Effect.zipRight(withdraw(task, "the integration is paused"), Effect.fail(gone(new LinkTask({ ...task, state: "withdrawn", error: "the integration is paused" })))),
          IntegrationDeleted: () =>
            Effect.zipRight(withdraw(task, "the integration was deleted"), Effect.fail(gone(new LinkTask({ ...task, state: "withdrawn", error: "the integration was deleted" }))))
        })
      )
      return { applied: applied._tag === "Applied" ? applied.accepted : 0 }
    }
  )

  /** The integration's open task, if any, for health. */
  const openTask = (integrationId: IntegrationId) =>
    Effect.map(storage.linkTasks.ofIntegration(integrationId, ["pending", "leased"]), (tasks) => Option.fromNullable(tasks[0]))

  return {
    options,
    offerWindow,
    offerRealtime,
    withdraw,
    withdrawOpen,
    awaitChange,
    servable,
    mayServe,
    lease,
    renew,
    release,
    putPart,
    commit,
    fail,
    offerFile,
    realtime,
    openTask
  } as const
})

/**
 * The task service. It needs `Storage`, `Ingest` and `KeyMaterial` (all in `Engine.layer`).
 *
 * @since 0.3.0 @category services
 */
export class LinkTasks extends Effect.Service<LinkTasks>()("@acd-bridge/core/LinkTasks", {
  effect: make
}) {}

/** @since 0.3.0 @category models */
export type LinkTasksShape = Effect.Effect.Success<typeof make>

