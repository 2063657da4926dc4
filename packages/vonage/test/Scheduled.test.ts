/**
 * The whole path as a host runs it: the simulator, the connector registered in the engine over
 * SQLite, core's Scheduler importing the history on first connect, and the interval figures read
 * back through the HTTP API (`GET /v1/intervals`).
 */
import { scheduledSuite } from "@acd-bridge/e2e-harness"
import { Vonage } from "../src/index.js"
import { VonageSimulator } from "../src/simulator.js"

scheduledSuite("Vonage", {
  connector: Vonage.make(),
  services: Vonage.layer,
  simulator: (scenario) => VonageSimulator.make(scenario),
  // the suite's scenario flags no short abandons
  config: (sim) => sim.config({ pageSize: 200, shortAbandonSeconds: 0 }),
  seed: 21,
  queues: [
    { identifier: "Sales", name: "Sales", channel: "calls", dailyPeak: 30 },
    { identifier: "Web chat", name: "Web chat", channel: "chats", dailyPeak: 10 }
  ],
  segments: {
    activityOf: (s) => {
      const v = VonageSimulator.stateOf(s.activity)
      return Vonage.activityIdentifier(v.state, v.description)
    },
    mergeAdjacent: true
  }
})
