/**
 * Authentication and isolation: every route of `/openapi.json` × every kind of credential
 * (`support/authMatrix.ts` holds the expected matrix as data), over real HTTP to a server child
 * on a SQLite file with two tenants. A refused cell is exactly 401/403/404 as a problem body and
 * writes nothing; an allowed cell runs; tenant B's user gets nothing of tenant A and changes
 * nothing of it, and tenant A's credentials get nothing of tenant B, through any route —
 * including the event stream.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { classOf, credentials, type Credential, expected, type Outcome, type RouteClass } from "./support/authMatrix.js"
import { changedTables, sqliteWatcher } from "./support/digest.js"
import { summary } from "./support/summary.js"
import { adminToken, type Answer, call, notAClientProblem, pushIntegration, type Server, sleep, startServer, tempDir, tenantA, tenantB } from "./support/harness.js"

const dir = tempDir("acd-rel-auth-")
const database = `${dir.path}/auth.sqlite`
let server: Server
let watcher: ReturnType<typeof sqliteWatcher>
const tally = { cells: 0, refused: 0, allowed: 0, isolated: 0, routes: 0, cross: 0, losses: 0 }
/** Counts an exposure or a write that should not have happened before the assertion fails on it. */
const lossIf = (happened: boolean) => {
  if (happened) tally.losses++
}
const counts = summary(import.meta.filename)

const now = Date.now()
const iso = (ms: number) => new Date(ms).toISOString()
const range = `from=${encodeURIComponent(iso(now - 2 * 86_400_000))}&to=${encodeURIComponent(iso(now + 3_600_000))}`

interface TenantData {
  /** an api-push integration with data, mappings and a workload */
  readonly integrationId: string
  readonly apiKey: string
  readonly queueId: string
  readonly workloadId: string
  /** what marks this tenant's data in any answer */
  readonly marker: string
  /** a credential of the tenant that may create integrations */
  readonly token: string
}

let a: TenantData
let b: TenantData
let cred: Record<Credential, string | undefined>

/** Seeds a tenant: an integration with contact rows, statuses, mappings, a workload. */
const seed = async (token: string, marker: string): Promise<TenantData> => {
  const { apiKey, id } = await pushIntegration(server, token, `${marker}-integration`)
  const contact = await call(server, "POST", "/external-systems/contact-events", {
    token: apiKey,
    json: {
      data: [{ properties: { offered: true, handled: true, duration: 42 }, queueName: `${marker}-queue-name`, queueIdentifier: `${marker}-queue`, timestamp: iso(now - 3_600_000), channel: "calls" }],
      meta: { integrationConfigurationId: id }
    }
  })
  assert.strictEqual(contact.status, 200, contact.text)
  const status = await call(server, "POST", "/external-systems/agent-statuses", {
    token: apiKey,
    json: {
      data: [{ agentIdentifier: `${marker}-agent`, activityIdentifier: `${marker}-activity`, startTime: iso(now - 7_200_000), endTime: iso(now - 3_600_000) }],
      meta: { integrationConfigurationId: id }
    }
  })
  assert.strictEqual(status.status, 200, status.text)
  const mapped = await call(server, "PUT", `/v1/integrations/${id}/mappings/agents`, {
    token,
    json: [{ externalId: `${marker}-agent`, employeeId: `${marker}-employee` }]
  })
  assert.strictEqual(mapped.status, 200, mapped.text)
  const queues = await call<Array<{ id: string }>>(server, "GET", `/v1/queues?integrationId=${id}`, { token })
  const workload = await call<{ id: string }>(server, "POST", "/v1/workloads", {
    token,
    json: { name: `${marker}-workload`, queueIds: [queues.body[0]!.id] }
  })
  assert.strictEqual(workload.status, 201, workload.text)
  return { integrationId: id, apiKey, queueId: queues.body[0]!.id, workloadId: workload.body.id, marker, token }
}

beforeAll(async () => {
  server = await startServer({
    database,
    synchronous: "normal",
    // with core's scheduler, so the re-import route runs (no pull integration is created: it idles)
    scheduler: { source: { seed: 1 } },
    // the failed-authentication budget would answer 429 to most refused cells: widen it
    adapter: { rateLimit: { failedAuthPerSecond: 10_000, failedAuthBurst: 100_000 } },
    tokens: [
      { name: "patA", tenant: tenantA, user: "user-a" },
      { name: "patB", tenant: tenantB, user: "user-b" },
      { name: "patArevoked", tenant: tenantA, user: "user-a2", revoked: true }
    ]
  })
  watcher = sqliteWatcher(database)
  a = await seed(adminToken, "TENANT-A-SECRET")
  b = await seed(server.tokens["patB"]!, "TENANT-B-SECRET")
  // a revoked key: A's integration gets a new key, the old one stops working
  const renewed = await call<{ apiKey: string }>(server, "POST", `/v1/integrations/${a.integrationId}/api-key`, { token: adminToken })
  const revokedKey = a.apiKey
  a = { ...a, apiKey: renewed.body.apiKey }
  const other = await pushIntegration(server, adminToken, "TENANT-A-SECRET-other")
  const deleted = await pushIntegration(server, adminToken, "TENANT-A-SECRET-deleted")
  assert.strictEqual((await call(server, "DELETE", `/v1/integrations/${deleted.id}`, { token: adminToken })).status, 204)
  cred = {
    none: undefined,
    malformed: "",
    wrongScheme: "",
    revokedKey,
    otherIntegrationKey: other.apiKey,
    ownKey: a.apiKey,
    deletedIntegrationKey: deleted.apiKey,
    revokedPat: server.tokens["patArevoked"]!,
    otherTenantPat: server.tokens["patB"]!,
    ownTenantPat: server.tokens["patA"]!,
    adminToken
  }
}, 120_000)

afterAll(async () => {
  await server?.kill()
  watcher?.close()
  dir.remove()
  counts.record({
    case: "every route × every credential, and across tenants",
    inputs: tally.cells + tally.cross,
    // every call with a credential that must not reach what it names
    faults: tally.refused + tally.isolated + tally.cross,
    losses: tally.losses,
    note: `${tally.routes} routes × ${credentials.length} credentials = ${tally.cells} cells (${tally.refused} refused, ` +
      `${tally.allowed} allowed, ${tally.isolated} isolated); ${tally.cross} calls with tenant A's credentials at tenant B's resources; the event stream`
  })
  counts.flush()
})

/** Authorization headers that are not `Bearer <token>` exactly (docs/http-contract.md). */
const malformed = (i: number) =>
  [`Bearer  ${cred.ownTenantPat}`, "Bearer", `Bearer ${adminToken} x`, `bearer\t${adminToken}`, `Bearer ${adminToken},${adminToken}`, `${adminToken}`][i % 6]!
const wrongScheme = (i: number) =>
  [`Basic ${cred.ownTenantPat}`, `Digest ${cred.ownKey}`, `BearerX${adminToken}`, `Token ${adminToken}`, `Bearer:${adminToken}`][i % 5]!

const authorization = (credential: Credential, i: number): string | undefined => {
  if (credential === "none") return undefined
  if (credential === "malformed") return malformed(i)
  if (credential === "wrongScheme") return wrongScheme(i)
  return `Bearer ${cred[credential]!}`
}

interface Built {
  readonly path: string
  readonly body?: unknown
}

/** A fresh integration of tenant A for a route that changes it (pause, delete, a new key…). */
const freshIntegration = async () => (await pushIntegration(server, adminToken, "TENANT-A-SECRET-fresh")).id

/** A request on `route` aimed at tenant `t`'s resources, with a body the route accepts. */
const build = async (method: string, template: string, t: TenantData, cls: RouteClass): Promise<Built> => {
  let path = template
  if (path.includes("{id}")) {
    const id = path.startsWith("/v1/integrations/")
      ? method === "GET" ? t.integrationId : t === a ? await freshIntegration() : t.integrationId
      : path.startsWith("/v1/queues/")
      ? t.queueId
      : path.startsWith("/v1/workloads/")
      ? t.workloadId
      : t.integrationId
    path = path.replaceAll("{id}", id)
  }
  if (method === "GET" && /^\/v1\/(intervals|agent-statuses)/.test(path)) path += `?integrationId=${t.integrationId}&${range}`
  else if (method === "GET" && path === "/v1/queues") path += `?integrationId=${t.integrationId}`
  const record = { properties: { offered: true, handled: true, duration: 1 }, queueName: "q", queueIdentifier: `${t.marker}-matrix`, timestamp: iso(now - 60_000), channel: "calls" }
  const bodies: Record<string, unknown> = {
    "POST /external-systems/contact-events": { data: [record], meta: { integrationConfigurationId: t.integrationId } },
    "POST /external-systems/agent-statuses": {
      data: [{ agentIdentifier: `${t.marker}-matrix`, activityIdentifier: "x", startTime: iso(now - 60_000) }],
      meta: { integrationConfigurationId: t.integrationId }
    },
    "POST /v1/integrations": { name: "matrix", connector: "api-push" },
    "POST /v1/workloads": { name: "matrix", queueIds: [t.queueId] },
    "PUT /v1/workloads/{id}/queues": { queueIds: [t.queueId] },
    "PUT /v1/integrations/{id}/mappings/agents": [{ externalId: "matrix", employeeId: "e" }],
    "PUT /v1/integrations/{id}/mappings/activities": [{ externalId: "matrix", activityId: "x" }],
    "POST /v1/integrations/{id}/reimport": { from: iso(now - 7_200_000), to: iso(now - 3_600_000) }
  }
  const key = `${method} ${template}`
  const body = key in bodies ? bodies[key] : method === "POST" || method === "PUT" || method === "PATCH" ? {} : undefined
  void cls
  return body === undefined ? { path } : { path, body }
}

/** Calls a route; an event stream is read until its first bytes and closed. */
const send = async (method: string, built: Built, auth: string | undefined): Promise<Answer> => {
  if (built.path.includes("/stream")) {
    const controller = new AbortController()
    const started = performance.now()
    const response = await fetch(`${server.url}${built.path}`, {
      method,
      headers: auth === undefined ? {} : { authorization: auth },
      signal: controller.signal
    })
    const contentType = response.headers.get("content-type") ?? ""
    let text = ""
    if (contentType.startsWith("text/event-stream")) {
      const reader = response.body!.getReader()
      const first = await reader.read()
      text = new TextDecoder().decode(first.value)
      controller.abort()
    } else text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // a stream
    }
    return { status: response.status, headers: response.headers, contentType, text, body, ms: performance.now() - started }
  }
  const headers: Record<string, string> = {}
  if (auth !== undefined) headers["authorization"] = auth
  return call(server, method, built.path, { headers, ...(built.body === undefined ? {} : { json: built.body }) })
}

/** Everything tenant `t` has, as its admin credential reads it: equal before and after means untouched. */
const snapshot = async (t: TenantData) => {
  const paths = [
    "/v1/integrations",
    "/v1/queues",
    "/v1/workloads",
    `/v1/intervals?integrationId=${t.integrationId}&${range}`,
    `/v1/agent-statuses?integrationId=${t.integrationId}&${range}`,
    `/v1/integrations/${t.integrationId}/unmapped`
  ]
  const answers = await Promise.all(paths.map((p) => call(server, "GET", p, { token: t.token })))
  return answers.map((x) => x.text).join("\n")
}

const routes = async () => {
  const doc = await call<{ paths: Record<string, Record<string, unknown>> }>(server, "GET", "/openapi.json")
  assert.strictEqual(doc.status, 200)
  const found = Object.entries(doc.body.paths).flatMap(([path, methods]) =>
    Object.keys(methods).filter((m) => ["get", "post", "put", "patch", "delete"].includes(m)).map((m) => ({ method: m.toUpperCase(), path }))
  )
  return [...found, { method: "GET", path: "/openapi.json" }]
}

const check = (outcome: Outcome, answer: Answer, context: string) => {
  if (outcome === "ok") {
    assert.notInclude([401, 403], answer.status, context)
    assert.isBelow(answer.status, 500, context)
  } else if (typeof outcome === "number") {
    assert.strictEqual(answer.status, outcome, context)
    assert.isUndefined(notAClientProblem(answer), context)
    if (outcome === 401) assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer/, context)
  }
}

describe("authentication and isolation matrix", () => {
  it("every route × every credential answers as the matrix says; refusals write nothing; tenant B sees and changes nothing of A", async () => {
    const all = await routes()
    assert.isAtLeast(all.length, 20, "the OpenAPI document lists the routes")
    tally.routes = all.length
    for (const [r, route] of all.entries()) {
      const cls = classOf(route.method, route.path)
      for (const [c, credential] of credentials.entries()) {
        const outcome = expected[cls][credential]
        const built = await build(route.method, route.path, a, cls)
        const auth = authorization(credential, r * credentials.length + c)
        const context = `${route.method} ${route.path} [${cls}] with ${credential} (${JSON.stringify(auth?.slice(0, 24))})`
        const digestBefore = watcher.digest()
        const aBefore = outcome === "isolated" ? await snapshot(a) : ""
        const answer = await send(route.method, built, auth)
        const detail = `${context}: ${answer.status} ${answer.text.slice(0, 200)}`
        tally.cells++
        check(outcome, answer, detail)
        if (typeof outcome === "number") {
          tally.refused++
          const changed = changedTables(digestBefore, watcher.digest())
          lossIf(Object.keys(changed).length > 0 || answer.text.includes("TENANT-A-SECRET"))
          assert.deepStrictEqual(changed, {}, `a refused call wrote: ${detail}`)
          assert.notInclude(answer.text, "TENANT-A-SECRET", detail)
        } else if (outcome === "isolated") {
          tally.isolated++
          lossIf(answer.text.includes("TENANT-A-SECRET") || (answer.status < 400 && answer.text.includes(a.integrationId)))
          // B's user acts in B: never a 401/403 oracle, never A's data, never a change to A
          assert.notInclude(answer.text, "TENANT-A-SECRET", detail)
          if (answer.status < 400) {
            // (a 404 may repeat the id the caller sent; an answer with data must not hold A's)
            assert.notInclude(answer.text, a.integrationId, detail)
            assert.notInclude(answer.text, a.queueId, detail)
          }
          assert.isBelow(answer.status, 500, detail)
          assert.notInclude([401, 403], answer.status, detail)
          if (built.path !== route.path || route.path.includes("{")) {
            // a route naming A's resource: B can't tell it exists
            if (built.path.includes(a.integrationId) || route.path.includes("{id}")) assert.strictEqual(answer.status, 404, detail)
          }
          assert.strictEqual(await snapshot(a), aBefore, `tenant A changed: ${detail}`)
        } else {
          tally.allowed++
        }
      }
    }
  }, 240_000)

  it("tenant A's credentials reach nothing of tenant B through any route", async () => {
    const all = await routes()
    for (const route of all) {
      const cls = classOf(route.method, route.path)
      if (cls === "public") continue
      for (const credential of ["adminToken", "ownTenantPat", "ownKey"] as const) {
        const built = await build(route.method, route.path, b, cls)
        const bBefore = await snapshot(b)
        const answer = await send(route.method, built, authorization(credential, 0))
        const detail = `${route.method} ${built.path} with A's ${credential}: ${answer.status} ${answer.text.slice(0, 200)}`
        tally.cross++
        lossIf(answer.text.includes("TENANT-B-SECRET") || (answer.status < 400 && answer.text.includes(b.integrationId)))
        assert.isBelow(answer.status, 500, detail)
        assert.notInclude(answer.text, "TENANT-B-SECRET", detail)
        if (answer.status < 400) {
          assert.notInclude(answer.text, b.integrationId, detail)
          assert.notInclude(answer.text, b.queueId, detail)
        }
        // a route naming B's resource: not found (or forbidden for an API key), never done
        if (route.path.includes("{id}") || built.path.includes(b.integrationId) || route.path.startsWith("/external-systems/")) {
          // an API key is no admin credential (401) and pushes only into its own integration (403); the
          // admin token doesn't push (403); a user of A doesn't see B's integration (404); a body naming
          // B's queue names no queue of A (422)
          const allowed = credential === "ownKey" || cls === "link"
            ? [401, 403]
            : route.path.startsWith("/external-systems/")
            ? [403, 404]
            // a user's token is refused on the admin-token-only routes before anything is looked up
            : cls === "adminTokenOnly" && credential === "ownTenantPat"
            ? [403]
            : [404, 422]
          assert.include(allowed, answer.status, detail)
        }
        assert.strictEqual(await snapshot(b), bBefore, `tenant B changed: ${detail}`)
      }
    }
  }, 240_000)

  it("the event stream of one tenant never carries another tenant's statuses", async () => {
    const open = async (token: string) => {
      const controller = new AbortController()
      const response = await fetch(`${server.url}/v1/agent-statuses/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal })
      assert.strictEqual(response.status, 200)
      const reader = response.body!.getReader()
      let text = ""
      void (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            text += new TextDecoder().decode(value)
          }
        } catch {
          // aborted
        }
      })()
      return { text: () => text, close: () => controller.abort() }
    }
    const streamA = await open(cred.ownTenantPat!)
    const streamB = await open(cred.otherTenantPat!)
    await sleep(200)
    const pushed = await call(server, "POST", "/external-systems/agent-statuses", {
      token: a.apiKey,
      json: {
        data: [{ agentIdentifier: "TENANT-A-SECRET-live", activityIdentifier: "Talk", startTime: iso(Date.now() - 1_000) }],
        meta: { integrationConfigurationId: a.integrationId }
      }
    })
    assert.strictEqual(pushed.status, 200)
    const deadline = Date.now() + 3_000
    while (!streamA.text().includes("TENANT-A-SECRET-live") && Date.now() < deadline) await sleep(50)
    // the positive control: A's stream has it (within the realtime promise of a second, with slack for a busy machine)
    assert.include(streamA.text(), "TENANT-A-SECRET-live")
    await sleep(500)
    assert.notInclude(streamB.text(), "TENANT-A-SECRET")
    streamA.close()
    streamB.close()
  }, 60_000)
})
