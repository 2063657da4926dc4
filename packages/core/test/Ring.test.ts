import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Ring from "../src/internal/ring.js"

describe("Ring", () => {
  it("keeps the latest `capacity` items, oldest first, as an array trimmed from the front does", () => {
    fc.assert(
      fc.property(fc.nat({ max: 12 }), fc.array(fc.array(fc.integer(), { maxLength: 15 }), { maxLength: 20 }), (capacity, pushes) => {
        const ring = Ring.make<number>(capacity)
        const expected: Array<number> = []
        for (const batch of pushes) {
          for (const item of batch) Ring.push(ring, item)
          expected.push(...batch)
          expected.splice(0, Math.max(0, expected.length - capacity))
          assert.deepStrictEqual(Array.from(Ring.values(ring)), expected)
          assert.strictEqual(Ring.oldest(ring), expected[0])
          assert.strictEqual(ring.length, expected.length)
        }
      })
    )
  })

  it("holds at most `capacity` items however many arrive", () => {
    const ring = Ring.make<number>(3)
    for (let i = 0; i < 10_000; i++) Ring.push(ring, i)
    assert.deepStrictEqual(Array.from(Ring.values(ring)), [9_997, 9_998, 9_999])
    assert.strictEqual(ring.items.length, 3)
  })
})
