/**
 * @since 0.1.0
 */
export * as GenesysConfig from "./GenesysConfig.js"
export * as GenesysEngage from "./GenesysEngage.js"
export * as GenesysSimulator from "./GenesysSimulator.js"
