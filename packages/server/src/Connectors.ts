/**
 * The connectors the server offers: every built-in one (api-push, csv, sql, five9, vonage,
 * genesys-engage) and plugins, each a module that exports a `Connector` value.
 *
 * @since 0.1.0
 */
import { PushConnector } from "@acd-bridge/api-push"
import { ConnectorRegistry } from "@acd-bridge/core"
import { CsvConnector } from "@acd-bridge/csv"
import { Five9 } from "@acd-bridge/five9"
import { GenesysEngage } from "@acd-bridge/genesys-engage"
import { SqlConnector } from "@acd-bridge/sql-source"
import { Vonage } from "@acd-bridge/vonage"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { pathToFileURL } from "node:url"

/**
 * A connector the server can register: it needs nothing from the host, or an `HttpClient`
 * (the server provides one over `fetch`).
 *
 * @since 0.1.0 @category models
 */
export type ServerConnector = ConnectorRegistry.AnyConnector

/**
 * The built-in connectors.
 *
 * @since 0.1.0 @category constants
 */
export const builtins: ReadonlyArray<ServerConnector> = [
  PushConnector.connector,
  CsvConnector.connector,
  SqlConnector.connector,
  Five9.connector,
  Vonage.connector,
  GenesysEngage.connector
] as ReadonlyArray<ServerConnector>

/**
 * A plugin could not be loaded, or a connector key is taken twice.
 *
 * @since 0.1.0 @category errors
 */
export class PluginError extends Data.TaggedError("PluginError")<{
  readonly plugin: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `ACD_BRIDGE_PLUGINS: ${this.plugin}: ${this.reason}`
  }
}

const isConnector = (value: unknown): value is ServerConnector =>
  Predicate.isRecord(value) &&
  typeof value["key"] === "string" &&
  value["key"].length > 0 &&
  typeof value["displayName"] === "string" &&
  Array.isArray(value["deliveryModes"]) &&
  Array.isArray(value["dataKinds"]) &&
  Schema.isSchema(value["configSchema"]) &&
  (value["pull"] === undefined || typeof value["pull"] === "function") &&
  (value["realtime"] === undefined || typeof value["realtime"] === "function") &&
  (value["check"] === undefined || typeof value["check"] === "function")

/** The connectors a module exports: `default`, `connector`, `connectors`, or several named ones. */
const connectorsOf = (module: Record<string, unknown>): ReadonlyArray<ServerConnector> => {
  const listed = module["connectors"]
  if (Array.isArray(listed)) return listed.filter(isConnector)
  for (const name of ["default", "connector"]) {
    if (isConnector(module[name])) return [module[name]]
  }
  return Object.values(module).filter(isConnector)
}

/**
 * Where a plugin is imported from: a path (starting with `.`, `/` or a drive letter) relative
 * to `cwd`, else a package name resolved like the server's own dependencies.
 *
 * @since 0.1.0 @category plugins
 */
export const pluginUrl = (specifier: string, cwd: string = process.cwd()): string =>
  /^(\.{1,2}[\\/]|[\\/]|[a-z]:[\\/])/i.test(specifier) || /\.[cm]?[jt]s$/.test(specifier)
    ? pathToFileURL(path.resolve(cwd, specifier)).href
    : specifier

/**
 * Imports each plugin and collects its connectors. A plugin that can't be imported, exports no
 * connector, or reuses a key (of a built-in or of another plugin) fails with `PluginError`.
 *
 * @since 0.1.0 @category plugins
 */
export const load = (
  specifiers: ReadonlyArray<string>,
  options: { readonly cwd?: string | undefined; readonly taken?: ReadonlyArray<ServerConnector> | undefined } = {}
): Effect.Effect<ReadonlyArray<ServerConnector>, PluginError> =>
  Effect.gen(function*() {
    const keys = new Map<string, string>((options.taken ?? builtins).map((c) => [c.key, "a built-in connector"]))
    const loaded: Array<ServerConnector> = []
    for (const specifier of specifiers) {
      const module = yield* Effect.tryPromise({
        try: () => import(pluginUrl(specifier, options.cwd)) as Promise<Record<string, unknown>>,
        catch: (cause) =>
          new PluginError({
            plugin: specifier,
            reason: `could not be imported: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause
          })
      })
      const connectors = connectorsOf(module)
      if (connectors.length === 0) {
        return yield* new PluginError({
          plugin: specifier,
          reason:
            "exports no connector (a value with key, displayName, deliveryModes, dataKinds and a configSchema, as `export default`, `connector` or `connectors`)"
        })
      }
      for (const connector of connectors) {
        const owner = keys.get(connector.key)
        if (owner !== undefined) {
          return yield* new PluginError({ plugin: specifier, reason: `connector key "${connector.key}" is taken by ${owner}` })
        }
        keys.set(connector.key, specifier)
        loaded.push(connector)
      }
    }
    return loaded
  })

/**
 * The registry of the given connectors, with an `HttpClient` over `fetch` for those that call
 * vendor APIs.
 *
 * @since 0.1.0 @category layers
 */
export const registryLayer = (
  connectors: ReadonlyArray<ServerConnector> = builtins
): Layer.Layer<ConnectorRegistry.ConnectorRegistry> =>
  // a plugin's requirements are unknown at compile time; the contract (and the README) says a
  // server connector needs at most an HttpClient, which is what is provided here, beside the
  // vendor connectors' sessions (per set of credentials, living as long as the server)
  (ConnectorRegistry.layer(...connectors) as Layer.Layer<
    ConnectorRegistry.ConnectorRegistry,
    never,
    HttpClient.HttpClient | Five9.Sessions | Vonage.Sessions
  >)
    .pipe(Layer.provide(Layer.mergeAll(FetchHttpClient.layer, Five9.layer, Vonage.layer)))
