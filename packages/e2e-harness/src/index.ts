/**
 * Test-only helpers shared by the connector packages' end-to-end tests (five9, vonage). Lives
 * outside `@acd-bridge/testkit` because it needs `@acd-bridge/http` and `@acd-bridge/sql-storage`,
 * which themselves depend on the testkit.
 */
export * from "./Harness.js"
export * from "./Suites.js"
