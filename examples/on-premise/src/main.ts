/**
 * The on-premise example, everything at once (`pnpm start`):
 *
 * 1. the customer database (`seed.ts`: a SQLite file of calls), a simulated Genesys Info
 *    Mart (`infomart.ts`) and a CSV folder with two exported files of cases (`drop.ts`) — the
 *    sources behind the customer's firewall;
 * 2. the engine (`engine.ts`: `acd-bridge serve` with on-premise integrations left to links)
 *    on 127.0.0.1, its store a SQLite file;
 * 3. the three on-premise integrations in the engine (no secrets: `config: {}`), a link
 *    registered for them (`POST /v1/links`, its token shown once) and `data/link.yaml` holding
 *    the connections;
 * 4. `acd-link run --config data/link.yaml`: it imports the history of both sources (a
 *    progress bar on a terminal) and then every new window.
 *
 * A status line every 30 seconds says what has arrived. Ctrl-C (or SIGTERM) stops the link
 * (it hands its lease back) and the engine, then exits with 0.
 *
 * Settings: PORT (default 8080), ACD_BRIDGE_ADMIN_TOKEN (default: generated and printed),
 * ACD_ONPREM_DATA (default ./data), ACD_ONPREM_DAYS (days of history, default 7).
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { writeDrop } from "./drop.js"
import * as InfoMart from "./infomart.js"
import { contactsQuery, seed } from "./seed.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const linkBin = fileURLToPath(new URL("../../../packages/link/src/bin.ts", import.meta.url))
const HOUR = 3_600_000

const dataDir = path.resolve(process.env["ACD_ONPREM_DATA"] ?? "data")
const days = Number(process.env["ACD_ONPREM_DAYS"] ?? 7)
const port = Number(process.env["PORT"] ?? 8080)
const adminTokenGiven = process.env["ACD_BRIDGE_ADMIN_TOKEN"]
const adminToken = adminTokenGiven ?? `acda_${randomBytes(24).toString("base64url")}`
const base = `http://127.0.0.1:${port}`

const say = (line: string) => process.stdout.write(`${line}\n`)

const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${p} answered ${res.status}: ${text}`)
  return (text === "" ? undefined : JSON.parse(text)) as T
}

/** Prefixes a child's output lines, so the engine's and the link's lines can be told apart. */
const prefixed = (child: ChildProcess, prefix: string) => {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue
    readline.createInterface({ input: stream }).on("line", (line) => say(`${prefix} ${line}`))
  }
}

interface IntegrationView {
  readonly id: string
  readonly name: string
  readonly status: string
}

/** The integration named `body.name`, created when it isn't there (a restart finds it again). */
const ensureIntegration = async (body: { name: string; connector: string; historyDepthDays: number; timezone: string }) => {
  const existing = (await call<ReadonlyArray<IntegrationView>>("GET", "/v1/integrations"))
    .find((i) => i.name === body.name && i.status !== "deleted")
  if (existing !== undefined) return existing
  return call<IntegrationView>("POST", "/v1/integrations", {
    ...body,
    deliveryMode: "on-premise",
    schedule: { type: "historical", everyMinutes: 15 },
    // the connection (and any password) lives in the link's configuration, not here
    config: {}
  })
}

const main = async () => {
  fs.mkdirSync(dataDir, { recursive: true })
  const now = Date.now()
  const customer = await Effect.runPromise(seed(path.join(dataDir, "customer.sqlite"), now, days))
  say(`customer database: ${customer.file} (${customer.calls} calls over ${days} days)`)
  const infomartFile = path.join(dataDir, "infomart.sqlite")
  const infomart = Effect.runFork(Effect.scoped(Effect.zipRight(InfoMart.start(infomartFile, now), Effect.never)))
  say(`Genesys Info Mart (simulated): ${infomartFile}, ETL every 10 s`)
  // the file share: an export of two hours of cases, two days back (outside the windows' day)
  const dropFolder = path.join(dataDir, "drop")
  const dropHour = Math.floor(now / HOUR) * HOUR - 50 * HOUR
  const dropped = [writeDrop(dropFolder, dropHour), writeDrop(dropFolder, dropHour + HOUR)]
  say(`CSV folder: ${dropFolder} (${dropped.map((d) => `${path.basename(d.file)}: ${d.cases.length} cases`).join(", ")})`)

  const children: Array<ChildProcess> = []
  let stopping = false
  const stop = async (code: number) => {
    if (stopping) return
    stopping = true
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null) continue
      child.kill("SIGTERM")
      await new Promise((r) => child.once("exit", r))
    }
    await Effect.runPromise(Fiber.interrupt(infomart))
    process.exit(code)
  }
  process.once("SIGINT", () => void stop(0))
  process.once("SIGTERM", () => void stop(0))

  const engine = spawn(process.execPath, ["--import", "tsx", path.join(here, "engine.ts"), "serve"], {
    cwd: path.join(here, ".."),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      ACD_BRIDGE_DATABASE_URL: path.join(dataDir, "engine.sqlite"),
      ACD_BRIDGE_ADMIN_TOKEN: adminToken,
      // on-premise integrations are read by links: the engine offers their windows as tasks
      ACD_BRIDGE_ON_PREMISE: "link",
      ACD_BRIDGE_POLL_INTERVAL: "2 seconds",
      ACD_BRIDGE_LOG_LEVEL: "WARN"
    }
  })
  children.push(engine)
  prefixed(engine, "[engine]")
  engine.once("exit", (code) => {
    if (!stopping) {
      say(`the engine exited (${code})`)
      void stop(1)
    }
  })
  const deadline = Date.now() + 120_000
  for (;;) {
    const up = await fetch(`${base}/v1/integrations`, { headers: { authorization: `Bearer ${adminToken}` } })
      .then((r) => r.ok, () => false)
    if (up) break
    if (Date.now() > deadline) throw new Error(`the engine did not answer on ${base} within 2 minutes`)
    await new Promise((r) => setTimeout(r, 300))
  }

  const sql = await ensureIntegration({ name: "Customer DB (sql)", connector: "sql", historyDepthDays: days, timezone: "UTC" })
  const csv = await ensureIntegration({ name: "Back-office cases (csv folder)", connector: "csv", historyDepthDays: 1, timezone: "UTC" })
  const genesys = await ensureIntegration({
    name: "Genesys Info Mart (simulated)",
    connector: "genesys-engage",
    historyDepthDays: 2,
    timezone: "Europe/Berlin"
  })

  // a link for this site; its token is shown once, so every start registers a new one and
  // revokes the previous
  for (const old of await call<ReadonlyArray<{ id: string; name: string; revokedAt: string | null }>>("GET", "/v1/links")) {
    if (old.name === "example-site" && old.revokedAt === null) await call("DELETE", `/v1/links/${old.id}`)
  }
  const link = await call<{ id: string; token: string }>("POST", "/v1/links", { name: "example-site" })
  const linkConfig = path.join(dataDir, "link.yaml")
  fs.writeFileSync(
    linkConfig,
    [
      "# written by the example's `pnpm start`: the link's configuration, secrets included",
      "engine:",
      `  url: ${base}`,
      `  token: ${link.token}`,
      `outbox: ${path.join(dataDir, "link-outbox.sqlite")}`,
      "wait: 5",
      "integrations:",
      `  - id: ${sql.id}            # Customer DB (sql)`,
      "    connector: sql",
      "    config:",
      "      driver: sqlite",
      `      connection: { filename: ${JSON.stringify(customer.file)} }`,
      "      contacts:",
      `        query: ${JSON.stringify(contactsQuery)}`,
      `  - id: ${genesys.id}            # Genesys Info Mart (simulated)`,
      "    connector: genesys-engage",
      "    config:",
      "      driver: sqlite",
      `      connection: { filename: ${JSON.stringify(infomartFile)} }`,
      `  - id: ${csv.id}            # Back-office cases (csv folder)`,
      "    connector: csv",
      "    config:",
      `      source: { folder: ${JSON.stringify(dropFolder)} }`,
      "      layout: contacts",
      "      channel: cases",
      "      timezone: UTC",
      "      columns: { queueIdentifier: queue, timestamp: time, handled: handled, duration: duration }",
      "watchSeconds: 2",
      ""
    ].join("\n"),
    { mode: 0o600 }
  )
  const agent = spawn(process.execPath, ["--import", "tsx", linkBin, "run", "--config", linkConfig], {
    cwd: path.join(here, ".."),
    // the link's progress bar needs the terminal
    stdio: ["ignore", "inherit", "inherit"]
  })
  children.push(agent)
  agent.once("exit", (code) => {
    if (!stopping) {
      say(`the link exited (${code})`)
      void stop(1)
    }
  })

  const from = new Date(Math.floor((now - (days + 1) * 24 * HOUR) / HOUR) * HOUR).toISOString()
  const to = new Date(Math.ceil((now + HOUR) / HOUR) * HOUR).toISOString()
  const intervals = (id: string) => `/v1/intervals?integrationId=${id}&from=${from}&to=${to}&length=60&timezone=UTC`
  say([
    "",
    `engine: ${base}`,
    adminTokenGiven === undefined ? `admin token (generated): ${adminToken}` : "admin token: from ACD_BRIDGE_ADMIN_TOKEN",
    `integration ${sql.id} "Customer DB (sql)"`,
    `integration ${genesys.id} "Genesys Info Mart (simulated)"`,
    `integration ${csv.id} "Back-office cases (csv folder)"`,
    `link ${link.id} "example-site": ${linkConfig}`,
    "",
    "Try:",
    adminTokenGiven === undefined ? `  export TOKEN='${adminToken}'` : "  export TOKEN=\"$ACD_BRIDGE_ADMIN_TOKEN\"",
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/v1/links'`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/v1/integrations/${sql.id}/health'`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}${intervals(sql.id)}'`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/v1/integrations/${genesys.id}/runs'`,
    `  pnpm acd-link status --config ${linkConfig}`,
    ""
  ].join("\n"))

  const status = async () => {
    const parts: Array<string> = []
    for (const i of [sql, genesys, csv]) {
      const rows = await call<ReadonlyArray<{ offered: number }>>("GET", intervals(i.id))
      parts.push(`${i.name}: ${rows.reduce((n, r) => n + r.offered, 0)} contacts in ${rows.length} hours`)
    }
    say(`arrived: ${parts.join(" | ")}`)
  }
  setInterval(() => void status().catch(() => undefined), 30_000).unref()
}

main().catch((error: unknown) => {
  say(`the example could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.kill(process.pid, "SIGTERM")
})
