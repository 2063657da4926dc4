/**
 * The Insights Stats API simulator, for tests and demos: `import { VonageSimulator } from
 * "@acd-bridge/vonage/simulator"`. It renders a testkit `Scenario`, so it needs the optional
 * peer dependency `@acd-bridge/testkit`.
 *
 * @since 0.2.0
 */
export * as VonageSimulator from "./VonageSimulator.js"
