import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { contactRecord, intervals, pushContacts, pushIntegration, startServer, type TestServer } from "./helpers.js"

const QUARTER = 15 * 60_000

/** One contact 7 minutes into every quarter-hour of [fromUtc, toUtc). */
const everyQuarter = (fromUtc: string, toUtc: string) => {
  const out = []
  for (let t = Date.parse(fromUtc); t < Date.parse(toUtc); t += QUARTER) {
    out.push(contactRecord({ timestamp: new Date(t + 7 * 60_000).toISOString(), duration: 60 }))
  }
  return out
}

describe("DST days through the HTTP API (Europe/Berlin)", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  const berlin = { timezone: "Europe/Berlin" } as const

  it("29 March 2026 (spring forward) has 92 quarter-hours", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "spring", timezone: "Europe/Berlin" })
    // local midnight to local midnight: 23:00Z to 22:00Z, 23 hours
    const data = everyQuarter("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
    assert.strictEqual(data.length, 92)
    assert.strictEqual((await pushContacts(server, apiKey, id, data)).status, 200)

    const day = { from: "2026-03-29T00:00:00", to: "2026-03-30T00:00:00", ...berlin }
    const quarters = await intervals(server, id, day)
    assert.strictEqual(quarters.length, 92)
    assert.isTrue(quarters.every((r) => r.offered === 1))
    const labels = quarters.map((r) => r.start)
    assert.strictEqual(labels[0], "2026-03-29T00:00:00+01:00")
    const jump = labels.indexOf("2026-03-29T01:45:00+01:00")
    assert.strictEqual(labels[jump + 1], "2026-03-29T03:00:00+02:00")
    assert.strictEqual(quarters[jump]!.end, "2026-03-29T03:00:00+02:00")
    assert.isFalse(labels.some((l) => l.startsWith("2026-03-29T02:")))
    assert.strictEqual(labels[91], "2026-03-29T23:45:00+02:00")
    assert.strictEqual((await intervals(server, id, { ...day, length: 30 })).length, 46)
    const hours = await intervals(server, id, { ...day, length: 60 })
    assert.strictEqual(hours.length, 23)
    assert.isTrue(hours.every((r) => r.offered === 4))
  })

  it("25 October 2026 (fall back) has 100 quarter-hours and two distinct 02:00 intervals", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "autumn", timezone: "Europe/Berlin" })
    const data = everyQuarter("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
    assert.strictEqual(data.length, 100)
    assert.strictEqual((await pushContacts(server, apiKey, id, data)).status, 200)

    const day = { from: "2026-10-25T00:00:00", to: "2026-10-26T00:00:00", ...berlin }
    const quarters = await intervals(server, id, day)
    assert.strictEqual(quarters.length, 100)
    assert.isTrue(quarters.every((r) => r.offered === 1))
    const labels = quarters.map((r) => r.start)
    assert.include(labels, "2026-10-25T02:00:00+02:00")
    assert.include(labels, "2026-10-25T02:00:00+01:00")
    assert.isBelow(labels.indexOf("2026-10-25T02:00:00+02:00"), labels.indexOf("2026-10-25T02:00:00+01:00"))
    assert.strictEqual(new Set(labels).size, 100)
    const hours = await intervals(server, id, { ...day, length: 60 })
    assert.strictEqual(hours.length, 25)
    assert.deepStrictEqual(
      hours.filter((r) => r.start.includes("T02:00")).map((r) => [r.start, r.end, r.offered]),
      [
        ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", 4],
        ["2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", 4]
      ]
    )
  })

  it("fill=zero gives every quarter-hour for a queue with little data", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "sparse", timezone: "Europe/Berlin" })
    await pushContacts(server, apiKey, id, [contactRecord({ timestamp: "2026-10-25T09:00:00+01:00" })])
    const spring = await intervals(server, id, { from: "2026-03-29T00:00:00", to: "2026-03-30T00:00:00", ...berlin, fill: "zero" })
    assert.strictEqual(spring.length, 92)
    assert.isTrue(spring.every((r) => r.offered === 0 && r.ahtSeconds === null))
    const autumn = await intervals(server, id, { from: "2026-10-25T00:00:00", to: "2026-10-26T00:00:00", ...berlin, fill: "zero" })
    assert.strictEqual(autumn.length, 100)
    assert.deepStrictEqual(autumn.filter((r) => r.offered > 0).map((r) => r.start), ["2026-10-25T09:00:00+01:00"])
  })
})
