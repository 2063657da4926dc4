/**
 * The connector at production cadence (e2e-harness `cadenceSuite`): the Info Mart simulator's
 * ETL follows the TestClock (`setNow` is an ETL run), the engine on SQLite runs core's
 * Scheduler (history on first connect, then 15-minute runs with the 24-hour look-back at
 * arbitrary instants over a DST week with every counting feature in the data), and
 * `GET /v1/intervals` and the agent segments must equal the scenario's oracle exactly; then
 * an outage longer than the look-back, after which the stores equal a clean import.
 *
 * Genesys Engage is on-premise; the engine runs it directly here, as a server inside the
 * customer's network would. Both contact sources run: the per-contact facts and the RAA
 * aggregates (with this Info Mart's wait columns mapped). (This replaces the earlier
 * Scheduler test: history and hourly runs over Berlin's spring-forward with the facts; Berlin's
 * DST week stays covered end to end by EndToEnd.test.ts.)
 */
import { cadenceSuite } from "@acd-bridge/e2e-harness"
import { Scenario } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysEngage from "../src/GenesysEngage.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"

/**
 * A simulator in a fresh SQLite file (removed with the scope); its present is its ETL time, and
 * each ETL run reflects the contact centre 2 minutes before it runs (on top of each
 * interaction's own ETL delay).
 */
const simulator = (scenario: Scenario.Scenario) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "genesys-cadence-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const filename = path.join(dir, "gim.sqlite")
    const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, { etlLagSeconds: 120 })
    return { filename, setNow: (now: number) => sim.tick(now) }
  }).pipe(Effect.orDie)

const contacts: Record<"facts" | "aggregates", NonNullable<GenesysConfigEncoded["contacts"]>> = {
  facts: { source: "facts", shortAbandonSeconds: Scenario.allFeatures.shortAbandonSeconds },
  aggregates: {
    source: "aggregates",
    measures: {
      waitTime: ["ACCEPTED_TIME", "ABANDONED_TIME", "CLEARED_TIME", "ROUTED_OTHER_TIME"],
      unhandledTime: ["ABANDONED_TIME", "CLEARED_TIME", "ROUTED_OTHER_TIME"]
    }
  }
}

for (const source of ["facts", "aggregates"] as const) {
  cadenceSuite(`genesys-engage (${source})`, {
    connector: GenesysEngage.connector,
    simulator,
    config: (sim): GenesysConfigEncoded => ({
      driver: "sqlite",
      connection: { filename: sim.filename },
      contacts: contacts[source]
    }),
    seed: source === "facts" ? 41 : 43,
    // Info Mart names a queue by its RESOURCE_NAME only: the connector's identifier is the name
    expectedInterval: (row) => ({ ...row, queueIdentifier: row.queueName }),
    segments: GenesysSimulator.segmentOptions
  })
}
