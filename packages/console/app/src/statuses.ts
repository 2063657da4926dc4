/** Agent statuses as the timeline keeps them while the stream brings new ones. */
import type { AgentStatus } from "./types.js"

/** What identifies a stored status: its integration, agent and start. */
export const keyOf = (s: AgentStatus) => `${s.integrationId}\u0000${s.agentIdentifier}\u0000${s.startTime}`

/** `statuses` with `next` applied: it replaces what it overlaps of the same agent's statuses. */
export const applyStatus = (statuses: ReadonlyArray<AgentStatus>, next: AgentStatus): ReadonlyArray<AgentStatus> => {
  const start = Date.parse(next.startTime)
  const end = next.endTime === null ? Infinity : Date.parse(next.endTime)
  const out: Array<AgentStatus> = []
  for (const s of statuses) {
    if (keyOf(s) === keyOf(next)) continue
    if (s.integrationId !== next.integrationId || s.agentIdentifier !== next.agentIdentifier) {
      out.push(s)
      continue
    }
    const sStart = Date.parse(s.startTime)
    const sEnd = s.endTime === null ? Infinity : Date.parse(s.endTime)
    if (sEnd <= start || sStart >= end) {
      out.push(s)
      continue
    }
    if (sStart < start) out.push({ ...s, endTime: next.startTime })
    if (sEnd > end) out.push({ ...s, startTime: next.endTime!, endTime: s.endTime })
  }
  out.push(next)
  return out
}
