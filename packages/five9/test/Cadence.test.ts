/**
 * Production cadence (e2e-harness `cadenceSuite`): the simulator's present follows the clock
 * over a DST week with every counting feature in the data; the engine on SQLite imports the
 * history, then runs every 15 minutes with its 24-hour look-back at arbitrary instants, and
 * after an outage longer than the look-back. `GET /v1/intervals` must equal the model's truth
 * for a source that has the call's start only (`instant: "contactStart"`: each queue visit at
 * its own skill, at its call's start), and the agent segments the model's timeline, logged-out
 * nights and weekends included.
 */
import { cadenceSuite } from "@acd-bridge/e2e-harness"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Layer from "effect/Layer"
import { Five9 } from "../src/index.js"
import { Five9Simulator } from "../src/simulator.js"
import { activityOf, skillConfig } from "./fixtures/scenarios.js"

cadenceSuite("Five9", {
  connector: Five9.make(),
  simulator: (scenario, { now }) => Five9Simulator.make(scenario, { now }),
  layer: () => Layer.merge(FetchHttpClient.layer, Five9.layer),
  config: (sim) => sim.config({ ...skillConfig }),
  seed: 13,
  // the call log is voice: two skills that transfer and overflow to each other
  queues: [
    { identifier: "SK Sales", name: "Sales", channel: "calls", dailyPeak: 9 },
    { identifier: "SK Care", name: "Care", channel: "calls", dailyPeak: 6, talkMeanSeconds: 300 }
  ],
  instant: "contactStart",
  // the simulator's SKILL is the queue's identifier
  expectedInterval: (r) => ({ ...r, queueName: r.queueIdentifier }),
  segments: { activityOf, loggedOut: "Logged Out" }
})
