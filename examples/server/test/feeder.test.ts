import { assert, describe, it } from "vitest"
import { dwellSeconds } from "../src/feeder.js"

/** A seeded generator, so the figures are the same on every run. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe("the demo feeder's agents", () => {
  it("stay in an activity as long as agents do: minutes of talk, about a minute of after-call work, long breaks", () => {
    const random = seeded(42)
    const sample = (activity: string) => Array.from({ length: 2_000 }, () => dwellSeconds(activity, random))
    const talk = sample("TALK")
    assert.isAtLeast(median(talk), 180)
    assert.isAtMost(median(talk), 300)
    assert.isAtLeast(Math.min(...talk), 20)
    const acw = sample("ACW")
    assert.isAtLeast(median(acw), 45)
    assert.isAtMost(median(acw), 90)
    assert.isAtLeast(Math.min(...sample("BREAK")), 600)
    assert.isAtLeast(Math.min(...sample("LUNCH")), 1800)
    // nobody flips state every few seconds (the old demo: ~14 s in any state)
    for (const activity of ["READY", "TALK", "ACW", "BREAK", "LUNCH", "TRAINING"]) {
      assert.isAtLeast(median(sample(activity)), 30, activity)
    }
  })
})
