import { ConnectorRegistry } from "@acd-bridge/core"
import { GenesysEngage } from "@acd-bridge/genesys-engage"

export const registry = ConnectorRegistry.layer(GenesysEngage.connector) // key "genesys-engage", delivery mode "on-premise"

export {}
