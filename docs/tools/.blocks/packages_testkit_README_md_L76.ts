import { Connector, ConnectorRegistry } from "@acd-bridge/core"
import { FakeConnector, FakeSource } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const Source = FakeSource.layer({
  seed: 7,
  contactsPerQuarter: 3,                           // per queue; activeShare < 1 thins it out for multi-year tests
  corrections: { share: 0.2, delay: "2 hours" },   // late restatements
  keepsDays: 90                                    // older windows are empty
})
// integrations: { connector: "fake", config: FakeConnector.config }
export const Registry = ConnectorRegistry.layer(FakeConnector.connector).pipe(Layer.provide(Source))

// in a test, with the same Source provided
export const misbehave = Effect.gen(function*() {
  const source = yield* FakeSource.FakeSource
  yield* source.fail(new Connector.Transient({ reason: "503" }), 3)   // the next three requests
  yield* source.fail(new Connector.RateLimited({ retryAfterMs: 30_000 }))
  yield* source.setApiKey("rotated")                                   // AuthFailed from now on
  yield* source.setMalformed(true)                                     // first page, then InvalidData
  const calls = yield* source.calls                                    // requests so far
  const truth = yield* source.truth({                                  // what a clean import holds
    from: Date.parse("2026-03-02T00:00:00Z"),                          // epoch ms
    to: Date.parse("2026-03-03T00:00:00Z")
  })
  return { calls, truth }
})

export {}
