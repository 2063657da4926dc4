/**
 * Starts the example as a child process (as `pnpm … start` does), waits until intervals and
 * agent statuses of all three simulated vendors arrive through the HTTP API, and stops it with
 * SIGTERM within a bounded time.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const adminToken = "vendor-simulators-smoke-token-0123456789"

/** This process's environment without a data directory: the example then uses a temp directory. */
const environment = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env["ACD_BRIDGE_DATA_DIR"]
  return env
}

interface Running {
  readonly child: ChildProcess
  readonly url: string
  readonly dataDir: string
  readonly integrations: ReadonlyArray<{ id: string; name: string }>
  readonly output: () => string
  readonly exited: Promise<number | null>
}

const start = async (): Promise<Running> => {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/vendor-simulators/src/main.ts"], {
    cwd: root,
    env: { ...environment(), PORT: "0", ACD_BRIDGE_ADMIN_TOKEN: adminToken },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
    const dataDir = /data: (\S+)/.exec(output)?.[1]
    const integrations = Array.from(output.matchAll(/integration (\S+) "([^"]+)"/g), (m) => ({ id: m[1]!, name: m[2]! }))
    if (url !== undefined && dataDir !== undefined && integrations.length === 3 && output.includes("Ctrl-C")) {
      return { child, url, dataDir, integrations, output: () => output, exited }
    }
    if (child.exitCode !== null) throw new Error(`the example exited early:\n${output}`)
    if (Date.now() > deadline) throw new Error(`the example did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const get = async <T>(running: Running, path: string): Promise<T> => {
  const response = await fetch(`${running.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
  assert.strictEqual(response.status, 200, `${path}: ${await response.clone().text()}`)
  return (await response.json()) as T
}

const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

describe("examples/vendor-simulators", () => {
  const started: Array<ChildProcess> = []
  afterAll(() => {
    for (const child of started) if (child.exitCode === null) child.kill("SIGKILL")
  })

  it("imports from Five9, Vonage and Genesys simulators and stops on SIGTERM", async () => {
    const running = await start()
    started.push(running.child)
    assert.deepStrictEqual(running.integrations.map((i) => i.name), [
      "Five9 (simulated)",
      "Vonage (simulated)",
      "Genesys (simulated)"
    ])
    const now = Date.now()
    const range = `from=${new Date(now - 3 * 86_400_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`
    for (const integration of running.integrations) {
      const rows = await waitFor(async () => {
        const r = await get<ReadonlyArray<{ offered: number; queueName: string }>>(
          running,
          `/v1/intervals?integrationId=${integration.id}&${range}&length=60&timezone=Europe/Berlin`
        )
        return r.length > 0 ? r : undefined
      }, 90_000, `intervals of ${integration.name}`)
      assert.isAbove(rows.reduce((n, r) => n + r.offered, 0), 0, integration.name)
      const statuses = await waitFor(async () => {
        const s = await get<ReadonlyArray<{ agentIdentifier: string }>>(
          running,
          `/v1/agent-statuses?integrationId=${integration.id}&${range}`
        )
        return s.length > 0 ? s : undefined
      }, 30_000, `agent statuses of ${integration.name}`)
      assert.isAbove(statuses.length, 0)
    }
    const queues = await get<ReadonlyArray<{ name: string }>>(running, "/v1/queues")
    const names = new Set(queues.map((q) => q.name))
    for (const q of ["Sales", "Billing", "VQ_Service"]) assert.isTrue(names.has(q), `queue ${q}`)

    running.child.kill("SIGTERM")
    const code = await Promise.race([
      running.exited,
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000))
    ])
    assert.notStrictEqual(code, "timeout", `did not stop within 20 s:\n${running.output()}`)
    assert.include(running.output(), "shutting down")
    assert.match(running.dataDir, /acd-bridge-vendors-/)
    assert.isFalse(fs.existsSync(running.dataDir), "the temporary data directory is removed")
  }, 180_000)
})
