/**
 * Link soak: is `acd-link run`'s memory flat over a long run with a busy source?
 *
 * Starts the engine (`acd-bridge serve` as `examples/on-premise` runs it: on-premise
 * integrations left to links; SQLite) and one
 * `acd-link run` process as children, with a `sql` integration over a SQLite "customer
 * database" holding LINK_SOAK_PER_QUARTER contacts per quarter-hour (default 60) over
 * LINK_SOAK_DAYS days (default 14). The first-connect history imports every day; whenever no
 * backfill is running the script asks the engine to re-import the whole range, so the link
 * reads, keeps and uploads windows for the whole run. Every few seconds it samples the link's
 * RSS (VmRSS of /proc/<pid>/status) and the windows and records the link committed (from its
 * log), then prints the series, start/min/max/end, the slope per hour over the second half and
 * a verdict: flat when the growth over the second half (slope × half the run) stays below
 * `--bound-mb` (default 8 MB; the first half holds the warm-up: JIT, SQLite page cache, pools).
 *
 *   node --import tsx bench/link-soak.ts --minutes=10     # a person, for as long as wanted
 *   node --import tsx bench/link-soak.ts --minutes=20 --link-heap-mb=128   # the link's heap capped
 *   pnpm bench link-soak                                  # the runner: 3 minutes (--quick: 30 s)
 *
 * LINK_SOAK_SECONDS sets the run's length for the runner. Linux only (it reads /proc).
 */
import Database from "better-sqlite3"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { atMost, report, rssMbOf, size } from "./_lib.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..")
const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  return hit === undefined ? undefined : hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : "true"
}

const seconds = flag("minutes") === undefined ? size("LINK_SOAK_SECONDS", 180, 30) : Number(flag("minutes")) * 60
const boundMb = Number(flag("bound-mb") ?? 8)
/** --link-heap-mb=<n>: cap the link's V8 old space; a leak then ends in a crash, lazy collection doesn't */
const linkHeapMb = flag("link-heap-mb")
const days = size("LINK_SOAK_DAYS", 14, 3)
const perQuarter = size("LINK_SOAK_PER_QUARTER", 60, 20)
const adminToken = "link-soak-admin-token-0123456789abcdef"
const HOUR = 3_600_000
const QUARTER = 900_000

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** The customer database: `perQuarter` contacts in every quarter-hour of the last `days` days. */
const seedCustomer = (file: string, now: number) => {
  const db = new Database(file)
  db.exec("CREATE TABLE contacts (queue_id TEXT, queue_name TEXT, channel TEXT, ts TEXT, offered INTEGER, handled INTEGER, seconds REAL)")
  const insert = db.prepare("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?)")
  const queues = [["q-sales", "Sales", "calls"], ["q-support", "Support", "calls"], ["q-chat", "Web chat", "chats"]] as const
  const start = Math.floor((now - days * 86_400_000) / QUARTER) * QUARTER
  let rows = 0
  db.transaction(() => {
    for (let t = start; t < now - HOUR; t += QUARTER) {
      for (let i = 0; i < perQuarter; i++) {
        const [id, name, channel] = queues[i % queues.length]!
        insert.run(id, name, channel, new Date(t + Math.floor((i * QUARTER) / perQuarter)).toISOString(), 1, i % 7 === 0 ? 0 : 1, 60 + (i * 37) % 600)
        rows++
      }
    }
  })()
  db.exec("CREATE INDEX contacts_ts ON contacts (ts)")
  db.close()
  return { start, rows }
}

const waitFor = async (what: string, check: () => Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check().catch((e: unknown) => {
      if (e instanceof Error && e.message.includes("exited")) throw e
      return false
    })) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const isRunning = (progress: unknown): boolean =>
  typeof progress === "object" && progress !== null && (progress as { done?: unknown }).done !== true &&
  Number((progress as { windowsDone?: unknown }).windowsDone) < Number((progress as { windowsTotal?: unknown }).windowsTotal)

/** Least-squares slope of y over x. */
const slope = (points: ReadonlyArray<readonly [number, number]>): number => {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-link-soak-"))
  const children: Array<ChildProcess> = []
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  }
  process.once("exit", stopAll)
  try {
    const now = Date.now()
    const customer = path.join(dir, "customer.sqlite")
    const seeded = seedCustomer(customer, now)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const engineLog = fs.openSync(path.join(dir, "engine.log"), "w")
    const engine = spawn(process.execPath, ["--import", "tsx", path.join(root, "examples/on-premise/src/engine.ts"), "serve"], {
      // tsx resolves from the repository
      cwd: root,
      stdio: ["ignore", engineLog, engineLog],
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        ACD_BRIDGE_DATABASE_URL: path.join(dir, "engine.sqlite"),
        ACD_BRIDGE_ADMIN_TOKEN: adminToken,
        ACD_BRIDGE_ON_PREMISE: "link",
        ACD_BRIDGE_POLL_INTERVAL: "1 second",
        ACD_BRIDGE_LOG_LEVEL: "WARN"
      }
    })
    children.push(engine)
    const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${base}${p}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
      return (await res.json()) as T
    }
    await waitFor("the engine", async () => {
      if (engine.exitCode !== null) throw new Error(`the engine exited with ${engine.exitCode}: see ${dir}/engine.log`)
      return (await fetch(`${base}/v1/integrations`, { headers: { authorization: `Bearer ${adminToken}` } })).ok
    }, 120_000)
    const integration = await call<{ id: string }>("POST", "/v1/integrations", {
      name: "Soak customer DB",
      connector: "sql",
      deliveryMode: "on-premise",
      historyDepthDays: days,
      timezone: "UTC",
      config: {}
    })
    const link = await call<{ token: string }>("POST", "/v1/links", { name: "soak" })
    const config = path.join(dir, "link.yaml")
    fs.writeFileSync(config, JSON.stringify({
      engine: { url: base, token: link.token },
      outbox: path.join(dir, "outbox.sqlite"),
      wait: 5,
      integrations: [{
        id: integration.id,
        connector: "sql",
        config: {
          driver: "sqlite",
          connection: { filename: customer },
          contacts: {
            query: "SELECT queue_id AS queue_identifier, queue_name, channel, ts AS timestamp, offered, handled, seconds AS duration FROM contacts WHERE ts >= :from AND ts < :to"
          }
        }
      }]
    }))
    const linkLogFile = path.join(dir, "link.log")
    const linkLog = fs.openSync(linkLogFile, "w")
    const heap = linkHeapMb === undefined ? [] : [`--max-old-space-size=${Number(linkHeapMb)}`]
    const agent = spawn(process.execPath, [...heap, "--import", "tsx", path.join(root, "packages/link/src/bin.ts"), "run", "--config", config], {
      cwd: root,
      stdio: ["ignore", linkLog, linkLog]
    })
    children.push(agent)
    process.stderr.write(
      `link soak: ${seconds} s${linkHeapMb === undefined ? "" : `, link heap capped at ${linkHeapMb} MB`}, ${seeded.rows.toLocaleString("en-US")} contacts over ${days} days (${perQuarter} per quarter-hour), engine ${base}, link pid ${agent.pid}, logs in ${dir}\n`
    )

    const committed = () => {
      const text = fs.readFileSync(linkLogFile, "utf8")
      let windows = 0
      let records = 0
      for (const m of text.matchAll(/result committed(?:\n\s+\S+: \S+)*?\n\s+records: (\d+)|message="result committed".*?records=(\d+)/g)) {
        windows++
        records += Number(m[1] ?? m[2])
      }
      return { windows, records }
    }
    const started = Date.now()
    const sampleEvery = Math.max(2_000, Math.round((seconds * 1000) / 60))
    const samples: Array<{ t: number; rss: number; windows: number; records: number }> = []
    let reimports = 0
    let nextSample = started
    while (Date.now() - started < seconds * 1000) {
      if (agent.exitCode !== null) throw new Error(`the link exited with ${agent.exitCode}: see ${linkLogFile}`)
      const health = await call<Record<string, unknown>>("GET", `/v1/integrations/${integration.id}/health`).catch(() => null)
      if (health !== null && !isRunning(health["history"]) && !isRunning(health["reimport"]) && !isRunning(health["gap"])) {
        // keep the link busy: the whole range again
        await call("POST", `/v1/integrations/${integration.id}/reimport`, {
          from: new Date(seeded.start).toISOString(),
          to: new Date(Math.floor((Date.now() - 2 * HOUR) / HOUR) * HOUR).toISOString()
        }).then(() => reimports++, () => undefined)
      }
      if (Date.now() >= nextSample) {
        const rss = await rssMbOf(agent.pid)
        if (rss !== undefined) samples.push({ t: (Date.now() - started) / 1000, rss, ...committed() })
        nextSample += sampleEvery
      }
      await new Promise((r) => setTimeout(r, 1_000))
    }
    const end = await rssMbOf(agent.pid)
    if (end !== undefined) samples.push({ t: (Date.now() - started) / 1000, rss: end, ...committed() })
    agent.kill("SIGTERM")
    await new Promise((r) => agent.once("exit", r))
    engine.kill("SIGTERM")
    await new Promise((r) => engine.once("exit", r))

    if (samples.length < 4) throw new Error("too few RSS samples (is /proc there?)")
    const rss = samples.map((s) => s.rss)
    const half = samples.filter((s) => s.t >= seconds / 2)
    const perSecond = slope(half.map((s) => [s.t, s.rss] as const))
    const growth = perSecond * (seconds / 2)
    const last = samples[samples.length - 1]!
    process.stderr.write("\n    t (s)   RSS (MB)   windows    records\n")
    for (const s of samples) {
      process.stderr.write(
        `${s.t.toFixed(0).padStart(9)} ${s.rss.toFixed(1).padStart(10)} ${String(s.windows).padStart(9)} ${s.records.toLocaleString("en-US").padStart(10)}\n`
      )
    }
    process.stderr.write(
      `\nlink RSS: start ${rss[0]!.toFixed(1)} MB, min ${Math.min(...rss).toFixed(1)}, max ${Math.max(...rss).toFixed(1)}, end ${last.rss.toFixed(1)}; ` +
        `slope over the second half ${(perSecond * 3600).toFixed(1)} MB/h (growth ${growth.toFixed(1)} MB over ${(seconds / 2).toFixed(0)} s)\n` +
        `work: ${last.windows} windows, ${last.records.toLocaleString("en-US")} records committed, ${reimports} re-imports asked\n` +
        `verdict: ${growth < boundMb ? "flat" : "GROWING"} (growth over the second half ${growth < boundMb ? "<" : "≥"} ${boundMb} MB)\n`
    )
    if (last.windows === 0) throw new Error("the link committed no window: the soak measured an idle link")
    report([
      {
        name: "link soak: link RSS growth over the second half",
        unit: "MB",
        engine: growth,
        baseline: null,
        target: atMost(boundMb, "engine"),
        note: `${seconds} s, ${last.windows} windows, ${last.records} records; slope ${(perSecond * 3600).toFixed(1)} MB/h`
      },
      {
        name: "link soak: link RSS at the end",
        unit: "MB",
        engine: last.rss,
        baseline: null,
        target: null,
        note: `start ${rss[0]!.toFixed(1)} MB, min ${Math.min(...rss).toFixed(1)}, max ${Math.max(...rss).toFixed(1)}`
      }
    ])
    fs.rmSync(dir, { recursive: true, force: true })
  } finally {
    // a failed run keeps its directory (the logs) for a look
    stopAll()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`link soak failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
