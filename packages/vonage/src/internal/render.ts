/**
 * The simulator's rendering: a testkit `Scenario` as the Insights Stats API shows it at an
 * instant (`Scenario.asKnownAt`), one item per record of each endpoint, with the instants the
 * endpoint's `include` modes select on. Pure: the server calls `render(scenario, now, options)`
 * whenever its clock moves. Test-only (reached from `@acd-bridge/vonage/simulator`).
 */
import * as Scenario from "@acd-bridge/testkit/Scenario"

/** What the simulator does where the vendor's documents are silent ([U]). */
export interface RenderOptions {
  /** a consult as another agent channel of the interaction, or as an interaction of its own */
  readonly consults: "channel" | "interaction"
  /** queue-times lists a visit once the source has written it, or as soon as it left the queue */
  readonly queueTimes: "written" | "decided"
  /** names of the hold and wrap events inside an agent channel */
  readonly holdEvent: string
  readonly wrapEvent: string
}

/** An item and the instants `include=Started|StartedOrEnded|Processed` select it by. */
export interface Selectable {
  readonly started: number
  /** null while it has not ended */
  readonly ended: number | null
  /** the latest write (first write or correction); null before the first */
  readonly processed: number | null
  /** the key the `malformed` fault switch matches */
  readonly key: string
  readonly item: Record<string, unknown>
}

/** Every endpoint's items at one instant. */
export interface Rendered {
  readonly now: number
  readonly interactions: ReadonlyArray<Selectable>
  readonly queueTimes: ReadonlyArray<Selectable & { readonly queue: string }>
  readonly states: ReadonlyArray<Selectable & { readonly agentId: string }>
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * How a timeline activity shows in VCC's merged agent state (`state`, `description`).
 */
export const stateOf = (
  activity: Scenario.TimelineActivity
): { readonly state: string; readonly description: string } => {
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
    case "LoggedOut":
      return { state: "LoggedOut", description: "" }
  }
}

/** How a scenario channel shows as VCC `medium` (only `Phone` is documented). */
export const mediumOf = (channel: string): string =>
  channel === "chats" ? "Chat" : channel === "emails" ? "Email" : channel === "social_media" ? "SMS" : "Phone"

interface Timed {
  readonly type: string
  readonly start: number
  /** +Infinity: not ended by the end of the record */
  readonly end: number
  readonly name?: string
  readonly properties?: Record<string, unknown>
}

/** Events that started before `now`, offsets from `origin`, `duration` null while running. */
const eventsAt = (events: ReadonlyArray<Timed>, origin: number, now: number) =>
  events.filter((e) => e.start < now).map((e) => ({
    type: e.type,
    offset: e.start - origin,
    ...(e.name !== undefined ? { name: e.name } : {}),
    duration: e.end <= now ? e.end - e.start : null,
    properties: e.properties ?? {}
  }))

/** The events of one agent leg, from the scenario's phases and the after-call work the source shows. */
const legEvents = (leg: Scenario.Leg, known: Scenario.KnownLeg, options: RenderOptions): Array<Timed> => {
  const p = Scenario.legPhases(leg)
  const events: Array<Timed> = [{ type: "Ringing", start: p.start, end: p.start }]
  if (leg.holdMs > 0) {
    events.push({ type: "Connected", start: p.start, end: p.holdStart })
    events.push({ type: options.holdEvent, start: p.holdStart, end: p.holdEnd })
    events.push({ type: "Connected", start: p.holdEnd, end: p.talkEnd })
  } else {
    events.push({ type: "Connected", start: p.start, end: p.talkEnd })
  }
  if (leg.afterCallWorkMs > 0) {
    // as first written until corrected: an ended leg's wrap lasts what the source says
    const end = known.ended ? p.talkEnd + known.afterCallWorkMs : Number.POSITIVE_INFINITY
    events.push({ type: options.wrapEvent, start: p.talkEnd, end })
  }
  return events
}

const legEnd = (leg: Scenario.Leg, known: Scenario.KnownLeg) =>
  known.ended ? Scenario.legPhases(leg).talkEnd + known.afterCallWorkMs : null

const categoryOf = (outcome: Scenario.VisitOutcome) =>
  outcome === "answered" ? "Answered" : outcome === "abandoned" ? "Abandoned" : "Breakout"

/** `reason` values beyond `Delivered` and `NoAgentsBreakout` are [U]. */
const reasonOf = (outcome: Scenario.VisitOutcome) =>
  outcome === "answered" ? "Delivered" : outcome === "abandoned" ? "Abandoned" : "TimeoutBreakout"

const plan = "Main plan"

/** When the customer's channel ends: the last agent of the last visit stops talking, or its wait ends; null until then. */
const leavesAt = (contact: Scenario.Contact, known: Scenario.KnownContact, now: number): number | null => {
  const last = contact.visits.at(-1)
  if (last === undefined || known.visits.length < contact.visits.length) return null
  const agentLegs = last.legs.filter((l) => l.kind === "agent")
  const leaves = last.outcome === "answered"
    ? Math.max(...agentLegs.map((l) => Scenario.legPhases(l).talkEnd))
    : last.enteredAt + last.waitMs
  return leaves <= now ? leaves : null
}

/**
 * Every endpoint's items for what the source shows at `now`.
 */
export const render = (
  scenario: Scenario.Scenario,
  byId: ReadonlyMap<string, Scenario.Contact>,
  now: number,
  options: RenderOptions
): Rendered => {
  const known = Scenario.asKnownAt(scenario, now)
  const interactions: Array<Selectable> = []
  const queueTimes: Array<Selectable & { queue: string }> = []
  for (const c of known.contacts) {
    const contact = byId.get(c.id)!
    const medium = mediumOf(contact.channel)
    const written = c.phase === "written"
    const agentChannels: Array<Record<string, unknown>> = []
    c.visits.forEach((visit, v) => {
      const truth = contact.visits[v]!
      if (visit.outcome !== "waiting") {
        const show = options.queueTimes === "decided" || visit.written
        if (show) {
          queueTimes.push({
            started: visit.enteredAt,
            ended: visit.enteredAt + visit.waitMs,
            processed: visit.written ? visit.writtenAt : visit.enteredAt + visit.waitMs,
            key: c.id,
            queue: visit.queueName,
            item: {
              start: iso(visit.enteredAt),
              interactionGuid: c.id,
              medium,
              mediumManager: "VCC",
              interactionPlan: plan,
              queue: visit.queueName,
              type: "ACD",
              presentedSkills: [visit.queueName],
              category: categoryOf(visit.outcome),
              reason: reasonOf(visit.outcome),
              duration: visit.waitMs,
              targets: null,
              party: { role: "External" }
            }
          })
        }
      }
      visit.legs.forEach((knownLeg, l) => {
        const leg = truth.legs[l]!
        const end = legEnd(leg, knownLeg)
        const channel = {
          guid: `${c.id}-v${v + 1}-l${l + 1}`,
          offset: leg.start - c.start,
          duration: end === null ? null : end - leg.start,
          endReason: end === null ? null : leg.transferred ? "Transferred" : "Released",
          integrationType: "Voice",
          party: { id: leg.agentId, role: "Agent", touchpoint: leg.agentId },
          events: eventsAt(legEvents(leg, knownLeg, options), c.start, now)
        }
        if (leg.kind === "consult" && options.consults === "interaction") {
          // a consult call of its own: the consulting and the consulted agent, no queue
          const p = Scenario.legPhases(leg)
          const consultEnd = p.talkEnd <= now ? p.talkEnd : null
          const primary = truth.legs.filter((x) => x.kind === "agent" && x.start <= leg.start).at(-1)
          const connected = (agentId: string, n: number) => ({
            guid: `${c.id}-v${v + 1}-c${l + 1}-${n}`,
            offset: 0,
            duration: consultEnd === null ? null : consultEnd - leg.start,
            endReason: consultEnd === null ? null : "Released",
            integrationType: "Voice",
            party: { id: agentId, role: "Agent", touchpoint: agentId },
            events: eventsAt([{ type: "Connected", start: leg.start, end: p.talkEnd }], leg.start, now)
          })
          interactions.push({
            started: leg.start,
            ended: consultEnd,
            processed: consultEnd,
            key: `${c.id}-consult-${v + 1}-${l + 1}`,
            item: {
              guid: `${c.id}-consult-${v + 1}-${l + 1}`,
              conversationGuid: `conv-${c.id}`,
              status: consultEnd === null ? "Ongoing" : "Completed",
              medium,
              mediumManager: "VCC",
              direction: "Internal",
              start: iso(leg.start),
              duration: consultEnd === null ? null : consultEnd - leg.start,
              channels: [
                ...(primary === undefined ? [] : [connected(primary.agentId, 1)]),
                connected(leg.agentId, 2)
              ]
            }
          })
          return
        }
        agentChannels.push(channel)
      })
    })
    const last = c.visits.at(-1)
    const customerEnd = leavesAt(contact, c, now)
    const customer = {
      guid: `${c.id}-c0`,
      offset: 0,
      duration: customerEnd === null ? null : customerEnd - c.start,
      endReason: customerEnd === null
        ? null
        : last?.outcome === "abandoned"
        ? "Abandoned"
        : last?.outcome === "breakout"
        ? "Breakout"
        : "Hangup",
      integrationType: "Voice",
      party: { id: "+15550100", role: "External", touchpoint: "+15550199" },
      events: eventsAt(
        c.visits.map((visit) => ({
          type: "Queue",
          name: visit.queueName,
          start: visit.enteredAt,
          end: visit.outcome === "waiting" ? Number.POSITIVE_INFINITY : visit.enteredAt + visit.waitMs,
          properties: { interactionPlan: plan }
        })),
        c.start,
        now
      )
    }
    const outcome = last === undefined || last.outcome === "waiting" ? null : categoryOf(last.outcome)
    interactions.push({
      started: c.start,
      ended: written ? c.completion : null,
      processed: c.updatedAt,
      key: c.id,
      item: {
        guid: c.id,
        conversationGuid: `conv-${c.id}`,
        status: written ? "Completed" : "Ongoing",
        medium,
        mediumManager: "VCC",
        direction: "Inbound",
        start: iso(c.start),
        duration: written && c.completion !== null ? c.completion - c.start : null,
        serviceName: "Main",
        connectTo: "+15550199",
        connectFrom: "+15550100",
        categorizedAt: written && c.completion !== null ? iso(c.completion) : null,
        outcome: written ? outcome : null,
        interactionPlanMapping: {
          addressName: "+15550199",
          mappingName: "Main",
          interactionPlanName: plan,
          reportingGroup: null
        },
        channels: [customer, ...agentChannels]
      }
    })
  }
  interactions.sort((a, b) => a.started - b.started || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  queueTimes.sort((a, b) => a.started - b.started || (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0))
  return { now, interactions, queueTimes, states: renderStates(known.states) }
}

/**
 * The agent states VCC reports: one at a time per agent (overlaps trimmed as the scenario's
 * oracle trims them), neighbours with the same state and description merged, `duration` null
 * while open. Sorted by start, then agent id, as the API sorts them.
 */
export const renderStates = (
  states: ReadonlyArray<Scenario.KnownState>
): Array<Selectable & { readonly agentId: string }> => {
  const perAgent = new Map<string, Array<{ activity: Scenario.TimelineActivity; start: number; end: number }>>()
  for (const s of states) {
    const list = perAgent.get(s.agentId) ?? []
    list.push({ activity: s.activity, start: s.start, end: s.end ?? Number.POSITIVE_INFINITY })
    perAgent.set(s.agentId, list)
  }
  const rows: Array<{ agentId: string; state: string; description: string; start: number; end: number }> = []
  for (const [agentId, list] of perAgent) {
    const merged: Array<{ agentId: string; state: string; description: string; start: number; end: number }> = []
    for (const s of Scenario.trimOverlaps(list)) {
      const v = stateOf(s.activity)
      const last = merged.at(-1)
      if (last && last.state === v.state && last.description === v.description && last.end === s.start) {
        merged[merged.length - 1] = { ...last, end: s.end }
      } else {
        merged.push({ agentId, state: v.state, description: v.description, start: s.start, end: s.end })
      }
    }
    rows.push(...merged)
  }
  rows.sort((a, b) => a.start - b.start || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
  return rows.map((s) => {
    const open = s.end === Number.POSITIVE_INFINITY
    return {
      started: s.start,
      ended: open ? null : s.end,
      processed: open ? s.start : s.end,
      key: `${s.agentId}|${iso(s.start)}`,
      agentId: s.agentId,
      item: {
        agentId: s.agentId,
        start: iso(s.start),
        duration: open ? null : s.end - s.start,
        state: s.state,
        description: s.description
      }
    }
  })
}
