/**
 * The agent's loop: upload what the outbox holds, lease tasks (long poll), run each window
 * with the connector next to the source, keep the result in the outbox, upload it in parts and
 * commit it, then drop it from the outbox. Leases are renewed while a window is read; a link
 * that is stopped hands its lease back.
 *
 * Uploads retry with exponential backoff (jittered, capped) on network errors and 5xx; a 4xx
 * parks the result with the engine's reason; 410 (the task ended: paused, re-planned) drops it.
 *
 * Besides windows, the loop starts the watcher of the csv integrations' folders (`Files`: each
 * new file offered as a task of its own; files and windows take turns) and hands leased
 * realtime tasks to `Realtime`, which streams them in the background.
 *
 * @since 0.3.0
 */
import { Connector, ConnectorRegistry, Domain, LinkModel } from "@acd-bridge/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { LinkConfig } from "./LinkConfig.js"
import * as Files from "./Files.js"
import { toParts } from "./internal/partText.js"
import type { Entry } from "./Outbox.js"
import { Outbox } from "./Outbox.js"
import * as ProgressEvents from "./ProgressEvents.js"
import * as Realtime from "./Realtime.js"

/** The link's release, sent to the engine. @since 0.3.0 @category constants */
export const version = "0.3.0"

/**
 * The engine could not be reached or failed (network error, 5xx): worth retrying.
 *
 * @since 0.3.0 @category errors
 */
export class EngineUnavailable extends Data.TaggedError("EngineUnavailable")<{ readonly reason: string }> {}

/**
 * The engine refused the request (4xx).
 *
 * @since 0.3.0 @category errors
 */
export class EngineRefused extends Data.TaggedError("EngineRefused")<{
  readonly status: number
  readonly detail: string
}> {
  override get message() {
    return `the engine answered ${this.status}: ${this.detail}`
  }
}

const TaskView = Schema.Struct({
  taskId: Schema.String,
  integrationId: Schema.String,
  connector: Schema.String,
  kind: Schema.String,
  window: Schema.NullOr(Schema.Struct({ from: Schema.DateTimeUtc, to: Schema.DateTimeUtc })),
  leaseId: Schema.String,
  leaseUntil: Schema.DateTimeUtc,
  position: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null }),
  // for the progress display only
  runKind: Schema.optional(Schema.String),
  progress: Schema.optional(Schema.NullOr(Schema.Struct({ windowsDone: Schema.Int, windowsTotal: Schema.Int }))),
  integration: Schema.optional(Schema.Struct({ name: Schema.String }))
})
const LeaseAnswer = Schema.Struct({ protocol: Schema.Int, leaseMs: Schema.Int, tasks: Schema.Array(TaskView) })
/** A leased task as the engine describes it. @since 0.3.0 @category models */
export type TaskView = typeof TaskView.Type

const FileTask = Schema.Struct({
  taskId: Schema.String,
  state: Schema.String,
  resultId: Schema.String,
  leaseId: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
})
/** The engine's task for a file the link offered. @since 0.3.0 @category models */
export type FileTask = typeof FileTask.Type

const encodeBatch = Schema.encodeSync(Domain.BatchJson)

/**
 * A client of the engine's link routes.
 *
 * @since 0.3.0 @category constructors
 */
export const makeClient = (config: LinkConfig) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const base = config.engine.url.replace(/\/+$/, "")
    const withHeaders = (request: HttpClientRequest.HttpClientRequest) =>
      request.pipe(
        HttpClientRequest.bearerToken(Redacted.value(config.engine.token)),
        HttpClientRequest.setHeader(LinkModel.protocolHeader, String(LinkModel.protocolVersion)),
        HttpClientRequest.setHeader(LinkModel.agentVersionHeader, version)
      )
    /** Sends the request; the body as JSON on 2xx, `EngineRefused` on 4xx, `EngineUnavailable` otherwise. */
    const send = (request: HttpClientRequest.HttpClientRequest) =>
      http.execute(withHeaders(request)).pipe(
        Effect.mapError((error) => new EngineUnavailable({ reason: error.message })),
        Effect.flatMap((response) =>
          Effect.flatMap(
            Effect.orElseSucceed(response.text, () => ""),
            (text): Effect.Effect<unknown, EngineUnavailable | EngineRefused> => {
              const json = (() => {
                try {
                  return text === "" ? null : (JSON.parse(text) as unknown)
                } catch {
                  return text
                }
              })()
              if (response.status >= 200 && response.status < 300) return Effect.succeed(json)
              const detail = typeof json === "object" && json !== null && "detail" in json ? String(json.detail) : text
              return response.status >= 400 && response.status < 500
                ? Effect.fail(new EngineRefused({ status: response.status, detail }))
                : Effect.fail(new EngineUnavailable({ reason: `${response.status}: ${detail}` }))
            }
          )
        ),
        Effect.scoped
      )
    const post = (path: string, body: unknown) =>
      send(HttpClientRequest.post(`${base}${path}`).pipe(HttpClientRequest.bodyUnsafeJson(body)))
    return {
      lease: (waitSeconds: number, integrations: ReadonlyArray<string>) =>
        send(HttpClientRequest.get(`${base}/v1/link/tasks`, {
          urlParams: { wait: String(waitSeconds), max: "1", integrations: integrations.join(",") }
        })).pipe(
          Effect.flatMap((json) =>
            Effect.mapError(
              Schema.decodeUnknown(LeaseAnswer)(json),
              (e) => new EngineUnavailable({ reason: `unreadable answer: ${e.message}` })
            )
          )
        ),
      renew: (task: TaskView) => post(`/v1/link/tasks/${task.taskId}/renew`, { leaseId: task.leaseId }),
      release: (task: TaskView) => post(`/v1/link/tasks/${task.taskId}/release`, { leaseId: task.leaseId }),
      fail: (task: TaskView, error: Connector.ConnectorError) =>
        post(`/v1/link/tasks/${task.taskId}/fail`, {
          error: {
            _tag: error._tag,
            reason: "reason" in error && error.reason !== undefined ? error.reason : error.message,
            ...(error._tag === "RateLimited" ? { retryAfterMs: error.retryAfterMs } : {}),
            ...(error._tag === "InvalidData" ? { record: error.record } : {})
          }
        }),
      putPart: (taskId: string, resultId: string, n: number, body: string) =>
        send(
          HttpClientRequest.put(`${base}/v1/link/tasks/${taskId}/results/${resultId}/parts/${n}`).pipe(
            HttpClientRequest.bodyText(body, "application/json")
          )
        ),
      commit: (
        taskId: string,
        body: {
          resultId: string
          parts: number
          records: number
          rejected?: number | undefined
          problems?: ReadonlyArray<{ record: string; field: string | null; reason: string }> | undefined
        }
      ) => post(`/v1/link/tasks/${taskId}/commit`, body),
      offerFile: (body: { integrationId: string; name: string; sha256: string }) =>
        post("/v1/link/files", body).pipe(
          Effect.flatMap((json) =>
            Effect.mapError(
              Schema.decodeUnknown(FileTask)(json),
              (e) => new EngineUnavailable({ reason: `unreadable answer: ${e.message}` })
            )
          )
        ),
      realtime: (task: TaskView, position: number | undefined, batch: Domain.Batch) =>
        post(`/v1/link/tasks/${task.taskId}/realtime`, {
          leaseId: task.leaseId,
          ...(position === undefined ? {} : { position }),
          batch: encodeBatch(batch)
        })
    }
  })

/** @since 0.3.0 @category models */
export type Client = Effect.Effect.Success<ReturnType<typeof makeClient>>

/** Network errors and 5xx: retried with backoff, capped at a minute, for as long as it takes. */
const retryUnavailable = Schedule.exponential("500 millis").pipe(
  Schedule.union(Schedule.spaced("1 minute")),
  Schedule.jittered,
  Schedule.whileInput((e: EngineUnavailable | EngineRefused) => e._tag === "EngineUnavailable")
)

/**
 * What became of an uploaded result: committed, dropped (its task ended: 410) or parked (the
 * engine refused it, with the engine's reason).
 *
 * @since 0.3.0 @category models
 */
export type Uploaded =
  | { readonly _tag: "Committed" }
  | { readonly _tag: "Dropped"; readonly reason: string }
  | { readonly _tag: "Parked"; readonly reason: string }

/**
 * Uploads one outbox entry (parts, then commit) until the engine answers; removes it when the
 * engine committed it (or the task ended), parks it on any other 4xx.
 *
 * @since 0.3.0 @category constructors
 */
export const upload = (client: Client, entry: Entry): Effect.Effect<Uploaded, never, Outbox> =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    const result = yield* Effect.either(
      Effect.gen(function*() {
        for (const [n, body] of entry.parts.entries()) yield* client.putPart(entry.taskId, entry.resultId, n, body)
        return yield* client.commit(entry.taskId, {
          resultId: entry.resultId,
          parts: entry.parts.length,
          records: entry.records,
          ...(entry.rejected === undefined ? {} : { rejected: entry.rejected, problems: entry.problems })
        })
      }).pipe(
        Effect.tapError((e) =>
          e._tag === "EngineUnavailable" ? Effect.logWarning(`upload failed, retrying: ${e.reason}`) : Effect.void
        ),
        Effect.retry(retryUnavailable)
      )
    )
    if (Either.isRight(result)) {
      yield* outbox.remove(entry.taskId)
      yield* Effect.logInfo("result committed").pipe(Effect.annotateLogs({ taskId: entry.taskId, records: entry.records }))
      return { _tag: "Committed" } as const
    }
    const error = result.left
    if (error._tag === "EngineRefused" && error.status === 410) {
      yield* outbox.remove(entry.taskId)
      yield* Effect.logInfo(`the task ended before its result arrived; dropped: ${error.detail}`)
      return { _tag: "Dropped", reason: error.detail } as const
    }
    yield* outbox.park(entry.taskId, error.message)
    yield* Effect.logWarning(`result parked: ${error.message}`).pipe(Effect.annotateLogs({ taskId: entry.taskId }))
    return { _tag: "Parked", reason: error.message } as const
  })

/** Uploads an entry; a file's result then moves its file (archive or failed) and enters the ledger. */
const deliver = (client: Client, config: LinkConfig, entry: Entry) =>
  Effect.flatMap(upload(client, entry), (outcome) =>
    (entry.file === undefined ? Effect.void : Files.settle(config, entry, outcome)).pipe(Effect.as(outcome)))

/** A window read, its lease still renewed, waiting to be kept in the outbox and uploaded. */
interface ReadWindow {
  readonly kept: Entry
  readonly shown: ProgressEvents.WindowEvent
  readonly renewing: Fiber.RuntimeFiber<unknown>
}

/**
 * Reads one leased window with the integration's connector, its result ready for the outbox;
 * undefined when there is nothing to upload (the task was handed back or failed). The lease
 * is renewed every third of its time from the start of the read until `finishWindow` has kept
 * the result and starts its upload.
 */
const readWindow = (client: Client, config: LinkConfig, leaseMs: number, task: TaskView) =>
  Effect.gen(function*() {
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    const entry = config.integrations.find((i) => i.id === task.integrationId)
    if (entry === undefined || task.window === null) {
      yield* Effect.ignore(client.release(task))
      return undefined
    }
    const registered = yield* registry.get(entry.connector).pipe(Effect.orDie)
    const configured = registered.configure(entry.config)
    if (Either.isLeft(configured)) {
      yield* Effect.logError(`the configuration of integration ${entry.id} is invalid: ${configured.left.message}`)
      yield* Effect.ignore(client.fail(task, new Connector.AuthFailed({ reason: configured.left.message })))
      return undefined
    }
    const pull = configured.right.pull
    if (pull._tag === "None") {
      yield* Effect.ignore(client.release(task))
      return undefined
    }
    const shown: ProgressEvents.WindowEvent = {
      integrationId: entry.id,
      name: task.integration?.name,
      runKind: task.runKind,
      progress: task.progress ?? null
    }
    yield* ProgressEvents.report((r) => r.windowStarted(shown))
    const every = Duration.millis(Math.max(500, Math.floor(leaseMs / 3)))
    const renewing = yield* Effect.ignore(client.renew(task)).pipe(
      Effect.repeat(Schedule.spaced(every)),
      Effect.delay(every),
      Effect.fork
    )
    const read = yield* Stream.runCollect(pull.value({ from: task.window.from, to: task.window.to })).pipe(Effect.either)
    if (Either.isLeft(read)) {
      yield* Fiber.interrupt(renewing)
      yield* Effect.logWarning(`reading the source failed: ${read.left.message}`)
      yield* Effect.ignore(client.fail(task, read.left).pipe(Effect.retry(retryUnavailable)))
      yield* ProgressEvents.report((r) => r.windowEnded(shown, "failed", 0))
      return undefined
    }
    const batch: Domain.Batch = { contacts: [], aggregates: [], statuses: [] }
    for (const b of read.right) {
      ;(batch.contacts as Array<Domain.ContactEvent>).push(...b.contacts)
      ;(batch.aggregates as Array<Domain.IntervalAggregate>).push(...b.aggregates)
      ;(batch.statuses as Array<Domain.AgentStatus>).push(...b.statuses)
    }
    const parts = toParts(batch, config.partSize)
    const records = batch.contacts.length + batch.aggregates.length + batch.statuses.length
    const at = yield* Clock.currentTimeMillis
    const kept = { taskId: task.taskId, integrationId: entry.id, resultId: task.leaseId, parts, records, createdAt: at }
    yield* Effect.logInfo("window read").pipe(
      Effect.annotateLogs({
        taskId: task.taskId,
        integrationId: entry.id,
        from: DateTime.formatIso(task.window.from),
        to: DateTime.formatIso(task.window.to),
        records
      })
    )
    return { kept, shown, renewing } satisfies ReadWindow
  })

/**
 * Keeps a window's result in the outbox, uploads it and reports how it ended. Runs beside the
 * next window's lease and read: the outbox's durable write (a synced SQLite transaction, about
 * a quarter of a window's time) no longer holds up the next read. A link stopped before the
 * write ends hands the lease back, so the window is read again, by this link or another.
 */
const finishWindow = (client: Client, config: LinkConfig, read: ReadWindow) =>
  Effect.gen(function*() {
    const outbox = yield* Outbox
    // durable first: from here on the work survives an engine outage and a link restart
    yield* outbox.put(read.kept)
    yield* Fiber.interrupt(read.renewing)
    const outcome = yield* deliver(client, config, read.kept)
    yield* ProgressEvents.report((r) =>
      r.windowEnded(
        read.shown,
        outcome._tag === "Committed" ? "committed" : outcome._tag === "Dropped" ? "dropped" : "parked",
        read.kept.records
      )
    )
  })

/** Results uploaded at once: the window being committed and the ones read ahead of it. */
const concurrentUploads = 3

/** Stopped while a window is held (read, waiting for its upload, or uploading): hand the lease back so another link takes it at once. */
const handBack = (client: Client, task: TaskView) => Effect.ignore(client.release(task).pipe(Effect.timeout("5 seconds")))

/**
 * Runs the link until interrupted: the outbox first, then lease, read, keep, upload.
 *
 * Windows are pipelined: while one window's result is uploaded and committed (in a fiber of
 * its own), the link leases and reads the next one (the engine offers the next history window
 * ahead of the commit). The engine keeps the commits in order: a window offered ahead commits
 * after the window before it, so uploads need no order here (a link that takes over a window
 * handed back while it holds the window after it would otherwise wait for itself).
 *
 * @since 0.3.0 @category constructors
 */
export const run = (config: LinkConfig) =>
  Effect.gen(function*() {
    const client = yield* makeClient(config)
    const outbox = yield* Outbox
    const integrations = config.integrations.map((i) => i.id)
    // windows and files of this link take turns: a window's replace never races a file's commit
    const turns = yield* Effect.makeSemaphore(1)
    yield* Effect.logInfo("link started").pipe(
      Effect.annotateLogs({ engine: config.engine.url, integrations: integrations.join(","), version })
    )
    for (const entry of yield* outbox.ready) yield* deliver(client, config, entry)
    // the watched folders of csv integrations: each new file is offered as a task of its own
    yield* Effect.forkScoped(Files.watch(client, config, (entry) => deliver(client, config, entry), turns))
    /** the uploads of the windows read, while they run */
    let uploading: Array<Fiber.RuntimeFiber<void>> = []
    // a few results in memory at most: a window waits for a free upload before its upload starts
    const uploads = yield* Effect.makeSemaphore(concurrentUploads)
    /** whether the windows hold the turn (from the first window read until their uploads are done) */
    let holding = false
    const drain = Effect.gen(function*() {
      yield* Fiber.joinAll(uploading)
      uploading = []
      if (holding) yield* turns.release(1)
      holding = false
    })
    while (true) {
      if (!holding) {
        yield* turns.withPermits(1)(
          Effect.flatMap(outbox.ready, (ready) => Effect.forEach(ready, (entry) => deliver(client, config, entry), { discard: true }))
        )
      }
      // while a result uploads, the next window is usually offered already (or as soon as that
      // result commits): a short poll, then the uploads drain and the long poll follows
      const leased = yield* client.lease(holding ? Math.min(config.wait, 1) : config.wait, integrations).pipe(
        Effect.tapError((e) => Effect.logWarning(`could not ask the engine for work: ${e.message}`)),
        Effect.retry(retryUnavailable),
        Effect.catchTag("EngineRefused", (e) =>
          Effect.zipRight(
            Effect.logError(`the engine refused this link: ${e.message}`),
            Effect.as(Effect.sleep("30 seconds"), { protocol: 1, leaseMs: 60_000, tasks: [] })
          ))
      )
      const windows = leased.tasks.filter((task) => task.kind !== "realtime")
      for (const task of leased.tasks) {
        if (task.kind === "realtime") yield* Realtime.start(client, config, leased.leaseMs, task)
      }
      if (windows.length === 0) yield* drain
      for (const task of windows) {
        if (!holding) {
          yield* turns.take(1)
          holding = true
        }
        yield* Effect.gen(function*() {
          const read = yield* readWindow(client, config, leased.leaseMs, task)
          if (read === undefined) return
          // uploads run side by side: the engine commits a window offered ahead only after the
          // window before it, wherever that one is read (here, or by a link that took it over)
          yield* uploads.take(1)
          const upload = yield* Effect.fork(
            finishWindow(client, config, read).pipe(
              Effect.onInterrupt(() => handBack(client, task)),
              Effect.ensuring(uploads.release(1))
            )
          )
          uploading = [...uploading.filter((f) => f.unsafePoll() === null), upload]
        }).pipe(Effect.onInterrupt(() => handBack(client, task)))
      }
    }
  }).pipe(Effect.scoped)

/**
 * What `acd-link status` shows: the outbox's depth and its parked results.
 *
 * @since 0.3.0 @category constructors
 */
export const status = Effect.gen(function*() {
  const outbox = yield* Outbox
  return { depth: yield* outbox.depth, parked: yield* outbox.parked }
})
