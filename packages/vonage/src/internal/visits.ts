/**
 * Queue visits and their agent legs, from the two records VCC keeps of them: the queue-times
 * item of each visit (queue, entry instant, how it left the queue, time in queue) and the
 * interaction record (channels with events at offsets from the interaction's start), whose
 * agent channels carry the connected, hold and wrap time of each agent.
 */
import type * as Wire from "./wire.js"

/** Names of the interaction events the connector reads. */
export interface EventTypes {
  readonly queue: string
  readonly connected: string
  readonly hold: string
  readonly wrap: string
}

/** Talk, hold and after-call work of some agent legs (ms). */
export interface AgentTime {
  readonly talkMs: number
  readonly holdMs: number
  readonly afterCallWorkMs: number
}

/** One queue entry of an interaction and the time of the agent legs that belong to it. */
export interface QueueEntry {
  readonly queue: string
  /** epoch ms */
  readonly at: number
  readonly time: AgentTime
  /** the `Queue` event's duration: time in queue; null while still queued */
  readonly waitMs: number | null
  /** an agent (not a consult) was connected within this entry */
  readonly answered: boolean
}

export const noTime: AgentTime = { talkMs: 0, holdMs: 0, afterCallWorkMs: 0 }

interface Span {
  readonly start: number
  readonly end: number
}

const sum = (channel: Wire.InteractionChannel, type: string) =>
  channel.events.reduce((n, e) => n + (e.type === type ? e.duration ?? 0 : 0), 0)

/** From the first event of `type` to the end of the last (open-ended while one runs). */
const spanOf = (channel: Wire.InteractionChannel, type: string): Span | undefined => {
  const events = channel.events.filter((e) => e.type === type)
  if (events.length === 0) return undefined
  return {
    start: Math.min(...events.map((e) => e.offset)),
    end: Math.max(...events.map((e) => e.duration === null ? Number.POSITIVE_INFINITY : e.offset + e.duration))
  }
}

/**
 * The queue entries of an interaction in order, each with the time of its own agent legs: an
 * agent channel belongs to the latest queue entry at or before its own offset (a transfer to
 * another queue starts a new entry when the agent stops talking, and later agents belong to
 * it). A consult — an agent connected only while another agent of the interaction holds the
 * customer — counts nowhere: the customer's time is already that agent's hold. Running events
 * (`duration: null`) count once they have ended.
 */
export const entriesOf = (interaction: Wire.Interaction, types: EventTypes, start: number): Array<QueueEntry> => {
  const queued = interaction.channels
    .flatMap((c) => c.events.filter((e) => e.type === types.queue))
    .sort((a, b) => a.offset - b.offset)
  if (queued.length === 0) return []
  const agents = interaction.channels.filter((c) => c.party.role === "Agent")
  const holds = agents.map((c) => ({
    channel: c,
    holds: c.events.filter((e) => e.type === types.hold).map((e): Span => ({
      start: e.offset,
      end: e.duration === null ? Number.POSITIVE_INFINITY : e.offset + e.duration
    }))
  }))
  const isConsult = (channel: Wire.InteractionChannel) => {
    const connected = spanOf(channel, types.connected)
    if (connected === undefined) return false
    return holds.some((other) =>
      other.channel !== channel &&
      other.holds.some((h) => h.start <= connected.start && connected.end <= h.end)
    )
  }
  const totals = queued.map(() => ({ talkMs: 0, holdMs: 0, afterCallWorkMs: 0 }))
  const answered = queued.map(() => false)
  for (const channel of agents) {
    if (isConsult(channel)) continue
    let index = -1
    for (let i = 0; i < queued.length && queued[i]!.offset <= channel.offset; i++) index = i
    if (index < 0) continue
    const t = totals[index]!
    if (channel.events.some((e) => e.type === types.connected)) answered[index] = true
    t.talkMs += sum(channel, types.connected)
    t.holdMs += sum(channel, types.hold)
    t.afterCallWorkMs += sum(channel, types.wrap)
  }
  return queued.map((e, i) => ({
    queue: e.name ?? "",
    at: start + e.offset,
    time: totals[i]!,
    waitMs: e.duration,
    answered: answered[i]!
  }))
}

/**
 * The entry of `entries` (not yet taken) that a queue-times item describes: same queue, the
 * nearest entry instant. Marks it taken, so two visits of one interaction to the same queue
 * each find their own.
 */
export const takeEntry = (
  entries: ReadonlyArray<QueueEntry>,
  taken: Set<number>,
  queue: string,
  at: number
): QueueEntry | undefined => {
  let best = -1
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.queue !== queue || taken.has(i)) continue
    if (best < 0 || Math.abs(e.at - at) < Math.abs(entries[best]!.at - at)) best = i
  }
  if (best < 0) return undefined
  taken.add(best)
  return entries[best]
}

/**
 * How a queue entry ended, as far as the interaction record tells: answered when an agent was
 * connected within it; broken out when the interaction entered another queue after it; else,
 * once the interaction has completed, abandoned (a breakout out of the centre, to voicemail or
 * an announcement, looks the same in the record); null while it may still be queued.
 */
export const categoryOf = (
  entries: ReadonlyArray<QueueEntry>,
  index: number,
  completed: boolean
): Wire.QueueCategory | null => {
  const entry = entries[index]!
  if (entry.answered) return "Answered"
  if (index + 1 < entries.length) return "Breakout"
  return completed && entry.waitMs !== null ? "Abandoned" : null
}
