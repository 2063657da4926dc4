/**
 * Import runs written with the data they describe: the run is the last write of its unit of
 * work, and its duration runs from its start to that write, by the store's `Clock` (the
 * commit that follows can't be measured from inside the unit it ends).
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type { IntegrationId } from "../Domain.js"
import { ImportRun } from "../Domain.js"
import { StorageError } from "../Errors.js"
import type { ImportRunDraft, ImportRunStart } from "../Storage.js"
import type { StorageDriverShape } from "../StorageDriver.js"

/** @internal */
export const resumeRunRecord = (integrationId: IntegrationId, run: ImportRunStart, applied: number): ImportRunDraft => ({
  id: run.id,
  integrationId,
  kind: "resume",
  windowStart: null,
  windowEnd: null,
  read: applied,
  applied,
  rejected: 0,
  startedAt: run.startedAt,
  error: null,
  problems: []
})

const counts = ["read", "applied", "rejected"] as const

/**
 * Writes `run` with its duration measured now. The draft's ids, kind and instants are values
 * of their own schemas already (its type says so); what a caller computes are the counts, so
 * those are checked here, and the run is made without validating every field again (a
 * `Schema.Class` check of the whole run was ≈ 0.3 ms, a tenth of the engine's CPU per batch).
 * @internal
 */
export const insertMeasured = (driver: StorageDriverShape, run: ImportRunDraft): Effect.Effect<void, StorageError> =>
  Effect.flatMap(Clock.currentTimeMillis, (written) => {
    const invalid = counts.find((field) => !Number.isSafeInteger(run[field]) || run[field] < 0)
    if (invalid !== undefined) {
      return Effect.fail(
        new StorageError({
          operation: "runs.insert",
          reason: `import run ${run.id} is not valid: ${invalid} must be a whole number >= 0, got ${run[invalid]}`
        })
      )
    }
    const durationMs = Math.max(0, written - DateTime.toEpochMillis(run.startedAt))
    return driver.runs.insert(new ImportRun({ ...run, durationMs }, true))
  })
