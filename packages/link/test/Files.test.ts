/**
 * A watched csv folder over the link, with a real engine on 127.0.0.1 and the agent in this
 * process: each new file is offered as a file task, its rows uploaded and committed, and the
 * file archived; the same content again changes nothing; a file with a bad row is refused
 * (422 naming its line), parked with the reason and moved to failed/, and later files flow.
 */
import { ConnectorRegistry } from "@acd-bridge/core"
import { CsvConnector } from "@acd-bridge/csv"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Agent from "../src/Agent.js"
import type { LinkConfig } from "../src/LinkConfig.js"
import * as Outbox from "../src/Outbox.js"
import { call, startEngine, until } from "./support.js"

const HOUR = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()

interface Run {
  readonly kind: string
  readonly read: number
  readonly applied: number
  readonly rejected: number
  readonly error: string | null
}

describe("acd-link: watched csv folders", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-files-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("each new file lands once; the same content again changes nothing; a bad row refuses its file, later files flow", async () => {
    const { port, runtime } = await startEngine({ file: join(dir, "engine.sqlite"), connectors: [CsvConnector.connector] })
    const folder = join(dir, "drop")
    mkdirSync(folder)
    // two days back: outside the one day of history the engine's windows read
    const base = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR
    const rowsAt = (hours: ReadonlyArray<number>, duration = "90") =>
      ["queue,time,handled,duration", ...hours.map((h) => `support,${iso(base + h * HOUR + 60_000)},1,${duration}`)].join("\n")
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name: "file share" })
    const integration = await call<{ id: string }>(port, "POST", "/v1/integrations", {
      name: "CSV drop folder",
      connector: "csv",
      deliveryMode: "on-premise",
      timezone: "UTC",
      historyDepthDays: 1,
      config: {}
    })
    assert.strictEqual(integration.status, 201, JSON.stringify(integration.body))
    const id = integration.body.id
    const config: LinkConfig = {
      engine: { url: `http://127.0.0.1:${port}`, token: Redacted.make(link.body.token) },
      outbox: join(dir, "outbox.sqlite"),
      wait: 1,
      watchSeconds: 0.1,
      partSize: 2,
      integrations: [{
        id,
        connector: "csv",
        config: {
          source: { folder },
          layout: "contacts",
          channel: "calls",
          timezone: "UTC",
          columns: { queueIdentifier: "queue", timestamp: "time", handled: "handled", duration: "duration" }
        }
      }]
    }
    const startAgent = () =>
      Effect.runFork(Agent.run(config).pipe(Effect.provide(Layer.mergeAll(
        Outbox.layer(config.outbox),
        ConnectorRegistry.layer(CsvConnector.connector),
        FetchHttpClient.layer,
        Logger.minimumLogLevel(LogLevel.Error)
      ))))
    let agent = startAgent()
    const outbox = ManagedRuntime.make(Outbox.layer(config.outbox))
    const runs = async () =>
      (await call<ReadonlyArray<Run>>(port, "GET", `/v1/integrations/${id}/runs`)).body.filter((r) => r.kind === "pull")
    const offered = async () => {
      const rows = await call<ReadonlyArray<{ offered: number; handlingSeconds: number }>>(
        port,
        "GET",
        `/v1/intervals?integrationId=${id}&from=${iso(base - HOUR)}&to=${iso(base + 24 * HOUR)}&length=60`
      )
      return rows.body.reduce((n, r) => n + r.offered, 0)
    }
    try {
      // a file: its rows go up in parts (5 rows, parts of 2) and land once; it moves to archive/
      writeFileSync(join(folder, "calls-1.csv"), rowsAt([0, 1, 2, 3, 4]))
      assert.isTrue(await until(() => existsSync(join(folder, "archive", "calls-1.csv")), 20_000))
      assert.strictEqual(await offered(), 5)
      const first = await runs()
      assert.strictEqual(first.length, 1, JSON.stringify(first))
      assert.include(first[0]!, { read: 5, applied: 5, rejected: 0, error: null })

      // the same content under another name: not offered again, moved to archive/duplicates/
      copyFileSync(join(folder, "archive", "calls-1.csv"), join(folder, "copy-of-calls.csv"))
      assert.isTrue(await until(() => existsSync(join(folder, "archive", "duplicates", "copy-of-calls.csv")), 20_000))
      assert.strictEqual(await offered(), 5)
      assert.strictEqual((await runs()).length, 1)

      // a bad row on line 3: the engine refuses the file (422 naming the line), nothing of it applied
      writeFileSync(
        join(folder, "bad.csv"),
        ["queue,time,handled,duration", `support,${iso(base + 5 * HOUR)},1,90`, `support,${iso(base + 6 * HOUR)},1,abc`].join("\n")
      )
      assert.isTrue(await until(() => existsSync(join(folder, "failed", "bad.csv")), 20_000))
      const parked = await outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.parked))
      assert.strictEqual(parked.length, 1)
      assert.strictEqual(parked[0]!.integrationId, id)
      assert.include(parked[0]!.reason, "422")
      assert.include(parked[0]!.reason, "bad.csv:3")
      const report = readFileSync(join(folder, "failed", "bad.errors.csv"), "utf8")
      assert.match(report, /^\uFEFFline,column,reason\r\n3,duration,/)
      const refused = (await runs()).filter((r) => r.error !== null)
      assert.strictEqual(refused.length, 1)
      assert.include(refused[0]!, { read: 2, applied: 0, rejected: 1 })
      assert.include(refused[0]!.error!, "bad.csv:3")
      assert.strictEqual(await offered(), 5)

      // a later file still flows
      writeFileSync(join(folder, "calls-2.csv"), rowsAt([7, 8]))
      assert.isTrue(await until(() => existsSync(join(folder, "archive", "calls-2.csv")), 20_000))
      assert.strictEqual(await offered(), 7)
      assert.strictEqual((await runs()).filter((r) => r.applied > 0).length, 2)
      assert.strictEqual(await outbox.runPromise(Effect.flatMap(Outbox.Outbox, (o) => o.depth)), 0)

      // the link lost its ledger and a committed file is back in the folder (its move was cut
      // short): the engine knows the content, so nothing is applied again; the file is archived
      await Effect.runPromise(Fiber.interrupt(agent))
      await Effect.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM files`).pipe(
        Effect.provide(SqliteClient.layer({ filename: config.outbox }))
      ))
      renameSync(join(folder, "archive", "calls-2.csv"), join(folder, "calls-2.csv"))
      agent = startAgent()
      assert.isTrue(await until(() => existsSync(join(folder, "archive", "calls-2.csv")), 20_000))
      assert.isFalse(existsSync(join(folder, "calls-2.csv")))
      assert.strictEqual(await offered(), 7)
      assert.strictEqual((await runs()).filter((r) => r.applied > 0).length, 2)
    } finally {
      await Effect.runPromise(Fiber.interrupt(agent))
      await outbox.dispose()
      await runtime.dispose()
    }
  }, 60_000)
})
