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
import { mysqlFindings, mysqlGrantee, mysqlPrivilegesQueries } from "../privileges.js"
import type { Row, ServerTarget, Source, SourceOptions } from "../source.js"
import { closingStepMs, describeTarget, fail, type SourceFailure, sessionStream } from "../source.js"

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

    const sourceScope = yield* Effect.scope

    /** a closing step: bounded, and interruptible so the bound can fire inside a finalizer */
    const closingStep = <A, E>(step: Effect.Effect<A, E>) =>
      step.pipe(Effect.interruptible, Effect.timeout(Duration.millis(closingStepMs)), Effect.ignore)

    /**
     * A reserved connection in a read-only transaction for one query. `done` is set once the
     * query's rows were read to the end or the server failed it; until then, closing asks
     * the server to stop the query (`KILL QUERY`, from another connection of the pool) so
     * neither the ROLLBACK nor the end of the pool waits for rows nobody will read.
     */
    const readOnly = Effect.gen(function*() {
      const conn = yield* client.reserve
      // session statements go over the text protocol (not every one of them can be prepared)
      const run = (statement: string, values: ReadonlyArray<unknown> = []) =>
        conn.executeUnprepared(statement, values, undefined)
      const state = { done: false, id: undefined as number | undefined }
      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          if (!state.done && state.id !== undefined) {
            // KILL takes no placeholder; the id is an integer the server gave us
            const kill = `KILL QUERY ${state.id}`
            yield* closingStep(Effect.scoped(Effect.flatMap(client.reserve, (c) => c.executeUnprepared(kill, [], undefined))))
          }
          // mysql2 runs a connection's commands in order: a ROLLBACK we stop waiting for still
          // runs before whatever the connection does next
          yield* closingStep(run("ROLLBACK"))
        })
      )
      const [row] = yield* run("SELECT CONNECTION_ID() AS id")
      const id = Number((row as { id?: unknown } | undefined)?.id)
      if (Number.isSafeInteger(id)) state.id = id
      // MySQL: max_execution_time (ms); MariaDB: max_statement_time (s)
      yield* run("SET SESSION max_execution_time = ?", [Math.ceil(options.queryTimeoutMs)]).pipe(
        Effect.orElse(() => run("SET SESSION max_statement_time = ?", [options.queryTimeoutMs / 1000]))
      )
      yield* run("START TRANSACTION READ ONLY")
      return { conn, state }
    }).pipe(Effect.mapError(fail))

    const source: Source = {
      dialect: "mysql",
      target: describeTarget(options.connection, 3306),
      rows: (query, values) =>
        sessionStream(
          sourceScope,
          Effect.gen(function*() {
            const { conn, state } = yield* readOnly
            // pulled from within the session's scope, so the row stream is ended (mysql2
            // destroys it, which resumes a paused connection) before the KILL and the ROLLBACK
            const pull = yield* Stream.toPull(
              conn.executeStream(query.text, values, undefined).pipe(
                Stream.onEnd(Effect.sync(() => {
                  state.done = true
                })),
                Stream.tapError(() =>
                  Effect.sync(() => {
                    state.done = true
                  })
                ),
                Stream.mapError(fail)
              )
            )
            return Stream.repeatEffectChunkOption(pull)
          })
        ) as Stream.Stream<Row, SourceFailure>,
      privileges: Effect.scoped(Effect.gen(function*() {
        const { conn, state } = yield* readOnly
        const run = (statement: string, values: ReadonlyArray<unknown> = []) =>
          Effect.mapError(conn.executeUnprepared(statement, values, undefined), fail)
        const [login] = yield* run(mysqlPrivilegesQueries.login)
        const currentUser = String((login as { login?: unknown } | undefined)?.login ?? "")
        const grantee = mysqlGrantee(currentUser)
        const global = yield* run(mysqlPrivilegesQueries.global, [grantee])
        const schema = yield* run(mysqlPrivilegesQueries.schema, [grantee])
        const table = yield* run(mysqlPrivilegesQueries.table, [grantee])
        state.done = true
        return mysqlFindings(
          currentUser,
          global as ReadonlyArray<{ privilege: string; grantable?: string }>,
          schema as ReadonlyArray<{ db: string; privilege: string }>,
          table as ReadonlyArray<{ db: string; name: string; privilege: string }>
        )
      })),
      // mysql2's field list is not passed through @effect/sql-mysql2: columns are checked on rows
      columns: () => Effect.succeed(undefined)
    }
    return source
  }).pipe(Effect.provide(Reactivity.layer))
