import { PushConnector } from "@acd-bridge/api-push"
import { ConnectorRegistry, Engine } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"

const EngineLive = Engine.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(
    SqlStorage.layerSqlite({ filename: "./acd-bridge.sqlite" }), // the folder must exist
    ConnectorRegistry.layer(PushConnector.connector)
  ))
)

HttpAdapter.layer({ port: 8080 }).pipe( // 127.0.0.1 unless tls or trustProxy say otherwise
  // ADMIN_TOKEN unset: a ConfigError naming it; shorter than 16 characters: InvalidAdminToken
  Layer.provide(Authenticator.layerConfig({ adminToken: Config.redacted("ADMIN_TOKEN"), tenantId: Config.succeed("acme") })),
  Layer.provide(EngineLive),
  Layer.launch,
  NodeRuntime.runMain // SIGINT/SIGTERM: stop accepting, finish requests in flight, close the store
)

export {}
