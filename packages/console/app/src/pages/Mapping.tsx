/**
 * Mapping: the external agent and activity ids an integration delivered that have no mapping,
 * with how many status segments carry them, and a form per id to map it. Mappings apply to
 * stored data too, so the list (and the timeline) change at once.
 */
import { useState } from "preact/hooks"
import * as api from "../api.js"
import type { Integration, Unmapped } from "../types.js"
import { ErrorText, Heading, Notice, useLoad } from "../ui.js"

type Kind = "agents" | "activities"

const MapRow = ({ kind, externalId, segments, onMap }: {
  readonly kind: Kind
  readonly externalId: string
  readonly segments: number
  readonly onMap: (target: string) => Promise<void>
}) => {
  const [target, setTarget] = useState("")
  const id = `map-${kind}-${externalId.replace(/[^A-Za-z0-9_-]/g, "_")}`
  return (
    <tr data-external-id={externalId}>
      <th scope="row"><code>{externalId}</code></th>
      <td class="num">{segments}</td>
      <td>
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault()
            if (target.trim() === "") return
            await onMap(target.trim())
          }}
        >
          <label for={id} class="visually-hidden">
            {kind === "agents" ? "Employee id" : "WFM activity id"} for {externalId}
          </label>
          <input
            id={id}
            required
            placeholder={kind === "agents" ? "employee id" : "activity id"}
            value={target}
            onInput={(e) => setTarget(e.currentTarget.value)}
          />
          <button type="submit">Map</button>
        </form>
      </td>
    </tr>
  )
}

const Table = ({ kind, rows, onMap }: {
  readonly kind: Kind
  readonly rows: Unmapped[Kind]
  readonly onMap: (externalId: string, target: string) => Promise<void>
}) => (
  <section aria-labelledby={`unmapped-${kind}`}>
    <h2 id={`unmapped-${kind}`}>Unmapped {kind === "agents" ? "agents" : "activities"}</h2>
    {rows.length === 0 ? <p>Every {kind === "agents" ? "agent" : "activity"} is mapped.</p> : (
      <table class="list">
        <thead>
          <tr>
            <th scope="col">External id</th>
            <th scope="col" class="num">Segments</th>
            <th scope="col">Map to {kind === "agents" ? "employee" : "WFM activity"}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <MapRow key={r.externalId} kind={kind} externalId={r.externalId} segments={r.segments} onMap={(t) => onMap(r.externalId, t)} />
          ))}
        </tbody>
      </table>
    )}
  </section>
)

export const MappingPage = ({ integrationId }: { readonly integrationId: string | undefined }) => {
  const integrations = useLoad(() => api.get<ReadonlyArray<Integration>>("/v1/integrations"), [])
  const live = (integrations.data ?? []).filter((i) => i.status !== "deleted" && i.dataKinds.includes("agentStatuses"))
  const chosen = integrationId ?? live[0]?.id
  const unmapped = useLoad(
    () => chosen === undefined ? Promise.resolve(undefined) : api.get<Unmapped>(`/v1/integrations/${encodeURIComponent(chosen)}/unmapped`),
    [chosen]
  )
  const [notice, setNotice] = useState<{ message: string; kind: "ok" | "error" } | null>(null)
  const map = (kind: Kind) => async (externalId: string, target: string) => {
    if (chosen === undefined) return
    try {
      const body = kind === "agents" ? [{ externalId, employeeId: target }] : [{ externalId, activityId: target }]
      await api.call("PUT", `/v1/integrations/${encodeURIComponent(chosen)}/mappings/${kind}`, body)
      setNotice({ message: `Mapped ${externalId} to ${target}; stored statuses show it now`, kind: "ok" })
      await unmapped.reload()
    } catch (e) {
      setNotice({ message: api.messageOf(e), kind: "error" })
    }
  }
  return (
    <>
      <Heading>Mapping</Heading>
      <ErrorText error={integrations.error ?? unmapped.error} />
      {integrations.data === undefined ? <p>Loading…</p> : live.length === 0 ? <p>No integration imports agent statuses.</p> : (
        <div class="field">
          <label for="mapping-integration">Integration</label>
          <select
            id="mapping-integration"
            value={chosen}
            onChange={(e) => {
              location.hash = `#/mapping/${encodeURIComponent(e.currentTarget.value)}`
            }}
          >
            {live.map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
          </select>
        </div>
      )}
      <Notice message={notice?.message ?? null} kind={notice?.kind ?? "ok"} />
      {unmapped.data === undefined ? null : (
        <>
          <Table kind="agents" rows={unmapped.data.agents} onMap={map("agents")} />
          <Table kind="activities" rows={unmapped.data.activities} onMap={map("activities")} />
        </>
      )}
    </>
  )
}
