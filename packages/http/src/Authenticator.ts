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
import * as Data from "effect/Data"
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

/**
 * The admin token can't be used: missing (an unset environment variable read with
 * `Redacted.make(process.env.X!)` gives `undefined`), blank or too short. The message never
 * holds the token.
 *
 * @since 0.2.0 @category errors
 */
export class InvalidAdminToken extends Data.TaggedError("InvalidAdminToken")<{ readonly reason: string }> {
  override get message() {
    return `Authenticator: ${this.reason}`
  }
}

/** The shortest admin token accepted. */
const minimumAdminTokenLength = 16

const checkAdminToken = (token: Redacted.Redacted<string>): Effect.Effect<string, InvalidAdminToken> => {
  // typed as a string, but a host reading an unset variable passes undefined through
  const value: unknown = Redacted.isRedacted(token) ? Redacted.value(token) : undefined
  if (typeof value !== "string" || value.trim() === "") {
    return Effect.fail(
      new InvalidAdminToken({
        reason: "no admin token was given (is the environment variable that should hold it set?)"
      })
    )
  }
  if (value.length < minimumAdminTokenLength) {
    return Effect.fail(
      new InvalidAdminToken({
        reason: `the admin token must have at least ${minimumAdminTokenLength} characters (it has ${value.length})`
      })
    )
  }
  return Effect.succeed(value)
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/**
 * The default authenticator over the engine's `ApiKeys` and `AccessTokens`. Fails with
 * `InvalidAdminToken` when the admin token is missing, blank or shorter than 16 characters.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<AuthenticatorShape, InvalidAdminToken, ApiKeys.ApiKeys | AccessTokens.AccessTokens> =>
  Effect.gen(function*() {
    const apiKeys = yield* ApiKeys.ApiKeys
    const tokens = yield* AccessTokens.AccessTokens
    const admin = yield* checkAdminToken(options.adminToken)
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
export const layer = (
  options: Options
): Layer.Layer<Authenticator, InvalidAdminToken, ApiKeys.ApiKeys | AccessTokens.AccessTokens> =>
  Layer.effect(Authenticator, make(options))

/**
 * The default authenticator from configuration, e.g.
 * `layerConfig({ adminToken: Config.redacted("ACD_BRIDGE_ADMIN_TOKEN"), tenantId: Config.string("ACD_BRIDGE_TENANT") })`.
 *
 * @since 0.1.0 @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options>
): Layer.Layer<Authenticator, ConfigError.ConfigError | InvalidAdminToken, ApiKeys.ApiKeys | AccessTokens.AccessTokens> =>
  Layer.effect(Authenticator, Effect.flatMap(Config.unwrap(options), make))
