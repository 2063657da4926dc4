/**
 * The connectors a host offers. The registry erases each connector's config type behind a
 * decoder, so the engine handles all connectors alike while each one keeps its own types.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Batch, DataKind, DeliveryMode } from "./Domain.js"
import type { CheckReport, Connector, ConnectorError, Window } from "./Connector.js"
import { InvalidConfig, UnknownConnector } from "./Errors.js"

/**
 * A connector bound to one decoded configuration.
 *
 * @since 0.1.0 @category models
 */
export interface Configured {
  readonly pull: Option.Option<(window: Window) => Stream.Stream<Batch, ConnectorError>>
  readonly realtime: Option.Option<() => Stream.Stream<Batch, ConnectorError>>
  readonly check: Effect.Effect<CheckReport>
}

/**
 * A registered connector with its config type erased.
 *
 * @since 0.1.0 @category models
 */
export interface Registered {
  readonly key: string
  readonly displayName: string
  readonly deliveryModes: ReadonlyArray<DeliveryMode>
  readonly dataKinds: ReadonlyArray<DataKind>
  /** Decodes a JSON config; the error names the field and says what is wrong. */
  readonly configure: (config: unknown) => Either.Either<Configured, InvalidConfig>
  /** The config as it may be shown: secrets replaced by "<redacted>". */
  readonly redact: (config: unknown) => unknown
}

/**
 * The registry. The host may replace it; `layer` builds one from connector values.
 *
 * @since 0.1.0 @category tags
 */
export class ConnectorRegistry extends Context.Tag("@acd-bridge/core/ConnectorRegistry")<ConnectorRegistry, {
  readonly get: (key: string) => Effect.Effect<Registered, UnknownConnector>
  readonly list: ReadonlyArray<Registered>
}>() {}

const redactValue = (value: unknown): unknown => {
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (Array.isArray(value)) return value.map(redactValue)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)]))
  }
  return value
}

const firstIssue = (error: ParseResult.ParseError): { field?: string; reason: string } => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (!first) return { reason: error.message }
  return first.path.length > 0
    ? { field: first.path.map(String).join("."), reason: first.message }
    : { reason: first.message }
}

/**
 * Erases a connector's types, providing what its streams need from `context`.
 *
 * @since 0.1.0 @category constructors
 */
export const register = <C, I, R>(connector: Connector<C, I, R>, context: Context.Context<R>): Registered => {
  const decode = Schema.decodeUnknownEither(connector.configSchema)
  const configured = (config: C): Configured => ({
    pull: Option.fromNullable(connector.pull).pipe(
      Option.map((pull) => (window: Window) => pull(config, window).pipe(Stream.provideContext(context)))
    ),
    realtime: Option.fromNullable(connector.realtime).pipe(
      Option.map((realtime) => () => realtime(config).pipe(Stream.provideContext(context)))
    ),
    check: connector.check
      ? connector.check(config).pipe(Effect.provide(context))
      : Effect.succeed({ ok: true, items: [{ name: "config", ok: true, detail: "configuration is valid" }] })
  })
  return {
    key: connector.key,
    displayName: connector.displayName,
    deliveryModes: connector.deliveryModes,
    dataKinds: connector.dataKinds,
    configure: (raw) =>
      decode(raw ?? {}).pipe(
        Either.map(configured),
        Either.mapLeft((error) => new InvalidConfig({ connector: connector.key, ...firstIssue(error) }))
      ),
    redact: (raw) => decode(raw ?? {}).pipe(Either.match({ onLeft: () => ({}), onRight: redactValue }))
  }
}

/**
 * A registry of the given connectors. Connectors that need services (`R`) get them from the
 * layer's context.
 *
 * @since 0.1.0 @category layers
 */
export const layer = <const Cs extends ReadonlyArray<AnyConnector>>(
  ...connectors: Cs
): Layer.Layer<ConnectorRegistry, never, ContextOf<Cs[number]>> =>
  Layer.effect(
    ConnectorRegistry,
    Effect.map(Effect.context<ContextOf<Cs[number]>>(), (context) => {
      // the element types were checked at the call site; `register` only needs them to agree with each other
      const list = connectors.map((c) =>
        register(c as unknown as Connector<unknown, unknown, ContextOf<Cs[number]>>, context)
      )
      const byKey = new Map(list.map((r) => [r.key, r]))
      return {
        list,
        get: (key: string) => {
          const found = byKey.get(key)
          return found
            ? Effect.succeed(found)
            : Effect.fail(new UnknownConnector({ connector: key, known: list.map((r) => r.key) }))
        }
      }
    })
  )

/**
 * Any connector, whatever its config type.
 *
 * @since 0.1.0 @category type-level
 */
export type AnyConnector = Omit<Connector<never, never, unknown>, "configSchema"> & {
  readonly configSchema: Schema.Schema.AnyNoContext
}

/** @since 0.1.0 @category type-level */
export type ContextOf<T> = T extends { readonly pull?: ((...args: never) => Stream.Stream<Batch, ConnectorError, infer R>) | undefined } ? R
  : never
