/**
 * The whole path as a host runs it: the SOAP simulator, the connector registered in the engine
 * over SQLite, core's Scheduler importing the history on first connect, and the interval figures
 * read back through the HTTP API (`GET /v1/intervals`).
 */
import { scheduledSuite } from "@acd-bridge/e2e-harness"
import { Five9 } from "../src/index.js"
import { Five9Simulator } from "../src/simulator.js"

scheduledSuite("Five9", {
  connector: Five9.make(),
  services: Five9.layer,
  simulator: (scenario) => Five9Simulator.make(scenario),
  // the scenario predates LoggedOut states and short abandons: neither is part of its truth
  config: (sim) => sim.config({ agentStates: { loggedOut: false }, shortAbandonSeconds: 0 }),
  seed: 23,
  queues: [
    { identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 30 },
    { identifier: "SK Support", name: "Inbound Support", channel: "calls", dailyPeak: 12 }
  ],
  // Five9 reports a skill by its name
  expectedInterval: (r) => ({ ...r, queueIdentifier: r.queueName }),
  segments: {
    activityOf: (s) => {
      const v = Five9Simulator.stateOf(s.activity)
      return Five9.activityIdentifier(v.state, v.reason)
    }
  }
})
