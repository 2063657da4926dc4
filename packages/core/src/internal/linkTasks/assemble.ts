/**
 * A link's uploaded result put back together: its parts in order, every one present, the
 * record count as committed, each part a valid batch.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Batch } from "../../Domain.js"
import { BatchJson } from "../../Domain.js"
import { InvalidRequest } from "../../Errors.js"
import type { LinkTask } from "../../LinkModel.js"
import { ResultIncomplete } from "../../LinkModel.js"
import type { StorageShape } from "../../Storage.js"
import { addBatch, emptyCollected } from "../scheduler/windows.js"
import type { CommitInput } from "./model.js"

const decodeBatch = Schema.decodeUnknown(BatchJson)

/**
 * The parts this engine process decoded when they were uploaded, with the text it stored: a
 * part whose stored text is still that text needs no second parse and decode at its commit.
 */
export interface DecodedParts {
  readonly get: (taskId: string, resultId: string, n: number) => { readonly body: string; readonly batch: Batch } | undefined
}

/**
 * The uploaded parts as one batch, or why they don't add up. A part is decoded from its stored
 * text unless `decoded` holds it for that very text (another engine process, or a repeated
 * upload, may have stored another).
 */
export const assemble = (storage: StorageShape, task: LinkTask, input: CommitInput, decoded?: DecodedParts) =>
  Effect.gen(function*() {
    const parts = yield* storage.linkTasks.parts(task.id, input.resultId)
    const missing: Array<number> = []
    for (let n = 0, i = 0; n < input.parts; n++) {
      if (parts[i]?.n === n) i++
      else missing.push(n)
    }
    if (missing.length > 0) {
      return yield* new ResultIncomplete({
        taskId: task.id,
        reason: `part${missing.length === 1 ? "" : "s"} ${missing.slice(0, 10).join(", ")}${
          missing.length > 10 ? ", …" : ""
        } of ${input.parts} ${missing.length === 1 ? "is" : "are"} missing: upload ${
          missing.length === 1 ? "it" : "them"
        } and commit again`
      })
    }
    const wanted = parts.filter((p) => p.n < input.parts)
    const records = wanted.reduce((n, p) => n + p.records, 0)
    if (records !== input.records) {
      return yield* new ResultIncomplete({
        taskId: task.id,
        reason: `the parts hold ${records} records, the commit says ${input.records}`
      })
    }
    const collected = emptyCollected()
    for (const part of wanted) {
      const kept = decoded?.get(task.id, input.resultId, part.n)
      if (kept !== undefined && kept.body === part.body) {
        addBatch(collected, kept.batch)
        continue
      }
      const batch = yield* Effect.try({
        try: () => JSON.parse(part.body) as unknown,
        catch: () => new InvalidRequest({ field: `parts.${part.n}`, reason: "is not JSON" })
      }).pipe(
        Effect.flatMap((json) =>
          Effect.mapError(
            decodeBatch(json),
            (e) => new InvalidRequest({ field: `parts.${part.n}`, reason: e.message.split("\n")[0] ?? "is invalid" })
          )
        )
      )
      addBatch(collected, batch)
    }
    return collected
  })
