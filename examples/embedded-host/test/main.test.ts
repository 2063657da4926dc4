import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { HostLayer, program } from "../src/main.js"

it.effect("the embedding example buckets three contacts into two Berlin quarter-hours", () =>
  Effect.gen(function*() {
    const rows = yield* program
    assert.deepStrictEqual(
      rows.map((r) => [r.start, r.end, r.offered, r.handled, r.ahtSeconds]),
      [
        ["2026-03-02T10:00:00+01:00", "2026-03-02T10:15:00+01:00", 2, 2, 200.1],
        ["2026-03-02T10:15:00+01:00", "2026-03-02T10:30:00+01:00", 1, 1, 200.1]
      ]
    )
  }).pipe(Effect.provide(HostLayer)))
