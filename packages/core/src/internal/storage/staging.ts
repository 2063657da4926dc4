/**
 * Batches pushed while an integration is paused: kept as `Domain.BatchJson` text (any driver can
 * store a string), bounded by the caller's limit, applied in arrival order by resume.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Batch, Integration } from "../../Domain.js"
import { batchSize, BatchJson } from "../../Domain.js"
import { StagingFull, StorageError } from "../../Errors.js"
import type { StorageDriverShape } from "../../StorageDriver.js"

const encode = Schema.encode(BatchJson)
const decode = Schema.decodeUnknown(BatchJson)

/** Stages `batch` unless the integration's staged records would pass `limit`. */
export const stage = (
  driver: StorageDriverShape,
  integration: Integration,
  batch: Batch,
  limit: number,
  now: number
): Effect.Effect<void, StagingFull | StorageError> =>
  Effect.gen(function*() {
    const records = batchSize(batch)
    yield* driver.lock("staging", integration.id, "exclusive")
    const held = yield* driver.staging.held(integration.id)
    if (held + records > limit) {
      return yield* new StagingFull({ integrationId: integration.id, limit, retryAfterSeconds: 60 })
    }
    const json = yield* Effect.mapError(
      encode(batch),
      (cause) => StorageError.fromCause("stage a batch", cause, `the batch does not encode: ${cause.message}`)
    )
    yield* driver.staging.append(integration.id, { records, body: JSON.stringify(json), at: now })
  })

/** The integration's staged batches, oldest first. */
export const staged = (driver: StorageDriverShape, integration: Integration) =>
  Effect.flatMap(driver.staging.list(integration.id), (bodies) =>
    Effect.forEach(bodies, (body) =>
      Effect.try({ try: (): unknown => JSON.parse(body), catch: (cause) => cause }).pipe(
        Effect.flatMap((json) => decode(json)),
        Effect.mapError((cause) =>
          StorageError.fromCause("read staged batches", cause, `a staged batch does not decode: ${String(cause)}`)
        )
      )))
