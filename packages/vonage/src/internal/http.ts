/**
 * The HTTP side of the connector: OAuth2 client-credentials tokens (cached, refreshed before
 * expiry, refreshed once on a 401), one shared rate-limit gate per credentials (a 429 with
 * Retry-After on any endpoint holds back every request of the connector instance until it has
 * passed), retries with backoff for transient failures, and errors mapped to the connector
 * contract's `AuthFailed` / `RateLimited` / `Transient` / `InvalidData`.
 */
import { Connector } from "@acd-bridge/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { acceptV3, ErrorBody, Token } from "./wire.js"

const { AuthFailed, InvalidData, RateLimited, Transient } = Connector
type ConnectorError = Connector.ConnectorError

/** What a request needs to know about the account. */
export interface Endpoint {
  readonly authBaseUrl: string
  readonly apiBaseUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly scope: string
  readonly externalId?: string | undefined
  readonly maxRetries: number
  readonly maxRateLimitRetries: number
}

/** Mutable state shared by every request made with one set of credentials. */
export interface Session {
  token: { readonly value: string; readonly expiresAt: number } | undefined
  /** no request leaves before this instant (epoch ms): the shared fair-use budget */
  blockedUntil: number
  readonly refresh: Effect.Semaphore
  readonly permits: Effect.Semaphore
  /** counters, for diagnostics and tests */
  readonly stats: { tokenRequests: number; rateLimited: number; retries: number }
}

/** Refresh a token this long before it expires. */
export const refreshSkewMs = 5 * 60_000

export const makeSession = (concurrency: number): Session => ({
  token: undefined,
  blockedUntil: 0,
  refresh: Effect.unsafeMakeSemaphore(1),
  permits: Effect.unsafeMakeSemaphore(concurrency),
  stats: { tokenRequests: 0, rateLimited: 0, retries: 0 }
})

const retryAfterMs = (value: string | undefined, now: number): number => {
  if (value === undefined || value.trim() === "") return 1_000
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000)
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, date - now) : 1_000
}

const backoff = (attempt: number) => Duration.millis(Math.min(10_000, 200 * 2 ** attempt))

/** Waits until the shared gate is open. */
const waitGate = (session: Session) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    session.blockedUntil > now ? Effect.sleep(Duration.millis(session.blockedUntil - now)) : Effect.void)

const closeGate = (session: Session, now: number, ms: number) => {
  session.blockedUntil = Math.max(session.blockedUntil, now + ms)
  session.stats.rateLimited++
}

const messageOf = (text: string): string => {
  try {
    const parsed = Schema.decodeUnknownEither(ErrorBody)(JSON.parse(text))
    return Either.isRight(parsed) ? parsed.right.message : text.slice(0, 200)
  } catch {
    return text.slice(0, 200)
  }
}

type Raw = { readonly status: number; readonly retryAfter: string | undefined; readonly body: string }

const execute = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(request).pipe(
      Effect.flatMap((res) =>
        Effect.map(res.text, (body): Raw => ({ status: res.status, retryAfter: res.headers["retry-after"], body }))
      ),
      Effect.scoped,
      Effect.mapError((e) => new Transient({ reason: `${request.method} ${request.url}: ${e.message}` }))
    ))

const fetchToken = (session: Session, ep: Endpoint): Effect.Effect<string, ConnectorError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const url = `${ep.authBaseUrl}/Auth/connect/token`
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams({
        grant_type: "client_credentials",
        client_id: ep.clientId,
        client_secret: Redacted.value(ep.clientSecret),
        scope: ep.scope
      })
    )
    let transient = 0
    let limited = 0
    for (;;) {
      yield* waitGate(session)
      session.stats.tokenRequests++
      const raw = yield* Effect.either(execute(request))
      const now = yield* Clock.currentTimeMillis
      if (Either.isLeft(raw)) {
        if (transient++ >= ep.maxRetries) return yield* raw.left
        session.stats.retries++
        yield* Effect.sleep(backoff(transient))
        continue
      }
      const { body, retryAfter, status } = raw.right
      if (status === 200) {
        const token = yield* Effect.try({
          try: () => Schema.decodeUnknownSync(Token)(JSON.parse(body)),
          catch: () => new Transient({ reason: `the token endpoint ${url} answered with an unreadable body` })
        })
        session.token = { value: token.access_token, expiresAt: now + token.expires_in * 1_000 }
        return token.access_token
      }
      if (status === 429) {
        const wait = retryAfterMs(retryAfter, now)
        closeGate(session, now, wait)
        if (limited++ >= ep.maxRateLimitRetries) {
          return yield* new RateLimited({ retryAfterMs: wait, reason: "token endpoint" })
        }
        continue
      }
      if (status === 400 || status === 401 || status === 403) {
        return yield* new AuthFailed({
          reason: `the token endpoint ${url} refused client "${ep.clientId}" (HTTP ${status}: ${
            messageOf(body)
          }); check the client id and secret of the API credential and that it may request the "${ep.scope}" scope`
        })
      }
      if (status === 404) {
        return yield* new AuthFailed({
          reason: `there is no token endpoint at ${url} (HTTP 404); check the region or the authBaseUrl setting`
        })
      }
      if (transient++ >= ep.maxRetries) {
        return yield* new Transient({ reason: `token endpoint ${url}: HTTP ${status}` })
      }
      session.stats.retries++
      yield* Effect.sleep(backoff(transient))
    }
  })

/**
 * A valid token: the cached one unless it expires within `refreshSkewMs` or is the one the
 * API just rejected. One refresh at a time per session.
 */
export const token = (session: Session, ep: Endpoint, rejected?: string) =>
  session.refresh.withPermits(1)(
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const current = session.token
      if (current && current.value !== rejected && now < current.expiresAt - refreshSkewMs) {
        return Effect.succeed(current.value)
      }
      return fetchToken(session, ep)
    })
  )

/**
 * `GET {apiBaseUrl}{path}?{params}` → the parsed JSON body of a 200.
 */
export const getJson = (
  session: Session,
  ep: Endpoint,
  path: string,
  params: Readonly<Record<string, string>>
): Effect.Effect<unknown, ConnectorError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const url = `${ep.apiBaseUrl}${path}`
    const what = `GET ${path}?${new URLSearchParams(params).toString()}`
    let transient = 0
    let limited = 0
    let rejected: string | undefined = undefined
    for (;;) {
      yield* waitGate(session)
      const bearer: string = yield* token(session, ep, rejected)
      const request = HttpClientRequest.get(url, { urlParams: params }).pipe(
        HttpClientRequest.bearerToken(bearer),
        HttpClientRequest.accept(acceptV3),
        ep.externalId ? HttpClientRequest.setHeader("x-external-id", ep.externalId) : (r) => r
      )
      const raw = yield* Effect.either(session.permits.withPermits(1)(execute(request)))
      const now = yield* Clock.currentTimeMillis
      if (Either.isLeft(raw)) {
        if (transient++ >= ep.maxRetries) return yield* raw.left
        session.stats.retries++
        yield* Effect.sleep(backoff(transient))
        continue
      }
      const { body, retryAfter, status } = raw.right
      if (status === 200) {
        const parsed = Option.liftThrowable(JSON.parse)(body)
        if (Option.isSome(parsed)) return parsed.value as unknown
        // a body cut short reads as truncated JSON: retry like a dropped connection
        if (transient++ >= ep.maxRetries) return yield* new Transient({ reason: `${what}: unreadable JSON body` })
        session.stats.retries++
        yield* Effect.sleep(backoff(transient))
        continue
      }
      if (status === 401) {
        if (rejected === undefined) {
          // the token expired or was revoked: refresh once
          rejected = bearer
          continue
        }
        return yield* new AuthFailed({
          reason: `the Insights Stats API rejected a freshly issued token for ${what} (HTTP 401: ${messageOf(body)})`
        })
      }
      if (status === 403) {
        return yield* new AuthFailed({
          reason: `the API credential may not read ${path} (HTTP 403: ${
            messageOf(body)
          }); it needs the "${ep.scope}" scope (Insights Stats API)`
        })
      }
      if (status === 429) {
        const wait = retryAfterMs(retryAfter, now)
        closeGate(session, now, wait)
        if (limited++ >= ep.maxRateLimitRetries) {
          return yield* new RateLimited({ retryAfterMs: wait, reason: `${limited} answers 429 in a row for ${path}` })
        }
        continue
      }
      if (status >= 500 || status === 408) {
        if (transient++ >= ep.maxRetries) return yield* new Transient({ reason: `${what}: HTTP ${status}` })
        session.stats.retries++
        yield* Effect.sleep(backoff(transient))
        continue
      }
      return yield* new InvalidData({ record: what, reason: `HTTP ${status}: ${messageOf(body)}` })
    }
  })

/** Decodes one item; a failure names the request, page and position. */
export const decodeItem = <A, I>(schema: Schema.Schema<A, I>, item: unknown, where: string) =>
  Effect.mapError(
    Schema.decodeUnknown(schema)(item),
    (e) => new InvalidData({ record: where, reason: ParseResult.TreeFormatter.formatErrorSync(e) })
  )
