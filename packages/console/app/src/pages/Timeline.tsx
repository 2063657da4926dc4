/**
 * Agent timeline: each agent's statuses over one day as a Gantt row, read from
 * `GET /v1/agent-statuses` and kept live from the status stream. A status the stream brings
 * replaces the parts of the agent's older statuses it overlaps, as the engine stores it. The
 * rows are HTML, not a plot: each segment is a labelled element a screen reader can read and
 * a test can find.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import * as api from "../api.js"
import { openStatusStream, type StreamState } from "../sse.js"
import { applyStatus, keyOf } from "../statuses.js"
import { browserZone, clock, dateIn, dayBounds, zones } from "../time.js"
import type { AgentStatus, Integration } from "../types.js"
import { ErrorText, Heading, useLoad } from "../ui.js"

// colours with at least 4.5:1 against white text
const palette = ["#1d5fbf", "#1e7a34", "#a34700", "#7b3fa0", "#b0224a", "#00707a", "#5c5c00", "#4a4a4a"]
const colourOf = (label: string): string => {
  let h = 0
  for (const c of label) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return palette[h % palette.length]!
}

const activityOf = (s: AgentStatus) => s.activityId ?? s.activityIdentifier
const agentOf = (s: AgentStatus) => s.employeeId ?? s.agentIdentifier

export const TimelinePage = () => {
  const integrations = useLoad(() => api.get<ReadonlyArray<Integration>>("/v1/integrations"), [])
  const [integrationId, setIntegrationId] = useState("")
  const [zone, setZone] = useState(browserZone())
  const [day, setDay] = useState(() => dateIn(Date.now(), zone))
  const [statuses, setStatuses] = useState<ReadonlyArray<AgentStatus>>([])
  const [error, setError] = useState<string | null>(null)
  const [stream, setStream] = useState<StreamState>("connecting")
  const [lastEvent, setLastEvent] = useState<AgentStatus | null>(null)
  const [events, setEvents] = useState(0)
  const [now, setNow] = useState(Date.now())
  const [whole, setWhole] = useState(false)
  const allZones = useMemo(zones, [])
  const bounds = dayBounds(day, zone)
  const received = useRef<Array<AgentStatus>>([])
  const loaded = useRef(false)

  const load = async () => {
    loaded.current = false
    received.current = []
    try {
      const answer = await api.get<ReadonlyArray<AgentStatus>>(api.withQuery("/v1/agent-statuses", {
        integrationId: integrationId === "" ? undefined : integrationId,
        from: new Date(bounds.start).toISOString(),
        to: new Date(bounds.end).toISOString()
      }))
      // what the stream brought while the day was read goes on top of it
      setStatuses(received.current.reduce(applyStatus, answer))
      loaded.current = true
      setError(null)
    } catch (e) {
      setError(api.messageOf(e))
    }
  }

  useEffect(() => {
    void load()
  }, [integrationId, bounds.start, bounds.end])

  useEffect(() => {
    const close = openStatusStream(integrationId === "" ? undefined : integrationId, {
      onStatus: (status) => {
        setEvents((n) => n + 1)
        setLastEvent(status)
        if (!loaded.current) received.current.push(status)
        else setStatuses((current) => applyStatus(current, status))
      },
      onReset: () => void load(),
      onState: setStream
    })
    return close
  }, [integrationId])

  // ongoing statuses grow with the clock
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000)
    return () => clearInterval(timer)
  }, [])

  const visible = statuses.filter((s) => {
    const start = Date.parse(s.startTime)
    const end = s.endTime === null ? Math.max(now, start) : Date.parse(s.endTime)
    return start < bounds.end && end > bounds.start
  })
  // the hours shown: the whole day, or the full hours around what there is (at least two)
  const H = 3_600_000
  const earliest = Math.min(...visible.map((s) => Date.parse(s.startTime)))
  const latest = Math.max(...visible.map((s) => (s.endTime === null ? Math.max(now, Date.parse(s.startTime)) : Date.parse(s.endTime))))
  const fromHour = whole || visible.length === 0 ? 0 : Math.max(0, Math.floor((earliest - bounds.start) / H))
  const dayHours = Math.round((bounds.end - bounds.start) / H)
  const toHour = whole || visible.length === 0 ? dayHours : Math.min(dayHours, Math.max(fromHour + 2, Math.ceil((latest - bounds.start) / H)))
  const windowStart = bounds.start + fromHour * H
  const windowEnd = Math.min(bounds.end, bounds.start + toHour * H)
  const span = windowEnd - windowStart
  const agents = [...new Set(visible.map((s) => `${s.integrationId}\u0000${s.agentIdentifier}`))].sort()
  const hours: Array<number> = []
  for (let t = windowStart; t < windowEnd; t += H) hours.push(t)
  const labelEvery = hours.length <= 12 ? 1 : hours.length <= 24 ? 2 : 3
  const activities = [...new Set(visible.map(activityOf))].sort()

  return (
    <>
      <Heading>Agent timeline</Heading>
      <ErrorText error={integrations.error ?? error} />
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="What to show">
        <div class="field">
          <label for="timeline-integration">Integration</label>
          <select id="timeline-integration" value={integrationId} onChange={(e) => setIntegrationId(e.currentTarget.value)}>
            <option value="">All</option>
            {(integrations.data ?? []).filter((i) => i.dataKinds.includes("agentStatuses")).map((i) => (
              <option key={i.id} value={i.id}>{i.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="timeline-day">Day</label>
          <input id="timeline-day" type="date" required value={day} onChange={(e) => e.currentTarget.value !== "" && setDay(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="timeline-zone">Time zone</label>
          <select id="timeline-zone" value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
            {allZones.map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
        </div>
        <div class="field">
          <label class="inline">
            <input type="checkbox" checked={whole} onChange={(e) => setWhole(e.currentTarget.checked)} />
            Show the whole day
          </label>
        </div>
      </form>
      <p class="live" role="status" aria-live="polite" id="stream-state" data-state={stream} data-events={events}>
        <span class={`dot dot-${stream}`} aria-hidden="true" />
        {stream === "live" ? "Live" : stream === "closed" ? "Stream closed" : stream === "reconnecting" ? "Reconnecting…" : "Connecting…"}
        {lastEvent === null ? "" : `: last status ${agentOf(lastEvent)} ${activityOf(lastEvent)} at ${clock(Date.parse(lastEvent.startTime), zone)}`}
      </p>
      {agents.length === 0 ? <p>No agent statuses on {day}.</p> : (
        <div
          class="gantt"
          role="table"
          aria-label={`Agent statuses on ${day} in ${zone}, ${clock(windowStart, zone)} to ${clock(windowEnd, zone)} (the day has ${dayHours} hours)`}
        >
          <div class="gantt-row gantt-head" role="row">
            <span class="gantt-agent" role="columnheader">Agent</span>
            <span class="gantt-track" role="columnheader" aria-label="Time of day">
              {hours.map((t) => (
                <span key={t} class="gantt-hour" style={{ left: `${((t - windowStart) / span) * 100}%` }}>
                  {Math.round((t - windowStart) / H) % labelEvery === 0 ? clock(t, zone) : ""}
                </span>
              ))}
            </span>
          </div>
          {agents.map((agentKey) => {
            const own = visible.filter((s) => `${s.integrationId}\u0000${s.agentIdentifier}` === agentKey)
              .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime))
            const first = own[0]!
            const mapped = first.employeeId !== null
            return (
              <div key={agentKey} class="gantt-row" role="row" data-agent={first.agentIdentifier}>
                <span class="gantt-agent" role="rowheader">
                  <span class="agent-label">{agentOf(first)}</span>
                  {mapped ? <span class="hint">{first.agentIdentifier}</span> : <span class="unmapped">unmapped</span>}
                </span>
                <span class="gantt-track" role="cell">
                  {own.map((s) => {
                    const start = Math.max(Date.parse(s.startTime), windowStart)
                    const end = Math.min(s.endTime === null ? Math.max(now, start) : Date.parse(s.endTime), windowEnd)
                    const label = `${agentOf(s)}: ${activityOf(s)} ${clock(Date.parse(s.startTime), zone)}–${s.endTime === null ? "now" : clock(Date.parse(s.endTime), zone)}`
                    return (
                      <span
                        key={keyOf(s)}
                        class={`gantt-seg${s.endTime === null ? " ongoing" : ""}`}
                        style={{
                          left: `${((start - windowStart) / span) * 100}%`,
                          width: `${Math.max(((end - start) / span) * 100, 0.3)}%`,
                          background: colourOf(activityOf(s))
                        }}
                        title={label}
                        aria-label={label}
                        data-activity={activityOf(s)}
                        tabIndex={0}
                      >
                        <span class="seg-text">{activityOf(s)}</span>
                      </span>
                    )
                  })}
                </span>
              </div>
            )
          })}
        </div>
      )}
      {activities.length === 0 ? null : (
        <ul class="legend" aria-label="Activities">
          {activities.map((a) => (
            <li key={a}><span class="swatch" style={{ background: colourOf(a) }} aria-hidden="true" />{a}</li>
          ))}
        </ul>
      )}
    </>
  )
}
