/**
 * The testkit's connector conformance suite against the SOAP simulator. The config names a
 * fixed host; the suite's layer starts a fresh simulator per case and routes that host to it.
 * Retries are off so that each fault switch fails the read with its typed error at once.
 */
import { ConnectorSuite, Scenario } from "@acd-bridge/testkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Five9, Five9Simulator } from "../src/index.js"

const host = "http://five9.simulator"
const from = Date.parse("2026-03-08T08:00:00Z")
const to = Date.parse("2026-03-09T07:00:00Z")
const now = to + 86_400_000
const scenario = Scenario.generate({
  seed: 31,
  from,
  to,
  timezone: "America/Los_Angeles",
  queues: [{ identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 20 }],
  agents: 4
})

let current: Five9Simulator.Five9Simulator | undefined
const sim = () => {
  if (current === undefined) throw new Error("no simulator")
  return current
}

const layer = Layer.scoped(
  HttpClient.HttpClient,
  Effect.gen(function*() {
    const s = yield* Five9Simulator.make(scenario, { now })
    current = s
    const client = yield* HttpClient.HttpClient
    return HttpClient.mapRequest(client, HttpClientRequest.updateUrl((url) => url.replace(host, s.url)))
  })
).pipe(Layer.provide(FetchHttpClient.layer))

const config = {
  username: "api.user@example.com",
  password: "s3cret",
  baseUrl: host,
  reportPollSeconds: 1,
  maxRetries: 0,
  statistics: { longPollSeconds: 1 }
}

ConnectorSuite.suite("five9", {
  connector: Five9.make(),
  config,
  badCredentialsConfig: { ...config, password: "wrong" },
  layer,
  windows: [{ from, to }],
  emptyWindow: { from: from - 3 * 86_400_000, to: from - 2 * 86_400_000 },
  dstWindow: { from, to },
  now,
  rateLimit: Effect.sync(() => sim().faults.operationsLimit(1)),
  malformed: Effect.sync(() => {
    sim().faults.malformedCalls.add(scenario.contacts.find((c) => c.handled)!.id)
  }),
  transient: Effect.sync(() => sim().faults.dropConnections(1))
})
