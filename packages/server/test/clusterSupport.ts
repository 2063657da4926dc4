/**
 * What the cluster tests share: a throwaway database on the test PostgreSQL server, a small
 * pool on it for the assertions, and built servers started as cluster nodes on it.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { type Running, serve } from "./support.js"

declare module "vitest" {
  export interface ProvidedContext {
    acdBridgeTestPgUrl: string
  }
}

export interface ClusterDatabase {
  readonly url: string
  readonly query: <T = Record<string, unknown>>(text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<T>>
  readonly drop: () => Promise<void>
}

/** Runs SQL on the test server's own database (one connection, closed after): create and drop. */
const admin = (baseUrl: string, text: string) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(baseUrl), maxConnections: 1 })
      yield* sql.unsafe(text)
    })).pipe(Effect.provide(Reactivity.layer))
  )

/** A new database for one test file, with a pool of two connections on it. */
export const makeDatabase = async (prefix: string): Promise<ClusterDatabase> => {
  const baseUrl = process.env["ACD_BRIDGE_TEST_PG_URL"] ?? inject("acdBridgeTestPgUrl")
  const database = `${prefix}_${randomUUID().replace(/-/g, "")}`
  const u = new URL(baseUrl)
  u.pathname = `/${database}`
  const url = u.toString()
  await admin(baseUrl, `CREATE DATABASE ${database}`)
  const pool = ManagedRuntime.make(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 }))
  return {
    url,
    query: <T = Record<string, unknown>>(text: string, params: ReadonlyArray<unknown> = []) =>
      pool.runPromise(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text, params as Array<unknown>)) as Effect.Effect<
          ReadonlyArray<T>,
          unknown,
          SqlClient.SqlClient
        >
      ),
    drop: async () => {
      await pool.dispose()
      await admin(baseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    }
  }
}

/** A built server as a cluster node on `url`, with short leases (3 s, renewed every 500 ms). */
export const startNode = (url: string, nodeId: string, env: Record<string, string> = {}): Promise<Running> =>
  serve({
    ACD_BRIDGE_DATABASE_URL: url,
    ACD_BRIDGE_CLUSTER: "true",
    ACD_BRIDGE_NODE_ID: nodeId,
    ACD_BRIDGE_LEASE_TTL: "3000 millis",
    ACD_BRIDGE_LEASE_RENEW: "500 millis",
    ACD_BRIDGE_LOG_FORMAT: "json",
    ACD_BRIDGE_LOG_LEVEL: "Debug",
    ...env
  })

export interface Lease {
  readonly integration_id: string
  readonly node_id: string | null
  readonly epoch: string
  readonly live: boolean
}

export const leasesOf = (db: ClusterDatabase) =>
  db.query<Lease>(`SELECT integration_id, node_id, epoch::text AS epoch, expires_at > now() AS live FROM acd_bridge_leases`)

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
