/**
 * Memory of the SQLite store when batches vary in size, as pushes from many clients do.
 *
 * Each distinct number of rows in a multi-row statement is a distinct SQL text, and the SQLite
 * client keeps a compiled statement per text (up to 200, for 10 minutes; a 275-row upsert is
 * about 420 KB of native memory). The store cuts rows into power-of-two runs so a statement kind
 * has at most 8 texts. This bench ingests the same number of quarter-hour rows twice, each in
 * its own process: baseline, every batch the same size; varied, batches of 1 to 500 rows. The
 * ratio of the peak RSS (varied / baseline) should stay near 1.
 *
 *   BENCH_SHAPE_BATCHES=1500 pnpm bench batch-shapes
 */
import { type Domain, Storage } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { benchIntegration, atMost, report, size } from "./_lib.js"

const BATCHES = size("BENCH_SHAPE_BATCHES", 1_500, 40)
const T0 = Date.UTC(2026, 0, 5)
const QUARTER = 900_000

/** rows of batch i: varied 1…500, or the same mean for every batch */
const rowsOf = (i: number, varied: boolean) => (varied ? 1 + ((i * 37) % 500) : 250)

const run = (varied: boolean) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const integration = benchIntegration({ id: "bench", tenantId: "bench", name: "shapes", connector: "api-push", at: T0 })
    yield* storage.integrations.insert(integration)
    let rows = 0
    let peak = 0
    const started = performance.now()
    for (let i = 0; i < BATCHES; i++) {
      const n = rowsOf(i, varied)
      // one contact per quarter-hour row: n rows in the statement
      const contacts = Array.from({ length: n }, (_, k): Domain.ContactEvent => ({
        queueIdentifier: `q${k % 7}`,
        queueName: "Queue",
        channel: "calls",
        timestamp: DateTime.unsafeMake(T0 + (rows + k) * QUARTER),
        offered: true,
        handled: true,
        durationMs: 1_000
      }))
      rows += n
      yield* storage.data.ingest({
        integrationId: integration.id,
        batch: { contacts, aggregates: [], statuses: [] },
        mode: "pull",
        stagingLimit: 0,
        now: T0
      })
      peak = Math.max(peak, process.memoryUsage().rss)
    }
    return { rows, seconds: (performance.now() - started) / 1000, peakMb: Math.round(peak / 1048576) }
  })

const phase = process.argv[2]
if (phase === "varied" || phase === "baseline") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-shapes-"))
  try {
    const result = await Effect.runPromise(
      Effect.provide(run(phase === "varied"), SqlStorage.layerSqlite({ filename: path.join(dir, "db.sqlite"), synchronous: "normal" }))
    )
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
} else {
  const self = fileURLToPath(import.meta.url)
  const sides = (["baseline", "varied"] as const).map((side) => {
    const child = spawnSync(process.execPath, ["--import", "tsx", self, side], { encoding: "utf8", env: process.env })
    const line = child.stdout.split("\n").find((l) => l.startsWith("RESULT "))
    if (child.status !== 0 || line === undefined) throw new Error(`${side} failed: ${child.stderr.slice(-2000)}`)
    const r = JSON.parse(line.slice(7)) as { rows: number; seconds: number; peakMb: number }
    process.stderr.write(
      `${side.padEnd(9)} ${BATCHES} batches, ${r.rows.toLocaleString("en")} rows  ${r.seconds.toFixed(1)} s  peak RSS ${r.peakMb} MB\n`
    )
    return r
  })
  const [base, varied] = sides as [typeof sides[0], typeof sides[0]]
  report([{
    name: "SQLite statement shapes: peak RSS, varied / same-size batches",
    unit: "MB",
    engine: varied.peakMb,
    baseline: base.peakMb,
    target: atMost(1.2),
    note: `${BATCHES} batches of 1–500 rows against the same number of 250-row batches`
  }])
}
