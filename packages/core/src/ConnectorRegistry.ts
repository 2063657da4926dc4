/**
 * The connectors a host offers. The registry erases each connector's config type behind a
 * decoder, so the engine handles all connectors alike while each one keeps its own types.
 *
 * Secrets stay secret: configs are decoded into `Redacted` values, `redact` shows them as
 * `"<redacted>"`, and an invalid secret is reported without its value.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import * as Stream from "effect/Stream"
import type { DataKind, DeliveryMode } from "./Domain.js"
import type { Batch } from "./Domain.js"
import type { CheckReport, Connector, ConnectorError, RealtimeBatch, Window } from "./Connector.js"
import { InvalidConfig, UnknownConnector } from "./Errors.js"

/**
 * A connector bound to one decoded configuration.
 *
 * @since 0.1.0 @category models
 */
export interface Configured {
  readonly pull: Option.Option<(window: Window) => Stream.Stream<Batch, ConnectorError>>
  /** Opens the live stream, after `position` when the source can replay. */
  readonly realtime: Option.Option<(position?: number | undefined) => Stream.Stream<RealtimeBatch, ConnectorError>>
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
  /** The connector's settle delay in ms, when it declares one. */
  readonly settleDelayMs?: number | undefined
  /** How many days back the source keeps data, when the connector says. */
  readonly historyLimitDays?: number | undefined
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

const isRedactedAst = (ast: AST.AST, seen: Set<AST.AST>): boolean => {
  if (seen.has(ast)) return false
  seen.add(ast)
  switch (ast._tag) {
    case "Declaration":
      return Option.exists(AST.getTypeConstructorAnnotation(ast), (t) => t._tag === "effect/Redacted")
    case "Transformation":
      return isRedactedAst(ast.to, seen) || isRedactedAst(ast.from, seen)
    case "Refinement":
      return isRedactedAst(ast.from, seen)
    case "Union":
      return ast.types.some((t) => isRedactedAst(t, seen))
    case "Suspend":
      return isRedactedAst(ast.f(), seen)
    default:
      return false
  }
}

/** The schemas a path step can lead to (both sides of transformations, every union member). */
const childrenAt = (ast: AST.AST, key: PropertyKey, depth = 0): ReadonlyArray<AST.AST> => {
  if (depth > 50) return []
  switch (ast._tag) {
    case "TypeLiteral": {
      const property = ast.propertySignatures.find((p) => p.name === key)
      if (property) return [property.type]
      return ast.indexSignatures.map((s) => s.type)
    }
    case "TupleType": {
      const index = typeof key === "number" ? key : Number(key)
      const element = Number.isInteger(index) ? ast.elements[index] : undefined
      return element ? [element.type] : ast.rest.map((r) => r.type)
    }
    case "Transformation":
      return [...childrenAt(ast.from, key, depth + 1), ...childrenAt(ast.to, key, depth + 1)]
    case "Refinement":
      return childrenAt(ast.from, key, depth + 1)
    case "Union":
      return ast.types.flatMap((t) => childrenAt(t, key, depth + 1))
    case "Suspend":
      return childrenAt(ast.f(), key, depth + 1)
    default:
      return []
  }
}

/** Whether the value at `path` is, or sits inside, a `Redacted` field of the schema. */
const isSecretPath = (ast: AST.AST, path: ReadonlyArray<PropertyKey>): boolean => {
  let level: ReadonlyArray<AST.AST> = [ast]
  for (const key of path) {
    if (level.some((a) => isRedactedAst(a, new Set()))) return true
    level = level.flatMap((a) => childrenAt(a, key))
    if (level.length === 0) return false
  }
  return level.some((a) => isRedactedAst(a, new Set()))
}

const firstIssue = (
  ast: AST.AST,
  error: ParseResult.ParseError
): { field?: string; reason: string } => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (!first) return { reason: error.message }
  const reason = isSecretPath(ast, first.path)
    ? "is not a valid secret (the value is not shown)"
    : first.message
  return first.path.length > 0 ? { field: first.path.map(String).join("."), reason } : { reason }
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
      Option.map((realtime) => (position?: number | undefined) =>
        realtime(config, position).pipe(Stream.provideContext(context))
      )
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
    settleDelayMs: connector.settleDelay === undefined
      ? undefined
      : Duration.toMillis(Duration.decode(connector.settleDelay)),
    historyLimitDays: connector.historyLimitDays,
    configure: (raw) =>
      decode(raw ?? {}).pipe(
        Either.map(configured),
        Either.mapLeft((error) =>
          new InvalidConfig({ connector: connector.key, ...firstIssue(connector.configSchema.ast, error) })
        )
      ),
    redact: (raw) => decode(raw ?? {}).pipe(Either.match({ onLeft: () => ({}), onRight: redactValue }))
  }
}

/**
 * A registry of the given connectors. Connectors that need services (`R` of their `pull`,
 * `realtime` or `check`) get them from the layer's context.
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

type PullContext<T> = T extends {
  readonly pull?: ((...args: never) => Stream.Stream<infer _A, infer _E, infer R>) | undefined
} ? R
  : never
type RealtimeContext<T> = T extends {
  readonly realtime?: ((...args: never) => Stream.Stream<infer _A, infer _E, infer R>) | undefined
} ? R
  : never
type CheckContext<T> = T extends {
  readonly check?: ((...args: never) => Effect.Effect<infer _A, infer _E, infer R>) | undefined
} ? R
  : never

/**
 * What a connector needs from the host: the union of the requirements of its `pull`,
 * `realtime` and `check`.
 *
 * @since 0.1.0 @category type-level
 */
export type ContextOf<T> = PullContext<T> | RealtimeContext<T> | CheckContext<T>
