import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { adminToken, call, type Problem, pushIntegration, pushStatuses, startServer, type TestServer } from "./helpers.js"

interface Subscriber {
  /** the next event of the stream (comments skipped), with the time it arrived */
  readonly next: () => Promise<{ readonly id: string | undefined; readonly event: string; readonly data: unknown; readonly at: number }>
  readonly close: () => void
  readonly status: number
  readonly contentType: string | null
}

const subscribe = async (
  server: TestServer,
  query = "",
  token = adminToken,
  lastEventId?: string
): Promise<Subscriber> => {
  const controller = new AbortController()
  const response = await fetch(`${server.url}/v1/agent-statuses/stream${query}`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
    signal: controller.signal
  })
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  const next = async () => {
    for (;;) {
      const end = buffer.indexOf("\n\n")
      if (end !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const lines = frame.split("\n").filter((l) => !l.startsWith(":"))
        if (lines.length === 0) continue
        const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message"
        if (!lines.some((l) => l.startsWith("data: "))) continue
        const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n")
        const id = lines.find((l) => l.startsWith("id: "))?.slice(4)
        return { id, event, data: JSON.parse(data) as unknown, at: performance.now() }
      }
      const { done, value } = await reader.read()
      if (done) throw new Error("stream ended")
      buffer += decoder.decode(value, { stream: true })
    }
  }
  // wait for the first comment: the subscription is registered once the answer has started
  while (!buffer.includes(": connected")) {
    const { value } = await reader.read()
    buffer += decoder.decode(value, { stream: true })
  }
  return {
    next,
    close: () => controller.abort(),
    status: response.status,
    contentType: response.headers.get("content-type")
  }
}

describe("agent status stream (server-sent events)", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  it("a subscriber receives a pushed status in under a second", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "realtime" })
    const subscriber = await subscribe(server, `?integrationId=${id}`)
    try {
      assert.strictEqual(subscriber.status, 200)
      assert.strictEqual(subscriber.contentType, "text/event-stream")
      const sent = performance.now()
      const pushed = await pushStatuses(server, apiKey, id, [
        { agentIdentifier: "a-7", activityIdentifier: "BREAK", startTime: "2026-03-02T09:00:00Z" }
      ])
      assert.strictEqual(pushed.status, 200)
      const received = await subscriber.next()
      assert.isBelow(received.at - sent, 1_000)
      assert.strictEqual(received.event, "agent-status")
      assert.deepStrictEqual(received.data, {
        integrationId: id,
        agentIdentifier: "a-7",
        activityIdentifier: "BREAK",
        startTime: "2026-03-02T09:00:00.000Z",
        endTime: null,
        employeeId: null,
        activityId: null
      })
    } finally {
      subscriber.close()
    }
  })

  it("filters by integration and tenant; needs admin credentials", async () => {
    const a = await pushIntegration(server, { name: "stream A" })
    const b = await pushIntegration(server, { name: "stream B" })
    const onlyB = await subscribe(server, `?integrationId=${b.id}`)
    const other = await subscribe(server, "", await server.pat("tenant-b"))
    const all = await subscribe(server, "", await server.pat())
    try {
      await pushStatuses(server, a.apiKey, a.id, [{ agentIdentifier: "from-a", activityIdentifier: "X", startTime: "2026-03-02T09:00:00Z" }])
      await pushStatuses(server, b.apiKey, b.id, [{ agentIdentifier: "from-b", activityIdentifier: "X", startTime: "2026-03-02T09:00:00Z" }])
      assert.strictEqual(((await onlyB.next()).data as { agentIdentifier: string }).agentIdentifier, "from-b")
      assert.strictEqual(((await all.next()).data as { agentIdentifier: string }).agentIdentifier, "from-a")
      assert.strictEqual(((await all.next()).data as { agentIdentifier: string }).agentIdentifier, "from-b")
      const nothing = await Promise.race([other.next().then(() => "event"), new Promise((r) => setTimeout(() => r("quiet"), 300))])
      assert.strictEqual(nothing, "quiet")
    } finally {
      onlyB.close()
      other.close()
      all.close()
    }
    assert.strictEqual((await call(server, "GET", "/v1/agent-statuses/stream", { token: a.apiKey })).status, 401)
    const missing = await call(server, "GET", "/v1/agent-statuses/stream?integrationId=nope", { token: adminToken })
    assert.deepStrictEqual([missing.status, (missing.body as Problem).status], [404, 404])
  })
})

const status = (agent: string, minute: number) => ({
  agentIdentifier: agent,
  activityIdentifier: "READY",
  startTime: new Date(Date.parse("2026-03-02T09:00:00Z") + minute * 60_000).toISOString()
})

const agentOf = (e: { readonly data: unknown }) => (e.data as { agentIdentifier: string }).agentIdentifier

describe("agent status stream: resuming with Last-Event-ID", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", replayLog: 5 })
  })
  afterAll(() => server.close())

  it("events carry ids; a client that reconnects with Last-Event-ID gets what it missed, then live ones", async () => {
    const { apiKey, id } = await pushIntegration(server, { name: "resume" })
    const first = await subscribe(server, `?integrationId=${id}`)
    await pushStatuses(server, apiKey, id, [status("a-1", 0)])
    const seen = await first.next()
    assert.match(seen.id ?? "", /^[0-9a-f]{8}-\d+$/)
    first.close()
    // while the client is away
    await pushStatuses(server, apiKey, id, [status("a-2", 1), status("a-3", 2)])
    await pushStatuses(server, apiKey, id, [status("a-4", 3)])
    const again = await subscribe(server, `?integrationId=${id}`, adminToken, seen.id)
    try {
      const missed = [await again.next(), await again.next(), await again.next()]
      assert.deepStrictEqual(missed.map(agentOf), ["a-2", "a-3", "a-4"])
      assert.deepStrictEqual(missed.map((e) => e.event), ["agent-status", "agent-status", "agent-status"])
      const ids = [seen.id!, ...missed.map((e) => e.id!)].map((i) => Number(i.split("-")[1]))
      assert.deepStrictEqual(ids, [ids[0]!, ids[0]! + 1, ids[0]! + 2, ids[0]! + 3])
      await pushStatuses(server, apiKey, id, [status("a-5", 4)])
      const live = await again.next()
      assert.deepStrictEqual([agentOf(live), live.event], ["a-5", "agent-status"])
      // resuming from the newest id: nothing is replayed twice
      const fromNewest = await subscribe(server, `?integrationId=${id}`, adminToken, live.id)
      try {
        await pushStatuses(server, apiKey, id, [status("a-6", 5)])
        assert.strictEqual(agentOf(await fromNewest.next()), "a-6")
      } finally {
        fromNewest.close()
      }
    } finally {
      again.close()
    }
  })

  it("an id older than the log, from another run, or unreadable gets a reset event, never a silent gap", async () => {
    const { apiKey, id } = await pushIntegration(server, { name: "reset" })
    const first = await subscribe(server, `?integrationId=${id}`)
    await pushStatuses(server, apiKey, id, [status("b-1", 0)])
    const seen = await first.next()
    first.close()
    // more than the log holds (5) while away
    await pushStatuses(server, apiKey, id, Array.from({ length: 7 }, (_, i) => status(`b-${i + 2}`, i + 1)))
    const late = await subscribe(server, `?integrationId=${id}`, adminToken, seen.id)
    try {
      const reset = await late.next()
      assert.strictEqual(reset.event, "reset")
      assert.strictEqual((reset.data as { query: string }).query, "/v1/agent-statuses")
      assert.match((reset.data as { reason: string }).reason, /more than 5 statuses/)
      assert.isString(reset.id)
      await pushStatuses(server, apiKey, id, [status("b-live", 9)])
      assert.strictEqual(agentOf(await late.next()), "b-live")
    } finally {
      late.close()
    }
    for (const stale of ["00000000-3", "garbage"]) {
      const other = await subscribe(server, `?integrationId=${id}`, adminToken, stale)
      try {
        assert.strictEqual((await other.next()).event, "reset")
      } finally {
        other.close()
      }
    }
  })
})
