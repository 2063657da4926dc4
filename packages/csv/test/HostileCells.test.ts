import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { CsvImporter } from "../src/CsvImporter.js"
import { contactsConfig, contactsHeader, createIntegration, tempDir, TestEngine, write } from "./fixtures.js"

// Found by the reliability suite (test/reliability/CsvHostile.test.ts): a NUL made every
// import of the file fail on PostgreSQL, bytes that are not UTF-8 became U+FFFD in a stored
// identifier, and a megabyte cell became a megabyte reason on the run and in errors.csv.
describe("hostile cells", () => {
  it.scoped("a NUL or a replacement character in a text cell refuses the row, naming it; long cells are shortened in reasons", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const integration = yield* createIntegration(contactsConfig(dir))
      const file = write(
        dir,
        "calls.csv",
        Buffer.concat([
          Buffer.from(contactsHeader),
          Buffer.from("q1,Level 1,2026-03-02 09:02:00,1,1,20\n"),
          Buffer.from("q\u00002,Level 1,2026-03-02 09:03:00,1,1,20\n"),
          Buffer.from("q3,Level\u0000 1,2026-03-02 09:04:00,1,1,20\n"),
          Buffer.concat([Buffer.from("q"), Buffer.from([0xff]), Buffer.from("4,Level 1,2026-03-02 09:05:00,1,1,20\n")]),
          Buffer.from(`q5,Level 1,2026-03-02 09:06:00,1,1,${"7".repeat(100_000)}x\n`)
        ])
      )
      const result = yield* (yield* CsvImporter).importFile(integration, file)
      assert.deepStrictEqual([result.read, result.applied, result.rejected], [5, 1, 4])
      assert.deepStrictEqual(
        result.problems.map((p) => [p.line, p.column]),
        [[3, "Queue"], [4, "Queue name"], [5, "Queue"], [6, "Duration"]]
      )
      assert.match(result.problems[0]!.reason, /NUL character/)
      assert.match(result.problems[1]!.reason, /NUL character/)
      assert.match(result.problems[2]!.reason, /U\+FFFD.*not utf-8.*encoding/)
      assert.strictEqual(
        result.problems[3]!.reason,
        `"${"7".repeat(60)}…" (100,001 characters) is not a number of seconds (e.g. 12.5)`
      )
    }).pipe(Effect.provide(TestEngine)))
})
