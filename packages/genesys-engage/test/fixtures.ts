import { Scenario } from "@acd-bridge/testkit"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Redacted from "effect/Redacted"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { GenesysConfig } from "../src/GenesysConfig.js"
import type { GenesysConfigEncoded } from "../src/GenesysConfig.js"

export const queues: ReadonlyArray<Scenario.QueueSpec> = [
  { identifier: "q-sales", name: "Sales", channel: "calls", dailyPeak: 30 },
  { identifier: "q-support", name: "Support", channel: "calls", dailyPeak: 20, talkMeanSeconds: 360 },
  { identifier: "q-chat", name: "Chat", channel: "chats", dailyPeak: 8 }
]

/** A week in Berlin that contains the spring-forward change (2026-03-29), every counting feature on. */
export const dstWeek = {
  ...Scenario.allFeatures,
  seed: 8,
  from: "2026-03-25T23:00:00Z",
  to: "2026-04-01T22:00:00Z",
  timezone: "Europe/Berlin",
  queues,
  agents: 10
} satisfies Scenario.Options

/** One day with every counting feature of the scenario (v2), for the quicker tests. */
export const oneDay = {
  ...Scenario.allFeatures,
  seed: 3,
  from: "2026-03-02T00:00:00Z",
  to: "2026-03-03T00:00:00Z",
  timezone: "Europe/Berlin",
  queues,
  agents: 6
} satisfies Scenario.Options

/** An instant by which the source has written everything of `scenario` (contacts and corrections). */
export const settledAt = (scenario: Scenario.Scenario): number =>
  Math.max(
    scenario.to + 2 * 3_600_000,
    ...scenario.contacts.map((c) => c.writtenAt + 3_600_000),
    ...scenario.corrections.map((c) => c.at + 3_600_000)
  )

/** The queue visits of a scenario: what the connector offers. */
export const visitCount = (scenario: Scenario.Scenario): number =>
  scenario.contacts.reduce((n, c) => n + c.visits.length, 0)

/** A temp directory removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "genesys-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

export const decodeConfig = (input: GenesysConfigEncoded): GenesysConfig => Schema.decodeSync(GenesysConfig)(input)

export const sqliteConfig = (filename: string, extra: Partial<GenesysConfigEncoded> = {}): GenesysConfig =>
  decodeConfig({ driver: "sqlite", connection: { filename }, ...extra })

// ---------------------------------------------------------------------------
// PostgreSQL (test/setup/postgres.ts starts a throwaway server on 127.0.0.1)
// ---------------------------------------------------------------------------

declare module "vitest" {
  export interface ProvidedContext {
    acdBridgeTestPgUrl: string
  }
}

/** The PostgreSQL server of this test run. No URL is an error, never a skip. */
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

/** Runs statements on the test server's main database as its superuser. */
export const pgAdmin = (statements: ReadonlyArray<string>, url = pgUrl()) =>
  Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(url), maxConnections: 1 })
      for (const s of statements) yield* sql.unsafe(s)
    })
  ).pipe(Effect.provide(Reactivity.layer))

/** A database of its own (dropped when the scope closes): test files run in parallel. */
export const freshPgDatabase = Effect.gen(function*() {
  const name = `gim_${randomUUID().replace(/-/g, "").slice(0, 20)}`
  yield* Effect.acquireRelease(
    pgAdmin([`CREATE DATABASE ${name}`]),
    () => pgAdmin([`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]).pipe(Effect.orDie)
  )
  const url = new URL(pgUrl())
  url.pathname = `/${name}`
  return { name, url: url.toString() }
})

/** The pg connection config of a URL, with another user and password when given. */
export const pgConnection = (url: string, user?: { name: string; password: string }) => {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port),
    database: u.pathname.slice(1),
    user: user?.name ?? decodeURIComponent(u.username),
    password: user?.password ?? decodeURIComponent(u.password)
  }
}
