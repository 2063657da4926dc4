/**
 * The testkit's connector conformance suite against the Insights Stats API simulator. The config names a
 * fixed host; the suite's layer starts a fresh simulator per case and routes that host to it.
 * Retries are off so that each fault switch fails the read with its typed error at once.
 */
import { conformanceSuite } from "@acd-bridge/e2e-harness"
import { Vonage, VonageSimulator } from "../src/index.js"

const host = "http://vonage.simulator"
const config = {
  clientId: "acd-bridge",
  clientSecret: "s3cret",
  authBaseUrl: host,
  apiBaseUrl: host,
  pageSize: 100,
  maxRetries: 0,
  maxRateLimitRetries: 0
}

conformanceSuite("vonage", {
  connector: Vonage.make(),
  simulator: VonageSimulator.make,
  host,
  queue: { identifier: "Sales", name: "Sales", channel: "calls", dailyPeak: 20 },
  config,
  badCredentialsConfig: { ...config, clientSecret: "wrong" },
  rateLimit: (sim) => sim.faults.rateLimit(1, 0),
  malformed: (sim, scenario) => {
    sim.faults.malformed.add(scenario.contacts[0]!.id)
  },
  transient: (sim) => sim.faults.dropConnections(1)
})
