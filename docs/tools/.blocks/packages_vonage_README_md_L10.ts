import { Vonage } from "@acd-bridge/vonage"
import { ConnectorRegistry } from "@acd-bridge/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient" // or FetchHttpClient
import * as Layer from "effect/Layer"

// Vonage.layer: the connector's sessions (per set of credentials: its HTTP client with the
// shared retry budget and Retry-After gate, the cached token), kept for the host's lifetime
export const Registry = ConnectorRegistry.layer(Vonage.connector).pipe(
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, Vonage.layer))
)
// integration config: { region: "emea", clientId: "…", clientSecret: "…" }

export {}
