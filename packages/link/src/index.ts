/**
 * `@acd-bridge/link`: the on-premise agent (`acd-link`).
 *
 * @since 0.3.0
 */
export * as Agent from "./Agent.js"
export * as LinkConfig from "./LinkConfig.js"
export * as Outbox from "./Outbox.js"
