/**
 * Group commit (SQLite): transactions that arrive while another commit is in flight are run in
 * ONE database transaction and made durable by one COMMIT, so the cost of the commit's fsync
 * (`synchronous = FULL`) is shared instead of paid by each push. A lone transaction runs at once:
 * nothing waits for a timer, only what queued during the previous commit is coalesced.
 *
 * A caller that finds nobody committing, and nobody else arriving in the same turn of the event
 * loop, runs its transaction in its own fiber, as a group of one would (no savepoint, the same
 * retries and failures) but without the worker's mailbox, reply and two fiber hand-offs, which
 * cost a lone push of 10 statuses about a fifth of its CPU time. Callers that arrive meanwhile
 * queue, and the worker takes them when it ends.
 *
 * How a group runs:
 * - the first caller to find nobody committing forks the worker, which takes every queued
 *   caller (up to `maxGroup`), opens the transaction and gives each caller its turn in arrival
 *   order (one integration's statuses keep their order);
 * - a caller runs its own effect in its own fiber (its services, spans, log annotations and
 *   interruption stay its own) on the group's connection, inside a SAVEPOINT of its own: a
 *   typed failure (a fenced write, a reused idempotency key, an interruption) rolls back only
 *   its part, and the others go on; a caller alone in its group runs on the transaction itself
 *   (a savepoint would make SQLite copy each page it changes into a sub-journal, which cost a
 *   batch of interval upserts about as much as the upserts), and any failure of its part rolls
 *   the transaction back;
 * - a storage failure or a defect in one part may have undone the whole SQLite transaction
 *   (`SQLITE_FULL`, `SQLITE_IOERR` roll it back by themselves), so the group is rolled back
 *   whole: the part that failed gets its failure, the others run again in a new transaction;
 * - every caller is answered only once the COMMIT holding its part has returned (durable), or
 *   with the failure that undid it; a part's own failure is answered with the group too, as it
 *   may have been decided on what the parts before it wrote;
 * - a transient failure (`SQLITE_BUSY`: another process held the lock past `busy_timeout`)
 *   runs the whole group again, with the backoff a lone transaction had.
 *
 * A transaction inside a transaction joins the outer one (a nested savepoint), never the queue.
 */
import { Errors } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import type * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Dialect from "./dialect.js"

/** The connection of the group's open transaction, as @effect/sql keeps it in context. */
type Connection = Context.Tag.Service<typeof SqlClient.TransactionConnection>

/** What the worker tells a caller. */
type Message =
  | {
    /** run your part now, on this connection, and reply with how it ended */
    readonly _tag: "Turn"
    readonly connection: Connection
    /**
     * the only part of its group: run on the group's transaction itself, no savepoint (a
     * savepoint makes SQLite copy every page the part changes into a sub-journal, about as
     * much work as the part's own writes); the group rolls back whole if this part fails
     */
    readonly alone: boolean
    readonly reply: Deferred.Deferred<Exit.Exit<unknown, unknown>>
  }
  | {
    /** the group's commit has returned: answer with your part's outcome */
    readonly _tag: "Committed"
  }
  | {
    /** your part is over without a commit: answer with this */
    readonly _tag: "Failed"
    readonly cause: Cause.Cause<unknown>
  }

/** A caller waiting in the queue: its mailbox. */
type Caller = Queue.Queue<Message>

interface State {
  readonly running: boolean
  readonly pending: Chunk.Chunk<Caller>
}

/** What a group (or a lone caller) does after an attempt at its transaction. */
type Decision =
  | { readonly _tag: "Committed" }
  | { readonly _tag: "Retry" }
  /** part `index` gets `cause`; the others (if any) run again */
  | { readonly _tag: "PartFailed"; readonly index: number; readonly cause: Cause.Cause<unknown> }
  /** everyone gets `cause` */
  | { readonly _tag: "Failed"; readonly cause: Cause.Cause<unknown> }

/** A part ended so that the transaction can't be trusted any more: roll back the whole group. */
class PartFailed extends Data.TaggedError("PartFailed")<{
  readonly index: number
  readonly cause: Cause.Cause<unknown>
}> {}

/**
 * A part whose failure its savepoint undoes cleanly: a typed failure of the engine's rules or
 * an interruption. A failure of the database (`StorageError`, `SqlError`) or a defect may
 * have ended the transaction itself, so it is not isolated.
 */
const isolated = (exit: Exit.Exit<unknown, unknown>): boolean => {
  if (Exit.isSuccess(exit)) return true
  const cause = exit.cause
  if (!Chunk.isEmpty(Cause.defects(cause))) return false
  return !Chunk.some(
    Cause.failures(cause),
    (e) => Dialect.isSqlError(e) || (typeof e === "object" && e !== null && "_tag" in e && e._tag === "StorageError")
  )
}

/**
 * Waits for the event loop's current turn to end (`setImmediate`, not a timer): better-sqlite3
 * runs statements and the COMMIT's fsync on this thread, and Effect runs fibers in microtasks,
 * so without it a transaction starts before the I/O callbacks of requests that arrived during
 * the previous commit have run, and every push commits alone. Idle, this costs microseconds.
 */
const eventLoopTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** How many transient failures in a row a group survives, and the wait before each retry. */
const retries = 8
const backoff = (attempt: number) => Effect.sleep(Math.round(5 * 2 ** attempt * (0.8 + 0.4 * Math.random())))

export interface Options {
  /** Most callers in one transaction (default 256), so a backlog still commits in steps. */
  readonly maxGroup?: number | undefined
}

/**
 * `transaction` for the SQLite driver: see the module documentation. `sql` is the client the
 * driver's statements run on.
 */
export const make = (sql: SqlClient.SqlClient, options: Options = {}) =>
  Effect.map(Ref.make<State>({ running: false, pending: Chunk.empty() }), (state) => {
    const maxGroup = Math.max(1, options.maxGroup ?? 256)

    /** the database's failure that ended a group: @effect/sql reports a failed COMMIT as a defect */
    const sqlFailure = (cause: Cause.Cause<unknown>): Option.Option<unknown> =>
      Option.orElse(Cause.failureOption(cause), () => Chunk.findFirst(Cause.defects(cause), Dialect.isSqlError))

    /**
     * What to do after an attempt at a transaction (`outcome`: how `sql.withTransaction` ended)
     * whose part `index` may have failed it (`PartFailed`).
     */
    const decide = (outcome: Exit.Exit<void, unknown>, attempt: number): Decision => {
      if (Exit.isSuccess(outcome)) return { _tag: "Committed" }
      const failed = Cause.failureOption(outcome.cause)
      if (Option.isSome(failed) && failed.value instanceof PartFailed) {
        const { cause, index } = failed.value
        // the database was busy: everyone again, as a lone transaction would have been
        if (Cause.failures(cause).pipe(Chunk.some(Dialect.isTransient)) && attempt < retries) return { _tag: "Retry" }
        // the part that failed gets its failure
        const own = Cause.isFailure(cause) ? cause : Option.match(sqlFailure(cause), {
          // a failed ROLLBACK TO SAVEPOINT is a defect in @effect/sql: a storage failure
          onSome: (error) => Cause.fail(Errors.StorageError.fromCause("transaction", error)),
          onNone: () => cause
        })
        return { _tag: "PartFailed", index, cause: own }
      }
      // BEGIN or COMMIT failed: nothing of the transaction is durable
      const error = sqlFailure(outcome.cause)
      if (Option.isSome(error) && Dialect.isTransient(error.value) && attempt < retries) return { _tag: "Retry" }
      return {
        _tag: "Failed",
        cause: Option.isSome(error)
          ? Cause.fail(Dialect.isSqlError(error.value) ? Errors.StorageError.fromCause("transaction", error.value) : error.value)
          : outcome.cause
      }
    }

    /** Runs `callers` as one transaction until each has its answer. */
    const runGroup = (group: ReadonlyArray<Caller>) =>
      Effect.gen(function*() {
        let members = group
        let attempt = 0
        while (members.length > 0) {
          const outcome = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
            // provided by withTransaction at run time (its type does not say so)
            const connection = yield* Effect.orDie(Effect.serviceOptional(SqlClient.TransactionConnection))
            const alone = members.length === 1
            for (let index = 0; index < members.length; index++) {
              const reply = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
              yield* Queue.offer(members[index]!, { _tag: "Turn", connection, alone, reply })
              const exit = yield* Deferred.await(reply)
              // a lone part has no savepoint to undo it by: any failure rolls the transaction back
              if (!isolated(exit) || (alone && Exit.isFailure(exit))) {
                return yield* new PartFailed({ index, cause: Exit.isFailure(exit) ? exit.cause : Cause.empty })
              }
            }
          })))
          const decision = decide(outcome, attempt)
          switch (decision._tag) {
            case "Committed":
              yield* Effect.forEach(members, (caller) => Queue.offer(caller, { _tag: "Committed" }), { discard: true })
              return
            case "Retry":
              yield* backoff(attempt++)
              continue
            case "PartFailed": {
              // the others run again in a new transaction
              const index = decision.index
              yield* Queue.offer(members[index]!, { _tag: "Failed", cause: decision.cause })
              members = members.filter((_, i) => i !== index)
              continue
            }
            case "Failed": {
              const cause = decision.cause
              yield* Effect.forEach(members, (caller) => Queue.offer(caller, { _tag: "Failed", cause }), { discard: true })
              return
            }
          }
        }
      }).pipe(Effect.withSpan("SqlStorage.commitGroup", {
        root: true,
        attributes: { callers: group.length },
        // a stack trace here would only name this module, at a cost on every commit
        captureStackTrace: false
      }))

    /** Takes groups off the queue until it is empty, then stops (the next caller starts it again). */
    const worker: Effect.Effect<void> = Effect.gen(function*() {
      while (true) {
        yield* eventLoopTurn
        const group = yield* Ref.modify(state, (s): [Chunk.Chunk<Caller>, State] =>
          Chunk.isEmpty(s.pending)
            ? [s.pending, { running: false, pending: s.pending }]
            : [Chunk.take(s.pending, maxGroup), { running: true, pending: Chunk.drop(s.pending, maxGroup) }])
        if (Chunk.isEmpty(group)) return
        yield* runGroup(Chunk.toReadonlyArray(group))
      }
    })

    /**
     * A caller that found nobody committing: its transaction in its own fiber, as the only part of
     * a group (no savepoint; any failure of its part rolls the transaction back).
     */
    const runLone = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Errors.StorageError, R> =>
      Effect.gen(function*() {
        let attempt = 0
        while (true) {
          let last: Exit.Exit<A, E | Errors.StorageError> = Exit.die("group commit: the part did not run")
          const outcome = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
            last = yield* Effect.exit(Dialect.edge("transaction")(effect))
            if (Exit.isFailure(last)) return yield* new PartFailed({ index: 0, cause: last.cause })
          })))
          const decision = decide(outcome, attempt)
          switch (decision._tag) {
            case "Committed":
              return yield* last
            case "Retry":
              yield* backoff(attempt++)
              continue
            default:
              return yield* Effect.failCause(decision.cause as Cause.Cause<E | Errors.StorageError>)
          }
        }
      }).pipe(Effect.withSpan("SqlStorage.commitGroup", { attributes: { callers: 1 }, captureStackTrace: false }))

    /** After a lone transaction: the worker takes whoever queued meanwhile, or nobody is committing. */
    const releaseLone = Effect.flatMap(
      Ref.modify(state, (s): [boolean, State] => Chunk.isEmpty(s.pending) ? [false, { running: false, pending: s.pending }] : [true, s]),
      (queued) => queued ? Effect.asVoid(Effect.forkDaemon(worker)) : Effect.void
    )

    const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Errors.StorageError, R> =>
      Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (outer) =>
        Option.isSome(outer)
          // inside a transaction: join it (a savepoint), never wait behind it
          ? sql.withTransaction(effect).pipe(Dialect.edge("transaction"))
          // waits are not interruptible, so a turn given is always answered; the caller's own
          // effect is, and its interruption rolls back its savepoint
          : Effect.uninterruptibleMask((restore) =>
            Effect.gen(function*() {
              const first = yield* Ref.modify(state, (s): [boolean, State] =>
                s.running ? [false, s] : [true, { running: true, pending: s.pending }])
              if (first) {
                // requests read in this turn of the event loop arrive in its later callbacks
                yield* eventLoopTurn
                if (Chunk.isEmpty((yield* Ref.get(state)).pending)) {
                  return yield* Effect.ensuring(runLone(restore(effect)), releaseLone)
                }
              }
              // the first of a group is ahead of those who queued during its turn, and starts the worker
              const mailbox = yield* Queue.unbounded<Message>()
              const start = yield* Ref.modify(state, (s): [boolean, State] =>
                first
                  ? [true, { running: true, pending: Chunk.prepend(s.pending, mailbox) }]
                  : [!s.running, { running: true, pending: Chunk.append(s.pending, mailbox) }])
              if (start) yield* Effect.forkDaemon(worker)
              let last: Exit.Exit<A, E | Errors.StorageError> = Exit.die("group commit: no turn was given")
              while (true) {
                const message = yield* Queue.take(mailbox)
                switch (message._tag) {
                  case "Turn": {
                    last = yield* Effect.exit(
                      (message.alone ? restore(effect) : sql.withTransaction(restore(effect))).pipe(
                        Effect.provideService(SqlClient.TransactionConnection, message.connection),
                        Dialect.edge("transaction")
                      )
                    )
                    yield* Deferred.succeed(message.reply, last)
                    break
                  }
                  case "Committed":
                    return yield* last
                  case "Failed":
                    return yield* Effect.failCause(message.cause as Cause.Cause<E | Errors.StorageError>)
                }
              }
            })
          ))

    return transaction
  })
