/**
 * @since 0.1.0
 */
export * as Vonage from "./Vonage.js"
export * as VonageSimulator from "./VonageSimulator.js"
