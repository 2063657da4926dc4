/**
 * A real process importing a CSV file into a real SQLite file, killed with SIGKILL again and
 * again (mostly while it is in the middle of the file, sometimes at any moment), then left to
 * finish. After every kill the store holds exactly the rows of the lines its ledger says were
 * applied, and the file is in exactly one place; at the end every row is applied once, the
 * file is archived, and its content is marked done.
 */
import { Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { applied, done, ledgerStream } from "../src/CsvImporter.js"
import { appLayer, content, ensureIntegration, rows, tenant, type Totals, totalsUpToLine } from "./fixtures/crashData.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const childScript = path.join(here, "fixtures", "crash-child.ts")
const KILLS = 10
/** every ANYTIME-th kill lands at any moment after the child is told to go, not only mid-file */
const ANYTIME = 4

interface Child {
  readonly proc: ChildProcessByStdio<Writable, Readable, Readable>
  readonly closed: Promise<{ readonly code: number | null; readonly signal: string | null; readonly out: string; readonly err: string }>
}

/** Loads its modules, then waits for "go" on stdin: the next child warms up while one runs. */
const spawnChild = (db: string, folder: string): Child => {
  const proc = spawn(process.execPath, ["--import", "tsx", childScript, db, folder, "--wait"], {
    stdio: ["pipe", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  proc.stdout.setEncoding("utf8")
  proc.stderr.setEncoding("utf8")
  proc.stdout.on("data", (chunk: string) => (out += chunk))
  proc.stderr.on("data", (chunk: string) => (err += chunk))
  proc.stdin.on("error", () => {}) // a killed child closes its end
  const closed = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve, reject) => {
    proc.on("error", reject)
    proc.on("close", (code, signal) => resolve({ code, signal, out, err }))
  })
  return { proc, closed }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("CSV import crash", () => {
  it.live("SIGKILL at any point of a file: never a row twice or lost, one archived copy, done once finished", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-csv-crash-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const folder = path.join(dir, "in")
      fs.mkdirSync(folder)
      const db = path.join(dir, "engine.sqlite")
      const data = content()
      const sha256 = createHash("sha256").update(data).digest("hex")
      const file = path.join(folder, "contacts.csv")
      const archived = path.join(folder, "archive", "contacts.csv")
      fs.writeFileSync(file, data)
      const full = totalsUpToLine(rows + 1)

      // the test's own connection to the same file (WAL: it reads while a child writes)
      const runtime = ManagedRuntime.make(appLayer(db))
      yield* Effect.addFinalizer(() => Effect.promise(() => runtime.dispose()))
      const integration = yield* Effect.promise(() => runtime.runPromise(ensureIntegration(folder)))
      const state = () =>
        runtime.runPromise(Effect.gen(function*() {
          const storage = yield* Storage.Storage
          const cursor = Option.getOrElse(yield* storage.cursors.get(integration.id, ledgerStream(sha256)), () => 0)
          const stats = yield* storage.data.intervalStats({
            tenantId: tenant,
            integrationId: integration.id,
            from: 0,
            to: 8_000_000_000_000
          })
          const totals: Totals = stats.reduce(
            (t, r) => ({
              offered: t.offered + r.offered,
              handled: t.handled + r.handled,
              handlingMs: t.handlingMs + r.handlingMs,
              unhandledMs: t.unhandledMs + r.unhandledMs
            }),
            { offered: 0, handled: 0, handlingMs: 0, unhandledMs: 0 }
          )
          const runs = yield* storage.runs.list(integration.id, 100)
          return { cursor, totals, runs }
        }))
      const where = () => ({ waiting: fs.existsSync(file), archived: fs.existsSync(archived) })

      let midFile = 0
      let finished = false
      let next = spawnChild(db, folder)
      try {
        for (let kill = 1; kill <= KILLS && !finished; kill++) {
          const current = next
          next = spawnChild(db, folder)
          const anytime = kill % ANYTIME === 0
          current.proc.stdin.write("go\n")
          let killed = false
          const guard = setTimeout(() => current.proc.kill("SIGKILL"), 60_000)
          if (anytime) {
            setTimeout(() => {
              killed = true
              current.proc.kill("SIGKILL")
            }, Math.floor(Math.random() * 1_500))
          } else {
            // kill a little after the ledger shows the file part-applied
            void (async () => {
              while (current.proc.exitCode === null && current.proc.signalCode === null) {
                const { cursor } = await state()
                if (cursor > 0 && cursor < applied) {
                  await sleep(Math.floor(Math.random() * 60))
                  killed = true
                  current.proc.kill("SIGKILL")
                  return
                }
                await sleep(15)
              }
            })()
          }
          const exit = yield* Effect.promise(() => current.closed)
          clearTimeout(guard)
          if (exit.signal !== "SIGKILL") {
            assert.strictEqual(exit.code, 0, exit.err)
            finished = true
            break
          }
          assert.isTrue(killed, "killed by the 60 s guard: the child hung")

          const { cursor, totals } = yield* Effect.promise(state)
          const at = where()
          if (cursor > 0 && cursor < applied) midFile++
          // all or nothing per chunk: the store holds exactly the lines the ledger covers
          assert.deepStrictEqual(totals, cursor >= applied ? full : totalsUpToLine(cursor), `after kill ${kill}, ledger ${cursor}`)
          // the file is in exactly one place, and archived only once all of it was applied
          assert.notStrictEqual(at.waiting, at.archived, `after kill ${kill}: ${JSON.stringify(at)}`)
          if (at.archived) assert.isTrue(cursor >= applied)
          if (cursor === done) assert.isTrue(at.archived)
          assert.isFalse(fs.existsSync(path.join(folder, "archive", "duplicates")))
          assert.isFalse(fs.existsSync(path.join(folder, "failed")))
        }

        if (!finished) {
          // no kill this time: the last child finishes the file
          const last = next
          next = spawnChild(db, folder)
          last.proc.stdin.write("go\n")
          const exit = yield* Effect.promise(() => last.closed)
          assert.strictEqual(exit.code, 0, exit.err)
        }
      } finally {
        next.proc.kill("SIGKILL")
      }

      const end = yield* Effect.promise(state)
      assert.strictEqual(end.cursor, done)
      assert.deepStrictEqual(end.totals, full)
      assert.deepStrictEqual(where(), { waiting: false, archived: true })
      assert.strictEqual(fs.readFileSync(archived, "utf8"), data)
      // one run for the file, written by the process that applied its last rows
      assert.strictEqual(end.runs.filter((r) => r.error === null).length, 1)
      assert.isAtLeast(midFile, 3, "too few kills landed in the middle of the file to prove anything")
    }).pipe(Effect.scoped), 180_000)
})
