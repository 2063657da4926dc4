/**
 * Driver failures turned into the connector contract's typed errors, with reasons an
 * administrator can act on.
 */
import { Connector } from "@acd-bridge/core"
import type { Dialect } from "./dialect.js"
import { dialectName } from "./dialect.js"

/** Where a failure happened. @internal */
export interface FailureContext {
  readonly dialect: Dialect
  /** `connect`, or the query's name (`contacts`, `agentStatuses`, `realtime`) */
  readonly phase: string
  /** host:port/database or the file, for messages */
  readonly target: string
  readonly timeoutSeconds: number
}

interface Fields {
  readonly code: string | undefined
  readonly errno: number | undefined
  readonly message: string
}

/** The innermost driver error: SqlError → driver error; AggregateError → its first error. */
const unwrap = (cause: unknown, depth = 0): unknown => {
  if (depth > 5 || cause === null || typeof cause !== "object") return cause
  const record = cause as { _tag?: unknown; cause?: unknown; errors?: unknown }
  if (record._tag === "SqlError" && record.cause !== undefined) return unwrap(record.cause, depth + 1)
  if (Array.isArray(record.errors) && record.errors.length > 0) return unwrap(record.errors[0], depth + 1)
  return cause
}

const fields = (cause: unknown): Fields => {
  const e = unwrap(cause)
  if (e === null || typeof e !== "object") return { code: undefined, errno: undefined, message: String(e) }
  const r = e as { code?: unknown; errno?: unknown; number?: unknown; message?: unknown }
  const code = typeof r.code === "string" ? r.code : undefined
  const errno = typeof r.errno === "number" ? r.errno : typeof r.number === "number" ? r.number : undefined
  const message = typeof r.message === "string" && r.message.length > 0
    ? r.message
    : cause instanceof Error
    ? cause.message
    : String(code ?? "unknown error")
  return { code, errno, message }
}

const networkCodes: Record<string, string> = {
  ECONNREFUSED: "the connection was refused (is the database running and listening on that port?)",
  ENOTFOUND: "the host name could not be resolved",
  EAI_AGAIN: "the host name could not be resolved (DNS is not answering)",
  ETIMEDOUT: "the connection timed out",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  EPIPE: "the connection was closed",
  ESOCKET: "the connection failed",
  ETIMEOUT: "the connection or the query timed out",
  PROTOCOL_CONNECTION_LOST: "the connection was lost",
  ENOENT: "the file does not exist",
  SQLITE_CANTOPEN: "the file could not be opened"
}

/**
 * Classifies a driver failure.
 *
 * - credentials, unknown database or missing read permission → `AuthFailed` (retrying won't
 *   help until the configuration changes)
 * - unreachable host, dropped connection, timeouts, server shutting down, lock conflicts →
 *   `Transient`
 * - errors in the query or in the data it reads → `InvalidData`
 *
 * @internal
 */
export const classify = (cause: unknown, ctx: FailureContext): Connector.ConnectorError => {
  const { code, errno, message } = fields(cause)
  const db = dialectName[ctx.dialect]
  const at = ctx.phase === "connect" ? `connecting to ${db} at ${ctx.target}` : `running the ${ctx.phase} query`
  const auth = (what: string) => new Connector.AuthFailed({ reason: `${db} at ${ctx.target}: ${what} (${message})` })
  const transient = (what: string) => new Connector.Transient({ reason: `${at}: ${what}` })
  const invalid = (what: string) =>
    new Connector.InvalidData({ record: ctx.phase === "connect" ? ctx.target : `${ctx.phase} query`, reason: what })

  if (code !== undefined && networkCodes[code] !== undefined) {
    return transient(`${networkCodes[code]} (${message})`)
  }
  if (/timed? ?out|timeout/i.test(message) && !/statement timeout/i.test(message)) {
    return transient(`timed out (${message})`)
  }
  switch (ctx.dialect) {
    case "pg": {
      if (code === "28P01" || code === "28000") return auth("the login was rejected")
      if (code === "3D000") return auth("the database does not exist")
      if (code === "42501") return auth("the user may not read what the query reads")
      if (code === "57014") {
        return transient(`the query ran longer than the ${ctx.timeoutSeconds} s timeout and was cancelled`)
      }
      if (code === "25006") return invalid(`the query tried to write in a read-only transaction (${message})`)
      if (code !== undefined && /^(08|53|57|58|40|55)/.test(code)) return transient(`${message} (SQLSTATE ${code})`)
      if (code !== undefined && /^(42|22|21|23|2F|38|39|0A|P0)/.test(code)) {
        return invalid(`${message} (SQLSTATE ${code})`)
      }
      break
    }
    case "mysql": {
      if (errno === 1045 || errno === 1698 || errno === 1044) return auth("the login was rejected")
      if (errno === 1049) return auth("the database does not exist")
      if (errno === 1142 || errno === 1143 || errno === 1227) return auth("the user may not read what the query reads")
      if (errno === 3024 || errno === 1969 || errno === 1317) {
        return transient(`the query ran longer than the ${ctx.timeoutSeconds} s timeout and was cancelled`)
      }
      if (errno === 1792) return invalid(`the query tried to write in a read-only transaction (${message})`)
      if (errno === 1205 || errno === 1213 || errno === 1040 || errno === 1053 || errno === 2013 || errno === 2006) {
        return transient(message)
      }
      if (errno !== undefined && errno >= 1000 && errno < 2000) return invalid(`${message} (error ${errno})`)
      break
    }
    case "mssql": {
      if (code === "ELOGIN" || errno === 18456 || errno === 18452) return auth("the login was rejected")
      if (errno === 4060) return auth("the database does not exist or the login may not open it")
      if (errno === 229 || errno === 230) return auth("the user may not read what the query reads")
      if (errno === 1205 || errno === 1222 || errno === -2) return transient(message)
      if (errno !== undefined && errno > 0) return invalid(`${message} (error ${errno})`)
      break
    }
    case "sqlite": {
      if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || code === "SQLITE_IOERR") return transient(message)
      if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") return invalid(`the file is not a readable SQLite database`)
      if (code === "SQLITE_READONLY") return invalid(`the query tried to write (${message})`)
      if (code === "SQLITE_AUTH" || code === "SQLITE_PERM") return auth("access was denied")
      if (code !== undefined && code.startsWith("SQLITE_")) return invalid(`${message} (${code})`)
      break
    }
  }
  if (/terminat|connection (ended|closed|lost)|not queryable|socket|closed the connection/i.test(message)) {
    return transient(`the connection was lost (${message})`)
  }
  if (ctx.phase === "connect") return transient(message)
  return transient(message)
}
