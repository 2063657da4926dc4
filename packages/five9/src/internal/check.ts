/**
 * The connector's check: what works and what to fix, in plain words.
 */
import type { Connector } from "@acd-bridge/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { call } from "./client.js"
import type { Config } from "./config.js"
import { adminEndpoint } from "./config.js"
import { runReport, sessionOf } from "./reads.js"
import { callLogColumns, missingColumns, parseCsv } from "./reports.js"
import type { Sessions } from "./sessions.js"

export const check = (config: Config): Effect.Effect<Connector.CheckReport, never, HttpClient.HttpClient | Sessions> =>
  Effect.gen(function*() {
    const ep = adminEndpoint(config)
    const session = yield* sessionOf(ep)
    const items: Array<Connector.CheckItem> = []
    const signedIn = yield* Effect.either(call(session, ep, "getCallCountersState", {}))
    if (Either.isLeft(signedIn)) {
      const e = signedIn.left
      items.push({
        name: "credentials",
        ok: false,
        detail: e._tag === "AuthFailed"
          ? `${e.reason}.`
          : e._tag === "InvalidData" && /HTTP 404/.test(e.reason)
          ? `There is no Five9 web service at ${ep.url}: check the data centre host (${config.host}) and the API version (${config.adminApiVersion}).`
          : `Could not reach Five9 at ${ep.url}: ${e.message}`
      })
      return { ok: false, items }
    }
    items.push({
      name: "credentials",
      ok: true,
      detail: `Signed in to the Configuration Web Services at ${ep.url} as "${config.username}"`
    })
    const now = yield* Clock.currentTimeMillis
    const probe = (name: string, folder: string, report: string, required: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const table = yield* Effect.either(
          Effect.flatMap(runReport(config, folder, report, now - 3_600_000, now), (csv) => parseCsv(csv, `${folder}/${report}`))
        )
        if (Either.isLeft(table)) {
          const e = table.left
          return { name, ok: false, detail: e._tag === "InvalidData" ? `${e.reason}.` : e.message }
        }
        if (table.right.header.length === 0) {
          return {
            name,
            ok: true,
            detail: `"${folder}/${report}" runs; it had no rows in the last hour, so its columns could not be checked`
          }
        }
        const missing = missingColumns(table.right.header, required)
        return missing.length === 0
          ? { name, ok: true, detail: `"${folder}/${report}" runs and has every column the connector reads` }
          : {
            name,
            ok: false,
            detail: `"${folder}/${report}" lacks the column${missing.length > 1 ? "s" : ""} ${
              missing.map((m) => `"${m}"`).join(", ")
            }: add ${missing.length > 1 ? "them" : "it"} to the report in Five9, or name the columns it has in the connector settings`
          }
      })
    if (config.import.includes("contacts")) {
      items.push(
        yield* probe("call log report", config.callLog.folder, config.callLog.report, callLogColumns(config.callLog.queueColumn))
      )
    }
    if (config.import.includes("agentStatuses")) {
      const c = config.agentStates.columns
      items.push(
        yield* probe("agent state report", config.agentStates.folder, config.agentStates.report, [c.agent, c.timestamp, c.state, c.duration])
      )
      const sessions = config.agentStates.sessions
      if (sessions !== false) {
        const sc = sessions.columns
        items.push(yield* probe("login sessions report", sessions.folder, sessions.report, [sc.agent, sc.login, sc.logout]))
      }
    }
    return { ok: items.every((i) => i.ok), items }
  }).pipe(Effect.scoped)
