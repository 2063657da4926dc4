import { Vonage } from "@acd-bridge/vonage"
import { ConnectorRegistry } from "@acd-bridge/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient" // or FetchHttpClient

const Registry = ConnectorRegistry.layer(Vonage.connector).pipe(Layer.provide(NodeHttpClient.layerUndici))
// integration config: { region: "emea", clientId: "…", clientSecret: "…" }

export {}
