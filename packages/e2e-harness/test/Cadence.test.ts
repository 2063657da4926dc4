/**
 * The cadence suite's own proof that a connector following docs/counting.md passes it: over
 * testkit's FakeSource in scenario mode with FakeConnector (which reads ahead by the maximum
 * contact span and counts each visit at its queue entry), and over a small HTTP source with a
 * live view (`LiveHttp`).
 *
 * The outage case fails until core's scheduler re-reads `[old watermark − look-back, now)`
 * after a gap (issue 13): a correction written during the outage, of a contact imported before
 * it, is never read again.
 */
import { FakeConnector, FakeSource } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { cadenceSuite } from "../src/index.js"
import * as LiveHttp from "./LiveHttp.js"

cadenceSuite("FakeConnector", {
  connector: FakeConnector.connector,
  // FakeSource reads the TestClock itself: nothing to move
  simulator: (scenario) => Effect.map(FakeSource.make({ scenario }), (source) => ({ source, setNow: () => undefined })),
  layer: (sim) => Layer.succeed(FakeSource.FakeSource, sim.source),
  config: () => FakeConnector.config,
  seed: 5,
  segments: {}
})

// A source over HTTP with a live view, whose present the suite moves with setNow, and a
// connector that uses the HttpClient the suite provides (fetch): the shape of a vendor pair.
cadenceSuite("live HTTP source", {
  connector: LiveHttp.connector,
  simulator: LiveHttp.simulator,
  config: (sim) => ({ baseUrl: sim.url }),
  seed: 9,
  segments: {},
  outage: false
})
