/**
 * The bearer-token middlewares of the API: `AdminAuthentication` on the admin routes (admin
 * token or personal access token), `PushAuthentication` on the push routes (API keys as well).
 * Both ask the host's `Authenticator` and provide the caller as `CurrentPrincipal`.
 *
 * @since 0.1.0
 */
import type { Principal } from "@acd-bridge/core"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { Authenticator } from "./Authenticator.js"
import type { Scope } from "./Authenticator.js"
import * as Problem from "./Problem.js"

/**
 * The authenticated caller of the current request.
 *
 * @since 0.1.0 @category tags
 */
export class CurrentPrincipal extends Context.Tag("@acd-bridge/http/CurrentPrincipal")<
  CurrentPrincipal,
  Principal.Principal
>() {}

const bearer = HttpApiSecurity.bearer.pipe(
  HttpApiSecurity.annotate(OpenApi.Description, "An admin token, a personal access token (acdp_…) or, on the push routes, an integration's API key (acdb_…)")
)

const failure = Schema.Union(Problem.Unauthorized, Problem.InternalError)

/**
 * Admin routes: the admin token or a personal access token.
 *
 * @since 0.1.0 @category middleware
 */
export class AdminAuthentication extends HttpApiMiddleware.Tag<AdminAuthentication>()(
  "@acd-bridge/http/AdminAuthentication",
  { failure, provides: CurrentPrincipal, security: { bearer } }
) {}

/**
 * Push routes: an integration's API key, a personal access token or the admin token.
 *
 * @since 0.1.0 @category middleware
 */
export class PushAuthentication extends HttpApiMiddleware.Tag<PushAuthentication>()(
  "@acd-bridge/http/PushAuthentication",
  { failure, provides: CurrentPrincipal, security: { bearer } }
) {}

const authenticateWith = (scope: Scope) =>
  Effect.map(Authenticator, (authenticator) => ({
    bearer: (credential: Parameters<typeof authenticator.authenticate>[0]) =>
      authenticator.authenticate(credential, scope).pipe(
        Effect.tapErrorTag("StorageError", (error) => Effect.logError("authentication failed", error)),
        Effect.mapError((error) => error._tag === "Unauthorized" ? Problem.unauthorized() : Problem.internal())
      )
  }))

/**
 * Both middlewares over the `Authenticator` in context.
 *
 * @since 0.1.0 @category layers
 */
export const layer: Layer.Layer<AdminAuthentication | PushAuthentication, never, Authenticator> = Layer.mergeAll(
  Layer.effect(AdminAuthentication, authenticateWith("admin")),
  Layer.effect(PushAuthentication, authenticateWith("push"))
)
