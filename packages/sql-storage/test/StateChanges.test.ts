/**
 * A pause and a failing mark at the same time, for real on both engines: a scheduler marks an
 * integration failing from what it read when its run started while an operator pauses it, in
 * another process (SQLite: two processes on one file; PostgreSQL: two processes, and two
 * connections of one pool). Both changes are atomic (one transaction, compare-and-set on the
 * version), so the pause always survives, and the failing mark is kept exactly when it reports
 * that it was written.
 */
import { ConnectorRegistry, Domain, Lifecycle, Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { SqlStorage } from "../src/index.js"
import { integrationRow } from "./fixtures/integration.js"
import { freshPgDatabase, tempSqliteFile } from "./utils.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const childScript = path.join(here, "fixtures", "race-child.ts")
const repoRoot = path.resolve(here, "..", "..", "..")
const T0 = Date.parse("2026-03-02T09:00:00Z")
const ROUNDS = 40
const tenantId = Domain.TenantId.make("tenant-race")

const engine = (store: Layer.Layer<Storage.Storage, unknown>) =>
  Lifecycle.Lifecycle.Default.pipe(Layer.provideMerge(Layer.mergeAll(store, ConnectorRegistry.layer())))

/** A failing mark made elsewhere: `(id, version read) => whether it was written`. */
type MarkFailing = (id: Domain.IntegrationId, version: number) => Effect.Effect<boolean, unknown>

/** The other process (`fixtures/race-child.ts`), killed when the scope closes. */
const otherProcess = (kind: "sqlite" | "pg", target: string) =>
  Effect.gen(function*() {
    const proc = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--import", "tsx", childScript, kind, target], {
          cwd: repoRoot,
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (p) => Effect.sync(() => p.kill("SIGKILL"))
    )
    let out = ""
    let stderr = ""
    const waiting = new Map<string, (line: string) => void>()
    proc.stdout.setEncoding("utf8")
    proc.stderr.setEncoding("utf8")
    proc.stderr.on("data", (chunk: string) => (stderr += chunk))
    proc.stdout.on("data", (chunk: string) => {
      out += chunk
      let end = out.indexOf("\n")
      while (end >= 0) {
        const line = out.slice(0, end)
        out = out.slice(end + 1)
        const key = line.startsWith("marked ") ? line.split(" ")[1]! : line
        waiting.get(key)?.(line)
        waiting.delete(key)
        end = out.indexOf("\n")
      }
    })
    const answer = (key: string) =>
      Effect.async<string, Error>((resume) => {
        const timer = setTimeout(() => resume(Effect.fail(new Error(`no answer for ${key}: ${stderr}`))), 60_000)
        waiting.set(key, (line) => {
          clearTimeout(timer)
          resume(Effect.succeed(line))
        })
      })
    yield* answer("ready")
    const markFailing: MarkFailing = (id, version) =>
      Effect.suspend(() => {
        const reply = answer(id)
        proc.stdin.write(`${id} ${version}\n`)
        return Effect.map(reply, (line) => line.endsWith(" some"))
      })
    return markFailing
  })

/** The same, on another connection of this process's pool. */
const sameProcess: Effect.Effect<MarkFailing, never, Storage.Storage> = Effect.map(
  Storage.Storage,
  (s) => (id, version) =>
    Effect.map(s.integrations.markFailing(id, "credentials rejected", T0 + 1, { ifVersion: version }), Option.isSome)
)

/** A pause of up to `ms`. */
const jitter = (ms: number) => Effect.sleep(`${Math.random() * ms} millis`)

const race = (markFailing: MarkFailing) =>
  Effect.gen(function*() {
    const s = yield* Storage.Storage
    const lifecycle = yield* Lifecycle.Lifecycle
    let marked = 0
    for (let n = 0; n < ROUNDS; n++) {
      const id = Domain.IntegrationId.make(`race-${n}-${Math.random().toString(36).slice(2)}`)
      yield* s.integrations.insert(integrationRow(T0, { id, tenantId, name: `Race ${n}` }))
      // what the scheduler's run read when it started
      const seen = Option.getOrThrow(yield* s.integrations.get(id))
      // the pause starts 0–6 ms after the mark was asked for, so both orders and overlaps happen
      const pause = Effect.zipRight(jitter(6), lifecycle.pause(tenantId, id))
      const [, written] = yield* Effect.all([pause, markFailing(id, seen.version)], { concurrency: "unbounded" })
      const stored = Option.getOrThrow(yield* s.integrations.get(id))
      assert.strictEqual(stored.status, "paused", `round ${n}: the pause was lost`)
      // the mark is kept exactly when it was written (before the pause, which kept it)
      assert.strictEqual(stored.failing, written ? "credentials rejected" : null, `round ${n}`)
      assert.strictEqual(stored.version, written ? 2 : 1, `round ${n}`)
      if (written) marked++
    }
    yield* Effect.logInfo(`failing marks written before the pause: ${marked} of ${ROUNDS}`)
  })

// live clock: a transaction that meets the other process's lock (SQLITE_BUSY) is re-run after a backoff
describe("a pause and a failing mark at the same time", () => {
  it.scopedLive(`SQLite, two processes on one file: the pause survives, ${ROUNDS} times`, () =>
    Effect.gen(function*() {
      const filename = tempSqliteFile()
      yield* Effect.gen(function*() {
        yield* race(yield* otherProcess("sqlite", filename))
      }).pipe(Effect.provide(engine(SqlStorage.layerSqlite({ filename }))))
    }), { timeout: 180_000 })

  it.scopedLive(`PostgreSQL, two processes: the pause survives, ${ROUNDS} times`, () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* Effect.gen(function*() {
        yield* race(yield* otherProcess("pg", url))
      }).pipe(Effect.provide(engine(SqlStorage.layerPg({ url, maxConnections: 2 }))))
    }), { timeout: 180_000 })

  it.scopedLive(`PostgreSQL, two connections of one pool: the pause survives, ${ROUNDS} times`, () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* Effect.flatMap(sameProcess, race).pipe(
        Effect.provide(engine(SqlStorage.layerPg({ url, maxConnections: 4 })))
      )
    }), { timeout: 180_000 })
})
