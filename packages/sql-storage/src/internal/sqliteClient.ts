/**
 * The SQLite client `layerSqlite` runs on: an `@effect/sql` client (`SqlClient.make`, its
 * statement compiler, transactions and spans) over one better-sqlite3 connection, as
 * `@effect/sql-sqlite-node` builds it, plus one thing that client can't do: run one prepared
 * statement for many parameter rows in a single step (`executeEach`).
 *
 * Why our own connection: better-sqlite3 runs statements synchronously, so the database's
 * work on an interval upsert is a few microseconds, and going through an Effect per row (the
 * client's prepared-statement cache, a fiber step per statement) cost about as much again
 * (bench `ingest-sqlite`, see docs/performance.md). The library keeps its connection private,
 * and a second connection could not write inside the first one's transaction.
 *
 * Writers in the process are serialised on the one connection (a semaphore); a transaction
 * holds it from BEGIN to COMMIT.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import type Database from "better-sqlite3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type { EachConnection } from "./dialect.js"

export interface Options {
  readonly filename: string
  /** prepared statements kept (least recently used ones are dropped past it; default 200) */
  readonly prepareCacheSize?: number | undefined
}

type Prepared = Database.Statement<Array<unknown>, unknown>

/** better-sqlite3 takes its parameters as a rest argument of a mutable array type */
const args = (params: ReadonlyArray<unknown>) => params as Array<unknown>

/**
 * Opens the connection (closed with the scope). Dies with what better-sqlite3's constructor
 * throws. The driver is loaded here, not with the module: a host on PostgreSQL never loads it.
 */
const connect = (options: Options) =>
  Effect.gen(function*() {
    const Sqlite = (yield* Effect.promise(() => import("better-sqlite3"))).default
    const db = yield* Effect.acquireRelease(
      Effect.sync(() => new Sqlite(options.filename)),
      (db) => Effect.sync(() => db.close())
    )
    db.pragma("journal_mode = WAL")
    const capacity = Math.max(1, options.prepareCacheSize ?? 200)
    // a Map iterates in insertion order: a hit is moved to the end, the first entry is the oldest
    const cache = new Map<string, Prepared>()
    const prepare = (sql: string): Prepared => {
      const hit = cache.get(sql)
      if (hit !== undefined) {
        cache.delete(sql)
        cache.set(sql, hit)
        return hit
      }
      const statement = db.prepare<Array<unknown>, unknown>(sql)
      cache.set(sql, statement)
      if (cache.size > capacity) cache.delete(cache.keys().next().value!)
      return statement
    }

    /**
     * Runs `use` on the statement prepared for `sql`, with `SafeIntegers` as the fiber has it
     * (integers beyond 2^53 read as bigint).
     */
    const run = <A>(sql: string, use: (statement: Prepared) => A): Effect.Effect<A, SqlError> =>
      Effect.withFiberRuntime((fiber) => {
        try {
          const statement = prepare(sql)
          if (statement.reader) statement.safeIntegers(Context.get(fiber.currentContext, SqlClient.SafeIntegers))
          return Effect.succeed(use(statement))
        } catch (cause) {
          return Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
        }
      })

    const rows = (params: ReadonlyArray<unknown>) => (statement: Prepared): ReadonlyArray<object> => {
      if (statement.reader) return statement.all(...args(params)) as ReadonlyArray<object>
      statement.run(...args(params))
      return []
    }

    const connection: EachConnection = {
      execute: (sql, params, transformRows) => {
        const effect = run(sql, rows(params))
        return transformRows ? Effect.map(effect, transformRows) : effect
      },
      executeRaw: (sql, params) =>
        run(sql, (statement) => statement.reader ? statement.all(...args(params)) : statement.run(...args(params))),
      executeValues: (sql, params) =>
        run(sql, (statement): ReadonlyArray<ReadonlyArray<unknown>> => {
          if (!statement.reader) {
            statement.run(...args(params))
            return []
          }
          // a cached statement is shared: back to objects for the next caller, whatever happens
          statement.raw(true)
          try {
            return statement.all(...args(params)) as ReadonlyArray<ReadonlyArray<unknown>>
          } finally {
            statement.raw(false)
          }
        }),
      // BEGIN, COMMIT and savepoints come this way, once per transaction: kept prepared too
      executeUnprepared: (sql, params, transformRows) => {
        const effect = run(sql, rows(params ?? []))
        return transformRows ? Effect.map(effect, transformRows) : effect
      },
      executeStream: () => Effect.dieMessage("executeStream not implemented"),
      executeEach: (sql, each) =>
        run(sql, (statement) => {
          for (let i = 0; i < each.length; i++) statement.run(...args(each[i]!))
        })
    }
    return connection
  })

/** The client over a new connection to `options.filename` (closed with the scope). */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const connection = yield* connect(options)
    const semaphore = yield* Effect.makeSemaphore(1)
    const acquirer = semaphore.withPermits(1)(Effect.succeed(connection))
    // a transaction keeps the connection until its scope closes (COMMIT or ROLLBACK)
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(semaphore.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))
        ),
        connection
      )
    )
    return yield* SqlClient.make({
      acquirer,
      compiler: Statement.makeCompilerSqlite(),
      transactionAcquirer,
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/** `make` as a layer of `SqlClient`. */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient> =>
  Layer.scoped(SqlClient.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
