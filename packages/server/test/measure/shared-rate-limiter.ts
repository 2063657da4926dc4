/**
 * Measures what a request pays for the cluster's shared rate limits (docs/operations/scaling.md):
 * the time of one `SharedRateLimiter` take (one upsert on PostgreSQL) against the in-process
 * buckets, sequentially on one key, on many keys, and with 8 takes in flight on one key from two
 * pools (two nodes contending for the same principal's row).
 *
 *   ACD_BRIDGE_TEST_PG_URL=postgres://… node --import tsx packages/server/test/measure/shared-rate-limiter.ts
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import { RateLimiter } from "@acd-bridge/http"
import * as SharedRateLimiter from "../../src/SharedRateLimiter.js"

const url = process.env["ACD_BRIDGE_TEST_PG_URL"]
if (!url) throw new Error("set ACD_BRIDGE_TEST_PG_URL")
const N = Number(process.env["N"] ?? "5000")
const rate = { perSecond: 1e9, burst: 1e9 }

const pool = (name: string) =>
  PgClient.layer({ url: Redacted.make(url), maxConnections: 4, applicationName: name }).pipe(Layer.provide(Reactivity.layer))

const time = async (label: string, n: number, run: (i: number) => Promise<unknown>, parallel = 1) => {
  const samples: Array<number> = []
  const started = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      const i = next++
      const t = performance.now()
      await run(i)
      samples.push(performance.now() - t)
    }
  }))
  const total = performance.now() - started
  samples.sort((a, b) => a - b)
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(3)
  console.log(`${label}: ${n} takes, ${(total / n).toFixed(3)} ms per take over all (${Math.round(n / (total / 1000))}/s), latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`)
}

const program = Effect.gen(function*() {
  const memory = yield* RateLimiter.makeMemory
  // the pools live as long as the program (a pool provided to `make` alone would close after it)
  const shared = yield* SharedRateLimiter.make.pipe(Effect.provide(yield* Layer.build(pool("measure a"))))
  const other = yield* SharedRateLimiter.make.pipe(Effect.provide(yield* Layer.build(pool("measure b"))))
  let failed = 0
  const logged = Logger.make(() => {
    failed++
  })
  // a failed take is let through with a warning: counted here, so a figure with failures shows it
  const run = <A>(e: Effect.Effect<A>) => Effect.runPromise(e.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logged))))
  // warm up the connections and the statement
  for (let i = 0; i < 200; i++) yield* shared.take("warm", rate, 1, 0)
  yield* Effect.promise(async () => {
    await time("in-process, one key", N, () => run(memory.take("k", rate, 1, Date.now())))
    await time("PostgreSQL, one key, one at a time", N, () => run(shared.take("principal-1", rate, 1, 0)))
    await time("PostgreSQL, a new key each time", N, (i) => run(shared.take(`principal-${i}`, rate, 1, 0)))
    await time(
      "PostgreSQL, one key, 8 in flight from two nodes",
      N,
      (i) => run((i % 2 === 0 ? shared : other).take("principal-hot", rate, 1, 0)),
      8
    )
    console.log(`takes that failed (and were let through): ${failed}`)
  })
})

await Effect.runPromise(Effect.scoped(program))
