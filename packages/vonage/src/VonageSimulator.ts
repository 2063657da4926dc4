/**
 * A local simulator of the Vonage Contact Center Insights Stats API, serving a testkit
 * `Scenario` in the documented wire format on a loopback port:
 *
 * - `POST /Auth/connect/token` (form fields or HTTP Basic; scope `stats`; 2-hour tokens);
 * - `GET /stats/interactions` and `GET /stats/wfm/agent-states` with `start`, `end`, `include`,
 *   `agentId`, `page`, `limit`, `meta` and `upTo`, the v3 `Accept` header required, the 31-day
 *   window limit, open states with `duration: null` and ongoing interactions as of `now`.
 *
 * Fault switches: expire every token (the next call gets 401), reject every token, 429 storms
 * with Retry-After (one budget for every endpoint), connections closed in the middle of a
 * response, malformed rows. Every request is logged.
 *
 * @since 0.1.0
 */
import type { Scenario } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { ConfigEncoded } from "./Vonage.js"
import { acceptV3 } from "./internal/wire.js"

type Activity = Scenario.Activity

/**
 * How a scenario activity shows in VCC's merged agent state.
 *
 * @since 0.1.0 @category mapping
 */
export const stateOf = (activity: Activity): { readonly state: string; readonly description: string } => {
  switch (activity) {
    case "Ready":
      return { state: "Ready", description: "" }
    case "Talk":
    case "Hold":
      return { state: "Busy", description: "Live" }
    case "AfterCallWork":
      return { state: "Wrap", description: "Live" }
    case "Break":
      return { state: "Away", description: "Break" }
    case "Lunch":
      return { state: "Away", description: "Lunch" }
  }
}

/** How a scenario channel shows as VCC `medium` ([U] beyond Phone). @since 0.1.0 @category mapping */
export const mediumOf = (channel: string): string =>
  channel === "chats" ? "Chat" : channel === "emails" ? "Email" : channel === "social_media" ? "SMS" : "Phone"

/** @since 0.1.0 @category models */
export interface Options {
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  /** the simulator's present (epoch ms): later data is not visible yet; default: after the scenario */
  readonly now?: number | undefined
  readonly tokenLifetimeSeconds?: number | undefined
  /** largest `limit` honoured */
  readonly maxLimit?: number | undefined
}

/** @since 0.1.0 @category models */
export interface RequestLog {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly status: number
  /** wall-clock ms */
  readonly at: number
}

/** @since 0.1.0 @category models */
export interface Faults {
  /** every token issued so far is rejected from now on (as if expired) */
  expireTokens(): void
  /** reject every token, even fresh ones */
  rejectTokens: boolean
  /** the next `count` requests, to any endpoint, get 429 with `Retry-After: seconds` */
  rateLimit(count: number, retryAfterSeconds: number): void
  /** the next `count` API answers are cut off half-way and the connection closed */
  dropConnections(count: number): void
  /** interaction guids and agent-state keys (`agentId|startIso`) served malformed */
  readonly malformed: Set<string>
}

/** @since 0.1.0 @category models */
export interface VonageSimulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** a connector config pointing at the simulator */
  readonly config: (overrides?: Partial<ConfigEncoded>) => ConfigEncoded
  readonly setNow: (ms: number) => void
  readonly faults: Faults
  readonly requests: ReadonlyArray<RequestLog>
  readonly clearLog: () => void
}

interface StateRow {
  readonly agentId: string
  readonly state: string
  readonly description: string
  readonly start: number
  /** +Infinity while open for good */
  readonly end: number
}

const iso = (ms: number) => new Date(ms).toISOString()
const DAY = 24 * 60 * 60_000

/** The agent states VCC reports for a scenario: merged per agent, with LoggedOut between shifts. */
export const renderStates = (scenario: Scenario.Scenario): ReadonlyArray<StateRow> => {
  const rows: Array<StateRow> = []
  const byAgent = new Map<string, Array<StateRow>>()
  // trimmed timeline (one state at a time), same-state neighbours merged
  const merged: Array<{ agentId: string; activity: Activity; start: number; end: number }> = []
  const perAgent = new Map<string, Array<Scenario.AgentState>>()
  for (const s of scenario.states) {
    const l = perAgent.get(s.agentId)
    if (l) l.push(s)
    else perAgent.set(s.agentId, [s])
  }
  for (const [, list] of perAgent) merged.push(...trim(list))
  for (const s of merged) {
    const v = stateOf(s.activity)
    const list = byAgent.get(s.agentId) ?? []
    const last = list[list.length - 1]
    if (last && last.state === v.state && last.description === v.description && last.end === s.start) {
      list[list.length - 1] = { ...last, end: s.end }
    } else {
      if (last && last.end < s.start) {
        list.push({ agentId: s.agentId, state: "LoggedOut", description: "", start: last.end, end: s.start })
      }
      list.push({ agentId: s.agentId, state: v.state, description: v.description, start: s.start, end: s.end })
    }
    byAgent.set(s.agentId, list)
  }
  for (const [agentId, list] of byAgent) {
    const last = list[list.length - 1]
    if (last) {
      list.push({ agentId, state: "LoggedOut", description: "", start: last.end, end: Number.POSITIVE_INFINITY })
    }
    rows.push(...list)
  }
  return rows.sort((a, b) => a.start - b.start || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
}

const trim = (states: ReadonlyArray<Scenario.AgentState>) => {
  // same rule as Scenario.trimOverlaps; kept local so the simulator reads only the raw scenario
  const sorted = [...states].sort((a, b) => a.start - b.start || (a.end - a.start) - (b.end - b.start))
  const out: Array<Scenario.AgentState> = []
  for (const s of sorted) {
    let cur = s
    const last = out[out.length - 1]
    if (last !== undefined && cur.start < last.end) cur = { ...cur, start: last.end }
    if (cur.end > cur.start) out.push(cur)
  }
  return out
}

interface Timed {
  readonly type: string
  readonly name?: string
  readonly start: number
  readonly end: number
  readonly properties?: Record<string, unknown>
}

/** One interaction as `GET /stats/interactions` renders it at `now`. */
const renderInteraction = (c: Scenario.Contact, now: number) => {
  const cut = (events: ReadonlyArray<Timed>) =>
    events.filter((e) => e.start < now).map((e) => ({
      type: e.type,
      offset: e.start - c.arrival,
      ...(e.name !== undefined ? { name: e.name } : {}),
      duration: e.end <= now ? e.end - e.start : null,
      properties: e.properties ?? {}
    }))
  const customerEnd = c.handled ? Math.max(...c.legs.map((l) => l.start + l.talkMs + l.holdMs)) : c.completion
  const channels = [{
    guid: `${c.id}-c0`,
    offset: 0,
    duration: customerEnd <= now ? customerEnd - c.arrival : null,
    endReason: c.abandoned ? "Abandoned" : "Hangup",
    integrationType: "Voice",
    party: { id: "+15550100", role: "External", touchpoint: "+15550199" },
    events: cut([
      {
        type: "Queue",
        name: c.queueName,
        start: c.arrival,
        end: c.arrival + c.waitMs,
        properties: { interactionPlan: "Main plan" }
      }
    ])
  }]
  c.legs.forEach((leg, n) => {
    const events: Array<Timed> = [{ type: "Ringing", start: leg.start, end: leg.start }]
    let t = leg.start
    if (leg.holdMs > 0) {
      const before = Math.round(leg.talkMs * 0.4 / 1000) * 1000
      events.push({ type: "Connected", start: t, end: t + before })
      t += before
      events.push({ type: "Hold", start: t, end: t + leg.holdMs })
      t += leg.holdMs
      events.push({ type: "Connected", start: t, end: t + leg.talkMs - before })
      t += leg.talkMs - before
    } else {
      events.push({ type: "Connected", start: t, end: t + leg.talkMs })
      t += leg.talkMs
    }
    events.push({ type: "Wrap", start: t, end: t + leg.afterCallWorkMs })
    const end = t + leg.afterCallWorkMs
    if (leg.start < now) {
      channels.push({
        guid: `${c.id}-a${n + 1}`,
        offset: leg.start - c.arrival,
        duration: end <= now ? end - leg.start : null,
        endReason: leg.transferred ? "Transferred" : "Hangup",
        integrationType: "Voice",
        party: { id: leg.agentId, role: "Agent", touchpoint: leg.agentId },
        events: cut(events)
      })
    }
  })
  const completed = c.completion <= now
  return {
    guid: c.id,
    conversationGuid: `conv-${c.id}`,
    status: completed ? "Completed" : "Ongoing",
    medium: mediumOf(c.channel),
    mediumManager: "Inbound",
    direction: "Inbound",
    start: iso(c.arrival),
    duration: completed ? c.completion - c.arrival : null,
    serviceName: "Main",
    connectTo: "+15550199",
    connectFrom: "+15550100",
    categorizedAt: completed ? iso(c.completion) : null,
    outcome: c.abandoned ? "Abandoned" : c.handled ? "Answered" : null,
    interactionPlanMapping: {
      addressName: "+15550199",
      mappingName: "Main",
      interactionPlanName: "Main plan",
      reportingGroup: null
    },
    channels
  }
}

/**
 * Starts the simulator on 127.0.0.1 (a free port) for the lifetime of the scope.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  scenario: Scenario.Scenario,
  options: Options = {}
): Effect.Effect<VonageSimulator, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; sim: VonageSimulator }>((resume) => {
      const clientId = options.clientId ?? "acd-bridge"
      const clientSecret = options.clientSecret ?? "s3cret"
      const lifetime = options.tokenLifetimeSeconds ?? 7200
      const maxLimit = options.maxLimit ?? 5000
      let now = options.now ?? scenario.to + DAY
      const tokens = new Map<string, number>()
      let limitNext = 0
      let retryAfter = 1
      let dropNext = 0
      const log: Array<RequestLog> = []
      const states = renderStates(scenario)
      const contacts = [...scenario.contacts].sort((a, b) => a.arrival - b.arrival || (a.id < b.id ? -1 : 1))
      const faults: Faults = {
        expireTokens: () => tokens.clear(),
        rejectTokens: false,
        rateLimit: (count, seconds) => {
          limitNext = count
          retryAfter = seconds
        },
        dropConnections: (count) => {
          dropNext = count
        },
        malformed: new Set()
      }

      const server = Http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        const query = Object.fromEntries(url.searchParams.entries())
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
            log.push({ method: req.method ?? "", path: url.pathname, query, status, at: Date.now() })
            const text = JSON.stringify(body)
            res.writeHead(status, { "content-type": "application/json", ...headers })
            res.end(text)
          }
          if (limitNext > 0) {
            limitNext--
            return send(429, { message: "Too Many Requests" }, { "retry-after": String(retryAfter) })
          }
          if (req.method === "POST" && url.pathname === "/Auth/connect/token") {
            const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"))
            let id = form.get("client_id")
            let secret = form.get("client_secret")
            const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")
            if (basic) {
              const [u, p] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":")
              id = u ?? null
              secret = p ?? null
            }
            if (form.get("grant_type") !== "client_credentials") return send(400, { error: "unsupported_grant_type" })
            if (id !== clientId || secret !== clientSecret) return send(400, { error: "invalid_client" })
            if (form.get("scope") !== "stats") return send(400, { error: "invalid_scope" })
            const token = randomBytes(24).toString("hex")
            tokens.set(token, Date.now() + lifetime * 1000)
            return send(200, { access_token: token, token_type: "bearer", expires_in: lifetime })
          }
          if (req.method !== "GET" || !url.pathname.startsWith("/stats/")) return send(404, { message: "Not Found" })
          const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]
          const expiry = bearer === undefined ? undefined : tokens.get(bearer)
          if (faults.rejectTokens || expiry === undefined || expiry < Date.now()) {
            return send(401, { message: "Unauthorized" })
          }
          if (req.headers.accept !== acceptV3) {
            return send(406, { message: `Not Acceptable: send Accept: ${acceptV3}` })
          }
          const start = Date.parse(query["start"] ?? "")
          if (!Number.isFinite(start)) return send(400, { message: "start is required (ISO-8601)" })
          const end = query["end"] === undefined ? now : Date.parse(query["end"])
          if (!Number.isFinite(end) || end < start) return send(400, { message: "end must be an ISO-8601 instant after start" })
          if (end - start > 31 * DAY) return send(400, { message: "Request window size limit exceeded 31 days" })
          const page = Math.max(1, Number(query["page"] ?? "1") || 1)
          const limit = Math.min(maxLimit, Math.max(1, Number(query["limit"] ?? "100") || 100))
          const upper = Math.min(end, now)
          let items: Array<unknown>
          if (url.pathname === "/stats/interactions") {
            items = contacts.filter((c) => c.arrival >= start && c.arrival < upper).map((c) => {
              const rendered = renderInteraction(c, now)
              return faults.malformed.has(c.id) ? { ...rendered, start: "31/02/2026 25:61" } : rendered
            })
          } else if (url.pathname === "/stats/wfm/agent-states") {
            const include = query["include"] ?? "Started"
            const agent = query["agentId"]
            items = states.filter((s) => {
              if (agent !== undefined && s.agentId !== agent) return false
              if (s.start >= now) return false
              const started = s.start >= start && s.start < upper
              if (include === "Started") return started
              return started || (s.end <= now && s.end >= start && s.end < upper)
            }).map((s) => {
              const row = {
                agentId: s.agentId,
                start: iso(s.start),
                duration: s.end <= now ? s.end - s.start : null,
                state: s.state,
                description: s.description
              }
              return faults.malformed.has(`${s.agentId}|${iso(s.start)}`) ? { ...row, duration: "12 minutes" } : row
            })
          } else {
            return send(404, { message: "Not Found" })
          }
          const pageCount = Math.ceil(items.length / limit)
          const body = {
            meta: { page, count: 0, pageCount, totalCount: items.length },
            items: items.slice((page - 1) * limit, page * limit),
            upTo: iso(upper)
          }
          body.meta.count = body.items.length
          if (dropNext > 0) {
            dropNext--
            log.push({ method: "GET", path: url.pathname, query, status: 200, at: Date.now() })
            const text = JSON.stringify(body)
            res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) })
            res.write(text.slice(0, Math.floor(text.length / 2)))
            setTimeout(() => res.socket?.destroy(), 5)
            return
          }
          return send(200, body)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        resume(Effect.succeed({
          server,
          sim: {
            url,
            config: (overrides = {}) => ({
              clientId,
              clientSecret,
              authBaseUrl: url,
              apiBaseUrl: url,
              ...overrides
            }),
            setNow: (ms) => {
              now = ms
            },
            faults,
            requests: log,
            clearLog: () => {
              log.length = 0
            }
          }
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ sim }) => sim))
