import { Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { type ChildProcessByStdio, spawn } from "node:child_process"
import * as path from "node:path"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { SqlStorage } from "../src/index.js"
import { integrationId, run as batchRun, segmentsUpTo, STREAM, tenantId, totalsUpTo } from "./fixtures/crashBatches.js"
import { freshPgDatabase, tempSqliteFile } from "./utils.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const childScript = path.join(here, "fixtures", "crash-child.ts")
const repoRoot = path.resolve(here, "..", "..", "..")
const KILLS = 20
/** every EARLY-th kill lands at any moment after the child is told to start (opening, migrations, first batch) */
const EARLY = 4

interface Child {
  readonly proc: ChildProcessByStdio<Writable, Readable, Readable>
  readonly closed: Promise<{ readonly out: string; readonly stderr: string; readonly signal: string | null }>
}

/**
 * Spawns a child that loads its modules and then waits for "go" on stdin: the next child
 * warms up while the current one runs, which keeps the loop fast.
 */
const spawnChild = (engine: "sqlite" | "pg", target: string): Child => {
  const proc = spawn(process.execPath, ["--import", "tsx", childScript, engine, target, "--wait"], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"]
  })
  let out = ""
  let stderr = ""
  proc.stdout.setEncoding("utf8")
  proc.stderr.setEncoding("utf8")
  proc.stdout.on("data", (chunk: string) => (out += chunk))
  proc.stderr.on("data", (chunk: string) => (stderr += chunk))
  proc.stdin.on("error", () => {}) // a killed child closes its end
  const closed = new Promise<{ out: string; stderr: string; signal: string | null }>((resolve, reject) => {
    proc.on("error", reject)
    proc.on("close", (_code, signal) => resolve({ out, stderr, signal }))
  })
  return { proc, closed }
}

interface Run {
  /** batches the child reported committed (its last `committed n`), if any */
  readonly reported: number | undefined
}

/**
 * Lets the child go and SIGKILLs it at a random moment: 0–300 ms after its first committed
 * batch, or (early) 0–1,000 ms after it was told to start.
 */
const runAndKill = async (child: Child, early: boolean): Promise<Run> => {
  const { proc } = child
  const kill = () => proc.kill("SIGKILL")
  let timer: NodeJS.Timeout | undefined
  if (early) {
    timer = setTimeout(kill, Math.floor(Math.random() * 1_000))
  } else {
    const onData = (chunk: string) => {
      if (chunk.includes("committed")) {
        proc.stdout.off("data", onData)
        timer = setTimeout(kill, Math.floor(Math.random() * 300))
      }
    }
    proc.stdout.on("data", onData)
  }
  // a child that never commits fails the test instead of hanging it
  const guard = setTimeout(kill, 60_000)
  proc.stdin.write("go\n")
  const { out, signal, stderr } = await child.closed
  clearTimeout(guard)
  if (timer) clearTimeout(timer)
  if (signal !== "SIGKILL") throw new Error(`child exited by itself: ${stderr}`)
  const committed = Array.from(out.matchAll(/^committed (\d+)$/gm), (m) => Number(m[1]))
  return { reported: committed.length > 0 ? Math.max(...committed) : undefined }
}

const stored = (layer: Layer.Layer<Storage.Storage, unknown>) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const s = yield* Storage.Storage
      const cursor = Option.getOrElse(yield* s.cursors.get(integrationId, STREAM), () => 0)
      const rows = yield* s.data.intervalStats({ tenantId, integrationId, from: 0, to: 8_000_000_000_000 })
      const totals = { offered: 0, handled: 0, handlingMs: 0, unhandledMs: 0 }
      for (const r of rows) {
        totals.offered += r.offered
        totals.handled += r.handled
        totals.handlingMs += r.handlingMs
        totals.unhandledMs += r.unhandledMs
      }
      const segments = yield* s.data.segments({ tenantId, integrationId, from: 0, to: 8_000_000_000_000 })
      const runs = yield* s.runs.list(integrationId, 100_000)
      return { cursor, totals, segments: segments.length, runs: runs.map((r) => r.id).sort() }
    }).pipe(Effect.provide(layer))
  )

const crashLoop = async (
  engine: "sqlite" | "pg",
  target: string,
  open: () => Layer.Layer<Storage.Storage, unknown>
) => {
  let committed = 0
  let midStream = 0
  let inFlight = 0
  let next = spawnChild(engine, target)
  try {
    for (let kill = 1; kill <= KILLS; kill++) {
      const current = next
      next = spawnChild(engine, target)
      const early = kill % EARLY === 0
      const run = await runAndKill(current, early)
      const state = await stored(open())
      const reported = run.reported ?? committed
      if (run.reported !== undefined) midStream++
      if (state.cursor === reported + 1) inFlight++
      const context = `kill ${kill}${early ? " (early)" : ""}: reported ${run.reported}, before ${committed}, ` +
        `stored ${state.cursor}`
      assert.isAtLeast(state.cursor, committed, `the watermark went back; ${context}`)
      // all or nothing: what was reported, plus at most the one batch in flight
      assert.isTrue(state.cursor === reported || state.cursor === reported + 1, context)
      // the watermark matches the data exactly
      assert.deepStrictEqual(state.totals, totalsUpTo(state.cursor), context)
      assert.strictEqual(state.segments, segmentsUpTo(state.cursor), context)
      // and so does the run record: one per committed batch, none for the batch cut short
      assert.deepStrictEqual(state.runs, Array.from({ length: state.cursor }, (_, n) => batchRun(n).id).sort(), context)
      committed = state.cursor
    }
  } finally {
    next.proc.kill("SIGKILL")
    await next.closed
  }
  // every kill that was not early hit a writer that had committed batches and was writing more
  assert.isAtLeast(midStream, KILLS - KILLS / EARLY)
  assert.isAbove(committed, KILLS)
  return { committed, midStream, inFlight }
}

// About 22 s per engine on an idle 2-core machine, most of it child start-up (Node + tsx +
// effect); the generous timeout is for machines busy with other builds.
describe("crash safety (SIGKILL of a real writer process)", () => {
  it("SQLite: every kill leaves whole batches with their watermark and run record", async () => {
    const filename = tempSqliteFile()
    await crashLoop("sqlite", filename, () => SqlStorage.layerSqlite({ filename }))
  }, 300_000)

  it.scoped("PostgreSQL: every kill leaves whole batches with their watermark and run record", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* Effect.promise(() => crashLoop("pg", url, () => SqlStorage.layerPg({ url, maxConnections: 2 })))
    }), 300_000)
})
