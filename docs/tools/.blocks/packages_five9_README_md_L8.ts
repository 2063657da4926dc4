import { Five9 } from "@acd-bridge/five9"
import { ConnectorRegistry } from "@acd-bridge/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient" // or FetchHttpClient

const Registry = ConnectorRegistry.layer(Five9.connector).pipe(Layer.provide(NodeHttpClient.layerUndici))
// integration config: { username: "api.user@acme.com", password: "…", host: "api.five9.com" }

export {}
