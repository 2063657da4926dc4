import { Five9 } from "@acd-bridge/five9"
import { ConnectorRegistry } from "@acd-bridge/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient" // or FetchHttpClient
import * as Layer from "effect/Layer"

// Five9.layer: the connector's sessions (per set of credentials: its HTTP client with the
// shared retry budget and Retry-After gate, the one-call-at-a-time rule of a Five9 user), kept for the host's lifetime
export const Registry = ConnectorRegistry.layer(Five9.connector).pipe(
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, Five9.layer))
)
// integration config: { username: "api.user@acme.com", password: "…", host: "api.five9.com" }

export {}
