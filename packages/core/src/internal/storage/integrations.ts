/**
 * The state changes of an integration — pause, resume, failing mark, config, delete — each in
 * one transaction that reads the row (locked where the driver locks rows) and writes it back
 * with a compare-and-set on its version, so no change is ever lost to another one: a pause and
 * a concurrent failing mark both land, or the one made on a stale read does not.
 */
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { IntegrationId, Queue } from "../../Domain.js"
import { batchSize, Integration } from "../../Domain.js"
import { IntegrationDeleted, IntegrationNotFound, StorageError, VersionConflict } from "../../Errors.js"
import type { IntegrationSettings, ImportRunStart } from "../../Storage.js"
import type { RowLock, StorageDriverShape } from "../../StorageDriver.js"
import type * as ApplyBatch from "./applyBatch.js"
import { insertMeasured, resumeRunRecord } from "../runRecords.js"
import { staged } from "./staging.js"

/** The row changed between the read and the compare-and-set (a driver without row locks). */
class VersionMoved extends Data.TaggedError("VersionMoved")<{ readonly integrationId: IntegrationId }> {}

type Fields = Partial<
  Pick<Integration, "status" | "failing" | "config" | "deletedAt" | "name" | "schedule" | "timezone" | "historyDepthDays">
>

export const make = (
  driver: StorageDriverShape,
  apply: ReturnType<typeof ApplyBatch.make>
) => {
  const find = (id: IntegrationId, lock: RowLock) =>
    Effect.flatMap(
      driver.integrations.get(id, lock),
      Option.match({
        onNone: () => Effect.fail(new IntegrationNotFound({ integrationId: id })),
        onSome: Effect.succeed
      })
    )

  /** `current` with `fields` changed at `at`, written if nobody changed it since it was read. */
  const write = (current: Integration, fields: Fields, at: number) => {
    const next = new Integration({
      ...current,
      ...fields,
      updatedAt: DateTime.unsafeMake(at),
      version: current.version + 1
    })
    return Effect.flatMap(
      driver.integrations.update(next, current.version),
      (done) => (done ? Effect.succeed(next) : Effect.fail(new VersionMoved({ integrationId: current.id })))
    )
  }

  /**
   * One state change as one transaction; when the version moved under it (only possible with
   * a driver that doesn't lock the row), the whole change is made again on a fresh read.
   */
  const change = <A, E>(operation: string, effect: Effect.Effect<A, E | VersionMoved | StorageError>) =>
    driver.transaction(effect).pipe(
      Effect.retry({ while: (e) => e instanceof VersionMoved, times: 4 }),
      Effect.catchIf(
        (e): e is VersionMoved => e instanceof VersionMoved,
        (e) =>
          Effect.fail(
            new StorageError({
              operation,
              reason: `integration ${e.integrationId} kept changing while ${operation} wrote it`
            })
          )
      )
    )

  const pause = (id: IntegrationId, at: number) =>
    change(
      "integrations.pause",
      Effect.gen(function*() {
        const current = yield* find(id, "update")
        if (current.status === "deleted") return yield* new IntegrationDeleted({ integrationId: id })
        if (current.status === "paused") return current
        return yield* write(current, { status: "paused" }, at)
      })
    )

  const markFailing = (
    id: IntegrationId,
    reason: string | null,
    at: number,
    options: { readonly ifVersion?: number | undefined } = {}
  ) =>
    change(
      "integrations.markFailing",
      Effect.gen(function*() {
        const found = yield* driver.integrations.get(id, "update")
        if (Option.isNone(found)) return Option.none<Integration>()
        const current = found.value
        if (current.status === "deleted") return Option.none<Integration>()
        if (options.ifVersion !== undefined && current.version !== options.ifVersion) return Option.none<Integration>()
        // the mark it already has: no write, so the version stays
        if (current.failing === reason) return Option.none<Integration>()
        return Option.some(yield* write(current, { failing: reason }, at))
      })
    )

  const setConfig = (id: IntegrationId, config: unknown, at: number) =>
    change(
      "integrations.setConfig",
      Effect.flatMap(find(id, "update"), (current) => write(current, { config, failing: null }, at))
    )

  const update = (
    id: IntegrationId,
    settings: IntegrationSettings,
    at: number,
    options: { readonly ifVersion?: number | undefined } = {}
  ) =>
    change(
      "integrations.update",
      Effect.gen(function*() {
        const current = yield* find(id, "update")
        if (current.status === "deleted") return yield* new IntegrationDeleted({ integrationId: id })
        if (options.ifVersion !== undefined && current.version !== options.ifVersion) {
          return yield* new VersionConflict({ integrationId: id, expected: options.ifVersion, actual: current.version })
        }
        const fields: Record<string, unknown> = {}
        for (const key of ["name", "config", "schedule", "timezone", "historyDepthDays"] as const) {
          if (settings[key] !== undefined) fields[key] = settings[key]
        }
        if (Object.keys(fields).length === 0) return current
        if (settings.config !== undefined) fields["failing"] = null
        return yield* write(current, fields as Fields, at)
      })
    )

  const markDeleted = (id: IntegrationId, at: number) =>
    change(
      "integrations.markDeleted",
      Effect.gen(function*() {
        const current = yield* find(id, "update")
        const deleted = current.status === "deleted"
          ? current
          : yield* write(current, { status: "deleted", deletedAt: DateTime.unsafeMake(at) }, at)
        yield* driver.apiKeys.revokeLive(id, at)
        yield* driver.staging.clear(id)
        return deleted
      })
    )

  const resume = (id: IntegrationId, at: number, run?: ImportRunStart | undefined) =>
    change(
      "integrations.resume",
      Effect.gen(function*() {
        const current = yield* find(id, "update")
        if (current.status === "deleted") return yield* new IntegrationDeleted({ integrationId: id })
        const batches = yield* staged(driver, current)
        const applied = batches.reduce((n, b) => n + batchSize(b), 0)
        if (current.status === "active" && batches.length === 0) {
          return { integration: current, applied: 0, createdQueues: [] as ReadonlyArray<Queue> }
        }
        // the data is written as of the active integration it becomes
        const active = current.status === "active" ? current : yield* write(current, { status: "active" }, at)
        const createdQueues: Array<Queue> = []
        for (const batch of batches) createdQueues.push(...(yield* apply(active, batch, at)).createdQueues)
        yield* driver.staging.clear(id)
        // last, so its duration covers the data, and its failure undoes all of it
        if (run && applied > 0) yield* insertMeasured(driver, resumeRunRecord(id, run, applied))
        return { integration: active, applied, createdQueues: createdQueues as ReadonlyArray<Queue> }
      })
    )

  return { find, pause, resume, markFailing, setConfig, update, markDeleted }
}
