/**
 * `@acd-bridge/http`: the engine's HTTP adapter (DESIGN §4) on `@effect/platform` HttpApi.
 *
 * @since 0.1.0
 */
export * as Api from "./Api.js"
export * as Authenticator from "./Authenticator.js"
export * as HttpAdapter from "./HttpAdapter.js"
export * as Metrics from "./Metrics.js"
export * as LinkApi from "./LinkApi.js"
export * as Problem from "./Problem.js"
export * as RateLimiter from "./RateLimiter.js"
export * as Security from "./Security.js"
