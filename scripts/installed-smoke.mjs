/* global process, console, fetch, setTimeout */
// Smoke test of an installed server (deploy/install.sh <dir>) on the node running this script:
//
//   node scripts/installed-smoke.mjs <dir>          (CI: also with Node 22, .ci/node22)
//
// Starts `acd-bridge serve` from <dir>/node_modules, pushes contacts over HTTP and reads them
// back as intervals, backs the store up with `acd-bridge backup` while it runs, stops it with
// SIGTERM (exit code 0), then serves the backup and finds the same intervals. Exits 1 with
// the reason on the first thing that is not as it should be.
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const dir = resolve(process.argv[2] ?? "")
const bin = join(dir, "node_modules/@acd-bridge/server/bin/acd-bridge.js")
const work = mkdtempSync(join(tmpdir(), "acd-installed-"))
const token = "installed-smoke-admin-token-0123"
const children = []

const fail = (message) => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  console.error(`installed-smoke: FAILED: ${message}`)
  process.exit(1)
}

const env = (database) => ({
  ...process.env,
  NO_COLOR: "1",
  PORT: "0",
  HOST: "127.0.0.1",
  ACD_BRIDGE_ADMIN_TOKEN: token,
  ACD_BRIDGE_DATABASE_URL: database
})

const run = (args, database) =>
  new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: env(database), stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (c) => (out += c))
    child.stderr.on("data", (c) => (out += c))
    child.on("exit", (code) => done({ code, out }))
  })

const serve = async (database) => {
  const child = spawn(process.execPath, [bin, "serve"], { env: env(database), stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  let out = ""
  child.stdout.on("data", (c) => (out += c))
  child.stderr.on("data", (c) => (out += c))
  const exited = new Promise((done) => child.on("exit", (code) => done(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
    if (url) return { child, url, exited, output: () => out }
    if (child.exitCode !== null) fail(`the server exited (${child.exitCode}):\n${out}`)
    if (Date.now() > deadline) fail(`the server did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const api = async (server, method, path, body, bearer = token) => {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {})
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null }
}

const stop = async (server) => {
  server.child.kill("SIGTERM")
  const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r("hung"), 20_000))])
  if (code !== 0) fail(`SIGTERM: exit ${code}:\n${server.output()}`)
}

const offered = async (server, id) => {
  const rows = await api(server, "GET", `/v1/intervals?integrationId=${id}&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&length=60`)
  if (rows.status !== 200) fail(`GET /v1/intervals: ${rows.status} ${JSON.stringify(rows.body)}`)
  return rows.body.reduce((n, r) => n + r.offered, 0)
}

const store = join(work, "store.sqlite")
const first = await serve(store)
const health = await fetch(`${first.url}/health`)
if (health.status !== 200) fail(`/health: ${health.status}`)
const created = await api(first, "POST", "/v1/integrations", { name: "Smoke", connector: "api-push" })
if (created.status !== 201) fail(`POST /v1/integrations: ${created.status} ${JSON.stringify(created.body)}`)
const id = created.body.id
const key = await api(first, "POST", `/v1/integrations/${id}/api-key`)
const data = ["2026-03-02T09:02:00Z", "2026-03-02T09:14:00Z", "2026-03-02T10:40:00Z"].map((timestamp) => ({
  properties: { offered: true, handled: true, duration: 120 },
  queueName: "Support",
  queueIdentifier: "support",
  timestamp,
  channel: "calls"
}))
const pushed = await api(first, "POST", "/external-systems/contact-events", { data, meta: { integrationConfigurationId: id } }, key.body.apiKey)
if (pushed.status !== 200) fail(`push: ${pushed.status} ${JSON.stringify(pushed.body)}`)
if ((await offered(first, id)) !== 3) fail("the pushed contacts are not in the intervals")

const backupFile = join(work, "backup.sqlite")
const backup = await run(["backup", backupFile], store)
if (backup.code !== 0) fail(`acd-bridge backup: exit ${backup.code}:\n${backup.out}`)
await stop(first)

const restored = await serve(backupFile)
if ((await offered(restored, id)) !== 3) fail("the backup does not hold the same intervals")
await stop(restored)

rmSync(work, { recursive: true, force: true })
console.log(`installed-smoke: ok on Node ${process.version} (serve, push, intervals, backup, SIGTERM, restore)`)
