/**
 * Bad input on the admin routes, property-based: bodies (integrations, mappings, workloads,
 * re-import ranges), query parameters (intervals, agent statuses, runs, queues) and path
 * parameters, valid and mutated, over real HTTP to a server child on SQLite and on PostgreSQL.
 *
 * For every request: a 4xx answer is a problem body and changes no table of the store; a 2xx
 * answer is one the contract allows and what it wrote reads back; the server answers `/health`
 * after every request and never 5xx.
 */
import * as fc from "fast-check"
import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { afterAll, assert, beforeAll, describe, inject, it } from "vitest"
import { changedTables, type Digest, pgWatcher, sqliteWatcher } from "./support/digest.js"
import { adminToken, call, notAClientProblem, pushIntegration, type Server, startServer, tempDir } from "./support/harness.js"
import { summary } from "./support/summary.js"

const counts = summary(import.meta.filename)
afterAll(() => counts.flush())

/** Requests per backend; `ACD_BRIDGE_RELIABILITY_RUNS` raises it for a long run. PostgreSQL runs a third of them: its digest per request costs ~0.3 s. */
const RUNS = Number(process.env["ACD_BRIDGE_RELIABILITY_RUNS"] ?? 90)

type Json = unknown

/** One admin request, and whether the contract requires a 4xx. */
interface Request {
  readonly name: string
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  readonly path: string
  readonly body?: string | Uint8Array | undefined
  /** default application/json; null: no Content-Type header */
  readonly contentType?: string | null | undefined
  readonly mustRefuse: boolean
  /** 2xx answers that must not write (reads, no-op puts) */
  readonly readOnly?: boolean
}

interface Fixture {
  readonly integrationId: string
  readonly queueId: string
  readonly workloadId: string
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"))

/** Text values that break something somewhere: empty, blank, huge, control characters, NUL, surrogates (escaped). */
const hostileText: ReadonlyArray<{ readonly json: string; readonly valid: "yes" | "no" | "maybe" }> = [
  { json: "\"\"", valid: "no" },
  { json: "\"   \"", valid: "maybe" },
  { json: JSON.stringify("x".repeat(201)), valid: "maybe" },
  { json: JSON.stringify("y".repeat(1_000_000)), valid: "maybe" },
  { json: "\"a\\u0000b\"", valid: "maybe" },
  { json: "\"\\ud800\"", valid: "no" },
  { json: "\"=HYPERLINK(\\\"http://x\\\")\"", valid: "yes" },
  { json: "\"Ünïcødé ☎️ עברית\"", valid: "yes" },
  { json: "\"\\t\\r\\n\"", valid: "maybe" },
  { json: "42", valid: "no" },
  { json: "null", valid: "no" },
  { json: "[]", valid: "no" },
  { json: "{}", valid: "no" },
  { json: "true", valid: "no" }
]

const integrationBodies = fc.oneof(
  fc.constant<Request>({
    name: "create: valid",
    method: "POST",
    path: "/v1/integrations",
    body: JSON.stringify({ name: "valid", connector: "api-push", timezone: "Europe/Berlin" }),
    mustRefuse: false
  }),
  fc.record({
    field: fc.constantFrom("name", "connector", "timezone", "deliveryMode", "dataKinds", "schedule", "historyDepthDays", "config"),
    value: fc.oneof(
      fc.constantFrom(...hostileText.map((t) => t.json)),
      fc.constantFrom(
        "\"__proto__\"",
        "\"constructor\"",
        "\"toString\"",
        "\"hasOwnProperty\"",
        "\"Mars/Olympus\"",
        "\"../../etc/passwd\"",
        "\"UTC\"",
        "\"+05:45\"",
        "\"on-premise\"",
        "\"cloud\"",
        "[\"contacts\",\"contacts\"]",
        "[\"x\"]",
        "{\"type\":\"historical\",\"everyMinutes\":7}",
        "{\"type\":\"historical\",\"everyMinutes\":\"15\"}",
        "{\"type\":\"realtime\",\"__proto__\":{\"everyMinutes\":1}}",
        "0",
        "3661",
        "1.5",
        "1e400",
        "-1",
        "\"NaN\"",
        "{\"__proto__\":{\"polluted\":true},\"constructor\":{\"prototype\":{\"polluted\":true}}}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
      )
    )
  }).map(({ field, value }): Request => {
    const base: Record<string, string> = { name: "\"n\"", connector: "\"api-push\"" }
    base[field] = value
    const text = `{${Object.entries(base).map(([k, v]) => `"${k}":${v}`).join(",")}}`
    return {
      name: `create: ${field} = ${value.slice(0, 60)}`,
      method: "POST",
      path: "/v1/integrations",
      body: text,
      mustRefuse: createMustRefuse(field, value)
    }
  })
)

/** Whether the contract refuses `value` for a field of `POST /v1/integrations` (undecided cases: false). */
function createMustRefuse(field: string, value: string): boolean {
  if (value.startsWith("[[[[")) return true // deeper than 64 levels
  let parsed: Json
  try {
    parsed = JSON.parse(value)
  } catch {
    return true
  }
  const wellFormed = (x: string) => (x as unknown as { isWellFormed(): boolean }).isWellFormed()
  switch (field) {
    case "name":
      return typeof parsed !== "string" || parsed.trim() !== parsed || parsed === "" || parsed.length > 200 || !wellFormed(parsed)
    case "connector":
      return parsed !== "api-push"
    case "deliveryMode":
      return parsed !== "cloud"
    case "historyDepthDays":
      return !(typeof parsed === "number" && Number.isInteger(parsed) && parsed >= 1 && parsed <= 3660)
    case "dataKinds":
      return !(Array.isArray(parsed) && parsed.length > 0 && parsed.every((k) => k === "contacts" || k === "agentStatuses"))
    case "schedule":
      return !(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) &&
        ((parsed as Record<string, Json>)["type"] === "realtime" ||
          ((parsed as Record<string, Json>)["type"] === "historical" && [15, 30, 60].includes((parsed as Record<string, Json>)["everyMinutes"] as number))))
    case "timezone":
      return typeof parsed !== "string" || ["Mars/Olympus", "../../etc/passwd", "", "__proto__", "constructor", "toString", "hasOwnProperty"].includes(parsed)
    default:
      return false
  }
}

const mappingBodies = (f: () => Fixture) =>
  fc.record({
    kind: fc.constantFrom("agents", "activities"),
    entries: fc.array(
      fc.oneof(
        fc.record({ externalId: fc.string({ minLength: 1, maxLength: 20 }), target: fc.string({ minLength: 1, maxLength: 20 }) }).map((e) => ({
          json: JSON.stringify(e),
          ok: true
        })),
        fc.constantFrom(
          { json: "{\"externalId\":\"\",\"target\":\"x\"}", ok: false },
          { json: "{\"externalId\":\"a\"}", ok: false },
          { json: "{\"externalId\":1,\"target\":\"x\"}", ok: false },
          { json: "{\"externalId\":\"\\udc00\",\"target\":\"x\"}", ok: false },
          { json: "{\"externalId\":\"a\\u0000\",\"target\":\"x\"}", ok: true },
          { json: "{\"__proto__\":{\"externalId\":\"p\",\"target\":\"q\"}}", ok: false },
          { json: "{\"externalId\":\"dup\",\"target\":\"x\",\"target\":\"y\"}", ok: false },
          { json: "null", ok: false },
          { json: "\"a\"", ok: false }
        )
      ),
      { maxLength: 6 }
    ),
    many: fc.constantFrom(0, 0, 0, 20_000)
  }).map(({ entries, kind, many }): Request => {
    const target = kind === "agents" ? "employeeId" : "activityId"
    const bulk = Array.from({ length: many }, (_, i) => `{"externalId":"bulk-${i}","target":"t-${i}"}`)
    const all = [...entries.map((e) => e.json), ...bulk]
    return {
      name: `mappings ${kind}: ${entries.map((e) => e.json).join(" ").slice(0, 120)}${many > 0 ? ` + ${many}` : ""}`,
      method: "PUT",
      path: `/v1/integrations/${f().integrationId}/mappings/${kind}`,
      body: `[${all.join(",")}]`.replaceAll("\"target\"", `"${target}"`),
      mustRefuse: entries.some((e) => !e.ok),
      readOnly: all.length === 0
    }
  })

const workloadBodies = (f: () => Fixture) =>
  fc.record({
    route: fc.constantFrom("create", "set"),
    queueIds: fc.constantFrom<ReadonlyArray<Json>>(
      [],
      ["own"],
      ["no-such-queue"],
      [1],
      [null],
      ["own", "own"],
      ["\ud800"],
      ["../../x"],
      [{ id: "own" }]
    ),
    name: fc.constantFrom<Json>("w", "", 5, null, "x".repeat(201))
  }).map(({ name, queueIds, route }): Request => {
    const ids = queueIds.map((q) => (q === "own" ? f().queueId : q))
    const idsOk = queueIds.every((q) => q === "own") // a queue of this tenant, or none
    const nameOk = name === "w"
    return route === "create"
      ? {
        name: `workload create ${JSON.stringify({ name, queueIds }).slice(0, 80)}`,
        method: "POST",
        path: "/v1/workloads",
        body: JSON.stringify({ name, queueIds: ids }),
        mustRefuse: !idsOk || !nameOk
      }
      : {
        name: `workload set ${JSON.stringify(queueIds)}`,
        method: "PUT",
        path: `/v1/workloads/${f().workloadId}/queues`,
        body: JSON.stringify({ queueIds: ids }),
        mustRefuse: !idsOk
      }
  })

const now = Date.now()
const iso = (ms: number) => new Date(ms).toISOString()

const queryValues = fc.constantFrom(
  "",
  "yesterday",
  "2026-02-30T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "9999-12-31T00:00:00Z",
  iso(now - 86_400_000),
  iso(now),
  "%FF",
  "%00",
  "%C0%AF",
  "%ED%A0%80",
  encodeURIComponent("x".repeat(4_000)),
  "1e400",
  "NaN",
  "-1",
  "__proto__",
  "Europe%2FBerlin",
  "..%2F..%2Fetc",
  "2026-03-29T02:30:00"
)

const queries = (f: () => Fixture) =>
  fc.record({
    route: fc.constantFrom("intervals", "agent-statuses", "runs", "queues", "unmapped"),
    params: fc.dictionary(
      fc.constantFrom("from", "to", "length", "timezone", "fill", "integrationId", "queueId", "agentIdentifier", "limit", "__proto__"),
      queryValues,
      { maxKeys: 5 }
    ),
    valid: fc.boolean(),
    repeated: fc.boolean()
  }).map(({ params, repeated, route, valid }): Request => {
    const base: Record<string, string> = route === "intervals" || route === "agent-statuses"
      ? { from: iso(now - 3 * 86_400_000), to: iso(now), integrationId: f().integrationId }
      : {}
    const merged = valid ? base : { ...base, ...params }
    const query = Object.entries(merged).map(([k, v]) => `${k}=${v.includes("%") ? v : encodeURIComponent(v)}`)
    if (repeated && !valid && query.length > 0) query.push(query[0]!)
    const path = route === "intervals"
      ? "/v1/intervals"
      : route === "agent-statuses"
      ? "/v1/agent-statuses"
      : route === "queues"
      ? "/v1/queues"
      : `/v1/integrations/${f().integrationId}/${route}`
    return {
      name: `GET ${path}?${query.join("&").slice(0, 160)}`,
      method: "GET",
      path: `${path}${query.length === 0 ? "" : `?${query.join("&")}`}`,
      mustRefuse: false,
      readOnly: true
    }
  })

/** Path parameters that are not ids: each route must answer 4xx and change nothing. */
const paths = fc.record({
  id: fc.constantFrom("no-such-id", "%FF", "%00", "..%2F..", "__proto__", "constructor", encodeURIComponent("ü".repeat(2000)), "%2e%2e", "%20", "%20x", "%ED%A0%80"),
  route: fc.constantFrom(
    ["GET", "/v1/integrations/:id"],
    ["POST", "/v1/integrations/:id/pause"],
    ["POST", "/v1/integrations/:id/resume"],
    ["POST", "/v1/integrations/:id/api-key"],
    ["DELETE", "/v1/integrations/:id"],
    ["GET", "/v1/integrations/:id/runs"],
    ["GET", "/v1/integrations/:id/unmapped"],
    ["DELETE", "/v1/queues/:id"],
    ["GET", "/v1/workloads/:id"],
    ["PUT", "/v1/workloads/:id/queues"],
    ["PUT", "/v1/integrations/:id/mappings/agents"],
    ["POST", "/v1/integrations/:id/reimport"]
  )
}).map(({ id, route }): Request => {
  const [method, template] = route as ["GET" | "POST" | "PUT" | "DELETE", string]
  const body = method === "PUT" || template.endsWith("reimport")
    ? template.includes("workloads") ? "{\"queueIds\":[]}" : template.includes("mappings") ? "[]" : `{"from":"${iso(now - 7_200_000)}","to":"${iso(now)}"}`
    : undefined
  return { name: `${method} ${template} with id ${id.slice(0, 40)}`, method, path: template.replace(":id", id), body, mustRefuse: true }
})

/** Raw body trouble on every route that reads a JSON body. */
const rawBodies = (f: () => Fixture) =>
  fc.record({
    route: fc.constantFrom(
      ["POST", "/v1/integrations"],
      ["POST", "/v1/workloads"],
      ["PUT", "/v1/workloads/:w/queues"],
      ["PUT", "/v1/integrations/:i/mappings/agents"],
      ["PUT", "/v1/integrations/:i/mappings/activities"],
      ["POST", "/v1/integrations/:i/reimport"]
    ),
    trouble: fc.constantFrom(
      { name: "not JSON", bytes: utf8("{"), type: "application/json" },
      { name: "text/plain", bytes: utf8("{\"name\":\"a\",\"connector\":\"api-push\"}"), type: "text/plain" },
      { name: "no content type", bytes: utf8("[]"), type: null },
      { name: "latin1", bytes: utf8("[]"), type: "application/json; charset=latin1" },
      { name: "0xFF", bytes: new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]), type: "application/json" },
      { name: "deep", bytes: utf8("[".repeat(100_000) + "]".repeat(100_000)), type: "application/json" },
      { name: "duplicate key", bytes: utf8("{\"name\":\"a\",\"name\":\"b\",\"connector\":\"api-push\",\"queueIds\":[]}"), type: "application/json" },
      { name: "11 MB", bytes: utf8(JSON.stringify({ name: "x".repeat(11_000_000) })), type: "application/json" },
      { name: "empty", bytes: new Uint8Array(), type: "application/json" }
    )
  }).map(({ route, trouble }): Request => {
    const [method, template] = route as ["POST" | "PUT", string]
    const path = template.replace(":w", f().workloadId).replace(":i", f().integrationId)
    return { name: `${method} ${template}: ${trouble.name}`, method, path, body: trouble.bytes, contentType: trouble.type, mustRefuse: true }
  })

const requests = (f: () => Fixture) =>
  fc.oneof(integrationBodies, mappingBodies(f), workloadBodies(f), queries(f), paths, rawBodies(f))

const suite = (backend: "sqlite" | "pg") => {
  let server: Server
  let fixture: Fixture
  let digest: () => Promise<Digest>
  let cleanup: () => Promise<void> | void = () => {}
  const tally = { sent: 0, ok: 0, refused: 0, hostile: 0, losses: 0, byStatus: {} as Record<number, number> }

  beforeAll(async () => {
    if (backend === "sqlite") {
      const dir = tempDir("acd-rel-admin-")
      const database = `${dir.path}/admin.sqlite`
      server = await startServer({ database, synchronous: "normal", adapter: { rateLimit: false } })
      const watcher = sqliteWatcher(database)
      digest = async () => watcher.digest()
      cleanup = () => {
        watcher.close()
        dir.remove()
      }
    } else {
      const base = process.env["ACD_BRIDGE_TEST_PG_URL"] ?? inject("acdBridgeTestPgUrl")
      const name = `acd_rel_admin_${randomUUID().replace(/-/g, "")}`
      execFileSync("psql", [base, "-c", `CREATE DATABASE ${name}`], { stdio: "ignore" })
      const url = new URL(base)
      url.pathname = `/${name}`
      const database = url.toString()
      server = await startServer({ database, adapter: { rateLimit: false } })
      const watcher = await pgWatcher(database)
      digest = watcher.digest
      cleanup = async () => {
        await watcher.close()
        execFileSync("psql", [base, "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore" })
      }
    }
    const { apiKey, id } = await pushIntegration(server, adminToken, "admin fixture")
    const pushed = await call(server, "POST", "/external-systems/contact-events", {
      token: apiKey,
      json: {
        data: [{ properties: { offered: true, handled: true, duration: 3 }, queueName: "Q", queueIdentifier: "q", timestamp: iso(now - 3_600_000), channel: "calls" }],
        meta: { integrationConfigurationId: id }
      }
    })
    assert.strictEqual(pushed.status, 200)
    const queues = await call<Array<{ id: string }>>(server, "GET", `/v1/queues?integrationId=${id}`, { token: adminToken })
    const workload = await call<{ id: string }>(server, "POST", "/v1/workloads", { token: adminToken, json: { name: "W", queueIds: [] } })
    fixture = { integrationId: id, queueId: queues.body[0]!.id, workloadId: workload.body.id }
  }, 120_000)

  afterAll(async () => {
    await server?.kill()
    await cleanup()
    counts.record({
      case: `admin bodies, queries and paths on ${backend}`,
      inputs: tally.sent,
      faults: tally.hostile,
      losses: tally.losses,
      note: `${tally.ok} allowed, ${tally.refused} refused with a 4xx problem and no change; statuses ${JSON.stringify(tally.byStatus)}`
    })
  })

  it(`admin routes on ${backend}: 4xx problems that change nothing, or allowed answers`, async () => {
    await fc.assert(
      fc.asyncProperty(requests(() => fixture), async (request) => {
        const t0 = performance.now()
        const before = await digest()
        const t1 = performance.now()
        const headers: Record<string, string> = {}
        if (request.body !== undefined) headers["content-type"] = request.contentType === undefined ? "application/json" : request.contentType ?? ""
        const answer = await call(server, request.method, request.path, { token: adminToken, raw: request.body, headers })
        if (process.env["REL_TIMING"]) console.log(`digest ${(t1 - t0).toFixed(0)} ms, request ${answer.ms.toFixed(0)} ms: ${request.name.slice(0, 80)}`)
        tally.sent++
        if (request.mustRefuse) tally.hostile++
        tally.byStatus[answer.status] = (tally.byStatus[answer.status] ?? 0) + 1
        const context = `${request.name}: ${answer.status} ${answer.text.slice(0, 300)}` +
          (answer.status >= 500 ? `\nserver log:\n${server.output().slice(-3000)}` : "")
        assert.strictEqual((await call(server, "GET", "/health")).status, 200, `the server is down after ${context}`)
        if (answer.status >= 400) {
          assert.isUndefined(notAClientProblem(answer), context)
          const changed = changedTables(before, await digest())
          if (Object.keys(changed).length > 0) tally.losses++
          assert.deepStrictEqual(changed, {}, `a refused request changed the store: ${context}`)
          tally.refused++
          return
        }
        assert.isFalse(request.mustRefuse, `allowed what the contract refuses: ${context}`)
        assert.include([200, 201, 202, 204], answer.status, context)
        tally.ok++
        if (request.readOnly === true) {
          assert.deepStrictEqual(changedTables(before, await digest()), {}, `a read changed the store: ${context}`)
        }
        if (request.path === "/v1/integrations" && request.method === "POST") {
          const created = answer.body as { id: string; name: string }
          const read = await call<{ name: string }>(server, "GET", `/v1/integrations/${created.id}`, { token: adminToken })
          assert.strictEqual(read.body.name, created.name, context)
          assert.strictEqual(created.name, (JSON.parse(request.body as string) as { name: string }).name, `name not kept verbatim: ${context}`)
        }
      }),
      { numRuns: backend === "pg" ? Math.ceil(RUNS / 3) : RUNS, endOnFailure: true }
    )
    assert.isNull(server.proc.exitCode)
  }, 300_000)
}

describe("admin routes under bad input: SQLite", () => suite("sqlite"))
describe("admin routes under bad input: PostgreSQL", () => suite("pg"))
