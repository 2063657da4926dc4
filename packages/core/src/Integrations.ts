/**
 * Creating and reading integrations.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { ConnectorRegistry } from "./ConnectorRegistry.js"
import type { Registered } from "./ConnectorRegistry.js"
import { DataKind, DeliveryMode, Integration, IntegrationId, LinkId, Schedule } from "./Domain.js"
import type { TenantId } from "./Domain.js"
import { DeliveryModeNotSupported, IntegrationNotFound, InvalidRequest } from "./Errors.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { OnPremise } from "./LinkModel.js"
import { Storage } from "./Storage.js"

/**
 * What a caller gives to create an integration; everything but name and connector has a default.
 *
 * @since 0.1.0 @category models
 */
export const CreateIntegration = Schema.Struct({
  name: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)),
  connector: Schema.NonEmptyTrimmedString,
  deliveryMode: Schema.optional(DeliveryMode),
  schedule: Schema.optional(Schedule),
  timezone: Schema.optional(Schema.String),
  dataKinds: Schema.optional(Schema.Array(DataKind).pipe(Schema.minItems(1))),
  config: Schema.optional(Schema.Unknown),
  historyDepthDays: Schema.optional(Schema.Int.pipe(Schema.between(1, 3660))),
  /**
   * On-premise integrations read by `link` agents: the link that serves it (default: any link
   * of the tenant whose configuration holds it).
   */
  linkId: Schema.optional(Schema.NonEmptyTrimmedString)
})
/** @since 0.1.0 @category models */
export type CreateIntegration = typeof CreateIntegration.Type

/** Three years, the default depth of the first history import. @since 0.1.0 @category constants */
export const defaultHistoryDepthDays = 1096

/** Checks an IANA zone name. */
const validateTimezone = (field: string, name: string): Either.Either<string, InvalidRequest> =>
  Option.match(DateTime.zoneMakeNamed(name), {
    onNone: () =>
      Either.left(new InvalidRequest({ field, reason: `"${name}" is not an IANA time zone (e.g. Europe/Berlin)` })),
    onSome: () => Either.right(name)
  })

/**
 * @since 0.1.0 @category services
 */
export class Integrations extends Effect.Service<Integrations>()("@acd-bridge/core/Integrations", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const registry = yield* ConnectorRegistry
    const keys = yield* KeyMaterial
    const onPremise = yield* OnPremise

    /**
     * Whether the connector validates the config here: not for on-premise integrations read by
     * links, whose connection config (and its secrets) lives in the link's own configuration.
     */
    const configuredHere = (deliveryMode: DeliveryMode) => !(deliveryMode === "on-premise" && onPremise === "link")

    /** The tenant's link named by `linkId`, for an on-premise integration. */
    const checkLink = (tenantId: TenantId, deliveryMode: DeliveryMode, linkId: string | undefined) =>
      Effect.gen(function*() {
        if (linkId === undefined) return null
        if (deliveryMode !== "on-premise") {
          return yield* new InvalidRequest({ field: "linkId", reason: "only on-premise integrations are served by a link" })
        }
        const link = yield* storage.links.get(LinkId.make(linkId))
        if (Option.isNone(link) || link.value.tenantId !== tenantId) {
          return yield* new InvalidRequest({ field: "linkId", reason: `no link ${linkId} in this tenant` })
        }
        if (link.value.revokedAt !== null) {
          return yield* new InvalidRequest({ field: "linkId", reason: `link ${linkId} is revoked` })
        }
        return link.value.id
      })

    const defaultSchedule = (connector: Registered): Schedule =>
      connector.key === "api-push" ? { type: "realtime" } : { type: "historical", everyMinutes: 15 }

    /**
     * Creates an integration. The answer carries warnings (e.g. another integration has the
     * same name) that don't stop creation.
     */
    const create = Effect.fn("Integrations.create")(function*(tenantId: TenantId, input: CreateIntegration) {
      const connector = yield* registry.get(input.connector)
      const deliveryMode = input.deliveryMode ?? connector.deliveryModes[0] ?? "cloud"
      if (!connector.deliveryModes.includes(deliveryMode)) {
        return yield* new DeliveryModeNotSupported({
          connector: connector.key,
          deliveryMode,
          supported: connector.deliveryModes
        })
      }
      const dataKinds = input.dataKinds ?? connector.dataKinds
      for (const kind of dataKinds) {
        if (!connector.dataKinds.includes(kind)) {
          return yield* new InvalidRequest({
            field: "dataKinds",
            reason: `connector "${connector.key}" does not import ${kind} (it imports: ${connector.dataKinds.join(", ")})`
          })
        }
      }
      const timezone = yield* validateTimezone("timezone", input.timezone ?? "UTC")
      if (configuredHere(deliveryMode)) yield* connector.configure(input.config ?? {})
      const linkId = yield* checkLink(tenantId, deliveryMode, input.linkId)
      const existing = yield* storage.integrations.list(tenantId)
      const warnings = existing.some((i) => i.status !== "deleted" && i.name === input.name)
        ? [`Another integration is already named "${input.name}"; names need not be unique, but may confuse`]
        : []
      const now = DateTime.unsafeMake(yield* Clock.currentTimeMillis)
      const integration = new Integration({
        id: IntegrationId.make(keys.uuid()),
        tenantId,
        name: input.name,
        connector: connector.key,
        deliveryMode,
        dataKinds: [...dataKinds],
        schedule: input.schedule ?? defaultSchedule(connector),
        timezone,
        config: input.config ?? {},
        historyDepthDays: input.historyDepthDays ?? defaultHistoryDepthDays,
        status: "active",
        failing: null,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
        linkId
      })
      yield* storage.integrations.insert(integration)
      yield* Effect.annotateCurrentSpan({ integrationId: integration.id, connector: connector.key })
      return { integration, warnings }
    })

    /** The integration, if it exists in the tenant (deleted ones included). */
    const get = Effect.fn("Integrations.get")(function*(tenantId: TenantId, id: string) {
      const found = yield* storage.integrations.get(IntegrationId.make(id))
      if (Option.isNone(found) || found.value.tenantId !== tenantId) {
        return yield* new IntegrationNotFound({ integrationId: id })
      }
      return found.value
    })

    const list = (tenantId: TenantId) => storage.integrations.list(tenantId)

    /** The connector config as it may be shown: secrets replaced by "<redacted>". */
    const redactedConfig = (integration: Integration) =>
      registry.get(integration.connector).pipe(
        Effect.map((c) => c.redact(integration.config)),
        Effect.orElseSucceed(() => ({}))
      )

    /**
     * Replaces the connector config (validated by the connector's schema). A config change
     * clears the failing mark, so an integration stopped by rejected credentials runs again.
     */
    const updateConfig = Effect.fn("Integrations.updateConfig")(
      function*(tenantId: TenantId, id: string, config: unknown) {
        const integration = yield* get(tenantId, id)
        const connector = yield* registry.get(integration.connector)
        if (configuredHere(integration.deliveryMode)) yield* connector.configure(config)
        // only the config and the failing mark change: a pause made meanwhile is kept
        return yield* storage.integrations.setConfig(integration.id, config, yield* Clock.currentTimeMillis)
      }
    )

    return { create, get, list, redactedConfig, updateConfig } as const
  }),
  dependencies: [KeyMaterial.Default]
}) {}
