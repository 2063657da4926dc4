/**
 * Integrations: the list with status, delivery mode, cadence and health; one integration's
 * health (lag, last run, history progress, failing and stall warnings) and actions (pause,
 * resume, check, API key, delete); and the create form generated from the connector's schema.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import * as api from "../api.js"
import { prune, SchemaForm } from "../SchemaForm.js"
import { browserZone, dateTime, duration, zones } from "../time.js"
import type {
  ApiKeyCreated,
  CheckReport,
  Connector,
  CreatedIntegration,
  DataKind,
  DeliveryMode,
  ImportRun,
  Integration,
  IntegrationHealth,
  Schedule
} from "../types.js"
import { Badge, ErrorText, Heading, Notice, useLoad } from "../ui.js"

/** How often it imports: pushed integrations get data as the source sends it, whatever their schedule says. */
export const cadence = (schedule: Schedule, connector: Connector | undefined): string =>
  connector?.push === true ? "pushed" : schedule.type === "realtime" ? "realtime" : `every ${schedule.everyMinutes} min`

const healthOf = (id: string) => api.get<IntegrationHealth>(`/v1/integrations/${encodeURIComponent(id)}/health`)

const StatusBadge = ({ integration }: { readonly integration: Integration }) =>
  integration.status === "active" && integration.failing !== null
    ? <Badge kind="failing">failing</Badge>
    : <Badge kind={integration.status}>{integration.status}</Badge>

const lagText = (health: IntegrationHealth | undefined): string =>
  health === undefined ? "…" : health.lagMs === null ? "—" : duration(health.lagMs)

const HealthSummary = ({ health }: { readonly health: IntegrationHealth | undefined }) => {
  if (health === undefined) return <span>…</span>
  if (health.warnings.length === 0) return <span>ok</span>
  return <span class="warn">{health.stalled ? "stalled; " : ""}{health.warnings.length} warning{health.warnings.length > 1 ? "s" : ""}</span>
}

const List = ({ integrations, healths, connectors }: {
  readonly connectors: ReadonlyArray<Connector>
  readonly integrations: ReadonlyArray<Integration>
  readonly healths: Readonly<Record<string, IntegrationHealth>>
}) => (
  <table class="list">
    <caption class="visually-hidden">Integrations</caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">Connector</th>
        <th scope="col">Status</th>
        <th scope="col">Delivery</th>
        <th scope="col">Cadence</th>
        <th scope="col">Lag</th>
        <th scope="col">Last run</th>
        <th scope="col">Health</th>
      </tr>
    </thead>
    <tbody>
      {integrations.map((i) => {
        const health = healths[i.id]
        return (
          <tr key={i.id} data-integration={i.id}>
            <th scope="row"><a href={`#/integrations/${encodeURIComponent(i.id)}`}>{i.name}</a></th>
            <td>{i.connector}</td>
            <td><StatusBadge integration={i} /></td>
            <td>{i.deliveryMode}</td>
            <td>{cadence(i.schedule, connectors.find((c) => c.key === i.connector))}</td>
            <td>{i.status === "deleted" ? "—" : lagText(health)}</td>
            <td>{health?.lastRun ? dateTime(health.lastRun.startedAt) : "—"}</td>
            <td>{i.status === "deleted" ? "—" : <HealthSummary health={health} />}</td>
          </tr>
        )
      })}
    </tbody>
  </table>
)

const Progress = ({ label, progress }: { readonly label: string; readonly progress: IntegrationHealth["history"] }) => {
  if (progress === null) return null
  const id = `progress-${label.replace(/\W+/g, "-").toLowerCase()}`
  return (
    <div class="progress">
      <label for={id}>
        {label}: {progress.windowsDone} of {progress.windowsTotal} windows
        {progress.done ? " (done)" : progress.etaSeconds === null ? "" : `, about ${duration(progress.etaSeconds * 1000)} left`}
      </label>
      <progress id={id} max={Math.max(progress.windowsTotal, 1)} value={progress.windowsDone}>
        {progress.windowsDone} of {progress.windowsTotal}
      </progress>
      <span class="hint">
        {dateTime(progress.from)} to {dateTime(progress.to)}; {progress.records} records
        {progress.recordsPerSecond === null ? "" : `, ${Math.round(progress.recordsPerSecond)} per second`}
      </span>
    </div>
  )
}

const Runs = ({ runs }: { readonly runs: ReadonlyArray<ImportRun> }) =>
  runs.length === 0 ? <p>No import runs yet.</p> : (
    <table class="list">
      <caption>Recent import runs</caption>
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Kind</th>
          <th scope="col">Window</th>
          <th scope="col" class="num">Read</th>
          <th scope="col" class="num">Applied</th>
          <th scope="col" class="num">Rejected</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>{dateTime(r.startedAt)}</td>
            <td>{r.kind}</td>
            <td>{r.windowStart === null ? "—" : `${dateTime(r.windowStart)} – ${dateTime(r.windowEnd)}`}</td>
            <td class="num">{r.read}</td>
            <td class="num">{r.applied}</td>
            <td class="num">{r.rejected}</td>
            <td>{r.error ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )

const EditForm = ({ integration, connector, onSaved, onCancel }: {
  readonly integration: Integration
  readonly connector: Connector | undefined
  readonly onSaved: (message: string) => void
  readonly onCancel: () => void
}) => {
  const [name, setName] = useState(integration.name)
  const current = integration.schedule.type === "realtime" ? "realtime" : String(integration.schedule.everyMinutes)
  const [schedule, setSchedule] = useState(current)
  const [timezone, setTimezone] = useState(integration.timezone)
  const [historyDays, setHistoryDays] = useState(String(integration.historyDepthDays))
  const [config, setConfig] = useState<unknown>(undefined)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const allZones = useMemo(zones, [])
  const schedules: ReadonlyArray<readonly [string, string]> = connector === undefined || connector.push ? [] : [
    ...(connector.pull ? [["15", "Every 15 minutes"], ["30", "Every 30 minutes"], ["60", "Every 60 minutes"]] as const : []),
    ...(connector.realtime ? [["realtime", "Realtime"]] as const : [])
  ]
  return (
    <form
      class="create"
      aria-labelledby="edit-title"
      onSubmit={async (e) => {
        e.preventDefault()
        setBusy(true)
        setError(null)
        // only what changed: config is a merge patch, so a secret left empty keeps its stored value
        const patch = {
          ...(name === integration.name ? {} : { name }),
          ...(schedule === current ? {} : {
            schedule: schedule === "realtime" ? { type: "realtime" } : { type: "historical", everyMinutes: Number(schedule) }
          }),
          ...(timezone === integration.timezone ? {} : { timezone }),
          ...(historyDays === String(integration.historyDepthDays) || historyDays === "" ? {} : { historyDepthDays: Number(historyDays) }),
          ...(prune(config) === undefined ? {} : { config: prune(config) })
        }
        if (Object.keys(patch).length === 0) {
          setError("Nothing was changed")
          setBusy(false)
          return
        }
        try {
          await api.call(
            "PATCH",
            `/v1/integrations/${encodeURIComponent(integration.id)}`,
            patch,
            integration.version === undefined ? {} : { "if-match": String(integration.version) }
          )
          onSaved(`Saved: ${Object.keys(patch).join(", ")}`)
        } catch (err) {
          setError(
            err instanceof api.ApiError && err.status === 409
              ? "The integration changed since this page read it: cancel, and edit it again"
              : api.messageOf(err)
          )
        } finally {
          setBusy(false)
        }
      }}
    >
      <h3 id="edit-title">Change {integration.name}</h3>
      <div class="field">
        <label for="edit-name">Name</label>
        <input id="edit-name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      {schedules.length === 0 ? null : (
        <div class="field">
          <label for="edit-schedule">Cadence</label>
          <select id="edit-schedule" value={schedule} onChange={(e) => setSchedule(e.currentTarget.value)}>
            {schedules.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
          </select>
        </div>
      )}
      <div class="field">
        <label for="edit-timezone">Source time zone</label>
        <select id="edit-timezone" value={timezone} onChange={(e) => setTimezone(e.currentTarget.value)}>
          {(allZones.includes(timezone) ? allZones : [timezone, ...allZones]).map((z) => <option key={z} value={z}>{z}</option>)}
        </select>
      </div>
      {connector?.pull ? (
        <div class="field">
          <label for="edit-history">History depth in days</label>
          <input id="edit-history" type="number" min={1} max={3660} step={1} value={historyDays} onInput={(e) => setHistoryDays(e.currentTarget.value)} />
        </div>
      ) : null}
      {connector === undefined ? null : (
        <SchemaForm
          schema={connector.configSchema}
          value={config}
          onChange={setConfig}
          idPrefix="edit"
          partial
          legend="Connector settings to change (fields left empty keep their stored value)"
        />
      )}
      <ErrorText error={error} />
      <div class="actions">
        <button type="submit" disabled={busy}>Save changes</button>
        <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  )
}

const Detail = ({ id, connectors, onChanged }: {
  readonly id: string
  readonly connectors: ReadonlyArray<Connector>
  readonly onChanged: () => void
}) => {
  const path = `/v1/integrations/${encodeURIComponent(id)}`
  const integration = useLoad(() => api.get<Integration>(path), [path])
  const health = useLoad(() => healthOf(id), [path])
  const runs = useLoad(() => api.get<ReadonlyArray<ImportRun>>(`${path}/runs?limit=10`), [path])
  const [notice, setNotice] = useState<{ message: string; kind: "ok" | "error" } | null>(null)
  const [report, setReport] = useState<CheckReport | null>(null)
  const [apiKey, setApiKey] = useState<ApiKeyCreated | null>(null)
  const [busy, setBusy] = useState(false)
  const [editing, setEditing] = useState(false)
  const keyRef = useRef<HTMLInputElement>(null)
  useEffect(() => keyRef.current?.select(), [apiKey])
  // health moves on by itself (history windows, lag, failures): read it again every few seconds
  useEffect(() => {
    const timer = setInterval(() => {
      void health.reload()
      void runs.reload()
    }, 5_000)
    return () => clearInterval(timer)
  }, [health.reload, runs.reload])

  const act = async (what: string, run: () => Promise<void>) => {
    setBusy(true)
    try {
      await run()
      setNotice({ message: what, kind: "ok" })
      await Promise.all([integration.reload(), health.reload(), runs.reload()])
      onChanged()
    } catch (e) {
      setNotice({ message: api.messageOf(e), kind: "error" })
    } finally {
      setBusy(false)
    }
  }
  const i = integration.data
  if (i === undefined) return <><ErrorText error={integration.error} />{integration.loading ? <p>Loading…</p> : null}</>
  const h = health.data
  const deleted = i.status === "deleted"
  return (
    <section class="detail" aria-labelledby="detail-title">
      <h2 id="detail-title">{i.name}</h2>
      <dl class="facts">
        <dt>Status</dt>
        <dd><StatusBadge integration={i} /></dd>
        <dt>Connector</dt>
        <dd>{i.connector}</dd>
        <dt>Delivery mode</dt>
        <dd>{i.deliveryMode}</dd>
        <dt>Cadence</dt>
        <dd>{cadence(i.schedule, connectors.find((c) => c.key === i.connector))}</dd>
        <dt>Time zone</dt>
        <dd>{i.timezone}</dd>
        <dt>Data</dt>
        <dd>{i.dataKinds.join(", ")}</dd>
        <dt>Id</dt>
        <dd><code>{i.id}</code></dd>
        <dt>Link</dt>
        <dd><a href={`#/integrations/${encodeURIComponent(i.id)}`}>{`${location.origin}${location.pathname}#/integrations/${i.id}`}</a></dd>
        <dt>Lag</dt>
        <dd>{lagText(h)}{h?.completeUntil ? ` (complete until ${dateTime(h.completeUntil)})` : ""}</dd>
        <dt>Last run</dt>
        <dd>
          {h?.lastRun
            ? `${dateTime(h.lastRun.startedAt)}: ${h.lastRun.kind}, ${h.lastRun.applied} applied${h.lastRun.error === null ? "" : `, failed: ${h.lastRun.error}`}`
            : "none yet"}
        </dd>
      </dl>
      {(h?.failing ?? i.failing) === null ? null : <p class="warning" role="alert"><strong>Failing:</strong> {h?.failing ?? i.failing}</p>}
      {h?.stalled ? <p class="warning" role="alert"><strong>Stalled:</strong> runs read data but nothing new is imported.</p> : null}
      {h === undefined ? null : h.warnings.length === 0 ? null : (
        <ul class="warnings" aria-label="Warnings">
          {h.warnings.map((w) => <li key={w}>{w}</li>)}
        </ul>
      )}
      {h === undefined ? null : (
        <>
          <Progress label="History import" progress={h.history} />
          <Progress label="Catching up a gap" progress={h.gap} />
          <Progress label="Re-import" progress={h.reimport} />
        </>
      )}
      {deleted ? <p>This integration is deleted: its keys are revoked; its data and queues are kept.</p> : (
        <div class="actions" role="group" aria-label="Actions">
          {i.status === "paused"
            ? <button type="button" disabled={busy} onClick={() => act("Resumed: staged pushes are being applied", () => api.call("POST", `${path}/resume`))}>Resume</button>
            : <button type="button" disabled={busy} onClick={() => act("Paused: pushes are staged until resume", () => api.call("POST", `${path}/pause`))}>Pause</button>}
          <button type="button" disabled={busy} aria-expanded={editing} onClick={() => setEditing(!editing)}>Edit</button>
          <button
            type="button"
            disabled={busy}
            onClick={() => act("Check finished", async () => setReport(await api.call<CheckReport>("POST", `${path}/check`)))}
          >
            Check
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              if (!confirm("Generate a new API key? The previous key stops working at once.")) return
              void act("API key generated", async () => setApiKey(await api.call<ApiKeyCreated>("POST", `${path}/api-key`)))
            }}
          >
            Generate API key
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => {
              if (!confirm(`Delete "${i.name}"? This is final: its keys are revoked (data and queues are kept).`)) return
              void act("Deleted", () => api.call("DELETE", path))
            }}
          >
            Delete
          </button>
        </div>
      )}
      {editing && !deleted
        ? (
          <EditForm
            integration={i}
            connector={connectors.find((c) => c.key === i.connector)}
            onCancel={() => setEditing(false)}
            onSaved={(message) => {
              setEditing(false)
              void act(message, async () => {})
            }}
          />
        )
        : null}
      <Notice message={notice?.message ?? null} kind={notice?.kind ?? "ok"} />
      {apiKey === null ? null : (
        <div class="once" role="region" aria-labelledby="key-title">
          <h3 id="key-title">API key (shown once)</h3>
          <p>Store it now: it is not shown again. Send it as <code>Authorization: Bearer &lt;key&gt;</code> with integration id <code>{i.id}</code>.</p>
          <label for="api-key">API key</label>
          <input id="api-key" ref={keyRef} readOnly value={apiKey.apiKey} spellcheck={false} />
          <div class="actions">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(apiKey.apiKey)}>Copy</button>
            <button type="button" class="secondary" onClick={() => setApiKey(null)}>I stored it, hide it</button>
          </div>
        </div>
      )}
      {report === null ? null : (
        <div class="report" role="region" aria-labelledby="report-title">
          <h3 id="report-title">Check: {report.ok ? "everything is ok" : "something needs attention"}</h3>
          <ul>
            {report.items.map((item) => (
              <li key={item.name} class={item.ok ? "ok" : "bad"}>
                <strong>{item.ok ? "✓ ok" : "✗ failed"}: {item.name}</strong> {item.detail}
              </li>
            ))}
          </ul>
        </div>
      )}
      {runs.data === undefined ? null : <Runs runs={runs.data} />}
      <p><a href={`#/mapping/${encodeURIComponent(i.id)}`}>Map this integration's agents and activities</a></p>
    </section>
  )
}

const CreateForm = ({ connectors, onCreated }: {
  readonly connectors: ReadonlyArray<Connector>
  readonly onCreated: (created: CreatedIntegration) => void
}) => {
  const [key, setKey] = useState(connectors[0]?.key ?? "")
  const connector = connectors.find((c) => c.key === key)
  const [name, setName] = useState("")
  const [deliveryMode, setDeliveryMode] = useState<DeliveryMode | "">("")
  const [schedule, setSchedule] = useState("")
  const [timezone, setTimezone] = useState(browserZone())
  const [kinds, setKinds] = useState<ReadonlyArray<DataKind> | null>(null)
  const [historyDays, setHistoryDays] = useState("")
  const [config, setConfig] = useState<unknown>(undefined)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const allZones = useMemo(zones, [])
  // a new connector starts a new config
  useEffect(() => {
    setConfig(undefined)
    setDeliveryMode("")
    setSchedule("")
    setKinds(null)
  }, [key])
  if (connector === undefined) return <p>No connectors are offered.</p>
  const schedules: ReadonlyArray<readonly [string, string]> = [
    ...(connector.pull ? [["15", "Every 15 minutes"], ["30", "Every 30 minutes"], ["60", "Every 60 minutes"]] as const : []),
    ...(connector.realtime ? [["realtime", "Realtime"]] as const : [])
  ]
  const chosenKinds = kinds ?? connector.dataKinds
  return (
    <form
      class="create"
      aria-labelledby="create-title"
      onSubmit={async (e) => {
        e.preventDefault()
        setBusy(true)
        setError(null)
        try {
          const body = {
            name,
            connector: connector.key,
            ...(deliveryMode === "" ? {} : { deliveryMode }),
            ...(schedule === "" ? {} : { schedule: schedule === "realtime" ? { type: "realtime" } : { type: "historical", everyMinutes: Number(schedule) } }),
            timezone,
            dataKinds: chosenKinds,
            ...(historyDays === "" ? {} : { historyDepthDays: Number(historyDays) }),
            config: prune(config) ?? {}
          }
          onCreated(await api.call<CreatedIntegration>("POST", "/v1/integrations", body))
        } catch (err) {
          setError(api.messageOf(err))
        } finally {
          setBusy(false)
        }
      }}
    >
      <h2 id="create-title">New integration</h2>
      <div class="field">
        <label for="new-connector">Connector</label>
        <select id="new-connector" value={key} onChange={(e) => setKey(e.currentTarget.value)}>
          {connectors.map((c) => <option key={c.key} value={c.key}>{c.displayName} ({c.key})</option>)}
        </select>
        <span class="hint">
          Imports {connector.dataKinds.join(" and ")}
          {connector.push ? "; fed by the push API" : ""}
          {connector.pull ? "; reads history" : ""}
          {connector.realtime ? "; realtime" : ""}
          {connector.historyLimitDays === null ? "" : `; the source keeps ${connector.historyLimitDays} days`}
        </span>
      </div>
      <div class="field">
        <label for="new-name">Name <span class="required">(required)</span></label>
        <input id="new-name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="new-delivery">Delivery mode</label>
        <select id="new-delivery" value={deliveryMode} onChange={(e) => setDeliveryMode(e.currentTarget.value as DeliveryMode | "")}>
          <option value="">(default: {connector.deliveryModes[0]})</option>
          {connector.deliveryModes.map((m) => <option key={m} value={m}>{m}</option>)}
        </select>
      </div>
      {schedules.length === 0 ? null : (
        <div class="field">
          <label for="new-schedule">Cadence</label>
          <select id="new-schedule" value={schedule} onChange={(e) => setSchedule(e.currentTarget.value)}>
            <option value="">(default)</option>
            {schedules.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
          </select>
        </div>
      )}
      <div class="field">
        <label for="new-timezone">Source time zone</label>
        <select id="new-timezone" value={timezone} onChange={(e) => setTimezone(e.currentTarget.value)}>
          {allZones.map((z) => <option key={z} value={z}>{z}</option>)}
        </select>
      </div>
      {connector.dataKinds.length < 2 ? null : (
        <fieldset class="group">
          <legend>Data to import</legend>
          {connector.dataKinds.map((k) => (
            <label key={k} class="inline">
              <input
                type="checkbox"
                checked={chosenKinds.includes(k)}
                onChange={(e) =>
                  setKinds(e.currentTarget.checked ? [...chosenKinds, k] : chosenKinds.filter((x) => x !== k))}
              />
              {k === "contacts" ? "Contacts" : "Agent statuses"}
            </label>
          ))}
        </fieldset>
      )}
      {connector.pull ? (
        <div class="field">
          <label for="new-history">History depth in days <span class="optional">(optional)</span></label>
          <input id="new-history" type="number" min={1} max={3660} step={1} value={historyDays} onInput={(e) => setHistoryDays(e.currentTarget.value)} />
        </div>
      ) : null}
      <SchemaForm key={connector.key} schema={connector.configSchema} value={config} onChange={setConfig} />
      <ErrorText error={error} />
      <button type="submit" disabled={busy}>Create integration</button>
    </form>
  )
}

export const IntegrationsPage = ({ connectors, selected }: {
  readonly connectors: ReadonlyArray<Connector>
  readonly selected: string | undefined
}) => {
  const list = useLoad(() => api.get<ReadonlyArray<Integration>>("/v1/integrations"), [])
  const [healths, setHealths] = useState<Readonly<Record<string, IntegrationHealth>>>({})
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<string | null>(null)
  useEffect(() => {
    const timer = setInterval(() => void list.reload(), 15_000)
    return () => clearInterval(timer)
  }, [list.reload])
  useEffect(() => {
    const live = (list.data ?? []).filter((i) => i.status !== "deleted")
    void Promise.all(live.map((i) => healthOf(i.id).then((h) => [i.id, h] as const, () => null))).then((pairs) =>
      setHealths(Object.fromEntries(pairs.filter((p) => p !== null)))
    )
  }, [list.data])
  return (
    <>
      <Heading>Integrations</Heading>
      <ErrorText error={list.error} />
      {list.data === undefined ? <p>Loading…</p> : list.data.length === 0 ? <p>No integrations yet.</p> : (
        <List integrations={list.data} healths={healths} connectors={connectors} />
      )}
      <div class="actions">
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          {creating ? "Cancel" : "New integration"}
        </button>
        <button type="button" class="secondary" onClick={() => void list.reload()}>Refresh</button>
      </div>
      <Notice message={created} />
      {creating
        ? (
          <CreateForm
            connectors={connectors}
            onCreated={(c) => {
              setCreating(false)
              setCreated(`Created "${c.name}"${c.warnings.length === 0 ? "" : `. ${c.warnings.join(" ")}`}`)
              void list.reload()
              location.hash = `#/integrations/${encodeURIComponent(c.id)}`
            }}
          />
        )
        : null}
      {selected === undefined ? null : <Detail key={selected} id={selected} connectors={connectors} onChanged={() => void list.reload()} />}
    </>
  )
}
