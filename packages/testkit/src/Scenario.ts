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
 * ## The counting model (v2)
 *
 * Options switch on what real sources do and what the counting rule of `docs/counting.md` is
 * about; every one of them is off by default, and with all of them off a seed gives exactly the
 * scenario it gave before they existed. `allFeatures` switches every one on.
 *
 * - **IVR before the queue** (`ivrMaxSeconds`): a contact reaches the centre at `start` and
 *   enters its first queue `ivrMs` later.
 * - **Queue visits** (`Contact.visits`): every time a contact waits in a queue is a
 *   `QueueVisit` with its own queue, entry instant, wait and outcome (`answered`, `abandoned`,
 *   `breakout`). A transfer to another queue (`queueTransferRate`) ends the visit with its agent
 *   leg and starts a visit at the other queue when that agent stops talking; a breakout
 *   (`breakoutRate`) leaves the queue without an agent and without hanging up, to an overflow
 *   queue (another visit, `overflowShare`) or out of the centre. An abandon within
 *   `shortAbandonSeconds` is flagged short.
 * - **Legs with their own instants**: each agent leg starts when that agent is connected and
 *   lasts talk + hold + after-call work; long calls (`longTalkShare`) run into later intervals
 *   and later import windows. A **consult** (`consultRate`) is a leg of another agent during the
 *   primary agent's hold: it belongs to the visit but adds nothing to its counts or handling
 *   time. Every contact ends within `maxContactSpanMs` of its start (default 4 hours), the
 *   span a connector reads around its window.
 * - **LoggedOut states** (`loggedOutStates`): agents are `LoggedOut` between shifts (in
 *   `Scenario.loggedOut`; 40 hours and more over weekends), from the scenario's start and,
 *   after their last shift, open for good.
 * - **What the source knows, when** (`writeDelayMaxSeconds`, `corrections`): a contact is in
 *   the source's store `writtenAt` (completion plus a reporting delay); some legs' after-call
 *   work is first written short and corrected later (`Scenario.corrections`). `asKnownAt`
 *   gives the scenario as the source shows it at an instant, for simulators whose clock moves.
 *
 * The ground truth (`expectedIntervals`) counts every queue visit at its own queue at the
 * instant it entered that queue (`instant: "queueEntry"`, the default), from this model and
 * never from a wire format; the other instants serve sources that can't express it.
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

/**
 * Late corrections at the source: a share of agent legs' after-call work is first written short
 * (0 to 50 % of the truth) and rewritten with the true value later.
 *
 * @since 0.2.0 @category models
 */
export interface CorrectionOptions {
  /** share of agent legs whose after-call work is corrected */
  readonly share: number
  /** the correction is written this long after the contact was first written: log-uniform between the two (default 60 s to 20 h) */
  readonly minDelaySeconds?: number | undefined
  readonly maxDelaySeconds?: number | undefined
  /**
   * Corrections later than an import look-back (e.g. 24–30 hours): no schedule that re-reads a
   * trailing look-back sees them, except after an outage, when the first runs re-read
   * `[old watermark − look-back, now)`. So they are only put on contacts that start in
   * `[contactsFrom, contactsTo)`, which a test chooses to fall where its schedule re-reads them.
   */
  readonly long?: {
    readonly share: number
    readonly minDelaySeconds: number
    readonly maxDelaySeconds: number
    readonly contactsFrom: DateTime.DateTime.Input
    readonly contactsTo: DateTime.DateTime.Input
  } | undefined
}

/** @since 0.1.0 @category models */
export interface Options {
  readonly seed: number
  /** start of the scenario (inclusive): an ISO-8601 instant, epoch ms or a DateTime */
  readonly from: DateTime.DateTime.Input
  /** end of the scenario (exclusive): no contact starts at or after it */
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
  /** share of handled contacts transferred to a second agent within the same queue visit (default 0.06) */
  readonly transferRate?: number | undefined
  /** share of Talk states preceded by Five9's overlapping 5-second Ready (default 0.1) */
  readonly overlapRate?: number | undefined
  /** local hour the first shift starts (default 7) and the last shift ends (default 20) */
  readonly openingHour?: number | undefined
  readonly closingHour?: number | undefined

  // --- v2: every option below is off by default -------------------------------------------

  /** IVR/self-service before the first queue: uniform 0..max seconds (default 0: the queue is entered on arrival) */
  readonly ivrMaxSeconds?: number | undefined
  /** share of answered visits whose agent transfers the contact to another queue of the same channel (default 0) */
  readonly queueTransferRate?: number | undefined
  /** share of visits with a breakout timer (15–120 s): unanswered by then, the contact leaves the queue without hanging up (default 0) */
  readonly breakoutRate?: number | undefined
  /** share of breakouts routed to another queue of the same channel, as another visit; the rest leave the centre (default 0.5) */
  readonly overflowShare?: number | undefined
  /** an abandon after waiting less than this many seconds is a short abandon (default 0: none is) */
  readonly shortAbandonSeconds?: number | undefined
  /** share of answered visits whose (last) agent consults another agent while the caller is on hold (default 0) */
  readonly consultRate?: number | undefined
  /** heavy tail: share of visits whose talk time is log-uniform between 20 minutes and `longTalkMaxMinutes` (default 0) */
  readonly longTalkShare?: number | undefined
  /** the longest talk of the heavy tail in minutes (default 120) */
  readonly longTalkMaxMinutes?: number | undefined
  /** every contact ends within this many seconds of its start (default 4 hours, the connectors' default read-around span) */
  readonly maxContactSpanSeconds?: number | undefined
  /** agents have `LoggedOut` states between shifts (`Scenario.loggedOut`), and every third agent takes weekends off (default false) */
  readonly loggedOutStates?: boolean | undefined
  /** the source writes a finished contact (and each finished visit) uniform 0..max seconds after it ends (default 0) */
  readonly writeDelayMaxSeconds?: number | undefined
  /** late corrections of after-call work (default none) */
  readonly corrections?: CorrectionOptions | undefined
}

/**
 * The v2 options with every feature on, at rates that put each in a small scenario: spread
 * it into your options (`{ ...base, ...Scenario.allFeatures }`) and override what you need.
 *
 * @since 0.2.0 @category generation
 */
export const allFeatures = {
  ivrMaxSeconds: 60,
  queueTransferRate: 0.1,
  breakoutRate: 0.25,
  overflowShare: 0.5,
  shortAbandonSeconds: 5,
  consultRate: 0.1,
  longTalkShare: 0.04,
  longTalkMaxMinutes: 150,
  maxContactSpanSeconds: 4 * 3600,
  loggedOutStates: true,
  writeDelayMaxSeconds: 600,
  corrections: { share: 0.08, minDelaySeconds: 60, maxDelaySeconds: 20 * 3600 }
} as const satisfies Partial<Options>

/**
 * What one agent leg is.
 *
 * - `agent`: the agent who had the customer: talk, hold and after-call work count as the
 *   visit's handling;
 * - `consult`: another agent consulted while the primary agent holds the caller. Its talk is
 *   inside the primary agent's hold and counts nowhere.
 *
 * @since 0.2.0 @category models
 */
export type LegKind = "agent" | "consult"

/**
 * One agent's part of a queue visit, from the moment the agent was connected. The agent talks
 * for 40 % of the talk (whole seconds), holds, talks the rest, then does after-call work
 * (`legPhases`). A leg transferred to another agent of the same visit is followed by that
 * agent's leg; one transferred to another queue ends its visit.
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
  /** the leg ended in a transfer: to the next leg's agent, or (the visit's last agent leg) to another queue */
  readonly transferred: boolean
  /** @since 0.2.0 */
  readonly kind: LegKind
}

/**
 * How a queue visit ended: an agent answered it, the caller hung up while waiting, or the
 * contact left the queue without an agent and without hanging up (routed elsewhere: an overflow
 * queue, voicemail, a callback offer).
 *
 * @since 0.2.0 @category models
 */
export type VisitOutcome = "answered" | "abandoned" | "breakout"

/**
 * One stay of a contact in one queue. Each visit counts at its own queue, at `enteredAt`.
 *
 * @since 0.2.0 @category models
 */
export interface QueueVisit {
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  /** when the contact entered this queue (epoch ms) */
  readonly enteredAt: number
  /** time in this queue until answered, abandoned or broken out */
  readonly waitMs: number
  readonly outcome: VisitOutcome
  /** abandoned within `shortAbandonSeconds` */
  readonly shortAbandoned: boolean
  /** agent legs in start order (consult legs among them, at their own start) */
  readonly legs: ReadonlyArray<Leg>
  /** when the visit was over: the end of its last leg's after-call work, or of its wait */
  readonly end: number
  /** when the source's store first shows the visit: `end` plus the contact's write delay */
  readonly writtenAt: number
}

/**
 * A contact. The fields from `queueIdentifier` to `legs` are views of its **first visit**, kept
 * for code written before visits existed; new code reads `visits`.
 *
 * @since 0.1.0 @category models
 */
export interface Contact {
  /** unique, stable: `<seed>-<n>`, numbered in start order */
  readonly id: string
  /** when the contact reached the contact centre (epoch ms) @since 0.2.0 */
  readonly start: number
  /** time in IVR/self-service before the first queue @since 0.2.0 */
  readonly ivrMs: number
  /** every queue visit, in order @since 0.2.0 */
  readonly visits: ReadonlyArray<QueueVisit>
  /** when the source's store first shows the finished contact: `completion` plus a write delay @since 0.2.0 */
  readonly writtenAt: number
  /** the first visit's queue */
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  /** when the contact entered its first queue (`start + ivrMs`) */
  readonly arrival: number
  /** time in the first queue until answered, abandoned or broken out */
  readonly waitMs: number
  /** the first visit was answered */
  readonly handled: boolean
  /** the first visit was abandoned (a breakout is not an abandon) */
  readonly abandoned: boolean
  /** the first visit's legs */
  readonly legs: ReadonlyArray<Leg>
  /** when the whole contact was finished: end of the last after-call work, or of the last wait */
  readonly completion: number
}

/**
 * A late correction: the source first writes `recorded` as the leg's after-call work and
 * rewrites it `at` with the true value (the leg's own `afterCallWorkMs`).
 *
 * @since 0.2.0 @category models
 */
export interface Correction {
  readonly contactId: string
  /** index into the contact's `visits` */
  readonly visit: number
  /** index into that visit's `legs` */
  readonly leg: number
  readonly field: "afterCallWorkMs"
  readonly recorded: number
  readonly corrected: number
  /** when the source rewrites the record (after the contact's `writtenAt`) */
  readonly at: number
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

/**
 * The activities of a whole timeline: the on-shift activities and `LoggedOut`.
 *
 * @since 0.2.0 @category models
 */
export type TimelineActivity = Activity | "LoggedOut"

/**
 * A state of an agent's whole timeline. A `LoggedOut` state after an agent's last shift never
 * ends: its `end` is `Number.POSITIVE_INFINITY` (an open status for every `now`).
 *
 * @since 0.2.0 @category models
 */
export interface TimelineState {
  readonly agentId: string
  readonly activity: TimelineActivity
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
  /** in start order */
  readonly contacts: ReadonlyArray<Contact>
  /** raw on-shift states as a vendor that reports overlaps delivers them, per agent in start order */
  readonly states: ReadonlyArray<AgentState>
  /** with `loggedOutStates`: the agents' LoggedOut states, per agent in start order (else empty) @since 0.2.0 */
  readonly loggedOut: ReadonlyArray<TimelineState>
  /** late corrections, in the order of `at` @since 0.2.0 */
  readonly corrections: ReadonlyArray<Correction>
  /** every contact ends within this span of its start @since 0.2.0 */
  readonly maxContactSpanMs: number
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

/** The most visits one contact makes (a transfer or an overflow adds one). */
const MAX_VISITS = 3
/** a follow-up visit is only started with at least this much of the contact's span left */
const FOLLOW_UP_ROOM = 30 * MINUTE

/** A visit waiting to be simulated: the contact enters `queue` at `enteredAt`. */
interface Entry {
  readonly contact: ContactBuild
  readonly queue: QueueSpec
  readonly enteredAt: number
  readonly seq: number
}

interface ContactBuild {
  readonly id: string
  readonly start: number
  readonly ivrMs: number
  readonly visits: Array<Omit<QueueVisit, "writtenAt">>
}

/** A binary min-heap of entries by (enteredAt, seq): visits are simulated in the order they happen. */
const entryHeap = () => {
  const items: Array<Entry> = []
  const less = (a: Entry, b: Entry) => a.enteredAt < b.enteredAt || (a.enteredAt === b.enteredAt && a.seq < b.seq)
  return {
    get size() {
      return items.length
    },
    push: (e: Entry) => {
      items.push(e)
      let i = items.length - 1
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!less(items[i]!, items[parent]!)) break
        ;[items[i], items[parent]] = [items[parent]!, items[i]!]
        i = parent
      }
    },
    pop: (): Entry | undefined => {
      const top = items[0]
      const last = items.pop()
      if (items.length > 0 && last !== undefined) {
        items[0] = last
        let i = 0
        for (;;) {
          const l = 2 * i + 1, r = l + 1
          let m = i
          if (l < items.length && less(items[l]!, items[m]!)) m = l
          if (r < items.length && less(items[r]!, items[m]!)) m = r
          if (m === i) break
          ;[items[i], items[m]] = [items[m]!, items[i]!]
          i = m
        }
      }
      return top
    }
  }
}

/**
 * When each part of a leg happens: talk from `start` to `holdStart` (40 % of the talk, whole
 * seconds, when there is a hold), hold until `holdEnd`, talk until `talkEnd`, after-call work
 * until `end`. The agent's states (Talk, Hold, Talk, AfterCallWork) follow the same instants.
 *
 * @since 0.2.0 @category derived
 */
export const legPhases = (leg: Pick<Leg, "start" | "talkMs" | "holdMs" | "afterCallWorkMs">): {
  readonly start: number
  readonly holdStart: number
  readonly holdEnd: number
  readonly talkEnd: number
  readonly end: number
} => {
  const before = leg.holdMs > 0 ? roundSeconds(leg.talkMs * 0.4) : leg.talkMs
  const holdStart = leg.start + before
  const holdEnd = holdStart + leg.holdMs
  const talkEnd = holdEnd + leg.talkMs - before
  return { start: leg.start, holdStart, holdEnd, talkEnd, end: talkEnd + leg.afterCallWorkMs }
}

const legEnd = (leg: Leg) => leg.start + leg.talkMs + leg.holdMs + leg.afterCallWorkMs

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
  // every v2 draw comes from a stream of its own, so the base stream (and with every v2 option
  // off, the whole scenario) stays what it was before the options existed
  const extra = rng((options.seed ^ 0x5bd1e995) >>> 0)
  const opening = options.openingHour ?? 7
  const closing = options.closingHour ?? 20
  const patienceMean = (options.patienceMeanSeconds ?? 60) * SECOND
  const acwMean = (options.afterCallWorkMeanSeconds ?? 30) * SECOND
  const holdRate = options.holdRate ?? 0.2
  const transferRate = options.transferRate ?? 0.06
  const overlapRate = options.overlapRate ?? 0.1
  const ivrMax = (options.ivrMaxSeconds ?? 0) * SECOND
  const queueTransferRate = options.queueTransferRate ?? 0
  const breakoutRate = options.breakoutRate ?? 0
  const overflowShare = options.overflowShare ?? 0.5
  const shortAbandonMs = (options.shortAbandonSeconds ?? 0) * SECOND
  const consultRate = options.consultRate ?? 0
  const longTalkShare = options.longTalkShare ?? 0
  const longTalkMaxMs = Math.max(20 * MINUTE, (options.longTalkMaxMinutes ?? 120) * MINUTE)
  const maxSpan = Math.max(HOUR, (options.maxContactSpanSeconds ?? 4 * 3600) * SECOND)
  const loggedOutStates = options.loggedOutStates ?? false
  const writeDelayMax = (options.writeDelayMaxSeconds ?? 0) * SECOND

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
      // with LoggedOut states, every third agent is off for whole weekends (LoggedOut for 60 hours and more)
      if (loggedOutStates && weekend && i % 3 === 2) continue
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
  const serve = (
    a: AgentDay,
    start: number,
    talkMs: number,
    holdMs: number,
    acwMs: number,
    transferred: boolean,
    kind: LegKind = "agent"
  ): Leg => {
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
    return { agentId: a.agentId, start, talkMs, holdMs, afterCallWorkMs: acwMs, transferred, kind }
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

  // --- queue visits, simulated in the order they start (with no IVR and no follow-up visit,
  // that is the arrival order, and every draw of the base stream happens as it always did)
  const heap = entryHeap()
  const built: Array<ContactBuild> = arrivals.map(({ at, queue }, i) => {
    const ivrMs = ivrMax > 0 ? roundSeconds(extra.next() * ivrMax) : 0
    const contact: ContactBuild = { id: `${options.seed}-${i + 1}`, start: at, ivrMs, visits: [] }
    heap.push({ contact, queue, enteredAt: at + ivrMs, seq: i })
    return contact
  })
  let seq = built.length
  /** another queue of the same channel, if there is one */
  const otherQueue = (queue: QueueSpec): QueueSpec | undefined => {
    const others = options.queues.filter((q) => q !== queue && q.channel === queue.channel)
    return others.length === 0 ? undefined : others[Math.floor(extra.next() * others.length)]
  }
  for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) {
    const { contact, queue, enteredAt } = entry
    const deadline = contact.start + maxSpan
    const patience = roundSeconds(Math.max(SECOND, random.exponential(patienceMean)))
    let talkMs = roundSeconds(Math.max(10 * SECOND, random.logNormal((queue.talkMeanSeconds ?? 240) * SECOND, 0.6)))
    let holdMs = random.next() < holdRate ? roundSeconds(Math.max(SECOND, random.exponential(40 * SECOND))) : 0
    const acwMs = roundSeconds(Math.max(SECOND, random.exponential(acwMean)))
    const transfer = random.next() < transferRate
    if (longTalkShare > 0 && extra.next() < longTalkShare) {
      talkMs = roundSeconds(20 * MINUTE * Math.pow(longTalkMaxMs / (20 * MINUTE), extra.next()))
    }
    const breakoutAfter = breakoutRate > 0 && extra.next() < breakoutRate
      ? roundSeconds((15 + extra.next() * 105) * SECOND)
      : undefined
    const followUps = contact.visits.length + 1 < MAX_VISITS
    const transferTo = queueTransferRate > 0 && extra.next() < queueTransferRate ? otherQueue(queue) : undefined
    const consult = consultRate > 0 && extra.next() < consultRate
    if (consult && holdMs === 0) holdMs = roundSeconds((30 + extra.next() * 90) * SECOND)
    const consultTalkMs = consult ? Math.max(SECOND, roundSeconds(holdMs * (0.3 + 0.6 * extra.next()))) : 0
    // the longest wait that still leaves room to serve the contact within its span
    const room = deadline - enteredAt - holdMs - acwMs - 25 * SECOND
    const limit = Math.max(SECOND, Math.min(patience, breakoutAfter ?? Number.POSITIVE_INFINITY, room))
    const agent = pick(enteredAt, limit)
    if (agent === undefined) {
      const outcome: VisitOutcome = breakoutAfter !== undefined && breakoutAfter < patience && limit === breakoutAfter
        ? "breakout"
        : "abandoned"
      const end = enteredAt + limit
      contact.visits.push({
        queueIdentifier: queue.identifier,
        queueName: queue.name,
        channel: queue.channel,
        enteredAt,
        waitMs: limit,
        outcome,
        shortAbandoned: outcome === "abandoned" && limit < shortAbandonMs,
        legs: [],
        end
      })
      if (outcome === "breakout" && followUps && end + FOLLOW_UP_ROOM <= deadline && extra.next() < overflowShare) {
        const overflow = otherQueue(queue)
        if (overflow !== undefined) heap.push({ contact, queue: overflow, enteredAt: end, seq: seq++ })
      }
      continue
    }
    const answered = Math.max(enteredAt, availableAt(agent, enteredAt))
    // keep the contact within its span (a first leg of a transfer takes 5 s of after-call work)
    talkMs = Math.max(2 * SECOND, Math.min(talkMs, deadline - answered - holdMs - acwMs - 5 * SECOND))
    const talkEnd = answered + talkMs + holdMs
    const toQueue = followUps && talkEnd + FOLLOW_UP_ROOM <= deadline ? transferTo : undefined
    const legs: Array<Leg> = []
    if (transfer) {
      const firstTalk = roundSeconds(talkMs * 0.3) || SECOND
      const handoverAt = answered + firstTalk
      const second = pick(handoverAt, 0, agent)
      if (second !== undefined) {
        legs.push(serve(agent, answered, firstTalk, 0, 5 * SECOND, true))
        legs.push(serve(second, handoverAt, Math.max(SECOND, talkMs - firstTalk), holdMs, acwMs, toQueue !== undefined))
      }
    }
    if (legs.length === 0) legs.push(serve(agent, answered, talkMs, holdMs, acwMs, toQueue !== undefined))
    if (consult) {
      const primary = legs[legs.length - 1]!
      const at = legPhases(primary).holdStart
      const consulted = pick(at, 0)
      if (consulted !== undefined) legs.push(serve(consulted, at, consultTalkMs, 0, 0, false, "consult"))
    }
    legs.sort((x, y) => x.start - y.start || (x.kind === y.kind ? 0 : x.kind === "agent" ? -1 : 1))
    contact.visits.push({
      queueIdentifier: queue.identifier,
      queueName: queue.name,
      channel: queue.channel,
      enteredAt,
      waitMs: answered - enteredAt,
      outcome: "answered",
      shortAbandoned: false,
      legs,
      end: Math.max(...legs.map(legEnd))
    })
    if (toQueue !== undefined) heap.push({ contact, queue: toQueue, enteredAt: talkEnd, seq: seq++ })
  }

  // --- contacts, with the first visit's views, and when the source writes them
  const contacts: Array<Contact> = built.map((b) => {
    const delay = writeDelayMax > 0 ? roundSeconds(extra.next() * writeDelayMax) : 0
    const visits: Array<QueueVisit> = b.visits.map((v) => ({ ...v, writtenAt: v.end + delay }))
    const first = visits[0]!
    const completion = Math.max(...visits.map((v) => v.end))
    return {
      id: b.id,
      start: b.start,
      ivrMs: b.ivrMs,
      visits,
      writtenAt: completion + delay,
      queueIdentifier: first.queueIdentifier,
      queueName: first.queueName,
      channel: first.channel,
      arrival: first.enteredAt,
      waitMs: first.waitMs,
      handled: first.outcome === "answered",
      abandoned: first.outcome === "abandoned",
      legs: first.legs,
      completion
    }
  })

  // --- late corrections of after-call work
  const corrections: Array<Correction> = []
  const c = options.corrections
  if (c !== undefined && (c.share > 0 || (c.long?.share ?? 0) > 0)) {
    const minDelay = Math.max(1, c.minDelaySeconds ?? 60) * SECOND
    const maxDelay = Math.max(minDelay, (c.maxDelaySeconds ?? 20 * 3600) * SECOND)
    const longFrom = c.long === undefined ? 0 : toMs(c.long.contactsFrom)
    const longTo = c.long === undefined ? 0 : toMs(c.long.contactsTo)
    for (const contact of contacts) {
      contact.visits.forEach((visit, v) =>
        visit.legs.forEach((leg, l) => {
          if (leg.kind !== "agent" || leg.afterCallWorkMs < 2 * SECOND) return
          let delay: number | undefined
          const long = c.long !== undefined && contact.start >= longFrom && contact.start < longTo
          if (c.long !== undefined && long && extra.next() < c.long.share) {
            const lo = c.long.minDelaySeconds * SECOND
            delay = lo + extra.next() * (Math.max(lo, c.long.maxDelaySeconds * SECOND) - lo)
          } else if (extra.next() < c.share) {
            delay = minDelay * Math.pow(maxDelay / minDelay, extra.next())
          }
          if (delay === undefined) return
          corrections.push({
            contactId: contact.id,
            visit: v,
            leg: l,
            field: "afterCallWorkMs",
            recorded: Math.floor((leg.afterCallWorkMs * 0.5 * extra.next()) / SECOND) * SECOND,
            corrected: leg.afterCallWorkMs,
            at: contact.writtenAt + roundSeconds(Math.max(SECOND, delay))
          })
        })
      )
    }
    corrections.sort((x, y) => x.at - y.at)
  }

  // --- close every agent day: remaining breaks, then Ready until logout (or the last ACW)
  const states: Array<AgentState> = []
  const loggedOut: Array<TimelineState> = []
  const worked = new Map<string, Array<{ start: number; end: number }>>()
  for (const a of agentDays) {
    advance(a, a.logout - 1)
    push(a, "Ready", a.readySince, Math.max(a.logout, a.readySince))
    states.push(...a.states)
    const list = worked.get(a.agentId) ?? []
    list.push({ start: Math.min(...a.states.map((s) => s.start)), end: Math.max(...a.states.map((s) => s.end)) })
    worked.set(a.agentId, list)
  }
  states.sort((x, y) =>
    (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0) || x.start - y.start || x.end - y.end
  )
  if (loggedOutStates) {
    // every agent starts the scenario logged out and stays logged out after the last shift
    for (const agent of agents) {
      const off = (start: number, end: number) =>
        loggedOut.push({ agentId: agent.id, activity: "LoggedOut", start, end, artefact: false })
      let since = from
      for (const shift of worked.get(agent.id) ?? []) {
        if (shift.start > since) off(since, shift.start)
        since = shift.end
      }
      off(since, Number.POSITIVE_INFINITY)
    }
  }
  return {
    seed: options.seed,
    from,
    to,
    timezone: options.timezone,
    queues: options.queues,
    agents,
    contacts,
    states,
    loggedOut,
    corrections,
    maxContactSpanMs: maxSpan
  }
}

// ---------------------------------------------------------------------------
// what the source knows at an instant
// ---------------------------------------------------------------------------

/**
 * A leg as the source shows it at `now`: durations so far (cut at `now` while it runs), the
 * after-call work as first written while a correction is still to come.
 *
 * @since 0.2.0 @category models
 */
export interface KnownLeg extends Leg {
  /** the leg's after-call work has ended by `now` */
  readonly ended: boolean
  /** when the source rewrote this leg's after-call work, if it has by `now` */
  readonly correctedAt: number | null
}

/**
 * A queue visit as the source shows it at `now`. `outcome` is `"waiting"` while the contact
 * still waits (then `waitMs` is the wait so far).
 *
 * @since 0.2.0 @category models
 */
export interface KnownVisit extends Omit<QueueVisit, "outcome" | "legs" | "shortAbandoned"> {
  readonly outcome: VisitOutcome | "waiting"
  readonly shortAbandoned: boolean
  /** the legs that have started by `now` */
  readonly legs: ReadonlyArray<KnownLeg>
  /** every part of the visit is over by `now` */
  readonly ended: boolean
  /** the source's store shows the finished visit (`writtenAt <= now`) */
  readonly written: boolean
}

/**
 * Where a contact is at `now`:
 *
 * - `running`: something of it still happens (IVR, a wait, a talk, after-call work);
 * - `ended`: it is over, but the source's reporting store does not show it yet;
 * - `written`: the source's store shows it (with the corrections written by `now`).
 *
 * A source that lists finished contacts only (a call log, a reporting database) shows the
 * `written` ones; a source with a live view shows the others as far as they got.
 *
 * @since 0.2.0 @category models
 */
export type ContactPhase = "running" | "ended" | "written"

/** A contact as the source shows it at `now`. @since 0.2.0 @category models */
export interface KnownContact {
  readonly id: string
  readonly start: number
  readonly ivrMs: number
  readonly phase: ContactPhase
  /** the visits entered by `now` (none while the contact is still in the IVR) */
  readonly visits: ReadonlyArray<KnownVisit>
  /** null while running */
  readonly completion: number | null
  /** when the source writes (or wrote) the finished contact */
  readonly writtenAt: number
  /** the latest write of the contact by `now` (first write or a correction); null before the first */
  readonly updatedAt: number | null
}

/**
 * An agent state as the source shows it at `now`: from its start, with `end` null while it
 * runs. (States have no write delay in the model: a state is known as it starts and closed as
 * it ends.)
 *
 * @since 0.2.0 @category models
 */
export interface KnownState {
  readonly agentId: string
  readonly activity: TimelineActivity
  readonly start: number
  readonly end: number | null
  readonly artefact: boolean
}

/**
 * The scenario as the source shows it at `now`: what a simulator renders in its wire format.
 *
 * @since 0.2.0 @category models
 */
export interface KnownScenario {
  readonly seed: number
  readonly from: number
  readonly to: number
  readonly timezone: string
  readonly queues: ReadonlyArray<QueueSpec>
  readonly agents: ReadonlyArray<Agent>
  readonly maxContactSpanMs: number
  readonly now: number
  /** contacts that started before `now`, in start order */
  readonly contacts: ReadonlyArray<KnownContact>
  /** every state (LoggedOut included) that started before `now`, per agent in start order */
  readonly states: ReadonlyArray<KnownState>
  /** the corrections written by `now`, in order */
  readonly corrections: ReadonlyArray<Correction>
}

const correctionKey = (contactId: string, visit: number, leg: number) => `${contactId}|${visit}|${leg}`

/**
 * The scenario as the source shows it at `now` (a pure function, so a simulator whose clock
 * moves calls it with each new `now`):
 *
 * - contacts that started before `now`, each with its `phase`; visits entered before `now`
 *   (`outcome: "waiting"` while waiting); legs started before `now` with their durations so far;
 *   a visit or leg that has ended by `now` is whole;
 * - after-call work as first written until its correction's `at`, then corrected;
 * - agent states (LoggedOut included) that started before `now`, with no end while they run.
 *
 * Simulators of sources that list finished records only keep `phase === "written"`.
 *
 * @since 0.2.0 @category derived
 */
export const asKnownAt = (scenario: Scenario, now: number): KnownScenario => {
  const pending = new Map<string, Correction>()
  const applied: Array<Correction> = []
  const lastFix = new Map<string, number>()
  for (const c of scenario.corrections) {
    if (c.at > now) pending.set(correctionKey(c.contactId, c.visit, c.leg), c)
    else {
      applied.push(c)
      lastFix.set(c.contactId, Math.max(lastFix.get(c.contactId) ?? 0, c.at))
    }
  }
  const fixedAt = new Map(applied.map((c) => [correctionKey(c.contactId, c.visit, c.leg), c.at] as const))
  const cut = (a: number, b: number) => Math.max(0, Math.min(b, now) - a)
  const contacts: Array<KnownContact> = []
  for (const contact of scenario.contacts) {
    if (contact.start >= now) continue
    const visits: Array<KnownVisit> = []
    contact.visits.forEach((visit, v) => {
      if (visit.enteredAt >= now) return
      const decided = visit.enteredAt + visit.waitMs <= now
      const legs: Array<KnownLeg> = []
      visit.legs.forEach((leg, l) => {
        if (leg.start >= now) return
        const p = legPhases(leg)
        const ended = p.end <= now
        const key = correctionKey(contact.id, v, l)
        const correction = pending.get(key)
        // literals without spreads: this runs for every contact on every request of a simulator
        legs.push({
          agentId: leg.agentId,
          start: leg.start,
          talkMs: cut(p.start, p.holdStart) + cut(p.holdEnd, p.talkEnd),
          holdMs: cut(p.holdStart, p.holdEnd),
          afterCallWorkMs: !ended
            ? cut(p.talkEnd, p.end)
            : correction !== undefined
            ? correction.recorded
            : leg.afterCallWorkMs,
          transferred: leg.transferred && p.talkEnd <= now,
          kind: leg.kind,
          ended,
          correctedAt: fixedAt.get(key) ?? null
        })
      })
      visits.push({
        queueIdentifier: visit.queueIdentifier,
        queueName: visit.queueName,
        channel: visit.channel,
        enteredAt: visit.enteredAt,
        waitMs: decided ? visit.waitMs : now - visit.enteredAt,
        outcome: decided ? visit.outcome : "waiting",
        shortAbandoned: decided && visit.shortAbandoned,
        legs,
        end: visit.end,
        writtenAt: visit.writtenAt,
        ended: visit.end <= now,
        written: visit.writtenAt <= now
      })
    })
    const phase: ContactPhase = now < contact.completion ? "running" : now < contact.writtenAt ? "ended" : "written"
    contacts.push({
      id: contact.id,
      start: contact.start,
      ivrMs: contact.ivrMs,
      phase,
      visits,
      completion: phase === "running" ? null : contact.completion,
      writtenAt: contact.writtenAt,
      updatedAt: phase === "written" ? Math.max(contact.writtenAt, lastFix.get(contact.id) ?? 0) : null
    })
  }
  const states: Array<KnownState> = []
  for (const s of timeline(scenario)) {
    if (s.start >= now) continue
    const end = s.end <= now ? s.end : null
    states.push({ agentId: s.agentId, activity: s.activity, start: s.start, end, artefact: s.artefact })
  }
  return {
    seed: scenario.seed,
    from: scenario.from,
    to: scenario.to,
    timezone: scenario.timezone,
    queues: scenario.queues,
    agents: scenario.agents,
    maxContactSpanMs: scenario.maxContactSpanMs,
    now,
    contacts,
    states,
    corrections: applied
  }
}

/**
 * Every agent's whole timeline: the on-shift states and the LoggedOut states, per agent in
 * start order (raw: Five9's overlapping artefacts included).
 *
 * @since 0.2.0 @category derived
 */
export const timeline = (scenario: Scenario): ReadonlyArray<TimelineState> => {
  const all: Array<TimelineState> = [...scenario.states, ...scenario.loggedOut]
  return all.sort((x, y) =>
    (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0) || x.start - y.start || x.end - y.end
  )
}

/**
 * The contacts still running at `now`: started, not yet completed. For tests that want to be
 * sure a window edge cuts through some.
 *
 * @since 0.2.0 @category derived
 */
export const runningAt = (scenario: Scenario, now: number): ReadonlyArray<Contact> =>
  scenario.contacts.filter((c) => c.start < now && now < c.completion)

// ---------------------------------------------------------------------------
// derived values
// ---------------------------------------------------------------------------

/**
 * Talk, hold and after-call work of a contact's first visit (consult legs excluded).
 *
 * @since 0.1.0 @category derived
 */
export const totals = (contact: Contact): { talkMs: number; holdMs: number; afterCallWorkMs: number } =>
  legTotals(contact.legs)

const legTotals = (
  legs: ReadonlyArray<Pick<Leg, "kind" | "talkMs" | "holdMs" | "afterCallWorkMs">>
): { talkMs: number; holdMs: number; afterCallWorkMs: number } => {
  let talkMs = 0, holdMs = 0, afterCallWorkMs = 0
  for (const l of legs) {
    if (l.kind === "consult") continue
    talkMs += l.talkMs
    holdMs += l.holdMs
    afterCallWorkMs += l.afterCallWorkMs
  }
  return { talkMs, holdMs, afterCallWorkMs }
}

/**
 * Which instant a queue visit counts at:
 *
 * - `queueEntry` (the default, the rule of `docs/counting.md`): when the contact entered that
 *   visit's queue;
 * - `contactStart`: when the contact reached the centre, for every visit (for sources whose
 *   contact record carries only the contact's start, such as Five9's Call Log `TIMESTAMP`);
 * - `arrival`: when the contact entered its first queue, for every visit;
 * - `completion`: when the whole contact was finished, for every visit (sources that list
 *   finished contacts by their end).
 *
 * Each visit still counts at its own queue. Without IVR time and visits after the first, the
 * first three are the same instant.
 *
 * @since 0.1.0 @category models
 */
export type Instant = "queueEntry" | "contactStart" | "arrival" | "completion"

/** @since 0.1.0 @category models */
export interface EventOptions {
  /** the instant a visit counts at (default `"queueEntry"`) */
  readonly instant?: Instant | undefined
  /** when set, `answeredInThreshold` is filled: handled with a wait of at most this many seconds */
  readonly serviceLevelSeconds?: number | undefined
}

const instantOf = (
  contact: { readonly start: number; readonly arrival: number; readonly completion: number },
  visit: { readonly enteredAt: number },
  instant: Instant | undefined
): number => {
  switch (instant ?? "queueEntry") {
    case "queueEntry":
      return visit.enteredAt
    case "contactStart":
      return contact.start
    case "arrival":
      return contact.arrival
    case "completion":
      return contact.completion
  }
}

/**
 * The contact event a faithful connector emits for a contact's **first visit** (kept for code
 * written before visits existed; `visitEvents` gives one per visit):
 *
 * - `offered` always;
 * - `handled` when an agent answered;
 * - `durationMs` = talk + hold + after-call work over the visit's agent legs for a handled
 *   contact (the handling time, AHT = handling / handled), and the time waited for one that was
 *   not handled (kept apart from AHT by the engine);
 * - `talkMs`, `holdMs`, `afterCallWorkMs` over those legs; `waitMs` the time in queue;
 * - `abandoned` (and `shortAbandoned`, `breakout` when true); `answeredInThreshold` only when a
 *   service level is given.
 *
 * @since 0.1.0 @category derived
 */
export const contactEvent = (contact: Contact, options: EventOptions = {}): ContactEvent => {
  const t = totals(contact)
  const at = instantOf(contact, contact.visits[0] ?? { enteredAt: contact.arrival }, options.instant)
  const first = contact.visits[0]
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
    abandoned: contact.abandoned,
    ...(first?.shortAbandoned ? { shortAbandoned: true } : {}),
    ...(first?.outcome === "breakout" ? { breakout: true } : {})
  }
  return options.serviceLevelSeconds === undefined
    ? base
    : { ...base, answeredInThreshold: contact.handled && contact.waitMs <= options.serviceLevelSeconds * SECOND }
}

interface VisitView {
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  readonly enteredAt: number
  readonly waitMs: number
  readonly outcome: VisitOutcome | "waiting"
  readonly shortAbandoned: boolean
  readonly legs: ReadonlyArray<Pick<Leg, "kind" | "talkMs" | "holdMs" | "afterCallWorkMs">>
}

const visitEvent = (
  contact: { readonly start: number; readonly arrival: number; readonly completion: number },
  visit: VisitView,
  options: EventOptions
): ContactEvent => {
  const handled = visit.outcome === "answered"
  const t = legTotals(visit.legs)
  const event: ContactEvent = {
    queueIdentifier: visit.queueIdentifier,
    queueName: visit.queueName,
    channel: visit.channel,
    timestamp: DateTime.unsafeMake(instantOf(contact, visit, options.instant)),
    offered: true,
    handled,
    durationMs: handled ? t.talkMs + t.holdMs + t.afterCallWorkMs : visit.waitMs,
    talkMs: t.talkMs,
    holdMs: t.holdMs,
    afterCallWorkMs: t.afterCallWorkMs,
    waitMs: visit.waitMs,
    abandoned: visit.outcome === "abandoned",
    shortAbandoned: visit.shortAbandoned,
    breakout: visit.outcome === "breakout"
  }
  return options.serviceLevelSeconds === undefined
    ? event
    : { ...event, answeredInThreshold: handled && visit.waitMs <= options.serviceLevelSeconds * SECOND }
}

/**
 * The contact events a faithful connector emits for a contact: one per queue visit, at its own
 * queue, at the visit's instant (`EventOptions.instant`):
 *
 * - `offered` always; `handled` when an agent answered the visit;
 * - `durationMs`: talk + hold + after-call work of the visit's agent legs (consult legs
 *   excluded) when handled, else the visit's wait;
 * - `talkMs`, `holdMs`, `afterCallWorkMs` of those legs; `waitMs` the visit's wait;
 * - `abandoned`, `shortAbandoned` (a subset of abandoned) and `breakout` (not an abandon) from
 *   the visit's outcome; `answeredInThreshold` only when a service level is given.
 *
 * @since 0.2.0 @category derived
 */
export const visitEvents = (contact: Contact, options: EventOptions = {}): ReadonlyArray<ContactEvent> =>
  contact.visits.map((visit) => visitEvent(contact, visit, options))

/** @since 0.1.0 @category models */
export interface IntervalOptions extends EventOptions {
  readonly length: IntervalMinutes
  /** the reporting zone (defaults to the scenario's) */
  readonly timezone?: string | undefined
  /** only visits counted in [from, to) (epoch ms or input); default the whole scenario */
  readonly from?: DateTime.DateTime.Input | undefined
  readonly to?: DateTime.DateTime.Input | undefined
  /**
   * count what a source of finished records shows at this instant (epoch ms): the contacts
   * written by then, with the corrections written by then. Default: the final truth, every
   * correction applied.
   */
  readonly knownAt?: number | undefined
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

/**
 * One row of a `GET /v1/intervals` answer (sums in seconds, instants as ISO text) in the shape
 * of `ExpectedInterval` (integer ms), to compare an engine's answer with `expectedIntervals`.
 * A measure the row lacks reads 0.
 *
 * @since 0.3.0 @category conversions
 */
export const intervalOfAnswer = (row: Readonly<Record<string, unknown>>): ExpectedInterval => {
  const num = (v: unknown) => (typeof v === "number" ? v : 0)
  const ms = (v: unknown) => Math.round(num(v) * 1000)
  return {
    queueIdentifier: String(row["queueIdentifier"]),
    queueName: String(row["queueName"]),
    channel: row["channel"] as Channel,
    start: Date.parse(String(row["start"])),
    end: Date.parse(String(row["end"])),
    offered: num(row["offered"]),
    handled: num(row["handled"]),
    handlingMs: ms(row["handlingSeconds"]),
    unhandledMs: ms(row["unhandledSeconds"]),
    talkMs: ms(row["talkSeconds"]),
    holdMs: ms(row["holdSeconds"]),
    afterCallWorkMs: ms(row["afterCallWorkSeconds"]),
    waitMs: ms(row["waitSeconds"]),
    abandoned: num(row["abandoned"]),
    shortAbandoned: num(row["shortAbandoned"]),
    breakout: num(row["breakout"]),
    answeredInThreshold: num(row["answeredInThreshold"])
  }
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
 * The contact events of what the source shows (`asKnownAt`): one per queue visit, as
 * `visitEvents` describes them, of the written contacts, or with `liveContacts` of every
 * contact as far as it got (a visit still waiting is offered, not handled, with its wait so
 * far; a running leg counts its durations so far). A running contact has no completion yet,
 * so with `instant: "completion"` only finished ones count.
 *
 * @since 0.2.0 @category derived
 */
export const knownEvents = (
  known: KnownScenario,
  options: EventOptions & { readonly liveContacts?: boolean | undefined } = {}
): ReadonlyArray<ContactEvent> => {
  const out: Array<ContactEvent> = []
  for (const contact of known.contacts) {
    if (contact.phase !== "written" && !options.liveContacts) continue
    const first = contact.visits[0]
    if (first === undefined) continue
    if (contact.completion === null && options.instant === "completion") continue
    const times = {
      start: contact.start,
      arrival: first.enteredAt,
      completion: contact.completion ?? Number.POSITIVE_INFINITY
    }
    for (const visit of contact.visits) out.push(visitEvent(times, visit, options))
  }
  return out
}

/** Every event the options ask for. */
const eventsOf = (scenario: Scenario, options: IntervalOptions): ReadonlyArray<ContactEvent> => {
  if (options.knownAt !== undefined) return knownEvents(asKnownAt(scenario, options.knownAt), options)
  const out: Array<ContactEvent> = []
  for (const contact of scenario.contacts) out.push(...visitEvents(contact, options))
  return out
}

/**
 * The ground truth: what the engine's interval query must return for the scenario, computed
 * from the model. Per queue, channel and interval that has data, the sums of the `visitEvents`
 * of every contact: each queue visit counts once, at its own queue, in the interval of its
 * instant (`instant`, default the queue entry); `handlingMs` = talk + hold + after-call work of
 * handled visits' agent legs, `unhandledMs` the wait of those not handled; abandons, short
 * abandons and breakouts apart. Sorted by start, then queue identifier, name and channel.
 *
 * @since 0.1.0 @category derived
 */
export const expectedIntervals = (scenario: Scenario, options: IntervalOptions): ReadonlyArray<ExpectedInterval> => {
  const clock = clockOf(options.timezone ?? scenario.timezone)
  const from = options.from === undefined ? Number.NEGATIVE_INFINITY : toMs(options.from)
  const to = options.to === undefined ? Number.POSITIVE_INFINITY : toMs(options.to)
  const sums = new Map<string, { key: Omit<ExpectedInterval, keyof Measures>; m: Record<keyof Measures, number> }>()
  for (const event of eventsOf(scenario, options)) {
    const at = DateTime.toEpochMillis(event.timestamp)
    if (at < from || at >= to) continue
    const start = intervalStartWith(at, options.length, clock)
    const key = JSON.stringify([event.queueIdentifier, event.queueName, event.channel, start])
    let entry = sums.get(key)
    if (!entry) {
      entry = {
        key: {
          queueIdentifier: event.queueIdentifier,
          queueName: event.queueName,
          channel: event.channel,
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

/** @since 0.1.0 @category models */
export interface SegmentOptions {
  /** the activity identifier a connector emits for an on-shift state (default: the neutral name) */
  readonly activityOf?: ((state: AgentState) => string) | undefined
  /**
   * the activity identifier a connector emits for a `LoggedOut` state (default `"LoggedOut"`),
   * or `false` for a connector that reports logged-out time as no status at all
   */
  readonly loggedOut?: string | false | undefined
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
 * what it overlaps) leaves them as they are. LoggedOut states (with `loggedOutStates`) are
 * segments of their own, whole however long they are; the one after an agent's last shift is
 * open (`end: null`). Sorted by agent and start.
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
  const loggedOut = options.loggedOut ?? "LoggedOut"
  const identifier = (s: TimelineState): string =>
    s.activity === "LoggedOut" ? String(loggedOut) : activityOf({ ...s, activity: s.activity })
  const byAgent = new Map<string, Array<TimelineState>>()
  const states: ReadonlyArray<TimelineState> = loggedOut === false ? scenario.states : timeline(scenario)
  for (const s of states) {
    const list = byAgent.get(s.agentId)
    if (list) list.push(s)
    else byAgent.set(s.agentId, [s])
  }
  const out: Array<Omit<AgentSegment, "integrationId">> = []
  for (const agentId of Array.from(byAgent.keys()).sort()) {
    for (const s of trimOverlaps(byAgent.get(agentId)!)) {
      const activityIdentifier = identifier(s)
      const end = s.end === Number.POSITIVE_INFINITY ? null : s.end
      const last = out[out.length - 1]
      if (
        options.mergeAdjacent && last !== undefined && last.agentIdentifier === agentId &&
        last.activityIdentifier === activityIdentifier && last.end === s.start
      ) {
        out[out.length - 1] = { ...last, end }
        continue
      }
      out.push({ agentIdentifier: agentId, activityIdentifier, start: s.start, end })
    }
  }
  return out.filter((s) => s.start >= from && s.start < to)
}

/**
 * The states a vendor that merges states reports (Vonage: one state per agent at a time): the
 * trimmed timeline of the on-shift states.
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
