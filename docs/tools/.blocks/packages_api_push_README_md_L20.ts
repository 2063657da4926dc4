import { PushApi, PushConnector } from "@acd-bridge/api-push"
import { ConnectorRegistry, Engine, Principal, Storage } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const HostLayer = Engine.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(PushConnector.connector)))
)

// body: the raw request body (bytes or text); principal: whoever your authentication says is calling
const answer = PushApi.push("contactEvents", Principal.IntegrationKey({ tenantId, integrationId }), body, {
  idempotencyKey: "batch-0001"
}) // Effect<{ accepted: number }, PushApi.PushError, …>

// or in two steps, to act in between (count the records against a limit, say)
const decoded = yield* PushApi.decode("contactEvents", principal, body) // { target, batch, records, … }
const accepted = yield* PushApi.apply(decoded, { idempotencyKey: "batch-0001" })

export {}
