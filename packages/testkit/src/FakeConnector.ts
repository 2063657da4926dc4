/**
 * A connector over `FakeSource`, for examples and tests of the engine: it reaches the source
 * through its `R` (provide `FakeSource.layer(...)` to the registry layer), reads windows in
 * pages, has a live feed with positions, and reports credentials in `check`.
 *
 * ```ts
 * const Registry = ConnectorRegistry.layer(FakeConnector.connector).pipe(Layer.provide(FakeSource.layer({ seed: 1 })))
 * yield* integrations.create(tenantId, { name: "Fake", connector: "fake", config: FakeConnector.config })
 * ```
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { FakeSource } from "./FakeSource.js"

/**
 * The fake connector's config: the API key is a secret.
 *
 * @since 0.1.0 @category models
 */
export const Config = Schema.Struct({
  apiKey: Schema.Redacted(Schema.String.pipe(Schema.minLength(4))),
  /** an optional account name, only shown */
  account: Schema.optional(Schema.NonEmptyTrimmedString)
})

/** @since 0.1.0 @category models */
export type Config = typeof Config.Type

/**
 * The connector (key `"fake"`).
 *
 * @since 0.1.0 @category connectors
 */
export const connector = Connector.make({
  key: "fake",
  displayName: "Fake ACD (testkit)",
  deliveryModes: ["cloud", "on-premise"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: Config,
  pull: (config, window) =>
    Stream.unwrap(Effect.map(FakeSource, (source) =>
      source.read(config.apiKey, {
        from: window.from.epochMillis,
        to: window.to.epochMillis
      }))),
  realtime: (config, position) => Stream.unwrap(Effect.map(FakeSource, (source) => source.live(config.apiKey, position))),
  check: (config) => Effect.flatMap(FakeSource, (source) => source.verify(config.apiKey))
})

/** A config the fake source accepts by default (encoded form). @since 0.1.0 @category fixtures */
export const config = { apiKey: "fake-secret" } as const

/** A config whose key the fake source rejects. @since 0.1.0 @category fixtures */
export const badCredentials = { apiKey: "wrong-key" } as const
