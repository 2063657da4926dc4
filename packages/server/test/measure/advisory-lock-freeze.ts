/**
 * Measures what decided docs/operations/scaling.md's choice of leases over @effect/cluster: on
 * PostgreSQL, @effect/cluster 0.60 holds each shard with a session advisory lock
 * (`pg_try_advisory_lock` on a reserved connection, SqlRunnerStorage). A process frozen with
 * SIGSTOP keeps its TCP connection, so PostgreSQL keeps its session and its locks: how long
 * can another runner not take the shard? This holds a lock in a child process, freezes it,
 * and tries the lock from another session every second for `WAIT_S` (default 40, past the
 * 35 s default `shardLockExpiration`), then SIGKILLs the child and times the release.
 *
 *   ACD_BRIDGE_TEST_PG_URL=postgres://… node --import tsx packages/server/test/measure/advisory-lock-freeze.ts
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"

const url = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!url) throw new Error("set ACD_BRIDGE_TEST_PG_URL")
const waitS = Number(process.env["WAIT_S"] ?? "40")
const KEY = 424242

if (process.argv[2] === "child") {
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const sql = yield* PgClient.make({ url: Redacted.make(url), maxConnections: 1 })
    yield* sql.unsafe(`SELECT pg_advisory_lock(${KEY})`)
    process.stdout.write("locked\n")
    yield* Effect.never
  })).pipe(Effect.provide(Reactivity.layer)))
} else {
  const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "child"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: process.env
  })
  await new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => d.toString().includes("locked") && resolve()))
  child.kill("SIGSTOP")
  const frozenAt = Date.now()
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const sql = yield* PgClient.make({ url: Redacted.make(url), maxConnections: 1 })
    const tryLock = Effect.map(
      sql.unsafe<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`),
      (rows) => rows[0]!.ok
    )
    let taken = false
    while (!taken && Date.now() - frozenAt < waitS * 1_000) {
      taken = yield* tryLock
      if (!taken) yield* Effect.sleep("1 second")
    }
    console.log(
      taken
        ? `lock taken ${Date.now() - frozenAt} ms after SIGSTOP`
        : `lock still held by the frozen process after ${Date.now() - frozenAt} ms`
    )
    if (taken) return
    const killedAt = Date.now()
    child.kill("SIGKILL")
    while (!(yield* tryLock)) yield* Effect.sleep("50 millis")
    console.log(`after SIGKILL the lock was released within ${Date.now() - killedAt} ms`)
  })).pipe(Effect.provide(Reactivity.layer)))
}
