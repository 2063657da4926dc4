/**
 * The Genesys Engage connector. The Info Mart simulator for tests lives on the
 * `@acd-bridge/genesys-engage/simulator` subpath.
 *
 * @since 0.1.0
 */
export * as GenesysConfig from "./GenesysConfig.js"
export * as GenesysEngage from "./GenesysEngage.js"
