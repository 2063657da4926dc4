/**
 * An integration's import health, from what storage keeps (cursors, runs, the failing mark)
 * and what this scheduler's fiber is doing (waiting out a backoff or a rate limit).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ImportRun, ImportRunKind, TenantId } from "../../Domain.js"
import type { BackfillProgress, Health, Task } from "../../Scheduler.js"
import * as Plan from "../schedulePlan.js"
import type { Deps } from "./context.js"
import { timingOf, toUtc, viaLink } from "./context.js"
import type { Operator } from "./operator.js"
import * as Retry from "./retry.js"
import type { Running } from "./running.js"
import type { Supervisor } from "./supervisor.js"

const taskNames: Record<Task, string> = {
  incremental: "incremental import",
  history: "history import",
  gap: "gap import",
  reimport: "re-import",
  realtime: "realtime stream"
}

/**
 * Said of an on-premise integration this engine leaves to a link agent: nothing else would
 * tell an operator why it never imports.
 *
 * @internal
 */
export const waitingForLinkWarning = "waiting for a link: this engine does not run on-premise integrations; a link " +
  "agent next to the source runs them (or run the engine with the on-premise delivery mode)"

const progressOf = (
  range: { readonly from: number; readonly to: number; readonly remaining: number },
  chunkMs: number,
  runs: ReadonlyArray<ImportRun>,
  kind: ImportRunKind
): BackfillProgress => {
  const total = range.to > range.from ? Math.ceil((range.to - range.from) / chunkMs) : 0
  const left = range.remaining > 0 ? Math.ceil(range.remaining / chunkMs) : 0
  // the range's windows among the recent runs: their records, and the pace they went at
  const windows = runs.filter((r) =>
    r.kind === kind && r.error === null && r.windowStart !== null &&
    DateTime.toEpochMillis(r.windowStart) >= range.from && DateTime.toEpochMillis(r.windowStart) < range.to
  )
  const records = windows.reduce((n, r) => n + r.applied, 0)
  const starts = windows.map((r) => DateTime.toEpochMillis(r.startedAt))
  const ends = windows.map((r) => DateTime.toEpochMillis(r.startedAt) + r.durationMs)
  const spanMs = windows.length >= 2 ? Math.max(...ends) - Math.min(...starts) : 0
  const done = range.remaining <= 0
  return {
    from: toUtc(range.from),
    to: toUtc(range.to),
    done,
    windowsDone: total - left,
    windowsTotal: total,
    remainingMs: Math.max(0, range.remaining),
    records,
    recordsPerSecond: spanMs > 0 ? Math.round((records / (spanMs / 1_000)) * 10) / 10 : null,
    etaSeconds: !done && spanMs > 0 ? Math.ceil((left * spanMs) / windows.length / 1_000) : null
  }
}

export const make = (deps: Deps, running: Running, supervisor: Supervisor, operator: Operator) => {
  const { options, registry, storage } = deps

  return Effect.fn("Scheduler.health")(
    function*(tenantId: TenantId, id: string) {
      const integration = yield* operator.find(tenantId, id)
      const cursors = yield* storage.cursors.list(integration.id)
      const runs = yield* storage.runs.list(integration.id, 200)
      const now = yield* Clock.currentTimeMillis
      const state = yield* running.stateOf(integration.id)
      const registered = yield* Effect.option(registry.get(integration.connector))
      const timing = Option.isSome(registered) ? timingOf(options, integration, registered.value) : undefined
      const chunkMs = options.chunkMs
      const watermark = cursors.get(Plan.streams.incremental)
      const hist = Plan.history(cursors)
      const completeUntil = Plan.completeUntil(cursors)
      const lagMs = completeUntil === undefined ? null : Math.max(0, now - completeUntil)
      const streak = Retry.streakOf(cursors)
      const lastError = runs.find((r) => r.error !== null)?.error ?? null
      const waiting = state?._tag === "Waiting" && state.until > now ? state : undefined
      const rateLimited = waiting?.rateLimited !== undefined ? waiting : undefined
      const warnings: Array<string> = []
      let stalled = false
      const noLinkHere = deps.links === undefined && integration.status !== "deleted" &&
        integration.deliveryMode === "on-premise" && !options.deliveryModes.includes("on-premise")
      if (noLinkHere) warnings.push(waitingForLinkWarning)
      if (integration.failing !== null) warnings.push(`failing: ${integration.failing}`)
      else if (streak) {
        warnings.push(
          `retrying: ${streak.attempts} attempts failed in a row since ${
            DateTime.formatIso(toUtc(streak.since))
          }${lastError ? ` (last error: ${lastError})` : ""}`
        )
      }
      if (rateLimited?.rateLimited !== undefined) {
        warnings.push(
          `rate limited by the source until ${DateTime.formatIso(toUtc(rateLimited.until))} (${
            taskNames[rateLimited.rateLimited]
          })`
        )
      }
      let linkWaitSince: number | null = null
      if (deps.links !== undefined && viaLink(deps, integration) && integration.status === "active") {
        const open = yield* deps.links.openTask(integration.id)
        if (Option.isSome(open)) {
          const task = open.value
          if (task.state === "pending") linkWaitSince = task.updatedAt
          else if (task.leaseUntil !== null && task.leaseUntil <= now) linkWaitSince = task.leaseUntil
        }
        if (linkWaitSince !== null) {
          warnings.push(
            `waiting for a link: a window has been offered since ${
              DateTime.formatIso(toUtc(linkWaitSince))
            } and no link holds it (is a link of this tenant running, with this integration in its configuration?)`
          )
        }
      }
      if (integration.status === "active" && timing && completeUntil !== undefined && lagMs !== null) {
        const threshold = Math.max(options.stallAfterMs, 2 * timing.cadence * 60_000 + timing.settleMs)
        if (lagMs > threshold) {
          const due = completeUntil + timing.cadence * 60_000 + timing.settleMs
          const since = runs.filter((r) =>
            (r.kind === "pull" || r.kind === "resume") && DateTime.toEpochMillis(r.startedAt) >= due
          )
          const reading = since.filter((r) => r.read > 0)
          const after = DateTime.formatIso(toUtc(completeUntil))
          if (reading.length > 0) {
            stalled = true
            warnings.push(
              `stalled: ${reading.length} runs read ${
                reading.reduce((n, r) => n + r.read, 0)
              } records but nothing is imported after ${after}${
                reading[0]!.error ? ` (last error: ${reading[0]!.error})` : ""
              }`
            )
          } else {
            const error = since.find((r) => r.error !== null)?.error
            warnings.push(
              `lagging: nothing imported after ${after} for ${Math.round(lagMs / 60_000)} minutes${
                error ? ` (last error: ${error})` : ""
              }`
            )
          }
        }
      }
      const rangeProgress = (names: typeof Plan.gapNames | typeof Plan.reimportNames, kind: ImportRunKind) => {
        const from = cursors.get(names.from)
        const next = cursors.get(names.next)
        const to = cursors.get(names.to)
        if (from === undefined || next === undefined || to === undefined) return null
        return progressOf({ from, to, remaining: to - Math.max(next, from) }, chunkMs, runs, kind)
      }
      const lastFailed = runs.find((r) => r.error !== null)
      const lastSucceeded = runs.find((r) => r.error === null)
      const newestError = lastFailed !== undefined &&
          (lastSucceeded === undefined ||
            DateTime.toEpochMillis(lastFailed.startedAt) >= DateTime.toEpochMillis(lastSucceeded.startedAt))
        ? { at: lastFailed.startedAt, kind: lastFailed.kind, message: lastFailed.error! }
        : null
      return {
        integrationId: integration.id,
        status: integration.status,
        failing: integration.failing,
        scheduled: supervisor.isScheduled(integration.id),
        waitingForLink: noLinkHere || linkWaitSince !== null,
        waitingForLinkSince: linkWaitSince === null ? null : toUtc(linkWaitSince),
        watermark: watermark === undefined ? null : toUtc(watermark),
        completeUntil: completeUntil === undefined ? null : toUtc(completeUntil),
        lagMs,
        stalled,
        warnings,
        retrying: streak
          ? {
            attempts: streak.attempts,
            since: toUtc(streak.since),
            nextAttemptAt: waiting?.backoff ? toUtc(waiting.until) : null,
            lastError
          }
          : null,
        rateLimitedUntil: rateLimited ? toUtc(rateLimited.until) : null,
        history: hist
          ? progressOf(
            { from: hist.from, to: hist.cutoff, remaining: (hist.low - hist.from) + (hist.cutoff - hist.high) },
            chunkMs,
            runs,
            "history"
          )
          : null,
        gap: rangeProgress(Plan.gapNames, "resume"),
        reimport: rangeProgress(Plan.reimportNames, "reimport"),
        realtimePosition: cursors.get(Plan.streams.realtime) ?? null,
        lastRun: runs[0] ?? null,
        lastError: newestError
      } satisfies Health
    }
  )
}
