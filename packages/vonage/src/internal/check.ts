/**
 * The connector's check: what works and what to fix, in plain words.
 */
import type { Connector } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Config } from "./config.js"
import { endpointOf } from "./config.js"
import type { Endpoint } from "./http.js"
import { decodeItem } from "./http.js"
import { iso } from "./mapping.js"
import { get } from "./reads.js"
import { Sessions } from "./sessions.js"
import * as Wire from "./wire.js"

/**
 * Checks a config: a new token (whatever is cached, so the check proves the credentials as they
 * are now), then one small read of each endpoint the config imports from, each explained.
 */
export const check = (config: Config): Effect.Effect<Connector.CheckReport, never, HttpClient.HttpClient | Sessions> =>
  Effect.gen(function*() {
    const ep = endpointOf(config)
    const session = yield* Effect.flatMap(Sessions, (sessions) => sessions.get(ep))
    const items: Array<Connector.CheckItem> = []
    // a new token, whatever is cached: the check proves the credentials as they are now
    const signedIn = yield* Effect.either(session.tokens.refresh)
    if (signedIn._tag === "Left") {
      items.push({ name: "credentials", ok: false, detail: explain(signedIn.left, ep) })
      return { ok: false, items }
    }
    items.push({
      name: "credentials",
      ok: true,
      detail: `Signed in at ${ep.authBaseUrl} as API client "${config.clientId}" with the "stats" scope`
    })
    const now = yield* Clock.currentTimeMillis
    const contacts = config.import.includes("contacts")
    const endpoints: ReadonlyArray<readonly [string, string]> = [
      ...(config.import.includes("agentStatuses") ? [["agent states", "/stats/wfm/agent-states"] as const] : []),
      ...(contacts && config.contactSource === "queueTimes" ? [["queue times", "/stats/queue-times"] as const] : []),
      ...(contacts ? [["interactions", "/stats/interactions"] as const] : [])
    ]
    for (const [name, path] of endpoints) {
      const result = yield* Effect.either(
        get(config, path, { start: iso(now - 3_600_000), end: iso(now), page: "1", limit: "1" }).pipe(
          Effect.flatMap((body) => decodeItem(Wire.Envelope, body, `GET ${path}`))
        )
      )
      items.push(
        result._tag === "Right"
          ? {
            name,
            ok: true,
            detail: `${ep.apiBaseUrl}${path} answers (${result.right.meta.totalCount} records in the last hour)`
          }
          : { name, ok: false, detail: explain(result.left, ep, path) }
      )
    }
    return { ok: items.every((i) => i.ok), items }
  }).pipe(Effect.scoped)

const explain = (error: Connector.ConnectorError, ep: Endpoint, path?: string): string => {
  switch (error._tag) {
    case "AuthFailed":
      return `Vonage refused the credentials: ${error.reason}.`
    case "RateLimited":
      return `Vonage is rate limiting this account (fair-use limit shared by all its API clients); try again in ${
        Math.ceil(error.retryAfterMs / 1000)
      } s.`
    case "Transient":
      return `Could not reach Vonage: ${error.reason}. Check the region (${ep.authBaseUrl}, ${ep.apiBaseUrl}) and the network.`
    case "InvalidData":
      if (/HTTP 404/.test(error.reason)) {
        return `${ep.apiBaseUrl}${path ?? ""} does not exist (HTTP 404): check the region or the apiBaseUrl setting.`
      }
      if (/HTTP 406/.test(error.reason)) {
        return `${ep.apiBaseUrl}${
          path ?? ""
        } refused the API version (HTTP 406): the Insights Stats API v3 is required.`
      }
      return `${ep.apiBaseUrl}${path ?? ""} answered something unexpected: ${error.reason}.`
  }
}
