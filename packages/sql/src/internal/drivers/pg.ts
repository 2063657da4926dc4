/**
 * The PostgreSQL driver (`pg`, `pg-cursor`, `@effect/sql-pg`), in a module of its own so it
 * is loaded only by a source that uses it (see `open` in `../source.js`).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import pg from "pg"
import Cursor from "pg-cursor"
import type { PreparedQuery } from "../../Guard.js"
import type { Column, Row, ServerTarget, Source, SourceOptions } from "../source.js"
import { describeTarget, fail, type SourceFailure } from "../source.js"

const pgCategory = (oid: number): Column["category"] => {
  switch (oid) {
    case 16:
      return "boolean"
    case 20:
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
    case 1700:
      return "number"
    case 18:
    case 19:
    case 25:
    case 1042:
    case 1043:
      return "text"
    case 1114:
    case 1184:
      return "timestamp"
    case 1082:
      return "date"
    default:
      return "unknown"
  }
}

const pgTypeName: Record<number, string> = {
  16: "boolean",
  20: "bigint",
  21: "smallint",
  23: "integer",
  700: "real",
  701: "double precision",
  1700: "numeric",
  25: "text",
  1042: "char",
  1043: "varchar",
  1114: "timestamp",
  1184: "timestamptz",
  1082: "date",
  1083: "time",
  1186: "interval",
  17: "bytea",
  114: "json",
  3802: "jsonb",
  2950: "uuid"
}

/** timestamps without a zone, and dates, stay text so the source zone applies to them */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === 1114 || oid === 1082) return (value: string) => value
    return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid, "text")
  }) as pg.CustomTypesConfig["getTypeParser"]
}

const pgReadOnly = (timeoutMs: number) => ({
  begin: "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
  settings: "SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)",
  values: [String(timeoutMs)]
})

/**
 * Streams a query through a pg-cursor on a client of our own from the pool, inside a
 * read-only transaction. (@effect/sql-pg's `executeStream` awaits `cursor.close()` after a
 * failed read, which never settles; here a failed or dropped connection is destroyed instead.)
 */
const pgCursorStream = (
  pool: pg.Pool,
  query: PreparedQuery,
  values: ReadonlyArray<unknown>,
  timeoutMs: number
): Stream.Stream<Row, SourceFailure> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    let broken: Error | undefined
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => pool.connect(), catch: fail }),
      (client) => Effect.sync(() => client.release(broken ?? false))
    )
    const onError = (e: Error) => {
      broken = e
    }
    client.on("error", onError)
    yield* Effect.addFinalizer(() => Effect.sync(() => client.off("error", onError)))
    const settle = (work: () => Promise<unknown>) =>
      Effect.suspend(() => broken ? Effect.void : Effect.promise(() => work().then(() => undefined, (e: Error) => {
        broken = e
      }))).pipe(
        Effect.timeoutOption(Duration.seconds(2)),
        Effect.map((done) => {
          if (done._tag === "None") broken ??= new Error("no answer while closing")
        })
      )
    const ro = pgReadOnly(timeoutMs)
    yield* Effect.tryPromise({ try: () => client.query(ro.begin), catch: fail })
    yield* Effect.addFinalizer(() => settle(() => client.query("ROLLBACK")))
    yield* Effect.tryPromise({ try: () => client.query(ro.settings, ro.values), catch: fail })
    const cursor = client.query(new Cursor<Row>(query.text, [...values]))
    yield* Effect.addFinalizer(() => settle(() => cursor.close()))
    const pull = Effect.async<Chunk.Chunk<Row>, Option.Option<SourceFailure>>((resume) => {
      cursor.read(256, (err, rows) => {
        if (err) {
          broken ??= err
          resume(Effect.fail(Option.some(fail(err))))
        } else if (rows.length > 0) {
          resume(Effect.succeed(Chunk.unsafeFromArray(rows)))
        } else {
          resume(Effect.fail(Option.none()))
        }
      })
    })
    return Stream.repeatEffectChunkOption(pull)
  }))

/** Opens a PostgreSQL source: a pool of at most two connections. @internal */
export const open = (options: SourceOptions, target: ServerTarget): Effect.Effect<Source, SourceFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => new pg.Pool({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      password: target.password ? Redacted.value(target.password) : undefined,
      ssl: target.ssl,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: "acd-bridge-sql",
      max: 2,
      types: pgTypes
    })),
      (p) => Effect.promise(() => p.end()).pipe(Effect.timeoutOption(Duration.seconds(2)))
    )
    pool.on("error", () => {
      // an idle client's connection dropped: the pool discards it
    })
    // connect once now, so a bad login or an unreachable host is reported as such
    yield* Effect.tryPromise({ try: () => pool.query("SELECT 1"), catch: fail })
    const client = yield* PgClient.fromPool({
      acquire: Effect.succeed(pool),
      applicationName: "acd-bridge-sql",
      types: pgTypes
    }).pipe(Effect.mapError(fail))

    /** a reserved connection inside a read-only transaction, rolled back when the scope closes */
    const readOnly = Effect.gen(function*() {
      const conn = yield* client.reserve
      yield* Effect.addFinalizer(() =>
        conn.executeRaw("ROLLBACK", []).pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore)
      )
      const ro = pgReadOnly(options.queryTimeoutMs)
      yield* conn.executeRaw(ro.begin, [])
      yield* conn.executeRaw(ro.settings, ro.values)
      return conn
    }).pipe(Effect.mapError(fail))

    const source: Source = {
      dialect: "pg",
      target: describeTarget(options.connection, 5432),
      rows: (query, values) => pgCursorStream(pool, query, values, options.queryTimeoutMs),
      columns: (query, values) =>
        Effect.scoped(Effect.gen(function*() {
          const conn = yield* readOnly
          const result = yield* conn.executeRaw(query.text, values).pipe(Effect.mapError(fail))
          const fieldList = (result as { fields?: ReadonlyArray<{ name: string; dataTypeID: number }> }).fields ?? []
          return fieldList.map((f): Column => ({
            name: f.name,
            type: pgTypeName[f.dataTypeID] ?? `type ${f.dataTypeID}`,
            category: pgCategory(f.dataTypeID)
          }))
        }))
    }
    return source
  }).pipe(Effect.provide(Reactivity.layer))
