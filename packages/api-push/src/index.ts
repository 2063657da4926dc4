/**
 * `@acd-bridge/api-push`: the push connector, the push API's wire format and its HTTP routes.
 *
 * @since 0.1.0
 */
export * as JsonBody from "./JsonBody.js"
export * as PushApi from "./PushApi.js"
export * as PushConnector from "./PushConnector.js"
export * as PushWire from "./PushWire.js"
