import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { sessionStream } from "../src/internal/source.js"

/**
 * The shape of `SqlConnector.pull`: a stream that opens the source in its scope, runs a
 * query stream per slice inside it, and decodes the rows in a later stage. `session` is what
 * a driver's query holds (a checked-out connection, an iterator); `source` the pool or file.
 */
const pullShape = (log: Array<string>, decode: (n: number) => Effect.Effect<number, string>) =>
  Stream.unwrapScoped(Effect.gen(function*() {
    yield* Effect.acquireRelease(Effect.void, () => Effect.sync(() => log.push("source closed")))
    const sourceScope = yield* Effect.scope
    const rows = sessionStream(
      sourceScope,
      Effect.map(
        Effect.acquireRelease(Effect.void, () => Effect.sync(() => log.push("session closed"))),
        () => Stream.iterate(1, (n) => n + 1)
      )
    )
    return Stream.fromIterable([1, 2]).pipe(Stream.flatMap(() => rows), Stream.mapEffect(decode))
  }))

describe("sessionStream", () => {
  it.effect("a later stage failing: the session is closed before the source", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const error = yield* Effect.flip(
        Stream.runDrain(pullShape(log, (n) => n === 300 ? Effect.fail("row 300 can't be decoded") : Effect.succeed(n)))
      )
      assert.strictEqual(error, "row 300 can't be decoded")
      assert.deepStrictEqual(log, ["session closed", "source closed"])
    }))

  it.effect("the consumer stopping early, and an interruption: the session is closed before the source", () =>
    Effect.gen(function*() {
      const early: Array<string> = []
      const taken = yield* Stream.runCollect(Stream.take(pullShape(early, Effect.succeed), 3))
      assert.deepStrictEqual(Chunk.toReadonlyArray(taken), [1, 2, 3])
      assert.deepStrictEqual(early, ["session closed", "source closed"])

      const interrupted: Array<string> = []
      const fiber = yield* Effect.fork(Stream.runDrain(pullShape(interrupted, (n) => Effect.as(Effect.yieldNow(), n))))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(interrupted, ["session closed", "source closed"])
    }))

  it.effect("the session's resources are released once, whichever scope closes first", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      yield* Effect.flip(Stream.runDrain(pullShape(log, () => Effect.fail("bad row"))))
      assert.strictEqual(log.filter((l) => l === "session closed").length, 1)
    }))
})
