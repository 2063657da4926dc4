/**
 * The testkit's connector conformance suite against the SOAP simulator. The config names a
 * fixed host; the suite's layer starts a fresh simulator per case and routes that host to it.
 * Retries are off so that each fault switch fails the read with its typed error at once.
 */
import { conformanceSuite } from "@acd-bridge/e2e-harness"
import { Five9, Five9Simulator } from "../src/index.js"

const host = "http://five9.simulator"
const config = {
  username: "api.user@example.com",
  password: "s3cret",
  baseUrl: host,
  reportPollSeconds: 1,
  maxRetries: 0,
  statistics: { longPollSeconds: 1 }
}

conformanceSuite("five9", {
  connector: Five9.make(),
  simulator: Five9Simulator.make,
  host,
  queue: { identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 20 },
  config,
  badCredentialsConfig: { ...config, password: "wrong" },
  rateLimit: (sim) => sim.faults.operationsLimit(1),
  malformed: (sim, scenario) => {
    sim.faults.malformedCalls.add(scenario.contacts.find((c) => c.handled)!.id)
  },
  transient: (sim) => sim.faults.dropConnections(1)
})
