/**
 * The Vonage Contact Center (VCC, formerly NewVoiceMedia) connector. Cloud only: it reads the
 * Insights Stats API with an OAuth2 client-credentials token (scope `stats`), and counts as
 * `docs/counting.md` says:
 *
 * - contacts: one contact event per **queue visit**, from `GET /stats/queue-times` (one item per
 *   interaction entering a queue: the queue, the instant it entered, `category` Answered /
 *   Abandoned / Breakout, the time in queue), counted at its queue at the instant it entered
 *   that queue; the visit's handling time (talk, hold, wrap) from the agent channels of its
 *   interaction in `GET /stats/interactions`, read `maxContactSpanHours` behind the window
 *   (interactions are listed by their start, which lies before the queue entry). Consults count
 *   nowhere; breakouts and short abandons are kept apart from abandons;
 * - agent states: `GET /stats/wfm/agent-states` with `include=StartedOrEnded` from
 *   `stateLookbackHours` before the window, every state that overlaps the window whole (its
 *   own start and end, `end` null while open); activity `State:Description` (`Away:Lunch`,
 *   `Busy:Live`, `LoggedOut`);
 * - realtime: polls agent states with `include=Processed` from the previous answer's `upTo`.
 *
 * Paging follows `meta.pageCount`; windows longer than 31 days are split; every request made
 * with one set of credentials shares one HTTP client (`@acd-bridge/connector-http`, kept in the
 * host's `Sessions`), so a 429 (with Retry-After) on any endpoint holds back all of them. The
 * engine's window re-import replaces what an earlier read stored, so records that change at
 * the source after delivery (open states, late corrections) land.
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { check } from "./internal/check.js"
import type { ConfigEncoded } from "./internal/config.js"
import { Config, endpointOf } from "./internal/config.js"
import type { Stats } from "./internal/http.js"
import { pull, realtime } from "./internal/reads.js"
import { Sessions } from "./internal/sessions.js"

export {
  /** @since 0.1.0 @category mapping */
  activityIdentifier,
  /** @since 0.1.0 @category config */
  Config,
  /** @since 0.1.0 @category config */
  defaultMediumChannels,
  /** @since 0.1.0 @category config */
  EventTypes,
  /** @since 0.2.0 @category config */
  HttpUrl,
  /** @since 0.1.0 @category constants */
  maxWindowMs,
  /** @since 0.1.0 @category config */
  Region,
  /** @since 0.1.0 @category windows */
  splitWindow
} from "./internal/config.js"

export type {
  /** @since 0.1.0 @category config */
  ConfigEncoded
} from "./internal/config.js"

export {
  /** @since 0.1.0 @category mapping */
  statusOf,
  /** @since 0.2.0 @category mapping */
  visitEventOf
} from "./internal/mapping.js"

export type {
  /** @since 0.2.0 @category mapping */
  AgentTime
} from "./internal/mapping.js"

/**
 * A connector with its diagnostics (tokens fetched, 429s and retries of a configuration's
 * credentials).
 *
 * @since 0.1.0 @category models
 */
export interface VonageConnector extends Connector.Connector<Config, ConfigEncoded, HttpClient.HttpClient | Sessions> {
  readonly stats: (config: Config) => Effect.Effect<Stats, never, Sessions>
}

export {
  /**
   * @since 0.3.0 @category layers
   */
  layerSessions,
  /**
   * @since 0.3.0 @category services
   */
  Sessions
} from "./internal/sessions.js"

/**
 * The sessions the connector needs (`Sessions`), with the default idle time: provide it
 * wherever the connector is registered.
 *
 * @since 0.3.0 @category layers
 */
export const layer: Layer.Layer<Sessions> = Sessions.Default

/**
 * Makes the connector. Its token caches and rate-limit gates (one per set of credentials) come
 * from `Sessions`, which the host provides with `Vonage.layer`.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (): VonageConnector => ({
  ...Connector.make({
    key: "vonage",
    displayName: "Vonage Contact Center",
    deliveryModes: ["cloud"],
    dataKinds: ["contacts", "agentStatuses"],
    configSchema: Config,
    pull,
    realtime,
    check,
    settleDelay: "5 minutes"
  }),
  stats: (config) => Effect.flatMap(Sessions, (sessions) => sessions.stats(endpointOf(config)))
})

/**
 * The connector. It keeps no state of its own: its sessions are the host's (`Vonage.layer`).
 *
 * @since 0.1.0 @category connectors
 */
export const connector: VonageConnector = make()
