/**
 * Interval answers are bounded by rows, not only by days (issue 14): a `fill=zero` answer of
 * queues × intervals over the limit is refused before any work with a 422 that says how to
 * page; large answers that are allowed are streamed, computed in slices of whole intervals,
 * and equal to what one computation of the whole range gives.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  adminToken,
  call,
  contactRecord,
  type IntervalRow,
  type Problem,
  pushContacts,
  pushIntegration,
  startServer,
  type TestServer
} from "./helpers.js"

describe("interval answers bounded by rows", () => {
  let server: TestServer
  let id: string
  let apiKey: string
  beforeAll(async () => {
    server = await startServer()
    ;({ id, apiKey } = await pushIntegration(server, { name: "four queues" }))
    const data = ["q1", "q2", "q3", "q4"].map((queueIdentifier) => contactRecord({ timestamp: "2026-03-02T09:00:00Z", queueIdentifier }))
    assert.strictEqual((await pushContacts(server, apiKey, id, data)).status, 200)
  })
  afterAll(() => server.close())

  const query = (params: Record<string, string>) =>
    call<Array<IntervalRow> | Problem>(server, "GET", `/v1/intervals?${new URLSearchParams({ integrationId: id, ...params })}`, {
      token: adminToken
    })

  it("fill=zero over 4 queues × 400 days of quarter-hours (153,600 rows) is 422 saying how to page", async () => {
    const answer = await query({ from: "2025-02-01T00:00:00Z", to: "2026-03-08T00:00:00Z", fill: "zero", timezone: "UTC" })
    assert.strictEqual(answer.status, 422)
    const problem = answer.body as Problem
    assert.match(problem.detail, /153,600 rows/)
    assert.match(problem.detail, /100,000/)
    assert.match(problem.detail, /queueId/)
    assert.match(problem.detail, /narrower/)
  })

  it("a large answer that is allowed is streamed, complete and in order", async () => {
    const queues = await call<Array<{ id: string; identifier: string }>>(server, "GET", `/v1/queues?integrationId=${id}`, { token: adminToken })
    const q1 = queues.body.find((q) => q.identifier === "q1")!
    // one queue, 100 days of quarter-hours: 9,600 rows
    const response = await fetch(
      `${server.url}/v1/intervals?${new URLSearchParams({
        integrationId: id,
        queueId: q1.id,
        from: "2025-11-23T00:00:00Z",
        to: "2026-03-03T00:00:00Z",
        fill: "zero",
        timezone: "UTC"
      })}`,
      { headers: { authorization: `Bearer ${adminToken}` } }
    )
    assert.strictEqual(response.status, 200)
    assert.isNull(response.headers.get("content-length"), "streamed: no length known up front")
    assert.strictEqual(response.headers.get("transfer-encoding"), "chunked")
    assert.include(response.headers.get("content-type") ?? "", "application/json")
    const rows = (await response.json()) as Array<IntervalRow>
    assert.strictEqual(rows.length, 9_600)
    assert.strictEqual(rows[0]!.start, "2025-11-23T00:00:00+00:00")
    assert.strictEqual(rows.at(-1)!.start, "2026-03-02T23:45:00+00:00")
    assert.strictEqual(rows.reduce((n, r) => n + r.offered, 0), 1)
    for (let i = 1; i < rows.length; i++) assert.isTrue(rows[i - 1]!.start < rows[i]!.start)
  })
})

describe("answers without fill are bounded by the rows found", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", maxIntervalRows: 50 })
  })
  afterAll(() => server.close())

  it("more rows with data than the limit is 422; a narrower range is answered", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "dense" })
    const data = Array.from({ length: 60 }, (_, i) =>
      contactRecord({ timestamp: new Date(Date.UTC(2026, 2, 2) + i * 15 * 60_000).toISOString() })
    )
    assert.strictEqual((await pushContacts(server, apiKey, id, data)).status, 200)
    const url = (to: string) => `/v1/intervals?integrationId=${id}&from=2026-03-02T00:00:00Z&to=${to}`
    const all = await call<Problem>(server, "GET", url("2026-03-03T00:00:00Z"), { token: adminToken })
    assert.strictEqual(all.status, 422)
    assert.match(all.body.detail, /60 rows/)
    const part = await call<Array<IntervalRow>>(server, "GET", url("2026-03-02T12:00:00Z"), { token: adminToken })
    assert.deepStrictEqual([part.status, part.body.length], [200, 48])
    // fill=zero: 1 queue × 50 quarter-hours is exactly the limit, 51 is over it
    const fifty = await call<Array<IntervalRow>>(server, "GET", `${url("2026-03-02T12:30:00Z")}&fill=zero`, { token: adminToken })
    assert.deepStrictEqual([fifty.status, fifty.body.length], [200, 50])
    const over = await call<Problem>(server, "GET", `${url("2026-03-02T12:45:00Z")}&fill=zero`, { token: adminToken })
    assert.strictEqual(over.status, 422)
    assert.match(over.body.detail, /51 rows/)
  })
})

describe("streamed answers are the answer of the whole range", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory" })
  })
  afterAll(() => server.close())

  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
    assert.strictEqual(response.status, 200, path)
    return { chunked: response.headers.get("transfer-encoding") === "chunked", rows: (await response.json()) as Array<IntervalRow> }
  }

  it("rows with data over 30 days, 3 queues: the streamed answer is the days' answers end to end", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "dense" })
    const data = Array.from({ length: 3_000 }, (_, i) =>
      contactRecord({
        queueIdentifier: `q${i % 3}`,
        timestamp: new Date(Date.UTC(2026, 1, 1) + ((i * 7_919) % (30 * 96)) * 15 * 60_000).toISOString(),
        duration: i % 100
      })
    )
    assert.strictEqual((await pushContacts(server, apiKey, id, data)).status, 200)
    const whole = await get(`/v1/intervals?integrationId=${id}&from=2026-02-01T00:00:00Z&to=2026-03-03T00:00:00Z&timezone=Europe/Berlin`)
    assert.isTrue(whole.chunked)
    const days: Array<IntervalRow> = []
    for (let d = 0; d < 30; d++) {
      const from = new Date(Date.UTC(2026, 1, 1) + d * 86_400_000).toISOString()
      const to = new Date(Date.UTC(2026, 1, 2) + d * 86_400_000).toISOString()
      const day = await get(`/v1/intervals?integrationId=${id}&from=${from}&to=${to}&timezone=Europe/Berlin`)
      assert.isFalse(day.chunked)
      days.push(...day.rows)
    }
    assert.strictEqual(whole.rows.length, days.length)
    assert.deepStrictEqual(whole.rows, days)
    assert.strictEqual(whole.rows.reduce((n, r) => n + r.offered, 0), 3_000)
  })

  it("fill=zero over a queue with data in two channels zero-fills both over the whole range", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "two channels" })
    await pushContacts(server, apiKey, id, [
      contactRecord({ queueIdentifier: "mixed", channel: "calls", timestamp: "2026-02-02T09:00:00Z" }),
      contactRecord({ queueIdentifier: "mixed", channel: "chats", timestamp: "2026-02-19T09:00:00Z" })
    ])
    // 60 days of quarter-hours: 5,760 intervals, more than one slice
    const { rows } = await get(`/v1/intervals?integrationId=${id}&from=2026-02-01T00:00:00Z&to=2026-04-02T00:00:00Z&timezone=UTC&fill=zero`)
    assert.strictEqual(rows.length, 2 * 5_760)
    for (const channel of ["calls", "chats"]) {
      const mine = rows.filter((r) => r.channel === channel)
      assert.strictEqual(mine.length, 5_760, channel)
      assert.strictEqual(mine[0]!.start, "2026-02-01T00:00:00+00:00")
      assert.strictEqual(mine.reduce((n, r) => n + r.offered, 0), 1)
    }
  })
})
