/**
 * The `api-push` connector: sources push contact events and agent statuses to the engine's
 * HTTP push API (see `PushApi`), so the connector reads nothing itself. It has no
 * configuration; what a push carries is checked by `PushWire`.
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import * as Schema from "effect/Schema"

/**
 * The key integrations name to use the push API.
 *
 * @since 0.1.0 @category constants
 */
export const key = "api-push"

/**
 * The connector value. Register it with `ConnectorRegistry.layer(PushConnector.connector, …)`.
 *
 * @since 0.1.0 @category connectors
 */
export const connector = Connector.make({
  key,
  displayName: "Push API",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: Schema.Struct({})
})
