import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { adminToken, call, type Problem, pushIntegration, pushStatuses, startServer, type TestServer } from "./helpers.js"

interface Subscriber {
  /** the next event of the stream (comments skipped), with the time it arrived */
  readonly next: () => Promise<{ readonly event: string; readonly data: unknown; readonly at: number }>
  readonly close: () => void
  readonly status: number
  readonly contentType: string | null
}

const subscribe = async (server: TestServer, query = "", token = adminToken): Promise<Subscriber> => {
  const controller = new AbortController()
  const response = await fetch(`${server.url}/v1/agent-statuses/stream${query}`, {
    headers: { authorization: `Bearer ${token}` },
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
        const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n")
        return { event, data: JSON.parse(data) as unknown, at: performance.now() }
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
