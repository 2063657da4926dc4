import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, inject, it } from "vitest"

declare module "vitest" {
  export interface ProvidedContext {
    acdBridgeTestPgUrl: string
  }
}

const root = fileURLToPath(new URL("../../../", import.meta.url))
const adminToken = "example-server-test-token-0123456789"
const dir = mkdtempSync(join(tmpdir(), "acd-example-"))
const database = join(dir, "nested", "demo.sqlite")

interface Running {
  readonly child: ChildProcess
  readonly url: string
  readonly integrationId: string
  /** the simulated Vonage integration (with the demo on) */
  readonly vonageId: string | undefined
  readonly apiKey: string
  readonly output: () => string
  readonly exited: Promise<number | null>
}

const start = async (args: ReadonlyArray<string> = [], databaseUrl = database): Promise<Running> => {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/server/src/main.ts", "serve", ...args], {
    cwd: root,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      ACD_BRIDGE_DATABASE_URL: databaseUrl,
      ACD_BRIDGE_ADMIN_TOKEN: adminToken,
      ACD_BRIDGE_DEMO_SPEED: "20"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  let apiKey = ""
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
    const integrationId = /integration (\S+) "Demo ACD"/.exec(output)?.[1]
    apiKey = /API key \(shown once[^)]*\): (acdb_\S+)/.exec(output)?.[1] ?? apiKey
    const vonageId = /integration (\S+) "Vonage \(simulated\)"/.exec(output)?.[1]
    if (url !== undefined && integrationId !== undefined && output.includes("simulated Vonage: off")) {
      return { child, url, integrationId, vonageId: undefined, apiKey, output: () => output, exited }
    }
    if (url !== undefined && integrationId !== undefined && vonageId !== undefined) {
      return { child, url, integrationId, vonageId, apiKey, output: () => output, exited }
    }
    if (child.exitCode !== null) throw new Error(`the server exited early:\n${output}`)
    if (Date.now() > deadline) throw new Error(`the server did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = net.createServer()
    probe.once("error", () => resolve(false))
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
  })

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const get = async <T>(server: Running, path: string): Promise<T> => {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
  assert.strictEqual(response.status, 200, path)
  return (await response.json()) as T
}

const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe("examples/server", () => {
  const started: Array<ChildProcess> = []
  afterAll(() => {
    for (const child of started) if (child.exitCode === null) child.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  })

  it("serves the demo: pushed and pulled intervals and agent statuses show up, SIGTERM stops it", async () => {
    const startedAt = Date.now()
    const server = await start()
    started.push(server.child)
    // the cloud pull: the scheduler imports the simulated Vonage centre's last day within a minute
    const pulled = await waitFor(async () => {
      const found = await get<Array<{ offered: number; queueIdentifier: string }>>(
        server,
        `/v1/intervals?integrationId=${server.vonageId}&from=${new Date(startedAt - 86_400_000).toISOString()}&to=${new Date(startedAt + 3_600_000).toISOString()}&length=60`
      )
      return found.length > 0 ? found : undefined
    }, 60_000)
    assert.isBelow(Date.now() - startedAt, 60_000, "the pulled integration shows within a minute")
    assert.deepStrictEqual([...new Set(pulled.map((r) => r.queueIdentifier))].sort(), ["Billing", "Web Chat"])
    assert.isAbove(pulled.reduce((n, r) => n + r.offered, 0), 0)
    const range = () => {
      const now = Date.now()
      return `from=${new Date(now - 86_400_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`
    }
    const rows = await waitFor(async () => {
      const found = await get<Array<{ offered: number; queueIdentifier: string; channel: string }>>(
        server,
        `/v1/intervals?integrationId=${server.integrationId}&${range()}&length=60&timezone=Europe/Berlin`
      )
      return found.length > 0 ? found : undefined
    }, 60_000)
    assert.isAbove(rows.reduce((n, r) => n + r.offered, 0), 0)
    const queues = await get<Array<{ identifier: string; channel: string }>>(server, `/v1/queues?integrationId=${server.integrationId}`)
    assert.isAtLeast(new Set(queues.map((q) => q.channel)).size, 3, "several channels")
    // agent statuses only come from the live feeder
    const statuses = await waitFor(async () => {
      const found = await get<Array<{ agentIdentifier: string }>>(server, `/v1/agent-statuses?integrationId=${server.integrationId}&${range()}`)
      return found.length > 0 ? found : undefined
    }, 30_000)
    assert.isAbove(statuses.length, 0)
    // the live feeder keeps adding: contacts (few at night) and agent statuses (two agents
    // work the night shift)
    const total = async () =>
      (await get<Array<{ offered: number }>>(server, `/v1/intervals?integrationId=${server.integrationId}&${range()}&length=60`))
        .reduce((n, r) => n + r.offered, 0) +
      (await get<Array<unknown>>(server, `/v1/agent-statuses?integrationId=${server.integrationId}&${range()}`)).length
    const before = await total()
    await waitFor(async () => ((await total()) > before ? true : undefined), 30_000)

    server.child.kill("SIGTERM")
    const code = await Promise.race([server.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))])
    assert.strictEqual(code, 0, server.output())
    assert.include(server.output(), "shutting down")
  }, 180_000)

  it("finds its demo integration again after a restart; --no-demo turns the feeder off; SIGINT stops it", async () => {
    const server = await start(["--no-demo"])
    started.push(server.child)
    assert.include(server.output(), "demo feeder: off")
    // a token the operator set is theirs: the banner names where it came from, never the token
    assert.notInclude(server.output(), adminToken)
    assert.include(server.output(), "ACD_BRIDGE_ADMIN_TOKEN")
    assert.match(server.output(), /integration \S+ "Demo ACD" \(found, active\)/)
    const integrations = await get<Array<{ name: string; status: string }>>(server, "/v1/integrations")
    assert.strictEqual(integrations.filter((i) => i.name === "Demo ACD").length, 1)
    assert.strictEqual(integrations.filter((i) => i.name === "Vonage (simulated)").length, 1)
    assert.strictEqual((await fetch(`${server.url}/health`)).status, 200)
    server.child.kill("SIGINT")
    const code = await Promise.race([server.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))])
    assert.strictEqual(code, 0, server.output())
  }, 120_000)

  it("`pnpm start --no-demo` from the root: SIGTERM to the pnpm process stops the server, frees the port, exit code 0", async () => {
    const child = spawn("pnpm", ["start", "--no-demo"], {
      cwd: root,
      env: { ...process.env, PORT: "0", ACD_BRIDGE_DATABASE_URL: join(dir, "pnpm-start.sqlite"), ACD_BRIDGE_ADMIN_TOKEN: adminToken },
      stdio: ["ignore", "pipe", "pipe"]
    })
    started.push(child)
    let output = ""
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()))
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const port = await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`pnpm start exited early:\n${output}`)
      const found = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
      return found !== undefined && output.includes("demo feeder: off") ? Number(found) : undefined
    }, 60_000)
    // the server is node itself under pnpm (the script execs it), not a grandchild behind a shell
    const server = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(child.pid)], { encoding: "utf8" }).trim()
    assert.match(server, /node .*examples\/server\/src\/main\.ts serve --no-demo/)
    const serverPid = Number(server.split(/\s+/)[0])
    assert.isFalse(await portIsFree(port))
    child.kill("SIGTERM")
    const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))])
    assert.strictEqual(code, 0, output)
    assert.include(output, "shutting down")
    assert.isTrue(await portIsFree(port), "the port is free")
    assert.isFalse(isAlive(serverPid), "no server left running")
  }, 120_000)

  it("switches to PostgreSQL for a postgres:// database URL", async () => {
    // a database of its own on the test run's PostgreSQL server (test files run in parallel)
    const base = process.env["ACD_BRIDGE_TEST_PG_URL"] ?? inject("acdBridgeTestPgUrl")
    const name = `acd_example_${randomUUID().replace(/-/g, "")}`
    execFileSync("psql", [base, "-c", `CREATE DATABASE ${name}`], { stdio: "ignore" })
    const url = new URL(base)
    url.pathname = `/${name}`
    try {
      const server = await start(["--no-demo"], url.toString())
      started.push(server.child)
      assert.include(server.output(), "storage: PostgreSQL")
      const push = await fetch(`${server.url}/external-systems/contact-events`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          data: [{
            properties: { offered: true, handled: true, duration: 200.1 },
            queueName: "Level 1 support",
            queueIdentifier: "1337_99",
            timestamp: "2026-03-29T01:30:00Z",
            channel: "calls"
          }],
          meta: { integrationConfigurationId: server.integrationId }
        })
      })
      assert.strictEqual(push.status, 200)
      const rows = await get<Array<{ start: string; offered: number; handlingSeconds: number }>>(
        server,
        `/v1/intervals?integrationId=${server.integrationId}&from=2026-03-29T00:00:00&to=2026-03-30T00:00:00&timezone=Europe/Berlin`
      )
      assert.deepStrictEqual(rows.map((r) => [r.start, r.offered, r.handlingSeconds]), [["2026-03-29T03:30:00+02:00", 1, 200.1]])
      server.child.kill("SIGTERM")
      assert.strictEqual(await server.exited, 0, server.output())
    } finally {
      execFileSync("psql", [base, "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore" })
    }
  }, 120_000)
})
