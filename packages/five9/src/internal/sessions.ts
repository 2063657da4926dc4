/**
 * The Five9 sessions of a host: one per web service and user, in an `RcMap` keyed by them.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import type { Endpoint, Session, Stats } from "./client.js"
import { makeSession, statsOf } from "./client.js"

const keyOf = (ep: Endpoint) => `${ep.url}|${ep.username}`

const makeSessions = (options?: { readonly idleTimeToLive?: Duration.DurationInput | undefined }) =>
  Effect.map(
    RcMap.make({ lookup: (_key: string) => makeSession, idleTimeToLive: options?.idleTimeToLive ?? "4 hours" }),
    (map) => ({
      /** the session of a web service and user, held until the scope closes */
      get: (ep: Endpoint): Effect.Effect<Session, never, Scope.Scope> => RcMap.get(map, keyOf(ep)),
      /** its diagnostics (a session that was never used shows zeros) */
      stats: (ep: Endpoint): Effect.Effect<Stats> => Effect.scoped(Effect.flatMap(RcMap.get(map, keyOf(ep)), statsOf))
    })
  )

/**
 * The Five9 sessions of a host: per web service and user, the one-call-at-a-time HTTP client
 * (Five9 denies concurrent use of the same credentials), the SOAP faults seen and what is known
 * of report row caps. They live in the layer's scope, so nothing is shared between hosts or
 * tests, and a session nobody used for `idleTimeToLive` (default 4 hours) is closed. Provide
 * `Five9.layer` wherever the connector is registered.
 *
 * @since 0.3.0
 * @category services
 */
export class Sessions extends Effect.Service<Sessions>()("@acd-bridge/five9/Sessions", {
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
