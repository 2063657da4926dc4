/**
 * The reliability suite's summary (`summary.ts`). As vitest's global setup it clears the pieces
 * and the server bundles before the run and removes the bundles after it; as a reporter (listed
 * before vitest's own, so the run's summary line stays the last line of the log) it merges the
 * pieces into `summary.json` and `summary.md` in the same directory and prints the table. A run
 * that touched no reliability test writes nothing.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import type { CaseCounts } from "./summary.js"
import { bundleDir } from "./harness.js"
import { summaryDir } from "./summary.js"

/** The server bundles the test forks built (`harness.ts`); removed before and after the run. */
const removeBundles = () => {
  if (!existsSync(bundleDir)) return
  for (const f of readdirSync(bundleDir)) if (/^server-\d+\.mjs$/.test(f)) rmSync(join(bundleDir, f), { force: true })
}

const pieces = () => (existsSync(summaryDir) ? readdirSync(summaryDir).filter((f) => f.endsWith(".json")) : [])

export const setup = () => {
  removeBundles()
  for (const piece of pieces()) rmSync(join(summaryDir, piece))
}

export const teardown = () => {
  removeBundles()
}

const report = () => {
  const found = pieces()
  if (found.length === 0) return
  const cases = found
    .flatMap((piece) => JSON.parse(readFileSync(join(summaryDir, piece), "utf8")) as Array<CaseCounts>)
    .sort((a, b) => a.name.localeCompare(b.name))
  const total = cases.reduce((t, c) => ({ inputs: t.inputs + c.inputs, faults: t.faults + c.faults, losses: t.losses + c.losses }), { inputs: 0, faults: 0, losses: 0 })
  const at = new Date().toISOString()
  writeFileSync(join(dirname(summaryDir), "summary.json"), JSON.stringify({ at, total, cases }, null, 2))
  const table = [
    `Reliability suite, ${at}: ${total.inputs} inputs tried, ${total.faults} faults injected, ${total.losses} losses found`,
    "",
    "| case | inputs | faults | losses | what happened |",
    "| --- | ---: | ---: | ---: | --- |",
    ...cases.map((c) => `| ${c.name} | ${c.inputs} | ${c.faults} | ${c.losses} | ${c.note.replaceAll("|", "\\|")} |`),
    `| **total** | **${total.inputs}** | **${total.faults}** | **${total.losses}** | |`
  ].join("\n")
  writeFileSync(join(dirname(summaryDir), "summary.md"), `${table}\n`)
  process.stdout.write(`\n${table}\n\n`)
}

/** The reporter: prints the table when the run ends, before vitest's own summary. */
export class ReliabilityReporter {
  onFinished() {
    report()
  }
}
