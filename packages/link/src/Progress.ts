/**
 * The progress of a backfill (the first-connect history, a resume gap, a re-import) as
 * `acd-link run` shows it: windows done of the engine's plan, the records read, the rate and
 * an ETA. On a terminal a bar per integration (`cli-progress`, as `acd-bridge integrations
 * --follow` draws it) with the log lines printed above the bars; anywhere else (a log file,
 * journald, Docker) one plain line per integration every `every`, and at once when a backfill
 * starts or ends.
 *
 * The windows come from the task (`progress: {windowsDone, windowsTotal}`, the engine's plan),
 * the records from what the link read and the engine committed.
 *
 * @since 0.3.0
 */
import { MultiBar, type SingleBar } from "cli-progress"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type { Outcome, WindowEvent } from "./ProgressEvents.js"
import { ProgressReporter } from "./ProgressEvents.js"

/**
 * One integration's backfill as the link has seen it.
 *
 * @since 0.3.0 @category models
 */
export interface Backfill {
  readonly integrationId: string
  readonly label: string
  readonly runKind: string
  readonly windowsDone: number
  readonly windowsTotal: number
  /** records committed in this backfill by this link */
  readonly records: number
  readonly startedAt: number
  /** windows done when this link first saw the backfill (another link, or an earlier run, did those) */
  readonly startedDone: number
  readonly finished: boolean
}

/** The run kinds that import a range of windows the plan counts. */
const backfillKinds: ReadonlySet<string> = new Set(["history", "resume", "reimport"])

/**
 * The backfill after an event: a window of it was leased (`ended` undefined) or ended. Windows
 * of other kinds (incremental pulls) leave it as it was.
 *
 * @since 0.3.0 @category state
 */
export const advance = (
  previous: Backfill | undefined,
  event: WindowEvent,
  ended: { readonly outcome: Outcome; readonly records: number } | undefined,
  now: number
): Backfill | undefined => {
  const runKind = event.runKind
  const plan = event.progress
  if (runKind === undefined || !backfillKinds.has(runKind) || plan === null) return previous
  const fresh = previous === undefined || previous.finished || previous.runKind !== runKind
  const base: Backfill = fresh
    ? {
      integrationId: event.integrationId,
      label: `${runKind} of ${event.name ?? event.integrationId}`,
      runKind,
      windowsDone: plan.windowsDone,
      windowsTotal: plan.windowsTotal,
      records: 0,
      startedAt: now,
      startedDone: plan.windowsDone,
      finished: false
    }
    : { ...previous, windowsDone: Math.max(previous.windowsDone, plan.windowsDone), windowsTotal: plan.windowsTotal }
  if (ended === undefined || ended.outcome !== "committed") return base
  const windowsDone = Math.min(base.windowsTotal, Math.max(base.windowsDone, plan.windowsDone + 1))
  return {
    ...base,
    windowsDone,
    records: base.records + ended.records,
    finished: windowsDone >= base.windowsTotal
  }
}

/**
 * Records per second and seconds to go, once a second has passed (`null` before, or when no
 * window was done yet).
 *
 * @since 0.3.0 @category state
 */
export const estimate = (b: Backfill, now: number): { readonly rate: number | null; readonly eta: number | null } => {
  const seconds = (now - b.startedAt) / 1000
  if (seconds < 1) return { rate: null, eta: null }
  const windowsPerSecond = (b.windowsDone - b.startedDone) / seconds
  return {
    rate: b.records / seconds,
    eta: windowsPerSecond > 0 ? (b.windowsTotal - b.windowsDone) / windowsPerSecond : null
  }
}

/**
 * Seconds as `1h 02m`, `3m 05s`, `42s`.
 *
 * @since 0.3.0 @category formatting
 */
export const formatSeconds = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`
  return `${s}s`
}

const count = (n: number) => Math.round(n).toLocaleString("en-US")

/**
 * A backfill as one line: `history of Customer DB: 12/30 windows (40%), 5,120 records,
 * 850 records/s, ETA 21s` (`done in 1m 05s` at the end).
 *
 * @since 0.3.0 @category formatting
 */
export const describe = (b: Backfill, now: number): string => {
  const percent = b.windowsTotal === 0 ? 100 : Math.floor((100 * b.windowsDone) / b.windowsTotal)
  const { eta, rate } = estimate(b, now)
  const parts = [`${b.label}: ${b.windowsDone}/${b.windowsTotal} windows (${percent}%)`, `${count(b.records)} records`]
  if (rate !== null) parts.push(`${count(rate)} records/s`)
  if (b.finished) parts.push(`done in ${formatSeconds((now - b.startedAt) / 1000)}`)
  else if (eta !== null) parts.push(`ETA ${formatSeconds(eta)}`)
  return parts.join(", ")
}

/**
 * Where progress goes: `stream` (a terminal gets bars, anything else lines), a plain line per
 * backfill every `every`.
 *
 * @since 0.3.0 @category models
 */
export interface Output {
  readonly stream: NodeJS.WritableStream & { readonly isTTY?: boolean | undefined }
  readonly every: Duration.DurationInput
}

const tracked = Effect.gen(function*() {
  const state = yield* Ref.make(new Map<string, Backfill>())
  /** applies the event; the backfill before and after */
  const apply = (event: WindowEvent, ended: { outcome: Outcome; records: number } | undefined) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.modify(state, (map) => {
        const before = map.get(event.integrationId)
        const after = advance(before, event, ended, now)
        if (after === undefined || after === before) return [{ before, after, now }, map] as const
        const next = new Map(map)
        next.set(event.integrationId, after)
        return [{ before, after, now }, next] as const
      }))
  return { state, apply }
})

/**
 * Plain lines: one when a backfill starts and when it ends, and one per running backfill every
 * `every` in between when it moved.
 *
 * @since 0.3.0 @category layers
 */
export const layerPlain = (output: Output): Layer.Layer<ProgressReporter> =>
  Layer.scoped(
    ProgressReporter,
    Effect.gen(function*() {
      const { apply, state } = yield* tracked
      const printed = new Map<string, Backfill>()
      const write = (b: Backfill, now: number) =>
        Effect.sync(() => {
          printed.set(b.integrationId, b)
          output.stream.write(`${describe(b, now)}\n`)
        })
      yield* Effect.forkScoped(
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          for (const b of (yield* Ref.get(state)).values()) {
            if (!b.finished && printed.get(b.integrationId) !== b) yield* write(b, now)
          }
        }).pipe(Effect.repeat(Schedule.spaced(output.every)), Effect.delay(output.every))
      )
      const handle = (event: WindowEvent, ended: { outcome: Outcome; records: number } | undefined) =>
        Effect.gen(function*() {
          const { after, before, now } = yield* apply(event, ended)
          if (after === undefined || after === before) return
          const started = before === undefined || before.startedAt !== after.startedAt
          if (started || (after.finished && !(before?.finished ?? false))) yield* write(after, now)
        })
      return {
        windowStarted: (event) => handle(event, undefined),
        windowEnded: (event, outcome, records) => handle(event, { outcome, records })
      }
    })
  )

/**
 * A bar per running backfill on a terminal, redrawn in place; log lines go above the bars
 * (through `cli-progress`'s log) so they don't tear them. A finished backfill leaves its final
 * line.
 *
 * @since 0.3.0 @category layers
 */
export const layerTty = (output: Output): Layer.Layer<ProgressReporter> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const { apply, state } = yield* tracked
    const multibar = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new MultiBar({
          stream: output.stream as NodeJS.WriteStream,
          format: "{label} [{bar}] {value}/{total} windows | {records} records | {rate} records/s | ETA {eta}",
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          // NodeRuntime handles SIGINT/SIGTERM; the scope stops the bars
          gracefulExit: false,
          fps: 5
        })
      ),
      (m) => Effect.sync(() => m.stop())
    )
    const bars = new Map<string, SingleBar>()
    const payload = (b: Backfill, now: number) => {
      const { eta, rate } = estimate(b, now)
      return {
        label: b.label,
        records: count(b.records),
        rate: rate === null ? "?" : count(rate),
        eta: b.finished ? "done" : eta === null ? "?" : formatSeconds(eta)
      }
    }
    const draw = (b: Backfill, now: number) =>
      Effect.sync(() => {
        const bar = bars.get(b.integrationId)
        if (b.finished) {
          if (bar !== undefined) {
            multibar.remove(bar)
            bars.delete(b.integrationId)
          }
          if (bars.size === 0) multibar.stop()
          output.stream.write(`${describe(b, now)}\n`)
          return
        }
        if (bar === undefined) {
          bars.set(b.integrationId, multibar.create(Math.max(b.windowsTotal, 1), b.windowsDone, payload(b, now)))
        } else {
          bar.setTotal(Math.max(b.windowsTotal, 1))
          bar.update(b.windowsDone, payload(b, now))
        }
      })
    // the rate and ETA move between events too
    yield* Effect.forkScoped(
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        for (const b of (yield* Ref.get(state)).values()) if (!b.finished) yield* draw(b, now)
      }).pipe(Effect.repeat(Schedule.spaced(Duration.seconds(1))))
    )
    const handle = (event: WindowEvent, ended: { outcome: Outcome; records: number } | undefined) =>
      Effect.gen(function*() {
        const { after, before, now } = yield* apply(event, ended)
        if (after !== undefined && after !== before) yield* draw(after, now)
      })
    const logger = Logger.make<unknown, void>((options) => {
      const line = Logger.logfmtLogger.log(options)
      if (bars.size > 0) multibar.log(`${line}\n`)
      else process.stdout.write(`${line}\n`)
    })
    return Layer.merge(
      Layer.succeed(ProgressReporter, {
        windowStarted: (event) => handle(event, undefined),
        windowEnded: (event, outcome, records) => handle(event, { outcome, records })
      }),
      Logger.replace(Logger.defaultLogger, logger)
    )
  }))

/**
 * Bars on a terminal, plain lines otherwise.
 *
 * @since 0.3.0 @category layers
 */
export const layer = (output: Output = { stream: process.stderr, every: "10 seconds" }): Layer.Layer<ProgressReporter> =>
  output.stream.isTTY === true ? layerTty(output) : layerPlain(output)
