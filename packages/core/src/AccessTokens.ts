/**
 * Personal access tokens: a tenant's user authenticates with one for the admin API and for
 * pushing into the tenant's integrations. Stored like API keys: hash and visible prefix only.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { AccessToken } from "./Domain.js"
import type { TenantId, UserId } from "./Domain.js"
import { AccessTokenNotFound } from "./Errors.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Storage } from "./Storage.js"

/** @since 0.1.0 @category constants */
export const tokenPrefix = "acdp_"

/**
 * @since 0.1.0 @category services
 */
export class AccessTokens extends Effect.Service<AccessTokens>()("@acd-bridge/core/AccessTokens", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const keys = yield* KeyMaterial

    /** A new token, shown once. */
    const create = Effect.fn("AccessTokens.create")(
      function*(input: { readonly tenantId: TenantId; readonly userId: UserId; readonly name: string }) {
        const token = `${tokenPrefix}${yield* keys.randomToken(32)}`
        const record = new AccessToken({
          id: keys.uuid(),
          tenantId: input.tenantId,
          userId: input.userId,
          name: input.name,
          prefix: token.slice(0, 12),
          hash: yield* keys.sha256(token),
          createdAt: DateTime.unsafeMake(yield* Clock.currentTimeMillis),
          revokedAt: null
        })
        yield* storage.accessTokens.insert(record)
        return { token, record } as const
      }
    )

    const authenticate = Effect.fn("AccessTokens.authenticate")(function*(presented: string) {
      if (!presented.startsWith(tokenPrefix)) return Option.none<AccessToken>()
      const found = yield* storage.accessTokens.findByHash(yield* keys.sha256(presented))
      return Option.filter(found, (t) => t.revokedAt === null)
    })

    /** The tenant's tokens, oldest first, revoked ones included (never the token itself). */
    const list = (tenantId: TenantId) => storage.accessTokens.list(tenantId)

    /** The tenant's token, or `AccessTokenNotFound` (also for another tenant's). */
    const get = Effect.fn("AccessTokens.get")(function*(tenantId: TenantId, id: string) {
      const found = yield* storage.accessTokens.get(id)
      if (Option.isNone(found) || found.value.tenantId !== tenantId) return yield* new AccessTokenNotFound({ tokenId: id })
      return found.value
    })

    /**
     * Revokes the token at once; it authenticates nothing afterwards. Revoking a revoked token
     * changes nothing. With a tenant, only that tenant's token (`AccessTokenNotFound` otherwise).
     */
    const revoke = Effect.fn("AccessTokens.revoke")(function*(id: string, tenantId?: TenantId) {
      if (tenantId !== undefined) yield* get(tenantId, id)
      yield* storage.accessTokens.revoke(id, yield* Clock.currentTimeMillis)
      return yield* storage.accessTokens.get(id)
    })

    return { create, authenticate, list, get, revoke } as const
  }),
  dependencies: [KeyMaterial.Default]
}) {}
