/**
 * @since 0.1.0
 */
export * as Five9 from "./Five9.js"
export * as Five9Simulator from "./Five9Simulator.js"
