/**
 * The connector contract. A connector is a value: what it is (`key`, `displayName`), what
 * it can do (`deliveryModes`, `dataKinds`), how it is configured (`configSchema`, secrets as
 * `Redacted`), and how it reads (`pull` for historical windows, `realtime` for live sources,
 * `check` to test a configuration).
 *
 * ## Windows
 *
 * `pull(config, window)` returns what the source holds for the half-open window
 * `[from, to)`, and nothing else:
 *
 * - contact events whose `timestamp` is in `[from, to)` (say in the connector's docs which
 *   instant a contact counts at: arrival by default, completion for sources that only report
 *   finished contacts);
 * - interval aggregates whose `start` is in `[from, to)`;
 * - agent statuses that overlap the window (`start < to` and `end` null or `> from`), whole:
 *   the scheduler cuts the stored segments at the window's edges before applying the window,
 *   so a status that runs across an edge must come back with both windows.
 *
 * The scheduler replaces the integration's data in the window with what the stream returned,
 * in one unit of work, so the stream must be complete and deterministic for a window: two
 * pulls of the same window return the same records (unless the source corrected them), and a
 * contact at the instant `to` belongs to the next window only. Windows are aligned to the
 * integration's interval boundaries, so an aggregate never straddles two windows.
 *
 * ## Realtime and positions
 *
 * `realtime(config, position)` holds a live stream open. Each element is a batch that may
 * carry a `position`: a number the source understands (an event sequence number, the epoch
 * milliseconds of the last event, an offset). The scheduler commits the position of the
 * last element it applied in the same unit of work as the element's data (cursor stream
 * `"realtime"`), and when it reconnects (after an error, a pause, a restart) it passes that
 * position back, so a source that can replay resumes where the engine stopped, without a gap
 * and without applying anything twice. A source that can't replay ignores `position` and
 * starts from "now". Positions are numbers because they are committed atomically with the data
 * through the storage port's watermark, which keeps numbers.
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
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
 * One element of a realtime stream: a batch, and optionally the source position just after
 * it (see the module docs). A plain `Batch` is a valid element.
 *
 * @since 0.1.0 @category models
 */
export interface RealtimeBatch extends Batch {
  readonly position?: number | undefined
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

/**
 * The source asks the engine to slow down: the scheduler waits `retryAfterMs` and tries the
 * same window again.
 *
 * @since 0.1.0 @category errors
 */
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

/**
 * A failure worth retrying with backoff (network, timeouts, 5xx).
 *
 * @since 0.1.0 @category errors
 */
export class Transient extends Schema.TaggedError<Transient>()("Transient", {
  reason: Schema.String
}) {
  override get message() {
    return `Temporary failure reading the source: ${this.reason}`
  }
}

/**
 * A source record that can't be read. The window is not applied; the scheduler tries it
 * again at the next run and the integration's health shows the error.
 *
 * @since 0.1.0 @category errors
 */
export class InvalidData extends Schema.TaggedError<InvalidData>()("InvalidData", {
  record: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Invalid source data at ${this.record}: ${this.reason}`
  }
}

/**
 * Every error a connector's streams may fail with.
 *
 * @since 0.1.0 @category errors
 */
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

/**
 * What `check` found: `ok` when every item is.
 *
 * @since 0.1.0 @category models
 */
export interface CheckReport {
  readonly ok: boolean
  readonly items: ReadonlyArray<CheckItem>
}

/**
 * A connector. `C` is the decoded config, `I` its encoded (JSON) form, `R` what its
 * streams and `check` need from the host (an HTTP client, a file system, a simulator in
 * tests), provided when it is registered (`ConnectorRegistry.layer`).
 *
 * @since 0.1.0 @category models
 */
export interface Connector<C, I = unknown, R = never> {
  readonly key: string
  readonly displayName: string
  readonly deliveryModes: ReadonlyArray<DeliveryMode>
  readonly dataKinds: ReadonlyArray<DataKind>
  readonly configSchema: Schema.Schema<C, I>
  /** Reads one historical window `[from, to)`; see the module docs for what belongs to it. */
  readonly pull?: ((config: C, window: Window) => Stream.Stream<Batch, ConnectorError, R>) | undefined
  /**
   * Holds a live stream open, starting after `position` when given and the source can
   * replay (see the module docs).
   */
  readonly realtime?:
    | ((config: C, position?: number | undefined) => Stream.Stream<RealtimeBatch, ConnectorError, R>)
    | undefined
  /** Tests the connection and the credentials, and says what is wrong. Never fails. */
  readonly check?: ((config: C) => Effect.Effect<CheckReport, never, R>) | undefined
  /**
   * How long after an interval closes the source's figures for it are complete (default: the
   * scheduler's `settleDelay`, 5 minutes). Windows never reach past now minus this.
   */
  readonly settleDelay?: Duration.DurationInput | undefined
  /** How many days back the source keeps data; caps an integration's history depth. */
  readonly historyLimitDays?: number | undefined
}

/**
 * A connector as written, with what each capability needs from the host inferred on its own.
 *
 * @since 0.1.0 @category models
 */
export interface Parts<C, I, RP, RR, RC> extends Omit<Connector<C, I>, "pull" | "realtime" | "check"> {
  readonly pull?: ((config: C, window: Window) => Stream.Stream<Batch, ConnectorError, RP>) | undefined
  readonly realtime?:
    | ((config: C, position?: number | undefined) => Stream.Stream<RealtimeBatch, ConnectorError, RR>)
    | undefined
  readonly check?: ((config: C) => Effect.Effect<CheckReport, never, RC>) | undefined
}

/**
 * Identity helper that infers a connector's types. `pull`, `realtime` and `check` may each need
 * other services; the connector needs all of them (`R` is their union).
 *
 * @since 0.1.0 @category constructors
 */
export const make = <C, I, RP = never, RR = never, RC = never>(
  connector: Parts<C, I, RP, RR, RC>
): Connector<C, I, RP | RR | RC> => connector

/**
 * Says what a configuration setting means, and its default if it has one, for the config's
 * JSON Schema (`GET /v1/connectors`, the admin console's help text, generated docs). It is
 * written into the `jsonSchema` annotation, merged with the keywords a filter put there
 * (`minimum`…), not as a `description` annotation: effect words a failed filter's "Expected …"
 * message with a description, and errors should keep saying what is allowed.
 *
 * @example
 * ```ts
 * import { Connector } from "@acd-bridge/core"
 * import * as Schema from "effect/Schema"
 *
 * const region = Schema.String.pipe(Connector.describeSetting("The data centre's region."))
 * ```
 *
 * @since 0.3.0 @category config
 */
export const describeSetting = (description: string, defaultValue?: unknown) =>
<A, I>(schema: Schema.Schema<A, I>): Schema.Schema<A, I> =>
  schema.annotations({
    jsonSchema: {
      ...Option.getOrElse(AST.getJSONSchemaAnnotation(schema.ast), () => ({})),
      description,
      ...(defaultValue === undefined ? {} : { default: defaultValue })
    }
  })

/**
 * An optional setting with its default: missing, it decodes to `value`, and the config's JSON
 * Schema shows the default beside the description.
 *
 * @example
 * ```ts
 * import { Connector } from "@acd-bridge/core"
 * import * as Schema from "effect/Schema"
 *
 * const Config = Schema.Struct({
 *   pageSize: Connector.settingWithDefault(Schema.Int.pipe(Schema.between(1, 500)), 100, "Rows per page.")
 * })
 * ```
 *
 * @since 0.3.0 @category config
 */
export const settingWithDefault = <A, I>(schema: Schema.Schema<A, I>, value: NoInfer<A>, description: string) =>
  Schema.optionalWith(schema.pipe(describeSetting(description, value)), { default: () => value })
