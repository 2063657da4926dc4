/**
 * The text of a result's part: what the link writes out directly must be exactly what the
 * schema's encode gives (the engine decodes it with `Domain.BatchJson`), for any batch.
 */
import { Domain } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { partText, toParts } from "../src/internal/partText.js"

const encode = Schema.encodeSync(Domain.BatchJson)
const decode = Schema.decodeUnknownSync(Domain.BatchJson)
const batches = Arbitrary.make(Domain.Batch)
/** the batch's records as the engine sees them (a key holding `undefined` is no key in JSON) */
const asJson = (batch: Domain.Batch): unknown => JSON.parse(JSON.stringify(encode(batch)))

describe("a part's text", () => {
  it("is the text Domain.BatchJson encodes, for any batch, and decodes to the same records", () => {
    FastCheck.assert(
      FastCheck.property(batches, (batch) => {
        const text = partText(batch)
        assert.strictEqual(text, JSON.stringify(encode(batch)))
        assert.deepStrictEqual(asJson(decode(JSON.parse(text))), asJson(batch))
      }),
      { numRuns: 200 }
    )
  })

  it("splits a batch into parts of at most the part size of each kind, in order", () => {
    FastCheck.assert(
      FastCheck.property(batches, FastCheck.integer({ min: 1, max: 4 }), (batch, size) => {
        const parts = toParts(batch, size).map((text) => decode(JSON.parse(text)))
        const longest = Math.max(batch.contacts.length, batch.aggregates.length, batch.statuses.length)
        assert.strictEqual(parts.length, Math.max(1, Math.ceil(longest / size)))
        for (const part of parts) {
          assert.isAtMost(Math.max(part.contacts.length, part.aggregates.length, part.statuses.length), size)
        }
        assert.deepStrictEqual(
          asJson({
            contacts: parts.flatMap((p) => p.contacts),
            aggregates: parts.flatMap((p) => p.aggregates),
            statuses: parts.flatMap((p) => p.statuses)
          }),
          asJson(batch)
        )
      }),
      { numRuns: 100 }
    )
  })
})
