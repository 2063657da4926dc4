/**
 * Vitest global setup for the reliability suite's summary (`summary.ts`): clears the pieces
 * before the run; after it, merges them into `summary.json` and `summary.md` in the same
 * directory and prints the table. A run that touched no reliability test writes nothing.
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
