/**
 * The SQLite driver (better-sqlite3 directly: @effect/sql-sqlite-node has no row streaming),
 * in a module of its own so it is loaded only by a source that uses it.
 */
import Database from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import type { PreparedQuery } from "../../Guard.js"
import type { Column, Row, Source, SourceOptions } from "../source.js"
import { fail, type SourceFailure, sessionStream } from "../source.js"

const sqliteCategory = (declared: string | null): Column["category"] => {
  if (declared === null) return "unknown"
  const t = declared.toUpperCase()
  if (t.includes("BOOL")) return "boolean"
  if (t.includes("INT")) return "number"
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "text"
  if (t.includes("DATE") || t.includes("TIME")) return "timestamp"
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB") || t.includes("NUM") || t.includes("DEC")) {
    return "number"
  }
  return "unknown"
}

/**
 * better-sqlite3 loads its native module at the first `new Database`, not at import: a module
 * built for another Node version, or not built at all, fails there.
 */
const nativeLoadFailure = (cause: unknown): cause is Error =>
  cause instanceof Error && !(cause instanceof Database.SqliteError) &&
  ((cause as { code?: unknown }).code === "ERR_DLOPEN_FAILED" ||
    /bindings file|NODE_MODULE_VERSION|better_sqlite3\.node/.test(cause.message))

const notLoaded = (cause: Error) =>
  new Error(`the sqlite driver could not be loaded (better-sqlite3's native module): ${cause.message}`, { cause })

/** how long a read runs between two turns of the event loop */
const eventLoopSliceMs = 10

/** Opens a SQLite file read-only. @internal */
export const open = (options: SourceOptions, filename: string): Effect.Effect<Source, SourceFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          if (!fs.existsSync(filename)) {
            throw Object.assign(new Error(`${filename} does not exist`), { code: "ENOENT" })
          }
          const db = new Database(filename, {
            readonly: true,
            fileMustExist: true,
            timeout: Math.min(options.queryTimeoutMs, 30_000)
          })
          db.pragma("query_only = ON")
          // INTEGER values as bigint: an identifier past 2^53 is kept digit for digit, and a
          // number too large to be exact is refused instead of rounded
          db.defaultSafeIntegers(true)
          return db
        },
        catch: (cause) => fail(nativeLoadFailure(cause) ? notLoaded(cause) : cause)
      }),
      // statements are returned before this (their iterators live in scopes forked from this
      // one): better-sqlite3 refuses to close a database with a statement still iterating
      (db) => Effect.sync(() => db.close())
    )
    const sourceScope = yield* Effect.scope

    const statement = (query: PreparedQuery) =>
      Effect.try({
        try: () => {
          const stmt = db.prepare(query.text)
          if (!stmt.reader || !stmt.readonly) {
            throw Object.assign(new Error("the statement does not only read"), { code: "SQLITE_READONLY" })
          }
          return stmt
        },
        catch: fail
      })

    const source: Source = {
      dialect: "sqlite",
      target: filename,
      rows: (query, values) =>
        sessionStream(sourceScope, Effect.gen(function*() {
          const stmt = yield* statement(query)
          const started = Date.now()
          const iterator = yield* Effect.acquireRelease(
            Effect.try({ try: () => stmt.iterate(...values) as IterableIterator<Row>, catch: fail }),
            (it) => Effect.sync(() => it.return?.())
          )
          const pull = Effect.suspend(() => {
            // better-sqlite3 is synchronous: the timeout is checked between chunks of rows
            if (Date.now() - started > options.queryTimeoutMs) {
              return Effect.fail(Option.some(fail(Object.assign(new Error("query timeout"), { code: "ETIMEOUT" }))))
            }
            try {
              const rows: Array<Row> = []
              for (let k = 0; k < 256; k++) {
                const next = iterator.next()
                if (next.done) break
                rows.push(next.value)
              }
              return rows.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(rows))
            } catch (cause) {
              return Effect.fail(Option.some(fail(cause)))
            }
          })
          // Effect.yieldNow lets other fibers run but seldom the event loop: a long read would
          // hold back timers, sockets and an interruption for seconds. Between chunks, once
          // some milliseconds of work have passed, it waits for the event loop's next turn.
          let lastTurn = Date.now()
          const turn = Effect.suspend(() => {
            if (Date.now() - lastTurn < eventLoopSliceMs) return Effect.yieldNow()
            return Effect.async<void>((resume) => {
              setImmediate(() => {
                lastTurn = Date.now()
                resume(Effect.void)
              })
            })
          })
          return Stream.repeatEffectChunkOption(Effect.zipLeft(pull, turn))
        })),
      // opened read-only, with no login: nothing to check
      privileges: Effect.succeed(undefined),
      columns: (query, values) =>
        Effect.gen(function*() {
          const stmt = yield* statement(query)
          // run it, so errors that only show at execution surface here too
          yield* Effect.try({ try: () => stmt.get(...values), catch: fail })
          return stmt.columns().map((c): Column => ({
            name: c.name,
            type: c.type ?? undefined,
            category: sqliteCategory(c.type)
          }))
        })
    }
    return source
  })
