/**
 * The MySQL / MariaDB driver (`@effect/sql-mysql2`), in a module of its own so it is loaded
 * only by a source that uses it.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Row, ServerTarget, Source, SourceOptions } from "../source.js"
import { describeTarget, fail, SourceFailure } from "../source.js"

/** Opens a MySQL or MariaDB source: a pool of at most two connections. @internal */
export const open = (options: SourceOptions, target: ServerTarget): Effect.Effect<Source, SourceFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* MysqlClient.make({
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      maxConnections: 2,
      poolConfig: {
        connectTimeout: options.connectTimeoutMs,
        // DATETIME values as text, so the source zone applies to them
        dateStrings: true,
        decimalNumbers: false,
        ...(target.ssl ? { ssl: {} } : {})
      }
    }).pipe(Effect.mapError(fail))

    const readOnly = Effect.gen(function*() {
      const conn = yield* client.reserve
      // session statements go over the text protocol (not every one of them can be prepared)
      const run = (statement: string, values: ReadonlyArray<unknown> = []) =>
        conn.executeUnprepared(statement, values, undefined)
      yield* Effect.addFinalizer(() => run("ROLLBACK").pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore))
      // MySQL: max_execution_time (ms); MariaDB: max_statement_time (s)
      yield* run("SET SESSION max_execution_time = ?", [Math.ceil(options.queryTimeoutMs)]).pipe(
        Effect.orElse(() => run("SET SESSION max_statement_time = ?", [options.queryTimeoutMs / 1000]))
      )
      yield* run("START TRANSACTION READ ONLY")
      return conn
    }).pipe(Effect.mapError(fail))

    const source: Source = {
      dialect: "mysql",
      target: describeTarget(options.connection, 3306),
      rows: (query, values) =>
        Stream.unwrapScoped(Effect.map(readOnly, (conn) => conn.executeStream(query.text, values, undefined))).pipe(
          Stream.mapError((e) => e instanceof SourceFailure ? e : fail(e))
        ) as Stream.Stream<Row, SourceFailure>,
      // mysql2's field list is not passed through @effect/sql-mysql2: columns are checked on rows
      columns: () => Effect.succeed(undefined)
    }
    return source
  }).pipe(Effect.provide(Reactivity.layer))
