/**
 * An in-memory Acme Cloud ACD for tests and demos: it renders a seeded `FakeSource` from
 * `@acd-bridge/testkit` in Acme's wire format (local times with offsets, seconds, pages of 200)
 * and answers like the real API, including 401, 429 and 503 and a page that doesn't decode. It
 * is an `HttpClient` (`@effect/platform`) that answers in process: the connector's requests,
 * retries and error mapping run as they do against the real API.
 */
import * as FakeSource from "@acd-bridge/testkit/FakeSource"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/** The token the simulator accepts. */
export const token = "acme-token-123"

/** Switches to make the next request misbehave. */
export class AcmeSimulator extends Context.Tag("example/AcmeSimulator")<AcmeSimulator, {
  /** the next request answers with this status (and `retry-after` seconds) */
  readonly failNext: (status: number, retryAfter?: number) => Effect.Effect<void>
  /** the next page has a record Acme's schema doesn't allow */
  readonly corruptNext: Effect.Effect<void>
  readonly requests: Effect.Effect<number>
}>() {}

const media = { calls: "voice", chats: "chat", emails: "email" } as const
const PAGE = 200

const local = (t: DateTime.Utc) => DateTime.formatIsoOffset(DateTime.unsafeMakeZoned(t, { timeZone: "Europe/Berlin" }))

/** A simulated Acme over a seeded source: provides the `HttpClient` that reaches it, and its switches. */
export const layer = (options: FakeSource.Options = {}): Layer.Layer<HttpClient.HttpClient | AcmeSimulator> =>
  Layer.effectContext(Effect.gen(function*() {
    const source = yield* FakeSource.make({
      seed: 7,
      queues: [
        { identifier: "q-100", name: "Billing", channel: "calls" },
        { identifier: "q-200", name: "Web chat", channel: "chats" },
        { identifier: "q-300", name: "Mail", channel: "emails" }
      ],
      ...options
    })
    const failures = yield* Ref.make<ReadonlyArray<{ status: number; retryAfter: number | undefined }>>([])
    const corrupt = yield* Ref.make(false)
    const requests = yield* Ref.make(0)
    const answer = (url: URL, authorization: string | undefined) =>
      Effect.gen(function*() {
        yield* Ref.update(requests, (n) => n + 1)
        const failure = yield* Ref.modify(failures, (l) => [l[0], l.slice(1)] as const)
        if (failure) return { status: failure.status, retryAfter: failure.retryAfter, body: { error: "simulated" } }
        if (authorization !== `Bearer ${token}`) return { status: 401, retryAfter: undefined, body: { error: "bad token" } }
        const { pathname, searchParams } = url
        if (pathname === "/v2/me") return { status: 200, retryAfter: undefined, body: { account: "demo" } }
        const from = Date.parse(searchParams.get("from") ?? "")
        const to = Date.parse(searchParams.get("to") ?? "")
        const offset = Number(searchParams.get("cursor") ?? "0")
        const data = yield* source.truth({ from, to })
        const items: Array<unknown> = pathname === "/v2/contacts"
          ? data.contacts.map((c) => ({
            id: `${c.queueIdentifier}-${DateTime.toEpochMillis(c.timestamp)}`,
            queue: { id: c.queueIdentifier, name: c.queueName },
            media: media[c.channel as keyof typeof media] ?? "voice",
            arrivedAt: local(c.timestamp),
            answered: c.handled,
            handleSeconds: c.handled ? c.durationMs / 1000 : 0,
            waitSeconds: (c.waitMs ?? 0) / 1000
          }))
          : data.statuses.map((s) => ({
            agentId: s.agentIdentifier,
            state: s.activityIdentifier.toUpperCase(),
            start: local(s.start),
            end: s.end === null ? null : local(s.end)
          }))
        const page = items.slice(offset, offset + PAGE)
        if (yield* Ref.getAndSet(corrupt, false)) page.splice(0, 1, { queue: "?", arrivedAt: "yesterday" })
        const next = offset + PAGE < items.length ? String(offset + PAGE) : null
        return { status: 200, retryAfter: undefined, body: { items: page, next } }
      })
    const client = HttpClient.make((request, url) =>
      Effect.map(answer(url, request.headers["authorization"]), ({ body, retryAfter, status }) =>
        HttpClientResponse.fromWeb(
          request,
          new Response(JSON.stringify(body), {
            status,
            headers: {
              "content-type": "application/json",
              ...(retryAfter === undefined ? {} : { "retry-after": String(retryAfter) })
            }
          })
        ))
    )
    return Context.make(HttpClient.HttpClient, client).pipe(Context.add(AcmeSimulator, {
      failNext: (status, retryAfter) => Ref.update(failures, (l) => [...l, { status, retryAfter }]),
      corruptNext: Ref.set(corrupt, true),
      requests: Ref.get(requests)
    }))
  }))
