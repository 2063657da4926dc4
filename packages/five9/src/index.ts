/**
 * The Five9 connector. The simulator is a separate entry point (`@acd-bridge/five9/simulator`),
 * so a host that imports the connector never loads test-only code.
 *
 * @since 0.1.0
 */
export * as Five9 from "./Five9.js"
