/**
 * Operating a running built server: the `acd-bridge` command line against its admin API
 * (connectors, integrations create/list/pause/resume/check, a personal access token), a
 * credential rotation (a wrong Five9 password marks the integration failing, the right one
 * recovers it), the agent-status stream resumed with `Last-Event-ID`, and retention.
 */
import { Five9Simulator } from "@acd-bridge/five9/simulator"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import parsePrometheus from "parse-prometheus-text-format"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { adminToken, api, type IntervalRow, iso, killAll, run, type Running, serve, stop, waitFor } from "./support.js"

const HOUR = 3_600_000
const metricsToken = "server-test-metrics-token-0123456789"
const dir = mkdtempSync(join(tmpdir(), "acd-server-admin-"))
const scope = Effect.runSync(Scope.make())
const now = Date.now()
const thisHour = Math.floor(now / HOUR) * HOUR

let server: Running
let five9: Five9Simulator.Five9Simulator
let scenario: Scenario.Scenario

beforeAll(async () => {
  scenario = Scenario.generate({
    seed: 11,
    from: thisHour - 20 * HOUR,
    to: thisHour - 4 * HOUR,
    timezone: "Europe/Berlin",
    queues: [{ identifier: "SK Sales", name: "Inbound Sales", channel: "calls", dailyPeak: 12 }],
    agents: 4,
    openingHour: 0,
    closingHour: 24
  })
  five9 = await Effect.runPromise(Five9Simulator.make(scenario, { now, password: "right-password" }).pipe(Scope.extend(scope)))
  server = await serve({
    ACD_BRIDGE_DATABASE_URL: join(dir, "store.sqlite"),
    // keep only the two newest runs of each integration, pruned every second
    ACD_BRIDGE_RETAIN_RUNS: "1 millis",
    ACD_BRIDGE_RETAIN_RUNS_KEEP: "2",
    ACD_BRIDGE_RETENTION_INTERVAL: "1 second",
    ACD_BRIDGE_METRICS_TOKEN: metricsToken
  })
}, 120_000)

afterAll(async () => {
  if (server !== undefined) assert.strictEqual(await stop(server), 0, server.output())
  killAll()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
})

const cli = (args: ReadonlyArray<string>, token = adminToken) =>
  run(args, { ACD_BRIDGE_URL: server.url, ACD_BRIDGE_TOKEN: token })

interface IntegrationView {
  readonly id: string
  readonly status: string
  readonly failing: string | null
}

const offered = async (id: string) =>
  (await api<Array<IntervalRow>>(
    server,
    "GET",
    `/v1/intervals?integrationId=${id}&from=${iso(thisHour - 48 * HOUR)}&to=${iso(thisHour + HOUR)}&length=60`
  )).body.reduce((n, r) => n + r.offered, 0)

describe("acd-bridge against a running server", () => {
  it("connectors and integrations list/create/pause/resume, with the admin token and a personal access token", async () => {
    const connectors = await cli(["connectors"])
    assert.strictEqual(connectors.code, 0, connectors.stderr)
    for (const key of ["api-push", "csv", "sql", "five9", "vonage", "genesys-engage"]) {
      assert.match(connectors.stdout, new RegExp(`^${key} `, "m"))
    }
    const asJson = await cli(["connectors", "--json"])
    const five9Schema = (JSON.parse(asJson.stdout) as Array<{ key: string; configSchema: { properties: Record<string, { writeOnly?: boolean }> } }>)
      .find((c) => c.key === "five9")!.configSchema
    assert.isTrue(five9Schema.properties["password"]!.writeOnly)

    const created = await cli(["integrations", "create", "--name", "Pushed", "--connector", "api-push", "--timezone", "Europe/Berlin"])
    assert.strictEqual(created.code, 0, created.stderr)
    const id = /^(\S+)\s+Pushed\s+api-push \(cloud\)\s+active/m.exec(created.stdout)?.[1]
    assert.isDefined(id, created.stdout)
    const paused = await cli(["integrations", "pause", id!])
    assert.match(paused.stdout, /Pushed\s+api-push \(cloud\)\s+paused/)

    // a personal access token (made with the admin token) lists the tenant's integrations too
    const token = await api<{ token: string }>(server, "POST", "/v1/access-tokens", { userId: "ops", name: "cli" })
    assert.strictEqual(token.status, 201, JSON.stringify(token.body))
    const listed = await cli(["integrations", "list"], token.body.token)
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, new RegExp(`^${id}\\s+Pushed\\s+api-push\\s+cloud\\s+paused`, "m"))
    const resumed = await cli(["integrations", "resume", id!], token.body.token)
    assert.match(resumed.stdout, /Pushed\s+api-push \(cloud\)\s+active/)

    // mistakes are one line and exit code 1
    const unknown = await cli(["integrations", "pause", "no-such-id"])
    assert.strictEqual(unknown.code, 1)
    assert.match(unknown.stderr, /^acd-bridge: POST \/v1\/integrations\/no-such-id\/pause: 404 /m)
    const badToken = await cli(["integrations", "list"], "acdp_not-a-token")
    assert.strictEqual(badToken.code, 1)
    assert.include(badToken.stderr, "401")
    assert.include(badToken.stderr, "check ACD_BRIDGE_TOKEN or --token")
    const badConnector = await cli(["integrations", "create", "--name", "X", "--connector", "nope"])
    assert.strictEqual(badConnector.code, 1)
    assert.include(badConnector.stderr, "422")
    assert.include(badConnector.stderr, "api-push")
  }, 120_000)

  it("GET /v1/connectors: every setting of every built-in connector says what it means, and defaults are shown", async () => {
    type Json = Readonly<Record<string, unknown>>
    const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
    // effect's own words for its refinements ("a non empty string") don't count as a description
    const generic = /^an? (non[ -]empty |positive |negative |non-negative |finite )?(string|number|integer|boolean|array)\b/
    const settings = (schema: Json, path: string): ReadonlyArray<readonly [string, Json]> => {
      const members = [schema, ...(Array.isArray(schema["anyOf"]) ? schema["anyOf"].filter(isObject) : [])]
      return members.flatMap((member) => {
        const properties = isObject(member["properties"]) ? member["properties"] : {}
        const items = isObject(member["items"]) ? [...settings(member["items"], `${path}[]`)] : []
        return [
          ...items,
          ...Object.entries(properties).filter((e): e is [string, Json] => isObject(e[1])).flatMap(([name, child]) => {
            const at = path === "" ? name : `${path}.${name}`
            return [[at, child] as const, ...settings(child, at)]
          })
        ]
      })
    }
    const answer = await api<Array<{ key: string; configSchema: Json }>>(server, "GET", "/v1/connectors")
    assert.strictEqual(answer.status, 200)
    const builtins = ["api-push", "csv", "sql", "five9", "vonage", "genesys-engage"]
    const listed = answer.body.filter((c) => builtins.includes(c.key))
    assert.strictEqual(listed.length, builtins.length)
    const undocumented = listed.flatMap((c) =>
      settings(c.configSchema, "").filter(([, s]) => typeof s["description"] !== "string" || s["description"].trim() === "" || generic.test(s["description"]))
        .map(([path]) => `${c.key}: ${path}`)
    )
    assert.deepStrictEqual(undocumented, [])
    assert.isAbove(listed.flatMap((c) => settings(c.configSchema, "")).length, 150)
    // a default applied when the setting is left out is served with it
    const five9 = listed.find((c) => c.key === "five9")!.configSchema
    const properties = five9["properties"] as Record<string, Json>
    assert.strictEqual(properties["timezone"]!["default"], "America/Los_Angeles")
    assert.strictEqual(properties["host"]!["default"], "api.five9.com")
    assert.strictEqual(((properties["statistics"]!["properties"] as Record<string, Json>)["longPollSeconds"])!["default"], 20)
  })

  it("a wrong Five9 password marks the integration failing; the right one, patched in, recovers it", async () => {
    const created = await cli([
      "integrations",
      "create",
      "--name",
      "Five9",
      "--connector",
      "five9",
      "--schedule",
      "15",
      "--timezone",
      "UTC",
      "--history-days",
      "2",
      "--config",
      JSON.stringify(five9.config({ agentStates: { loggedOut: false } }))
    ])
    assert.strictEqual(created.code, 0, created.stderr)
    const id = /^(\S+)\s+Five9\s+five9 \(cloud\)/m.exec(created.stdout)![1]!
    const total = scenario.contacts.length
    await waitFor(async () => ((await offered(id)) === total ? true : undefined), 60_000, "the Five9 history")
    const checked = await cli(["integrations", "check", id])
    assert.strictEqual(checked.code, 0, checked.stdout + checked.stderr)
    assert.include(checked.stdout, "check passed")

    // the password rotated at Five9: the stored one is now wrong
    const wrong = await api<IntegrationView>(server, "PATCH", `/v1/integrations/${id}`, { config: { password: "old-password" } })
    assert.strictEqual(wrong.status, 200, JSON.stringify(wrong.body))
    // nothing new to read until the next quarter-hour settles: ask for a range again, as an
    // operator would after a rotation
    const reimport = await cli(["integrations", "reimport", "--from", iso(thisHour - 10 * HOUR), "--to", iso(thisHour - 8 * HOUR), id])
    assert.strictEqual(reimport.code, 0, reimport.stderr)
    assert.include(reimport.stdout, `re-importing ${iso(thisHour - 10 * HOUR)}`)
    const failing = await waitFor(async () => {
      const found = await api<IntegrationView>(server, "GET", `/v1/integrations/${id}`)
      return found.body.failing !== null ? found.body.failing : undefined
    }, 60_000, "the failing mark")
    assert.match(failing, /credential|password|auth|401/i)
    const checkFails = await cli(["integrations", "check", id])
    assert.strictEqual(checkFails.code, 1)
    assert.include(checkFails.stdout, "FAIL")
    assert.notInclude(checkFails.stdout, "old-password")

    const right = await api<IntegrationView>(server, "PATCH", `/v1/integrations/${id}`, { config: { password: "right-password" } })
    assert.strictEqual(right.status, 200)
    assert.isNull(right.body.failing)
    // recovered: it imports again (a new run without an error) and the data is whole
    await waitFor(async () => {
      const runs = await api<Array<{ error: string | null }>>(server, "GET", `/v1/integrations/${id}/runs?limit=1`)
      return runs.body[0]?.error === null ? true : undefined
    }, 60_000, "a successful run after the fix")
    assert.strictEqual(await offered(id), total)
    assert.isNull((await api<IntegrationView>(server, "GET", `/v1/integrations/${id}`)).body.failing)

    // an operator re-imports a day and follows it: not a terminal, so plain progress lines
    const followed = await cli([
      "integrations",
      "reimport",
      "--from",
      iso(thisHour - 24 * HOUR),
      "--to",
      iso(thisHour - 4 * HOUR),
      "--follow",
      id
    ])
    assert.strictEqual(followed.code, 0, followed.stderr)
    const lines = followed.stderr.split("\n").filter((l) => l.startsWith("reimport: "))
    assert.isAbove(lines.length, 0, followed.stderr)
    assert.match(lines.at(-1)!, /^reimport: (\d+)\/\1 windows \(100%\), [\d,]+ records, .*done$/)
    assert.notInclude(followed.stderr, "\u001b[")
    assert.strictEqual(await offered(id), total)
  }, 150_000)

  it("the agent-status stream resumes from Last-Event-ID without a gap", async () => {
    const integration = await api<{ id: string }>(server, "POST", "/v1/integrations", { name: "Stream", connector: "api-push" })
    const key = await api<{ apiKey: string }>(server, "POST", `/v1/integrations/${integration.body.id}/api-key`)
    const push = async (agents: ReadonlyArray<string>) => {
      const response = await fetch(`${server.url}/external-systems/agent-statuses`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.body.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          data: agents.map((a, i) => ({ agentIdentifier: a, activityIdentifier: "READY", startTime: iso(now - 60_000 + i * 1000), endTime: null })),
          meta: { integrationConfigurationId: integration.body.id }
        })
      })
      assert.strictEqual(response.status, 200)
    }
    /** Reads events until `count` agent-status events came, then disconnects. */
    const read = async (count: number, lastEventId?: string) => {
      const controller = new AbortController()
      const response = await fetch(`${server.url}/v1/agent-statuses/stream?integrationId=${integration.body.id}`, {
        headers: { authorization: `Bearer ${adminToken}`, ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
        signal: controller.signal
      })
      assert.strictEqual(response.status, 200)
      const events: Array<{ id: string; event: string; agent: string }> = []
      const reader = response.body!.getReader()
      const decoder = new TextDecoder()
      let buffer = ""
      const deadline = Date.now() + 20_000
      let connected = false
      while (events.filter((e) => e.event === "agent-status").length < count && Date.now() < deadline) {
        const { done, value } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        connected ||= buffer.includes(": connected")
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const field = (name: string) => block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
          const data = field("data")
          if (field("event") !== undefined) {
            events.push({
              id: field("id") ?? "",
              event: field("event")!,
              agent: data === undefined ? "" : (JSON.parse(data) as { agentIdentifier?: string }).agentIdentifier ?? ""
            })
          }
        }
        if (connected && count === 0) break
      }
      controller.abort()
      return events
    }
    const first = read(2)
    await new Promise((r) => setTimeout(r, 500))
    await push(["a-1", "a-2"])
    const seen = await first
    assert.deepStrictEqual(seen.map((e) => [e.event, e.agent]), [["agent-status", "a-1"], ["agent-status", "a-2"]])
    // disconnected: these arrive meanwhile
    await push(["a-3", "a-4"])
    const resumed = await read(2, seen[1]!.id)
    assert.deepStrictEqual(resumed.map((e) => [e.event, e.agent]), [["agent-status", "a-3"], ["agent-status", "a-4"]])
  }, 60_000)

  it("prunes import runs to the retention settings", async () => {
    const integration = await api<{ id: string }>(server, "POST", "/v1/integrations", { name: "Runs", connector: "api-push" })
    const key = await api<{ apiKey: string }>(server, "POST", `/v1/integrations/${integration.body.id}/api-key`)
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${server.url}/external-systems/contact-events`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.body.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          data: [{ properties: { offered: true, handled: true, duration: 10 }, queueName: "Q", queueIdentifier: "q", timestamp: iso(now - i * 60_000), channel: "calls" }],
          meta: { integrationConfigurationId: integration.body.id }
        })
      })
      assert.strictEqual(response.status, 200)
    }
    const runs = await waitFor(async () => {
      const found = await api<Array<unknown>>(server, "GET", `/v1/integrations/${integration.body.id}/runs`)
      return found.body.length === 2 ? found.body : undefined
    }, 30_000, "two runs left")
    assert.lengthOf(runs, 2)
    // the data stays: all five contacts
    assert.strictEqual(await offered(integration.body.id), 5)
  }, 60_000)

  it("serves /metrics in the Prometheus text format: requests, import runs, lag per integration", async () => {
    const scrape = async (token?: string) => {
      const response = await fetch(`${server.url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
      return { status: response.status, type: response.headers.get("content-type"), text: await response.text() }
    }
    assert.strictEqual((await scrape()).status, 401)
    assert.strictEqual((await scrape("not-the-metrics-token-at-all")).status, 401)
    const scraped = await scrape(metricsToken)
    assert.strictEqual(scraped.status, 200, scraped.text)
    assert.match(scraped.type ?? "", /^text\/plain; version=0\.0\.4/)
    const families = new Map(parsePrometheus(scraped.text).map((f) => [f.name, f]))
    const samples = (name: string) => {
      const family = families.get(name)
      assert.isDefined(family, `${name} in ${[...families.keys()].join(", ")}`)
      return family!.metrics.map((m) => ({ labels: m.labels ?? {}, value: Number(m.value ?? m.count) }))
    }
    // the requests of the tests above, by route template and status
    const requests = samples("acd_bridge_http_requests_total")
    const created = requests.find((r) => r.labels["route"] === "/v1/integrations" && r.labels["method"] === "POST" && r.labels["status"] === "201")
    assert.isAtLeast(created?.value ?? 0, 3, JSON.stringify(requests))
    // the store behind the scheduler is the instrumented one: the Five9 history counted
    const runs = samples("acd_bridge_import_runs_total")
    assert.isAbove(runs.find((r) => r.labels["kind"] === "history" && r.labels["outcome"] === "succeeded")?.value ?? 0, 0, JSON.stringify(runs))
    assert.isAbove(runs.find((r) => r.labels["kind"] === "push" && r.labels["outcome"] === "succeeded")?.value ?? 0, 0, JSON.stringify(runs))
    const pushed = samples("acd_bridge_push_records_total")
    assert.isAbove(pushed.find((r) => r.labels["kind"] === "contactEvents" && r.labels["outcome"] === "accepted")?.value ?? 0, 0)
    // lag per pull integration of the tenant the metrics token is given
    const lag = samples("acd_bridge_integration_lag_seconds").filter((r) => r.labels["connector"] === "five9")
    assert.lengthOf(lag, 1, JSON.stringify(lag))
    assert.isTrue(lag[0]!.value >= 0 && lag[0]!.value < 24 * 3600, JSON.stringify(lag))
    assert.isAbove(samples("acd_bridge_storage_operation_seconds").length, 0)
    // never a credential
    assert.notInclude(scraped.text, adminToken)
    assert.notInclude(scraped.text, "right-password")
  }, 60_000)
})
