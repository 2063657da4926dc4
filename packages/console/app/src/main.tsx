/**
 * The console's shell: sign-in, navigation by the URL's fragment (`#/integrations/…`), and the
 * pages. Nothing is kept across a reload: the token is in memory only.
 */
import "uplot/dist/uPlot.min.css"
import "./styles.css"
import { render } from "preact"
import { useEffect, useRef, useState } from "preact/hooks"
import * as api from "./api.js"
import { DataPage } from "./pages/Data.js"
import { IntegrationsPage } from "./pages/Integrations.js"
import { MappingPage } from "./pages/Mapping.js"
import { QueuesPage } from "./pages/Queues.js"
import { TimelinePage } from "./pages/Timeline.js"
import type { Connector } from "./types.js"

const routeOf = (hash: string): ReadonlyArray<string> => hash.replace(/^#\/?/, "").split("/").filter((s) => s.length > 0).map(decodeURIComponent)

const useRoute = (): ReadonlyArray<string> => {
  const [route, setRoute] = useState(routeOf(location.hash))
  useEffect(() => {
    const changed = () => setRoute(routeOf(location.hash))
    addEventListener("hashchange", changed)
    return () => removeEventListener("hashchange", changed)
  }, [])
  return route
}

const SignIn = ({ onSignedIn }: { readonly onSignedIn: (connectors: ReadonlyArray<Connector>) => void }) => {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => input.current?.focus(), [])
  return (
    <main class="signin">
      <h1>acd-bridge admin</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const value = input.current?.value.trim() ?? ""
          if (value === "") {
            setError("Enter the admin token or a personal access token")
            return
          }
          setBusy(true)
          api.signIn(value)
          try {
            // any admin route tells whether the token is accepted
            const connectors = await api.get<ReadonlyArray<Connector>>("/v1/connectors")
            if (input.current !== null) input.current.value = ""
            onSignedIn(connectors)
          } catch (err) {
            api.signOut()
            setError(err instanceof api.ApiError && err.status === 401 ? "This token is not accepted" : api.messageOf(err))
          } finally {
            setBusy(false)
          }
        }}
      >
        <label for="token">Admin token or personal access token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          aria-describedby="token-help"
          aria-invalid={error !== null}
        />
        <p class="hint" id="token-help">
          Kept in this page's memory only: reloading or closing the page signs you out.
        </p>
        {error === null ? null : <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  )
}

const pages = [
  { path: "integrations", title: "Integrations" },
  { path: "mapping", title: "Mapping" },
  { path: "queues", title: "Queues and workloads" },
  { path: "data", title: "Interval data" },
  { path: "timeline", title: "Agent timeline" }
] as const

const App = () => {
  const [connectors, setConnectors] = useState<ReadonlyArray<Connector> | null>(null)
  const route = useRoute()
  const main = useRef<HTMLElement>(null)
  useEffect(() => api.whenUnauthorized(() => setConnectors(null)), [])
  const page = route[0] ?? "integrations"
  // a new page moves focus to its heading, so a keyboard or screen reader user starts there
  useEffect(() => {
    main.current?.querySelector<HTMLElement>("h1")?.focus()
  }, [page, connectors === null])
  if (connectors === null) return <SignIn onSignedIn={setConnectors} />
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault()
        main.current?.focus()
      }}>Skip to content</a>
      <header class="top">
        <span class="brand">acd-bridge admin</span>
        <nav aria-label="Main">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={page === p.path ? "page" : undefined}>{p.title}</a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            api.signOut()
            setConnectors(null)
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page === "integrations"
          ? <IntegrationsPage connectors={connectors} selected={route[1]} />
          : page === "mapping"
          ? <MappingPage integrationId={route[1]} />
          : page === "queues"
          ? <QueuesPage />
          : page === "data"
          ? <DataPage />
          : page === "timeline"
          ? <TimelinePage />
          : <h1 tabIndex={-1}>Not found</h1>}
      </main>
    </>
  )
}

render(<App />, document.getElementById("app")!)
