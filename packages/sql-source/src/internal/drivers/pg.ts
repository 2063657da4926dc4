/**
 * The PostgreSQL driver (`pg`, `pg-cursor`), in a module of its own so it is loaded only by a
 * source that uses it (see `open` in `../source.js`).
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import pg from "pg"
import Cursor from "pg-cursor"
import type { PgPrivilegesRow } from "../privileges.js"
import { pgFindings, pgPrivilegesParameters, pgPrivilegesQuery } from "../privileges.js"
import type { Column, Row, ServerTarget, Source, SourceOptions } from "../source.js"
import { closingStepMs, describeTarget, fail, type SourceFailure, sessionStream, within } from "../source.js"

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

const readOnlyBegin = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
const sessionSettings = "SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', 'UTC', true)"

/** rows fetched per round trip */
const fetchSize = 256

/**
 * Asks the server to cancel what one of our connections is running: the protocol's
 * CancelRequest (length 16, code 80877102, the backend's process id and secret key), sent
 * on a connection of its own, which the server closes once it has read it. It needs no
 * login and no free connection of the pool. Plain TCP also when the session uses TLS: the
 * server reads a CancelRequest before any TLS negotiation.
 */
const cancelRequest = (target: ServerTarget, processID: number, secretKey: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const port = target.port ?? 5432
    const socket = target.host.startsWith("/")
      ? net.connect({ path: `${target.host}/.s.PGSQL.${port}` })
      : net.connect({ host: target.host, port })
    socket.once("connect", () => {
      const message = Buffer.alloc(16)
      message.writeInt32BE(16, 0)
      message.writeInt32BE(80877102, 4)
      message.writeInt32BE(processID, 8)
      message.writeInt32BE(secretKey, 12)
      socket.end(message)
    })
    socket.once("error", reject)
    socket.once("close", () => resolve())
  })

/** The backend's cancel key, which `pg` keeps on the client (not in its typings). */
const cancelKey = (client: pg.PoolClient): { processID: number; secretKey: number } | undefined => {
  const { processID, secretKey } = client as unknown as { processID?: unknown; secretKey?: unknown }
  return typeof processID === "number" && typeof secretKey === "number" ? { processID, secretKey } : undefined
}

interface Fetched {
  readonly rows: ReadonlyArray<Row>
  readonly fields: ReadonlyArray<{ readonly name: string; readonly dataTypeID: number }> | undefined
}

/** One query on a connection of its own, inside a read-only transaction. */
interface Session {
  /** the next rows of the query (none: the end), and the result's fields on the first fetch */
  readonly fetch: Effect.Effect<Fetched, SourceFailure>
}

/**
 * Checks a connection out of the pool, opens a read-only transaction (statement timeout and
 * UTC set locally in it) and a cursor over the query, and registers — as one finalizer, so
 * the steps can't be reordered — the end of all three, on every exit:
 *
 * 1. a fetch still in flight (the server is running the query, or sending rows nobody will
 *    read) is cancelled with a CancelRequest rather than waited for;
 * 2. the cursor's portal is closed (not needed after an error or its last row);
 * 3. `ROLLBACK`;
 * 4. the connection goes back to the pool — or, when a step failed or did not answer within
 *    `closingStepMs`, it is destroyed, which ends the server's session and its transaction.
 *
 * Each step is bounded with plain timers (`within`): the finalizer always ends, within a few
 * seconds at worst, and never leaves a session idle in a transaction.
 */
const openSession = (
  pool: pg.Pool,
  target: ServerTarget,
  options: SourceOptions,
  text: string,
  values: ReadonlyArray<unknown>
): Effect.Effect<Session, SourceFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const state: {
      /** why the connection can't be pooled again (a dropped connection, a step with no answer) */
      broken: Error | undefined
      inTransaction: boolean
      cursor: Cursor<Row> | undefined
      cursorState: "open" | "failed" | "ended"
      /** the fetch the server is working on */
      inFlight: Promise<unknown> | undefined
    } = { broken: undefined, inTransaction: false, cursor: undefined, cursorState: "open", inFlight: undefined }
    const onError = (e: Error) => {
      state.broken ??= e
    }

    const close = async (client: pg.PoolClient) => {
      const step = async (work: () => Promise<unknown>, what: string) => {
        if (state.broken) return
        const outcome = await within(work(), closingStepMs)
        if (outcome !== "done") state.broken = new Error(`${what}: ${outcome === "timeout" ? "no answer" : "failed"}`)
      }
      try {
        const pending = state.inFlight
        if (pending) {
          const key = cancelKey(client)
          if (key && !state.broken) await within(cancelRequest(target, key.processID, key.secretKey), closingStepMs)
          if ((await within(pending, closingStepMs)) === "timeout") state.broken ??= new Error("the query did not stop")
        }
        const cursor = state.cursor
        if (cursor && state.cursorState === "open") await step(() => cursor.close(), "closing the cursor")
        if (state.inTransaction) await step(() => client.query("ROLLBACK"), "ROLLBACK")
      } catch (e) {
        state.broken ??= e instanceof Error ? e : new Error(String(e))
      }
      client.off("error", onError)
      if (state.broken) {
        // destroyed rather than pooled: its session ends on the server, and with it the transaction
        const ended = new Promise<void>((resolve) => client.once("end", () => resolve()))
        client.release(state.broken)
        await within(ended, closingStepMs)
      } else {
        client.release()
      }
    }

    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => pool.connect(), catch: fail }),
      (client) => Effect.promise(() => close(client))
    )
    client.on("error", onError)
    const run = (statement: string, parameters: ReadonlyArray<unknown> = []) =>
      Effect.tryPromise({ try: () => client.query(statement, [...parameters]), catch: fail })
    state.inTransaction = true
    yield* run(readOnlyBegin)
    yield* run(sessionSettings, [String(options.queryTimeoutMs)])
    const opened = client.query(new Cursor<Row>(text, [...values]))
    state.cursor = opened

    const fetch = Effect.async<Fetched, SourceFailure>((resume) => {
      if (state.cursorState === "ended") return resume(Effect.succeed({ rows: [], fields: undefined }))
      state.inFlight = new Promise<void>((settled) => {
        opened.read(fetchSize, (err, rows, result) => {
          state.inFlight = undefined
          settled()
          if (err) {
            state.cursorState = "failed"
            resume(Effect.fail(fail(err)))
          } else {
            if (rows.length === 0) state.cursorState = "ended"
            resume(Effect.succeed({ rows, fields: result?.fields }))
          }
        })
      })
    }).pipe(
      // the server cancels a query past statement_timeout; this catches a server that
      // stopped answering altogether
      Effect.timeoutFail({
        duration: Duration.millis(options.queryTimeoutMs + 10_000),
        onTimeout: () => fail(Object.assign(new Error("the server did not answer in time"), { code: "ETIMEOUT" }))
      })
    )
    return { fetch }
  })

/** Opens a PostgreSQL source: a pool of at most two connections. @internal */
export const open = (options: SourceOptions, target: ServerTarget): Effect.Effect<Source, SourceFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new pg.Pool({
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
        })
      ),
      // sessions are closed before this (they live in scopes forked from this one)
      (p) => Effect.promise(() => within(p.end(), closingStepMs))
    )
    pool.on("error", () => {
      // an idle client's connection dropped: the pool discards it
    })
    // connect once now, so a bad login or an unreachable host is reported as such
    yield* Effect.tryPromise({ try: () => pool.query("SELECT 1"), catch: fail })
    const sourceScope = yield* Effect.scope

    const source: Source = {
      dialect: "pg",
      target: describeTarget(options.connection, 5432),
      rows: (query, values) =>
        sessionStream(
          sourceScope,
          Effect.map(openSession(pool, target, options, query.text, values), (session) =>
            Stream.repeatEffectChunkOption(
              session.fetch.pipe(
                Effect.mapError(Option.some),
                Effect.flatMap(({ rows }) =>
                  rows.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(rows))
                )
              )
            ))
        ),
      privileges: Effect.scoped(Effect.gen(function*() {
        const session = yield* openSession(pool, target, options, pgPrivilegesQuery, pgPrivilegesParameters)
        const [row] = (yield* session.fetch).rows
        return row === undefined ? undefined : pgFindings(row as unknown as PgPrivilegesRow)
      })),
      columns: (query, values) =>
        Effect.scoped(Effect.gen(function*() {
          const session = yield* openSession(pool, target, options, query.text, values)
          // run the query to its end (errors that only show at execution surface here too),
          // keeping the first fetch's field list and no rows
          const first = yield* session.fetch
          for (let rows = first.rows; rows.length > 0;) rows = (yield* session.fetch).rows
          return (first.fields ?? []).map((f): Column => ({
            name: f.name,
            type: pgTypeName[f.dataTypeID] ?? `type ${f.dataTypeID}`,
            category: pgCategory(f.dataTypeID)
          }))
        }))
    }
    return source
  })
