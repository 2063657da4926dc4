/**
 * The suite's counts: every case records how many inputs it tried, how many faults it injected
 * and how many losses (data lost, doubled, half-applied or exposed) it found, and a line saying
 * what it did. Each test file writes its cases to a piece of its own; the global setup
 * (`summarySetup.ts`) clears the pieces before a run and merges them into
 * `test/reliability/.tmp/summary.json` and `summary.md` after it (also printed).
 *
 * A loss found also fails the case's assertions: the count is there so the summary can say
 * "0 losses" as a measured figure, not as a claim.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { fileURLToPath } from "node:url"

/** Where the pieces and the merged summary go (`ACD_BRIDGE_RELIABILITY_OUT` overrides). */
export const summaryDir = process.env["ACD_BRIDGE_RELIABILITY_OUT"] ??
  fileURLToPath(new URL("../.tmp/summary", import.meta.url))

export interface CaseCounts {
  /** file › case */
  readonly name: string
  /** requests, bodies, rows or calls sent at the engine */
  readonly inputs: number
  /** SIGKILLs, full disks, read-only files, stalled or idle connections, oversized bodies… */
  readonly faults: number
  /** records lost, doubled, half-applied or visible to the wrong tenant */
  readonly losses: number
  /** what was done and what came back, in one line */
  readonly note: string
}

/** The counts of one test file, written to its piece by `flush` (call it in `afterAll`). */
export const summary = (file: string) => {
  const cases: Array<CaseCounts> = []
  return {
    record: (entry: Omit<CaseCounts, "name"> & { readonly case: string }): void => {
      cases.push({ name: `${basename(file).replace(/\.test\.ts$/, "")} › ${entry.case}`, inputs: entry.inputs, faults: entry.faults, losses: entry.losses, note: entry.note })
    },
    flush: (): void => {
      if (cases.length === 0) return
      mkdirSync(summaryDir, { recursive: true })
      writeFileSync(join(summaryDir, `${basename(file)}.${process.pid}.json`), JSON.stringify(cases, null, 2))
    }
  }
}
