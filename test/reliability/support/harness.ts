/**
 * Starting, calling and killing the suite's server child (`server.ts`) over real HTTP on
 * 127.0.0.1.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import type { ServerConfig } from "./config.js"

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const script = fileURLToPath(new URL("./server.ts", import.meta.url))

let bundled: Promise<string> | undefined

/** Where the server bundles go. */
export const bundleDir = fileURLToPath(new URL("../.tmp", import.meta.url))

/**
 * The server child as one ES module, bundled with esbuild once per test process. Under
 * `tsx` a child spent 8–13 s compiling the workspace's sources before it listened on this
 * (shared, loaded) machine; the bundle starts in 1–4 s, which is what makes a crash test with
 * many restarts affordable. The drivers with native parts stay external and resolve from
 * `test/node_modules`, so the bundle is written next to this file (`.tmp` is git-ignored).
 */
const serverBundle = (): Promise<string> => {
  bundled ??= (async () => {
    const out = join(bundleDir, `server-${process.pid}.mjs`)
    mkdirSync(dirname(out), { recursive: true })
    // esbuild is tsx's own dependency: resolved through it, not declared again
    const esbuild = createRequire(createRequire(join(repoRoot, "package.json")).resolve("tsx"))("esbuild") as Esbuild
    await esbuild.build({
      entryPoints: [script],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
      external: ["better-sqlite3", "pg", "pg-native", "bufferutil", "utf-8-validate"],
      // CommonJS dependencies call require() for Node's built-ins
      banner: { js: "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);" },
      outfile: out
    })
    // removed by the global teardown (`summarySetup.ts`): a test fork is ended without its exit handlers
    return out
  })()
  return bundled
}

/** The part of esbuild's API used here (its types are not a dependency of the tests). */
interface Esbuild {
  readonly build: (options: Record<string, unknown>) => Promise<unknown>
}

export const adminToken = "reliability-admin-token-0123456789abcdef"
export const tenantA = "tenant-a"
export const tenantB = "tenant-b"

/** A running server child. */
export interface Server {
  readonly url: string
  readonly tokens: Readonly<Record<string, string>>
  readonly proc: ChildProcessByStdio<null, Readable, Readable>
  /** everything it wrote to stdout and stderr so far */
  readonly output: () => string
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** SIGKILL, then wait for the process to be gone */
  readonly kill: () => Promise<void>
  /** SIGTERM (graceful), then wait */
  readonly stop: () => Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

/** Spawns a server child; resolves once it listens (or rejects with its output when it exits first). */
export const startServer = async (
  config: Omit<ServerConfig, "adminToken" | "tenants"> & { readonly tenants?: ReadonlyArray<string> },
  options: { readonly timeoutMs?: number } = {}
): Promise<Server> => {
  const full: ServerConfig = { adminToken, tenants: [tenantA, tenantB], ...config }
  const bundle = await serverBundle()
  const proc = spawn(process.execPath, [bundle], {
    cwd: repoRoot,
    env: { ...process.env, REL_CONFIG: JSON.stringify(full) },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  proc.stdout.setEncoding("utf8")
  proc.stderr.setEncoding("utf8")
  proc.stdout.on("data", (chunk: string) => (out += chunk))
  proc.stderr.on("data", (chunk: string) => (out += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal }))
  )
  let gone = false
  void exited.then(() => (gone = true))
  const ready = await new Promise<{ url: string; tokens: Record<string, string> }>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL")
      reject(new Error(`the server did not start in time:\n${out}`))
    }, options.timeoutMs ?? 90_000)
    const onData = () => {
      const line = /^READY (.*)$/m.exec(out)
      if (line) {
        clearTimeout(timer)
        proc.stdout.off("data", onData)
        resolve(JSON.parse(line[1]!) as { url: string; tokens: Record<string, string> })
      }
    }
    proc.stdout.on("data", onData)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new StartFailed(code, signal, out))
    })
  })
  return {
    url: ready.url,
    tokens: ready.tokens,
    proc,
    output: () => out,
    exited,
    kill: async () => {
      if (!gone) proc.kill("SIGKILL")
      await exited
    },
    stop: async () => {
      if (!gone) proc.kill("SIGTERM")
      return exited
    }
  }
}

/** The child exited before it listened. */
export class StartFailed extends Error {
  constructor(readonly code: number | null, readonly signal: NodeJS.Signals | null, readonly output: string) {
    super(`the server exited (code ${code}, signal ${signal}) before it listened:\n${output}`)
  }
}

/** A temporary directory removed by the returned function. */
export const tempDir = (prefix: string): { readonly path: string; readonly remove: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export interface Answer<T = unknown> {
  readonly status: number
  readonly headers: Headers
  readonly contentType: string
  readonly text: string
  readonly body: T
  readonly ms: number
  /** the connection was reset while a body over the limit was sent (see `call`) */
  readonly reset?: boolean
}

/** The server's default body limit (`HttpAdapter.defaultMaxBodyBytes`). */
export const bodyLimit = 10 * 1024 * 1024

export interface CallOptions {
  /** sent as `Authorization: Bearer <token>` */
  readonly token?: string | undefined
  /** sent as the Authorization header exactly */
  readonly authorization?: string | undefined
  readonly json?: unknown
  readonly raw?: string | Uint8Array | undefined
  readonly headers?: Record<string, string> | undefined
  readonly signal?: AbortSignal | undefined
}

/**
 * One HTTP call on a connection of its own (`Connection: close`); a JSON answer is parsed (a
 * body that isn't JSON stays text). No connection is kept: a kept one that the server closes
 * as idle while the next request is being sent fails that request in the client, which is
 * HTTP working as specified, not the engine failing. (`fetch`, not `node:http`: it reads an
 * early answer, a 413 sent before a big body is written, where `node:http` only sees EPIPE.)
 */
export const call = async <T = unknown>(
  base: string | { readonly url: string },
  method: string,
  path: string,
  options: CallOptions = {}
): Promise<Answer<T>> => {
  const url = typeof base === "string" ? base : base.url
  const headers: Record<string, string> = { connection: "close", ...options.headers }
  if (options.authorization !== undefined) headers["authorization"] = options.authorization
  else if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
  const body = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json))
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json"
  }
  const started = performance.now()
  let response: Response
  try {
    response = await fetch(`${url}${path}`, {
      method,
      headers,
      // undici takes a Uint8Array body; the DOM-style BodyInit in these typings does not list it
      ...(body === undefined ? {} : { body: body as unknown as BodyInit }),
      ...(options.signal === undefined ? {} : { signal: options.signal })
    })
  } catch (error) {
    // Over the body limit with a declared length, the server answers 413 before reading the
    // body and closes the connection; a client still writing may see the reset before the
    // answer. Only then is the reset taken as that 413 (`reset: true`); the 413 itself is
    // asserted on a raw socket in Limits.test.ts. Any other failure is a failure.
    const code = ((error as { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException)).code
    const size = typeof body === "string" ? Buffer.byteLength(body) : body?.length ?? 0
    if (size <= bodyLimit || (code !== "EPIPE" && code !== "ECONNRESET" && code !== "UND_ERR_SOCKET")) throw error
    const problem = { type: "urn:acd-bridge:problem:payload-too-large", title: "Payload too large", status: 413, detail: `connection closed while sending (${code})` }
    return { status: 413, headers: new Headers(), contentType: "application/problem+json", text: JSON.stringify(problem), body: problem as T, ms: performance.now() - started, reset: true }
  }
  const text = await response.text()
  const ms = performance.now() - started
  const contentType = response.headers.get("content-type") ?? ""
  let parsed: unknown = text
  if (text !== "" && contentType.includes("json")) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = text
    }
  }
  return { status: response.status, headers: response.headers, contentType, text, body: parsed as T, ms }
}

/** A problem body (docs/http-contract.md). */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly field?: string
  readonly index?: number
}

/**
 * Why an answer is not a well-formed problem body of a 4xx status, or undefined when it is:
 * `application/problem+json`, `{type, title, status, detail}` with `status` equal to the HTTP
 * status, and nothing that looks like a stack trace or an internal path.
 */
export const notAClientProblem = (answer: Answer): string | undefined => {
  if (answer.status < 400 || answer.status > 499) return `status ${answer.status}: ${answer.text.slice(0, 300)}`
  if (!answer.contentType.startsWith("application/problem+json")) return `content type ${answer.contentType}`
  const body = answer.body as Partial<Problem> | string
  if (typeof body !== "object" || body === null) return `body is not JSON: ${String(body).slice(0, 200)}`
  if (typeof body.type !== "string" || !body.type.startsWith("urn:acd-bridge:problem:")) return `type ${body.type}`
  if (typeof body.title !== "string" || typeof body.detail !== "string") return "title/detail missing"
  if (body.status !== answer.status) return `body status ${body.status} vs ${answer.status}`
  if (/\n\s+at |node_modules|\/src\/|\.ts:\d+/.test(answer.text)) return `leaks internals: ${answer.text.slice(0, 300)}`
  return undefined
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `probe` until it gives a value (not undefined) or the time is up. */
export const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number, what = "condition"): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

export interface IntegrationBody {
  readonly id: string
  readonly name: string
  readonly status: string
}

/** Creates an api-push integration in the token's tenant and its API key. */
export const pushIntegration = async (
  server: { readonly url: string },
  token: string,
  name: string,
  extra: Record<string, unknown> = {}
): Promise<{ readonly id: string; readonly apiKey: string }> => {
  const created = await call<IntegrationBody>(server, "POST", "/v1/integrations", {
    token,
    json: { name, connector: "api-push", timezone: "UTC", ...extra }
  })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
  const key = await call<{ apiKey: string }>(server, "POST", `/v1/integrations/${created.body.id}/api-key`, { token })
  if (key.status !== 201) throw new Error(`api-key: ${key.status} ${key.text}`)
  return { id: created.body.id, apiKey: key.body.apiKey }
}

/** Percentile (0–100) of a list of numbers, nearest rank. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
