/** The history progress of `acd-link run`: plain lines off a terminal, bars on one. */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { PassThrough } from "node:stream"
import * as Progress from "../src/Progress.js"
import { ProgressReporter, type WindowEvent } from "../src/ProgressEvents.js"

const capture = (tty: boolean) => {
  const stream = new PassThrough()
  let text = ""
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()))
  // what cli-progress looks at on a terminal
  const output = Object.assign(stream, { isTTY: tty, columns: 160, rows: 40 }) as unknown as NodeJS.WriteStream
  return { stream: output, text: () => text }
}

const history = (windowsDone: number, windowsTotal = 4): WindowEvent => ({
  integrationId: "int-1",
  name: "Customer DB",
  runKind: "history",
  progress: { windowsDone, windowsTotal }
})

describe("Progress", () => {
  it("advance counts committed windows and records of one backfill; other kinds leave it alone", () => {
    let b = Progress.advance(undefined, history(0), undefined, 0)
    assert.deepStrictEqual([b?.windowsDone, b?.windowsTotal, b?.records, b?.finished], [0, 4, 0, false])
    b = Progress.advance(b, history(0), { outcome: "committed", records: 100 }, 1_000)
    b = Progress.advance(b, history(1), { outcome: "parked", records: 50 }, 2_000)
    assert.deepStrictEqual([b?.windowsDone, b?.records], [1, 100])
    const pull = Progress.advance(b, { ...history(0), runKind: "pull" }, { outcome: "committed", records: 7 }, 3_000)
    assert.strictEqual(pull, b)
    b = Progress.advance(b, history(3), { outcome: "committed", records: 300 }, 4_000)
    assert.deepStrictEqual([b?.windowsDone, b?.records, b?.finished], [4, 400, true])
    // a later re-import starts a backfill of its own
    const again = Progress.advance(b, { ...history(0, 2), runKind: "reimport" }, undefined, 5_000)
    assert.deepStrictEqual([again?.label, again?.windowsTotal, again?.records, again?.startedAt], [
      "reimport of Customer DB",
      2,
      0,
      5_000
    ])
  })

  it("describe: windows, records, rate and ETA; done with its time", () => {
    const b: Progress.Backfill = {
      integrationId: "i",
      label: "history of Genesys",
      runKind: "history",
      windowsDone: 12,
      windowsTotal: 30,
      records: 51_200,
      startedAt: 0,
      startedDone: 2,
      finished: false
    }
    assert.strictEqual(Progress.describe(b, 500), "history of Genesys: 12/30 windows (40%), 51,200 records")
    // 10 windows in 20 s: 18 to go take 36 s
    assert.strictEqual(
      Progress.describe(b, 20_000),
      "history of Genesys: 12/30 windows (40%), 51,200 records, 2,560 records/s, ETA 36s"
    )
    assert.strictEqual(
      Progress.describe({ ...b, windowsDone: 30, finished: true }, 65_000),
      "history of Genesys: 30/30 windows (100%), 51,200 records, 788 records/s, done in 1m 05s"
    )
    assert.strictEqual(Progress.formatSeconds(3_725), "1h 02m")
  })

  it.scoped("off a terminal: a line at the start, one per period while it moves, one at the end", () =>
    Effect.gen(function*() {
      const out = capture(false)
      const ctx = yield* Layer.build(Progress.layer({ stream: out.stream, every: "10 seconds" }))
      const reporter = yield* Effect.provide(ProgressReporter, ctx)
      yield* reporter.windowStarted(history(0))
      yield* TestClock.adjust("2 seconds")
      yield* reporter.windowEnded(history(0), "committed", 1_200)
      yield* reporter.windowStarted(history(1))
      // incremental windows show nothing
      yield* reporter.windowEnded({ ...history(0), runKind: "pull", progress: { windowsDone: 0, windowsTotal: 1 } }, "committed", 9)
      yield* TestClock.adjust("8 seconds")
      // nothing moved in the next period: no line
      yield* TestClock.adjust("10 seconds")
      for (const n of [1, 2, 3]) {
        yield* reporter.windowStarted(history(n))
        yield* TestClock.adjust("2 seconds")
        yield* reporter.windowEnded(history(n), "committed", 1_200)
      }
      yield* TestClock.adjust("30 seconds")
      assert.deepStrictEqual(out.text().split("\n"), [
        "history of Customer DB: 0/4 windows (0%), 0 records",
        "history of Customer DB: 1/4 windows (25%), 1,200 records, 120 records/s, ETA 30s",
        "history of Customer DB: 4/4 windows (100%), 4,800 records, 185 records/s, done in 26s",
        ""
      ])
      assert.notInclude(out.text(), "\u001b[")
    }))

  it.live("on a terminal: a bar redrawn in place, log lines above it, the final line at the end", () =>
    Effect.gen(function*() {
      const out = capture(true)
      yield* Effect.gen(function*() {
        const reporter = yield* ProgressReporter
        yield* reporter.windowStarted(history(0, 30))
        yield* reporter.windowEnded(history(0, 30), "committed", 500)
        yield* reporter.windowStarted(history(1, 30))
        yield* reporter.windowEnded(history(1, 30), "committed", 700)
        yield* Effect.logInfo("window read")
        yield* Effect.sleep("600 millis")
        const drawn = out.text()
        assert.include(drawn, "history of Customer DB [")
        assert.include(drawn, "2/30 windows | 1,200 records")
        // cursor control: redrawn in place, not a line per event
        assert.include(drawn, "\u001b[")
        assert.match(drawn, /message="window read"/)
        yield* reporter.windowStarted(history(29, 30))
        yield* reporter.windowEnded(history(29, 30), "committed", 100)
      }).pipe(Effect.provide(Progress.layer({ stream: out.stream, every: "10 seconds" })), Effect.scoped)
      assert.match(out.text(), /history of Customer DB: 30\/30 windows \(100%\), 1,300 records, .*done in/)
    }))
})
