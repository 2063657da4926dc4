/**
 * The "customer database" of the example: a SQLite file with a `calls` table as a customer's
 * own telephony reporting might hold it — one row per call with its queue, channel, start time,
 * whether an agent took it and how long it took. Seeded (the same rows for the same day), so a
 * test can compare what arrives in the engine with what is here.
 *
 *   pnpm seed [file] [days]      # default ./data/customer.sqlite, 7 days up to the last full hour
 *
 * @since 0.3.0
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const HOUR = 3_600_000

/** The queues of the customer's contact centre: id, name, channel, calls per hour at the daily peak. */
export const queues = [
  { id: "Q100", name: "Sales hotline", channel: "calls", peak: 40, talk: 240 },
  { id: "Q200", name: "Technical support", channel: "calls", peak: 30, talk: 480 },
  { id: "Q300", name: "Billing chat", channel: "chats", peak: 15, talk: 360 }
] as const

/** A small seeded generator (mulberry32): the same rows for the same seed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6D2B79F5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Calls per hour at an hour of the day (UTC): quiet nights, peaks late morning and mid-afternoon. */
const curve = (hourOfDay: number) =>
  hourOfDay < 6 || hourOfDay >= 21
    ? 0.05
    : 0.3 + 0.7 * Math.max(Math.exp(-(((hourOfDay - 10.5) / 2) ** 2)), 0.8 * Math.exp(-(((hourOfDay - 14.5) / 2) ** 2)))

/** One call as it is stored. */
export type Call = {
  readonly queue_id: string
  readonly queue_name: string
  readonly channel: string
  readonly started_at: string
  readonly answered: number
  readonly talk_seconds: number
}

/** The calls of the hours [from, to) (epoch ms, whole hours). */
export const callsOf = (from: number, to: number): Array<Call> => {
  const calls: Array<Call> = []
  for (let hour = from; hour < to; hour += HOUR) {
    const next = random(hour / HOUR)
    for (const q of queues) {
      const n = Math.round(q.peak * curve(new Date(hour).getUTCHours()) * (0.8 + 0.4 * next()))
      for (let i = 0; i < n; i++) {
        const answered = next() < 0.9 ? 1 : 0
        calls.push({
          queue_id: q.id,
          queue_name: q.name,
          channel: q.channel,
          started_at: new Date(hour + Math.floor(next() * HOUR)).toISOString(),
          answered,
          talk_seconds: answered === 1 ? Math.round(q.talk * (0.3 + 1.4 * next())) : Math.round(10 + 50 * next())
        })
      }
    }
  }
  return calls
}

/**
 * The query the link's `sql` connector runs for a window (`:from`, `:to` are bound by the
 * connector; the columns are named as the connector expects).
 */
export const contactsQuery =
  "SELECT queue_id AS queue_identifier, queue_name, channel, started_at AS timestamp, 1 AS offered, answered AS handled, talk_seconds AS duration FROM calls WHERE started_at >= :from AND started_at < :to"

/** Creates (or re-creates) the database with `days` days of calls up to the last full hour. */
export const seed = (file: string, now: number, days: number) =>
  Effect.gen(function*() {
    const to = Math.floor(now / HOUR) * HOUR
    const from = to - days * 24 * HOUR
    const calls = callsOf(from, to)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.rmSync(file, { force: true })
    yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE calls (queue_id TEXT NOT NULL, queue_name TEXT NOT NULL, channel TEXT NOT NULL, started_at TEXT NOT NULL, answered INTEGER NOT NULL, talk_seconds INTEGER NOT NULL)`
      yield* sql`CREATE INDEX calls_started_at ON calls (started_at)`
      yield* sql.withTransaction(Effect.forEach(
        Array.from({ length: Math.ceil(calls.length / 500) }, (_, i) => calls.slice(i * 500, (i + 1) * 500)),
        (chunk) => sql`INSERT INTO calls ${sql.insert(chunk)}`,
        { discard: true }
      ))
    }).pipe(Effect.provide(SqliteClient.layer({ filename: file })))
    return { file, from, to, calls: calls.length }
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = path.resolve(process.argv[2] ?? "data/customer.sqlite")
  const days = Number(process.argv[3] ?? 7)
  Effect.runPromise(seed(file, Date.now(), days)).then((r) => {
    process.stdout.write(`${r.file}: ${r.calls} calls from ${new Date(r.from).toISOString()} to ${new Date(r.to).toISOString()}\n`)
  }, (error: unknown) => {
    process.stderr.write(`seeding failed: ${String(error)}\n`)
    process.exit(1)
  })
}
