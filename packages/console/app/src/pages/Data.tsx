/**
 * Interval data: offered and handled contacts as bars and AHT as a line, per interval of one
 * queue and day, drawn by uPlot. The API aligns the intervals in the chosen zone, so a day
 * when clocks change has 23 or 25 hours of them; the x axis labels each interval by its local
 * start and names the offset where a clock time occurs twice. The same figures are in a table
 * for screen readers and keyboard users.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import uPlot from "uplot"
import * as api from "../api.js"
import { browserZone, dateIn, intervalLabels, nextDay, zones } from "../time.js"
import type { Integration, IntervalRow, Queue } from "../types.js"
import { ErrorText, Heading, useLoad } from "../ui.js"

const colors = { offered: "#1d5fbf", handled: "#1e7a34", aht: "#a34700", axis: "#333333", grid: "#e3e3e3" }

const Chart = ({ rows, length }: { readonly rows: ReadonlyArray<IntervalRow>; readonly length: number }) => {
  const box = useRef<HTMLDivElement>(null)
  const labels = useMemo(() => intervalLabels(rows.map((r) => r.start)), [rows])
  useEffect(() => {
    const el = box.current
    if (el === null) return
    const n = rows.length
    const data: uPlot.AlignedData = [
      rows.map((_, i) => i),
      rows.map((r) => r.offered),
      rows.map((r) => r.handled),
      rows.map((r) => r.ahtSeconds)
    ]
    const perHour = 60 / length
    const width = Math.max(320, el.clientWidth)
    // an hour label at least every 48 px: every 1, 2, 3 or 6 hours
    const hoursPerTick = [1, 2, 3, 6].find((h) => (width / n) * perHour * h >= 48) ?? 6
    const options: uPlot.Options = {
      width,
      height: 320,
      scales: {
        x: { time: false, range: () => [-0.5, n - 0.5] },
        count: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
        aht: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.1))] }
      },
      legend: { live: true },
      cursor: { points: { show: false } },
      axes: [
        {
          stroke: colors.axis,
          grid: { stroke: colors.grid },
          ticks: { stroke: colors.grid },
          // ticks on the intervals starting a full hour
          splits: () =>
            rows.flatMap((r, i) => (r.start.slice(14, 16) === "00" && Number(r.start.slice(11, 13)) % hoursPerTick === 0 ? [i] : [])),
          values: (_u, splits) => splits.map((s) => labels[s]?.slice(0, 5) ?? "")
        },
        // contacts are whole numbers: no ticks between them
        { scale: "count", label: "Contacts", stroke: colors.axis, grid: { stroke: colors.grid }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] },
        { scale: "aht", side: 1, label: "AHT (seconds)", stroke: colors.aht, grid: { show: false } }
      ],
      series: [
        { label: "Interval", value: (_u, v) => (v === null ? "" : labels[v] ?? "") },
        {
          label: "Offered",
          scale: "count",
          stroke: colors.offered,
          fill: colors.offered,
          width: 0,
          paths: uPlot.paths.bars!({ size: [0.45, Infinity], align: -1 }),
          points: { show: false }
        },
        {
          label: "Handled",
          scale: "count",
          stroke: colors.handled,
          fill: colors.handled,
          width: 0,
          paths: uPlot.paths.bars!({ size: [0.45, Infinity], align: 1 }),
          points: { show: false }
        },
        {
          label: "AHT (s)",
          scale: "aht",
          stroke: colors.aht,
          width: 2,
          spanGaps: false,
          value: (_u, v) => (v === null ? "—" : v.toFixed(1)),
          points: { show: true, size: 6, fill: colors.aht }
        }
      ]
    }
    const plot = new uPlot(options, data, el)
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 320 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [rows, labels, length])
  return <div ref={box} class="chart" role="img" aria-label="Offered and handled contacts as bars, AHT as a line, per interval" />
}

const Table = ({ rows }: { readonly rows: ReadonlyArray<IntervalRow> }) => {
  const labels = intervalLabels(rows.map((r) => r.start))
  return (
    <details class="figures">
      <summary>The figures as a table</summary>
      <table class="list" id="interval-table">
        <thead>
          <tr>
            <th scope="col">Interval</th>
            <th scope="col" class="num">Offered</th>
            <th scope="col" class="num">Handled</th>
            <th scope="col" class="num">AHT (s)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.start} data-start={r.start}>
              <th scope="row">{labels[i]}</th>
              <td class="num" data-field="offered">{r.offered}</td>
              <td class="num" data-field="handled">{r.handled}</td>
              <td class="num" data-field="aht">{r.ahtSeconds === null ? "—" : r.ahtSeconds.toFixed(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  )
}

export const DataPage = () => {
  const queues = useLoad(() => api.get<ReadonlyArray<Queue>>("/v1/queues"), [])
  const integrations = useLoad(() => api.get<ReadonlyArray<Integration>>("/v1/integrations"), [])
  const [queueId, setQueueId] = useState<string | undefined>(undefined)
  const queue = queues.data?.find((q) => q.id === queueId) ?? queues.data?.[0]
  const [zone, setZone] = useState<string | undefined>(undefined)
  // default zone: the queue's integration's, else this browser's
  const integrationZone = integrations.data?.find((i) => i.id === queue?.integrationId)?.timezone
  const timezone = zone ?? integrationZone ?? browserZone()
  const [day, setDay] = useState(() => dateIn(Date.now(), timezone))
  const [length, setLength] = useState<"15" | "30" | "60">("15")
  const allZones = useMemo(zones, [])
  const rows = useLoad(
    () =>
      queue === undefined
        ? Promise.resolve(undefined)
        : api.get<ReadonlyArray<IntervalRow>>(api.withQuery("/v1/intervals", {
          queueId: queue.id,
          from: `${day}T00:00:00`,
          to: `${nextDay(day)}T00:00:00`,
          length,
          timezone,
          fill: "zero"
        })),
    [queue?.id, day, length, timezone]
  )
  const data = rows.data ?? []
  const hours = (data.length * Number(length)) / 60
  const offered = data.reduce((s, r) => s + r.offered, 0)
  const handled = data.reduce((s, r) => s + r.handled, 0)
  const handling = data.reduce((s, r) => s + r.handlingSeconds, 0)
  return (
    <>
      <Heading>Interval data</Heading>
      <ErrorText error={queues.error ?? rows.error} />
      {queues.data !== undefined && queues.data.length === 0 ? <p>No queues yet: they appear when data arrives.</p> : null}
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="What to show">
        <div class="field">
          <label for="data-queue">Queue</label>
          <select id="data-queue" value={queue?.id ?? ""} onChange={(e) => setQueueId(e.currentTarget.value)}>
            {(queues.data ?? []).map((q) => <option key={q.id} value={q.id}>{q.name || q.identifier} ({q.channel})</option>)}
          </select>
        </div>
        <div class="field">
          <label for="data-day">Day</label>
          <input id="data-day" type="date" required value={day} onChange={(e) => e.currentTarget.value !== "" && setDay(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="data-length">Interval</label>
          <select id="data-length" value={length} onChange={(e) => setLength(e.currentTarget.value as "15" | "30" | "60")}>
            <option value="15">15 minutes</option>
            <option value="30">30 minutes</option>
            <option value="60">60 minutes</option>
          </select>
        </div>
        <div class="field">
          <label for="data-zone">Time zone</label>
          <select id="data-zone" value={timezone} onChange={(e) => setZone(e.currentTarget.value)}>
            {(allZones.includes(timezone) ? allZones : [timezone, ...allZones]).map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
        </div>
      </form>
      {queue === undefined || rows.data === undefined ? (rows.loading ? <p>Loading…</p> : null) : (
        <section aria-labelledby="chart-title">
          <h2 id="chart-title">
            {queue.name || queue.identifier} on {day} in {timezone}
          </h2>
          <p id="day-summary" data-hours={hours} data-intervals={data.length}>
            {hours} hours{hours === 23 ? " (clocks go forward)" : hours === 25 ? " (clocks go back)" : ""}, {data.length} intervals
            of {length} minutes. Offered {offered}, handled {handled}, AHT {handled === 0 ? "—" : `${(handling / handled).toFixed(1)} s`}.
          </p>
          <Chart rows={data} length={Number(length)} />
          <Table rows={data} />
        </section>
      )}
    </>
  )
}
