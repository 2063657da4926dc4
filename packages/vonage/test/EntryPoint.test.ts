/**
 * The simulator is test code: `import "@acd-bridge/vonage"` must not load it, nor the testkit it
 * renders scenarios with (an optional peer dependency). A fresh child process imports the
 * package as a host does, reads a window from a simulator this test runs, and reports every
 * package and file it loaded.
 */
import { Scenario } from "@acd-bridge/testkit"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { VonageSimulator } from "../src/simulator.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const childScript = path.join(here, "fixtures", "entry-child.ts")
const packageRoot = path.resolve(here, "..")

interface Report {
  readonly offered: number
  readonly statuses: number
  readonly exports: ReadonlyArray<string>
  readonly packages: ReadonlyArray<string>
  readonly files: ReadonlyArray<string>
}

const scenario = Scenario.generate({
  seed: 3,
  from: "2026-03-03T08:00:00Z",
  to: "2026-03-04T08:00:00Z",
  timezone: "America/Los_Angeles",
  queues: [{ identifier: "Sales", name: "Sales", channel: "calls", dailyPeak: 20 }],
  agents: 3
})

const pullInChild = (config: unknown) =>
  Effect.async<Report, Error>((resume) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", childScript, JSON.stringify(config), new Date(scenario.from).toISOString(), new Date(scenario.to).toISOString()],
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
  it.scoped("imports the connector only: no simulator, no testkit", () =>
    Effect.gen(function*() {
      const sim = yield* VonageSimulator.make(scenario)
      const report = yield* pullInChild(sim.config())
      // it read the day for real
      assert.isAbove(report.offered, 0)
      assert.isAbove(report.statuses, 0)
      assert.deepStrictEqual(report.exports, ["Vonage"])
      assert.include(report.packages, "@acd-bridge/vonage")
      assert.notInclude(report.packages, "@acd-bridge/testkit", "the connector must not load the optional @acd-bridge/testkit")
      const simulatorFiles = report.files.filter((f) => /VonageSimulator|simulator\.ts|internal[\\/]render/.test(f))
      assert.deepStrictEqual(simulatorFiles, [], "the connector must not load the simulator")
      // and the subpath has it
      const subpath = yield* Effect.promise(() => import("@acd-bridge/vonage/simulator"))
      assert.deepStrictEqual(Object.keys(subpath), ["VonageSimulator"])
    }), 60_000)
})
