import * as DateTime from "effect/DateTime"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import type { ContactEvent } from "../src/Domain.js"
import { TenantId } from "../src/Domain.js"
import * as Engine from "../src/Engine.js"
import * as Storage from "../src/Storage.js"

export const tenant = TenantId.make("tenant-a")
export const otherTenant = TenantId.make("tenant-b")

/** A push-only cloud connector, like api-push. */
export const pushConnector = Connector.make({
  key: "api-push",
  displayName: "Push API",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: Schema.Struct({})
})

/** An on-premise connector with a secret in its config. */
export const onPremConnector = Connector.make({
  key: "files",
  displayName: "Files",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({
    folder: Schema.NonEmptyString,
    password: Schema.Redacted(Schema.String)
  })
})

export const TestEngine = Engine.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(pushConnector, onPremConnector)))
)

export const contact = (
  at: string,
  overrides: Partial<ContactEvent> = {}
): ContactEvent => ({
  queueIdentifier: "q1",
  queueName: "Level 1",
  channel: "calls",
  timestamp: DateTime.unsafeMake(at),
  offered: true,
  handled: true,
  durationMs: 120_000,
  ...overrides
})
