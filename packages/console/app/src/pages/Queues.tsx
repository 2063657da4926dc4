/** Queues and workloads: the queues with the workloads they sit in, and grouping them. */
import { useState } from "preact/hooks"
import * as api from "../api.js"
import type { Integration, Queue, Workload } from "../types.js"
import { ErrorText, Heading, Notice, useLoad } from "../ui.js"

const WorkloadEditor = ({ workload, queues, onSaved }: {
  readonly workload: Workload
  readonly queues: ReadonlyArray<Queue>
  readonly onSaved: (message: string, kind: "ok" | "error") => void
}) => {
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set(workload.queueIds))
  return (
    <form
      class="workload"
      onSubmit={async (e) => {
        e.preventDefault()
        try {
          await api.call("PUT", `/v1/workloads/${encodeURIComponent(workload.id)}/queues`, { queueIds: [...chosen] })
          onSaved(`Saved the queues of ${workload.name}`, "ok")
        } catch (err) {
          onSaved(api.messageOf(err), "error")
        }
      }}
    >
      <fieldset class="group">
        <legend>{workload.name}: {chosen.size} queue{chosen.size === 1 ? "" : "s"}</legend>
        {queues.length === 0 ? <p>No queues yet.</p> : queues.map((q) => (
          <label key={q.id} class="inline">
            <input
              type="checkbox"
              checked={chosen.has(q.id)}
              onChange={(e) => {
                const next = new Set(chosen)
                if (e.currentTarget.checked) next.add(q.id)
                else next.delete(q.id)
                setChosen(next)
              }}
            />
            {q.name || q.identifier} <span class="hint">({q.channel})</span>
          </label>
        ))}
        <button type="submit">Save queues</button>
      </fieldset>
    </form>
  )
}

export const QueuesPage = () => {
  const queues = useLoad(() => api.get<ReadonlyArray<Queue>>("/v1/queues"), [])
  const workloads = useLoad(() => api.get<ReadonlyArray<Workload>>("/v1/workloads"), [])
  const integrations = useLoad(() => api.get<ReadonlyArray<Integration>>("/v1/integrations"), [])
  const [name, setName] = useState("")
  const [notice, setNotice] = useState<{ message: string; kind: "ok" | "error" } | null>(null)
  const integrationName = (id: string | null) =>
    id === null ? "by hand" : integrations.data?.find((i) => i.id === id)?.name ?? id
  const workloadName = (id: string) => workloads.data?.find((w) => w.id === id)?.name ?? id
  const saved = (message: string, kind: "ok" | "error") => {
    setNotice({ message, kind })
    void queues.reload()
    void workloads.reload()
  }
  return (
    <>
      <Heading>Queues and workloads</Heading>
      <ErrorText error={queues.error ?? workloads.error} />
      <section aria-labelledby="queues-title">
        <h2 id="queues-title">Queues</h2>
        {queues.data === undefined ? <p>Loading…</p> : queues.data.length === 0 ? <p>No queues yet: they appear when data arrives.</p> : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col">Identifier</th>
                <th scope="col">Channel</th>
                <th scope="col">Integration</th>
                <th scope="col">Workloads</th>
              </tr>
            </thead>
            <tbody>
              {queues.data.map((q) => (
                <tr key={q.id}>
                  <th scope="row">{q.name || q.identifier}</th>
                  <td><code>{q.identifier}</code></td>
                  <td>{q.channel}</td>
                  <td>{integrationName(q.integrationId)}</td>
                  <td>{q.workloadIds.length === 0 ? "—" : q.workloadIds.map(workloadName).join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="workloads-title">
        <h2 id="workloads-title">Workloads</h2>
        <Notice message={notice?.message ?? null} kind={notice?.kind ?? "ok"} />
        {(workloads.data ?? []).map((w) => (
          <WorkloadEditor key={`${w.id}:${w.queueIds.join(",")}`} workload={w} queues={queues.data ?? []} onSaved={saved} />
        ))}
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault()
            try {
              await api.call("POST", "/v1/workloads", { name: name.trim(), queueIds: [] })
              setName("")
              saved(`Created workload ${name.trim()}`, "ok")
            } catch (err) {
              setNotice({ message: api.messageOf(err), kind: "error" })
            }
          }}
        >
          <label for="workload-name">New workload</label>
          <input id="workload-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit">Create workload</button>
        </form>
      </section>
    </>
  )
}
