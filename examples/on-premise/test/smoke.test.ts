/**
 * The example as a user runs it: `src/main.ts` (seed, Info Mart, engine, link) as a real
 * process on 127.0.0.1; data of each source arrives in the engine through the link — the
 * customer database's calls all of them (compared with the seeded rows), the Info Mart's
 * contacts and agent states, the CSV folder's files (each row once, the files archived) — and
 * SIGTERM stops everything with exit code 0.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "vitest"
import { callsOf } from "../src/seed.js"

const here = fileURLToPath(new URL("..", import.meta.url))
const adminToken = "on-premise-example-token-0123456789"
const HOUR = 3_600_000
const DAYS = 2
const dir = mkdtempSync(join(tmpdir(), "acd-onprem-example-"))
const children: Array<ChildProcess> = []

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
  rmSync(dir, { recursive: true, force: true })
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const waitFor = async <T>(what: string, ms: number, probe: () => Promise<T | undefined>, output: () => string): Promise<T> => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const got = await probe().catch(() => undefined)
    if (got !== undefined) return got
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`timed out waiting for ${what}:\n${output().slice(-4000)}`)
}

describe("examples/on-premise", () => {
  it("pnpm start: the customer database's calls, the Info Mart's contacts and agent states, the CSV folder's files arrive through the link", async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const started = Date.now()
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: here,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PORT: String(port), ACD_BRIDGE_ADMIN_TOKEN: adminToken, ACD_ONPREM_DATA: dir, ACD_ONPREM_DAYS: String(DAYS) }
    })
    children.push(child)
    let output = ""
    child.stdout.on("data", (d) => (output += String(d)))
    child.stderr.on("data", (d) => (output += String(d)))
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
      if (!res.ok) throw new Error(`${path}: ${res.status}`)
      return (await res.json()) as T
    }

    const ids = await waitFor("the integrations", 120_000, async () => {
      const sql = /integration (\S+) "Customer DB \(sql\)"/.exec(output)?.[1]
      const genesys = /integration (\S+) "Genesys Info Mart \(simulated\)"/.exec(output)?.[1]
      const csv = /integration (\S+) "Back-office cases \(csv folder\)"/.exec(output)?.[1]
      return sql !== undefined && genesys !== undefined && csv !== undefined ? { sql, genesys, csv } : undefined
    }, () => output)

    // the customer database: every seeded call of the imported windows, exactly once
    const seeded = Number(/customer database: .* \((\d+) calls over/.exec(output)?.[1])
    // the seed ends at the last full hour when main.ts started (an hour may have turned since)
    const hour = Math.floor(started / HOUR) * HOUR
    const truth = [hour, hour + HOUR].map((to) => callsOf(to - DAYS * 24 * HOUR, to)).find((c) => c.length === seeded)
    assert.isDefined(truth, `seeded ${seeded} calls`)
    const range = `from=${new Date(hour - (DAYS + 1) * 24 * HOUR).toISOString()}&to=${new Date(hour + 3 * HOUR).toISOString()}&length=60&timezone=UTC`
    const sqlRows = await waitFor("the customer database's history", 120_000, async () => {
      const health = await get<{ history: { done: boolean } | null }>(`/v1/integrations/${ids.sql}/health`)
      if (health.history?.done !== true) return undefined
      return get<ReadonlyArray<{ offered: number; handled: number }>>(`/v1/intervals?integrationId=${ids.sql}&${range}`)
    }, () => output)
    const runs = (await get<ReadonlyArray<{ kind: string; error: string | null; windowStart: string | null; windowEnd: string | null }>>(
      `/v1/integrations/${ids.sql}/runs`
    )).filter((r) => r.error === null && r.windowStart !== null && r.windowEnd !== null)
    assert.isTrue(runs.some((r) => r.kind === "history"), JSON.stringify(runs))
    // the windows the engine planned (history days back from its first run) and the link read
    const windowFrom = Math.min(...runs.map((r) => Date.parse(r.windowStart!)))
    const windowTo = Math.max(...runs.map((r) => Date.parse(r.windowEnd!)))
    const expected = truth!.filter((c) => Date.parse(c.started_at) >= windowFrom && Date.parse(c.started_at) < windowTo)
    assert.isAbove(expected.length, 300)
    assert.strictEqual(sqlRows.reduce((n, r) => n + r.offered, 0), expected.length)
    assert.strictEqual(sqlRows.reduce((n, r) => n + r.handled, 0), expected.filter((c) => c.answered === 1).length)

    // the Info Mart: contacts and agent states of the simulated Genesys contact centre
    await waitFor("the Info Mart's contacts and agent states", 120_000, async () => {
      const rows = await get<ReadonlyArray<{ offered: number }>>(`/v1/intervals?integrationId=${ids.genesys}&${range}`)
      const statuses = await get<ReadonlyArray<unknown>>(
        `/v1/agent-statuses?integrationId=${ids.genesys}&from=${new Date(hour - 3 * 24 * HOUR).toISOString()}&to=${new Date(hour + 3 * HOUR).toISOString()}`
      )
      return rows.reduce((n, r) => n + r.offered, 0) > 50 && statuses.length > 10 ? true : undefined
    }, () => output)
    const genesysRuns = await get<ReadonlyArray<{ kind: string; error: string | null }>>(`/v1/integrations/${ids.genesys}/runs`)
    assert.isTrue(genesysRuns.some((r) => r.kind === "history" && r.error === null), JSON.stringify(genesysRuns))

    // the CSV folder: both dropped files committed once and archived; their rows are the totals
    const archive = join(dir, "drop", "archive")
    const archived = await waitFor("the dropped files in archive/", 120_000, async () => {
      const names = existsSync(archive) ? readdirSync(archive).filter((n) => n.endsWith(".csv")) : []
      return names.length === 2 ? names : undefined
    }, () => output)
    const rows = archived.flatMap((n) => readFileSync(join(archive, n), "utf8").trim().split("\n").slice(1))
    assert.isAbove(rows.length, 10)
    const csvRows = await waitFor("the files' rows in the engine", 60_000, async () => {
      const got = await get<ReadonlyArray<{ offered: number; handled: number; channel: string }>>(`/v1/intervals?integrationId=${ids.csv}&${range}`)
      return got.reduce((n, r) => n + r.offered, 0) === rows.length ? got : undefined
    }, () => output)
    assert.strictEqual(csvRows.reduce((n, r) => n + r.handled, 0), rows.filter((r) => r.split(",")[2] === "1").length)
    assert.isTrue(csvRows.every((r) => r.channel === "cases"))
    assert.deepStrictEqual(readdirSync(join(dir, "drop")).filter((n) => n.endsWith(".csv")), [])

    // the link shows itself in the engine with what it serves
    const links = await get<ReadonlyArray<{ name: string; serves: ReadonlyArray<string>; lastSeenAt: string | null }>>("/v1/links")
    const site = links.find((l) => l.name === "example-site")
    assert.deepStrictEqual([...(site?.serves ?? [])].sort(), [ids.sql, ids.genesys, ids.csv].sort())
    // the plain progress lines (the output is not a terminal)
    assert.match(output, /history of Customer DB \(sql\): \d+\/\d+ windows \(100%\), [\d,]+ records, .*done in/)

    child.kill("SIGTERM")
    assert.strictEqual(await exited, 0, output.slice(-3000))
  }, 300_000)
})
