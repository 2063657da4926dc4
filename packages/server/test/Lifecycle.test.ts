/**
 * The built server as an operator runs it: start, stop on SIGTERM/SIGINT (exit 0, port and
 * database free again), settings that can't work said in one sentence, JSON logs without
 * secrets, `migrate`, and `backup` of a running server into a file that holds the same data.
 */
import { mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { adminToken, api, type IntervalRow, killAll, portIsFree, run, serve, stop } from "./support.js"

const dir = mkdtempSync(join(tmpdir(), "acd-server-life-"))

afterAll(() => {
  killAll()
  rmSync(dir, { recursive: true, force: true })
})

const pushContacts = async (server: { readonly url: string }, integrationId: string, apiKey: string) => {
  const data = ["2026-03-02T09:02:00Z", "2026-03-02T09:14:00Z", "2026-03-02T09:20:00Z", "2026-03-02T10:40:00Z"].map((t, i) => ({
    properties: { offered: true, handled: i !== 3, duration: 100 + i },
    queueName: "Level 1 support",
    queueIdentifier: "1337_99",
    timestamp: t,
    channel: "calls"
  }))
  const response = await fetch(`${server.url}/external-systems/contact-events`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ data, meta: { integrationConfigurationId: integrationId } })
  })
  assert.strictEqual(response.status, 200, await response.text())
}

describe("acd-bridge serve", () => {
  it("stops on SIGTERM and SIGINT with exit code 0, freeing the port and the database", async () => {
    const database = join(dir, "life", "nested", "store.sqlite")
    const first = await serve({ ACD_BRIDGE_DATABASE_URL: database })
    // the directory of the database is created; the banner names the store
    assert.include(first.output(), `storage: SQLite ${database}`)
    assert.include(first.output(), "connectors: api-push, csv, sql, five9, vonage, genesys-engage")
    assert.strictEqual((await fetch(`${first.url}/health`)).status, 200)
    const created = await api<{ id: string }>(first, "POST", "/v1/integrations", { name: "ACD", connector: "api-push" })
    assert.strictEqual(created.status, 201)
    assert.strictEqual(await stop(first, "SIGTERM"), 0, first.output())
    assert.isTrue(await portIsFree(first.port), "the port is free after SIGTERM")

    // the same port and database again: nothing holds either
    const second = await serve({ ACD_BRIDGE_DATABASE_URL: database, PORT: String(first.port) })
    assert.strictEqual(second.port, first.port)
    const listed = await api<Array<{ id: string }>>(second, "GET", "/v1/integrations")
    assert.deepStrictEqual(listed.body.map((i) => i.id), [created.body.id])
    assert.strictEqual(await stop(second, "SIGINT"), 0, second.output())
    assert.isTrue(await portIsFree(first.port), "the port is free after SIGINT")
  }, 120_000)

  it("says in one line why it can't start, with exit code 1", async () => {
    const mysql = await run(["serve"], { ACD_BRIDGE_DATABASE_URL: "mysql://u:p@db/x", PORT: "0" })
    assert.strictEqual(mysql.code, 1)
    assert.match(mysql.stderr, /ACD_BRIDGE_DATABASE_URL: "mysql:" is not a store the server can use/)

    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const taken = await run(["serve"], { ACD_BRIDGE_DATABASE_URL: join(dir, "taken.sqlite"), PORT: String(port) })
      assert.strictEqual(taken.code, 1)
      assert.include(taken.stderr, `127.0.0.1:${port} is already in use; stop the other process or set PORT`)
    } finally {
      blocker.close()
    }
    // (every other setting that can't work: Serve.test.ts, in this process)

  }, 120_000)

  it("writes JSON log lines with ACD_BRIDGE_LOG_FORMAT=json: an access log at Info, never a credential", async () => {
    const server = await serve({ ACD_BRIDGE_DATABASE_URL: join(dir, "json.sqlite"), ACD_BRIDGE_LOG_FORMAT: "json" })
    const created = await api<{ id: string }>(server, "POST", "/v1/integrations", { name: "ACD", connector: "api-push" })
    const key = await api<{ apiKey: string }>(server, "POST", `/v1/integrations/${created.body.id}/api-key`)
    await pushContacts(server, created.body.id, key.body.apiKey)
    assert.strictEqual(await stop(server), 0, server.output())
    const lines = server.output().split("\n").filter((l) => l.trim().length > 0)
    const records = lines.map((line) => JSON.parse(line) as { message: string; logLevel: string; annotations: Record<string, unknown> })
    const listening = records.find((r) => r.message.startsWith("acd-bridge listening on"))
    assert.isDefined(listening)
    assert.strictEqual(listening!.annotations["tenant"], "default")
    const access = records.filter((r) => r.message === "http request")
    assert.deepStrictEqual(
      access.map((r) => [r.logLevel, r.annotations["method"], r.annotations["path"], r.annotations["status"]]),
      [
        ["INFO", "POST", "/v1/integrations", 201],
        ["INFO", "POST", `/v1/integrations/${created.body.id}/api-key`, 201],
        ["INFO", "POST", "/external-systems/contact-events", 200]
      ]
    )
    for (const r of access) assert.isString(r.annotations["requestId"])
    assert.notInclude(server.output(), adminToken)
    assert.notInclude(server.output(), key.body.apiKey)
  }, 120_000)
})

describe("acd-bridge migrate", () => {
  it("applies the migrations a database lacks and reports the versions", async () => {
    const url = join(dir, "migrate", "store.sqlite")
    const fresh = await run(["migrate"], { ACD_BRIDGE_DATABASE_URL: url })
    assert.strictEqual(fresh.code, 0, fresh.stderr)
    assert.include(fresh.stdout, `database: SQLite ${url}`)
    assert.include(fresh.stdout, "schema version before: none (a new database)")
    assert.match(fresh.stdout, /applied: 1 create_tables, 2 \w+, 3 \w+, 4 integration_version/)
    const version = Number(/schema version now: (\d+)/.exec(fresh.stdout)?.[1])
    assert.isAtLeast(version, 4)
    const again = await run(["migrate"], { ACD_BRIDGE_DATABASE_URL: url })
    assert.strictEqual(again.code, 0, again.stderr)
    assert.include(again.stdout, `schema version before: ${version}`)
    assert.include(again.stdout, "applied: nothing (up to date)")
  }, 60_000)
})

describe("acd-bridge backup", () => {
  it("copies a running server's SQLite store into a file that holds the same data", async () => {
    const database = join(dir, "backup", "store.sqlite")
    const server = await serve({ ACD_BRIDGE_DATABASE_URL: database })
    const created = await api<{ id: string }>(server, "POST", "/v1/integrations", {
      name: "ACD",
      connector: "api-push",
      timezone: "Europe/Berlin"
    })
    const key = await api<{ apiKey: string }>(server, "POST", `/v1/integrations/${created.body.id}/api-key`)
    await pushContacts(server, created.body.id, key.body.apiKey)
    const query = `/v1/intervals?integrationId=${created.body.id}&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&length=15`
    const before = await api<Array<IntervalRow>>(server, "GET", query)
    assert.deepStrictEqual(before.body.map((r) => [r.start, r.offered, r.handled]), [
      ["2026-03-02T10:00:00+01:00", 2, 2],
      ["2026-03-02T10:15:00+01:00", 1, 1],
      ["2026-03-02T11:30:00+01:00", 1, 0]
    ])

    // online: the server keeps running (and writing) while the copy is made
    const target = join(dir, "backup", "copy.sqlite")
    const backup = await run(["backup", target], { ACD_BRIDGE_DATABASE_URL: database })
    assert.strictEqual(backup.code, 0, backup.stderr)
    assert.match(backup.stdout, new RegExp(`backed up .*store\\.sqlite to .*copy\\.sqlite: [\\d,]+ bytes, schema version \\d+, integrity ok`))
    await pushContacts(server, created.body.id, key.body.apiKey) // after the copy: not in it

    // a second backup to the same file is refused, nothing overwritten
    const twice = await run(["backup", target], { ACD_BRIDGE_DATABASE_URL: database })
    assert.strictEqual(twice.code, 1)
    assert.include(twice.stderr, "exists already")
    assert.strictEqual(await stop(server), 0)

    // the copy serves exactly what the store held when it was made
    const restored = await serve({ ACD_BRIDGE_DATABASE_URL: target, ACD_BRIDGE_SCHEDULER: "false" })
    const after = await api<Array<IntervalRow>>(restored, "GET", query)
    assert.deepStrictEqual(after.body, before.body)
    const integrations = await api<Array<{ id: string; name: string }>>(restored, "GET", "/v1/integrations")
    assert.deepStrictEqual(integrations.body.map((i) => [i.id, i.name]), [[created.body.id, "ACD"]])
    // the API key made before the copy still pushes into the restored store
    await pushContacts(restored, created.body.id, key.body.apiKey)
    assert.strictEqual(await stop(restored), 0)
  }, 120_000)
})
