/**
 * The CSV file share of the example: an export job of the customer's case-management system
 * drops a file of closed back-office cases into `data/drop/` (queue, time, handled, duration in
 * seconds). The link watches the folder: each complete file is read, offered to the engine as
 * a file task, committed once and moved to `data/drop/archive/`.
 *
 *   pnpm drop [folder] [hoursBack]     # writes one file: the cases of the hour `hoursBack` (default 50) hours ago
 *
 * The example's files hold cases two days back and more, outside the day of history the engine
 * reads through windows, so each case arrives once, by its file.
 *
 * @since 0.3.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const HOUR = 3_600_000

/** One case row of a dropped file. */
export interface Case {
  readonly queue: string
  readonly time: string
  readonly handled: number
  readonly duration: number
}

/** The cases closed in the hour starting at `hour` (epoch ms; the same rows for the same hour). */
export const casesOf = (hour: number): Array<Case> => {
  let seed = Math.floor(hour / HOUR) * 2654435761
  const next = () => {
    seed = (Math.imul(seed ^ (seed >>> 13), 1597334677) + 0x9E3779B9) | 0
    return (seed >>> 0) / 4294967296
  }
  const cases: Array<Case> = []
  for (const queue of ["claims", "returns"]) {
    const n = 5 + Math.floor(next() * 10)
    for (let i = 0; i < n; i++) {
      cases.push({
        queue,
        time: new Date(hour + Math.floor(next() * HOUR)).toISOString(),
        handled: next() < 0.95 ? 1 : 0,
        duration: 120 + Math.floor(next() * 900)
      })
    }
  }
  return cases
}

/** Writes the file of the hour starting at `hour` into `folder`, as an export job would (temp name, then rename). */
export const writeDrop = (folder: string, hour: number) => {
  fs.mkdirSync(folder, { recursive: true })
  const cases = casesOf(hour)
  const name = `cases-${new Date(hour).toISOString().slice(0, 13).replace(/[-:T]/g, "")}.csv`
  const text = ["queue,time,handled,duration", ...cases.map((c) => `${c.queue},${c.time},${c.handled},${c.duration}`)].join("\n")
  const temp = path.join(folder, `.${name}.tmp`)
  fs.writeFileSync(temp, `${text}\n`)
  fs.renameSync(temp, path.join(folder, name))
  return { file: path.join(folder, name), cases }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const folder = path.resolve(process.argv[2] ?? "data/drop")
  const hoursBack = Number(process.argv[3] ?? 50)
  const hour = Math.floor(Date.now() / HOUR) * HOUR - hoursBack * HOUR
  const { cases, file } = writeDrop(folder, hour)
  process.stdout.write(`${file}: ${cases.length} cases\n`)
}
