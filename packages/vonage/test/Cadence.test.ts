/**
 * Production cadence (e2e-harness `cadenceSuite`): the simulator's present follows the test's
 * clock over a DST week with every counting feature in the data; the engine on SQLite imports
 * the history, then runs every 15 minutes with its 24-hour look-back at arbitrary instants
 * until the source has written everything, and `GET /v1/intervals` and the agent segments must
 * equal the Scenario model; an outage of 30 hours must end with the stores of a clean import.
 */
import { cadenceSuite } from "@acd-bridge/e2e-harness"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Layer from "effect/Layer"
import { Vonage } from "../src/index.js"
import { VonageSimulator } from "../src/simulator.js"

cadenceSuite("Vonage", {
  connector: Vonage.make(),
  simulator: (scenario, { now }) => VonageSimulator.make(scenario, { now }),
  layer: () => Layer.merge(FetchHttpClient.layer, Vonage.layer),
  config: (sim) => sim.config({ pageSize: 500 }),
  seed: 12,
  // Vonage names queues only: the connector's queue identifier is the name
  expectedInterval: (row) => ({ ...row, queueIdentifier: row.queueName }),
  segments: {
    activityOf: (s) => {
      const v = VonageSimulator.stateOf(s.activity)
      return Vonage.activityIdentifier(v.state, v.description)
    },
    mergeAdjacent: true
  }
})
