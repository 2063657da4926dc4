import { SqlStorage } from "@acd-bridge/sql-storage"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const url = process.env["ACD_BRIDGE_DATABASE_URL"] ?? "postgres://acd@localhost:5432/acd"
export const StorageLive = SqlStorage.layer.pipe(
  Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 20 }))
)

export {}
