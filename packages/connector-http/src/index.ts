/**
 * @since 0.3.0
 */
export * as ConnectorHttp from "./ConnectorHttp.js"
