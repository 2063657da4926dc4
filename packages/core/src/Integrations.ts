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
import type { CheckReport } from "./Connector.js"
import {
  DeliveryModeNotSupported,
  IntegrationDeleted,
  IntegrationNotFound,
  InvalidRequest,
  VersionConflict
} from "./Errors.js"
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

/**
 * What a caller may change on an integration (`PATCH`); unset fields stay. `config` is a JSON
 * merge patch onto the stored config (see `ConnectorRegistry.Registered.mergeConfig`): a
 * secret left out, or sent back as `"<redacted>"`, keeps its stored value.
 *
 * @since 0.2.0 @category models
 */
export const UpdateIntegration = Schema.Struct({
  name: Schema.optional(CreateIntegration.fields.name),
  schedule: Schema.optional(Schedule),
  timezone: Schema.optional(Schema.String),
  config: Schema.optional(Schema.Unknown),
  historyDepthDays: Schema.optional(Schema.Int.pipe(Schema.between(1, 3660)))
})
/** @since 0.2.0 @category models */
export type UpdateIntegration = typeof UpdateIntegration.Type

const decodeIntegrationId = Schema.decodeOption(IntegrationId)

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

    // pushed data arrives as it happens; pulled data is read every quarter-hour
    const defaultSchedule = (connector: Registered): Schedule =>
      connector.capabilities.pull ? { type: "historical", everyMinutes: 15 } : { type: "realtime" }

    /**
     * A schedule the connector can serve: historical windows need `pull`, a realtime stream
     * `realtime`. A connector with neither is fed by pushes and takes any schedule.
     */
    const validateSchedule = (connector: Registered, schedule: Schedule): Either.Either<Schedule, InvalidRequest> => {
      const { pull, realtime } = connector.capabilities
      if (!pull && !realtime) return Either.right(schedule)
      if (schedule.type === "historical" && !pull) {
        return Either.left(
          new InvalidRequest({
            field: "schedule.type",
            reason: `connector "${connector.key}" has no historical import; must be one of "realtime"`
          })
        )
      }
      if (schedule.type === "realtime" && !realtime) {
        return Either.left(
          new InvalidRequest({
            field: "schedule.type",
            reason: `connector "${connector.key}" has no realtime stream; must be one of "historical"`
          })
        )
      }
      return Either.right(schedule)
    }

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
      const schedule = yield* validateSchedule(connector, input.schedule ?? defaultSchedule(connector))
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
        schedule,
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
      // text no id can be (blank, padded) names nothing; `make` would throw on it
      const key = decodeIntegrationId(id)
      const found = Option.isNone(key) ? Option.none<Integration>() : yield* storage.integrations.get(key.value)
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
     * Changes an integration's settings, validated as at creation (422 naming the field): the
     * name, the schedule (one the connector can serve), the time zone, the history depth, and
     * the config as a JSON merge patch onto the stored one (a secret left out keeps its stored
     * value). Setting `config` clears the failing mark, so an integration stopped by rejected
     * credentials runs again. Compare-and-set on the integration's version: with `ifVersion`,
     * a change made meanwhile fails with `VersionConflict`; without it, the change is merged
     * again onto the newer version (a few times) so that nothing another writer did is lost.
     */
    const update = Effect.fn("Integrations.update")(
      function*(
        tenantId: TenantId,
        id: string,
        input: UpdateIntegration,
        options: { readonly ifVersion?: number | undefined } = {}
      ) {
        const attempt = Effect.gen(function*() {
          const integration = yield* get(tenantId, id)
          if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
          if (options.ifVersion !== undefined && integration.version !== options.ifVersion) {
            return yield* new VersionConflict({
              integrationId: integration.id,
              expected: options.ifVersion,
              actual: integration.version
            })
          }
          const connector = yield* registry.get(integration.connector)
          const timezone = input.timezone === undefined
            ? undefined
            : yield* validateTimezone("timezone", input.timezone)
          const schedule = input.schedule === undefined ? undefined : yield* validateSchedule(connector, input.schedule)
          let config: unknown = undefined
          if (input.config !== undefined) {
            config = yield* connector.mergeConfig(integration.config, input.config)
            if (configuredHere(integration.deliveryMode)) yield* connector.configure(config)
          }
          return yield* storage.integrations.update(
            integration.id,
            { name: input.name, schedule, timezone, config, historyDepthDays: input.historyDepthDays },
            yield* Clock.currentTimeMillis,
            { ifVersion: integration.version }
          )
        })
        // without the caller's version, a conflict only means the merge must be made again on the newer state
        return yield* options.ifVersion === undefined
          ? Effect.retry(attempt, { while: (e) => e._tag === "VersionConflict", times: 4 })
          : attempt
      }
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

    /**
     * Runs the connector's `check` with the stored config: what it found, item by item, with
     * no secret in the text. A stored config the connector no longer accepts is reported as a
     * failed item, not an error.
     */
    const check = Effect.fn("Integrations.check")(function*(tenantId: TenantId, id: string) {
      const integration = yield* get(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      const connector = yield* registry.get(integration.connector)
      return yield* Either.match(connector.configure(integration.config), {
        onLeft: (error): Effect.Effect<CheckReport> =>
          Effect.succeed({ ok: false, items: [{ name: "config", ok: false, detail: error.message }] }),
        onRight: (configured) => configured.check
      })
    })

    return { create, get, list, redactedConfig, update, updateConfig, check } as const
  }),
  dependencies: [KeyMaterial.Default]
}) {}
