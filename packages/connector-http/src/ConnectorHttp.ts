/**
 * HTTP for connector authors, on `@effect/platform`'s `HttpClient`. A `Client` is made once per
 * connector instance and set of credentials (keep it in the connector's sessions, e.g. an
 * `RcMap` keyed by credentials) and shares between all its requests:
 *
 * - **a gate**: an answer that asks to wait (`429`, or `503` with `Retry-After`, seconds or an
 *   HTTP date) holds back every request of the client until then, not only the one that got it;
 * - **a retry budget**: each retry spends one unit, each request that succeeds gives one back
 *   (up to the budget); with the budget spent, failures are returned at once, so a source that
 *   is down is not hammered by every request's own retries (the scheduler retries later);
 * - **a concurrency limit**, when the source asks for one;
 * - **tokens** (`withTokens`): a `TokenProvider` caches a token, refreshes it before it expires
 *   (one refresh at a time) and once more when the source answers `401`.
 *
 * Each request is retried by a `Schedule` (the `backoff` option, exponential from 250 ms,
 * jittered, at most 10 s apart) on transient failures: network errors, timeouts, `408`, `5xx`
 * and bodies cut short. What is left when the retries, the waits or the budget are used up
 * becomes a connector error the scheduler understands: `Transient`, `RateLimited` (with the
 * wait), `AuthFailed`; a body that does not match its schema is `InvalidData` naming the request.
 *
 * A response is read by a handler. `json(request, schema)` uses the standard one (`standard`,
 * then `HttpClientResponse.schemaBodyJson`); a source with its own error conventions (SOAP
 * faults in a `500`, error bodies worth quoting) passes its own handler to `execute` and fails
 * with `Retry`, `Wait` or `Unauthorized` to ask for the same treatment, or with a connector
 * error to stop.
 *
 * Logs never show a secret: requests are logged at debug level as method, URL with the values
 * of secret-looking query parameters replaced (`redactUrl`) and status; headers and bodies are
 * not logged, and tokens stay `Redacted`.
 *
 * @since 0.3.0
 */
import { Connector } from "@acd-bridge/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------------------------
// what a handler answers besides a value

/**
 * A transient failure: the request is tried again after the backoff; `Transient` when the
 * retries or the budget are used up.
 *
 * @since 0.3.0
 * @category answers
 */
export class Retry extends Data.TaggedError("Retry")<{ readonly reason: string }> {}

/**
 * The source asks to wait `retryAfterMs`: every request of the client waits, then this one is
 * tried again; `RateLimited` with the wait when the waits or the budget are used up.
 *
 * @since 0.3.0
 * @category answers
 */
export class Wait extends Data.TaggedError("Wait")<{ readonly retryAfterMs: number; readonly reason: string }> {}

/**
 * The source refused the token (`401`): the token is dropped and the request tried once more
 * with a fresh one; `AuthFailed` when that one is refused too, or when the client has no tokens.
 *
 * @since 0.3.0
 * @category answers
 */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{ readonly reason: string }> {}

/**
 * What a handler may fail with to have the request retried.
 *
 * @since 0.3.0
 * @category answers
 */
export type Answer = Retry | Wait | Unauthorized

const isAnswer = (u: unknown): u is Answer =>
  u instanceof Retry || u instanceof Wait || u instanceof Unauthorized

// ---------------------------------------------------------------------------------------------
// redaction

const SECRET_PARAM = /token|secret|password|passwd|pwd|key|signature|sig$|auth|code|session|credential/i

/**
 * A URL as it may be logged: no user info, and the values of query parameters whose names look
 * secret (`token`, `api_key`, `client_secret`, `password`, `signature`, …) replaced by
 * `<redacted>`.
 *
 * @since 0.3.0
 * @category redaction
 */
export const redactUrl = (url: string | URL): string => {
  const parsed = Option.liftThrowable(() => new URL(url))()
  if (Option.isNone(parsed)) return "<unreadable URL>"
  const u = parsed.value
  u.username = ""
  u.password = ""
  for (const name of Array.from(new Set(u.searchParams.keys()))) {
    if (SECRET_PARAM.test(name)) u.searchParams.set(name, "<redacted>")
  }
  return u.toString().replace(/%3Credacted%3E/g, "<redacted>")
}

const describeRequest = (request: HttpClientRequest.HttpClientRequest): string => {
  const url = Option.liftThrowable(() => new URL(request.url))()
  if (Option.isNone(url)) return `${request.method} <unreadable URL>`
  const u = new URL(redactUrl(url.value))
  const query = new URLSearchParams(UrlParams.toString(request.urlParams))
  for (const name of Array.from(new Set(query.keys()))) if (SECRET_PARAM.test(name)) query.set(name, "<redacted>")
  const search = [u.search.slice(1), query.toString().replace(/%3Credacted%3E/g, "<redacted>")].filter((s) => s !== "")
  return `${request.method} ${u.pathname}${search.length > 0 ? `?${search.join("&")}` : ""}`
}

// ---------------------------------------------------------------------------------------------
// reading answers

/**
 * The wait a `Retry-After` header asks for (seconds or an HTTP date), or `fallbackMs` without
 * one.
 *
 * @since 0.3.0
 * @category reading
 */
export const retryAfterMs = (
  response: HttpClientResponse.HttpClientResponse,
  nowMs: number,
  fallbackMs = 1_000
): number => {
  const value = response.headers["retry-after"]
  if (value === undefined || value.trim() === "") return fallbackMs
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000)
  // an HTTP date (RFC 9110 IMF-fixdate), which Date.parse reads exactly
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : fallbackMs
}

/**
 * Whether a status is worth a retry as it is: `408`, `425`, and `5xx` other than `501`.
 *
 * @since 0.3.0
 * @category reading
 */
export const isTransientStatus = (status: number): boolean =>
  status === 408 || status === 425 || (status >= 500 && status !== 501)

/**
 * The standard reading of a status: `2xx` is the response; `401` is `Unauthorized`; `403` is
 * `AuthFailed`; `429`, and `503` with `Retry-After`, are `Wait`; other transient statuses
 * (`isTransientStatus`) are `Retry`; anything else is `InvalidData` naming the request (`what`).
 *
 * @since 0.3.0
 * @category reading
 */
export const standard = (
  response: HttpClientResponse.HttpClientResponse,
  what: string
): Effect.Effect<HttpClientResponse.HttpClientResponse, Answer | Connector.AuthFailed | Connector.InvalidData> =>
  Effect.gen(function*() {
    const status = response.status
    if (status >= 200 && status < 300) return response
    if (status === 401) return yield* new Unauthorized({ reason: `${what}: HTTP 401` })
    if (status === 403) return yield* new Connector.AuthFailed({ reason: `${what}: HTTP 403 (not allowed)` })
    if (status === 429 || (status === 503 && response.headers["retry-after"] !== undefined)) {
      const now = yield* Clock.currentTimeMillis
      return yield* new Wait({ retryAfterMs: retryAfterMs(response, now), reason: `${what}: HTTP ${status}` })
    }
    if (isTransientStatus(status)) return yield* new Retry({ reason: `${what}: HTTP ${status}` })
    return yield* new Connector.InvalidData({ record: what, reason: `HTTP ${status}` })
  })

/**
 * Decodes a JSON body with `HttpClientResponse.schemaBodyJson`: a body that can't be read as
 * JSON (cut short by a closed connection, a proxy's error page) is `Retry`; one that doesn't
 * match the schema is `InvalidData` naming the request and the field.
 *
 * @since 0.3.0
 * @category reading
 */
export const decodeJson = <A, I, R>(schema: Schema.Schema<A, I, R>, what: string) =>
(
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<A, Retry | Connector.InvalidData, R> =>
  HttpClientResponse.schemaBodyJson(schema)(response).pipe(
    Effect.mapError((error): Retry | Connector.InvalidData =>
      ParseResult.isParseError(error)
        ? new Connector.InvalidData({ record: what, reason: ParseResult.TreeFormatter.formatErrorSync(error) })
        : new Retry({ reason: `${what}: unreadable JSON body (${error.reason})` })
    )
  )

// ---------------------------------------------------------------------------------------------
// tokens

/**
 * A token as the source issued it.
 *
 * @since 0.3.0
 * @category tokens
 */
export interface IssuedToken {
  readonly token: Redacted.Redacted<string>
  readonly expiresInMs: number
}

/**
 * A cached token and how to renew it.
 *
 * @since 0.3.0
 * @category tokens
 */
export interface TokenProvider {
  /** the cached token, or a new one when there is none or it expires within the skew */
  readonly get: Effect.Effect<Redacted.Redacted<string>, Connector.ConnectorError, HttpClient.HttpClient>
  /** a new token now (a connection check that must prove the credentials) */
  readonly refresh: Effect.Effect<Redacted.Redacted<string>, Connector.ConnectorError, HttpClient.HttpClient>
  /** the source refused this token: forget it, unless another request has already replaced it */
  readonly invalidate: (rejected: Redacted.Redacted<string>) => Effect.Effect<void>
  /** how many tokens were fetched, for diagnostics */
  readonly fetched: Effect.Effect<number>
}

/**
 * A token provider over `fetch` (for example an OAuth2 client-credentials request made with the
 * same `Client`, without authentication): one fetch at a time, a token renewed `refreshBeforeMs`
 * (default 5 minutes) before it expires.
 *
 * @since 0.3.0
 * @category tokens
 */
export const makeTokens = (
  fetch: Effect.Effect<IssuedToken, Connector.ConnectorError, HttpClient.HttpClient>,
  options?: { readonly refreshBeforeMs?: number | undefined }
): Effect.Effect<TokenProvider> =>
  Effect.gen(function*() {
    const skew = options?.refreshBeforeMs ?? 5 * 60_000
    const cache = yield* Ref.make(Option.none<{ readonly token: Redacted.Redacted<string>; readonly expiresAt: number }>())
    const fetched = yield* Ref.make(0)
    const lock = yield* Effect.makeSemaphore(1)
    const renew = Effect.gen(function*() {
      yield* Ref.update(fetched, (n) => n + 1)
      const issued = yield* fetch
      const now = yield* Clock.currentTimeMillis
      yield* Ref.set(cache, Option.some({ token: issued.token, expiresAt: now + issued.expiresInMs }))
      return issued.token
    })
    return {
      get: lock.withPermits(1)(
        Effect.flatMap(
          Effect.zip(Ref.get(cache), Clock.currentTimeMillis),
          ([cached, now]) =>
            Option.isSome(cached) && now < cached.value.expiresAt - skew ? Effect.succeed(cached.value.token) : renew
        )
      ),
      refresh: lock.withPermits(1)(renew),
      invalidate: (rejected) =>
        Ref.update(cache, (cached) =>
          Option.isSome(cached) && Redacted.value(cached.value.token) === Redacted.value(rejected)
            ? Option.none()
            : cached),
      fetched: Ref.get(fetched)
    }
  })

// ---------------------------------------------------------------------------------------------
// the client

/**
 * How a client retries and waits.
 *
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /** the source's name in error messages and logs ("Vonage Insights Stats API") */
  readonly source: string
  /** retries of one request on transient failures (default 3) */
  readonly retries?: number | undefined
  /** times one request waits for a `Retry-After` before it is `RateLimited` (default 3) */
  readonly rateLimitRetries?: number | undefined
  /** retries the client may spend beyond its successes (default 20); see the module docs */
  readonly retryBudget?: number | undefined
  /** the delays between retries (default exponential from 250 ms, jittered, at most 10 s apart) */
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  /** requests in flight at once (default no limit) */
  readonly concurrency?: number | undefined
  /**
   * the longest one attempt may take, answer and body, measured on the `Clock` (default none:
   * a source that holds requests open, long polls, sets its own; a test that moves a
   * `TestClock` past a request in flight fails it)
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Per request: how errors name it, and overrides of the client's limits.
 *
 * @since 0.3.0
 * @category models
 */
export interface CallOptions {
  /** how errors name the request (default: method, path and query, secrets redacted) */
  readonly what?: string | undefined
  readonly retries?: number | undefined
  readonly rateLimitRetries?: number | undefined
  readonly timeout?: Duration.DurationInput | undefined
  /** send the token (default: whenever the client has tokens) */
  readonly authenticate?: boolean | undefined
}

/**
 * What a client has done, for diagnostics and tests.
 *
 * @since 0.3.0
 * @category models
 */
export interface Stats {
  /** attempts sent */
  readonly requests: number
  /** attempts that were retries */
  readonly retries: number
  /** answers that asked to wait */
  readonly rateLimited: number
  /** retries left in the budget */
  readonly budget: number
}

/**
 * A client: see the module docs.
 *
 * @since 0.3.0
 * @category models
 */
export interface Client {
  readonly source: string
  /**
   * Sends `request` and reads the response with `handle` (inside the request's scope, so the
   * body can be read), retrying as the handler's answers ask.
   */
  readonly execute: <A, E, R>(
    request: HttpClientRequest.HttpClientRequest,
    handle: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E, R>,
    options?: CallOptions
  ) => Effect.Effect<
    A,
    Exclude<E, Answer | HttpClientError.HttpClientError> | Connector.ConnectorError,
    R | HttpClient.HttpClient
  >
  /** Sends `request` and decodes its JSON body with `schema` (`standard`, then `decodeJson`). */
  readonly json: <A, I, R>(
    request: HttpClientRequest.HttpClientRequest,
    schema: Schema.Schema<A, I, R>,
    options?: CallOptions
  ) => Effect.Effect<A, Connector.ConnectorError, R | HttpClient.HttpClient>
  /**
   * The same client (gate, budget, limits, counters) sending a token from `tokens`, as a bearer
   * token unless `authorize` says otherwise.
   */
  readonly withTokens: (
    tokens: TokenProvider,
    authorize?: (request: HttpClientRequest.HttpClientRequest, token: Redacted.Redacted<string>) => HttpClientRequest.HttpClientRequest
  ) => Client
  readonly stats: Effect.Effect<Stats>
}

interface State {
  readonly options: Options
  readonly budgetCap: number
  readonly blockedUntil: Ref.Ref<number>
  readonly budget: Ref.Ref<number>
  readonly counters: Ref.Ref<{ readonly requests: number; readonly retries: number; readonly rateLimited: number }>
  readonly permits: Option.Option<Effect.Semaphore>
  readonly backoff: Schedule.Schedule<unknown, unknown>
}

interface Auth {
  readonly tokens: TokenProvider
  readonly authorize: (
    request: HttpClientRequest.HttpClientRequest,
    token: Redacted.Redacted<string>
  ) => HttpClientRequest.HttpClientRequest
}

const defaultBackoff: Schedule.Schedule<unknown, unknown> = Schedule.exponential("250 millis").pipe(
  Schedule.either(Schedule.spaced("10 seconds")),
  Schedule.jittered
)

const bearer = (request: HttpClientRequest.HttpClientRequest, token: Redacted.Redacted<string>) =>
  HttpClientRequest.bearerToken(request, token)

/**
 * Makes a client. Its gate, budget and counters live as long as the value: keep one per
 * connector instance and credentials.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Client> =>
  Effect.gen(function*() {
    const budgetCap = options.retryBudget ?? 20
    const state: State = {
      options,
      budgetCap,
      blockedUntil: yield* Ref.make(0),
      budget: yield* Ref.make(budgetCap),
      counters: yield* Ref.make({ requests: 0, retries: 0, rateLimited: 0 }),
      permits: options.concurrency === undefined
        ? Option.none()
        : Option.some(yield* Effect.makeSemaphore(options.concurrency)),
      backoff: options.backoff ?? defaultBackoff
    }
    return clientOf(state, Option.none())
  })

const waitGate = (state: State) =>
  Effect.flatMap(
    Effect.zip(Ref.get(state.blockedUntil), Clock.currentTimeMillis),
    ([until, now]) => (until > now ? Effect.sleep(Duration.millis(until - now)) : Effect.void)
  )

const transportFailure = (error: HttpClientError.HttpClientError, what: string): Retry | Connector.InvalidData =>
  error._tag === "RequestError" && error.reason !== "Transport"
    ? new Connector.InvalidData({ record: what, reason: `the request can't be sent (${error.reason})` })
    : new Retry({ reason: `${what}: ${error.reason}${error.description ? ` (${error.description})` : ""}` })

const toConnectorError = (answer: Answer, source: string, spent: boolean, state: State): Connector.ConnectorError => {
  const note = spent ? ` (the client's retry budget of ${state.budgetCap} is spent)` : ""
  switch (answer._tag) {
    case "Retry":
      return new Connector.Transient({ reason: `${source}: ${answer.reason}${note}` })
    case "Wait":
      return new Connector.RateLimited({ retryAfterMs: answer.retryAfterMs, reason: `${answer.reason}${note}` })
    case "Unauthorized":
      return new Connector.AuthFailed({ reason: `${source} refused the credentials: ${answer.reason}` })
  }
}

const clientOf = (state: State, auth: Option.Option<Auth>): Client => {
  const source = state.options.source

  const execute = <A, E, R>(
    request: HttpClientRequest.HttpClientRequest,
    handle: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E, R>,
    call?: CallOptions
  ): Effect.Effect<
    A,
    Exclude<E, Answer | HttpClientError.HttpClientError> | Connector.ConnectorError,
    R | HttpClient.HttpClient
  > =>
    Effect.gen(function*() {
      const what = call?.what ?? describeRequest(request)
      const authenticate = Option.isSome(auth) && call?.authenticate !== false
      const timeoutInput = call?.timeout ?? state.options.timeout
      const limits = {
        Retry: call?.retries ?? state.options.retries ?? 3,
        Wait: call?.rateLimitRetries ?? state.options.rateLimitRetries ?? 3,
        Unauthorized: authenticate ? 1 : 0
      }
      const used = yield* Ref.make({ Retry: 0, Wait: 0, Unauthorized: 0 })
      const budgetSpent = yield* Ref.make(false)

      const attempt = Effect.gen(function*() {
        yield* waitGate(state)
        yield* Ref.update(state.counters, (c) => ({ ...c, requests: c.requests + 1 }))
        const token = authenticate && Option.isSome(auth) ? Option.some(yield* auth.value.tokens.get) : Option.none()
        const sent = Option.match(token, {
          onNone: () => request,
          onSome: (t) => Option.isSome(auth) ? auth.value.authorize(request, t) : request
        })
        const started = yield* Clock.currentTimeMillis
        const answered = Effect.flatMap(HttpClient.execute(sent), (response) =>
          Effect.zipRight(
            Effect.logDebug("http answer").pipe(Effect.annotateLogs({ status: response.status })),
            handle(response)
          )).pipe(Effect.scoped)
        const exchange = timeoutInput === undefined ? answered : Effect.timeoutFail(answered, {
          duration: timeoutInput,
          onTimeout: () =>
            new Retry({ reason: `${what}: no answer within ${Duration.format(Duration.decode(timeoutInput))}` })
        })
        const guarded = Option.match(state.permits, { onNone: () => exchange, onSome: (s) => s.withPermits(1)(exchange) })
        return yield* guarded.pipe(
          Effect.catchIf(HttpClientError.isHttpClientError, (e) => Effect.fail(transportFailure(e, what))),
          Effect.tapError((error) =>
            Effect.gen(function*() {
              if (error instanceof Wait) {
                const now = yield* Clock.currentTimeMillis
                yield* Ref.update(state.blockedUntil, (until) => Math.max(until, now + error.retryAfterMs))
                yield* Ref.update(state.counters, (c) => ({ ...c, rateLimited: c.rateLimited + 1 }))
              }
              if (error instanceof Unauthorized && Option.isSome(auth) && Option.isSome(token)) {
                yield* auth.value.tokens.invalidate(token.value)
              }
            })
          ),
          Effect.tap(() =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.logDebug("http request done").pipe(Effect.annotateLogs({ ms: now - started })))
          )
        )
      })

      // one Schedule: transient failures back off, waits go at once to the gate (which holds
      // every request of the client), a refused token is renewed once; each kind has its own
      // limit, and every retry spends from the client's budget
      const policy = Schedule.identity<unknown>().pipe(
        Schedule.intersect(state.backoff),
        Schedule.checkEffect((error) =>
          Effect.gen(function*() {
            if (!isAnswer(error)) return false
            const counts = yield* Ref.get(used)
            if (counts[error._tag] >= limits[error._tag]) return false
            if (error._tag !== "Unauthorized") {
              const spent = yield* Ref.modify(state.budget, (b) => (b > 0 ? [true, b - 1] : [false, b]))
              if (!spent) {
                yield* Ref.set(budgetSpent, true)
                return false
              }
            }
            yield* Ref.set(used, { ...counts, [error._tag]: counts[error._tag] + 1 })
            yield* Ref.update(state.counters, (c) => ({ ...c, retries: c.retries + 1 }))
            yield* Effect.logInfo("http retry").pipe(Effect.annotateLogs({ reason: error.reason }))
            return true
          })
        ),
        Schedule.modifyDelay(([error], delay) => (error instanceof Retry ? delay : Duration.zero))
      )

      const result = yield* attempt.pipe(
        Effect.retry(policy),
        Effect.catchAll((error: unknown) =>
          isAnswer(error)
            ? Effect.flatMap(Ref.get(budgetSpent), (spent) => Effect.fail(toConnectorError(error, source, spent, state)))
            : Effect.fail(error)
        )
      )
      yield* Ref.update(state.budget, (b) => Math.min(state.budgetCap, b + 1))
      return result
    }).pipe(
      Effect.annotateLogs({ source, request: call?.what ?? describeRequest(request) }),
      Effect.withSpan("ConnectorHttp.execute", { attributes: { source, request: describeRequest(request) } })
    ) as Effect.Effect<
      A,
      Exclude<E, Answer | HttpClientError.HttpClientError> | Connector.ConnectorError,
      R | HttpClient.HttpClient
    >

  return {
    source,
    execute,
    json: (request, schema, call) => {
      const what = call?.what ?? describeRequest(request)
      return execute(request, (response) => Effect.flatMap(standard(response, what), decodeJson(schema, what)), call)
    },
    withTokens: (tokens, authorize) => clientOf(state, Option.some({ tokens, authorize: authorize ?? bearer })),
    stats: Effect.map(
      Effect.zip(Ref.get(state.counters), Ref.get(state.budget)),
      ([counters, budget]) => ({ ...counters, budget })
    )
  }
}
