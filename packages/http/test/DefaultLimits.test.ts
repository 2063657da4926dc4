/**
 * The default rate limits fit a large site's realtime feed (issue 20): a source that sends
 * every agent status in its own request, 1,000 requests per second on one API key for a
 * minute, is never refused, while its records stay within the integration's record budget.
 */
import { Domain, Principal } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { defaultRateLimit } from "../src/HttpAdapter.js"
import * as Limits from "../src/internal/limits.js"
import * as RateLimiter from "../src/RateLimiter.js"

describe("default rate limits", () => {
  it("a feed of 1,000 single-status requests per second on one key is never refused", () => {
    const limits = Limits.make({
      requests: { perSecond: defaultRateLimit.requestsPerSecond, burst: defaultRateLimit.burst },
      records: { perSecond: defaultRateLimit.recordsPerSecond, burst: defaultRateLimit.recordsBurst },
      failedAuth: { perSecond: defaultRateLimit.failedAuthPerSecond, burst: defaultRateLimit.failedAuthBurst },
      integration: () => undefined,
      trustProxy: false
    }, Effect.runSync(RateLimiter.makeMemory))
    const principal = Principal.IntegrationKey({
      tenantId: Domain.TenantId.make("t"),
      integrationId: Domain.IntegrationId.make("feed")
    })
    const t0 = 1_800_000_000_000
    let refused = 0
    for (let i = 0; i < 60_000; i++) {
      const now = t0 + i // one request per millisecond
      if (Effect.runSync(limits.request(principal, now)) > 0) refused++
      if (Effect.runSync(limits.records("feed", 1, now)) > 0) refused++
    }
    assert.strictEqual(refused, 0)
    // the budget still bounds a client that sends much faster: 20,000 requests in one second
    let over = 0
    for (let i = 0; i < 20_000; i++) if (Effect.runSync(limits.request(principal, t0 + 120_000)) > 0) over++
    assert.isAbove(over, 0)
  })
})
