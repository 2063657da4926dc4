import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import { ServerConfig } from "../src/index.js"

const read = (value: string | undefined) =>
  Effect.either(ServerConfig.logging).pipe(
    Effect.withConfigProvider(
      ConfigProvider.fromMap(new Map(value === undefined ? [] : [["ACD_BRIDGE_LOG_LEVEL", value]]))
    )
  )

describe("ACD_BRIDGE_LOG_LEVEL", () => {
  it.effect("takes the names --help lists and Effect's labels, in any case", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[string, LogLevel.LogLevel]> = [
        ["Warning", LogLevel.Warning],
        ["warning", LogLevel.Warning],
        ["WARN", LogLevel.Warning],
        ["None", LogLevel.None],
        ["OFF", LogLevel.None],
        ["debug", LogLevel.Debug],
        ["All", LogLevel.All]
      ]
      for (const [text, level] of cases) {
        const read_ = yield* read(text)
        assert.isTrue(Either.isRight(read_), `${text}: ${String(Either.isLeft(read_) ? read_.left : "")}`)
        assert.strictEqual(Either.getOrThrow(read_).logLevel, level, text)
      }
      assert.strictEqual(Either.getOrThrow(yield* read(undefined)).logLevel, LogLevel.Info)
    }))

  it.effect("refuses anything else, naming the variable and the allowed names", () =>
    Effect.gen(function*() {
      const read_ = yield* read("loud")
      assert.isTrue(Either.isLeft(read_))
      const message = String(Either.isLeft(read_) ? read_.left : "")
      assert.include(message, "ACD_BRIDGE_LOG_LEVEL")
      assert.include(message, "Warning")
      assert.include(message, "loud")
    }))
})
