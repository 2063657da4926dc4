/**
 * Turns driver failures into the connector's errors, in words an administrator understands.
 *
 * @internal
 */
import { Connector } from "@acd-bridge/core"

type ConnectorError = Connector.ConnectorError

interface Details {
  readonly code: string | undefined
  readonly message: string
}

const details = (cause: unknown): Details => {
  let current: unknown = cause
  // walk SqlError → driver error
  for (let i = 0; i < 5 && current !== null && typeof current === "object"; i++) {
    const c = current as { readonly code?: unknown; readonly cause?: unknown; readonly message?: unknown }
    if (typeof c.code === "string") {
      return { code: c.code, message: typeof c.message === "string" ? c.message : String(current) }
    }
    if (c.cause === undefined) break
    current = c.cause
  }
  const last = current as { readonly message?: unknown } | null
  return {
    code: undefined,
    message: last !== null && typeof last === "object" && typeof last.message === "string"
      ? last.message
      : String(current)
  }
}

const transientNodeCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN"
])

/** What was being done, for the message. @internal */
export interface Context {
  /** e.g. `reading AG2_QUEUE_SUBHR` */
  readonly operation: string
  /** who connects, e.g. `user "wfm" on PostgreSQL database "gim" at db:5432` */
  readonly who: string
  /** the tables the statement reads, to name a missing one */
  readonly tables?: ReadonlyArray<string> | undefined
}

/**
 * Classifies a failure: rejected credentials and missing privileges are `AuthFailed` (the
 * administrator must change something), missing tables and columns `InvalidData` naming
 * the table or column, everything else (network, server restarts, timeouts, locks)
 * `Transient`.
 *
 * @internal
 */
export const classify = (cause: unknown, ctx: Context): ConnectorError => {
  const { code, message } = details(cause)
  const lower = message.toLowerCase()
  // PostgreSQL SQLSTATEs
  if (code === "28P01" || code === "28000") {
    return new Connector.AuthFailed({
      reason: `the database rejected ${ctx.who}: ${message}. Check the user name and password in the connection settings.`
    })
  }
  if (code === "3D000") {
    return new Connector.AuthFailed({
      reason: `the database does not exist (${message}); check the database name (the Info Mart/ETL database).`
    })
  }
  if (code === "42501") {
    return new Connector.AuthFailed({
      reason: `${ctx.who} may not read what ${ctx.operation} needs: ${message}. ` +
        `Grant it SELECT on the Info Mart tables (see the connector README).`
    })
  }
  if (code === "42P01" || code === "3F000" || /no such table/.test(lower)) {
    return new Connector.InvalidData({
      record: ctx.operation,
      reason: `a table is missing: ${message}. Check the schema and table names in the connector config ` +
        `(tables ${(ctx.tables ?? []).join(", ")}).`
    })
  }
  if (code === "42703" || /no such column/.test(lower)) {
    return new Connector.InvalidData({
      record: ctx.operation,
      reason: `a column is missing: ${message}. The Info Mart version may name it differently; map it in the connector config.`
    })
  }
  if (code === "22P02" || code === "22003" || code === "42804") {
    return new Connector.InvalidData({ record: ctx.operation, reason: `the database could not read a value: ${message}` })
  }
  if (code !== undefined && /^SQLITE_CANTOPEN/.test(code)) {
    return new Connector.Transient({ reason: `cannot open the database file while ${ctx.operation}: ${message}` })
  }
  if (code !== undefined && transientNodeCodes.has(code)) {
    return new Connector.Transient({ reason: `lost the connection to the database while ${ctx.operation}: ${message}` })
  }
  return new Connector.Transient({ reason: `${ctx.operation} failed: ${message}` })
}
