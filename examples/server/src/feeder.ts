/**
 * The demo feeder: a pretend ACD that pushes realistic traffic to the push API over real HTTP,
 * exactly as a customer's system would. Several queues and channels follow a daily curve
 * (quiet nights, a morning and an afternoon peak), and agents move between states.
 *
 * - On start it backfills the quarter-hours of the last 24 hours that have no data yet (it asks
 *   `GET /v1/intervals`), each as one batch with an Idempotency-Key, so a restart adds nothing
 *   twice and a curve is visible at once.
 * - Then every tick (5 s; `speed` ticks faster and sends `speed` times the volume) it pushes
 *   the contacts of the last tick and the agents that changed state. Agents stay in an
 *   activity for realistic times (`dwellSeconds`: minutes of talk, about a minute of after-call
 *   work, quarter-hour breaks), divided by `speed`.
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

export interface FeederOptions {
  readonly baseUrl: string
  readonly apiKey: string
  /** to ask which quarter-hours already have data */
  readonly adminToken: string
  readonly integrationId: string
  /** the zone the daily curve follows */
  readonly timezone: string
  /** 1 = real time; `n` ticks n times as often and sends n times the volume (for tests) */
  readonly speed: number
}

interface DemoQueue {
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: "calls" | "chats" | "emails" | "social_media" | "documents" | "cases"
  /** contacts per hour at the daily peak */
  readonly peakPerHour: number
  /** mean handling time, seconds */
  readonly ahtSeconds: number
  readonly handledRate: number
}

export const queues: ReadonlyArray<DemoQueue> = [
  { queueIdentifier: "1337_99", queueName: "Level 1 support", channel: "calls", peakPerHour: 120, ahtSeconds: 240, handledRate: 0.9 },
  { queueIdentifier: "1337_98", queueName: "Level 2 support", channel: "calls", peakPerHour: 40, ahtSeconds: 420, handledRate: 0.85 },
  { queueIdentifier: "web-chat", queueName: "Web chat", channel: "chats", peakPerHour: 60, ahtSeconds: 540, handledRate: 0.95 },
  { queueIdentifier: "mail-de", queueName: "E-Mail Kundenservice", channel: "emails", peakPerHour: 45, ahtSeconds: 300, handledRate: 1 },
  { queueIdentifier: "social", queueName: "Social media", channel: "social_media", peakPerHour: 15, ahtSeconds: 200, handledRate: 0.9 },
  { queueIdentifier: "tickets", queueName: "Tickets", channel: "cases", peakPerHour: 25, ahtSeconds: 900, handledRate: 1 }
]

const agents = Array.from({ length: 12 }, (_, i) => `agent-${String(i + 1).padStart(2, "0")}`)

/** Share of the peak rate at a local hour of day (0-24): two humps and a quiet night. */
export const curve = (hour: number): number => {
  const hump = (center: number, width: number) => Math.exp(-((hour - center) ** 2) / (2 * width ** 2))
  return Math.min(1, 0.03 + 0.95 * hump(10.5, 1.8) + 0.8 * hump(14.5, 2))
}

/** A small seeded generator (mulberry32), so backfilled batches are the same on every run. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const hashString = (text: string) => {
  let h = 2_166_136_261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16_777_619)
  return h >>> 0
}

const poisson = (mean: number, random: () => number) => {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)))
  const limit = Math.exp(-mean)
  let k = 0
  let p = random()
  while (p > limit) {
    k++
    p *= random()
  }
  return k
}

const gaussian = (random: () => number) =>
  Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random())

const localHour = (ms: number, zone: DateTime.TimeZone) => {
  const parts = DateTime.toParts(DateTime.unsafeMakeZoned(ms, { timeZone: zone }))
  return parts.hours + parts.minutes / 60
}

/** The contacts that arrived in [from, to), as push API records. */
export const contactsBetween = (from: number, to: number, zone: DateTime.TimeZone, random: () => number, volume = 1) => {
  const out = []
  const hours = volume * (to - from) / 3_600_000
  const rate = curve(localHour(from, zone))
  for (const q of queues) {
    const count = poisson(q.peakPerHour * rate * hours, random)
    for (let i = 0; i < count; i++) {
      const handled = random() < q.handledRate
      const duration = handled
        ? q.ahtSeconds * Math.exp(0.45 * gaussian(random) - 0.1)
        : 20 + random() * 100
      out.push({
        properties: { offered: true, handled, duration: Math.round(duration * 10) / 10 },
        queueName: q.queueName,
        queueIdentifier: q.queueIdentifier,
        timestamp: new Date(from + Math.floor(random() * (to - from))).toISOString(),
        channel: q.channel
      })
    }
  }
  return out
}

const nextActivity: Record<string, ReadonlyArray<readonly [string, number]>> = {
  READY: [["TALK", 0.8], ["BREAK", 0.08], ["TRAINING", 0.02], ["LUNCH", 0.1]],
  TALK: [["ACW", 0.85], ["READY", 0.15]],
  ACW: [["READY", 0.95], ["BREAK", 0.05]],
  BREAK: [["READY", 1]],
  LUNCH: [["READY", 1]],
  TRAINING: [["READY", 1]],
  OFFLINE: [["READY", 1]]
}

/**
 * How long an agent stays in an activity, in seconds, as contact centres see it: a call's talk
 * time is minutes (log-normal around the queues' handling times), after-call work about a
 * minute, a short wait for the next contact while the centre is busy, breaks of a quarter hour,
 * lunch of half an hour, training of an hour.
 */
export const dwellSeconds = (activity: string, random: () => number): number => {
  const logNormal = (median: number, sigma: number) => median * Math.exp(sigma * gaussian(random))
  switch (activity) {
    case "TALK":
      return Math.min(3600, Math.max(20, logNormal(240, 0.6)))
    case "ACW":
      return Math.min(900, Math.max(5, logNormal(60, 0.5)))
    case "READY":
      return Math.min(1800, 5 + logNormal(45, 0.9))
    case "BREAK":
      return 600 + random() * 600
    case "LUNCH":
      return 1800 + random() * 900
    case "TRAINING":
      return 1800 + random() * 3600
    default:
      return 60 + random() * 240
  }
}

const pick = (choices: ReadonlyArray<readonly [string, number]>, random: () => number) => {
  let r = random()
  for (const [value, p] of choices) {
    r -= p
    if (r <= 0) return value
  }
  return choices[choices.length - 1]![0]
}

export const make = (options: FeederOptions) =>
  Effect.gen(function*() {
    const zone = DateTime.zoneUnsafeMakeNamed(options.timezone)
    const post = (path: string, body: unknown, idempotencyKey: string) =>
      Effect.tryPromise({
        try: async () => {
          const response = await fetch(`${options.baseUrl}${path}`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${options.apiKey}`,
              "content-type": "application/json",
              "idempotency-key": idempotencyKey
            },
            body: JSON.stringify(body)
          })
          const text = await response.text()
          if (!response.ok) throw new Error(`${response.status} ${text}`)
        },
        catch: (error) => error
      }).pipe(
        // a failed push is sent again with the same key: it is applied once at most
        Effect.retry(Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(3)))),
        Effect.catchAll((error) => Effect.logWarning("demo feeder: push failed", error))
      )
    const pushContacts = (data: ReadonlyArray<unknown>, key: string) =>
      data.length === 0
        ? Effect.void
        : post("/external-systems/contact-events", { data, meta: { integrationConfigurationId: options.integrationId } }, key)

    // the last 24 hours' completed quarter-hours that have no data yet, deterministic per slot
    const quarter = 15 * 60_000
    const now = Date.now()
    const first = Math.floor((now - 86_400_000) / quarter) * quarter
    const filled = yield* Effect.tryPromise(async () => {
      const query = new URLSearchParams({
        integrationId: options.integrationId,
        from: new Date(first).toISOString(),
        to: new Date(now).toISOString(),
        timezone: "UTC"
      })
      const response = await fetch(`${options.baseUrl}/v1/intervals?${query}`, {
        headers: { authorization: `Bearer ${options.adminToken}` }
      })
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`)
      const rows = (await response.json()) as ReadonlyArray<{ readonly start: string }>
      return new Set(rows.map((r) => Date.parse(r.start)))
    }).pipe(Effect.orElseSucceed(() => new Set<number>()))
    let backfilled = 0
    for (let slot = first; slot + quarter <= now; slot += quarter) {
      if (filled.has(slot)) continue
      const id = `demo-backfill-${options.integrationId}-${new Date(slot).toISOString()}`
      const data = contactsBetween(slot, slot + quarter, zone, seeded(hashString(id)))
      backfilled += data.length
      yield* pushContacts(data, id)
    }
    yield* Effect.logInfo("demo feeder: last 24 hours backfilled").pipe(Effect.annotateLogs({ contacts: backfilled }))

    const random = Math.random
    // each agent is in an activity until a time drawn from its dwell time (divided by `speed`)
    const speed = Math.max(options.speed, 0.01)
    const state = new Map(agents.map((a) => [a, { activity: "OFFLINE", until: 0 }]))
    const tick = Duration.millis(5_000 / speed)
    let last = Date.now()
    const step = Effect.gen(function*() {
      const current = Date.now()
      const key = crypto.randomUUID()
      yield* pushContacts(contactsBetween(last, current, zone, random, options.speed), key)
      const busy = curve(localHour(current, zone)) > 0.2
      const changes = []
      for (const [index, agent] of agents.entries()) {
        // two agents work the night shift
        const working = busy || index < 2
        let { activity, until } = state.get(agent)!
        // an agent may change several times in a tick (at high speed): emit each change
        while (until <= current) {
          const at = Math.max(until, last)
          let next: string
          if (!working) {
            if (activity === "OFFLINE") {
              until = current + 60_000 / speed
              break
            }
            // the shift ends once the current contact is done
            next = activity === "TALK" ? "ACW" : "OFFLINE"
          } else {
            next = pick(nextActivity[activity] ?? [["READY", 1]], random)
          }
          activity = next
          until = at + (dwellSeconds(next, random) * 1000) / speed
          changes.push({
            agentIdentifier: agent,
            activityIdentifier: next,
            startTime: new Date(at).toISOString(),
            endTime: null
          })
        }
        state.set(agent, { activity, until })
      }
      if (changes.length > 0) {
        yield* post("/external-systems/agent-statuses", {
          data: changes,
          meta: { integrationConfigurationId: options.integrationId, externalSystem: "demo-acd" }
        }, `${key}-statuses`)
      }
      last = current
    })
    return yield* step.pipe(Effect.repeat(Schedule.spaced(tick)), Effect.asVoid)
  })
