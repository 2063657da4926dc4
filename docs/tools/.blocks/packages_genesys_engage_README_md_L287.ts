import { GenesysSimulator } from "@acd-bridge/genesys-engage/simulator"
import { Scenario } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"

const scenario = Scenario.generate({
  ...Scenario.allFeatures,
  seed: 1,
  from: "2026-03-02T00:00:00Z",
  to: "2026-03-09T00:00:00Z",
  timezone: "Europe/Berlin",
  queues: [{ identifier: "100", name: "Sales", channel: "calls", dailyPeak: 60 }],
  agents: 10
})
export const infoMart = Effect.gen(function*() {
  const sim = yield* GenesysSimulator.makeSqlite("./gim.sqlite", scenario, { etlLagSeconds: 120 })
  yield* sim.tick("2026-03-03T12:00:00Z") // one ETL run: the Info Mart as the source shows it at now − lag
  return sim
}).pipe(Effect.scoped)

export {}
