/**
 * @since 0.1.0
 */
export * as Scenario from "./Scenario.js"
