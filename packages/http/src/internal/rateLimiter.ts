/**
 * Token buckets per credential: each key may burst `burst` requests and then gets
 * `requestsPerSecond` more per second. Idle buckets that are full again are dropped, so a
 * flood of made-up keys can't grow the map without bound.
 */

export interface RateLimit {
  readonly requestsPerSecond: number
  readonly burst: number
}

interface Bucket {
  tokens: number
  updated: number
}

export interface RateLimiter {
  /** 0 when the request may pass, else the milliseconds until it would. */
  readonly take: (key: string, now: number) => number
}

const sweepAbove = 10_000

export const make = (limit: RateLimit): RateLimiter => {
  const buckets = new Map<string, Bucket>()
  const perMs = limit.requestsPerSecond / 1000
  const refill = (bucket: Bucket, now: number) => {
    const elapsed = Math.max(0, now - bucket.updated)
    bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsed * perMs)
    bucket.updated = now
  }
  const sweep = (now: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now)
      if (bucket.tokens >= limit.burst) buckets.delete(key)
    }
  }
  return {
    take: (key, now) => {
      let bucket = buckets.get(key)
      if (bucket === undefined) {
        if (buckets.size >= sweepAbove) sweep(now)
        bucket = { tokens: limit.burst, updated: now }
        buckets.set(key, bucket)
      } else {
        refill(bucket, now)
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.ceil((1 - bucket.tokens) / perMs)
    }
  }
}
