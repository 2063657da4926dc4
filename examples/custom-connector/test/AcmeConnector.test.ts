import { ConnectorSuite } from "@acd-bridge/testkit"
import { assert, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { AcmeClients, connector } from "../src/AcmeConnector.js"
import * as AcmeSimulator from "../src/AcmeSimulator.js"
import { HostLayer, program } from "../src/host.js"

// no retries: each fault switch fails the read with its typed error at once
const config = { baseUrl: "https://acme.example", token: AcmeSimulator.token, maxRetries: 0 }
const simulator = AcmeSimulator.AcmeSimulator

// #region suite
ConnectorSuite.suite("Acme", {
  connector,
  config,
  badCredentialsConfig: { ...config, token: "not-the-token" },
  invalidConfigs: [
    { config: { ...config, baseUrl: "http://acme.example" }, field: "baseUrl" },
    { config: { ...config, token: "short" }, field: "token" },
    { config: { baseUrl: config.baseUrl }, field: "token" }
  ],
  layer: Layer.merge(AcmeSimulator.layer(), AcmeClients.Default),
  windows: [
    { from: "2026-03-02T00:00:00Z", to: "2026-03-02T12:00:00Z" },
    { from: "2026-03-02T12:00:00Z", to: "2026-03-03T00:00:00Z" }
  ],
  dstWindow: { from: "2026-03-28T22:00:00Z", to: "2026-03-29T04:00:00Z" },
  now: "2026-04-01T00:00:00Z",
  rateLimit: Effect.flatMap(simulator, (s) => s.failNext(429, 30)),
  transient: Effect.flatMap(simulator, (s) => s.failNext(503)),
  malformed: Effect.flatMap(simulator, (s) => s.corruptNext)
})
// #endregion

it.scoped("the host imports a week of history through the scheduler, then the newest interval", () =>
  Effect.gen(function*() {
    // set the clock before the scheduler starts (its timers are scheduled from the current time)
    yield* TestClock.setTime(DateTime.unsafeMake("2026-03-09T09:10:00Z"))
    const { health, intervals } = yield* program.pipe(Effect.provide(HostLayer(AcmeSimulator.layer())))
    assert.deepStrictEqual(
      { done: health.history?.done, windows: health.history?.windowsTotal, stalled: health.stalled },
      { done: true, windows: 7, stalled: false }
    )
    assert.deepStrictEqual(health.watermark, DateTime.unsafeMake("2026-03-09T09:00:00Z"))
    assert.isTrue(intervals.length >= 24)
    assert.deepStrictEqual(
      Array.from(new Set(intervals.map((r) => r.queueName))).sort(),
      ["Billing", "Mail", "Web chat"]
    )
  }))
