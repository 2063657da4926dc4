import { assert, describe, it } from "@effect/vitest"
import { main, readBack } from "./fixtures/quickstart.js"
import { tempSqliteFile } from "./utils.js"

const expected = [
  ["2026-03-02T10:00:00+01:00", 2, 2, 400.2, 200.1],
  ["2026-03-02T10:15:00+01:00", 1, 1, 200.1, 200.1]
]

describe("README example", () => {
  it("runs the engine on SQLite and reads the intervals back, also after a restart", async () => {
    const filename = tempSqliteFile()
    const rows = await main(filename)
    assert.deepStrictEqual(rows.map((r) => [r.start, r.offered, r.handled, r.handlingSeconds, r.ahtSeconds]), expected)
    // a new engine on the same file sees the same data
    const again = await readBack(filename)
    assert.deepStrictEqual(again.map((r) => [r.start, r.offered, r.handled, r.handlingSeconds, r.ahtSeconds]), expected)
  })
})
