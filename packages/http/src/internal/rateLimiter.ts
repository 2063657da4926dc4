/**
 * Token buckets by key: each key may take up to `burst` at once and gets `perSecond` more per
 * second. A take costs 1 (a request) or more (the records of a push). Idle buckets that are
 * full again are dropped, so a flood of made-up keys can't grow the map without bound.
 */

export interface Rate {
  readonly perSecond: number
  readonly burst: number
}

// the in-memory buckets behind `RateLimiter.makeMemory` (a shared limiter replaces them on a cluster)

interface Bucket {
  tokens: number
  updated: number
  /** the rate the bucket was last used with (a key's rate may be changed by the host) */
  rate: Rate
}

export interface RateLimiter {
  /**
   * Takes `cost` tokens from `key`'s bucket: 0 when they were taken, else the milliseconds
   * until they could be (nothing is taken then); `Infinity` when `cost` is over the burst.
   */
  readonly take: (key: string, now: number, rate: Rate, cost?: number) => number
  /** The milliseconds until `key`'s bucket holds a token again (0: it holds one now); takes nothing. */
  readonly wait: (key: string, now: number, rate: Rate) => number
}

const sweepAbove = 10_000

const refill = (bucket: Bucket, now: number) => {
  const elapsed = Math.max(0, now - bucket.updated)
  bucket.tokens = Math.min(bucket.rate.burst, bucket.tokens + (elapsed * bucket.rate.perSecond) / 1000)
  bucket.updated = now
}

const waitFor = (bucket: Bucket, cost: number) =>
  bucket.rate.perSecond > 0 ? Math.max(1, Math.ceil(((cost - bucket.tokens) * 1000) / bucket.rate.perSecond)) : Infinity

export const make = (): RateLimiter => {
  const buckets = new Map<string, Bucket>()
  const sweep = (now: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now)
      if (bucket.tokens >= bucket.rate.burst) buckets.delete(key)
    }
  }
  const bucketOf = (key: string, now: number, rate: Rate): Bucket => {
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      if (buckets.size >= sweepAbove) sweep(now)
      bucket = { tokens: rate.burst, updated: now, rate }
      buckets.set(key, bucket)
    } else {
      refill(bucket, now)
      bucket.rate = rate
      bucket.tokens = Math.min(bucket.tokens, rate.burst)
    }
    return bucket
  }
  return {
    take: (key, now, rate, cost = 1) => {
      if (cost > rate.burst) return Infinity
      const bucket = bucketOf(key, now, rate)
      if (bucket.tokens >= cost) {
        bucket.tokens -= cost
        return 0
      }
      return waitFor(bucket, cost)
    },
    wait: (key, now, rate) => {
      const bucket = buckets.get(key)
      if (bucket === undefined) return 0
      refill(bucket, now)
      bucket.rate = rate
      return bucket.tokens >= 1 ? 0 : waitFor(bucket, 1)
    }
  }
}
