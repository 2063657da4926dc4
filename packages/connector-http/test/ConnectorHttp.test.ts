/**
 * The connector HTTP client against a real HTTP server on 127.0.0.1: retries, waits, the
 * shared gate and budget, tokens, decoding, and what reaches the logs.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { ConnectorHttp } from "../src/index.js"

interface Seen {
  readonly at: number
  readonly url: string
  readonly authorization: string | undefined
}

type Reply = (req: Http.IncomingMessage, res: Http.ServerResponse) => void

/** A server answering with `replies` in turn (the last one for every request after them). */
const server = (replies: ReadonlyArray<Reply>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly seen: Array<Seen> }>((resume) => {
      const seen: Array<Seen> = []
      const s = Http.createServer((req, res) => {
        seen.push({ at: Date.now(), url: req.url ?? "", authorization: req.headers.authorization })
        replies[Math.min(seen.length - 1, replies.length - 1)]!(req, res)
      })
      s.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, close: s })))
    }),
    (s) => Effect.sync(() => (s as unknown as { close: Http.Server }).close.closeAllConnections())
  ).pipe(Effect.tap((s) => Effect.addFinalizer(() => Effect.sync(() => (s as unknown as { close: Http.Server }).close.close()))))

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (_req, res) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}
/** Headers and half a body, then the connection is cut. */
const cut: Reply = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
  res.write("{\"items\": [1, 2")
  setTimeout(() => res.socket?.destroy(), 5)
}
const silent: Reply = () => {}

const Items = Schema.Struct({ items: Schema.Array(Schema.Number) })
const fast = Schedule.spaced("10 millis")

const client = (options: Partial<ConnectorHttp.Options> = {}) =>
  ConnectorHttp.make({ source: "Acme API", backoff: fast, ...options })

const flipped = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

describe("ConnectorHttp", () => {
  it.scopedLive("decodes a JSON body with its schema; a mismatch is InvalidData naming the request and field", () =>
    Effect.gen(function*() {
      const s = yield* server([json(200, { items: [1, 2] }), json(200, { items: ["x"] })])
      const http = yield* client()
      const ok = yield* http.json(HttpClientRequest.get(`${s.url}/items`, { urlParams: { page: "1" } }), Items)
      assert.deepStrictEqual(ok, { items: [1, 2] })
      const error = yield* flipped(http.json(HttpClientRequest.get(`${s.url}/items`, { urlParams: { page: "2" } }), Items))
      assert.strictEqual(error._tag, "InvalidData")
      if (error._tag === "InvalidData") {
        assert.strictEqual(error.record, "GET /items?page=2")
        assert.match(error.reason, /\["items"\][\s\S]*\[0\][\s\S]*Expected number, actual "x"/)
      }
      assert.strictEqual(s.seen.length, 2)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("5xx and bodies cut short are retried; after the retries it is Transient", () =>
    Effect.gen(function*() {
      const s = yield* server([json(503, {}), cut, json(502, {}), json(200, { items: [3] })])
      const http = yield* client({ retries: 3 })
      assert.deepStrictEqual(yield* http.json(HttpClientRequest.get(`${s.url}/a`), Items), { items: [3] })
      assert.strictEqual(s.seen.length, 4)
      const stats = yield* http.stats
      assert.strictEqual(stats.requests, 4)
      assert.strictEqual(stats.retries, 3)

      const down = yield* server([json(500, {})])
      const error = yield* flipped(http.json(HttpClientRequest.get(`${down.url}/b`), Items, { retries: 2 }))
      assert.strictEqual(error._tag, "Transient")
      assert.match(error.message, /Acme API: GET \/b: HTTP 500/)
      assert.strictEqual(down.seen.length, 3)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a request that gets no answer in time is retried, then Transient", () =>
    Effect.gen(function*() {
      const s = yield* server([silent, json(200, { items: [] })])
      const http = yield* client({ timeout: "200 millis" })
      assert.deepStrictEqual(yield* http.json(HttpClientRequest.get(`${s.url}/slow`), Items), { items: [] })
      assert.strictEqual(s.seen.length, 2)
      const never = yield* server([silent])
      const error = yield* flipped(http.json(HttpClientRequest.get(`${never.url}/slow`), Items, { retries: 1 }))
      assert.strictEqual(error._tag, "Transient")
      assert.match(error.message, /no answer within/)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a client error is not retried: InvalidData with the status", () =>
    Effect.gen(function*() {
      const s = yield* server([json(404, { message: "no" })])
      const http = yield* client()
      const error = yield* flipped(http.json(HttpClientRequest.get(`${s.url}/nowhere`), Items))
      assert.strictEqual(error._tag, "InvalidData")
      if (error._tag === "InvalidData") assert.deepStrictEqual([error.record, error.reason], ["GET /nowhere", "HTTP 404"])
      assert.strictEqual(s.seen.length, 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("Retry-After holds back every request of the client, not only the one that got the 429", () =>
    Effect.gen(function*() {
      let limited = false
      const s = yield* server([(req, res) => {
        if (!limited && req.url?.startsWith("/first")) {
          limited = true
          return json(429, {}, { "retry-after": "1" })(req, res)
        }
        json(200, { items: [1] })(req, res)
      }])
      const http = yield* client()
      const first = http.json(HttpClientRequest.get(`${s.url}/first`), Items)
      // the second starts after the 429 was answered
      const second = Effect.zipRight(Effect.sleep("150 millis"), http.json(HttpClientRequest.get(`${s.url}/second`), Items))
      yield* Effect.all([first, second], { concurrency: 2 })
      const at429 = s.seen[0]!.at
      const later = s.seen.slice(1)
      assert.strictEqual(later.length, 2)
      for (const r of later) assert.isAtLeast(r.at - at429, 950, `${r.url} ${r.at - at429} ms after the 429`)
      assert.strictEqual((yield* http.stats).rateLimited, 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)), 20_000)

  it.scopedLive("a 429 storm longer than the waits is RateLimited with the wait asked for", () =>
    Effect.gen(function*() {
      const s = yield* server([json(429, {}, { "retry-after": "0.2" })])
      const http = yield* client({ rateLimitRetries: 2 })
      const error = yield* flipped(http.json(HttpClientRequest.get(`${s.url}/x`), Items))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterMs, 200)
      assert.strictEqual(s.seen.length, 3)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it("Retry-After: seconds, an HTTP date, or the fallback", () => {
    const response = (value: string | undefined) =>
      ({ headers: value === undefined ? {} : { "retry-after": value } }) as unknown as Parameters<typeof ConnectorHttp.retryAfterMs>[0]
    const now = Date.parse("2026-03-02T09:00:00Z")
    assert.strictEqual(ConnectorHttp.retryAfterMs(response("7"), now), 7_000)
    assert.strictEqual(ConnectorHttp.retryAfterMs(response("Mon, 02 Mar 2026 09:00:30 GMT"), now), 30_000)
    assert.strictEqual(ConnectorHttp.retryAfterMs(response("Mon, 02 Mar 2026 08:00:00 GMT"), now), 0)
    assert.strictEqual(ConnectorHttp.retryAfterMs(response(undefined), now), 1_000)
    assert.strictEqual(ConnectorHttp.retryAfterMs(response("soon"), now, 5_000), 5_000)
  })

  it.scopedLive("the retry budget is shared by the client's requests and refilled by successes", () =>
    Effect.gen(function*() {
      let up = false
      const s = yield* server([(req, res) => (up ? json(200, { items: [] }) : json(500, {}))(req, res)])
      const http = yield* client({ retries: 5, retryBudget: 3 })
      const get = http.json(HttpClientRequest.get(`${s.url}/x`), Items)
      const first = yield* flipped(get)
      assert.strictEqual(first._tag, "Transient")
      assert.match(first.message, /retry budget of 3 is spent/)
      assert.strictEqual(s.seen.length, 4)
      // nothing left: the next request fails at its first failure
      assert.strictEqual((yield* flipped(get))._tag, "Transient")
      assert.strictEqual(s.seen.length, 5)
      up = true
      yield* get
      assert.strictEqual((yield* http.stats).budget, 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a 401 drops the token and tries once more with a fresh one; refused again, AuthFailed", () =>
    Effect.gen(function*() {
      let issued = 0
      let valid = ""
      const s = yield* server([(req, res) => {
        if (req.url === "/token") {
          issued++
          valid = `token-${issued}`
          return json(200, { access_token: valid, expires_in: 3600 })(req, res)
        }
        return req.headers.authorization === `Bearer ${valid}` ? json(200, { items: [issued] })(req, res) : json(401, {})(req, res)
      }])
      const http = yield* client()
      const Token = Schema.Struct({ access_token: Schema.String, expires_in: Schema.Number })
      const tokens = yield* ConnectorHttp.makeTokens(
        http.json(HttpClientRequest.post(`${s.url}/token`), Token).pipe(
          Effect.map((t) => ({ token: Redacted.make(t.access_token), expiresInMs: t.expires_in * 1000 }))
        )
      )
      const api = http.withTokens(tokens)
      assert.deepStrictEqual(yield* api.json(HttpClientRequest.get(`${s.url}/data`), Items), { items: [1] })
      assert.deepStrictEqual(yield* api.json(HttpClientRequest.get(`${s.url}/data`), Items), { items: [1] })
      assert.strictEqual(yield* tokens.fetched, 1)
      // the source revokes the token: one refresh, and the request goes through
      valid = "revoked"
      assert.deepStrictEqual(yield* api.json(HttpClientRequest.get(`${s.url}/data`), Items), { items: [2] })
      assert.strictEqual(yield* tokens.fetched, 2)
      assert.deepStrictEqual(s.seen.filter((r) => r.url === "/data").map((r) => r.authorization), [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2"
      ])
      // a source that refuses every token: AuthFailed after one refresh
      const refusing = yield* server([(req, res) =>
        req.url === "/token" ? json(200, { access_token: "t", expires_in: 3600 })(req, res) : json(401, {})(req, res)
      ])
      const other = yield* client()
      const otherTokens = yield* ConnectorHttp.makeTokens(
        other.json(HttpClientRequest.post(`${refusing.url}/token`), Token).pipe(
          Effect.map((t) => ({ token: Redacted.make(t.access_token), expiresInMs: t.expires_in * 1000 }))
        )
      )
      const error = yield* flipped(other.withTokens(otherTokens).json(HttpClientRequest.get(`${refusing.url}/data`), Items))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(refusing.seen.filter((r) => r.url === "/data").length, 2)
      assert.strictEqual(yield* otherTokens.fetched, 2)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.effect("a token is renewed the given time before it expires, one fetch at a time", () =>
    Effect.gen(function*() {
      let fetches = 0
      const tokens = yield* ConnectorHttp.makeTokens(
        Effect.sync(() => ({ token: Redacted.make(`t${++fetches}`), expiresInMs: 3_600_000 })).pipe(
          Effect.delay("10 millis")
        ),
        { refreshBeforeMs: 300_000 }
      )
      const [a, b] = yield* Effect.all([tokens.get, tokens.get], { concurrency: 2 }).pipe(
        Effect.fork,
        Effect.tap(() => TestClock.adjust("20 millis")),
        Effect.flatMap((fiber) => fiber.await),
        Effect.flatMap((exit) => exit)
      )
      assert.deepStrictEqual([Redacted.value(a), Redacted.value(b)], ["t1", "t1"])
      yield* TestClock.adjust("54 minutes")
      assert.strictEqual(Redacted.value(yield* tokens.get), "t1")
      yield* TestClock.adjust("1 minute")
      const renewed = yield* Effect.fork(tokens.get)
      yield* TestClock.adjust("10 millis")
      assert.strictEqual(Redacted.value(yield* renewed.await.pipe(Effect.flatMap((e) => e))), "t2")
      // a refused token that was already replaced is not dropped again
      yield* tokens.invalidate(Redacted.make("t1"))
      assert.strictEqual(Redacted.value(yield* tokens.get), "t2")
      assert.strictEqual(yield* tokens.fetched, 2)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("logs show no secret: no token, no password, no secret query parameter", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ annotations, message }) => {
        lines.push(JSON.stringify({ message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) }))
      })
      const s = yield* server([json(503, {}), json(200, { items: [] })])
      const http = yield* client()
      const tokens = yield* ConnectorHttp.makeTokens(
        Effect.succeed({ token: Redacted.make("tok-SECRET-1"), expiresInMs: 3_600_000 })
      )
      const request = HttpClientRequest.get(`${s.url}/x`, { urlParams: { api_key: "key-SECRET-2", page: "1" } }).pipe(
        HttpClientRequest.setHeader("x-password", "pw-SECRET-3")
      )
      yield* http.withTokens(tokens).json(request, Items).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      const logged = lines.join("\n")
      assert.include(logged, "http retry")
      assert.include(logged, "api_key=<redacted>&page=1")
      assert.notMatch(logged, /SECRET/)
      // the server did get them
      assert.strictEqual(s.seen[0]!.authorization, "Bearer tok-SECRET-1")
      assert.include(s.seen[0]!.url, "key-SECRET-2")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it("redactUrl hides user info and secret-looking query values", () => {
    assert.strictEqual(
      ConnectorHttp.redactUrl("https://user:pw@example.com/a?client_secret=s&access_token=t&page=2&signature=x"),
      "https://example.com/a?client_secret=<redacted>&access_token=<redacted>&page=2&signature=<redacted>"
    )
    assert.strictEqual(ConnectorHttp.redactUrl("not a url"), "<unreadable URL>")
  })

  it.scopedLive("a handler asks for a retry with Retry; its own errors pass through unchanged", () =>
    Effect.gen(function*() {
      const s = yield* server([json(500, { fault: "Busy" }), json(500, { fault: "Nope" })])
      const http = yield* client()
      class Fault extends Schema.TaggedError<Fault>()("Fault", { fault: Schema.String }) {}
      const handle = (response: Parameters<Parameters<typeof http.execute>[1]>[0]) =>
        Effect.flatMap(response.json, (body): Effect.Effect<never, ConnectorHttp.Retry | Fault> => {
          const fault = (body as { fault: string }).fault
          return fault === "Busy" ? Effect.fail(new ConnectorHttp.Retry({ reason: "busy" })) : Effect.fail(new Fault({ fault }))
        })
      const result = yield* Effect.either(http.execute(HttpClientRequest.post(`${s.url}/soap`), handle))
      assert.isTrue(Either.isLeft(result) && result.left._tag === "Fault")
      assert.strictEqual(s.seen.length, 2)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
