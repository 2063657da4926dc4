import { ConnectorRegistry } from "@acd-bridge/core"
import { SqlConnector } from "@acd-bridge/sql"

const Registry = ConnectorRegistry.layer(SqlConnector.connector) // key "sql"

export {}
