/**
 * A local simulator of the Vonage Contact Center Insights Stats API, serving a testkit
 * `Scenario` in the documented wire format on a loopback port. On every request it renders
 * `Scenario.asKnownAt(scenario, now)`, what the source shows at its present `now` (`setNow`
 * moves it; a cadence test moves it with its clock):
 *
 * - `POST /Auth/connect/token` (form fields or HTTP Basic; scope `stats`; 2-hour tokens);
 * - `GET /stats/queue-times`: one item per queue visit (`start` = queue entry, `queue`,
 *   `category` Answered/Abandoned/Breakout, `reason`, `duration` in queue), listed once the
 *   source has written the visit (`queueTimes` option);
 * - `GET /stats/interactions`: one item per contact from its start, `Ongoing` until written,
 *   with the customer's channel (a `Queue` event per visit, offsets from the interaction's
 *   start, so IVR time shows as the first queue's offset) and a channel per agent leg
 *   (`Ringing`, `Connected`, hold, `Connected`, wrap, cut at `now`; after-call work as first
 *   written until its correction is written); consults as another agent channel or an
 *   interaction of their own (`consults` option);
 * - `GET /stats/wfm/agent-states`: the agents' whole timelines (LoggedOut included), one
 *   merged state at a time, `duration: null` while open;
 *
 * each with `start`, `end`, `include` (`Started`, `StartedOrEnded`, `Processed`), `page`,
 * `limit`, `meta` and `upTo`, the v3 `Accept` header required and the 31-day window limit.
 *
 * Fault switches: expire every token (the next call gets 401), reject every token, 429 storms
 * with Retry-After (one budget for every endpoint), connections closed in the middle of a
 * response, malformed rows. Every request is logged.
 *
 * Test-only: import it from `@acd-bridge/vonage/simulator` (it needs `@acd-bridge/testkit`).
 *
 * @since 0.1.0
 */
import * as Scenario from "@acd-bridge/testkit/Scenario"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { Rendered, RenderOptions, Selectable } from "./internal/render.js"
import { mediumOf as mediumOfChannel, render, stateOf as stateOfActivity } from "./internal/render.js"
import { acceptV3 } from "./internal/wire.js"
import type { ConfigEncoded } from "./Vonage.js"

/**
 * How a scenario activity (LoggedOut included) shows in VCC's merged agent state.
 *
 * @since 0.1.0 @category mapping
 */
export const stateOf: (
  activity: Scenario.TimelineActivity
) => { readonly state: string; readonly description: string } = stateOfActivity

/** How a scenario channel shows as VCC `medium` ([U] beyond Phone). @since 0.1.0 @category mapping */
export const mediumOf: (channel: string) => string = mediumOfChannel

/** @since 0.1.0 @category models */
export interface Options {
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  /** the simulator's present (epoch ms): later data is not visible yet; default: once the source has written everything */
  readonly now?: number | undefined
  readonly tokenLifetimeSeconds?: number | undefined
  /** largest `limit` honoured */
  readonly maxLimit?: number | undefined
  /**
   * [U] how a consult shows: another agent channel of the customer's interaction, connected
   * during the primary agent's hold (`"channel"`, default), or an interaction of its own
   * (`"interaction"`, direction `Internal`, no queue)
   * @since 0.2.0
   */
  readonly consults?: "channel" | "interaction" | undefined
  /**
   * [U] when `/stats/queue-times` lists a visit: once the source has written it (`"written"`,
   * default), or as soon as it left the queue (`"decided"`)
   * @since 0.2.0
   */
  readonly queueTimes?: "written" | "decided" | undefined
  /** [U] the names of the hold and wrap events in agent channels (default `Hold`, `Wrap`) @since 0.2.0 */
  readonly eventNames?: { readonly hold?: string | undefined; readonly wrap?: string | undefined } | undefined
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
  /**
   * contact ids (their interaction and queue-times items) and agent-state keys
   * (`agentId|startIso`) served malformed
   */
  readonly malformed: Set<string>
}

/** @since 0.1.0 @category models */
export interface VonageSimulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** a connector config pointing at the simulator */
  readonly config: (overrides?: Partial<ConfigEncoded>) => ConfigEncoded
  /** moves the source's present: it shows what it shows at `ms` */
  readonly setNow: (ms: number) => void
  readonly now: () => number
  readonly faults: Faults
  readonly requests: ReadonlyArray<RequestLog>
  readonly clearLog: () => void
}

const iso = (ms: number) => new Date(ms).toISOString()
const DAY = 24 * 60 * 60_000
const HOUR = 60 * 60_000

/**
 * The last instant the scenario's source writes something: a contact, a correction, the end
 * of a state. After it (and an hour), the source shows the final truth.
 *
 * @since 0.2.0 @category models
 */
export const settledAt = (scenario: Scenario.Scenario): number =>
  Math.max(
    scenario.to,
    ...scenario.contacts.map((c) => c.writtenAt),
    ...scenario.corrections.map((k) => k.at),
    ...Scenario.timeline(scenario).map((s) => s.end).filter(Number.isFinite)
  ) + HOUR

/** Items of `rendered` that `include` selects in [start, end). */
const select = <S extends Selectable>(items: ReadonlyArray<S>, include: string, start: number, end: number) => {
  const within = (t: number | null) => t !== null && t >= start && t < end
  return items.filter((s) =>
    within(s.started) ||
    (include !== "Started" && within(s.ended)) ||
    (include === "Processed" && within(s.processed))
  )
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
      let now = options.now ?? settledAt(scenario)
      const tokens = new Map<string, number>()
      let limitNext = 0
      let retryAfter = 1
      let dropNext = 0
      const log: Array<RequestLog> = []
      const renderOptions: RenderOptions = {
        consults: options.consults ?? "channel",
        queueTimes: options.queueTimes ?? "written",
        holdEvent: options.eventNames?.hold ?? "Hold",
        wrapEvent: options.eventNames?.wrap ?? "Wrap"
      }
      const byId = new Map(scenario.contacts.map((c) => [c.id, c] as const))
      // what the source shows only changes when its clock moves: render once per instant
      let rendered: Rendered | undefined
      const current = (): Rendered => {
        if (rendered?.now !== now) rendered = render(scenario, byId, now, renderOptions)
        return rendered
      }
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
          const include = query["include"] ?? "Started"
          if (!["Started", "StartedOrEnded", "Processed"].includes(include)) {
            return send(400, { message: `include must be Started, StartedOrEnded or Processed (got ${include})` })
          }
          const source = current()
          let items: Array<unknown>
          if (url.pathname === "/stats/interactions") {
            items = select(source.interactions, include, start, upper).map((s) =>
              faults.malformed.has(s.key) ? { ...s.item, start: "31/02/2026 25:61" } : s.item
            )
          } else if (url.pathname === "/stats/queue-times") {
            const queueType = query["queueType"] ?? "ACD"
            const queues = query["queues"]?.split(",").map((q) => q.trim()).filter((q) => q !== "")
            // every simulated queue is an ACD queue
            items = queueType === "Virtual" ? [] : select(source.queueTimes, include, start, upper)
              .filter((s) => queues === undefined || queues.includes(s.queue))
              .map((s) => faults.malformed.has(s.key) ? { ...s.item, start: "31/02/2026 25:61" } : s.item)
          } else if (url.pathname === "/stats/wfm/agent-states") {
            const agent = query["agentId"]
            items = select(source.states, include, start, upper)
              .filter((s) => agent === undefined || s.agentId === agent)
              .map((s) => faults.malformed.has(s.key) ? { ...s.item, duration: "12 minutes" } : s.item)
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
            now: () => now,
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
