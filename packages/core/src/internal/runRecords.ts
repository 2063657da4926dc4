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

/** Writes `run` with its duration measured now. @internal */
export const insertMeasured = (driver: StorageDriverShape, run: ImportRunDraft): Effect.Effect<void, StorageError> =>
  Effect.flatMap(Clock.currentTimeMillis, (written) =>
    Effect.flatMap(
      Effect.try({
        try: () => new ImportRun({ ...run, durationMs: Math.max(0, written - DateTime.toEpochMillis(run.startedAt)) }),
        catch: (cause) => StorageError.fromCause("runs.insert", cause, `import run ${run.id} is not valid: ${cause}`)
      }),
      driver.runs.insert
    ))
