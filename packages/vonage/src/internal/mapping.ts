/**
 * How the API's records become the engine's: a queue visit as a contact event, an agent state
 * as an agent status, an envelope's `upTo` as a position.
 */
import type { Domain } from "@acd-bridge/core"
import { Connector, Time } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Config } from "./config.js"
import { activityIdentifier } from "./config.js"
import type { AgentTime as VisitTime } from "./visits.js"
import { noTime } from "./visits.js"
import type * as Wire from "./wire.js"

/** An instant as ISO-8601 in UTC, as the API takes it. */
export const iso = (ms: number) => new Date(ms).toISOString()

/** An envelope's `upTo` as epoch ms; absent, or text that is not an instant with its offset, is no position. */
export const instantOf = (text: string | null | undefined): number | undefined => {
  if (text === null || text === undefined) return undefined
  const reading = Time.readIso(text)
  return Either.isRight(reading) && reading.right.offsetMs !== undefined
    ? reading.right.localMs - reading.right.offsetMs
    : undefined
}

/**
 * Talk, hold and after-call work (ms) of a queue visit's own agent legs, consults excluded.
 *
 * @since 0.2.0 @category mapping
 */
export type AgentTime = VisitTime

/**
 * One queue visit (a queue-times item) as a contact event, at its queue, at the instant it
 * entered it: `handled` when answered, with the talk, hold and wrap of its own agent legs
 * (`time`, from its interaction); abandoned, short-abandoned (under `shortAbandonSeconds`)
 * and breakout apart. A visit still queued (no `category`) is offered only.
 *
 * @since 0.2.0 @category mapping
 */
export const visitEventOf = (
  visit: Wire.QueueTime,
  time: AgentTime,
  config: Pick<Config, "mediumChannels" | "serviceLevelSeconds" | "shortAbandonSeconds">,
  where: string
): Effect.Effect<Domain.ContactEvent, Connector.InvalidData> =>
  Effect.suspend(() => {
    const channel = config.mediumChannels[visit.medium]
    if (channel === undefined) {
      return Effect.fail(
        new Connector.InvalidData({
          record: where,
          reason: `medium "${visit.medium}" has no channel: add it to the mediumChannels setting`
        })
      )
    }
    const handled = visit.category === "Answered"
    const waitMs = visit.duration ?? 0
    const own = handled ? time : noTime
    const abandoned = visit.category === "Abandoned"
    const event: Domain.ContactEvent = {
      queueIdentifier: visit.queue,
      queueName: visit.queue,
      channel,
      timestamp: visit.start,
      offered: true,
      handled,
      durationMs: handled ? own.talkMs + own.holdMs + own.afterCallWorkMs : waitMs,
      talkMs: own.talkMs,
      holdMs: own.holdMs,
      afterCallWorkMs: own.afterCallWorkMs,
      waitMs,
      abandoned,
      shortAbandoned: abandoned && waitMs < config.shortAbandonSeconds * 1000,
      breakout: visit.category === "Breakout",
      ...(config.serviceLevelSeconds === undefined
        ? {}
        : { answeredInThreshold: handled && waitMs <= config.serviceLevelSeconds * 1000 })
    }
    return Effect.succeed(event)
  })

/**
 * One agent state as an agent status (`end` null while open), or none when skipped.
 *
 * @since 0.1.0 @category mapping
 */
export const statusOf = (
  state: Wire.AgentState,
  config: Pick<Config, "skipStates" | "activity">
): Option.Option<Domain.AgentStatus> => {
  if (config.skipStates.includes(state.state)) return Option.none()
  const start = state.start
  return Option.some({
    agentIdentifier: String(state.agentId),
    activityIdentifier: activityIdentifier(state.state, state.description, config.activity),
    start,
    end: state.duration === null ? null : Time.utc(DateTime.toEpochMillis(start) + state.duration)
  })
}

export const emptyBatch: Domain.Batch = { contacts: [], aggregates: [], statuses: [] }

/** One page of an endpoint: its items and its `upTo` (the source's present, epoch ms). */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly upTo: number | undefined
}
