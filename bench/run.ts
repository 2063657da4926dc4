/**
 * Runs every bench file in this folder (each `*.ts` except this one), one after the other,
 * each in its own Node process so that peak RSS figures are its own.
 *
 *   pnpm bench                        # everything, full size
 *   BENCH_RECORDS=100000 pnpm bench   # a quick run
 *   pnpm bench ingest-sqlite          # only the files whose name contains one of the arguments
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const files = fs.readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "run.ts" && !f.startsWith("_"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

let failed = 0
for (const file of files) {
  process.stdout.write(`\n=== ${file}\n`)
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(here, file)], {
    cwd: here,
    stdio: "inherit",
    env: process.env
  })
  if (result.status !== 0) {
    failed++
    process.stdout.write(`${file} failed (exit ${result.status ?? result.signal})\n`)
  }
}
process.exit(failed > 0 ? 1 : 0)
