/**
 * Calls to the admin API with the signed-in token. The token lives in this module's memory
 * only: never in the URL, localStorage, sessionStorage or a cookie, so a reload signs out.
 */
import type { Problem } from "./types.js"

let token: string | null = null
let onUnauthorized: () => void = () => {}

export const signIn = (value: string): void => {
  token = value
}

export const signOut = (): void => {
  token = null
}

export const isSignedIn = (): boolean => token !== null

/** What to do when the API refuses the token (it expired or was revoked): sign out. */
export const whenUnauthorized = (f: () => void): void => {
  onUnauthorized = f
}

/** The Authorization header of the signed-in session. */
export const authorization = (): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token}` })

/** A refused call, with the problem body's detail and the field it names. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem
  constructor(status: number, problem: Problem) {
    const where = problem.field === undefined ? "" : ` (${problem.index === undefined ? "" : `record ${problem.index}, `}field ${problem.field})`
    super(`${problem.title ?? `HTTP ${status}`}${problem.detail === undefined ? "" : `: ${problem.detail}`}${where}`)
    this.status = status
    this.problem = problem
  }
}

/** Calls `method path` with an optional JSON body; answers the parsed JSON (null for 204). */
export const call = async <T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<T> => {
  const response = await fetch(path, {
    method,
    headers: {
      accept: "application/json",
      ...headers,
      ...authorization(),
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: "omit",
    cache: "no-store"
  })
  const text = await response.text()
  const parsed: unknown = text.length === 0 ? null : JSON.parse(text)
  if (!response.ok) {
    if (response.status === 401) {
      signOut()
      onUnauthorized()
    }
    throw new ApiError(response.status, (parsed ?? {}) as Problem)
  }
  return parsed as T
}

export const get = <T>(path: string): Promise<T> => call<T>("GET", path)

/** `path?key=value…`, leaving out undefined values. */
export const withQuery = (path: string, query: Record<string, string | undefined>): string => {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value)
  const text = params.toString()
  return text.length === 0 ? path : `${path}?${text}`
}

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))
