import { PushConnector } from "@acd-bridge/api-push"
import { ConnectorRegistry, Engine } from "@acd-bridge/core"
import { Authenticator, HttpAdapter } from "@acd-bridge/http"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const EngineLive = Engine.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(
    SqlStorage.layerSqlite({ filename: "./data/acd-bridge.sqlite" }),
    ConnectorRegistry.layer(PushConnector.connector)
  ))
)

HttpAdapter.layer({ port: 8080 }).pipe( // 127.0.0.1 unless tls or trustProxy say otherwise
  Layer.provide(Authenticator.layer({ adminToken: Redacted.make(process.env.ADMIN_TOKEN!), tenantId: "acme" })),
  Layer.provide(EngineLive),
  Layer.launch,
  NodeRuntime.runMain // SIGINT/SIGTERM: stop accepting, finish requests in flight, close the store
)

export {}
