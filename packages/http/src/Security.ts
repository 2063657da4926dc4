/**
 * The bearer-token middlewares of the API: `AdminAuthentication` on the admin routes (admin
 * token or personal access token), `PushAuthentication` on the push routes (an integration's
 * API key or a personal access token). Both ask the host's `Authenticator` and provide the
 * caller as `CurrentPrincipal`.
 *
 * The credential is read from `Authorization: Bearer <token>` exactly: the scheme in any case,
 * one space, a token of visible ASCII characters. Anything else (`Basic`, `Digest`, two
 * spaces, no scheme) is 401 without asking the authenticator. The adapter's rate limits apply
 * here: failed authentications per client address (past the limit, 429 before the credential
 * is looked at) and requests per authenticated principal.
 *
 * @since 0.1.0
 */
import { Errors } from "@acd-bridge/core"
import type { Domain, Principal } from "@acd-bridge/core"
import { createHash, timingSafeEqual } from "node:crypto"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { Authenticator } from "./Authenticator.js"
import type { Scope } from "./Authenticator.js"
import { Limits } from "./internal/limits.js"
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
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "`Authorization: Bearer <token>`: the admin token or a personal access token (acdp_…) on the admin routes; " +
      "an integration's API key (acdb_…) or a personal access token on the push routes"
  )
)

/**
 * Admin routes: the admin token or a personal access token.
 *
 * @since 0.1.0 @category middleware
 */
export class AdminAuthentication extends HttpApiMiddleware.Tag<AdminAuthentication>()(
  "@acd-bridge/http/AdminAuthentication",
  {
    failure: Schema.Union(Problem.Unauthorized, Problem.Forbidden, Problem.TooManyRequests, Problem.InternalError),
    provides: CurrentPrincipal,
    security: { bearer }
  }
) {}

/**
 * Push routes: an integration's API key or a personal access token (DESIGN §4). The default
 * `Authenticator` refuses the admin token here (403).
 *
 * @since 0.1.0 @category middleware
 */
export class PushAuthentication extends HttpApiMiddleware.Tag<PushAuthentication>()(
  "@acd-bridge/http/PushAuthentication",
  {
    failure: Schema.Union(Problem.Unauthorized, Problem.Forbidden, Problem.TooManyRequests, Problem.InternalError),
    provides: CurrentPrincipal,
    security: { bearer }
  }
) {}

/**
 * Who reads `/metrics`: the tenants whose integrations the per-integration gauges show.
 *
 * @since 0.2.0 @category tags
 */
export class MetricsReader extends Context.Tag("@acd-bridge/http/MetricsReader")<
  MetricsReader,
  { readonly tenants: ReadonlyArray<TenantId> }
>() {}

/**
 * `/metrics`: the metrics token (when the adapter has one), the admin token or a personal access
 * token.
 *
 * @since 0.2.0 @category middleware
 */
export class MetricsAuthentication extends HttpApiMiddleware.Tag<MetricsAuthentication>()(
  "@acd-bridge/http/MetricsAuthentication",
  {
    failure: Schema.Union(Problem.Unauthorized, Problem.Forbidden, Problem.TooManyRequests, Problem.InternalError),
    provides: MetricsReader,
    security: {
      bearer: HttpApiSecurity.bearer.pipe(
        HttpApiSecurity.annotate(
          OpenApi.Description,
          "`Authorization: Bearer <token>`: the metrics token (for a Prometheus scraper), the admin token or a personal " +
            "access token"
        )
      )
    }
  }
) {}

/**
 * `Bearer`, one space, a token without spaces (RFC 6750). Any visible ASCII character is
 * allowed in the token (RFC 6750's b64token is narrower), so an admin token an operator chose
 * with other symbols still works.
 */
const authorizationPattern = /^bearer ([\x21-\x7e]+)$/i

const retryAfter = (waitMs: number) => Math.max(1, Math.ceil(waitMs / 1000))

const authenticate = (authenticator: Authenticator["Type"], limits: Limits["Type"], scope: Scope) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
    const address = limits.address(request)
    const blocked = limits.authenticationWait(address, now)
    if (blocked > 0) return yield* Effect.fail(Problem.authenticationLimited(retryAfter(blocked)))
    // the platform hands the handler the header minus its first 7 characters, whatever they
    // were: the header is read here instead
    const match = authorizationPattern.exec(request.headers.authorization ?? "")
    const principal = yield* (match === null
      ? Effect.fail(new Errors.Unauthorized())
      : authenticator.authenticate(Redacted.make(match[1]!), scope)).pipe(
        Effect.tapErrorTag("Unauthorized", () => Effect.sync(() => limits.authenticationFailed(address, now))),
        Effect.tapErrorTag("StorageError", (error) => Effect.logError("authentication failed", error)),
        Effect.mapError((error) =>
          error._tag === "Unauthorized"
            ? Problem.unauthorized()
            : error._tag === "Forbidden"
            ? Problem.forbidden(error.reason)
            : Problem.internal()
        )
      )
    const wait = limits.request(principal, now)
    if (wait > 0) return yield* Effect.fail(Problem.rateLimited(retryAfter(wait)))
    return principal
  })

const middleware = (scope: Scope) =>
  Effect.gen(function*() {
    const authenticator = yield* Authenticator
    const limits = yield* Limits
    return { bearer: (_credential: Redacted.Redacted<string>) => authenticate(authenticator, limits, scope) }
  })

type TenantId = Domain.TenantId

/**
 * What `/metrics` accepts besides the admin's and users' tokens.
 *
 * @since 0.2.0 @category models
 */
export interface MetricsAccess {
  /** A token only for reading `/metrics` (a scraper's), at least 16 characters. */
  readonly token?: Redacted.Redacted<string> | undefined
  /** The tenants whose integrations the per-integration gauges show to the metrics token. */
  readonly tenants?: ReadonlyArray<string> | undefined
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest()

/**
 * The metrics token given to the adapter is too short to be a secret: refused when the routes
 * are built, as the admin token is, so a host sees a typed error instead of a crash.
 *
 * @since 0.4.0 @category errors
 */
export class InvalidMetricsToken extends Data.TaggedError("InvalidMetricsToken")<{ readonly reason: string }> {
  override get message() {
    return `HttpAdapter: ${this.reason}`
  }
}

/**
 * The `/metrics` middleware: the metrics token, else the admin routes' credentials.
 *
 * @since 0.2.0 @category layers
 */
export const layerMetrics = (
  access: MetricsAccess = {}
): Layer.Layer<MetricsAuthentication, InvalidMetricsToken, Authenticator> =>
  Layer.effect(
    MetricsAuthentication,
    Effect.gen(function*() {
      const authenticator = yield* Authenticator
      const limits = yield* Limits
      const token = access.token === undefined ? undefined : Redacted.value(access.token)
      if (token !== undefined && token.length < 16) {
        return yield* new InvalidMetricsToken({
          reason: `the metrics token must have at least 16 characters (it has ${token.length})`
        })
      }
      const tokenDigest = token === undefined ? undefined : sha256(token)
      const tenants = (access.tenants ?? []) as ReadonlyArray<TenantId>
      return {
        bearer: (_credential: Redacted.Redacted<string>) =>
          Effect.gen(function*() {
            const request = yield* HttpServerRequest.HttpServerRequest
            const match = authorizationPattern.exec(request.headers.authorization ?? "")
            if (tokenDigest !== undefined && match !== null && timingSafeEqual(sha256(match[1]!), tokenDigest)) {
              return { tenants }
            }
            const principal = yield* authenticate(authenticator, limits, "admin")
            return { tenants: [principal.tenantId] }
          })
      }
    })
  )

/**
 * Both middlewares over the `Authenticator` in context (and the adapter's rate limits, when
 * `HttpAdapter` builds them).
 *
 * @since 0.1.0 @category layers
 */
export const layer: Layer.Layer<AdminAuthentication | PushAuthentication, never, Authenticator> = Layer.mergeAll(
  Layer.effect(AdminAuthentication, middleware("admin")),
  Layer.effect(PushAuthentication, middleware("push"))
)
