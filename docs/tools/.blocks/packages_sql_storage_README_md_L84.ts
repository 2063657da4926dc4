import * as PgClient from "@effect/sql-pg/PgClient"
import * as Redacted from "effect/Redacted"

const Storage = SqlStorage.layer.pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 20 })))

export {}
