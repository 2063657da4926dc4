/**
 * The benchmarks must not rot: `pnpm bench --quick` runs every bench file at small sizes and
 * must produce every row of the manifest with finite figures. Speed is never asserted here
 * (it depends on the machine); `docs/performance.md` holds the measured table.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { expectedRows } from "../../bench/_manifest.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

interface Result {
  readonly mode: string
  readonly machine: { readonly cpus: number; readonly node: string; readonly loadAverageAtStart: ReadonlyArray<number> }
  readonly rows: ReadonlyArray<{
    readonly name: string
    readonly unit: string
    readonly engine: number
    readonly baseline: number | null
    readonly ratio: number | null
    readonly target: string | null
    readonly pass: boolean | null
  }>
  readonly missing: ReadonlyArray<string>
  readonly failures: ReadonlyArray<string>
}

describe("bench --quick", () => {
  // every bench file at small sizes, one after the other: a few minutes on a quiet machine; the
  // cluster and link benches start several server processes, which on a loaded 2-core machine
  // take 10–25 s each, so the bound is generous
  // spawned, not spawnSync: a worker blocked for minutes misses vitest's RPC deadline
  // ("Timeout calling onTaskUpdate") and the run fails although the test passed
  const runBench = (args: ReadonlyArray<string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: path.join(root, "bench"), env: process.env })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      child.on("error", reject)
      child.on("close", (status) => resolve({ status, stdout, stderr }))
    })

  it("runs every bench and writes every row of the manifest with its figures", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-bench-test-"))
    try {
      const out = path.join(dir, "quick.json")
      const run = await runBench(["--import", "tsx", path.join(root, "bench", "run.ts"), "--quick", `--out=${out}`])
      assert.strictEqual(run.status, 0, `bench --quick failed:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`)
      const result = JSON.parse(fs.readFileSync(out, "utf8")) as Result
      assert.strictEqual(result.mode, "quick")
      assert.deepStrictEqual(result.failures, [])
      assert.deepStrictEqual(result.missing, [])
      assert.isAbove(result.machine.cpus, 0)
      assert.strictEqual(result.machine.node, process.version)
      assert.strictEqual(result.machine.loadAverageAtStart.length, 3)
      const byName = new Map(result.rows.map((r) => [r.name, r]))
      for (const expected of expectedRows) {
        const row = byName.get(expected.name)
        assert.isDefined(row, `row missing: ${expected.name}`)
        assert.isTrue(Number.isFinite(row!.engine), `${expected.name}: engine ${row!.engine}`)
        if (row!.baseline !== null) {
          assert.isTrue(Number.isFinite(row!.baseline) && row!.baseline >= 0, `${expected.name}: baseline ${row!.baseline}`)
          assert.isNotNull(row!.ratio, `${expected.name}: a baseline without a ratio`)
        }
        // a row with a target says whether it met it; one without says nothing
        assert.strictEqual(row!.pass === null, row!.target === null, `${expected.name}: target ${row!.target}, pass ${row!.pass}`)
        assert.isString(row!.unit)
      }
      assert.strictEqual(result.rows.length, expectedRows.length)
      // the table is printed too
      assert.include(run.stdout, "| engine")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 1_200_000)
})
