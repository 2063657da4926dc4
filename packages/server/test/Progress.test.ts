/**
 * `--follow`: progress of a backfill read from the health answers, drawn as a bar on a
 * terminal and written as plain lines otherwise; following stops with the reason when the
 * integration starts failing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { PassThrough } from "node:stream"
import { AdminClient } from "../src/AdminClient.js"
import * as Progress from "../src/Progress.js"

/** A server whose health answers are `answers`, one per request (the last one repeats). */
const serverAnswering = (answers: ReadonlyArray<unknown>) => {
  const paths: Array<string> = []
  const client = Layer.succeed(AdminClient, {
    request: (_method, path) =>
      Effect.sync(() => {
        paths.push(path)
        return answers[Math.min(paths.length - 1, answers.length - 1)]
      })
  })
  return { client, paths }
}

const health = (windowsDone: number, windowsTotal: number, extra: Record<string, unknown> = {}) => ({
  status: "active",
  failing: null,
  reimport: {
    windowsDone,
    windowsTotal,
    done: windowsDone >= windowsTotal,
    records: windowsDone * 1_200,
    recordsPerSecond: windowsDone === 0 ? null : 600,
    etaSeconds: windowsDone >= windowsTotal ? null : (windowsTotal - windowsDone) * 2
  },
  ...extra
})

const capture = (tty: boolean) => {
  const stream = new PassThrough()
  let text = ""
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()))
  // what cli-progress and the plain writer look at on a terminal
  const output = Object.assign(stream, { isTTY: tty, columns: 120, rows: 40 }) as unknown as NodeJS.WriteStream
  return { stream: output, text: () => text }
}

describe("Progress.follow", () => {
  it.live("writes a plain line per reading when the output is not a terminal, until the task is done", () =>
    Effect.gen(function*() {
      const { client, paths } = serverAnswering([health(0, 4), health(2, 4), health(4, 4)])
      const out = capture(false)
      const last = yield* Progress.follow("int 1", "reimport", { stream: out.stream, every: "10 millis" }).pipe(
        Effect.provide(client)
      )
      assert.deepStrictEqual(paths, Array(3).fill("/v1/integrations/int%201/health"))
      assert.strictEqual(last?.done, true)
      assert.deepStrictEqual(out.text().split("\n"), [
        "reimport: 0/4 windows (0%), 0 records, ETA 8s",
        "reimport: 2/4 windows (50%), 2,400 records, 600 records/s, ETA 4s",
        "reimport: 4/4 windows (100%), 4,800 records, 600 records/s, done",
        ""
      ])
      // no terminal control sequences in a log file
      assert.notInclude(out.text(), "\u001b[")
    }))

  it.live("draws a bar with windows, records, rate and ETA on a terminal", () =>
    Effect.gen(function*() {
      const { client } = serverAnswering([health(1, 4), health(4, 4)])
      const out = capture(true)
      yield* Progress.follow("i", "reimport", { stream: out.stream, every: "10 millis" }).pipe(Effect.provide(client))
      const text = out.text()
      // redrawn in place (cursor control), not a line per reading
      assert.include(text, "\u001b[")
      assert.include(text, "reimport [")
      assert.include(text, "1/4 windows | 1,200 records | 600 records/s | ETA 6s")
      assert.include(text, "4/4 windows | 4,800 records | 600 records/s | ETA done")
    }))

  it.live("stops with the reason when the integration starts failing", () =>
    Effect.gen(function*() {
      const { client } = serverAnswering([health(1, 4), health(1, 4, { failing: "Five9 refused the credentials" })])
      const out = capture(false)
      const error = yield* Effect.flip(
        Progress.follow("i", "reimport", { stream: out.stream, every: "10 millis" }).pipe(Effect.provide(client))
      )
      assert.strictEqual(error._tag, "FollowStopped")
      assert.strictEqual(error.message, "reimport stopped: failing: Five9 refused the credentials")
    }))

  it("formats durations as an operator reads them", () => {
    assert.deepStrictEqual(
      [0, 42, 185, 3_725, 90_000].map(Progress.formatSeconds),
      ["0s", "42s", "3m 05s", "1h 02m", "25h 00m"]
    )
  })
})
