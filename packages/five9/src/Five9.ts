/**
 * The Five9 connector. Cloud only: it reads Five9's Configuration Web Services (SOAP, HTTP Basic
 * auth) for history and the Statistics Web Services for realtime agent states.
 *
 * - contacts: the call log report (`runReport` → `isReportRunning` → `getReportResultCsv`), one
 *   row per call leg. Five9's call log has the call's start (the first row's TIMESTAMP) and no
 *   queue entry, so every queue visit counts at its call's start, at its own queue: CAMPAIGN
 *   (stock "Call Log Reports/Call Log") or SKILL (a custom copy with the SKILL column). A
 *   window reads around itself by the maximum contact span (rows before it, to find each call's
 *   first row; rows after it, for the later legs) and keeps the calls that started in it, so a
 *   call counts once, whole, however windows cut it (`docs/counting.md`);
 * - agent states: the "Agent Reports/Agent State Details" report, read by header names, with
 *   overlapping states trimmed (the longer one starts where the shorter one ends), read back
 *   to the login of the sessions the window starts in ("Agent Reports/Agent Login-Logout"),
 *   whose gaps are the logged-out time, so every status overlapping a window comes back whole;
 * - realtime: `setSessionParameters`, `getStatistics` and `getStatisticsUpdate` (long poll) on
 *   `AgentState`, each change of an agent's state an open agent status.
 *
 * Report times are wall-clock times of the data centre's zone without offset (default
 * America/Los_Angeles). A result Five9 may have cut at its row cap is read again in halves
 * (`internal/capped.ts`); credentials are sent as UTF-8.
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { check } from "./internal/check.js"
import type { Stats } from "./internal/client.js"
import type { ConfigEncoded } from "./internal/config.js"
import { adminEndpoint, Config } from "./internal/config.js"
import { pull } from "./internal/reads.js"
import { realtime } from "./internal/realtime.js"
import { Sessions } from "./internal/sessions.js"

export {
  /** @since 0.1.0 @category config */
  AgentStateSettings,
  /** @since 0.1.0 @category config */
  CallLogSettings,
  /** @since 0.1.0 @category config */
  Config,
  /** @since 0.1.0 @category config */
  SessionSettings,
  /** @since 0.1.0 @category config */
  StateColumns,
  /** @since 0.1.0 @category config */
  StatisticsSettings
} from "./internal/config.js"

export type {
  /** @since 0.1.0 @category config */
  ConfigEncoded
} from "./internal/config.js"

export {
  /** @since 0.1.0 @category mapping */
  activityIdentifier
} from "./internal/reports.js"

export {
  /** @since 0.1.0 @category errors */
  SoapFault
} from "./internal/client.js"

/**
 * A connector with its diagnostics (SOAP calls, retries and faults of the configured user on
 * the Configuration Web Services).
 *
 * @since 0.1.0 @category models
 */
export interface Five9Connector extends Connector.Connector<Config, ConfigEncoded, HttpClient.HttpClient | Sessions> {
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
 * Makes the connector. Its sessions (one per user and web service: SOAP calls of one user go
 * one at a time, as Five9 denies concurrent use of the same credentials) come from `Sessions`,
 * which the host provides with `Five9.layer`.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (): Five9Connector => ({
  ...Connector.make({
    key: "five9",
    displayName: "Five9",
    deliveryModes: ["cloud"],
    dataKinds: ["contacts", "agentStatuses"],
    configSchema: Config,
    pull,
    realtime,
    check,
    settleDelay: "15 minutes"
  }),
  stats: (config) => Effect.flatMap(Sessions, (sessions) => sessions.stats(adminEndpoint(config)))
})

/**
 * The connector. It keeps no state of its own: its sessions are the host's (`Five9.layer`).
 *
 * @since 0.1.0 @category connectors
 */
export const connector: Five9Connector = make()
