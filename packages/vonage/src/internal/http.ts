/**
 * The HTTP side of the connector, on `@acd-bridge/connector-http`: OAuth2 client-credentials
 * tokens (cached, renewed 5 minutes before expiry, renewed once on a 401), one client per
 * credentials whose gate makes a 429 with Retry-After on any endpoint hold back every request
 * of those credentials until it has passed (the fair-use budget is the account's), retries of
 * transient failures by the client's schedule, and errors mapped to the connector contract's
 * `AuthFailed` / `RateLimited` / `Transient` / `InvalidData` with what to fix.
 */
import { Connector } from "@acd-bridge/core"
import { ConnectorHttp } from "@acd-bridge/connector-http"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { acceptV3, ErrorBody, Token } from "./wire.js"

const { AuthFailed, InvalidData, Transient } = Connector
type ConnectorError = Connector.ConnectorError

/** What a request needs to know about the account: the credentials and the client's limits (a session's key). */
export interface Endpoint {
  readonly authBaseUrl: string
  readonly apiBaseUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly scope: string
  readonly externalId?: string | undefined
  readonly maxRetries: number
  readonly maxRateLimitRetries: number
  readonly concurrency: number
}

/** An endpoint as a key with structural equality (the secret compares by value, still redacted). */
export const keyOf = (ep: Endpoint): Endpoint => Data.struct({ ...ep })

/** What every request made with one set of credentials shares (see `Vonage.Sessions`). */
export interface Session {
  /** the API, sending the token */
  readonly api: ConnectorHttp.Client
  readonly tokens: ConnectorHttp.TokenProvider
}

/** A session's diagnostics. */
export interface Stats {
  /** tokens fetched */
  readonly tokenRequests: number
  /** answers that asked to wait (429) */
  readonly rateLimited: number
  /** requests tried again (a transient failure, a wait, a refused token) */
  readonly retries: number
}

/** Renew a token this long before it expires. */
export const refreshSkewMs = 5 * 60_000

const messageOf = (text: string): string => {
  const parsed = Either.flatMap(
    Either.try(() => JSON.parse(text) as unknown),
    (json) => Schema.decodeUnknownEither(ErrorBody)(json)
  )
  return Either.isRight(parsed) ? parsed.right.message : text.slice(0, 200)
}

const bodyOf = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.orElseSucceed(response.text, () => "")

/** Reads the token endpoint's answer. */
const tokenAnswer = (ep: Endpoint, url: string) =>
(
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<
  ConnectorHttp.IssuedToken,
  ConnectorError | ConnectorHttp.Retry | ConnectorHttp.Wait
> =>
  Effect.gen(function*() {
    const status = response.status
    if (status === 200) {
      const token = yield* ConnectorHttp.decodeJson(Token, `POST ${url}`)(response).pipe(
        Effect.catchTag("InvalidData", () =>
          Effect.fail(new Transient({ reason: `the token endpoint ${url} answered with an unreadable body` })))
      )
      return { token: Redacted.make(token.access_token), expiresInMs: token.expires_in * 1_000 }
    }
    if (status === 400 || status === 401 || status === 403) {
      return yield* new AuthFailed({
        reason: `the token endpoint ${url} refused client "${ep.clientId}" (HTTP ${status}: ${
          messageOf(yield* bodyOf(response))
        }); check the client id and secret of the API credential and that it may request the "${ep.scope}" scope`
      })
    }
    if (status === 404) {
      return yield* new AuthFailed({
        reason: `there is no token endpoint at ${url} (HTTP 404); check the region or the authBaseUrl setting`
      })
    }
    if (status === 429) {
      const now = yield* Clock.currentTimeMillis
      return yield* new ConnectorHttp.Wait({
        retryAfterMs: ConnectorHttp.retryAfterMs(response, now),
        reason: "token endpoint: HTTP 429"
      })
    }
    return yield* new ConnectorHttp.Retry({ reason: `token endpoint ${url}: HTTP ${status}` })
  })

/** Reads an answer of the Insights Stats API: the parsed JSON body of a 200. */
const apiAnswer = (path: string, what: string) =>
(
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<unknown, ConnectorError | ConnectorHttp.Answer> =>
  Effect.gen(function*() {
    const status = response.status
    // a body cut short reads as truncated JSON: retried like a dropped connection
    if (status === 200) return yield* ConnectorHttp.decodeJson(Schema.Unknown, what)(response)
    if (status === 401) {
      // the token expired or was revoked: the client renews it once
      return yield* new ConnectorHttp.Unauthorized({
        reason: `the Insights Stats API rejected a freshly issued token for ${what} (HTTP 401: ${
          messageOf(yield* bodyOf(response))
        })`
      })
    }
    if (status === 403) {
      return yield* new AuthFailed({
        reason: `the API credential may not read ${path} (HTTP 403: ${
          messageOf(yield* bodyOf(response))
        }); it needs the "stats" scope (Insights Stats API)`
      })
    }
    if (status === 429) {
      const now = yield* Clock.currentTimeMillis
      return yield* new ConnectorHttp.Wait({
        retryAfterMs: ConnectorHttp.retryAfterMs(response, now),
        reason: `HTTP 429 for ${path}`
      })
    }
    if (status >= 500 || status === 408) return yield* new ConnectorHttp.Retry({ reason: `${what}: HTTP ${status}` })
    return yield* new InvalidData({ record: what, reason: `HTTP ${status}: ${messageOf(yield* bodyOf(response))}` })
  })

/** A session: its client, and tokens fetched through the same client (same gate and budget). */
export const makeSession = (ep: Endpoint): Effect.Effect<Session> =>
  Effect.gen(function*() {
    const http = yield* ConnectorHttp.make({
      source: "Vonage",
      concurrency: ep.concurrency,
      retries: ep.maxRetries,
      rateLimitRetries: ep.maxRateLimitRetries
    })
    const url = `${ep.authBaseUrl}/Auth/connect/token`
    const tokens = yield* ConnectorHttp.makeTokens(
      http.execute(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams({
            grant_type: "client_credentials",
            client_id: ep.clientId,
            client_secret: Redacted.value(ep.clientSecret),
            scope: ep.scope
          })
        ),
        tokenAnswer(ep, url),
        { what: `POST ${url}` }
      ),
      { refreshBeforeMs: refreshSkewMs }
    )
    return { api: http.withTokens(tokens), tokens }
  })

/** A session's diagnostics. */
export const statsOf = (session: Session): Effect.Effect<Stats> =>
  Effect.map(
    Effect.zip(session.tokens.fetched, session.api.stats),
    ([tokenRequests, http]) => ({ tokenRequests, rateLimited: http.rateLimited, retries: http.retries })
  )

/**
 * `GET {apiBaseUrl}{path}?{params}` → the parsed JSON body of a 200.
 */
export const getJson = (
  session: Session,
  ep: Endpoint,
  path: string,
  params: Readonly<Record<string, string>>
): Effect.Effect<unknown, ConnectorError, HttpClient.HttpClient> => {
  const what = `GET ${path}?${new URLSearchParams(params).toString()}`
  return session.api.execute(
    HttpClientRequest.get(`${ep.apiBaseUrl}${path}`, { urlParams: params }).pipe(
      HttpClientRequest.accept(acceptV3),
      ep.externalId ? HttpClientRequest.setHeader("x-external-id", ep.externalId) : (r) => r
    ),
    apiAnswer(path, what),
    { what }
  )
}

/** Decodes one item; a failure names the request, page and position. */
export const decodeItem = <A, I>(schema: Schema.Schema<A, I>, item: unknown, where: string) =>
  Effect.mapError(
    Schema.decodeUnknown(schema)(item),
    (e) => new InvalidData({ record: where, reason: ParseResult.TreeFormatter.formatErrorSync(e) })
  )
