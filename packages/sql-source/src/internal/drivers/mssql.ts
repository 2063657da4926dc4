/**
 * The SQL Server driver (`@effect/sql-mssql`, tedious), in a module of its own so it is
 * loaded only by a source that uses it.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as MssqlClient from "@effect/sql-mssql/MssqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { MssqlLoginRow } from "../privileges.js"
import { mssqlFindings, mssqlPrivilegesQueries } from "../privileges.js"
import type { Row, ServerTarget, Source, SourceOptions } from "../source.js"
import { describeTarget, fail, type SourceFailure } from "../source.js"

/** Opens a SQL Server source: a pool of at most two connections. @internal */
export const open = (options: SourceOptions, target: ServerTarget): Effect.Effect<Source, SourceFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* MssqlClient.make({
      server: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      encrypt: target.ssl ?? true,
      trustServer: target.trustServerCertificate ?? false,
      connectTimeout: Duration.millis(options.connectTimeoutMs),
      maxConnections: 2
    }).pipe(Effect.mapError(fail))
    // connect once now, so a bad login or an unreachable host is reported as such
    yield* client.unsafe("SELECT 1 AS ok").pipe(Effect.mapError(fail))

    /**
     * SQL Server has no read-only transaction: the query runs in a transaction that is always
     * rolled back (the result is carried out of it through a deliberate failure).
     */
    class Carry {
      readonly _tag = "Carry"
      constructor(readonly rows: ReadonlyArray<Row>) {}
    }
    const inRolledBackTransaction = (run: Effect.Effect<ReadonlyArray<Row>, unknown>) =>
      client.withTransaction(Effect.flatMap(run, (rows) => Effect.fail(new Carry(rows)))).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(options.queryTimeoutMs),
          onTimeout: () => Object.assign(new Error("query timeout"), { code: "ETIMEOUT" })
        }),
        Effect.catchAll((e) => e instanceof Carry ? Effect.succeed(e.rows) : Effect.fail(fail(e)))
      )

    // tedious binds JavaScript numbers as INT; epoch milliseconds need BIGINT
    const bind = (values: ReadonlyArray<unknown>) =>
      values.map((v) => typeof v === "number" && Number.isInteger(v) && Math.abs(v) > 2_147_483_647 ? BigInt(v) : v)

    const source: Source = {
      dialect: "mssql",
      target: describeTarget(options.connection, 1433),
      // @effect/sql-mssql buffers a result whole; the connector bounds it by slicing the window
      rows: (query, values) =>
        Stream.fromIterableEffect(inRolledBackTransaction(client.unsafe<Row>(query.text, bind(values)))),
      columns: () => Effect.succeed(undefined),
      privileges: Effect.gen(function*() {
        const [login] = yield* inRolledBackTransaction(client.unsafe<Row>(mssqlPrivilegesQueries.login))
        if (login === undefined) return undefined
        const writable = yield* inRolledBackTransaction(client.unsafe<Row>(mssqlPrivilegesQueries.writable))
        return mssqlFindings(
          login as unknown as MssqlLoginRow,
          writable as unknown as Parameters<typeof mssqlFindings>[1]
        )
      })
    }
    return source
  }).pipe(Effect.provide(Reactivity.layer))
