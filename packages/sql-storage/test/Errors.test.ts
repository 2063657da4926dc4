import { Domain, Storage } from "@acd-bridge/core"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
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

  it.effect("SQLite in a folder that does not exist fails the layer with StorageError naming the folder", () =>
    Effect.gen(function*() {
      const filename = join(tmpdir(), `acd-missing-${process.pid}-${Date.now()}`, "sub", "db.sqlite")
      const exit = yield* Effect.exit(Effect.provide(Storage.Storage, SqlStorage.layerSqlite({ filename })))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(error), `a failure, not a defect: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`)
      const storageError = Option.getOrThrow(error)
      assert.strictEqual(storageError._tag, "StorageError")
      assert.strictEqual(storageError.operation, "open sqlite")
      assert.include(storageError.reason, dirname(filename))
      assert.match(storageError.reason, /does not exist/)
    }))

  it.effect("a database path that can't be opened (it is a folder) fails the layer with StorageError, not a defect", () =>
    Effect.gen(function*() {
      const folder = dirname(tempSqliteFile())
      const exit = yield* Effect.exit(Effect.provide(Storage.Storage, SqlStorage.layerSqlite({ filename: folder })))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(error), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "the layer was built")
      const storageError = Option.getOrThrow(error)
      assert.strictEqual(storageError._tag, "StorageError")
      assert.strictEqual(storageError.operation, "open sqlite")
    }))
})
