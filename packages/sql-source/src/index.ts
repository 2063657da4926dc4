/**
 * @since 0.1.0
 */
export * as Guard from "./Guard.js"
export * as SqlConfig from "./SqlConfig.js"
export * as SqlConnector from "./SqlConnector.js"
