/**
 * Who is calling: turns a bearer credential into a core `Principal`. The host may replace it
 * (single sign-on, its own user store); the default accepts the host's admin token on the
 * admin routes, personal access tokens (core `AccessTokens`) on all routes and, on the push
 * routes, integration API keys (core `ApiKeys`).
 *
 * @since 0.1.0
 */
import { AccessTokens, ApiKeys, Domain, Errors, Principal } from "@acd-bridge/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"

/**
 * Which routes a credential is presented to: the admin API, or the push API (where an
 * integration's API key is accepted as well).
 *
 * @since 0.1.0 @category models
 */
export type Scope = "admin" | "push"

/**
 * @since 0.1.0 @category models
 */
export interface AuthenticatorShape {
  /**
   * The principal the credential stands for. Unknown, revoked and missing credentials fail
   * alike with `Unauthorized`, so answers reveal nothing about which keys exist; a known
   * credential that may not be used on these routes fails with `Forbidden` (403).
   */
  readonly authenticate: (
    credential: Redacted.Redacted<string>,
    scope: Scope
  ) => Effect.Effect<Principal.Principal, Errors.Unauthorized | Errors.Forbidden | Errors.StorageError>
}

/**
 * The authenticator tag. No default: `HttpAdapter` needs one; `Authenticator.layer` is the
 * usual choice.
 *
 * @since 0.1.0 @category tags
 */
export class Authenticator extends Context.Tag("@acd-bridge/http/Authenticator")<Authenticator, AuthenticatorShape>() {}

/** @since 0.1.0 @category models */
export interface Options {
  /** The host's admin token: full admin rights in `tenantId`. At least 16 characters; 32+ recommended. */
  readonly adminToken: Redacted.Redacted<string>
  /** The tenant the admin token acts in. */
  readonly tenantId: string
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/**
 * The default authenticator over the engine's `ApiKeys` and `AccessTokens`.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (options: Options): Effect.Effect<AuthenticatorShape, never, ApiKeys.ApiKeys | AccessTokens.AccessTokens> =>
  Effect.gen(function*() {
    const apiKeys = yield* ApiKeys.ApiKeys
    const tokens = yield* AccessTokens.AccessTokens
    const admin = Redacted.value(options.adminToken)
    if (admin.length < 16) {
      return yield* Effect.dieMessage("Authenticator: the admin token must have at least 16 characters")
    }
    const adminDigest = digest(admin)
    const tenantId = Domain.TenantId.make(options.tenantId)
    const authenticate = (credential: Redacted.Redacted<string>, scope: Scope) =>
      Effect.gen(function*() {
        const presented = Redacted.value(credential).trim()
        if (presented === "") return yield* new Errors.Unauthorized()
        if (timingSafeEqual(digest(presented), adminDigest)) {
          // DESIGN §4: sources push with an API key or a personal access token, so what they
          // push is owned by an integration or a user; the host's token is for administration
          if (scope === "push") {
            return yield* new Errors.Forbidden({
              reason: "The admin token may not push data: push with the integration's API key or a personal access token"
            })
          }
          return Principal.Admin({ tenantId })
        }
        if (presented.startsWith(AccessTokens.tokenPrefix)) {
          const token = yield* tokens.authenticate(presented)
          if (Option.isSome(token)) return Principal.User({ tenantId: token.value.tenantId, userId: token.value.userId })
        }
        if (scope === "push" && presented.startsWith(ApiKeys.keyPrefix)) {
          const key = yield* apiKeys.authenticate(presented)
          if (Option.isSome(key)) {
            return Principal.IntegrationKey({ tenantId: key.value.tenantId, integrationId: key.value.integrationId })
          }
        }
        return yield* new Errors.Unauthorized()
      })
    return { authenticate }
  })

/**
 * The default authenticator as a layer.
 *
 * @since 0.1.0 @category layers
 */
export const layer = (options: Options): Layer.Layer<Authenticator, never, ApiKeys.ApiKeys | AccessTokens.AccessTokens> =>
  Layer.effect(Authenticator, make(options))

/**
 * The default authenticator from configuration, e.g.
 * `layerConfig({ adminToken: Config.redacted("ACD_BRIDGE_ADMIN_TOKEN"), tenantId: Config.string("ACD_BRIDGE_TENANT") })`.
 *
 * @since 0.1.0 @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<Authenticator, ConfigError.ConfigError, ApiKeys.ApiKeys | AccessTokens.AccessTokens> =>
  Layer.effect(Authenticator, Effect.flatMap(Config.unwrap(options), make))
