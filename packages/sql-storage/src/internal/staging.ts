/** Batches staged while paused (applied in `seq` order) and idempotency records. */
import type { StorageDriver } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Dialect } from "./dialect.js"
import { edge } from "./dialect.js"
import * as Rows from "./rows.js"

export const staging = ({ sql }: Dialect): StorageDriver.StorageDriverShape["staging"] => ({
  held: (id) =>
    sql<{ readonly held: Rows.Num | null }>`SELECT SUM(records) AS held FROM staged_batches
      WHERE integration_id = ${id}`.pipe(
      Effect.map((rows) => Rows.num(rows[0]?.held ?? 0)),
      edge("staging.held")
    ),
  append: (id, batch) =>
    sql`INSERT INTO staged_batches ${
      sql.insert({ integration_id: id, records: batch.records, body: batch.body, created_at: batch.at })
    }`.pipe(Effect.asVoid, edge("staging.append")),
  list: (id) =>
    sql<{ readonly body: string }>`SELECT body FROM staged_batches WHERE integration_id = ${id} ORDER BY seq`.pipe(
      Effect.map((rows) => rows.map((r) => r.body)),
      edge("staging.list")
    ),
  clear: (id) => sql`DELETE FROM staged_batches WHERE integration_id = ${id}`.pipe(Effect.asVoid, edge("staging.clear"))
})

interface IdempotencyRow {
  readonly request_hash: string
  readonly at_ms: Rows.Num
  readonly accepted: Rows.Num
  readonly outcome: string
}

export const idempotency = ({ sql }: Dialect): StorageDriver.StorageDriverShape["idempotency"] => ({
  get: (id, key) =>
    sql<IdempotencyRow>`SELECT request_hash, at_ms, accepted, outcome FROM idempotency_keys
      WHERE integration_id = ${id} AND idem_key = ${key}`.pipe(
      Effect.map((rows) =>
        Option.map(Option.fromNullable(rows[0]), (row): StorageDriver.IdempotencyRecord => ({
          requestHash: row.request_hash,
          at: Rows.num(row.at_ms),
          accepted: Rows.num(row.accepted),
          outcome: row.outcome === "Staged" ? "Staged" : "Applied"
        }))
      ),
      edge("idempotency.get")
    ),
  put: (id, key, record, expiredBefore) =>
    Effect.zipRight(
      sql`DELETE FROM idempotency_keys WHERE integration_id = ${id} AND at_ms <= ${expiredBefore}`,
      sql`INSERT INTO idempotency_keys ${
        sql.insert({
          integration_id: id,
          idem_key: key,
          request_hash: record.requestHash,
          at_ms: record.at,
          accepted: record.accepted,
          outcome: record.outcome
        })
      } ON CONFLICT (integration_id, idem_key) DO UPDATE SET request_hash = excluded.request_hash,
        at_ms = excluded.at_ms, accepted = excluded.accepted, outcome = excluded.outcome`
    ).pipe(Effect.asVoid, edge("idempotency.put")),
  prune: (before, limit) =>
    sql<{ readonly integration_id: string }>`DELETE FROM idempotency_keys WHERE (integration_id, idem_key) IN (
      SELECT integration_id, idem_key FROM idempotency_keys WHERE at_ms <= ${before}
      LIMIT ${Math.max(0, Math.floor(limit))}
    ) RETURNING integration_id`.pipe(Effect.map((rows) => rows.length), edge("idempotency.prune"))
})
