/**
 * Rate limits (issue 14): per authenticated principal however its header is spelled, failed
 * authentications per client address, records as well as requests, defaults that let a large
 * site's realtime feed through, overrides per integration.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  call,
  contactRecord,
  type Problem,
  pushContacts,
  pushIntegration,
  pushStatuses,
  startServer,
  type TestServer
} from "./helpers.js"

const contactsPath = "/external-systems/contact-events"
const record = (minute = 0) => contactRecord({ timestamp: `2026-03-02T09:${String(minute % 60).padStart(2, "0")}:00Z` })

describe("rate limit per principal", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", rateLimit: { requestsPerSecond: 0.2, burst: 3 } })
  })
  afterAll(() => server.close())

  it("is keyed on who authenticated, not on how the header is spelled", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "spellings" })
    const spellings = [`Bearer ${apiKey}`, `bearer ${apiKey}`, `BEARER ${apiKey}`, `BeArEr ${apiKey}`]
    const statuses: Array<number> = []
    for (let i = 0; i < 6; i++) {
      const answer = await call(server, "POST", contactsPath, {
        headers: { authorization: spellings[i % spellings.length]! },
        body: { data: [record(i)], meta: { integrationConfigurationId: id } }
      })
      statuses.push(answer.status)
    }
    assert.deepStrictEqual(statuses, [200, 200, 200, 429, 429, 429])
  })
})

describe("failed authentications per client address", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", rateLimit: { failedAuthPerSecond: 0.1, failedAuthBurst: 5 } })
  })
  afterAll(() => server.close())

  it("guessing with fresh unknown keys is limited (429 with Retry-After)", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "guessing" })
    const statuses: Array<number> = []
    let limited: Awaited<ReturnType<typeof pushContacts>> | undefined
    for (let i = 0; i < 8; i++) {
      const answer = await pushContacts(server, `acdb_guess${String(i).padStart(40, "0")}`, id, [record(i)])
      statuses.push(answer.status)
      if (answer.status === 429) limited ??= answer
    }
    assert.deepStrictEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429])
    assert.isAtLeast(Number(limited!.headers.get("retry-after")), 1)
    const problem = limited!.body as Problem & { retryAfterSeconds: number }
    assert.strictEqual(problem.retryAfterSeconds, Number(limited!.headers.get("retry-after")))
    // while the address is limited, its credentials are not even checked
    assert.strictEqual((await pushContacts(server, apiKey, id, [record()])).status, 429)
    // unauthenticated routes stay open
    assert.strictEqual((await call(server, "GET", "/health")).status, 200)
  })
})

describe("records as well as requests", () => {
  let server: TestServer
  let generous: string | undefined
  beforeAll(async () => {
    server = await startServer({
      storage: "memory",
      rateLimit: {
        recordsPerSecond: 0.5,
        recordsBurst: 20,
        integrations: (integrationId) => (integrationId === generous ? { recordsBurst: 100 } : undefined)
      }
    })
  })
  afterAll(() => server.close())

  const records = (n: number) => Array.from({ length: n }, (_, i) => record(i))

  it("counts the records of each integration; a batch over the burst is 413 saying how big a batch may be", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "records" })
    assert.strictEqual((await pushContacts(server, apiKey, id, records(15))).status, 200)
    const limited = await pushContacts(server, apiKey, id, records(10))
    assert.strictEqual(limited.status, 429)
    assert.isAtLeast(Number(limited.headers.get("retry-after")), 1)
    assert.match((limited.body as Problem).detail, /records/)
    const tooBig = await pushContacts(server, apiKey, id, records(25))
    assert.strictEqual(tooBig.status, 413)
    assert.match((tooBig.body as Problem).detail, /20 records/)
    // another integration has its own budget
    const other = await pushIntegration(server, { name: "other records" })
    assert.strictEqual((await pushContacts(server, other.apiKey, other.id, records(15))).status, 200)
  })

  it("takes overrides per integration", async () => {
    const target = await pushIntegration(server, { name: "generous" })
    generous = target.id
    assert.strictEqual((await pushContacts(server, target.apiKey, target.id, records(60))).status, 200)
    assert.strictEqual((await pushContacts(server, target.apiKey, target.id, records(30))).status, 200)
    assert.strictEqual((await pushContacts(server, target.apiKey, target.id, records(30))).status, 429)
  })
})

describe("default limits", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", rateLimit: undefined })
  })
  afterAll(() => server.close())

  it("let a 5,000-agent site's realtime feed through: 400 single statuses as fast as one key can send them", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "realtime" })
    let next = 0
    const statuses: Array<number> = []
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 400) {
        const i = next++
        const answer = await pushStatuses(server, apiKey, id, [
          { agentIdentifier: `agent-${i}`, activityIdentifier: "READY", startTime: "2026-03-02T09:00:00Z" }
        ])
        statuses.push(answer.status)
      }
    }))
    assert.strictEqual(statuses.filter((s) => s === 200).length, 400, `refused: ${statuses.filter((s) => s !== 200).length}`)
  })
})
