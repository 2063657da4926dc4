/**
 * A connector for "Acme Cloud ACD", a made-up REST API, in one file: config with a secret,
 * paged reads decoded with Schema, vendor errors mapped to the contract's typed errors, HTTP
 * through `@acd-bridge/connector-http` (retries with backoff, `Retry-After`, a retry budget per
 * account, redacted logs) over `@effect/platform`'s `HttpClient`.
 *
 * The API: `GET /v2/contacts?from&to&cursor` (contacts that *arrived* in [from, to), with
 * offsets in their timestamps), `GET /v2/agent-states?from&to&cursor` (states overlapping
 * [from, to)), `GET /v2/me`; pages are `{ items, next }`; `Authorization: Bearer <token>`;
 * 401 for a bad token, 429 with `retry-after` (seconds), 5xx when down.
 */
import { ConnectorHttp } from "@acd-bridge/connector-http"
import { Connector, Domain } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

// #region config
export const AcmeConfig = Schema.Struct({
  baseUrl: Schema.String.pipe(Schema.pattern(/^https:\/\/[^/]+$/, { message: () => "an https:// origin, no path" })).annotations({
    description: "The origin of the Acme API, e.g. `https://acme.example` (https, no path)."
  }),
  token: Schema.Redacted(Schema.String.pipe(Schema.minLength(8))).annotations({
    description: "The API token sent as a bearer token."
  }),
  // a filter's own error ("between 0 and 10") stays; the description and default go to the JSON Schema
  maxRetries: Connector.settingWithDefault(
    Schema.Int.pipe(Schema.between(0, 10)),
    3,
    "How often a request is retried on transient failures (a 5xx, a dropped connection)."
  )
})
type AcmeConfig = typeof AcmeConfig.Type
// #endregion

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

/**
 * One HTTP client per Acme account, shared by every read of that account, so a 429 holds back
 * all of them and a source that is down is not hammered by every request's own retries. The
 * clients live in an `RcMap` in the host's scope (not in a module-level `Map`): provide
 * `AcmeClients.Default` where the connector is registered.
 */
export class AcmeClients extends Effect.Service<AcmeClients>()("example/AcmeClients", {
  scoped: Effect.map(
    RcMap.make({
      lookup: (account: { readonly baseUrl: string; readonly token: Redacted.Redacted<string>; readonly maxRetries: number }) =>
        // a 429 goes to the engine's scheduler, which waits as long as Acme asks
        ConnectorHttp.make({ source: "Acme Cloud ACD", retries: account.maxRetries, rateLimitRetries: 0 }),
      idleTimeToLive: "1 hour"
    }),
    (clients) => ({
      /** the client of the config's account, held until the scope closes */
      of: (config: AcmeConfig) =>
        RcMap.get(clients, Data.struct({ baseUrl: config.baseUrl, token: config.token, maxRetries: config.maxRetries }))
    })
  )
}) {}

/** One GET of `path` with `params`, decoded with `schema` (statuses read as `ConnectorHttp.standard` says). */
const get = <A, I>(
  config: AcmeConfig,
  path: string,
  params: Record<string, string>,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, Connector.ConnectorError, AcmeClients | HttpClient.HttpClient> =>
  Effect.scoped(
    Effect.flatMap(
      Effect.flatMap(AcmeClients, (clients) => clients.of(config)),
      (http) =>
        http.json(
          HttpClientRequest.get(new URL(path, config.baseUrl), { urlParams: params }).pipe(
            // Acme's tokens are issued by hand and don't expire: a 401 is `AuthFailed` at once
            HttpClientRequest.bearerToken(config.token)
          ),
          schema
        )
    )
  )

// #region pages
/** Every page of a listing in [from, to), decoded; a record that doesn't decode is InvalidData. */
const pages = <A, I>(config: AcmeConfig, path: string, item: Schema.Schema<A, I>, window: Connector.Window) =>
  Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
    get(config, path, {
      from: DateTime.formatIso(window.from),
      to: DateTime.formatIso(window.to),
      ...(cursor === undefined ? {} : { cursor })
    }, Page(item)).pipe(
      Effect.map((page) => [Chunk.fromIterable(page.items), Option.fromNullable(page.next)] as const)
    ))
// #endregion

// #region connector
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
    get(config, "/v2/me", {}, Schema.Unknown).pipe(
      Effect.as({ ok: true, items: [{ name: "token", ok: true, detail: `Acme accepts the token for ${config.baseUrl}` }] }),
      Effect.catchAll((e) => Effect.succeed({ ok: false, items: [{ name: "token", ok: false, detail: e.message }] }))
    )
})
// #endregion
