import {
  AgentStatuses,
  ApiKeys,
  ConnectorRegistry,
  Domain,
  Ingest,
  Integrations,
  Intervals,
  KeyMaterial,
  Lifecycle,
  Storage
} from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { PushConnector } from "../src/index.js"

export const tenantId = Domain.TenantId.make("tenant-a")

/** Record ids count up from 4711, so the first integration's id is the string "4711". */
const NumericIds = Layer.sync(KeyMaterial.KeyMaterial, () => {
  let next = 4711
  return KeyMaterial.KeyMaterial.make({
    randomToken: (bytes) => Effect.sync(() => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url")),
    uuid: () => String(next++),
    sha256: (text) =>
      Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
        Effect.map((buffer) => Buffer.from(buffer).toString("hex"))
      )
  })
})

const Base = AgentStatuses.AgentStatuses.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(NumericIds, Storage.layerMemory, ConnectorRegistry.layer(PushConnector.connector)))
)

/** The core services push needs, over memory storage, with numeric record ids. */
export const TestEngine = Layer.mergeAll(
  Lifecycle.Lifecycle.DefaultWithoutDependencies,
  Ingest.Ingest.DefaultWithoutDependencies,
  ApiKeys.ApiKeys.DefaultWithoutDependencies
).pipe(
  Layer.provideMerge(Layer.mergeAll(Integrations.Integrations.DefaultWithoutDependencies, Intervals.Intervals.Default)),
  Layer.provideMerge(Base)
)
