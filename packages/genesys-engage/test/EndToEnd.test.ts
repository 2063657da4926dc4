/**
 * Simulator (SQLite and PostgreSQL) → connector → engine (core + SQLite storage) → intervals
 * (through core's Intervals and through the HTTP API's `GET /v1/intervals`) and agent segments, for a week in Berlin that contains the spring-forward change, compared
 * with the scenario's ground truth for every queue and interval.
 *
 * The ETL runs every 6 hours (with a 2-minute lag) and a scheduler run follows each tick,
 * reading [cursor − 24 h, now): the first reads see active facts and half-filled aggregates;
 * the look-back re-imports replace them with the corrected rows.
 */
import { assert, describe, it } from "@effect/vitest"
import { Scenario } from "@acd-bridge/testkit"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as path from "node:path"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"
import * as GenesysSimulator from "../src/GenesysSimulator.js"
import type { Comparable } from "./engine.js"
import { engineWithHttp, fromExpected, fromRow, intervalsOverHttp, setup } from "./engine.js"
import { dstWeek, freshPgDatabase, pgConnection, tempDir } from "./fixtures.js"

const scenario = Scenario.generate(dstWeek)
const HOUR = 3_600_000
const QUARTER = 900_000

interface Backend {
  readonly name: string
  readonly make: Effect.Effect<
    { sim: GenesysSimulator.GenesysSimulator; connection: Pick<GenesysConfigEncoded, "driver" | "connection" | "schema"> },
    unknown,
    Scope.Scope
  >
}

const backends: ReadonlyArray<Backend> = [
  {
    name: "SQLite",
    make: Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = path.join(dir, "gim.sqlite")
      const sim = yield* GenesysSimulator.makeSqlite(filename, scenario, { etlLagSeconds: 120 })
      return { sim, connection: { driver: "sqlite" as const, connection: { filename } } }
    })
  },
  {
    name: "PostgreSQL",
    make: Effect.gen(function*() {
      const db = yield* freshPgDatabase
      const sim = yield* GenesysSimulator.makePg(db.url, scenario, { etlLagSeconds: 120, schema: "gim" })
      return { sim, connection: { driver: "pg" as const, connection: pgConnection(db.url), schema: "gim" } }
    })
  }
]

const sources: ReadonlyArray<{ name: string; contacts: NonNullable<GenesysConfigEncoded["contacts"]> }> = [
  {
    name: "AG2_QUEUE_SUBHR aggregates",
    contacts: {
      source: "aggregates",
      measures: {
        waitTime: ["ACCEPTED_TIME", "ABANDONED_TIME", "CLEARED_TIME", "ROUTED_OTHER_TIME"],
        unhandledTime: ["ABANDONED_TIME", "CLEARED_TIME", "ROUTED_OTHER_TIME"]
      }
    }
  },
  { name: "per-contact facts", contacts: { source: "facts", shortAbandonSeconds: dstWeek.shortAbandonSeconds } }
]

const byKey = (rows: ReadonlyArray<Comparable>) => new Map(rows.map((r) => [r.key, r]))

const differing = (actual: ReadonlyArray<Comparable>, expected: ReadonlyArray<Comparable>) => {
  const a = byKey(actual)
  const e = byKey(expected)
  const keys = new Set([...a.keys(), ...e.keys()])
  return Array.from(keys).filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(e.get(k))).sort()
}

const startOf = (key: string) => Number(key.split("|")[0])

/** ETL ticks at 03:37, 09:37, 15:37 and 21:37 Berlin time, then one a day after the end. */
const ticks = (() => {
  const out: Array<number> = []
  for (let t = scenario.from + 3 * HOUR + 37 * 60_000; t < scenario.to; t += 6 * HOUR) out.push(t)
  out.push(scenario.to + 24 * HOUR)
  return out
})()

for (const backend of backends) {
  for (const source of sources) {
    describe(`${backend.name}, contacts from ${source.name}`, () => {
      it.scoped("a DST week arrives complete: every queue and interval, every agent segment", () =>
        Effect.gen(function*() {
          const dir = yield* tempDir
          const { connection, sim } = yield* backend.make
          yield* weekArrives(sim, connection, source.contacts).pipe(
            Effect.provide(engineWithHttp(dir))
          )
        }), 180_000)
    })
  }
}

const weekArrives = (
  sim: GenesysSimulator.GenesysSimulator,
  connection: Pick<GenesysConfigEncoded, "driver" | "connection" | "schema">,
  contacts: NonNullable<GenesysConfigEncoded["contacts"]>
) =>
        Effect.gen(function*() {
          const harness = yield* setup({ ...connection, contacts }, scenario.timezone)
          const expected15 = Scenario.expectedIntervals(scenario, { length: 15 }).map((e) => fromExpected(sim, e))
          assert.isAbove(expected15.length, 800, "a busy week")
          assert.isAbove(scenario.contacts.filter((c) => c.legs.length === 2).length, 0, "with transfers")

          // first run, in a busy morning: the recent intervals are incomplete
          const first = ticks[1]!
          yield* sim.tick(first)
          yield* harness.run(first, scenario.from)
          const cut = Math.floor(first / QUARTER) * QUARTER
          const partialExpected = Scenario.expectedIntervals(scenario, { length: 15, to: cut }).map((e) =>
            fromExpected(sim, e)
          )
          const early = differing((yield* harness.intervals(scenario, 15)).map(fromRow), partialExpected)
          assert.isAbove(early.length, 0, "the first read sees contacts still in progress")
          for (const k of early) assert.isAbove(startOf(k), cut - 2 * HOUR, `only recent intervals are incomplete: ${k}`)
          const openAgents = (yield* harness.segments(scenario)).filter((s) => s.end === null)
          assert.isAbove(openAgents.length, 0, "states still open at the first read have no end")

          // the following runs re-read the last 24 hours: the late rows replace the partial ones
          yield* sim.tick(ticks[2]!)
          yield* harness.run(ticks[2]!, scenario.from)
          const fixed = differing(
            (yield* harness.intervals(scenario, 15)).map(fromRow).filter((r) => startOf(r.key) < cut),
            partialExpected
          )
          assert.deepStrictEqual(fixed, [], "the look-back re-import corrected the first read")

          for (const t of ticks.slice(3)) {
            yield* sim.tick(t)
            yield* harness.run(t, scenario.from)
          }

          // 15-minute intervals: exactly the ground truth
          const rows15 = (yield* harness.intervals(scenario, 15)).map(fromRow)
          assert.strictEqual(rows15.length, expected15.length)
          assert.deepStrictEqual(differing(rows15, expected15), [])
          assert.deepStrictEqual(rows15, expected15)

          // the same over HTTP: GET /v1/intervals
          const overHttp = yield* intervalsOverHttp(
            `integrationId=${harness.integration.id}&from=${new Date(scenario.from).toISOString()}` +
              `&to=${new Date(scenario.to).toISOString()}&length=15&timezone=${scenario.timezone}`
          )
          assert.deepStrictEqual(overHttp.map(fromRow), expected15)

          // hourly intervals in Berlin, across the change from +01:00 to +02:00
          const expected60 = Scenario.expectedIntervals(scenario, { length: 60 }).map((e) => fromExpected(sim, e))
          const rows60 = yield* harness.intervals(scenario, 60)
          assert.deepStrictEqual(rows60.map(fromRow), expected60)
          assert.isTrue(rows60.some((r) => r.start.startsWith("2026-03-27T") && r.start.endsWith("+01:00")))
          assert.isTrue(rows60.some((r) => r.start.startsWith("2026-03-30T") && r.start.endsWith("+02:00")))
          assert.isTrue(rows60.every((r) => /T\d\d:00:00/.test(r.start)), "hours start on the local hour")

          // agent segments: Info Mart's merged states, overlaps trimmed, only the last LoggedOut ones open
          const expectedSegments = Scenario.expectedSegments(scenario, GenesysSimulator.segmentOptions)
          const segments = yield* harness.segments(scenario)
          assert.strictEqual(segments.length, expectedSegments.length)
          assert.deepStrictEqual(segments, expectedSegments)
          assert.isTrue(segments.some((s) => s.activityIdentifier === "NotReady:Lunch"))
        })
