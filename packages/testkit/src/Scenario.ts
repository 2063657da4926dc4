/**
 * A seeded contact-centre scenario: the ground truth a vendor simulator renders in its own wire
 * format, and pure helpers that compute what the engine must hold once a connector has read it.
 *
 * `generate` runs a small discrete-event simulation: contacts arrive per queue following a daily
 * curve (busier late morning and mid afternoon, quieter at weekends), wait for the agent who is
 * free first, are abandoned when their patience runs out, are talked to (with holds), wrapped up
 * (after-call work) and sometimes transferred to a second agent. Agents work shifts in the
 * scenario's time zone with two breaks and a lunch, so their state timelines (Ready, Talk, Hold,
 * AfterCallWork, Break, Lunch) agree with the contacts they handled. Some state changes also carry
 * the overlapping artefact Five9 produces (a 5-second Ready that starts with the Talk it precedes).
 *
 * Everything is a function of the options: the same seed gives the same scenario, byte for byte.
 * All instants are UTC epoch milliseconds on whole seconds and all durations whole seconds in ms,
 * so sources with second precision (Five9's `HH:MM:SS`) render them without loss.
 *
 * @since 0.1.0
 */
import type { Domain } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

type Channel = Domain.Channel
type ContactEvent = Domain.ContactEvent
type IntervalMinutes = Domain.IntervalMinutes
type Measures = Domain.Measures
type AgentSegment = Domain.AgentSegment

/** @since 0.1.0 @category models */
export interface QueueSpec {
  readonly identifier: string
  readonly name: string
  readonly channel: Channel
  /** contacts per hour at the busiest time of a weekday */
  readonly dailyPeak: number
  /** mean talk time in seconds (default 240) */
  readonly talkMeanSeconds?: number | undefined
}

/** @since 0.1.0 @category models */
export interface Options {
  readonly seed: number
  /** start of the scenario (inclusive): an ISO-8601 instant, epoch ms or a DateTime */
  readonly from: DateTime.DateTime.Input
  /** end of the scenario (exclusive) */
  readonly to: DateTime.DateTime.Input
  /** IANA zone the contact centre works in (shifts and the daily curve follow its wall clock) */
  readonly timezone: string
  readonly queues: ReadonlyArray<QueueSpec>
  /** number of agents (all skilled for every queue) */
  readonly agents: number
  /** mean patience of a waiting caller in seconds (default 60) */
  readonly patienceMeanSeconds?: number | undefined
  /** mean after-call work in seconds (default 30) */
  readonly afterCallWorkMeanSeconds?: number | undefined
  /** share of handled contacts put on hold at least once (default 0.2) */
  readonly holdRate?: number | undefined
  /** share of handled contacts transferred to a second agent (default 0.06) */
  readonly transferRate?: number | undefined
  /** share of Talk states preceded by Five9's overlapping 5-second Ready (default 0.1) */
  readonly overlapRate?: number | undefined
  /** local hour the first shift starts (default 7) and the last shift ends (default 20) */
  readonly openingHour?: number | undefined
  readonly closingHour?: number | undefined
}

/**
 * One agent's part of a contact. A transferred contact has two legs.
 *
 * @since 0.1.0 @category models
 */
export interface Leg {
  readonly agentId: string
  /** when the agent was connected (epoch ms) */
  readonly start: number
  readonly talkMs: number
  readonly holdMs: number
  readonly afterCallWorkMs: number
  /** the leg ended in a transfer to the next leg's agent */
  readonly transferred: boolean
}

/** @since 0.1.0 @category models */
export interface Contact {
  /** unique, stable: `<seed>-<n>` */
  readonly id: string
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  /** when the contact reached the contact centre and entered the queue (epoch ms) */
  readonly arrival: number
  /** time in queue until answered or abandoned */
  readonly waitMs: number
  readonly handled: boolean
  readonly abandoned: boolean
  readonly legs: ReadonlyArray<Leg>
  /** when the contact was finished: end of the last after-call work, or the abandon */
  readonly completion: number
}

/** @since 0.1.0 @category models */
export const activities = ["Ready", "Talk", "Hold", "AfterCallWork", "Break", "Lunch"] as const
/** @since 0.1.0 @category models */
export type Activity = typeof activities[number]

/**
 * An agent state as a vendor reports it. `artefact` marks the overlapping 5-second Ready that
 * Five9 reports together with the Talk it precedes; vendors that merge states omit it.
 *
 * @since 0.1.0 @category models
 */
export interface AgentState {
  readonly agentId: string
  readonly activity: Activity
  readonly start: number
  readonly end: number
  readonly artefact: boolean
}

/** @since 0.1.0 @category models */
export interface Agent {
  readonly id: string
  readonly name: string
  /** logged-in periods, [login, logout) in epoch ms */
  readonly shifts: ReadonlyArray<{ readonly login: number; readonly logout: number }>
}

/** @since 0.1.0 @category models */
export interface Scenario {
  readonly seed: number
  readonly from: number
  readonly to: number
  readonly timezone: string
  readonly queues: ReadonlyArray<QueueSpec>
  readonly agents: ReadonlyArray<Agent>
  /** in arrival order */
  readonly contacts: ReadonlyArray<Contact>
  /** raw states as a vendor that reports overlaps delivers them, per agent in start order */
  readonly states: ReadonlyArray<AgentState>
}

// ---------------------------------------------------------------------------
// seeded randomness
// ---------------------------------------------------------------------------

/**
 * A small seeded PRNG (sfc32 seeded through splitmix32): fast, and the same sequence on every
 * platform.
 *
 * @since 0.1.0 @category random
 */
export interface Rng {
  /** uniform in [0, 1) */
  readonly next: () => number
  /** integer in [min, max] */
  readonly int: (min: number, max: number) => number
  /** exponential with the given mean */
  readonly exponential: (mean: number) => number
  /** log-normal with the given mean and coefficient of variation */
  readonly logNormal: (mean: number, cv: number) => number
}

/** @since 0.1.0 @category random */
export const rng = (seed: number): Rng => {
  let s = seed >>> 0
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix()
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  const gaussian = () => {
    const u = 1 - next()
    const v = next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    exponential: (mean) => -mean * Math.log(1 - next()),
    logNormal: (mean, cv) => {
      const sigma2 = Math.log(1 + cv * cv)
      const mu = Math.log(mean) - sigma2 / 2
      return Math.exp(mu + Math.sqrt(sigma2) * gaussian())
    }
  }
}

// ---------------------------------------------------------------------------
// time helpers (wall clock of a zone)
// ---------------------------------------------------------------------------

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const QUARTER = 15 * MINUTE

const toMs = (input: DateTime.DateTime.Input): number => DateTime.toEpochMillis(DateTime.unsafeMake(input))

interface Clock {
  readonly zone: DateTime.TimeZone
  /** offset from UTC in ms at an instant */
  readonly offset: (ms: number) => number
  /** local wall-clock parts */
  readonly parts: (ms: number) => DateTime.DateTime.PartsWithWeekday
  /** the instant of a local wall-clock time (gaps resolved forward) */
  readonly instant: (year: number, month: number, day: number, hours: number, minutes: number) => number
}

const clockOf = (timezone: string): Clock => {
  const zone = DateTime.zoneUnsafeMakeNamed(timezone)
  const offsets = new Map<number, number>()
  const offset = (ms: number) => {
    // offsets change on quarter-hour boundaries at most: memoise per quarter
    const key = Math.floor(ms / QUARTER)
    let o = offsets.get(key)
    if (o === undefined) {
      o = DateTime.zonedOffset(DateTime.unsafeMakeZoned(key * QUARTER, { timeZone: zone }))
      offsets.set(key, o)
    }
    return o
  }
  return {
    zone,
    offset,
    parts: (ms) => DateTime.toPartsUtc(DateTime.unsafeMake(ms + offset(ms))),
    instant: (year, month, day, hours, minutes) =>
      DateTime.toEpochMillis(
        DateTime.unsafeMakeZoned({ year, month, day, hours, minutes }, {
          timeZone: zone,
          adjustForTimeZone: true,
          disambiguation: "compatible"
        })
      )
  }
}

/**
 * The start of the reporting interval of `length` minutes that contains `ms`, aligned to the
 * zone's wall clock: an interval starts where the local time is a multiple of the length, or
 * where the zone's offset changes (so a DST day has 92 or 100 quarter-hours and the repeated
 * hour gives two intervals).
 *
 * @since 0.1.0 @category intervals
 */
export const intervalStart = (ms: number, length: IntervalMinutes, timezone: string): number =>
  intervalStartWith(ms, length, clockOf(timezone))

const intervalStartWith = (ms: number, length: IntervalMinutes, clock: Clock): number => {
  let s = Math.floor(ms / QUARTER) * QUARTER
  for (;;) {
    const localMinutes = Math.floor((s + clock.offset(s)) / MINUTE)
    if (((localMinutes % length) + length) % length === 0) return s
    if (clock.offset(s - 1) !== clock.offset(s)) return s
    s -= QUARTER
  }
}

const intervalEndWith = (start: number, length: IntervalMinutes, clock: Clock): number => {
  let e = start + QUARTER
  while (intervalStartWith(e, length, clock) === start) e += QUARTER
  return e
}

// ---------------------------------------------------------------------------
// generation
// ---------------------------------------------------------------------------

const gauss = (x: number, mu: number, sigma: number) => Math.exp(-((x - mu) ** 2) / (2 * sigma * sigma))

/**
 * The share (0..1) of a queue's peak rate at a local hour of a weekday (`weekday` 0 = Sunday).
 *
 * @since 0.1.0 @category generation
 */
export const dailyCurve = (localHour: number, weekday: number, openingHour = 7, closingHour = 20): number => {
  if (localHour < openingHour || localHour >= closingHour) return 0
  const shape = 0.25 + 0.75 * Math.max(gauss(localHour, 10.75, 1.4), 0.85 * gauss(localHour, 14.5, 1.7))
  return weekday === 0 || weekday === 6 ? 0.35 * shape : shape
}

const roundSeconds = (ms: number) => Math.max(0, Math.round(ms / SECOND)) * SECOND

interface Block {
  readonly plannedStart: number
  readonly length: number
  readonly activity: Activity
}

interface AgentDay {
  readonly agentId: string
  readonly login: number
  readonly logout: number
  readonly blocks: Array<Block>
  nextBlock: number
  freeAt: number
  readySince: number
  readonly states: Array<AgentState>
}

const agentName = (i: number) => `agent-${String(i + 1).padStart(2, "0")}`

/**
 * Generates a scenario. Deterministic: the same options give the same scenario.
 *
 * @since 0.1.0 @category generation
 */
export const generate = (options: Options): Scenario => {
  const from = Math.ceil(toMs(options.from) / SECOND) * SECOND
  const to = Math.floor(toMs(options.to) / SECOND) * SECOND
  const clock = clockOf(options.timezone)
  const random = rng(options.seed)
  const opening = options.openingHour ?? 7
  const closing = options.closingHour ?? 20
  const patienceMean = (options.patienceMeanSeconds ?? 60) * SECOND
  const acwMean = (options.afterCallWorkMeanSeconds ?? 30) * SECOND
  const holdRate = options.holdRate ?? 0.2
  const transferRate = options.transferRate ?? 0.06
  const overlapRate = options.overlapRate ?? 0.1

  // --- the local days covered
  const days: Array<{ year: number; month: number; day: number; weekday: number }> = []
  {
    const first = clock.parts(from)
    let cursor = clock.instant(first.year, first.month, first.day, 12, 0)
    for (;;) {
      const p = clock.parts(cursor)
      const dayStart = clock.instant(p.year, p.month, p.day, 0, 0)
      if (dayStart >= to) break
      days.push({ year: p.year, month: p.month, day: p.day, weekday: p.weekDay })
      cursor += 24 * HOUR
    }
  }

  // --- agent shifts: staggered starts so that opening to closing is covered
  const agentDays: Array<AgentDay> = []
  const span = Math.max(1, closing - opening - 8.5)
  const agents: Array<Agent> = []
  for (let i = 0; i < options.agents; i++) {
    const id = agentName(i)
    const shifts: Array<{ login: number; logout: number }> = []
    const baseStart = opening + ((i * 1.5) % (span + 0.5))
    for (let d = 0; d < days.length; d++) {
      const day = days[d]!
      const weekend = day.weekday === 0 || day.weekday === 6
      if (weekend && (i + d) % 2 === 1) continue
      const startHour = Math.min(closing - 8.5, baseStart + (random.next() < 0.5 ? 0 : 0.5))
      const h = Math.floor(startHour)
      const m = Math.round((startHour - h) * 60) + random.int(0, 4)
      const login = clock.instant(day.year, day.month, day.day, h, m) + random.int(0, 59) * SECOND
      const logout = login + 8.5 * HOUR
      if (login < from || logout > to) continue
      const jitter = () => random.int(-10, 10) * MINUTE
      const blocks: Array<Block> = [
        { plannedStart: login + 2 * HOUR + jitter(), length: 15 * MINUTE, activity: "Break" },
        { plannedStart: login + 4 * HOUR + jitter(), length: 30 * MINUTE, activity: "Lunch" },
        { plannedStart: login + 6.5 * HOUR + jitter(), length: 15 * MINUTE, activity: "Break" }
      ]
      shifts.push({ login, logout })
      agentDays.push({ agentId: id, login, logout, blocks, nextBlock: 0, freeAt: login, readySince: login, states: [] })
    }
    agents.push({ id, name: `Agent ${String(i + 1).padStart(2, "0")}`, shifts })
  }

  const push = (a: AgentDay, activity: Activity, start: number, end: number, artefact = false) => {
    if (end > start) a.states.push({ agentId: a.agentId, activity, start, end, artefact })
  }
  /** commits the breaks that start by `t` */
  const advance = (a: AgentDay, t: number) => {
    while (a.nextBlock < a.blocks.length) {
      const b = a.blocks[a.nextBlock]!
      const start = Math.max(b.plannedStart, a.freeAt)
      if (start > t || start >= a.logout) break
      push(a, "Ready", a.readySince, start)
      push(a, b.activity, start, start + b.length)
      a.freeAt = start + b.length
      a.readySince = a.freeAt
      a.nextBlock++
    }
  }
  /** when the agent could take a contact arriving at `t` (without committing anything) */
  const availableAt = (a: AgentDay, t: number): number => {
    if (t >= a.logout) return Number.POSITIVE_INFINITY
    let free = Math.max(a.freeAt, a.login)
    for (let n = a.nextBlock; n < a.blocks.length; n++) {
      const b = a.blocks[n]!
      const start = Math.max(b.plannedStart, free)
      if (start > Math.max(t, free)) break
      free = start + b.length
    }
    const at = Math.max(t, free)
    return at < a.logout ? at : Number.POSITIVE_INFINITY
  }
  const pick = (t: number, horizon: number, exclude?: AgentDay): AgentDay | undefined => {
    let best: AgentDay | undefined
    let bestAt = Number.POSITIVE_INFINITY
    for (const a of agentDays) {
      if (a === exclude || a.login > t + horizon || a.logout <= t) continue
      advance(a, t)
      const at = availableAt(a, t)
      if (at < bestAt || (at === bestAt && best !== undefined && a.readySince < best.readySince)) {
        best = a
        bestAt = at
      }
    }
    return best !== undefined && bestAt <= t + horizon ? best : undefined
  }
  const serve = (a: AgentDay, start: number, talkMs: number, holdMs: number, acwMs: number, transferred: boolean) => {
    advance(a, start)
    if (random.next() < overlapRate && start > a.readySince) {
      // Five9 reports a short Ready starting with the Talk: Ready [t, t+5s) and Talk [t, end)
      push(a, "Ready", a.readySince, start)
      push(a, "Ready", start, start + 5 * SECOND, true)
      a.readySince = start
    } else {
      push(a, "Ready", a.readySince, start)
    }
    let t = start
    if (holdMs > 0) {
      const before = roundSeconds(talkMs * 0.4)
      push(a, "Talk", t, t + before)
      t += before
      push(a, "Hold", t, t + holdMs)
      t += holdMs
      push(a, "Talk", t, t + talkMs - before)
      t += talkMs - before
    } else {
      push(a, "Talk", t, t + talkMs)
      t += talkMs
    }
    push(a, "AfterCallWork", t, t + acwMs)
    a.freeAt = t + acwMs
    a.readySince = a.freeAt
    return { agentId: a.agentId, start, talkMs, holdMs, afterCallWorkMs: acwMs, transferred } satisfies Leg
  }

  // --- arrivals: thinning of a Poisson process at the peak rate
  const arrivals: Array<{ at: number; queue: QueueSpec }> = []
  for (const queue of options.queues) {
    const meanGap = HOUR / Math.max(queue.dailyPeak, 1e-9)
    let t = from
    for (;;) {
      t += random.exponential(meanGap)
      if (t >= to) break
      const p = clock.parts(t)
      if (random.next() < dailyCurve(p.hours + p.minutes / 60, p.weekDay, opening, closing)) {
        arrivals.push({ at: roundSeconds(t), queue })
      }
    }
  }
  arrivals.sort((x, y) =>
    x.at - y.at || (x.queue.identifier < y.queue.identifier ? -1 : x.queue.identifier > y.queue.identifier ? 1 : 0)
  )

  const contacts: Array<Contact> = []
  let n = 0
  for (const { at, queue } of arrivals) {
    n++
    const id = `${options.seed}-${n}`
    const patience = roundSeconds(Math.max(SECOND, random.exponential(patienceMean)))
    const talkMs = roundSeconds(Math.max(10 * SECOND, random.logNormal((queue.talkMeanSeconds ?? 240) * SECOND, 0.6)))
    const holdMs = random.next() < holdRate ? roundSeconds(Math.max(SECOND, random.exponential(40 * SECOND))) : 0
    const acwMs = roundSeconds(Math.max(SECOND, random.exponential(acwMean)))
    const transfer = random.next() < transferRate
    const agent = pick(at, patience)
    if (agent === undefined) {
      contacts.push({
        id,
        queueIdentifier: queue.identifier,
        queueName: queue.name,
        channel: queue.channel,
        arrival: at,
        waitMs: patience,
        handled: false,
        abandoned: true,
        legs: [],
        completion: at + patience
      })
      continue
    }
    const answered = Math.max(at, availableAt(agent, at))
    const legs: Array<Leg> = []
    if (transfer) {
      const firstTalk = roundSeconds(talkMs * 0.3) || SECOND
      const handoverAt = answered + firstTalk
      const second = pick(handoverAt, 0, agent)
      if (second !== undefined) {
        legs.push(serve(agent, answered, firstTalk, 0, 5 * SECOND, true))
        legs.push(serve(second, handoverAt, Math.max(SECOND, talkMs - firstTalk), holdMs, acwMs, false))
      }
    }
    if (legs.length === 0) legs.push(serve(agent, answered, talkMs, holdMs, acwMs, false))
    const completion = Math.max(...legs.map((l) => l.start + l.talkMs + l.holdMs + l.afterCallWorkMs))
    contacts.push({
      id,
      queueIdentifier: queue.identifier,
      queueName: queue.name,
      channel: queue.channel,
      arrival: at,
      waitMs: answered - at,
      handled: true,
      abandoned: false,
      legs,
      completion
    })
  }

  // --- close every agent day: remaining breaks, then Ready until logout (or the last ACW)
  const states: Array<AgentState> = []
  for (const a of agentDays) {
    advance(a, a.logout - 1)
    push(a, "Ready", a.readySince, Math.max(a.logout, a.readySince))
    states.push(...a.states)
  }
  states.sort((x, y) =>
    (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0) || x.start - y.start || x.end - y.end
  )
  return {
    seed: options.seed,
    from,
    to,
    timezone: options.timezone,
    queues: options.queues,
    agents,
    contacts,
    states
  }
}

// ---------------------------------------------------------------------------
// derived values
// ---------------------------------------------------------------------------

/** Talk, hold and after-call work of a contact, over all its legs. @since 0.1.0 @category derived */
export const totals = (contact: Contact): { talkMs: number; holdMs: number; afterCallWorkMs: number } => {
  let talkMs = 0, holdMs = 0, afterCallWorkMs = 0
  for (const l of contact.legs) {
    talkMs += l.talkMs
    holdMs += l.holdMs
    afterCallWorkMs += l.afterCallWorkMs
  }
  return { talkMs, holdMs, afterCallWorkMs }
}

/** Which instant a contact counts at. @since 0.1.0 @category models */
export type Instant = "arrival" | "completion"

/** @since 0.1.0 @category models */
export interface EventOptions {
  readonly instant?: Instant | undefined
  /** when set, `answeredInThreshold` is filled: handled with a wait of at most this many seconds */
  readonly serviceLevelSeconds?: number | undefined
}

/**
 * The contact event a faithful connector emits for a contact:
 *
 * - `offered` always (once per contact, whatever the number of legs);
 * - `handled` when an agent answered;
 * - `durationMs` = talk + hold + after-call work over all legs for a handled contact (the
 *   handling time, AHT = handling / handled), and the time waited until the abandon for a
 *   contact that was not handled (kept apart from AHT by the engine);
 * - `talkMs`, `holdMs`, `afterCallWorkMs` over all legs; `waitMs` the time in queue;
 * - `abandoned`; `answeredInThreshold` only when a service level is given.
 *
 * @since 0.1.0 @category derived
 */
export const contactEvent = (contact: Contact, options: EventOptions = {}): ContactEvent => {
  const t = totals(contact)
  const at = (options.instant ?? "arrival") === "arrival" ? contact.arrival : contact.completion
  const base = {
    queueIdentifier: contact.queueIdentifier,
    queueName: contact.queueName,
    channel: contact.channel,
    timestamp: DateTime.unsafeMake(at),
    offered: true,
    handled: contact.handled,
    durationMs: contact.handled ? t.talkMs + t.holdMs + t.afterCallWorkMs : contact.waitMs,
    talkMs: t.talkMs,
    holdMs: t.holdMs,
    afterCallWorkMs: t.afterCallWorkMs,
    waitMs: contact.waitMs,
    abandoned: contact.abandoned
  }
  return options.serviceLevelSeconds === undefined
    ? base
    : { ...base, answeredInThreshold: contact.handled && contact.waitMs <= options.serviceLevelSeconds * SECOND }
}

/** @since 0.1.0 @category models */
export interface IntervalOptions extends EventOptions {
  readonly length: IntervalMinutes
  /** the reporting zone (defaults to the scenario's) */
  readonly timezone?: string | undefined
  /** only contacts counted in [from, to) (epoch ms or input); default the whole scenario */
  readonly from?: DateTime.DateTime.Input | undefined
  readonly to?: DateTime.DateTime.Input | undefined
}

/**
 * One expected interval of one queue and channel, with core's `Measures` (integer ms).
 *
 * @since 0.1.0 @category models
 */
export interface ExpectedInterval extends Measures {
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  /** UTC epoch ms */
  readonly start: number
  readonly end: number
}

const zeroMeasures: Measures = {
  offered: 0,
  handled: 0,
  handlingMs: 0,
  unhandledMs: 0,
  talkMs: 0,
  holdMs: 0,
  afterCallWorkMs: 0,
  waitMs: 0,
  abandoned: 0,
  shortAbandoned: 0,
  breakout: 0,
  answeredInThreshold: 0
}

/**
 * What the engine's interval query must return for the scenario: per queue, channel and
 * interval that has data, the counts and ms sums of the contact events `contactEvent` describes
 * (so `handlingMs` = talk + hold + after-call work of handled contacts, `unhandledMs` the wait of
 * those not handled). Sorted by start, then queue identifier, name and channel.
 *
 * @since 0.1.0 @category derived
 */
export const expectedIntervals = (scenario: Scenario, options: IntervalOptions): ReadonlyArray<ExpectedInterval> => {
  const clock = clockOf(options.timezone ?? scenario.timezone)
  const from = options.from === undefined ? Number.NEGATIVE_INFINITY : toMs(options.from)
  const to = options.to === undefined ? Number.POSITIVE_INFINITY : toMs(options.to)
  const sums = new Map<string, { key: Omit<ExpectedInterval, keyof Measures>; m: Record<keyof Measures, number> }>()
  for (const contact of scenario.contacts) {
    const event = contactEvent(contact, options)
    const at = DateTime.toEpochMillis(event.timestamp)
    if (at < from || at >= to) continue
    const start = intervalStartWith(at, options.length, clock)
    const key = JSON.stringify([contact.queueIdentifier, contact.queueName, contact.channel, start])
    let entry = sums.get(key)
    if (!entry) {
      entry = {
        key: {
          queueIdentifier: contact.queueIdentifier,
          queueName: contact.queueName,
          channel: contact.channel,
          start,
          end: intervalEndWith(start, options.length, clock)
        },
        m: { ...zeroMeasures }
      }
      sums.set(key, entry)
    }
    const m = entry.m
    m.offered += 1
    m.handled += event.handled ? 1 : 0
    m.handlingMs += event.handled ? event.durationMs : 0
    m.unhandledMs += event.handled ? 0 : event.durationMs
    m.talkMs += event.talkMs ?? 0
    m.holdMs += event.holdMs ?? 0
    m.afterCallWorkMs += event.afterCallWorkMs ?? 0
    m.waitMs += event.waitMs ?? 0
    m.abandoned += event.abandoned ? 1 : 0
    m.shortAbandoned += event.shortAbandoned ? 1 : 0
    m.breakout += event.breakout ? 1 : 0
    m.answeredInThreshold += event.answeredInThreshold ? 1 : 0
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return Array.from(sums.values(), (e) => ({ ...e.key, ...e.m })).sort((a, b) =>
    a.start - b.start || cmp(a.queueIdentifier, b.queueIdentifier) || cmp(a.queueName, b.queueName) ||
    cmp(a.channel, b.channel)
  )
}

// ---------------------------------------------------------------------------
// agent segments
// ---------------------------------------------------------------------------

/**
 * Resolves overlapping states the way injixo documents for Five9: of two overlapping states the
 * longer one is trimmed to start where the shorter one ends (a longer state that started earlier
 * is cut at the shorter one's start and resumes after it). Input per agent in any order.
 *
 * @since 0.1.0 @category segments
 */
export const trimOverlaps = <S extends { readonly start: number; readonly end: number }>(
  states: ReadonlyArray<S>
): Array<S> => {
  const sorted = [...states].sort((a, b) => a.start - b.start || (a.end - a.start) - (b.end - b.start))
  const out: Array<S> = []
  for (const s of sorted) {
    let cur = s
    const last = out[out.length - 1]
    if (last !== undefined && cur.start < last.end) {
      const lastLength = last.end - last.start
      const curLength = cur.end - cur.start
      if (curLength >= lastLength || cur.start === last.start) {
        cur = { ...cur, start: last.end }
      } else {
        // the shorter one starts inside the longer earlier one: cut it around the shorter one
        out[out.length - 1] = { ...last, end: cur.start }
        out.push(cur)
        if (last.end > cur.end) out.push({ ...last, start: cur.end })
        continue
      }
    }
    if (cur.end > cur.start) out.push(cur)
  }
  return out.sort((a, b) => a.start - b.start)
}

/** @since 0.1.0 @category models */
export interface SegmentOptions {
  /** the activity identifier a connector emits for a state (default: the neutral name) */
  readonly activityOf?: ((state: AgentState) => string) | undefined
  /** only states that start in [from, to) */
  readonly from?: DateTime.DateTime.Input | undefined
  readonly to?: DateTime.DateTime.Input | undefined
  /**
   * merge back-to-back states that get the same activity identifier (as a vendor that reports
   * one merged state per agent does: Talk, Hold, Talk all become one `Busy:Live`)
   */
  readonly mergeAdjacent?: boolean | undefined
}

/**
 * What the engine must store as agent segments: per agent the states with overlaps trimmed
 * (`trimOverlaps`), which then never overlap, so core's rule (the segment received last replaces
 * what it overlaps) leaves them as they are. Sorted by agent and start.
 *
 * @since 0.1.0 @category derived
 */
export const expectedSegments = (
  scenario: Scenario,
  options: SegmentOptions = {}
): ReadonlyArray<Omit<AgentSegment, "integrationId">> => {
  const from = options.from === undefined ? Number.NEGATIVE_INFINITY : toMs(options.from)
  const to = options.to === undefined ? Number.POSITIVE_INFINITY : toMs(options.to)
  const activityOf = options.activityOf ?? ((s: AgentState) => s.activity)
  const byAgent = new Map<string, Array<AgentState>>()
  for (const s of scenario.states) {
    const list = byAgent.get(s.agentId)
    if (list) list.push(s)
    else byAgent.set(s.agentId, [s])
  }
  const out: Array<Omit<AgentSegment, "integrationId">> = []
  for (const agentId of Array.from(byAgent.keys()).sort()) {
    for (const s of trimOverlaps(byAgent.get(agentId)!)) {
      const activityIdentifier = activityOf(s)
      const last = out[out.length - 1]
      if (
        options.mergeAdjacent && last !== undefined && last.agentIdentifier === agentId &&
        last.activityIdentifier === activityIdentifier && last.end === s.start
      ) {
        out[out.length - 1] = { ...last, end: s.end }
        continue
      }
      out.push({ agentIdentifier: agentId, activityIdentifier, start: s.start, end: s.end })
    }
  }
  return out.filter((s) => s.start >= from && s.start < to)
}

/**
 * The states a vendor that merges states reports (Vonage: one state per agent at a time): the
 * trimmed timeline.
 *
 * @since 0.1.0 @category derived
 */
export const mergedStates = (scenario: Scenario): ReadonlyArray<AgentState> => {
  const byAgent = new Map<string, Array<AgentState>>()
  for (const s of scenario.states) {
    const list = byAgent.get(s.agentId)
    if (list) list.push(s)
    else byAgent.set(s.agentId, [s])
  }
  const out: Array<AgentState> = []
  for (const agentId of Array.from(byAgent.keys()).sort()) out.push(...trimOverlaps(byAgent.get(agentId)!))
  return out.sort((a, b) => a.start - b.start || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
}
