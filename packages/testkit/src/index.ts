/**
 * @since 0.1.0
 */
export * as DriverSuite from "./DriverSuite.js"
export * as StorageSuite from "./StorageSuite.js"
export * as Scenario from "./Scenario.js"
export * as FakeSource from "./FakeSource.js"
export * as FakeConnector from "./FakeConnector.js"
export * as ConnectorSuite from "./ConnectorSuite.js"
