/**
 * `data.ingest`: one transaction that reads the integration, honours an idempotency key,
 * stages the batch while paused (or refuses a pull), applies it otherwise, and commits its
 * watermark, its idempotency record and its import run with it.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { batchSize } from "../../Domain.js"
import {
  CursorsMoved,
  IdempotencyKeyReused,
  IntegrationDeleted,
  IntegrationNotActive,
  OwnershipLost
} from "../../Errors.js"
import type { IngestOutcome, IngestRequest } from "../../Storage.js"
import type { StorageDriverShape } from "../../StorageDriver.js"
import type * as ApplyBatch from "./applyBatch.js"
import type * as Integrations from "./integrations.js"
import { insertMeasured } from "../runRecords.js"
import { stage } from "./staging.js"

export const make = (
  driver: StorageDriverShape,
  apply: ReturnType<typeof ApplyBatch.make>,
  integrations: ReturnType<typeof Integrations.make>
) =>
(request: IngestRequest) =>
  driver.transaction(Effect.gen(function*() {
    // read shared: a pause, resume or delete waits for the batches in flight
    const integration = yield* integrations.find(request.integrationId, "share")
    if (integration.status === "deleted") {
      return yield* new IntegrationDeleted({ integrationId: integration.id })
    }
    if (request.fence) {
      // exclusive: a takeover's move of the lease waits for this unit of work, or this one sees it
      yield* driver.lock("cursors", integration.id, "exclusive")
      const current = yield* driver.cursors.get(integration.id, request.fence.stream)
      if (Option.getOrNull(current) !== request.fence.epoch) {
        return yield* new OwnershipLost({
          integrationId: integration.id,
          stream: request.fence.stream,
          held: request.fence.epoch,
          current: Option.getOrNull(current)
        })
      }
    }
    const expected = request.expectedCursors
    if (expected) {
      // exclusive: another writer's cursors (a re-import asked on another node) wait for this
      // unit of work, or this one sees them and applies nothing
      yield* driver.lock("cursors", integration.id, "exclusive")
      const current = yield* driver.cursors.list(integration.id)
      if (Array.from(expected).some(([stream, value]) => current.get(stream) !== value)) {
        return yield* new CursorsMoved({ integrationId: integration.id })
      }
    }
    const accepted = batchSize(request.batch)
    const idempotency = request.idempotency
    if (idempotency) {
      yield* driver.lock("idempotency", `${integration.id}|${idempotency.key}`, "exclusive")
      const previous = yield* driver.idempotency.get(integration.id, idempotency.key)
      if (Option.isSome(previous) && previous.value.at + idempotency.ttlMs > request.now) {
        if (previous.value.requestHash !== idempotency.requestHash) {
          return yield* new IdempotencyKeyReused({ key: idempotency.key })
        }
        return {
          _tag: "Replayed",
          accepted: previous.value.accepted,
          outcome: previous.value.outcome
        } satisfies IngestOutcome
      }
    }
    const remember = (outcome: "Applied" | "Staged") =>
      idempotency
        ? driver.idempotency.put(
          integration.id,
          idempotency.key,
          { requestHash: idempotency.requestHash, at: request.now, accepted, outcome },
          request.now - idempotency.ttlMs
        )
        : Effect.void

    if (integration.status === "paused") {
      if (request.mode === "pull") {
        return yield* new IntegrationNotActive({ integrationId: integration.id, status: "paused" })
      }
      yield* stage(driver, integration, request.batch, request.stagingLimit, request.now)
      yield* remember("Staged")
      return { _tag: "Staged", accepted } satisfies IngestOutcome
    }

    const result = yield* apply(integration, request.batch, request.now, request.replaceWindow)
    if (request.watermark) {
      yield* driver.lock("cursors", integration.id, "shared")
      yield* driver.cursors.set(integration.id, request.watermark.stream, request.watermark.value)
    }
    yield* remember("Applied")
    // last, so its duration covers the data, and its failure undoes all of it
    if (request.run) yield* insertMeasured(driver, request.run)
    return {
      _tag: "Applied",
      accepted,
      createdQueues: result.createdQueues,
      statusesApplied: result.statuses
    } satisfies IngestOutcome
  }))
