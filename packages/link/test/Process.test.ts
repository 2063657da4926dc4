/**
 * Real `acd-link run` processes (the `sql` connector over a SQLite "customer database")
 * against a real engine on 127.0.0.1:
 *
 * - pause on the engine: the link gets no task of the integration while it is paused; resume:
 *   the rest is imported exactly once (interval totals equal the source's ground truth, no
 *   window imported twice);
 * - SIGTERM to a link holding a lease: it hands the lease back and a second link takes the
 *   window over at once, long before the lease would have run out.
 */
import { Domain, Scheduler, Storage } from "@acd-bridge/core"
import { SqlConnector } from "@acd-bridge/sql-source"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { call, startEngine, tenantId, until } from "./support.js"

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
const DAY = 86_400_000
const QUARTER = 900_000

describe("acd-link processes: pause, resume, SIGTERM", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-process-"))
  const children: Array<ChildProcess> = []
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  })

  /** A customer database with two contacts per quarter-hour over the last `days` days; their timestamps. */
  const customerDatabase = async (name: string, days: number) => {
    const file = join(dir, `${name}.sqlite`)
    const now = Date.now()
    const start = now - days * DAY - (now % QUARTER)
    const times: Array<number> = []
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE contacts (queue_id TEXT, queue_name TEXT, channel TEXT, ts TEXT, offered INTEGER, handled INTEGER, seconds REAL)`
      const rows = []
      for (let t = start; t < now - 3_600_000; t += QUARTER) {
        for (const [offset, handled] of [[60_000, 1], [420_000, 0]] as const) {
          times.push(t + offset)
          rows.push({ queue_id: "q1", queue_name: "Level 1", channel: "calls", ts: new Date(t + offset).toISOString(), offered: 1, handled, seconds: 100 })
        }
      }
      for (let i = 0; i < rows.length; i += 200) yield* sql`INSERT INTO contacts ${sql.insert(rows.slice(i, i + 200))}`
    }).pipe(Effect.provide(SqliteClient.layer({ filename: file }))))
    return { file, times }
  }

  /** A link's configuration file; the link's id. */
  const linkConfig = async (port: number, name: string, integrationId: string, database: string, sliceMinutes: number) => {
    const link = await call<{ id: string; token: string }>(port, "POST", "/v1/links", { name })
    const file = join(dir, `${name}.yaml`)
    writeFileSync(file, JSON.stringify({
      engine: { url: `http://127.0.0.1:${port}`, token: link.body.token },
      outbox: join(dir, `${name}-outbox.sqlite`),
      wait: 1,
      partSize: 100,
      integrations: [{
        id: integrationId,
        connector: "sql",
        config: {
          driver: "sqlite",
          connection: { filename: database },
          // a query per slice: the smaller the slice, the longer a window takes to read
          sliceMinutes,
          contacts: {
            query: "SELECT queue_id AS queue_identifier, queue_name, channel, ts AS timestamp, offered, handled, seconds AS duration FROM contacts WHERE ts >= :from AND ts < :to"
          }
        }
      }]
    }))
    return { file, id: link.body.id }
  }

  const runLink = (config: string) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, "run", "--config", config], { stdio: ["ignore", "ignore", "pipe"] })
    let errors = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString()
    })
    children.push(child)
    return { child, errors: () => errors }
  }

  const createIntegration = async (port: number, name: string, historyDepthDays: number) => {
    const created = await call<{ id: string }>(port, "POST", "/v1/integrations", {
      name,
      connector: "sql",
      deliveryMode: "on-premise",
      historyDepthDays,
      timezone: "UTC",
      config: {}
    })
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    return created.body.id
  }

  it("paused: the link gets no task of the integration; resumed: the rest is imported exactly once", async () => {
    const customer = await customerDatabase("customer-pause", 8)
    const { port, runtime } = await startEngine({
      file: join(dir, "engine-pause.sqlite"),
      connectors: [SqlConnector.connector],
      pollInterval: "200 millis"
    })
    const tasksOf = (id: string) =>
      runtime.runPromise(Effect.flatMap(Storage.Storage, (s) => s.linkTasks.ofIntegration(Domain.IntegrationId.make(id), ["pending", "leased", "committed", "failed", "withdrawn"])))
    try {
      const id = await createIntegration(port, "Customer DB", 7)
      const config = await linkConfig(port, "site", id, customer.file, 15)
      const link = runLink(config.file)
      // a few days of history land, then the integration is paused in the middle of it
      assert.isTrue(await until(async () => (await tasksOf(id)).filter((t) => t.state === "committed").length >= 2, 60_000), link.errors())
      assert.strictEqual((await call(port, "POST", `/v1/integrations/${id}/pause`)).status, 200)
      const pausedAt = Date.now()
      // while paused (3 s: 15 of the link's polls), no task of it is leased and nothing is committed
      const committedAtPause = (await tasksOf(id)).filter((t) => t.state === "committed").length
      await new Promise((r) => setTimeout(r, 1_000))
      const settled = await tasksOf(id)
      const committedSettled = settled.filter((t) => t.state === "committed").length
      while (Date.now() < pausedAt + 4_000) {
        const tasks = await tasksOf(id)
        assert.deepStrictEqual(tasks.filter((t) => t.state === "leased" || t.state === "pending").map((t) => t.id), [])
        assert.strictEqual(tasks.filter((t) => t.state === "committed").length, committedSettled)
        await new Promise((r) => setTimeout(r, 200))
      }
      // a commit already on its way when the pause came may have landed; nothing after that
      assert.isAtMost(committedSettled - committedAtPause, 1)
      const history = (await runtime.runPromise(Effect.flatMap(Scheduler.Scheduler, (s) => s.cursor(tenantId, id))))
      assert.notStrictEqual(history["backfill.history.low"], history["backfill.history.from"], "paused in the middle of the history")

      assert.strictEqual((await call(port, "POST", `/v1/integrations/${id}/resume`)).status, 200)
      assert.isTrue(
        await until(async () => {
          const c = await runtime.runPromise(Effect.flatMap(Scheduler.Scheduler, (s) => s.cursor(tenantId, id)))
          return c["backfill.history.low"] === c["backfill.history.from"] && c["backfill.history.high"] === c["backfill.history.cutoff"]
        }, 90_000),
        link.errors()
      )
      const cursors = await runtime.runPromise(Effect.flatMap(Scheduler.Scheduler, (s) => s.cursor(tenantId, id)))
      const from = cursors["backfill.history.from"]!
      const to = cursors.incremental!
      // no window was imported twice: the windows of the runs that applied something never overlap
      const runs = (await call<ReadonlyArray<{ applied: number; windowStart: string | null; windowEnd: string | null }>>(
        port,
        "GET",
        `/v1/integrations/${id}/runs?limit=1000`
      )).body.filter((r) => r.applied > 0 && r.windowStart !== null)
      const windows = runs.map((r) => [Date.parse(r.windowStart!), Date.parse(r.windowEnd!)] as const).sort((a, b) => a[0] - b[0])
      for (let i = 1; i < windows.length; i++) assert.isAtMost(windows[i - 1]![1], windows[i]![0], JSON.stringify(windows))
      const rows = await call<ReadonlyArray<{ offered: number; handled: number }>>(
        port,
        "GET",
        `/v1/intervals?integrationId=${id}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`
      )
      const truth = customer.times.filter((t) => t >= from && t < to)
      assert.isAbove(truth.length, 500)
      assert.strictEqual(rows.body.reduce((n, r) => n + r.offered, 0), truth.length)
      assert.strictEqual(rows.body.reduce((n, r) => n + r.handled, 0), truth.length / 2)
      link.child.kill("SIGTERM")
      await new Promise((r) => link.child.once("exit", r))
    } finally {
      await runtime.dispose()
    }
  }, 180_000)

  it("SIGTERM to a link holding a lease: it hands the lease back and a second link takes the window over at once", async () => {
    // a long history, so the first link is still at work when the second has started, however
    // fast this machine reads (a 5-day history was done before the second link polled in CI)
    const customer = await customerDatabase("customer-term", 41)
    const lease = 60_000
    const { port, runtime } = await startEngine({
      file: join(dir, "engine-term.sqlite"),
      connectors: [SqlConnector.connector],
      lease: `${lease} millis`,
      pollInterval: "200 millis"
    })
    const open = () => runtime.runPromise(Effect.flatMap(Storage.Storage, (s) => s.linkTasks.open(tenantId)))
    try {
      const id = await createIntegration(port, "Customer DB", 40)
      // one query per minute of a day: a window takes a while to read
      const first = await linkConfig(port, "first", id, customer.file, 1)
      const second = await linkConfig(port, "second", id, customer.file, 1)
      const a = runLink(first.file)
      // (a process starting on a busy machine takes a while: the bounds of the start are generous)
      assert.isTrue(await until(async () => (await open()).some((t) => t.state === "leased" && t.leasedBy === first.id), 60_000), a.errors())
      const b = runLink(second.file)
      // the second link is polling (it has said so to the engine) while the first reads
      assert.isTrue(await until(async () => {
        const links = await call<ReadonlyArray<{ id: string; lastSeenAt: string | null }>>(port, "GET", "/v1/links")
        return links.body.some((l) => l.id === second.id && l.lastSeenAt !== null)
      }, 60_000), b.errors())
      // between two windows the first link holds nothing for a moment: wait for it to hold one.
      // It may hold several (the window it reads and up to three uploading); an uploading one
      // may still commit while the link stops, so every held window is followed.
      let held: Awaited<ReturnType<typeof open>> = []
      assert.isTrue(await until(async () => {
        held = (await open()).filter((t) => t.state === "leased" && t.leasedBy === first.id)
        return held.length > 0
      }, 30_000), "the first link still reads its windows")
      const signalled = Date.now()
      a.child.kill("SIGTERM")
      const code = await new Promise<number | null>((r) => a.child.once("exit", (c) => r(c)))
      const exitedMs = Date.now() - signalled
      // handed back: once it has exited, the first link holds nothing (without the hand-back
      // its windows would stay leased to it until the lease's 60 s ran out)
      const stillHeld = (await open()).filter((t) => t.state === "leased" && t.leasedBy === first.id)
      assert.deepStrictEqual(stillHeld.map((t) => t.id), [], "the first link exited still holding windows")
      // taken over: a window the first link held is the second's (leased, or committed on a
      // second attempt) well before the lease would have run out
      const get = (taskId: string) =>
        runtime.runPromise(Effect.flatMap(Storage.Storage, (s) => s.linkTasks.get(taskId))).then(Option.getOrUndefined)
      let takenOver: { readonly before: (typeof held)[number]; readonly after: NonNullable<Awaited<ReturnType<typeof get>>> } | undefined
      assert.isTrue(
        await until(async () => {
          for (const before of held) {
            const after = await get(before.id)
            if (after === undefined) continue
            if (after.leasedBy === second.id && after.attempts === before.attempts + 1) takenOver = { before, after }
          }
          return takenOver !== undefined
        }, lease / 2),
        `no window of the first link taken over within half the lease: ${b.errors()}`
      )
      const takenOverMs = Date.now() - signalled
      assert.isBelow(takenOverMs, lease / 2)
      assert.include(["leased", "committed"], takenOver!.after.state)
      console.info(
        `SIGTERM: the link exited after ${exitedMs} ms (code ${code}), holding ${held.length} window(s); the second link held one after ${takenOverMs} ms (lease ${lease} ms)`
      )
      assert.include([0, 130, 143], code)
      b.child.kill("SIGTERM")
      await new Promise((r) => b.child.once("exit", r))
    } finally {
      await runtime.dispose()
    }
  }, 240_000)
})
