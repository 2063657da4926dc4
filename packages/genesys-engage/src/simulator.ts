/**
 * Test-only: `GenesysSimulator`, a Genesys Info Mart in SQLite or PostgreSQL filled from a
 * `@acd-bridge/testkit` scenario. Kept off the package's main entry, so a host that imports
 * `@acd-bridge/genesys-engage` to run the connector never loads it (nor the testkit).
 *
 * @since 0.2.0
 */
export * as GenesysSimulator from "./GenesysSimulator.js"
