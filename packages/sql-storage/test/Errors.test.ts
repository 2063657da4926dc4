import { Domain, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { SqlStorage } from "../src/index.js"
import { sqliteClient, tempSqliteFile } from "./utils.js"

describe("errors", () => {
  it.effect("a failing statement surfaces as StorageError naming the operation", () =>
    Effect.gen(function*() {
      const s = yield* Storage.Storage
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE cursors`
      const error = yield* Effect.flip(s.cursors.get(Domain.IntegrationId.make("x"), "contacts"))
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(error.operation, "cursors.get")
      assert.match(error.reason, /cursors/)
    }).pipe(Effect.provide(SqlStorage.layer.pipe(Layer.provideMerge(sqliteClient(tempSqliteFile()))))))

  it.effect("an unreachable PostgreSQL fails the layer with StorageError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(Storage.Storage, SqlStorage.layerPg({ url: "postgres://nobody:x@127.0.0.1:1/none" }))
      )
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(error.operation, "connect postgres")
    }))

  it.effect("a SQLite file in a directory that does not exist fails the layer with StorageError naming the path", () =>
    Effect.gen(function*() {
      const filename = join(tmpdir(), `acd-missing-${process.pid}-${Date.now()}`, "nested", "store.sqlite")
      const error = yield* Effect.flip(Effect.provide(Storage.Storage, SqlStorage.layerSqlite({ filename })))
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(error.operation, "open sqlite")
      assert.include(error.reason, dirname(filename))
      assert.include(error.reason, "does not exist")
    }))
})
