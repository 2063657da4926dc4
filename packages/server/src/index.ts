/**
 * `@acd-bridge/server`: the engine as a server and the `acd-bridge` command line.
 *
 * @since 0.1.0
 */
export * as AdminClient from "./AdminClient.js"
export * as Cli from "./Cli.js"
export * as Cluster from "./Cluster.js"
export * as Connectors from "./Connectors.js"
export * as Database from "./Database.js"
export * as Logging from "./Logging.js"
export * as Progress from "./Progress.js"
export * as Server from "./Server.js"
export * as ServerConfig from "./ServerConfig.js"
export * as StatusRelay from "./StatusRelay.js"
export * as SharedRateLimiter from "./SharedRateLimiter.js"
