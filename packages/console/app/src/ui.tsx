/** Small pieces the pages share. */
import type { ComponentChildren } from "preact"
import { useCallback, useEffect, useState } from "preact/hooks"
import { messageOf } from "./api.js"

export interface Loaded<T> {
  readonly data: T | undefined
  readonly error: string | null
  readonly loading: boolean
  readonly reload: () => Promise<void>
}

/** Loads `load()` now and whenever `deps` change; `reload` loads again. */
export const useLoad = <T,>(load: () => Promise<T>, deps: ReadonlyArray<unknown>): Loaded<T> => {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const reload = useCallback(async () => {
    setLoading(true)
    try {
      setData(await load())
      setError(null)
    } catch (e) {
      setError(messageOf(e))
    } finally {
      setLoading(false)
    }
  }, deps)
  useEffect(() => {
    void reload()
  }, [reload])
  return { data, error, loading, reload }
}

/** A polite live region: what an action did, read out by screen readers. */
export const Notice = ({ message, kind }: { readonly message: string | null; readonly kind?: "ok" | "error" }) => (
  <p class={`notice ${kind ?? "ok"}`} role={kind === "error" ? "alert" : "status"} aria-live="polite">
    {message ?? ""}
  </p>
)

export const ErrorText = ({ error }: { readonly error: string | null }) =>
  error === null ? null : <p class="error" role="alert">{error}</p>

/** A page's heading: focused when the page opens. */
export const Heading = ({ children }: { readonly children: ComponentChildren }) => <h1 tabIndex={-1}>{children}</h1>

export const Badge = ({ kind, children }: { readonly kind: string; readonly children: ComponentChildren }) => (
  <span class={`badge badge-${kind}`}>{children}</span>
)
