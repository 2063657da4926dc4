/**
 * The testkit's connector conformance suite against the SOAP simulator, twice:
 *
 * - over the harness's one-queue day (`conformanceSuite`, a scenario without the counting
 *   features, so logged-out time is not part of its truth);
 * - over two days of three skills with every counting feature on (IVR, transfers between
 *   skills, overflows, short abandons, consults, long calls across windows, LoggedOut nights,
 *   write delays and corrections), read from the custom call log with SKILL: every case,
 *   including "splits at any instant", with cuts inside the longest calls.
 *
 * The configs name a fixed host; each case's layer starts a fresh simulator and routes that
 * host to it. Retries are off so that each fault switch fails the read with its typed error at
 * once.
 */
import { conformanceSuite, routedSimulator } from "@acd-bridge/e2e-harness"
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Five9 } from "../src/index.js"
import { Five9Simulator } from "../src/simulator.js"
import { queues, skillConfig, tz } from "./fixtures/scenarios.js"

/** What the connector needs: an HTTP client (routed to the simulator) and its sessions. */
type Services = HttpClient.HttpClient | Five9.Sessions

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
  services: Five9.layer,
  simulator: Five9Simulator.make,
  host,
  queue: { identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 20 },
  // the suite's scenario predates LoggedOut states and short abandons
  config: { ...config, agentStates: { loggedOut: false }, shortAbandonSeconds: 0 },
  badCredentialsConfig: { ...config, agentStates: { loggedOut: false }, shortAbandonSeconds: 0, password: "wrong" },
  rateLimit: (sim) => sim.faults.operationsLimit(1),
  malformed: (sim, scenario) => {
    sim.faults.malformedCalls.add(scenario.contacts.find((c) => c.handled)!.id)
  },
  transient: (sim) => sim.faults.dropConnections(1)
})

// the spring-forward Sunday and the Monday after, in Los Angeles
const from = Date.parse("2026-03-08T08:00:00Z")
const monday = Date.parse("2026-03-09T07:00:00Z")
const to = Date.parse("2026-03-10T07:00:00Z")
const now = to + 86_400_000
const scenario = Scenario.generate({ seed: 41, from, to, timezone: tz, queues, agents: 6, ...Scenario.allFeatures })
const routed = routedSimulator(host, Five9Simulator.make(scenario, { now }))
const v2 = { ...config, ...skillConfig }

// cuts inside calls transferred to another skill and inside the longest calls
const transferred = scenario.contacts.filter((c) => c.visits.length > 1).slice(0, 6)
const longest = [...scenario.contacts].sort((a, b) => (b.completion - b.start) - (a.completion - a.start)).slice(0, 6)

ConnectorSuite.suite<Five9.Config, Five9.ConfigEncoded, Services, never, Services>("five9, every counting feature", {
  connector: Five9.make(),
  config: v2,
  badCredentialsConfig: { ...v2, password: "wrong" },
  // a fresh simulator and fresh sessions for each case
  layer: Layer.merge(routed.layer, Five9.layer),
  windows: [{ from, to: monday }, { from: monday, to }],
  emptyWindow: { from: from - 3 * 86_400_000, to: from - 2 * 86_400_000 },
  dstWindow: { from, to: monday },
  now,
  splits: {
    cuts: [
      transferred.map((c) => c.visits[1]!.enteredAt),
      longest.map((c) => Math.round((c.start + c.completion) / 2000) * 1000)
    ]
  },
  rateLimit: Effect.sync(() => routed.sim().faults.operationsLimit(1)),
  malformed: Effect.sync(() => {
    routed.sim().faults.malformedCalls.add(scenario.contacts.find((c) => c.visits[0]!.outcome === "answered")!.id)
  }),
  transient: Effect.sync(() => routed.sim().faults.dropConnections(1))
})
