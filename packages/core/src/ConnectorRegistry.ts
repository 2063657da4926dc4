/**
 * The connectors a host offers. The registry erases each connector's config type behind a
 * decoder, so the engine handles all connectors alike while each one keeps its own types.
 *
 * Configs are decoded strictly: a key the connector's schema doesn't know is refused at any
 * level, naming its path and the closest known key (`contact` → did you mean `contacts`?), so a
 * typo never decodes into a config that quietly uses a default. A value outside a set of
 * literals or an enum is reported with the allowed values.
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
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { DataKind, DeliveryMode } from "./Domain.js"
import type { Batch } from "./Domain.js"
import type { CheckReport, Connector, ConnectorError, RealtimeBatch, Window } from "./Connector.js"
import { InvalidConfig, UnknownConnector } from "./Errors.js"
import * as Issues from "./internal/configIssues.js"
import * as ConfigJsonSchema from "./internal/configJsonSchema.js"

/**
 * A JSON Schema document (draft 2020-12).
 *
 * @since 0.2.0 @category models
 */
export type JsonSchema = ConfigJsonSchema.JsonSchema

/**
 * What a connector can do: read historical windows (`pull`), hold a live stream
 * (`realtime`), test a configuration (`check`). A connector with neither `pull` nor
 * `realtime` is fed by pushes.
 *
 * @since 0.2.0 @category models
 */
export interface Capabilities {
  readonly pull: boolean
  readonly realtime: boolean
  readonly check: boolean
}

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
  /**
   * Decodes a JSON config; the error names the field (its path) and says what is wrong. Keys
   * the schema doesn't know are refused (with the closest known key suggested).
   */
  readonly configure: (config: unknown) => Either.Either<Configured, InvalidConfig>
  /**
   * The config as it may be shown: secrets replaced by "<redacted>". Lenient: a stored config
   * with keys this version doesn't know is shown without them.
   */
  readonly redact: (config: unknown) => unknown
  /**
   * A stored config changed by `patch` as a JSON merge patch (RFC 7396): objects merge at
   * every level, `null` removes a key, anything else replaces. A secret the patch leaves out,
   * or sends back as the `"<redacted>"` placeholder, keeps its stored value; the placeholder
   * where nothing is stored is refused (naming the field). Not validated: `configure` the
   * result.
   */
  readonly mergeConfig: (stored: unknown, patch: unknown) => Either.Either<unknown, InvalidConfig>
  /** What the connector can do. */
  readonly capabilities: Capabilities
  /**
   * The configuration's JSON form as JSON Schema (draft 2020-12), generated from the
   * connector's Effect Schema: secrets are `writeOnly`, literals `enum`. Computed on first use.
   */
  readonly configJsonSchema: () => JsonSchema
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

/** The values of every `Redacted` in a decoded config, as text. */
const secretsOf = (value: unknown, into: Array<string> = []): Array<string> => {
  if (Redacted.isRedacted(value)) into.push(String(Redacted.value(value)))
  else if (Array.isArray(value)) for (const v of value) secretsOf(v, into)
  else if (value !== null && typeof value === "object") for (const v of Object.values(value)) secretsOf(v, into)
  return into
}

/**
 * A decoded config as it may be shown: its JSON form (a URL as its text, defaults filled in)
 * with the values at secret paths hidden. Should a secret still show (a schema whose secrets
 * the path walk can't see), the decoded config with its `Redacted` values hidden instead.
 */
const shown = (ast: Schema.Schema.AnyNoContext["ast"], decoded: unknown, encoded: unknown): unknown => {
  const hidden = Issues.hideSecrets(ast, encoded)
  const text = JSON.stringify(hidden)
  return secretsOf(decoded).some((secret) => secret.length > 0 && text.includes(secret)) ? redactValue(decoded) : hidden
}

/**
 * Decodes a config the engine will use with a connector's schema, strictly: a key the schema
 * doesn't know is refused (naming its path and the closest known key), a literal lists the
 * allowed values, and a secret's value is never shown. Connectors that decode their stored
 * config themselves (the csv importer) use this so they refuse exactly what the registry does.
 *
 * @since 0.2.0 @category decoding
 */
export const decodeConfig = <C, I>(
  connector: Pick<Connector<C, I, never>, "key" | "configSchema">,
  raw: unknown
): Either.Either<C, InvalidConfig> =>
  Schema.decodeUnknownEither(connector.configSchema, Issues.strict)(raw ?? {}).pipe(
    Either.mapLeft((error) =>
      new InvalidConfig({ connector: connector.key, ...Issues.describe(connector.configSchema.ast, raw ?? {}, error) })
    )
  )

/** What `redact` shows in place of a secret, and what a client may send back to keep one. */
const placeholder = "<redacted>"

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  u !== null && typeof u === "object" && !Array.isArray(u)

/**
 * `patch` merged onto `stored` (RFC 7396), keeping stored secrets where the patch sends the
 * placeholder. `undefined` marks the one failure: a placeholder with no stored secret.
 */
const mergePatch = (
  ast: Schema.Schema.AnyNoContext["ast"],
  stored: unknown,
  patch: unknown,
  path: ReadonlyArray<string>
): { readonly value: unknown } | { readonly missingSecret: string } => {
  if (patch === placeholder && Issues.isSecretPath(ast, path)) {
    return stored === undefined || stored === placeholder ? { missingSecret: path.join(".") } : { value: stored }
  }
  if (!isPlainObject(patch)) return { value: patch }
  const base: Record<string, unknown> = isPlainObject(stored) ? { ...stored } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete base[key]
      continue
    }
    const merged = mergePatch(ast, base[key], value, [...path, key])
    if ("missingSecret" in merged) return merged
    base[key] = merged.value
  }
  return { value: base }
}

/** Every secret value of a decoded config, and the password of a secret URL, for scrubbing text. */
const secretTexts = (decoded: unknown): ReadonlyArray<string> =>
  secretsOf(decoded).flatMap((secret) => {
    const out = [secret]
    try {
      const url = new URL(secret)
      if (url.password !== "") out.push(url.password, decodeURIComponent(url.password))
    } catch {
      // not a URL
    }
    return out.filter((s) => s.length >= 3)
  })

/** A check report with every secret of the config taken out of its text. */
const scrub = (report: CheckReport, secrets: ReadonlyArray<string>): CheckReport => {
  if (secrets.length === 0) return report
  const clean = (text: string) => secrets.reduce((t, secret) => t.split(secret).join(placeholder), text)
  return {
    ok: report.ok,
    items: report.items.map((item) => ({ name: clean(item.name), ok: item.ok, detail: clean(item.detail) }))
  }
}

/**
 * The JSON Schema of a configuration schema's JSON form (draft 2020-12): what
 * `Registered.configJsonSchema` gives, for a schema not registered yet.
 *
 * @since 0.2.0 @category encoding
 */
export const configJsonSchema = (schema: Schema.Schema.AnyNoContext): JsonSchema => ConfigJsonSchema.make(schema)

/**
 * Erases a connector's types, providing what its streams need from `context`.
 *
 * @since 0.1.0 @category constructors
 */
export const register = <C, I, R>(connector: Connector<C, I, R>, context: Context.Context<R>): Registered => {
  // strict for configs the engine will use (decodeConfig): a key the schema doesn't know is a typo
  // to report, not a setting to drop; lenient for showing what is stored
  const decodeStored = Schema.decodeUnknownEither(connector.configSchema)
  const encode = Schema.encodeEither(connector.configSchema)
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
      ? connector.check(config).pipe(
        Effect.provide(context),
        // a check that dies still answers, with what went wrong
        Effect.catchAllDefect((defect) =>
          Effect.succeed<CheckReport>({
            ok: false,
            items: [{ name: "check", ok: false, detail: `the connector's check failed unexpectedly: ${String(defect)}` }]
          })
        ),
        // a source that echoes a password or a URL with its password must not show it
        Effect.map((report) => scrub(report, secretTexts(config)))
      )
      : Effect.succeed({ ok: true, items: [{ name: "config", ok: true, detail: "configuration is valid" }] })
  })
  let jsonSchema: JsonSchema | undefined
  return {
    key: connector.key,
    displayName: connector.displayName,
    deliveryModes: connector.deliveryModes,
    dataKinds: connector.dataKinds,
    capabilities: {
      pull: connector.pull !== undefined,
      realtime: connector.realtime !== undefined,
      check: connector.check !== undefined
    },
    configJsonSchema: () => (jsonSchema ??= ConfigJsonSchema.make(connector.configSchema)),
    settleDelayMs: connector.settleDelay === undefined
      ? undefined
      : Duration.toMillis(Duration.decode(connector.settleDelay)),
    historyLimitDays: connector.historyLimitDays,
    configure: (raw) => decodeConfig(connector, raw).pipe(Either.map(configured)),
    mergeConfig: (stored, patch) => {
      const merged = mergePatch(connector.configSchema.ast, stored ?? {}, patch, [])
      return "missingSecret" in merged
        ? Either.left(
          new InvalidConfig({
            connector: connector.key,
            field: merged.missingSecret,
            reason: `"${placeholder}" keeps a stored secret, but none is stored here: give the secret`
          })
        )
        : Either.right(merged.value)
    },
    redact: (raw) =>
      decodeStored(raw ?? {}).pipe(Either.match({
        onLeft: () => ({}),
        onRight: (decoded) =>
          Either.match(encode(decoded), {
            onLeft: () => redactValue(decoded),
            onRight: (encoded) => shown(connector.configSchema.ast, decoded, encoded)
          })
      }))
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
