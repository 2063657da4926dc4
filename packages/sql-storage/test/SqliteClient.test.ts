/**
 * The SQLite client `layerSqlite` opens (`internal/sqliteClient.ts`): an `@effect/sql` client
 * on one better-sqlite3 connection whose prepared statements are kept and shared, plus
 * `executeEach`. What sharing a statement must not leak from one use to the next (value rows,
 * big integers), what a kept statement must still see (a changed table), that transactions
 * take the connection whole, and that `executeEach` writes in the caller's transaction.
 */
import { assert, describe, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { isEachConnection } from "../src/internal/dialect.js"
import * as StoreClient from "../src/internal/sqliteClient.js"
import { tempSqliteFile } from "./utils.js"

const client = (prepareCacheSize?: number) =>
  Layer.fresh(StoreClient.layer({ filename: tempSqliteFile(), prepareCacheSize }))

const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>, prepareCacheSize?: number) =>
  Effect.provide(effect, client(prepareCacheSize))

describe("the store's SQLite client", () => {
  it.effect("a transaction's connection writes many rows in one step, and a failing row undoes them with the transaction", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (n INTEGER NOT NULL)`
      const insert = "INSERT INTO t (n) VALUES (?)"
      yield* sql.withTransaction(Effect.gen(function*() {
        const [connection] = yield* Effect.orDie(Effect.serviceOptional(SqlClient.TransactionConnection))
        assert.isTrue(isEachConnection(connection))
        if (!isEachConnection(connection)) return
        yield* connection.executeEach(insert, [[1], [2], [3]])
      }))
      assert.deepStrictEqual(yield* sql`SELECT n FROM t ORDER BY rowid`.values, [[1], [2], [3]])

      const failed = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
        const [connection] = yield* Effect.orDie(Effect.serviceOptional(SqlClient.TransactionConnection))
        if (!isEachConnection(connection)) return
        // the third row breaks NOT NULL after two were written
        yield* connection.executeEach(insert, [[4], [5], [null], [6]])
      })))
      assert.isTrue(Exit.isFailure(failed))
      if (Exit.isFailure(failed)) assert.include(String(failed.cause), "SqlError")
      assert.deepStrictEqual(yield* sql`SELECT n FROM t ORDER BY rowid`.values, [[1], [2], [3]])
    })))

  it.effect("a statement read as value rows answers with objects next time, also after a failed read", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (a INTEGER, b TEXT)`
      yield* sql`INSERT INTO t (a, b) VALUES (1, 'x')`
      const text = "SELECT a, b FROM t WHERE a >= ?"
      assert.deepStrictEqual(yield* sql.unsafe(text, [0]).values, [[1, "x"]])
      assert.deepStrictEqual(yield* sql.unsafe(text, [0]), [{ a: 1, b: "x" }])
      // too many parameters: better-sqlite3 throws while the statement reads value rows
      const failed = yield* Effect.exit(sql.unsafe(text, [0, 1]).values)
      assert.isTrue(Exit.isFailure(failed))
      assert.deepStrictEqual(yield* sql.unsafe(text, [0]), [{ a: 1, b: "x" }])
    })))

  it.effect("integers beyond 2^53 are read as bigint only where SafeIntegers is on", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (n INTEGER)`
      yield* sql`INSERT INTO t (n) VALUES (9007199254740993)`
      const read = sql`SELECT n FROM t`.values
      const safe = yield* read.pipe(Effect.provideService(SqlClient.SafeIntegers, true))
      assert.deepStrictEqual(safe, [[9007199254740993n]])
      // the same kept statement, without the flag: a number again
      const plain = yield* read
      assert.strictEqual(typeof plain[0]![0], "number")
    })))

  it.effect("a kept statement sees a column added to its table (with a cache of one, statements evicted and prepared again)", () =>
    run(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE t (a INTEGER)`
        yield* sql`INSERT INTO t (a) VALUES (1)`
        assert.deepStrictEqual(yield* sql`SELECT * FROM t`, [{ a: 1 }])
        yield* sql`ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7`
        assert.deepStrictEqual(yield* sql`SELECT * FROM t`, [{ a: 1, b: 7 }])
        for (let i = 0; i < 3; i++) {
          assert.deepStrictEqual(yield* sql`SELECT a FROM t`, [{ a: 1 }])
          assert.deepStrictEqual(yield* sql`SELECT b FROM t`, [{ b: 7 }])
        }
      }),
      1
    ))

  it.effect("a transaction holds the connection: another fiber's statements wait for its COMMIT", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (n INTEGER)`
      const first = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO t (n) VALUES (1)`
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
        yield* sql`INSERT INTO t (n) VALUES (2)`
      })))
      // let the transaction begin before the other writer asks
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
      yield* sql`INSERT INTO t (n) VALUES (3)`
      yield* Fiber.join(first)
      assert.deepStrictEqual(yield* sql`SELECT n FROM t ORDER BY rowid`.values, [[1], [2], [3]])
    })))
})
