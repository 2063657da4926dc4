/**
 * A connector for "Acme Cloud ACD", a made-up REST API, in one file: config with a secret,
 * paged reads decoded with Schema, vendor errors mapped to the contract's typed errors.
 *
 * The API: `GET /v2/contacts?from&to&cursor` (contacts that *arrived* in [from, to), with
 * offsets in their timestamps), `GET /v2/agent-states?from&to&cursor` (states overlapping
 * [from, to)), `GET /v2/me`; pages are `{ items, next }`; `Authorization: Bearer <token>`;
 * 401 for a bad token, 429 with `retry-after` (seconds), 5xx when down.
 */
import { Connector, Domain } from "@acd-bridge/core"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/** What the connector needs from the host: one HTTP GET (the test gives it a simulator). */
export class AcmeHttp extends Context.Tag("example/AcmeHttp")<AcmeHttp, {
  readonly get: (url: string, token: Redacted.Redacted<string>) => Effect.Effect<
    { readonly status: number; readonly retryAfter: number | undefined; readonly body: unknown },
    Connector.Transient
  >
}>() {
  /** The real thing, over the platform's fetch. */
  static readonly layerFetch = Layer.succeed(AcmeHttp, {
    get: (url, token) =>
      Effect.tryPromise({
        try: async (signal) => {
          const res = await fetch(url, { signal, headers: { authorization: `Bearer ${Redacted.value(token)}` } })
          const retry = Number(res.headers.get("retry-after"))
          return { status: res.status, retryAfter: Number.isFinite(retry) ? retry : undefined, body: await res.json() }
        },
        catch: (e) => new Connector.Transient({ reason: `Acme unreachable: ${String(e)}` })
      })
  })
}

export const AcmeConfig = Schema.Struct({
  baseUrl: Schema.String.pipe(Schema.pattern(/^https:\/\/[^/]+$/, { message: () => "an https:// origin, no path" })),
  token: Schema.Redacted(Schema.String.pipe(Schema.minLength(8)))
})

const Contact = Schema.Struct({
  queue: Schema.Struct({ id: Schema.String, name: Schema.String }),
  media: Schema.Literal("voice", "chat", "email"),
  arrivedAt: Schema.DateTimeUtc,
  answered: Schema.Boolean,
  handleSeconds: Schema.NonNegative,
  waitSeconds: Schema.NonNegative
})
const AgentState = Schema.Struct({
  agentId: Schema.String,
  state: Schema.String,
  start: Schema.DateTimeUtc,
  end: Schema.NullOr(Schema.DateTimeUtc)
})
const Page = <A, I>(item: Schema.Schema<A, I>) => Schema.Struct({ items: Schema.Array(item), next: Schema.NullOr(Schema.String) })
const channels = { voice: "calls", chat: "chats", email: "emails" } as const

/** One GET, with the vendor's statuses turned into the contract's errors. */
const call = (config: typeof AcmeConfig.Type, path: string) =>
  Effect.flatMap(AcmeHttp, (http) => http.get(`${config.baseUrl}${path}`, config.token)).pipe(
    Effect.flatMap(({ body, retryAfter, status }): Effect.Effect<unknown, Connector.ConnectorError> =>
      status === 200 ? Effect.succeed(body)
      : status === 401 || status === 403 ? Effect.fail(new Connector.AuthFailed({ reason: `Acme answered ${status}` }))
      : status === 429 ? Effect.fail(new Connector.RateLimited({ retryAfterMs: (retryAfter ?? 60) * 1000 }))
      : Effect.fail(new Connector.Transient({ reason: `Acme answered ${status}` }))
    )
  )

/** Every page of a listing in [from, to), decoded; a record that doesn't decode is InvalidData. */
const pages = <A, I>(config: typeof AcmeConfig.Type, path: string, item: Schema.Schema<A, I>, window: Connector.Window) =>
  Stream.paginateChunkEffect(undefined as string | undefined, (cursor) => {
    const query = `from=${DateTime.formatIso(window.from)}&to=${DateTime.formatIso(window.to)}${cursor ? `&cursor=${cursor}` : ""}`
    return call(config, `${path}?${query}`).pipe(
      Effect.flatMap(Schema.decodeUnknown(Page(item))),
      Effect.catchTag("ParseError", (e) =>
        Effect.fail(new Connector.InvalidData({ record: `${path} page ${cursor ?? "1"}`, reason: e.message }))),
      Effect.map((page) => [Chunk.fromIterable(page.items), Option.fromNullable(page.next)] as const)
    )
  })

export const connector = Connector.make({
  key: "acme",
  displayName: "Acme Cloud ACD",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: AcmeConfig,
  settleDelay: "3 minutes",
  historyLimitDays: 400,
  pull: (config, window) =>
    Stream.concat(
      pages(config, "/v2/contacts", Contact, window).pipe(Stream.grouped(1000), Stream.map((chunk) => ({
        ...Domain.emptyBatch,
        contacts: Chunk.toReadonlyArray(chunk).map((c): Domain.ContactEvent => ({
          queueIdentifier: c.queue.id,
          queueName: c.queue.name,
          channel: channels[c.media],
          timestamp: c.arrivedAt,
          offered: true,
          handled: c.answered,
          durationMs: Math.round((c.answered ? c.handleSeconds : c.waitSeconds) * 1000),
          waitMs: Math.round(c.waitSeconds * 1000),
          abandoned: !c.answered
        }))
      }))),
      pages(config, "/v2/agent-states", AgentState, window).pipe(Stream.grouped(1000), Stream.map((chunk) => ({
        ...Domain.emptyBatch,
        statuses: Chunk.toReadonlyArray(chunk).map((s) => ({
          agentIdentifier: s.agentId,
          activityIdentifier: s.state,
          start: s.start,
          end: s.end
        }))
      })))
    ),
  check: (config) =>
    call(config, "/v2/me").pipe(
      Effect.as({ ok: true, items: [{ name: "token", ok: true, detail: `Acme accepts the token for ${config.baseUrl}` }] }),
      Effect.catchAll((e) => Effect.succeed({ ok: false, items: [{ name: "token", ok: false, detail: e.message }] }))
    )
})
