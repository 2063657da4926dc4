/**
 * Test-only helpers shared by the connector packages' end-to-end tests (five9, vonage,
 * genesys-engage): the conformance suite over a routed simulator, the scheduled suite, and the
 * production-cadence suite (`cadenceSuite`: history, 15-minute runs with the look-back at
 * arbitrary instants, an outage, all checked against the `Scenario` model). Lives outside
 * `@acd-bridge/testkit` because it needs `@acd-bridge/http` and `@acd-bridge/sql-storage`, which
 * themselves depend on the testkit.
 */
export * from "./Harness.js"
export * from "./Suites.js"
