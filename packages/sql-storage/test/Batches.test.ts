import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { maxRows, statementBatches } from "../src/internal/batches.js"

describe("statementBatches", () => {
  it("keeps every item once, in order, in runs of powers of two up to the maximum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000 }), fc.constantFrom(1, 2, 8, 128), (n, max) => {
        const items = Array.from({ length: n }, (_, i) => i)
        const batches = statementBatches(items, max)
        assert.deepStrictEqual(batches.flat(), items)
        for (const b of batches) {
          assert.isAtLeast(b.length, 1)
          assert.isAtMost(b.length, max)
          assert.strictEqual(b.length & (b.length - 1), 0, `${b.length} is not a power of two`)
        }
        // at most log2(max) runs besides the full ones
        assert.isAtMost(batches.length - Math.floor(n / max), Math.log2(max))
      })
    )
  })

  it("uses few distinct sizes whatever the counts: one prepared statement per size", () => {
    const sizes = new Set<number>()
    for (let n = 0; n <= 5_000; n++) {
      for (const b of statementBatches(Array.from({ length: n }, () => 0))) sizes.add(b.length)
    }
    assert.deepStrictEqual([...sizes].sort((a, b) => a - b), [1, 2, 4, 8, 16, 32, 64, maxRows])
  })
})
