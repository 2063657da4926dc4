/**
 * The Five9 SOAP simulator, for tests and demos (`@acd-bridge/five9/simulator`). It renders a
 * `@acd-bridge/testkit` `Scenario`, so it needs the testkit (an optional peer dependency of this
 * package); the connector's entry point (`@acd-bridge/five9`) does not load it.
 *
 * @since 0.2.0
 */
export * as Five9Simulator from "./Five9Simulator.js"
