/**
 * Where on-premise integrations run (ACD_BRIDGE_ON_PREMISE): a server deployed inside the
 * customer's network (`local`, the default) imports a csv folder itself; a cloud deployment
 * (`link`) leaves it to an on-premise link, and until one serves it the integration's health
 * says it is waiting for a link instead of staying silent.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { api, type IntervalRow, iso, killAll, serve, stop, waitFor } from "./support.js"

const HOUR = 3_600_000
const dir = mkdtempSync(join(tmpdir(), "acd-server-onprem-"))
const thisHour = Math.floor(Date.now() / HOUR) * HOUR

afterAll(() => {
  killAll()
  rmSync(dir, { recursive: true, force: true })
})

interface Health {
  readonly scheduled: boolean
  readonly waitingForLink: boolean
  readonly warnings: ReadonlyArray<string>
  readonly history: { readonly done: boolean } | null
}

const csvIntegration = (folder: string) => ({
  name: "CSV drop folder",
  connector: "csv",
  deliveryMode: "on-premise",
  schedule: { type: "historical", everyMinutes: 15 },
  timezone: "UTC",
  historyDepthDays: 1,
  config: {
    source: { folder },
    layout: "contacts",
    channel: "calls",
    timezone: "UTC",
    columns: { queueIdentifier: "queue", timestamp: "time", handled: "handled", duration: "duration" }
  }
})

describe("ACD_BRIDGE_ON_PREMISE", () => {
  it("link: an on-premise integration is planned but not run here, and its health says it waits for a link; local: it is imported", async () => {
    const folder = join(dir, "drop")
    mkdirSync(folder)
    const times = [thisHour - 5 * HOUR + 60_000, thisHour - 4 * HOUR + 60_000, thisHour - 3 * HOUR + 60_000]
    writeFileSync(join(folder, "calls.csv"), ["queue,time,handled,duration", ...times.map((t) => `support,${iso(t)},1,90`)].join("\n"))
    const database = join(dir, "store.sqlite")

    const cloud = await serve({ ACD_BRIDGE_DATABASE_URL: database, ACD_BRIDGE_ON_PREMISE: "link" })
    const created = await api<{ id: string }>(cloud, "POST", "/v1/integrations", csvIntegration(folder))
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    const id = created.body.id
    // a few of the scheduler's polls (every second here) go by: nothing is imported
    await new Promise((r) => setTimeout(r, 3_000))
    const health = await api<Health>(cloud, "GET", `/v1/integrations/${id}/health`)
    assert.strictEqual(health.status, 200, JSON.stringify(health.body))
    // planned here (windows are offered as link tasks), run nowhere until a link leases them
    assert.isTrue(health.body.scheduled)
    assert.isTrue(health.body.waitingForLink)
    assert.isTrue(
      health.body.warnings.some((w) => /^waiting for a link\b/.test(w)),
      JSON.stringify(health.body.warnings)
    )
    const runs = await api<Array<unknown>>(cloud, "GET", `/v1/integrations/${id}/runs`)
    assert.deepStrictEqual(runs.body, [])
    assert.strictEqual(await stop(cloud), 0, cloud.output())

    // the same store, served inside the customer's network: this server runs it itself
    const local = await serve({ ACD_BRIDGE_DATABASE_URL: database, ACD_BRIDGE_ON_PREMISE: "local" })
    const done = await waitFor(async () => {
      const h = await api<Health>(local, "GET", `/v1/integrations/${id}/health`)
      return h.body.history?.done === true ? h.body : undefined
    }, 60_000, "the csv history to be done")
    assert.isTrue(done.scheduled)
    assert.isFalse(done.waitingForLink)
    assert.isFalse(done.warnings.some((w) => w.startsWith("waiting for a link")), JSON.stringify(done.warnings))
    const rows = await api<Array<IntervalRow>>(
      local,
      "GET",
      `/v1/intervals?integrationId=${id}&from=${iso(thisHour - 24 * HOUR)}&to=${iso(thisHour + HOUR)}&length=60`
    )
    assert.strictEqual(rows.body.reduce((n, r) => n + r.offered, 0), 3, JSON.stringify(rows.body))
    assert.strictEqual(await stop(local), 0, local.output())
  }, 120_000)
})
