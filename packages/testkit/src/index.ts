/**
 * @since 0.1.0
 */
export * as StorageSuite from "./StorageSuite.js"
export * as Scenario from "./Scenario.js"
