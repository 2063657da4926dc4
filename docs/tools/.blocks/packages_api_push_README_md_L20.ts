import { PushApi, PushConnector } from "@acd-bridge/api-push"
import { ConnectorRegistry, Domain, Engine, Principal, Storage } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export const HostLayer = Engine.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(PushConnector.connector)))
)

// body: the raw request body (bytes or text); principal: whoever your authentication says is calling
export const receive = (tenantId: Domain.TenantId, integrationId: Domain.IntegrationId, body: Uint8Array) =>
  PushApi.push("contactEvents", Principal.IntegrationKey({ tenantId, integrationId }), body, {
    idempotencyKey: "batch-0001"
  }) // Effect<{ accepted: number }, PushApi.PushError, …>

// or in two steps, to act in between (count the records against a limit, say)
export const receiveCounted = (principal: Principal.Principal, body: Uint8Array) =>
  Effect.gen(function*() {
    const decoded = yield* PushApi.decode("contactEvents", principal, body) // { target, batch, records, … }
    yield* Effect.logDebug(`${decoded.records} records for ${decoded.target.integration.id}`)
    return yield* PushApi.apply(decoded, { idempotencyKey: "batch-0001" })
  })

export {}
