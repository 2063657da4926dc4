import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, inject } from "vitest"

declare module "vitest" {
  export interface ProvidedContext {
    acdBridgeTestPgUrl: string
  }
}

/** The PostgreSQL server of this test run (see test/setup/postgres.ts). Never skipped: no URL is an error. */
export const pgUrl = (): string => {
  const url = process.env["ACD_BRIDGE_TEST_PG_URL"] ?? inject("acdBridgeTestPgUrl")
  if (!url) {
    throw new Error(
      "ACD_BRIDGE_TEST_PG_URL is not set: run the tests through vitest (its global setup starts PostgreSQL; " +
        "install the server with `bash scripts/ensure-postgres.sh`)"
    )
  }
  return url
}

const tempDirs: Array<string> = []
// after the file's tests, not at process exit: vitest ends its worker processes without running
// their exit handlers, which left every directory behind
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh temp directory, removed after the test file's tests. */
export const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-sql-"))
  tempDirs.push(dir)
  return dir
}

export const tempSqliteFile = (): string => path.join(tempDir(), "store.sqlite")

const admin = (statement: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(pgUrl()), maxConnections: 1 })
      yield* sql.unsafe(statement)
    })
  ).pipe(Effect.provide(Reactivity.layer))

/**
 * A database of its own on the test server, dropped when the scope closes. Test files run in
 * parallel, so each one works in its own database.
 */
export const freshPgDatabase = Effect.gen(function*() {
  const name = `acd_${randomUUID().replace(/-/g, "")}`
  yield* Effect.acquireRelease(
    admin(`CREATE DATABASE ${name}`),
    () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.orDie)
  )
  const url = new URL(pgUrl())
  url.pathname = `/${name}`
  return url.toString()
})

/** A raw client on a SQLite file, for looking underneath the store. */
export const sqliteClient = (filename: string) => SqliteClient.layer({ filename })

/** A raw client on a PostgreSQL database. */
export const pgClient = (url: string, maxConnections = 4) => PgClient.layer({ url: Redacted.make(url), maxConnections })

export const layerFromScoped = <A, E, R, ROut, E2, R2>(
  acquire: Effect.Effect<A, E, R>,
  f: (a: A) => Layer.Layer<ROut, E2, R2>
) => Layer.unwrapScoped(Effect.map(acquire, f))
