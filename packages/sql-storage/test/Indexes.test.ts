import { Domain, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { SqlStorage } from "../src/index.js"
import { segmentsStatement } from "../src/internal/segments.js"
import { intervalStatsStatement, intervalSumsStatement, quarterColumnsStatement } from "../src/internal/stats.js"
import { freshPgDatabase, pgClient, sqliteClient, tempSqliteFile } from "./utils.js"
import { integrationRow } from "./fixtures/integration.js"

const T0 = Date.parse("2026-03-02T00:00:00Z")
const tenantId = Domain.TenantId.make("tenant-explain")

/** Some integrations with a day of quarters each, so the planner has something to choose from. */
const seed = Effect.gen(function*() {
  const s = yield* Storage.Storage
  for (let n = 0; n < 8; n++) {
    const integration = integrationRow(T0, {
      id: Domain.IntegrationId.make(`explain-${n}`),
      tenantId: Domain.TenantId.make(n === 0 ? tenantId : `tenant-${n}`),
      name: `I${n}`
    })
    yield* s.integrations.insert(integration)
    const contacts: Array<Domain.ContactEvent> = []
    const statuses: Array<Domain.AgentStatus> = []
    for (let k = 0; k < 96 * 4; k++) {
      contacts.push({
        queueIdentifier: `q${k % 4}`,
        queueName: `Queue ${k % 4}`,
        channel: "calls",
        timestamp: DateTime.unsafeMake(T0 + Math.floor(k / 4) * 900_000),
        offered: true,
        handled: true,
        durationMs: 1_000
      })
      statuses.push({
        agentIdentifier: `a-${k % 8}`,
        activityIdentifier: "READY",
        start: DateTime.unsafeMake(T0 + k * 60_000),
        end: DateTime.unsafeMake(T0 + k * 60_000 + 30_000)
      })
    }
    yield* s.data.ingest({
      integrationId: integration.id,
      batch: { contacts, aggregates: [], statuses },
      mode: "push",
      stagingLimit: 0,
      now: T0
    })
  }
})

const intervalQuery = intervalStatsStatement
const query = {
  tenantId,
  integrationId: Domain.IntegrationId.make("explain-0"),
  from: T0 + 3_600_000,
  to: T0 + 7_200_000
}
const segmentQuery = {
  tenantId,
  integrationId: Domain.IntegrationId.make("explain-0"),
  agentIdentifier: "a-1",
  from: T0 + 3_600_000,
  to: T0 + 7_200_000
}

const explain = (prefix: string, statement: Statement.Statement<object>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [text, params] = statement.compile()
    const rows = yield* sql.unsafe<Record<string, unknown>>(`${prefix} ${text}`, params)
    return rows.map((r) => Object.values(r).map(String).join(" ")).join("\n")
  })

describe("indexes", () => {
  it.effect("SQLite: the interval and segment queries use an index", () =>
    Effect.gen(function*() {
      const filename = tempSqliteFile()
      const plans = yield* Effect.gen(function*() {
        yield* seed
        const sql = yield* SqlClient.SqlClient
        const intervals = yield* explain("EXPLAIN QUERY PLAN", intervalQuery(sql, query))
        const byTenant = yield* explain(
          "EXPLAIN QUERY PLAN",
          intervalQuery(sql, { tenantId, from: query.from, to: query.to })
        )
        const segments = yield* explain("EXPLAIN QUERY PLAN", segmentsStatement(sql, segmentQuery))
        // one queue of the tenant: read by the key, not every queue's rows through (tenant, start)
        const [queue] = yield* (yield* Storage.Storage).queues.list({ tenantId })
        const sums = intervalSumsStatement({
          ...query,
          queueIds: [queue!.id],
          lengthMinutes: 60,
          pieces: [{ start: query.from, offsetMs: 3_600_000 }]
        }, false)
        const planOf = (statement: { readonly text: string; readonly params: ReadonlyArray<string | number> }) =>
          sql.unsafe<Record<string, unknown>>(`EXPLAIN QUERY PLAN ${statement.text}`, statement.params).pipe(
            Effect.map((rows) => rows.map((r) => Object.values(r).map(String).join(" ")).join("\n"))
          )
        const sumPlan = yield* planOf(sums)
        const columns = yield* planOf(quarterColumnsStatement({
          ...query,
          queueIds: [queue!.id],
          lengthMinutes: 15,
          pieces: [{ start: query.from, offsetMs: 3_600_000 }]
        }))
        return { intervals, byTenant, segments, sums: sumPlan, columns }
      }).pipe(Effect.provide(SqlStorage.layer.pipe(Layer.provideMerge(sqliteClient(filename)))))
      assert.match(plans.intervals, /SEARCH interval_stats USING INDEX interval_stats_(integration|tenant)_start/)
      assert.notMatch(plans.intervals, /SCAN interval_stats/)
      assert.match(plans.byTenant, /SEARCH interval_stats USING INDEX interval_stats_tenant_start/)
      assert.match(plans.segments, /SEARCH agent_segments USING INDEX agent_segments_/)
      assert.notMatch(plans.segments, /SCAN agent_segments/)
      // and from the table itself, stored in the key's order (one queue's month is adjacent pages,
      // not rows scattered among every other queue's, each looked up through an index)
      assert.match(plans.sums, /SEARCH interval_stats USING PRIMARY KEY \(queue_id=\? AND channel=\? AND start_ms>\? AND start_ms<\?\)/)
      // 15 minutes: column arrays per queue and channel, read in the key's order, which serves
      // the grouping (no sort, no temporary B-tree)
      assert.match(plans.columns, /SEARCH interval_stats USING PRIMARY KEY \(queue_id=\? AND channel=\? AND start_ms>\? AND start_ms<\?\)/)
      assert.notMatch(plans.columns, /TEMP B-TREE/)
    }))

  it.scoped("PostgreSQL: the interval and segment queries use an index", () =>
    Effect.gen(function*() {
      const url = yield* freshPgDatabase
      yield* seed.pipe(Effect.provide(SqlStorage.layerPg({ url })))
      const plans = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`ANALYZE`
        return yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`SET LOCAL enable_seqscan = off`
          const intervals = yield* explain("EXPLAIN", intervalQuery(sql, query))
          const byTenant = yield* explain("EXPLAIN", intervalQuery(sql, { tenantId, from: query.from, to: query.to }))
          const segments = yield* explain("EXPLAIN", segmentsStatement(sql, segmentQuery))
          return { intervals, byTenant, segments }
        }))
      }).pipe(Effect.provide(pgClient(url)))
      assert.match(
        plans.intervals,
        /Index (Only )?Scan (Backward )?(using|on) interval_stats_(integration|tenant)_start/
      )
      assert.notMatch(plans.intervals, /Seq Scan/)
      assert.match(plans.byTenant, /Index (Only )?Scan (Backward )?(using|on) interval_stats_tenant_start/)
      assert.match(plans.segments, /Index (Only )?Scan (Backward )?(using|on) agent_segments_/)
      assert.notMatch(plans.segments, /Seq Scan/)
    }))
})
