/**
 * The connector contract. A connector is a value: what it is (`key`, `displayName`), what
 * it can do (`deliveryModes`, `dataKinds`), how it is configured (`configSchema`, secrets as
 * `Redacted`), and how it reads (`pull` for historical windows, `realtime` for live sources,
 * `check` to test a configuration).
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { Batch, DataKind, DeliveryMode } from "./Domain.js"

/**
 * A historical window: records with a timestamp in [from, to).
 *
 * @since 0.1.0 @category models
 */
export interface Window {
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
}

/**
 * The source rejected the credentials: the engine does not retry hot; it marks the
 * integration failing until its configuration changes.
 *
 * @since 0.1.0 @category errors
 */
export class AuthFailed extends Schema.TaggedError<AuthFailed>()("AuthFailed", {
  reason: Schema.String
}) {
  override get message() {
    return `The source rejected the credentials: ${this.reason}`
  }
}

/** @since 0.1.0 @category errors */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterMs: Schema.Number,
  reason: Schema.optional(Schema.String)
}) {
  override get message() {
    return `The source is rate limiting; retry after ${Math.ceil(this.retryAfterMs / 1000)} s${
      this.reason ? ` (${this.reason})` : ""
    }`
  }
}

/** A failure worth retrying with backoff (network, timeouts, 5xx). @since 0.1.0 @category errors */
export class Transient extends Schema.TaggedError<Transient>()("Transient", {
  reason: Schema.String
}) {
  override get message() {
    return `Temporary failure reading the source: ${this.reason}`
  }
}

/** A source record that can't be read. @since 0.1.0 @category errors */
export class InvalidData extends Schema.TaggedError<InvalidData>()("InvalidData", {
  record: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Invalid source data at ${this.record}: ${this.reason}`
  }
}

/** @since 0.1.0 @category errors */
export type ConnectorError = AuthFailed | RateLimited | Transient | InvalidData

/**
 * One finding of `check`.
 *
 * @since 0.1.0 @category models
 */
export interface CheckItem {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** @since 0.1.0 @category models */
export interface CheckReport {
  readonly ok: boolean
  readonly items: ReadonlyArray<CheckItem>
}

/**
 * A connector. `C` is the decoded config, `I` its encoded (JSON) form, `R` what its
 * streams need from the host (an HTTP client, a file system…), provided when it is registered.
 *
 * @since 0.1.0 @category models
 */
export interface Connector<C, I = unknown, R = never> {
  readonly key: string
  readonly displayName: string
  readonly deliveryModes: ReadonlyArray<DeliveryMode>
  readonly dataKinds: ReadonlyArray<DataKind>
  readonly configSchema: Schema.Schema<C, I>
  readonly pull?: ((config: C, window: Window) => Stream.Stream<Batch, ConnectorError, R>) | undefined
  readonly realtime?: ((config: C) => Stream.Stream<Batch, ConnectorError, R>) | undefined
  readonly check?: ((config: C) => Effect.Effect<CheckReport, never, R>) | undefined
}

/**
 * Identity helper that infers a connector's types.
 *
 * @since 0.1.0 @category constructors
 */
export const make = <C, I, R = never>(connector: Connector<C, I, R>): Connector<C, I, R> => connector
