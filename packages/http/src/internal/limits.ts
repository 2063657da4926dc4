/**
 * The adapter's rate limits, shared by the authentication middleware (requests per principal,
 * failed authentications per client address) and the push handlers (records per integration).
 * Without a host's settings nothing is limited.
 */
import type { Principal } from "@acd-bridge/core"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { IntegrationRateLimit } from "../HttpAdapter.js"
import type * as RateLimiter from "../RateLimiter.js"

export interface Settings {
  readonly requests: RateLimiter.Rate
  readonly records: RateLimiter.Rate
  readonly failedAuth: RateLimiter.Rate
  readonly integration: (integrationId: string) => IntegrationRateLimit | undefined
  /** a TLS-terminating proxy sits in front: the client is the last address it appended to X-Forwarded-For */
  readonly trustProxy: boolean
}

export interface LimitsShape {
  /** The client address failed authentications are counted by. */
  readonly address: (request: HttpServerRequest.HttpServerRequest) => string
  /** 0 when the principal may send this request, else the milliseconds to wait. */
  readonly request: (principal: Principal.Principal, now: number) => Effect.Effect<number>
  /** 0 when `count` records may go into the integration now, else the milliseconds to wait; `Infinity` over its burst. */
  readonly records: (integrationId: string, count: number, now: number) => Effect.Effect<number>
  /** The most records the integration may push at once. */
  readonly recordsBurst: (integrationId: string) => number
  /** 0 when the address may try to authenticate, else the milliseconds to wait. */
  readonly authenticationWait: (address: string, now: number) => Effect.Effect<number>
  /** Counts a failed authentication from the address. */
  readonly authenticationFailed: (address: string, now: number) => Effect.Effect<void>
}

const socketAddress = (request: HttpServerRequest.HttpServerRequest) => Option.getOrElse(request.remoteAddress, () => "unknown")

/** The last hop the proxy appended (earlier entries are whatever the client sent). */
const forwardedAddress = (request: HttpServerRequest.HttpServerRequest) => {
  const forwarded = request.headers["x-forwarded-for"]
  const last = forwarded?.split(",").at(-1)?.trim()
  return last === undefined || last === "" ? socketAddress(request) : last
}

export const unlimited: LimitsShape = {
  address: socketAddress,
  request: () => Effect.succeed(0),
  records: () => Effect.succeed(0),
  recordsBurst: () => Number.POSITIVE_INFINITY,
  authenticationWait: () => Effect.succeed(0),
  authenticationFailed: () => Effect.void
}

/** The limits in effect; `unlimited` unless the adapter provides its own. */
export class Limits extends Context.Reference<Limits>()("@acd-bridge/http/Limits", {
  defaultValue: (): LimitsShape => unlimited
}) {}

const principalKey = (principal: Principal.Principal): string => {
  switch (principal._tag) {
    case "Admin":
      return `admin\u0000${principal.tenantId}`
    case "User":
      return `user\u0000${principal.tenantId}\u0000${principal.userId}`
    case "IntegrationKey":
      return `key\u0000${principal.tenantId}\u0000${principal.integrationId}`
  }
}

/**
 * The limits counted by `limiter`: one key space, each kind of bucket under its own prefix
 * (the limiter may be shared by every node of a cluster).
 */
export const make = (settings: Settings, limiter: RateLimiter.RateLimiterShape): LimitsShape => {
  const requestRate = (principal: Principal.Principal): RateLimiter.Rate => {
    const own = principal._tag === "IntegrationKey" ? settings.integration(principal.integrationId) : undefined
    return own === undefined ? settings.requests : {
      perSecond: own.requestsPerSecond ?? settings.requests.perSecond,
      burst: own.burst ?? settings.requests.burst
    }
  }
  const recordRate = (integrationId: string): RateLimiter.Rate => {
    const own = settings.integration(integrationId)
    return own === undefined ? settings.records : {
      perSecond: own.recordsPerSecond ?? settings.records.perSecond,
      burst: own.recordsBurst ?? settings.records.burst
    }
  }
  return {
    address: settings.trustProxy ? forwardedAddress : socketAddress,
    request: (principal, now) => limiter.take(`requests\u0000${principalKey(principal)}`, requestRate(principal), 1, now),
    records: (integrationId, count, now) =>
      limiter.take(`records\u0000${integrationId}`, recordRate(integrationId), count, now),
    recordsBurst: (integrationId) => recordRate(integrationId).burst,
    authenticationWait: (address, now) => limiter.wait(`auth\u0000${address}`, settings.failedAuth, now),
    authenticationFailed: (address, now) => Effect.asVoid(limiter.take(`auth\u0000${address}`, settings.failedAuth, 1, now))
  }
}
