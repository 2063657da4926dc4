/**
 * Bad input on the push routes, property-based: valid batches generated from the wire schema's
 * rules, and mutations of them (types, missing fields, numbers past the limits, NaN/Infinity,
 * nesting, long strings, bytes that are not UTF-8, lone surrogates, `__proto__`/`constructor`
 * keys, duplicate keys, content types, envelopes, timestamps, channels), sent over real HTTP to
 * a server child on a real SQLite file.
 *
 * For every request: a refused one is a 4xx problem body and changes no table of the store
 * (digest of every table before and after); an accepted one was allowed by the contract and
 * lands exactly (the interval rows of its queues grew by exactly its records, its agent's
 * segments are exactly its statuses, and only the tables of data, queues and runs changed); the
 * server answers `/health` after every request and never 5xx.
 */
import * as fc from "fast-check"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  contactBatch,
  type ContactRecord,
  mutation,
  QUARTER_MS,
  type Route,
  routePath,
  statusBatch,
  type StatusRecord,
  type Wire
} from "./support/bodies.js"
import { changedTables, sqliteRows, sqliteWatcher } from "./support/digest.js"
import { adminToken, call, notAClientProblem, pushIntegration, type Server, startServer, tempDir } from "./support/harness.js"
import { summary } from "./support/summary.js"

/** Cases per route; `ACD_BRIDGE_RELIABILITY_RUNS` raises it for a long run (CI keeps the suite near two minutes). */
const RUNS = Number(process.env["ACD_BRIDGE_RELIABILITY_RUNS"] ?? 80)

const dir = tempDir("acd-rel-push-")
const database = `${dir.path}/push.sqlite`
let server: Server
let integration: { id: string; apiKey: string }
let watcher: ReturnType<typeof sqliteWatcher>
const tally = { sent: 0, mutated: 0, accepted: 0, refused: 0, mustRefuse: 0, losses: 0, byStatus: {} as Record<number, number> }
const counts = summary(import.meta.filename)

beforeAll(async () => {
  server = await startServer({ database, synchronous: "normal", adapter: { rateLimit: false }, tokens: [] })
  integration = await pushIntegration(server, adminToken, "bad input")
  watcher = sqliteWatcher(database)
}, 120_000)

afterAll(async () => {
  await server?.kill()
  watcher?.close()
  dir.remove()
  counts.record({
    case: "push bodies generated and mutated",
    inputs: tally.sent,
    faults: tally.mutated,
    losses: tally.losses,
    note: `${tally.accepted} accepted and landed exactly, ${tally.refused} refused with a 4xx problem and no change ` +
      `(${tally.mustRefuse} had to be); statuses ${JSON.stringify(tally.byStatus)}`
  })
  counts.flush()
})

interface Row {
  readonly identifier: string
  readonly name: string
  readonly channel: string
  readonly start_ms: number
  readonly offered: number
  readonly handled: number
  readonly handling_ms: number
  readonly unhandled_ms: number
}

const rowKey = (r: { identifier: string; name: string; channel: string; start_ms: number }) =>
  JSON.stringify([r.identifier, r.name, r.channel, r.start_ms])

/** The interval rows of the integration's queues with these identifiers. */
const rowsOf = (identifiers: ReadonlyArray<string>): Map<string, Row> => {
  const unique = [...new Set(identifiers)]
  const rows = unique.length === 0 ? [] : sqliteRows<Row>(
    database,
    `SELECT q.identifier, q.name, s.channel, s.start_ms, s.offered, s.handled, s.handling_ms, s.unhandled_ms
       FROM interval_stats s JOIN queues q ON q.id = s.queue_id
      WHERE q.integration_id = ? AND q.identifier IN (${unique.map(() => "?").join(",")})`,
    integration.id,
    ...unique
  )
  return new Map(rows.map((r) => [rowKey(r), r]))
}

/** The instant of a timestamp the generator wrote (with Z, an offset, or none: UTC). */
const instantOf = (text: string) => Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`)

/** What the accepted records must have added, per row key. */
const expectedAdditions = (records: ReadonlyArray<ContactRecord>): Map<string, Omit<Row, "identifier" | "name" | "channel" | "start_ms">> => {
  const sums = new Map<string, { offered: number; handled: number; handling_ms: number; unhandled_ms: number }>()
  for (const r of records) {
    const start_ms = Math.floor(instantOf(r.timestamp) / QUARTER_MS) * QUARTER_MS
    const key = rowKey({ identifier: r.queueIdentifier, name: r.queueName, channel: r.channel, start_ms })
    const sum = sums.get(key) ?? { offered: 0, handled: 0, handling_ms: 0, unhandled_ms: 0 }
    const ms = Math.round(r.properties.duration * 1000)
    if (r.properties.offered) sum.offered += 1
    if (r.properties.handled) {
      sum.handled += 1
      sum.handling_ms += ms
    } else sum.unhandled_ms += ms
    sums.set(key, sum)
  }
  return sums
}

const send = (route: Route, wire: Wire) =>
  call(server, "POST", routePath[route], {
    token: integration.apiKey,
    raw: wire.bytes,
    headers: wire.contentType === undefined ? { "content-type": "" } : { "content-type": wire.contentType }
  })

/** Sends one body and checks everything the module documentation promises. */
const check = async (route: Route, wire: Wire) => {
  const before = watcher.digest()
  // what the body says, read as the contract reads it (when it can be read at all)
  let parsed: { data?: Array<ContactRecord & StatusRecord> } | undefined
  try {
    parsed = JSON.parse(Buffer.from(wire.bytes).toString("utf8")) as typeof parsed
  } catch {
    parsed = undefined
  }
  const records = Array.isArray(parsed?.data) ? parsed.data : []
  const identifiers = route === "contactEvents" ? records.map((r) => r.queueIdentifier).filter((x) => typeof x === "string") : []
  const rowsBefore = rowsOf(identifiers)

  const answer = await send(route, wire)
  tally.sent++
  if (wire.name !== "valid") tally.mutated++
  tally.byStatus[answer.status] = (tally.byStatus[answer.status] ?? 0) + 1
  const context = `${route} ${wire.name}: ${answer.status} ${answer.text.slice(0, 300)}`
  const health = await call(server, "GET", "/health")
  assert.strictEqual(health.status, 200, `the server is down after ${context}`)

  if (answer.status !== 200) {
    assert.isUndefined(notAClientProblem(answer), context)
    const changed = changedTables(before, watcher.digest())
    if (Object.keys(changed).length > 0) tally.losses++
    assert.deepStrictEqual(changed, {}, `a refused body changed the store: ${context}`)
    tally.refused++
    if (wire.mustRefuse) tally.mustRefuse++
    return
  }
  assert.isFalse(wire.mustRefuse, `accepted what the contract refuses: ${context}`)
  assert.deepStrictEqual(answer.body, { accepted: records.length }, context)
  tally.accepted++
  const changed = Object.keys(changedTables(before, watcher.digest()))
  const allowed = route === "contactEvents" ? ["interval_stats", "queues", "import_runs"] : ["agent_segments", "import_runs"]
  assert.includeMembers(allowed, changed, `an accepted push changed other tables: ${context}`)
  assert.include(changed, "import_runs", `no run recorded: ${context}`)

  if (route === "contactEvents") {
    const additions = expectedAdditions(records)
    const rowsAfter = rowsOf(identifiers)
    for (const [key, after] of rowsAfter) {
      const was = rowsBefore.get(key)
      const add = additions.get(key) ?? { offered: 0, handled: 0, handling_ms: 0, unhandled_ms: 0 }
      const got = {
        offered: after.offered - (was?.offered ?? 0),
        handled: after.handled - (was?.handled ?? 0),
        handling_ms: after.handling_ms - (was?.handling_ms ?? 0),
        unhandled_ms: after.unhandled_ms - (was?.unhandled_ms ?? 0)
      }
      if (JSON.stringify(got) !== JSON.stringify(add)) tally.losses++
      assert.deepStrictEqual(got, add, `row ${key}: ${context}`)
    }
    // every record's row exists, under its identifier and name exactly as sent
    for (const key of additions.keys()) {
      if (!rowsAfter.has(key)) tally.losses++
      assert.isTrue(rowsAfter.has(key), `row ${key} missing: ${context}`)
    }
  } else {
    // the generator gives each case its own agent (a mutation may rename one record's agent: skip then)
    const agents = new Set(records.map((r) => r.agentIdentifier))
    if (agents.size === 1) {
      const [agent] = agents
      const stored = sqliteRows<{ activity_identifier: string; start_ms: number; end_ms: number | null }>(
        database,
        "SELECT activity_identifier, start_ms, end_ms FROM agent_segments WHERE integration_id = ? AND agent_identifier = ? ORDER BY start_ms",
        integration.id,
        agent
      )
      const expected = records.map((r) => ({
        activity_identifier: r.activityIdentifier,
        start_ms: Date.parse(r.startTime),
        end_ms: r.endTime === undefined || r.endTime === null ? null : Date.parse(r.endTime)
      }))
      assert.deepStrictEqual(stored, expected, context)
    }
  }
}

const caseArbitrary = (route: Route, now: number) =>
  fc.record({
    n: fc.nat(),
    batch: route === "contactEvents" ? contactBatch(now, "") : statusBatch(now, ""),
    mutate: fc.option(mutation(route), { freq: 4 })
  })

let caseNo = 0

const property = (route: Route) =>
  fc.asyncProperty(caseArbitrary(route, Date.now()), async ({ batch, mutate }) => {
    caseNo++
    const tag = `c${caseNo}-`
    // each case's queues or agent are its own: prefix the identifiers with the case number
    const data = (batch as unknown as ReadonlyArray<Record<string, unknown>>).map((r) => {
      const { endMs: _e, ms: _m, startMs: _s, ...wire } = r
      return route === "contactEvents"
        ? { ...wire, queueIdentifier: `${tag}${String(wire["queueIdentifier"])}` }
        : { ...wire, agentIdentifier: `${tag}${String(wire["agentIdentifier"])}` }
    })
    const body = { data, meta: { integrationConfigurationId: integration.id, externalSystem: "reliability" } }
    const wire: Wire = mutate === null
      ? { name: "valid", bytes: new Uint8Array(Buffer.from(JSON.stringify(body))), contentType: "application/json", mustRefuse: false }
      : mutate(body)
    await check(route, wire)
  })

describe("push routes under bad input", () => {
  it("contact events: refused whole with a 4xx problem and no change, or accepted and landed exactly", async () => {
    await fc.assert(property("contactEvents"), { numRuns: RUNS, endOnFailure: true })
  }, 240_000)

  it("agent statuses: refused whole with a 4xx problem and no change, or accepted and landed exactly", async () => {
    await fc.assert(property("agentStatuses"), { numRuns: RUNS, endOnFailure: true })
  }, 240_000)

  it("a key of another integration, a revoked key, or a body naming another integration changes nothing", async () => {
    const other = await pushIntegration(server, adminToken, "other")
    const record = {
      properties: { offered: true, handled: true, duration: 1 },
      queueName: "q",
      queueIdentifier: "cross",
      timestamp: new Date().toISOString(),
      channel: "calls"
    }
    const before = watcher.digest()
    // the other integration's key naming this integration: 403
    const cross = await call(server, "POST", routePath.contactEvents, {
      token: other.apiKey,
      json: { data: [record], meta: { integrationConfigurationId: integration.id } }
    })
    assert.strictEqual(cross.status, 403, cross.text)
    assert.isUndefined(notAClientProblem(cross))
    // the integration's id as a number that isn't it
    const numeric = await call(server, "POST", routePath.contactEvents, {
      token: integration.apiKey,
      json: { data: [record], meta: { integrationConfigurationId: 12345 } }
    })
    assert.include([403, 404], numeric.status, numeric.text)
    // a key that was replaced is revoked
    const renewed = await call<{ apiKey: string }>(server, "POST", `/v1/integrations/${other.id}/api-key`, { token: adminToken })
    assert.strictEqual(renewed.status, 201)
    const revoked = await call(server, "POST", routePath.contactEvents, {
      token: other.apiKey,
      json: { data: [record], meta: { integrationConfigurationId: other.id } }
    })
    assert.strictEqual(revoked.status, 401, revoked.text)
    const after = watcher.digest()
    // only the key rotation wrote (api_keys)
    assert.deepStrictEqual(Object.keys(changedTables(before, after)), ["api_keys"])
    tally.sent += 3
    tally.mutated += 3
    tally.refused += 3
    tally.mustRefuse += 3
  })
})
