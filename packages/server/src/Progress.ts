/**
 * Progress of an integration's backfill (first-connect history, re-import, resume gap), read
 * from `GET /v1/integrations/{id}/health` and shown as a progress bar on a terminal
 * (`cli-progress`) or as a plain line every few seconds when the output is not a TTY (a log
 * file, CI).
 *
 * @since 0.1.0
 */
import { SingleBar } from "cli-progress"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { AdminClient, type AdminApiError } from "./AdminClient.js"

/**
 * A backfill task of the health answer.
 *
 * @since 0.1.0 @category models
 */
export type Task = "history" | "reimport" | "gap"

/**
 * One reading of a task's progress.
 *
 * @since 0.1.0 @category models
 */
export interface Sample {
  readonly windowsDone: number
  readonly windowsTotal: number
  /** records imported by the task so far, when the server reports them */
  readonly records: number | null
  /** records per second, when the server reports it */
  readonly rate: number | null
  /** seconds to go, when the server reports it */
  readonly etaSeconds: number | null
  readonly done: boolean
  /** the integration is failing (its reason), deleted, or paused: following stops */
  readonly stopped: string | null
}

const num = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null)

/**
 * Reads a task's progress out of a health answer (`null` when the task is not there: nothing
 * to import, or it finished before this server started).
 *
 * @since 0.1.0 @category decoding
 */
export const sampleOf = (health: unknown, task: Task): Sample | null => {
  if (!Predicate.isRecord(health)) return null
  const progress = health[task]
  const status = health["status"]
  const failing = typeof health["failing"] === "string" ? health["failing"] : null
  const stopped = failing !== null
    ? `failing: ${failing}`
    : status === "deleted" || status === "paused"
    ? `the integration is ${status}`
    : null
  if (!Predicate.isRecord(progress)) return null
  const windowsDone = num(progress["windowsDone"]) ?? 0
  const windowsTotal = num(progress["windowsTotal"]) ?? 0
  const eta = num(progress["etaSeconds"]) ?? (num(progress["etaMs"]) === null ? null : num(progress["etaMs"])! / 1000)
  return {
    windowsDone,
    windowsTotal,
    records: num(progress["records"]),
    rate: num(progress["recordsPerSecond"]) ?? num(progress["rate"]),
    etaSeconds: eta,
    done: progress["done"] === true || (windowsTotal > 0 && windowsDone >= windowsTotal),
    stopped
  }
}

/**
 * Seconds as `1h 02m`, `3m 05s`, `42s`.
 *
 * @since 0.1.0 @category formatting
 */
export const formatSeconds = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`
  return `${s}s`
}

/**
 * A sample as one line: `history: 12/30 windows (40%), 5,120 records, 850 records/s, ETA 21s`.
 *
 * @since 0.1.0 @category formatting
 */
export const describe = (task: Task, sample: Sample, estimate: { readonly rate: number | null; readonly eta: number | null }) => {
  const percent = sample.windowsTotal === 0 ? 100 : Math.floor((100 * sample.windowsDone) / sample.windowsTotal)
  const parts = [`${task}: ${sample.windowsDone}/${sample.windowsTotal} windows (${percent}%)`]
  if (sample.records !== null) parts.push(`${sample.records.toLocaleString("en-US")} records`)
  const rate = sample.rate ?? estimate.rate
  if (rate !== null) parts.push(`${Math.round(rate).toLocaleString("en-US")} records/s`)
  const eta = sample.etaSeconds ?? estimate.eta
  if (sample.done) parts.push("done")
  else if (eta !== null) parts.push(`ETA ${formatSeconds(eta)}`)
  return parts.join(", ")
}

/**
 * Following ended without the task finishing.
 *
 * @since 0.1.0 @category errors
 */
export class FollowStopped extends Data.TaggedError("FollowStopped")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/**
 * Where progress goes: a terminal gets a bar redrawn in place, anything else a line per
 * `every`.
 *
 * @since 0.1.0 @category models
 */
export interface Output {
  readonly stream: NodeJS.WriteStream
  readonly every: Duration.DurationInput
}

/**
 * Polls the integration's health until `task` is done, showing its progress. Fails with
 * `FollowStopped` when the integration is failing, paused or deleted meanwhile.
 *
 * @since 0.1.0 @category programs
 */
export const follow = (
  integrationId: string,
  task: Task,
  output: Output = { stream: process.stderr, every: "5 seconds" }
): Effect.Effect<Sample | null, AdminApiError | FollowStopped, AdminClient> =>
  Effect.gen(function*() {
    const client = yield* AdminClient
    const tty = output.stream.isTTY === true
    const interval = tty ? Duration.millis(500) : Duration.decode(output.every)
    const path = `/v1/integrations/${encodeURIComponent(integrationId)}/health`
    const bar = tty
      ? new SingleBar({
        stream: output.stream,
        format: `${task} [{bar}] {value}/{total} windows | {records} records | {rate} records/s | ETA {etaText}`,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false
      })
      : undefined
    let first: { readonly at: number; readonly records: number; readonly windows: number } | undefined
    let last: Sample | null = null
    const estimate = (sample: Sample, now: number) => {
      if (first === undefined || now - first.at < 1000) return { rate: null, eta: null }
      const seconds = (now - first.at) / 1000
      const rate = sample.records === null ? null : (sample.records - first.records) / seconds
      const windowsPerSecond = (sample.windowsDone - first.windows) / seconds
      const eta = windowsPerSecond > 0 ? (sample.windowsTotal - sample.windowsDone) / windowsPerSecond : null
      return { rate, eta }
    }
    const stop = Effect.sync(() => bar?.stop())
    return yield* Effect.gen(function*() {
      for (;;) {
        const health = yield* client.request("GET", path)
        const sample = sampleOf(health, task)
        const now = yield* Clock.currentTimeMillis
        if (sample === null) {
          if (!tty) output.stream.write(`${task}: nothing to import\n`)
          return last
        }
        first ??= { at: now, records: sample.records ?? 0, windows: sample.windowsDone }
        const guess = estimate(sample, now)
        if (bar !== undefined) {
          const payload = {
            records: sample.records === null ? "?" : sample.records.toLocaleString("en-US"),
            rate: Option.fromNullable(sample.rate ?? guess.rate).pipe(Option.match({
              onNone: () => "?",
              onSome: (r) => Math.round(r).toLocaleString("en-US")
            })),
            etaText: sample.done ? "done" : Option.fromNullable(sample.etaSeconds ?? guess.eta).pipe(Option.match({
              onNone: () => "?",
              onSome: formatSeconds
            }))
          }
          if (last === null) bar.start(Math.max(sample.windowsTotal, 1), sample.windowsDone, payload)
          else {
            bar.setTotal(Math.max(sample.windowsTotal, 1))
            bar.update(sample.windowsDone, payload)
          }
        } else {
          output.stream.write(`${describe(task, sample, guess)}\n`)
        }
        last = sample
        if (sample.done) return sample
        if (sample.stopped !== null) return yield* new FollowStopped({ reason: `${task} stopped: ${sample.stopped}` })
        yield* Effect.sleep(interval)
      }
    }).pipe(Effect.ensuring(stop))
  })
