import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { contactRecord, type Problem, pushContacts, pushIntegration, pushStatuses, startServer, type TestServer } from "./helpers.js"

const hour = 3_600_000
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString()

describe("push: the acceptance window for timestamps in the future", () => {
  let standard: TestServer
  let strict: TestServer
  beforeAll(async () => {
    ;[standard, strict] = await Promise.all([
      startServer({ storage: "memory" }),
      startServer({ storage: "memory", timestampWindow: { maxFuture: "1 hour" } })
    ])
  })
  afterAll(() => Promise.all([standard.close(), strict.close()]))

  it("by default a timestamp more than a day ahead is 422 naming the record, and nothing of the batch is applied", async () => {
    const { apiKey, id } = await pushIntegration(standard)
    const refused = await pushContacts(standard, apiKey, id, [
      contactRecord({ timestamp: at(-hour) }),
      contactRecord({ timestamp: at(23 * hour) }),
      contactRecord({ timestamp: at(25 * hour) })
    ])
    assert.strictEqual(refused.status, 422, JSON.stringify(refused.body))
    const problem = refused.body as Problem
    assert.deepStrictEqual([problem.index, problem.field], [2, "timestamp"])
    assert.match(problem.detail, /^Record 2, field timestamp: .* is too far in the future \(more than 1 day after now/)
    assert.match(problem.detail, /Nothing of this batch was applied/)
    // the same batch without the record from the future is taken whole: nothing was half-applied before
    const accepted = await pushContacts(standard, apiKey, id, [
      contactRecord({ timestamp: at(-hour) }),
      contactRecord({ timestamp: at(23 * hour) })
    ])
    assert.deepStrictEqual([accepted.status, accepted.body], [200, { accepted: 2 }])
  })

  it("the window is configurable (timestampWindow.maxFuture), for agent statuses as for contacts", async () => {
    const { apiKey, id } = await pushIntegration(strict)
    const contacts = await pushContacts(strict, apiKey, id, [contactRecord({ timestamp: at(2 * hour) })])
    assert.strictEqual(contacts.status, 422)
    assert.deepStrictEqual([(contacts.body as Problem).index, (contacts.body as Problem).field], [0, "timestamp"])
    assert.match((contacts.body as Problem).detail, /more than 1 hour after now/)

    const ok = { agentIdentifier: "a-1", activityIdentifier: "READY", startTime: at(-hour) }
    const statuses = await pushStatuses(strict, apiKey, id, [ok, { ...ok, agentIdentifier: "a-2", startTime: at(2 * hour) }])
    assert.strictEqual(statuses.status, 422)
    assert.deepStrictEqual([(statuses.body as Problem).index, (statuses.body as Problem).field], [1, "startTime"])

    const near = await pushContacts(strict, apiKey, id, [contactRecord({ timestamp: at(30 * 60_000) })])
    assert.deepStrictEqual([near.status, near.body], [200, { accepted: 1 }])
  })
})
