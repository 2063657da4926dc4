/**
 * The HTTP adapter's rate limits shared by every node of a cluster, in PostgreSQL: a principal
 * gets its limit once across the nodes behind the load balancer, not once per node.
 *
 * A token bucket per key is a row of an `UNLOGGED` table (`acd_bridge_rate_buckets`: tokens,
 * when they were counted, when the bucket is full again). A take is one statement, an
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING` that refills the bucket by the database's clock
 * (the nodes' clocks may differ), takes the tokens if they are there and says whether it did;
 * the row lock serializes takes of the same key across nodes, so the total taken never exceeds
 * the bucket. Unlogged: buckets are worth nothing after a crash (they restart full), so their
 * writes skip the write-ahead log. Rows of buckets that are full again are deleted once a minute.
 *
 * Why a row per take and not an allowance leased to each node in chunks: the chunks would let
 * a node hold tokens another node's clients are refused for, or refuse what the limit allows,
 * and their size trades that against the round trips saved. One statement is one round trip
 * (measured in `docs/operations/scaling.md`), small beside the transaction a push is anyway.
 *
 * When the database can't be reached the limiter lets the request through (and logs): the
 * request then fails on the store, or succeeds unlimited, rather than every node refusing all
 * traffic because of its limiter.
 *
 * @since 0.3.0
 */
import { Errors } from "@acd-bridge/core"
import { RateLimiter } from "@acd-bridge/http"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"

/** Creates the bucket table once, whichever node starts first. */
const ensureTable = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtext('acd_bridge_rate_buckets_schema'))`
    yield* sql`CREATE UNLOGGED TABLE IF NOT EXISTS acd_bridge_rate_buckets (
      key TEXT PRIMARY KEY,
      tokens DOUBLE PRECISION NOT NULL,
      counted_ms DOUBLE PRECISION NOT NULL,
      full_ms DOUBLE PRECISION NOT NULL,
      taken BOOLEAN NOT NULL
    )`
  }))
})

/** PostgreSQL text can't hold NUL (the adapter's key separator): an escape that keeps keys apart. */
const textKey = (key: string) => key.replaceAll("\\", "\\\\").replaceAll("\u0000", "\\0")

interface TakeRow {
  readonly tokens: number
  readonly taken: boolean
}

/** The milliseconds until `cost` tokens are there again, at `perSecond`. */
const waitFor = (tokens: number, cost: number, perSecond: number) =>
  perSecond > 0 ? Math.max(1, Math.ceil(((cost - tokens) * 1000) / perSecond)) : Number.POSITIVE_INFINITY

/**
 * The shared limiter on a PostgreSQL `SqlClient`.
 *
 * @since 0.3.0 @category constructors
 */
export const make: Effect.Effect<
  RateLimiter.RateLimiterShape,
  Errors.StorageError,
  SqlClient.SqlClient | Scope.Scope
> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* ensureTable.pipe(Effect.mapError((cause) => Errors.StorageError.fromCause("rate limits: create the table", cause)))
  const nowMs = sql.literal("(extract(epoch from clock_timestamp()) * 1000)")

  const take = (key: string, rate: RateLimiter.Rate, cost: number) =>
    Effect.gen(function*() {
      if (cost > rate.burst) return Number.POSITIVE_INFINITY
      // a zero rate never refills; the row's `full_ms` then says "not before a long while"
      const perMs = rate.perSecond / 1000
      const perMsAtLeast = Math.max(perMs, 1e-9)
      const burst = sql`${rate.burst}::float8`
      // the bucket refilled up to the database's now (`excluded` carries it; `b` is the row as it was)
      const refilled = sql`least(${burst}, b.tokens + greatest(0, excluded.counted_ms - b.counted_ms) * ${perMs}::float8)`
      const enough = sql`${refilled} >= ${cost}::float8`
      const left = sql`${refilled} - CASE WHEN ${enough} THEN ${cost}::float8 ELSE 0 END`
      const [row] = yield* sql<TakeRow>`
        INSERT INTO acd_bridge_rate_buckets AS b (key, tokens, counted_ms, full_ms, taken)
        SELECT ${key}, ${rate.burst - cost}::float8, n.ms, n.ms + ${cost / perMsAtLeast}::float8, TRUE
        FROM (SELECT ${nowMs} AS ms) AS n
        ON CONFLICT (key) DO UPDATE SET
          tokens = ${left},
          counted_ms = greatest(b.counted_ms, excluded.counted_ms),
          full_ms = greatest(b.counted_ms, excluded.counted_ms) + (${burst} - (${left})) / ${perMsAtLeast}::float8,
          taken = ${enough}
        RETURNING tokens, taken`
      return row === undefined || row.taken ? 0 : waitFor(Number(row.tokens), cost, rate.perSecond)
    })

  const wait = (key: string, rate: RateLimiter.Rate) =>
    Effect.gen(function*() {
      const [row] = yield* sql<{ readonly tokens: number }>`
        SELECT least(${rate.burst}::float8, tokens + greatest(0, ${nowMs} - counted_ms) * ${rate.perSecond / 1000}::float8) AS tokens
        FROM acd_bridge_rate_buckets WHERE key = ${key}`
      return row === undefined || Number(row.tokens) >= 1 ? 0 : waitFor(Number(row.tokens), 1, rate.perSecond)
    })

  /** The database failed: let the request through, and say so. */
  const open = (what: string) => (error: unknown) =>
    Effect.as(
      Effect.logWarning(`rate limits: could not ${what}; the request is let through`, error),
      0
    )

  // buckets that are full again are the same as no row: drop them, in bounded batches
  yield* sql`DELETE FROM acd_bridge_rate_buckets WHERE key IN (
      SELECT key FROM acd_bridge_rate_buckets WHERE full_ms < ${nowMs} LIMIT 10000)`.pipe(
    Effect.catchAll((error) => Effect.logWarning("rate limits: could not drop full buckets", error)),
    Effect.repeat(Schedule.spaced(Duration.minutes(1))),
    Effect.interruptible,
    Effect.forkScoped
  )

  return {
    take: (key, rate, cost) => take(textKey(key), rate, cost).pipe(Effect.catchAll(open("take tokens")), Effect.withSpan("SharedRateLimiter.take")),
    wait: (key, rate) => wait(textKey(key), rate).pipe(Effect.catchAll(open("read a bucket")))
  } satisfies RateLimiter.RateLimiterShape
})

/**
 * The shared limiter as the adapter's `RateLimiter`, on its own PostgreSQL connections.
 *
 * @since 0.3.0 @category layers
 */
export const layerPg = (
  url: Redacted.Redacted<string>,
  options: { readonly maxConnections?: number | undefined; readonly nodeId?: string | undefined } = {}
): Layer.Layer<RateLimiter.RateLimiter, Errors.StorageError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@effect/sql-pg/PgClient")),
      (PgClient) =>
        Layer.scoped(RateLimiter.RateLimiter, make).pipe(
          Layer.provide(
            PgClient.layer({
              url,
              maxConnections: options.maxConnections ?? 4,
              applicationName: `acd-bridge rate limits ${options.nodeId ?? ""}`
            }).pipe(Layer.mapError((cause) => Errors.StorageError.fromCause("rate limits: connect", cause)))
          )
        )
    )
  )
