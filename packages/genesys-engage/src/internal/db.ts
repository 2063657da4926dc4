/**
 * A read-only connection to the Info Mart.
 *
 * - PostgreSQL: every session starts with `default_transaction_read_only=on` and a
 *   `statement_timeout`, so even a statement that tried to write would be refused by the
 *   server; the application name is `acd-bridge genesys-engage`.
 * - SQLite: the file is opened read-only.
 *
 * Only SELECT statements built by this package run here; every value is a bound parameter
 * and every name a checked identifier (see `GenesysConfig`).
 *
 * @internal
 */
import type { Connector } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"
import type { GenesysConfig } from "../GenesysConfig.js"
import { classify } from "./errors.js"

/** A row as the driver returns it. @internal */
export type Row = Readonly<Record<string, unknown>>

/** @internal */
export interface Db {
  readonly dialect: "pg" | "sqlite"
  /** who connects where, for messages (no secrets) */
  readonly who: string
  /**
   * Runs one SELECT. `text` uses `?` placeholders; `tables` names what it reads, for the
   * message when one is missing.
   */
  readonly select: (
    text: string,
    params: ReadonlyArray<unknown>,
    operation: string,
    tables?: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<Row>, Connector.ConnectorError>
}

const toPg = (text: string): string => {
  let n = 0
  return text.replace(/\?/g, () => `$${++n}`)
}

const pgUrl = (config: GenesysConfig): Redacted.Redacted<string> => {
  const options = encodeURIComponent(
    `-c default_transaction_read_only=on -c statement_timeout=${Math.round(config.queryTimeoutSeconds * 1000)}`
  )
  const c = config.connection
  if ("url" in c) {
    const raw = Redacted.value(c.url)
    return Redacted.make(`${raw}${raw.includes("?") ? "&" : "?"}options=${options}`)
  }
  if ("host" in c) {
    const auth = `${encodeURIComponent(c.user)}:${encodeURIComponent(Redacted.value(c.password))}`
    const host = c.host.includes(":") ? `[${c.host}]` : c.host
    const ssl = c.ssl ? "&ssl=true" : ""
    return Redacted.make(`postgres://${auth}@${host}:${c.port}/${encodeURIComponent(c.database)}?options=${options}${ssl}`)
  }
  return Redacted.make("")
}

/** Who connects where, without secrets. @internal */
export const describeConnection = (config: GenesysConfig): string => {
  const c = config.connection
  if ("filename" in c) return `the SQLite file ${c.filename}`
  if ("host" in c) return `user "${c.user}" on PostgreSQL database "${c.database}" at ${c.host}:${c.port}`
  try {
    const u = new URL(Redacted.value(c.url))
    return `user "${decodeURIComponent(u.username)}" on PostgreSQL database "${u.pathname.slice(1)}" at ${u.host}`
  } catch {
    return "the PostgreSQL database of the configured URL"
  }
}

/**
 * Imports a driver when a connection of its kind is opened: each client package adds tens of
 * MB to the process, and an installation reads either PostgreSQL or a SQLite file, never both.
 */
const loadDriver = <M>(name: string, importModule: () => Promise<M>): Effect.Effect<M, Error> =>
  Effect.tryPromise({
    try: importModule,
    catch: (cause) =>
      // no `cause` on it: classify would report the inner error's message instead of this one
      new Error(`the ${name} driver could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`)
  })

const clientLayer = (config: GenesysConfig): Layer.Layer<SqlClient.SqlClient, unknown> => {
  const c = config.connection
  if ("filename" in c) {
    return Layer.unwrapEffect(Effect.suspend((): Effect.Effect<Layer.Layer<SqlClient.SqlClient, unknown>, Error> => {
      if (!fs.existsSync(c.filename)) {
        return Effect.succeed(
          Layer.fail(Object.assign(new Error(`the file ${c.filename} does not exist`), { code: "SQLITE_CANTOPEN" }))
        )
      }
      return Effect.map(
        loadDriver("SQLite (@effect/sql-sqlite-node)", () => import("@effect/sql-sqlite-node/SqliteClient")),
        (SqliteClient) => SqliteClient.layer({ filename: c.filename, readonly: true, disableWAL: true })
      )
    }))
  }
  return Layer.unwrapEffect(Effect.map(
    loadDriver("PostgreSQL (@effect/sql-pg)", () => import("@effect/sql-pg/PgClient")),
    (PgClient) =>
      PgClient.layer({
        url: pgUrl(config),
        applicationName: "acd-bridge genesys-engage",
        connectTimeout: Duration.seconds(config.connectTimeoutSeconds),
        maxConnections: 2,
        idleTimeout: Duration.seconds(30)
      })
  ))
}

/**
 * Opens a connection for the scope's lifetime. Fails with `AuthFailed` for rejected
 * credentials, `Transient` when the server can't be reached.
 *
 * @internal
 */
export const open = (config: GenesysConfig): Effect.Effect<Db, Connector.ConnectorError, Scope.Scope> =>
  Effect.gen(function*() {
    const who = describeConnection(config)
    const scope = yield* Effect.scope
    const child = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    const built = yield* Layer.buildWithScope(clientLayer(config), child).pipe(
      // the SQLite driver throws when it can't open the file
      Effect.catchAllDefect((defect) => Effect.fail(defect)),
      // a connect timeout is wall-clock time, whatever clock the host runs the engine on
      Effect.withClock(Clock.make()),
      Effect.exit
    )
    if (Exit.isFailure(built)) {
      const failure = Cause.squash(built.cause)
      yield* Scope.close(child, Exit.void)
      return yield* Effect.fail(classify(failure, { operation: "connecting", who }))
    }
    const sql = Context.get(built.value, SqlClient.SqlClient)
    const dialect: Db["dialect"] = "filename" in config.connection ? "sqlite" : "pg"
    const select: Db["select"] = (text, params, operation, tables) =>
      sql.unsafe<Row>(dialect === "pg" ? toPg(text) : text, params).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(defect)),
        Effect.mapError((error) => classify(error, { operation, who, tables })),
        Effect.withSpan("GenesysEngage.select", { attributes: { operation } })
      )
    return { dialect, who, select }
  })
