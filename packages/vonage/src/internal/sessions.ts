/**
 * The Vonage sessions of a host: one per set of credentials, in an `RcMap` keyed by them.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import type { Endpoint, Session, Stats } from "./http.js"
import { keyOf, makeSession, statsOf } from "./http.js"

const makeSessions = (options?: { readonly idleTimeToLive?: Duration.DurationInput | undefined }) =>
  Effect.map(
    RcMap.make({ lookup: makeSession, idleTimeToLive: options?.idleTimeToLive ?? "4 hours" }),
    (map) => ({
      /** the session of a set of credentials, held until the scope closes */
      get: (ep: Endpoint): Effect.Effect<Session, never, Scope.Scope> => RcMap.get(map, keyOf(ep)),
      /** its diagnostics (a session that was never used shows zeros) */
      stats: (ep: Endpoint): Effect.Effect<Stats> => Effect.scoped(Effect.flatMap(RcMap.get(map, keyOf(ep)), statsOf))
    })
  )

/**
 * The Vonage sessions of a host, one per set of credentials (token endpoint, API, client id and
 * secret, and the client's limits): the cached token, and the HTTP client whose gate makes a
 * 429 hold back every request of those credentials (the fair-use budget is the account's).
 * They live in the layer's scope, so nothing is shared between hosts or tests; a session nobody
 * used for `idleTimeToLive` (default 4 hours, longer than a token lives) is closed. Provide
 * `Vonage.layer` wherever the connector is registered.
 *
 * @since 0.3.0
 * @category services
 */
export class Sessions extends Effect.Service<Sessions>()("@acd-bridge/vonage/Sessions", {
  scoped: makeSessions()
}) {}

/**
 * The sessions with a custom idle time.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerSessions = (options: { readonly idleTimeToLive: Duration.DurationInput }): Layer.Layer<Sessions> =>
  Layer.scoped(Sessions, Effect.map(makeSessions(options), (s) => Sessions.make(s)))
