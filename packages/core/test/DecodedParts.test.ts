/**
 * The cache of parts `LinkTasks` decoded at their upload: bounded in records, the oldest
 * task's parts dropped first, a repeated part replacing (not adding to) the count.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { Batch } from "../src/Domain.js"
import * as DecodedParts from "../src/internal/linkTasks/decodedParts.js"

const batch: Batch = { contacts: [], aggregates: [], statuses: [] }

describe("decoded parts", () => {
  it.effect("keeps parts up to the limit, drops the oldest task's first, replaces a repeated part", () =>
    Effect.gen(function*() {
      const cache = DecodedParts.make(100)
      const has = (task: string, n: number) => cache.decoded.get(task, "r", n) !== undefined
      yield* cache.keep("a", "r", 0, "a0", batch, 40)
      yield* cache.keep("a", "r", 1, "a1", batch, 40)
      yield* cache.keep("b", "r", 0, "b0", batch, 20)
      assert.deepStrictEqual([has("a", 0), has("a", 1), has("b", 0)], [true, true, true])
      assert.strictEqual(cache.decoded.get("a", "r", 1)?.body, "a1")
      // a repeat of part 1 replaces it: 40 + 30 + 20 = 90, nothing dropped
      yield* cache.keep("a", "r", 1, "a1 again", batch, 30)
      assert.strictEqual(cache.decoded.get("a", "r", 1)?.body, "a1 again")
      assert.isTrue(has("b", 0))
      // 90 + 20 > 100: the oldest task (a) goes whole, the newer ones stay
      yield* cache.keep("c", "r", 0, "c0", batch, 20)
      assert.deepStrictEqual([has("a", 0), has("a", 1), has("b", 0), has("c", 0)], [false, false, true, true])
      // another result id is another part
      assert.isUndefined(cache.decoded.get("b", "other", 0))
      // a part over the whole limit is never kept, and drops nothing
      yield* cache.keep("d", "r", 0, "d0", batch, 101)
      assert.deepStrictEqual([has("b", 0), has("c", 0), has("d", 0)], [true, true, false])
      // forgotten tasks free their records: 60 more fit beside c's 20
      yield* cache.forget("b")
      yield* cache.keep("e", "r", 0, "e0", batch, 80)
      assert.deepStrictEqual([has("b", 0), has("c", 0), has("e", 0)], [false, true, true])
    }))

  it.effect("a limit of 0 keeps nothing", () =>
    Effect.gen(function*() {
      const cache = DecodedParts.make(0)
      yield* cache.keep("a", "r", 0, "a0", batch, 1)
      assert.isUndefined(cache.decoded.get("a", "r", 0))
    }))
})
