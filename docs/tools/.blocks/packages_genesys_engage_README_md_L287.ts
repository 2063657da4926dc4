import { GenesysSimulator } from "@acd-bridge/genesys-engage/simulator"
import { Scenario } from "@acd-bridge/testkit"

const scenario = Scenario.generate({ ...Scenario.allFeatures, seed: 1, from, to, timezone: "Europe/Berlin", queues, agents: 10 })
const sim = yield* GenesysSimulator.makeSqlite("./gim.sqlite", scenario, { etlLagSeconds: 120 })
yield* sim.tick(now) // one ETL run: the Info Mart as the source shows it at now − lag

export {}
