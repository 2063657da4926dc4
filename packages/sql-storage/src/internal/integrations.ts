/** Integration rows: insert, read (optionally locked), list, and compare-and-set on `version`. */
import type { Domain, StorageDriver } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { Dialect } from "./dialect.js"
import { edge } from "./dialect.js"
import * as Rows from "./rows.js"

export const make = ({ forShare, forUpdate, sql }: Dialect): StorageDriver.StorageDriverShape["integrations"] => {
  // every ingest reads its integration: a row that did not change is not decoded again
  const decoded = new Map<string, { readonly row: string; readonly integration: Domain.Integration }>()
  const decode = (row: Rows.IntegrationRow) => {
    const fingerprint = Object.values(row).map((v) => (v === null ? "\u0001" : String(v))).join("\u0000")
    const known = decoded.get(row.id)
    if (known && known.row === fingerprint) return Effect.succeed(known.integration)
    return Effect.tap(Rows.integrationFromRow(row), (integration) =>
      Effect.sync(() => {
        if (decoded.size >= 1_000) decoded.clear()
        decoded.set(row.id, { row: fingerprint, integration })
      }))
  }
  const columns = sql.literal(Rows.integrationColumns)

  return {
    insert: (i) => sql`INSERT INTO integrations ${sql.insert(Rows.integrationToRow(i))}`.pipe(
      Effect.asVoid,
      edge("integrations.insert")
    ),
    get: (id, lock = "none") =>
      sql<Rows.IntegrationRow>`SELECT ${columns} FROM integrations WHERE id = ${id} ${
        lock === "share" ? forShare : lock === "update" ? forUpdate : sql.literal("")
      }`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeedNone : Effect.asSome(decode(rows[0]!)))),
        edge("integrations.get")
      ),
    list: (tenantId) =>
      sql<Rows.IntegrationRow>`SELECT ${columns} FROM integrations WHERE tenant_id = ${tenantId}
        ORDER BY created_at, seq`.pipe(
        Effect.flatMap((rows) => Effect.forEach(rows, decode)),
        edge("integrations.list")
      ),
    update: (i, expected) => {
      const { id: _, ...row } = Rows.integrationToRow(i)
      return sql<{ readonly id: string }>`UPDATE integrations SET ${sql.update(row)}
        WHERE id = ${i.id} AND version = ${expected} RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        edge("integrations.update")
      )
    }
  }
}
