/**
 * A tiny HTTP source and its connector, for the cadence suite's own tests: the shape a vendor
 * simulator takes (a loopback server whose present is moved with `setNow`, rendering
 * `Scenario.asKnownAt`), with a live view (contacts still running show as far as they got) and
 * records at their own instants, and a connector that reads ahead by the maximum contact span
 * and counts each queue visit once, at its queue entry.
 */
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import { Scenario } from "@acd-bridge/testkit"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

const Visit = Schema.Struct({
  kind: Schema.Literal("visit"),
  contact: Schema.String,
  visit: Schema.Number,
  queue: Schema.String,
  queueName: Schema.String,
  channel: Schema.Literal("calls", "chats", "emails", "social_media", "documents", "cases", "back_office"),
  at: Schema.Number,
  waitMs: Schema.Number,
  outcome: Schema.Literal("answered", "abandoned", "breakout", "waiting"),
  short: Schema.Boolean
})
const Leg = Schema.Struct({
  kind: Schema.Literal("leg"),
  contact: Schema.String,
  visit: Schema.Number,
  consult: Schema.Boolean,
  at: Schema.Number,
  talkMs: Schema.Number,
  holdMs: Schema.Number,
  afterCallWorkMs: Schema.Number
})
const Records = Schema.Array(Schema.Union(Visit, Leg))
const Statuses = Schema.Array(Schema.Struct({
  agent: Schema.String,
  activity: Schema.String,
  start: Schema.Number,
  end: Schema.NullOr(Schema.Number)
}))

/** The simulator: `url`, and `setNow` to move its present. */
export interface LiveSimulator {
  readonly url: string
  readonly setNow: (now: number) => void
}

/** Serves the scenario as it stands at the simulator's present. */
export const simulator = (
  scenario: Scenario.Scenario,
  options: { readonly now: number }
): Effect.Effect<LiveSimulator, never, Scope.Scope> =>
  Effect.gen(function*() {
    let now = options.now
    const byAgent = new Map<string, Array<Scenario.TimelineState>>()
    for (const s of Scenario.timeline(scenario)) byAgent.set(s.agentId, [...(byAgent.get(s.agentId) ?? []), s])
    const states = Array.from(byAgent.values()).flatMap((list) => Scenario.trimOverlaps(list))
    const handle = (url: URL): unknown => {
      const from = Number(url.searchParams.get("from"))
      const to = Number(url.searchParams.get("to"))
      if (url.pathname === "/statuses") {
        return states.filter((s) => s.start < Math.min(to, now) && s.end > from).map((s) => ({
          agent: s.agentId,
          activity: s.activity,
          start: s.start,
          end: s.end <= now ? s.end : null
        }))
      }
      const out: Array<unknown> = []
      const inside = (t: number) => t >= from && t < to
      for (const c of Scenario.asKnownAt(scenario, now).contacts) {
        c.visits.forEach((v, i) => {
          if (inside(v.enteredAt)) {
            out.push({
              kind: "visit",
              contact: c.id,
              visit: i,
              queue: v.queueIdentifier,
              queueName: v.queueName,
              channel: v.channel,
              at: v.enteredAt,
              waitMs: v.waitMs,
              outcome: v.outcome,
              short: v.shortAbandoned
            })
          }
          for (const l of v.legs) {
            if (!inside(l.start)) continue
            out.push({
              kind: "leg",
              contact: c.id,
              visit: i,
              consult: l.kind === "consult",
              at: l.start,
              talkMs: l.talkMs,
              holdMs: l.holdMs,
              afterCallWorkMs: l.afterCallWorkMs
            })
          }
        })
      }
      return out
    }
    const server = Http.createServer((req, res) => {
      const body = JSON.stringify(handle(new URL(req.url ?? "/", "http://127.0.0.1")))
      res.writeHead(200, { "content-type": "application/json" }).end(body)
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const port = (server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, setNow: (ms: number) => void (now = ms) }
  })

const Config = Schema.Struct({ baseUrl: Schema.String.pipe(Schema.pattern(/^http:\/\/127\.0\.0\.1:\d+$/)) })

const get = <A, I>(url: string, schema: Schema.Schema<A, I>) =>
  HttpClient.get(url).pipe(
    Effect.flatMap(HttpClientResponse.schemaBodyJson(schema)),
    Effect.mapError((e) =>
      e._tag === "ParseError"
        ? new Connector.InvalidData({ record: url, reason: e.message })
        : new Connector.Transient({ reason: e.message })
    )
  )

const SPAN = 4 * 3_600_000

/** The connector (`live-http`): reads [from, to + 4 h) of records and counts visits entering in [from, to). */
export const connector = Connector.make({
  key: "live-http",
  displayName: "Live HTTP (cadence suite test)",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: Config,
  pull: (config, window) =>
    Stream.fromEffect(Effect.gen(function*() {
      const from = window.from.epochMillis
      const to = window.to.epochMillis
      const records = yield* get(`${config.baseUrl}/records?from=${from}&to=${to + SPAN}`, Records)
      const statuses = yield* get(`${config.baseUrl}/statuses?from=${from}&to=${to}`, Statuses)
      const legs = new Map<string, { talkMs: number; holdMs: number; afterCallWorkMs: number }>()
      for (const r of records) {
        if (r.kind !== "leg" || r.consult) continue
        const key = `${r.contact}|${r.visit}`
        const sum = legs.get(key) ?? { talkMs: 0, holdMs: 0, afterCallWorkMs: 0 }
        legs.set(key, {
          talkMs: sum.talkMs + r.talkMs,
          holdMs: sum.holdMs + r.holdMs,
          afterCallWorkMs: sum.afterCallWorkMs + r.afterCallWorkMs
        })
      }
      const contacts: Array<Domain.ContactEvent> = []
      for (const v of records) {
        if (v.kind !== "visit" || v.at < from || v.at >= to) continue
        const t = legs.get(`${v.contact}|${v.visit}`) ?? { talkMs: 0, holdMs: 0, afterCallWorkMs: 0 }
        const handled = v.outcome === "answered"
        contacts.push({
          queueIdentifier: v.queue,
          queueName: v.queueName,
          channel: v.channel,
          timestamp: DateTime.unsafeMake(v.at),
          offered: true,
          handled,
          durationMs: handled ? t.talkMs + t.holdMs + t.afterCallWorkMs : v.waitMs,
          ...t,
          waitMs: v.waitMs,
          abandoned: v.outcome === "abandoned",
          shortAbandoned: v.short,
          breakout: v.outcome === "breakout"
        })
      }
      return {
        contacts,
        aggregates: [],
        statuses: statuses.map((s) => ({
          agentIdentifier: s.agent,
          activityIdentifier: s.activity,
          start: DateTime.unsafeMake(s.start),
          end: s.end === null ? null : DateTime.unsafeMake(s.end)
        }))
      } satisfies Domain.Batch
    }))
})
