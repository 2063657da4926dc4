import { FakeConnector, FakeSource } from "@acd-bridge/testkit"

const Source = FakeSource.layer({
  seed: 7,
  contactsPerQuarter: 3,          // per queue; activeShare < 1 thins it out for multi-year tests
  corrections: { share: 0.2, delay: "2 hours" },   // late restatements
  keepsDays: 90                   // older windows are empty
})
const Registry = ConnectorRegistry.layer(FakeConnector.connector).pipe(Layer.provide(Source))
// integrations: { connector: "fake", config: FakeConnector.config }

// in a test
const source = yield* FakeSource.FakeSource
yield* source.fail(new Connector.Transient({ reason: "503" }), 3)   // the next three requests
yield* source.fail(new Connector.RateLimited({ retryAfterMs: 30_000 }))
yield* source.setApiKey("rotated")                                   // AuthFailed from now on
yield* source.setMalformed(true)                                     // first page, then InvalidData
yield* source.calls                                                  // requests so far
yield* source.truth({ from, to })                                    // what a clean import holds

export {}
