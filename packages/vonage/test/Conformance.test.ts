/**
 * The testkit's connector conformance suite against the Insights Stats API simulator. The configs
 * name a fixed host; the suite's layer starts a fresh simulator per case and routes that host to
 * it. Retries are off so that each fault switch fails the read with its typed error at once.
 *
 * Twice: e2e-harness' `conformanceSuite` (one queue, a plain day), and the suite over a day with
 * every counting feature of the Scenario model on (IVR time, transfers between queues,
 * breakouts and overflows, short abandons, consults, long calls, LoggedOut states, write delays,
 * late corrections), with cut sets inside its longest and multi-visit contacts.
 */
import { conformanceSuite, routedSimulator } from "@acd-bridge/e2e-harness"
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Vonage } from "../src/index.js"
import { VonageSimulator } from "../src/simulator.js"

/** What the connector needs: an HTTP client (routed to the simulator) and its sessions. */
type Services = HttpClient.HttpClient | Vonage.Sessions

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
  services: Vonage.layer,
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

// a day over the spring-forward night in Los Angeles, every counting feature on
const from = Date.parse("2026-03-08T08:00:00Z")
const to = Date.parse("2026-03-09T07:00:00Z")
const now = to + 2 * 24 * 3_600_000
const scenario = Scenario.generate({
  ...Scenario.allFeatures,
  seed: 41,
  from,
  to,
  timezone: "America/Los_Angeles",
  queues: [
    { identifier: "Sales", name: "Sales", channel: "calls", dailyPeak: 24 },
    { identifier: "Care", name: "Care", channel: "calls", dailyPeak: 16, talkMeanSeconds: 300 },
    { identifier: "Chat", name: "Chat", channel: "chats", dailyPeak: 6 }
  ],
  agents: 6
})
// cuts inside the longest contacts (their legs land in later windows) and between the visits of transferred ones
const longest = [...scenario.contacts].sort((a, b) => (b.completion - b.start) - (a.completion - a.start)).slice(0, 6)
const multi = scenario.contacts.filter((c) => c.visits.length > 1).slice(0, 6)
const inside = (a: number, b: number) => Math.round((a + b) / 2000) * 1000
const { layer, sim } = routedSimulator(host, VonageSimulator.make(scenario, { now }))

ConnectorSuite.suite<Vonage.Config, Vonage.ConfigEncoded, Services, never, Services>("vonage, every counting feature", {
  connector: Vonage.make(),
  config,
  badCredentialsConfig: { ...config, clientSecret: "wrong" },
  invalidConfigs: [
    { config: { ...config, apiBaseUrl: "ftp://vonage.simulator" }, field: "apiBaseUrl" },
    { config: { ...config, queueType: "Acd" }, field: "queueType" },
    { config: { ...config, maxContactSpanHours: -1 }, field: "maxContactSpanHours" }
  ],
  // a fresh simulator and fresh sessions for each case
  layer: Layer.merge(layer, Vonage.layer),
  windows: [{ from, to }],
  emptyWindow: { from: from - 3 * 24 * 3_600_000, to: from - 2 * 24 * 3_600_000 },
  dstWindow: { from, to },
  now,
  splits: {
    cutSets: 6,
    cuts: [
      longest.map((c) => inside(c.arrival, c.completion)),
      multi.map((c) => inside(c.visits[0]!.enteredAt, c.visits[1]!.enteredAt)),
      multi.map((c) => c.visits[1]!.enteredAt)
    ]
  },
  rateLimit: Effect.sync(() => sim().faults.rateLimit(1, 0)),
  malformed: Effect.sync(() => {
    sim().faults.malformed.add(scenario.contacts[0]!.id)
  }),
  transient: Effect.sync(() => sim().faults.dropConnections(1))
})
