// test/AcmeConnector.test.ts — from examples/custom-connector, runs with
// pnpm vitest run examples/custom-connector
import { ConnectorSuite } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import { connector } from "../src/AcmeConnector.js"
import * as AcmeSimulator from "../src/AcmeSimulator.js"

const config = { baseUrl: "https://acme.example", token: AcmeSimulator.token }

ConnectorSuite.suite("Acme", {
  connector,
  config,                                                   // encoded, as a host stores it
  badCredentialsConfig: { ...config, token: "not-the-token" },
  invalidConfigs: [{ config: { ...config, baseUrl: "http://acme.example" }, field: "baseUrl" }],
  layer: AcmeSimulator.layer(),                             // fresh for every case
  windows: [
    { from: "2026-03-02T00:00:00Z", to: "2026-03-02T12:00:00Z" },
    { from: "2026-03-02T12:00:00Z", to: "2026-03-03T00:00:00Z" }
  ],
  dstWindow: { from: "2026-03-28T22:00:00Z", to: "2026-03-29T04:00:00Z" },
  now: "2026-04-01T00:00:00Z",                              // TestClock during the cases
  rateLimit: Effect.flatMap(AcmeSimulator.AcmeSimulator, (s) => s.failNext(429, 30)),
  transient: Effect.flatMap(AcmeSimulator.AcmeSimulator, (s) => s.failNext(503)),
  malformed: Effect.flatMap(AcmeSimulator.AcmeSimulator, (s) => s.corruptNext)
})

export {}
