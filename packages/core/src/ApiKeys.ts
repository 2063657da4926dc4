/**
 * API keys of integrations: 256 random bits, shown once, stored as a SHA-256 hash with a short
 * visible prefix. Generating a new key revokes the old one; deleting the integration revokes it.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ApiKey } from "./Domain.js"
import type { TenantId } from "./Domain.js"
import { IntegrationDeleted } from "./Errors.js"
import { Integrations } from "./Integrations.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Storage } from "./Storage.js"

/** Every API key starts with this, so leaked keys are easy to scan for. @since 0.1.0 @category constants */
export const keyPrefix = "acdb_"

/** Characters of a key kept visible (prefix included). @since 0.1.0 @category constants */
export const visibleLength = 12

/**
 * @since 0.1.0 @category services
 */
export class ApiKeys extends Effect.Service<ApiKeys>()("@acd-bridge/core/ApiKeys", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const integrations = yield* Integrations
    const keys = yield* KeyMaterial

    /** A new key for the integration; the previous one stops working at once. */
    const generate = Effect.fn("ApiKeys.generate")(function*(tenantId: TenantId, id: string) {
      const integration = yield* integrations.get(tenantId, id)
      if (integration.status === "deleted") return yield* new IntegrationDeleted({ integrationId: integration.id })
      const apiKey = `${keyPrefix}${yield* keys.randomToken(32)}`
      const prefix = apiKey.slice(0, visibleLength)
      yield* storage.apiKeys.replace(
        new ApiKey({
          id: keys.uuid(),
          integrationId: integration.id,
          tenantId: integration.tenantId,
          prefix,
          hash: yield* keys.sha256(apiKey),
          createdAt: DateTime.unsafeMake(yield* Clock.currentTimeMillis),
          revokedAt: null
        })
      )
      return { apiKey, prefix } as const
    })

    /** The live key record for a presented key; none for unknown and revoked keys alike. */
    const authenticate = Effect.fn("ApiKeys.authenticate")(function*(presented: string) {
      if (!presented.startsWith(keyPrefix)) return Option.none<ApiKey>()
      const found = yield* storage.apiKeys.findByHash(yield* keys.sha256(presented))
      return Option.filter(found, (k) => k.revokedAt === null)
    })

    return { generate, authenticate } as const
  }),
  dependencies: [Integrations.Default, KeyMaterial.Default]
}) {}
