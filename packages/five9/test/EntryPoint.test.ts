/**
 * A host imports the connector and must not pay for (or trust) test-only code: the simulator
 * lives at `@acd-bridge/five9/simulator`, and `import "@acd-bridge/five9"` loads neither it nor
 * `@acd-bridge/testkit` (an optional peer dependency the simulator needs). A fresh child process
 * imports the package and reports what it loaded.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const packageRoot = path.resolve(here, "..")

interface Report {
  readonly key: string
  readonly files: ReadonlyArray<string>
  readonly packages: ReadonlyArray<string>
}

const importInChild = Effect.async<Report, Error>((resume) => {
  const child = execFile(
    process.execPath,
    ["--import", "tsx", path.join(here, "fixtures", "entry-child.ts")],
    { cwd: packageRoot, timeout: 60_000 },
    (error, stdout, stderr) => {
      if (error) return resume(Effect.fail(new Error(`the child failed: ${error.message}\n${stderr}`)))
      try {
        resume(Effect.succeed(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Report))
      } catch {
        resume(Effect.fail(new Error(`the child printed no report: ${stdout}\n${stderr}`)))
      }
    }
  )
  return Effect.sync(() => child.kill())
})

describe("the production entry point", () => {
  it.effect("import \"@acd-bridge/five9\" loads the connector, not the simulator nor the testkit", () =>
    Effect.gen(function*() {
      const report = yield* importInChild
      assert.strictEqual(report.key, "five9")
      assert.include(report.packages, "@acd-bridge/five9")
      assert.notInclude(report.packages, "@acd-bridge/testkit")
      const simulatorFiles = report.files.filter((f) => /Five9Simulator|[\\/]simulator\.[jt]s$/.test(f))
      assert.deepStrictEqual(simulatorFiles, [])
    }), 60_000)
})
