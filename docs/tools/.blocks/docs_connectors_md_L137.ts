ConnectorSuite.suite("Acme", {
  connector,
  config,
  badCredentialsConfig: { ...config, token: "not-the-token" },
  layer: AcmeSimulator.layer(),
  windows: [{ from: "2026-03-02T00:00:00Z", to: "2026-03-02T12:00:00Z" }],
  rateLimit: Effect.flatMap(AcmeSimulator.AcmeSimulator, (s) => s.failNext(429, 30)),
  transient: Effect.flatMap(AcmeSimulator.AcmeSimulator, (s) => s.failNext(503)),
  malformed: Effect.flatMap(AcmeSimulator.AcmeSimulator, (s) => s.corruptNext)
})

export {}
