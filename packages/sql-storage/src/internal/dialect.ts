/**
 * What every part of the SQL driver shares: the client without name transforms, which
 * dialect it speaks, how booleans and row locks are written there, and how a failure becomes
 * core's `StorageError` (keeping the `SqlError` as its cause).
 */
import { Errors } from "@acd-bridge/core"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlConnection from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import { statementBatches } from "./batches.js"

export interface Dialect {
  readonly sql: SqlClient.SqlClient
  readonly isPg: boolean
  /** a boolean parameter: PostgreSQL BOOLEAN, SQLite 0/1 */
  readonly bool: (b: boolean) => boolean | number
  /** row lock clauses (PostgreSQL; SQLite serialises whole transactions) */
  readonly forShare: ReturnType<SqlClient.SqlClient["literal"]>
  readonly forUpdate: ReturnType<SqlClient.SqlClient["literal"]>
}

export const make = (sql: SqlClient.SqlClient): Dialect => {
  const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
  return {
    sql,
    isPg,
    bool: (b) => (isPg ? b : b ? 1 : 0),
    forShare: sql.literal(isPg ? "FOR SHARE" : ""),
    forUpdate: sql.literal(isPg ? "FOR UPDATE" : "")
  }
}

/** Multi-row statements in power-of-two sizes: few distinct SQL texts to prepare (see `batches.ts`). */
export const chunks = statementBatches

export const isSqlError = (u: unknown): u is SqlError => Predicate.isTagged(u, "SqlError")
const isParseError = (u: unknown): u is ParseResult.ParseError => Predicate.isTagged(u, "ParseError")

/** Maps `SqlError` (and a row that fails to decode) to `StorageError`, keeping it as the cause. */
export const edge = (operation: string) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError> | Errors.StorageError, R> =>
  Effect.mapError(self, (error): Exclude<E, SqlError | ParseResult.ParseError> | Errors.StorageError => {
    if (isSqlError(error) || isParseError(error)) return Errors.StorageError.fromCause(operation, error)
    return error as Exclude<E, SqlError | ParseResult.ParseError>
  })

/**
 * PostgreSQL deadlock / serialisation failure, SQLite busy (another process): worth running
 * the transaction again. Found as the `SqlError` itself or as a `StorageError`'s cause.
 */
export const isTransient = (u: unknown): boolean => {
  const error = Predicate.isTagged(u, "StorageError") && "cause" in u ? u.cause : u
  if (!isSqlError(error)) return false
  const cause = error.cause
  if (typeof cause !== "object" || cause === null || !("code" in cause)) return false
  const code = String(cause.code)
  return code === "40P01" || code === "40001" || code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT"
}

/**
 * A connection that can run one statement for many parameter rows at once: the one
 * `layerSqlite` opens (`sqliteClient.ts`). A host's own client has no such method, and its
 * statements run one by one.
 */
export interface EachConnection extends SqlConnection.Connection {
  /**
   * Runs the prepared `sql` once per entry of `rows` (its parameters), in order, as one step:
   * the first failure stops it, with the rows before it written (the caller's transaction
   * decides what survives).
   */
  readonly executeEach: (sql: string, rows: ReadonlyArray<ReadonlyArray<unknown>>) => Effect.Effect<void, SqlError>
}

/** Whether `connection` (from `SqlClient.TransactionConnection`) can `executeEach`. */
export const isEachConnection = (connection: SqlConnection.Connection): connection is EachConnection =>
  "executeEach" in connection && typeof connection.executeEach === "function"
