/**
 * Runs the built `acd-bridge` (packages/server/bin/acd-bridge.js → dist/) as a child process,
 * with every `@acd-bridge/*` import resolved to its built `dist/` as published
 * (scripts/published-layout.mjs), and talks to it over real HTTP on 127.0.0.1.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as net from "node:net"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../../", import.meta.url))
export const bin = fileURLToPath(new URL("../bin/acd-bridge.js", import.meta.url))
const hook = fileURLToPath(new URL("../../../scripts/published-layout.mjs", import.meta.url))

/** The node to run the server with: ACD_BRIDGE_TEST_NODE (the CI's Node 22 job) or this one. */
export const nodeBinary = process.env["ACD_BRIDGE_TEST_NODE"] ?? process.execPath

export const adminToken = "server-test-admin-token-0123456789"

if (!existsSync(new URL("../dist/bin.js", import.meta.url))) {
  throw new Error("packages/server/dist is missing: these tests run the built server; run `pnpm build` first")
}

export interface Running {
  readonly child: ChildProcess
  readonly url: string
  readonly port: number
  readonly output: () => string
  readonly exited: Promise<number | null>
}

const children: Array<ChildProcess> = []

/** SIGKILLs whatever a test left running (call from afterAll). */
export const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}

/** Runs `acd-bridge <args>` to completion. */
export const run = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  options: { readonly timeoutMs?: number } = {}
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, ["--import", hook, bin, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(child)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()))
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`acd-bridge ${args.join(" ")} did not finish:\n${stdout}\n${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** Starts `acd-bridge serve` and waits until it listens. */
export const serve = async (env: Record<string, string>, args: ReadonlyArray<string> = ["serve"]): Promise<Running> => {
  const child = spawn(nodeBinary, ["--import", hook, bin, ...args], {
    cwd: root,
    env: {
      ...process.env,
      NO_COLOR: "1",
      PORT: "0",
      HOST: "127.0.0.1",
      ACD_BRIDGE_ADMIN_TOKEN: adminToken,
      ACD_BRIDGE_POLL_INTERVAL: "1 second",
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.push(child)
  let output = ""
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()))
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    const url = /listening on (https?:\/\/127\.0\.0\.1:(\d+))/.exec(output)
    if (url !== null) return { child, url: url[1]!, port: Number(url[2]), output: () => output, exited }
    if (child.exitCode !== null) throw new Error(`the server exited early (${child.exitCode}):\n${output}`)
    if (Date.now() > deadline) throw new Error(`the server did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Sends `signal` and waits for the exit code (fails after 20 s). */
export const stop = async (server: Running, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
  server.child.kill(signal)
  const code = await Promise.race([server.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))])
  if (code === "hung") throw new Error(`the server did not stop on ${signal}:\n${server.output()}`)
  return code
}

export const api = async <T = unknown>(
  server: { readonly url: string },
  method: string,
  path: string,
  body?: unknown,
  token = adminToken
): Promise<{ readonly status: number; readonly body: T }> => {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: (text.length === 0 ? null : JSON.parse(text)) as T }
}

/** Polls `probe` until it returns a value (fails after `timeoutMs`, with the last value seen). */
export const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** True when nothing listens on 127.0.0.1:`port` any more (a new server can take it). */
export const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = net.createServer()
    probe.once("error", () => resolve(false))
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
  })

export interface IntervalRow {
  readonly queueIdentifier: string
  readonly channel: string
  readonly start: string
  readonly offered: number
  readonly handled: number
  readonly handlingSeconds: number
}

export const iso = (ms: number) => new Date(ms).toISOString()
