/**
 * A simulated Genesys Info Mart (`@acd-bridge/genesys-engage/simulator`): the Info Mart tables
 * in a SQLite file, filled from a seeded contact centre (`@acd-bridge/testkit`) two days back
 * and one ahead; an ETL run every 10 seconds makes what happened by now visible, with a minute
 * of lag, as Genesys' own ETL does. The link reads it with the `genesys-engage` connector.
 *
 *   pnpm infomart [file]        # default ./data/infomart.sqlite; Ctrl-C stops it
 *
 * @since 0.3.0
 */
import { GenesysSimulator } from "@acd-bridge/genesys-engage/simulator"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const HOUR = 3_600_000
const DAY = 24 * HOUR

/**
 * Starts the Info Mart in `file` (made anew) and its ETL for as long as the scope lives.
 *
 * @since 0.3.0
 */
export const start = (file: string, now: number) =>
  Effect.gen(function*() {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(`${file}${suffix}`, { force: true })
    const scenario = Scenario.generate({
      seed: 7,
      from: Math.floor((now - 2 * DAY) / HOUR) * HOUR,
      to: Math.ceil((now + DAY) / HOUR) * HOUR,
      timezone: "Europe/Berlin",
      queues: [
        { identifier: "vq-service", name: "VQ_Service", channel: "calls", dailyPeak: 30 },
        { identifier: "vq-chat", name: "VQ_Chat", channel: "chats", dailyPeak: 10 }
      ],
      agents: 8
    })
    const sim = yield* GenesysSimulator.makeSqlite(file, scenario, { etlLagSeconds: 60 })
    yield* sim.tick(now)
    yield* Effect.forkScoped(GenesysSimulator.runEtl(sim, 10))
    return { file, scenario }
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = path.resolve(process.argv[2] ?? "data/infomart.sqlite")
  Effect.gen(function*() {
    yield* start(file, Date.now())
    yield* Console.log(`Genesys Info Mart (simulated): ${file}, ETL every 10 s; Ctrl-C stops it`)
    return yield* Effect.never
  }).pipe(Effect.scoped, NodeRuntime.runMain)
}
