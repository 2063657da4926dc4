import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { CsvImporter } from "../src/index.js"
import { contactsConfig } from "./fixtures.js"

describe("csv config decoding", () => {
  it.effect("a misspelt key is refused, naming its path and the key that was meant", () =>
    Effect.gen(function*() {
      const config = contactsConfig("/in")
      const typo = { ...config, columns: { ...config.columns, handeld: "Handled2" } }
      const error = yield* Effect.flip(CsvImporter.decodeConfig(typo))
      assert.strictEqual(error._tag, "InvalidConfig")
      assert.strictEqual(error.field, "columns.handeld")
      assert.include(error.reason, "handled")
    }))

  it.effect("a key the layout doesn't know at the top level is refused too", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(CsvImporter.decodeConfig({ ...contactsConfig("/in"), timezon: "Europe/Berlin" }))
      assert.strictEqual(error.field, "timezon")
    }))

  it.effect("a valid config decodes", () =>
    Effect.gen(function*() {
      const config = yield* CsvImporter.decodeConfig(contactsConfig("/in"))
      assert.strictEqual(config.layout, "contacts")
    }))
})
