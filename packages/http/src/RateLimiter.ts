/**
 * Where the adapter's rate limits are counted: token buckets by key (requests per principal,
 * records per integration, failed authentications per client address). The default keeps them
 * in this process; a host that runs several engine processes behind one load balancer
 * provides a limiter shared by all of them (`@acd-bridge/server`'s `SharedRateLimiter`, in
 * PostgreSQL), so a principal gets its limit once across the nodes, not once per node.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Buckets from "./internal/rateLimiter.js"

/**
 * A bucket's rate: up to `burst` at once, `perSecond` more every second.
 *
 * @since 0.3.0 @category models
 */
export interface Rate {
  readonly perSecond: number
  readonly burst: number
}

/**
 * @since 0.3.0 @category models
 */
export interface RateLimiterShape {
  /**
   * Takes `cost` tokens from `key`'s bucket: 0 when they were taken, else the milliseconds
   * until they could be (nothing is taken then); `Infinity` when `cost` is over the burst.
   * `now` is the caller's clock; a shared limiter may count by its own (the database's).
   */
  readonly take: (key: string, rate: Rate, cost: number, now: number) => Effect.Effect<number>
  /** The milliseconds until `key`'s bucket holds a token again (0: it holds one now); takes nothing. */
  readonly wait: (key: string, rate: Rate, now: number) => Effect.Effect<number>
}

/**
 * The limiter the adapter counts with; without one it keeps its own buckets in memory
 * (`makeMemory`).
 *
 * @since 0.3.0 @category tags
 */
export class RateLimiter extends Context.Tag("@acd-bridge/http/RateLimiter")<RateLimiter, RateLimiterShape>() {}

/**
 * Buckets in this process's memory: no I/O, limits per process. Idle buckets that are full
 * again are dropped, so made-up keys can't grow the map without bound.
 *
 * @since 0.3.0 @category constructors
 */
export const makeMemory: Effect.Effect<RateLimiterShape> = Effect.sync(() => {
  const buckets = Buckets.make()
  return {
    take: (key, rate, cost, now) => Effect.sync(() => buckets.take(key, now, rate, cost)),
    wait: (key, rate, now) => Effect.sync(() => buckets.wait(key, now, rate))
  }
})

/**
 * `makeMemory` as a layer.
 *
 * @since 0.3.0 @category layers
 */
export const layerMemory: Layer.Layer<RateLimiter> = Layer.effect(RateLimiter, makeMemory)
