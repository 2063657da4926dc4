/**
 * The admin console in a real browser: Debian's chromium driven by playwright-core, against
 * the server (its HTTP API and the console at /admin) on 127.0.0.1 over a SQLite file. Signs
 * in, creates a push integration from the form generated from the connector's JSON Schema,
 * generates its API key, pushes contacts on the two days clocks change in Europe/Berlin and
 * checks the chart against GET /v1/intervals (its table and the bars drawn on its canvas),
 * pauses and resumes, watches a live status arrive on the timeline, maps the agent and sees
 * the timeline relabel. Screenshots go to test/console/artifacts (gitignored).
 *
 * Needs chromium: `bash scripts/ensure-chromium.sh` installs it (or set ACD_BRIDGE_CHROMIUM).
 * Needs the built console: `pnpm build`.
 */
/// <reference lib="dom" />
import { Five9Simulator } from "@acd-bridge/five9/simulator"
import { Server } from "@acd-bridge/server"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const chromiumPath = process.env["ACD_BRIDGE_CHROMIUM"] ?? "/usr/bin/chromium"
const consoleIndex = fileURLToPath(new URL("../../packages/console/dist/app/index.html", import.meta.url))
const artifacts = fileURLToPath(new URL("./artifacts/", import.meta.url))
const adminToken = "console-test-admin-token-0123456789"

// fail, don't skip, when the browser or the built app is missing
if (!existsSync(chromiumPath)) {
  throw new Error(
    `chromium is missing at ${chromiumPath}: run \`bash scripts/ensure-chromium.sh\` (Debian: apt-get install -y chromium) ` +
      "or set ACD_BRIDGE_CHROMIUM to a Chromium binary"
  )
}
if (!existsSync(consoleIndex)) {
  throw new Error(`${consoleIndex} is missing: the console is served from its build; run \`pnpm build\` first`)
}

const dir = mkdtempSync(join(tmpdir(), "acd-console-"))
const scope = Effect.runSync(Scope.make())
let url = ""
let five9: Five9Simulator.Five9Simulator
let scenario: Scenario.Scenario
const HOUR = 3_600_000
const thisHour = Math.floor(Date.now() / HOUR) * HOUR
let browser: Browser
let page: Page
const external: Array<string> = []
const pageErrors: Array<string> = []

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  // a Five9 with six hours of contacts, for an integration that imports a history
  scenario = Scenario.generate({
    seed: 5,
    from: thisHour - 8 * HOUR,
    to: thisHour - 2 * HOUR,
    timezone: "UTC",
    queues: [{ identifier: "SK Billing", name: "Billing", channel: "calls", dailyPeak: 8 }],
    agents: 2,
    openingHour: 0,
    closingHour: 24
  })
  five9 = await Effect.runPromise(
    Five9Simulator.make(scenario, { now: Date.now(), password: "five9-password" }).pipe(Scope.extend(scope))
  )
  const server = Server.layer({
    tenantId: "acme",
    adminToken: Redacted.make(adminToken),
    // the access log at Debug stays out of the test output
    http: { port: 0, host: "127.0.0.1", accessLog: LogLevel.Debug },
    retention: false
  }).pipe(Layer.provide(Server.storageFromUrl(join(dir, "store.sqlite"))))
  const context = await Effect.runPromise(Layer.buildWithScope(server, scope))
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  url = `http://127.0.0.1:${address.port}`
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] })
  page = await browser.newPage({ viewport: { width: 1366, height: 900 }, timezoneId: "Europe/Berlin", locale: "en-GB" })
  page.on("request", (request) => {
    if (!request.url().startsWith(url) && !request.url().startsWith("data:")) external.push(request.url())
  })
  page.on("pageerror", (error) => pageErrors.push(error.message))
  page.on("dialog", (dialog) => void dialog.accept())
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
})

const api = async <T>(method: string, path: string, body?: unknown, token = adminToken): Promise<T> => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return (text === "" ? null : JSON.parse(text)) as T
}

/** Goes to a page of the console without reloading it (a reload signs out: the token is in memory only). */
const open = (hash: string) =>
  page.evaluate((hash) => {
    location.hash = hash
  }, hash)

const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")

/**
 * The WCAG 2 A and AA rules axe-core can check (labels, names, contrast, landmarks, ARIA) on
 * the page as it is now; answers each violation with the elements it found.
 */
const violations = async (): Promise<ReadonlyArray<string>> => {
  // evaluated over the DevTools protocol, which the page's CSP does not govern; once per page load
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource)
  return page.evaluate(async () => {
    interface Axe {
      run(
        context: Document,
        options: { runOnly: ReadonlyArray<string> }
      ): Promise<{
        passes: ReadonlyArray<unknown>
        violations: ReadonlyArray<{ id: string; nodes: ReadonlyArray<{ target: ReadonlyArray<string> }> }>
      }>
    }
    const axe = (window as unknown as { axe: Axe }).axe
    const result = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })
    // a run that checked nothing would pass anything
    if (result.passes.length < 5) return [`axe checked only ${result.passes.length} rules`]
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)
  })
}

interface Row {
  readonly start: string
  readonly offered: number
  readonly handled: number
  readonly ahtSeconds: number | null
}

/** The chart's table, row by row, as the page shows it. */
const tableRows = (): Promise<ReadonlyArray<{ start: string; offered: number; handled: number; aht: string }>> =>
  page.$$eval("#interval-table tbody tr", (trs) =>
    trs.map((tr) => ({
      start: tr.getAttribute("data-start") ?? "",
      offered: Number(tr.querySelector("[data-field=offered]")?.textContent),
      handled: Number(tr.querySelector("[data-field=handled]")?.textContent),
      aht: tr.querySelector("[data-field=aht]")?.textContent ?? ""
    })))

/**
 * The colours the chart drew at the middle of each interval's offered bar (the left one of
 * the pair), half way up to `heights[i]`, read from the canvas in one go: the plot area is
 * where uPlot's `.u-over` lies, the x range is [-0.5, n - 0.5] and the count scale
 * [0, ceil(1.1 max)].
 */
const barPixels = (heights: ReadonlyArray<number>, max: number) =>
  page.evaluate(([heights, max]) => {
    const canvas = document.querySelector<HTMLCanvasElement>(".chart canvas")!
    const over = document.querySelector<HTMLElement>(".chart .u-over")!
    const c = canvas.getBoundingClientRect()
    const o = over.getBoundingClientRect()
    const top = Math.max(1, Math.ceil(max * 1.1))
    const slot = o.width / heights.length
    const ratio = canvas.width / c.width
    const context = canvas.getContext("2d")!
    return heights.map((value, index) => {
      const x = o.left - c.left + (index + 0.5) * slot - 0.2 * slot
      const y = o.top - c.top + o.height * (1 - (value * 0.5) / top)
      const [r, g, b] = context.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data
      return `#${[r, g, b].map((v) => v!.toString(16).padStart(2, "0")).join("")}`
    })
  }, [heights, max] as const)

const offeredColour = "#1d5fbf"

const showDay = async (day: string, length: "15" | "30" | "60") => {
  await page.selectOption("#data-zone", "Europe/Berlin")
  await page.fill("#data-day", day)
  await page.selectOption("#data-length", length)
  await page.waitForFunction(
    ([day, length]) => {
      const summary = document.querySelector("#chart-title")?.textContent ?? ""
      const rows = document.querySelectorAll("#interval-table tbody tr")
      const first = rows[0]?.getAttribute("data-start") ?? ""
      const second = rows[1]?.getAttribute("data-start") ?? ""
      const minutes = (Date.parse(second) - Date.parse(first)) / 60_000
      return summary.includes(day) && first.startsWith(day) && minutes === Number(length)
    },
    [day, length] as const
  )
}

/** The chart's figures match GET /v1/intervals row by row, and its bars are drawn where they should be. */
const checkChart = async (queueId: string, day: string, next: string, length: string): Promise<ReadonlyArray<Row>> => {
  const expected = await api<ReadonlyArray<Row>>(
    "GET",
    `/v1/intervals?queueId=${queueId}&from=${day}T00:00:00&to=${next}T00:00:00&length=${length}&timezone=Europe/Berlin&fill=zero`
  )
  const shown = await tableRows()
  assert.deepStrictEqual(
    shown.map((r) => [r.start, r.offered, r.handled, r.aht]),
    expected.map((r) => [r.start, r.offered, r.handled, r.ahtSeconds === null ? "—" : r.ahtSeconds.toFixed(1)])
  )
  const max = Math.max(...expected.map((r) => Math.max(r.offered, r.handled)))
  const colours = await barPixels(expected.map((r) => Math.max(r.offered, 1)), max)
  for (const [i, row] of expected.entries()) {
    const colour = colours[i]
    if (row.offered > 0) assert.strictEqual(colour, offeredColour, `the offered bar of ${row.start} (${row.offered})`)
    else assert.notStrictEqual(colour, offeredColour, `no offered bar at ${row.start}`)
  }
  return expected
}

describe("admin console in chromium", () => {
  let integrationId = ""
  let apiKey = ""
  let queueId = ""
  let five9Id = ""

  const push = (path: string, data: ReadonlyArray<unknown>) =>
    api<{ accepted: number }>("POST", path, { data, meta: { integrationConfigurationId: integrationId } }, apiKey)

  // contacts at local Berlin times on the day clocks go forward (2026-03-29, 02:00 → 03:00)
  // and back (2026-10-25, 03:00 → 02:00, so 02:xx happens twice)
  const contact = (timestamp: string, offered: boolean, handled: boolean, duration: number) => ({
    properties: { offered, handled, duration },
    queueName: "Front desk",
    queueIdentifier: "FD-1",
    timestamp,
    channel: "calls"
  })

  it("signs in with the admin token, kept out of the URL and storage", async () => {
    const response = await page.goto(`${url}/admin`)
    assert.strictEqual(response?.status(), 200)
    assert.match(response?.headers()["content-security-policy"] ?? "", /default-src 'none'/)
    await page.fill("#token", "not-the-token")
    await page.click("button[type=submit]")
    await page.getByRole("alert").filter({ hasText: "not accepted" }).waitFor()
    // by keyboard: the token field has the focus, Enter signs in, and focus moves to the page's heading
    await page.fill("#token", "")
    await page.keyboard.type(adminToken)
    await page.keyboard.press("Enter")
    await page.getByRole("heading", { level: 1, name: "Integrations" }).waitFor()
    assert.strictEqual(await page.evaluate(() => document.activeElement?.textContent), "Integrations")
    assert.notInclude(page.url(), adminToken)
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie)
    assert.notInclude(stored, adminToken)
  })

  it("creates an integration from the form generated from the connector's JSON Schema", async () => {
    await page.click("text=New integration")
    // a connector with secrets: they are password fields
    await page.selectOption("#new-connector", "vonage")
    assert.strictEqual(await page.getAttribute("#cfg-clientSecret", "type"), "password")
    assert.strictEqual(await page.getAttribute("#cfg-clientId", "type"), "text")
    assert.strictEqual(await page.locator("label[for=cfg-clientSecret]").count(), 1)
    await shot("01-create-form-vonage")
    assert.deepStrictEqual(await violations(), [], "the create form")
    await page.selectOption("#new-connector", "api-push")
    await page.fill("#new-name", "Front desk push")
    await page.selectOption("#new-timezone", "Europe/Berlin")
    await page.click("button:has-text('Create integration')")
    await page.getByRole("heading", { level: 2, name: "Front desk push" }).waitFor()
    integrationId = decodeURIComponent(new URL(page.url()).hash.split("/")[2] ?? "")
    const stored = await api<{ name: string; connector: string; timezone: string }>("GET", `/v1/integrations/${integrationId}`)
    assert.deepStrictEqual([stored.name, stored.connector, stored.timezone], ["Front desk push", "api-push", "Europe/Berlin"])
    // the API key is shown once, and works
    await page.click("button:has-text('Generate API key')")
    await page.locator("#api-key").waitFor()
    apiKey = await page.inputValue("#api-key")
    assert.isAbove(apiKey.length, 20)
    await shot("02-integration-created")
    await page.click("button:has-text('I stored it')")
    assert.strictEqual(await page.locator("#api-key").count(), 0)
  })

  it("shows a DST day's intervals: the chart's bars match GET /v1/intervals", async () => {
    const spring = [
      contact("2026-03-29T01:05:00+01:00", true, true, 120),
      contact("2026-03-29T01:20:00+01:00", true, false, 0),
      contact("2026-03-29T03:10:00+02:00", true, true, 300),
      contact("2026-03-29T03:12:00+02:00", true, true, 100),
      contact("2026-03-29T03:14:00+02:00", true, false, 0),
      contact("2026-03-29T12:40:00+02:00", true, true, 60)
    ]
    const autumn = [
      contact("2026-10-25T02:15:00+02:00", true, true, 90),
      contact("2026-10-25T02:15:00+01:00", true, true, 30),
      contact("2026-10-25T02:20:00+01:00", true, false, 0),
      contact("2026-10-25T23:50:00+01:00", true, true, 200)
    ]
    assert.strictEqual((await push("/external-systems/contact-events", [...spring, ...autumn])).accepted, 10)
    const queues = await api<ReadonlyArray<{ id: string; identifier: string }>>("GET", `/v1/queues?integrationId=${integrationId}`)
    queueId = queues.find((q) => q.identifier === "FD-1")!.id

    await page.click("nav >> text=Interval data")
    await page.getByRole("heading", { level: 1, name: "Interval data" }).waitFor()
    await page.selectOption("#data-queue", queueId)
    await showDay("2026-03-29", "15")
    assert.strictEqual(await page.getAttribute("#day-summary", "data-hours"), "23")
    const spring15 = await checkChart(queueId, "2026-03-29", "2026-03-30", "15")
    assert.strictEqual(spring15.length, 92)
    assert.strictEqual(spring15.reduce((s, r) => s + r.offered, 0), 6)
    await shot("03-chart-spring-forward-15")
    await page.click("summary:has-text('The figures as a table')")
    assert.deepStrictEqual(await violations(), [], "the interval data page")

    await showDay("2026-10-25", "60")
    assert.strictEqual(await page.getAttribute("#day-summary", "data-hours"), "25")
    const autumn60 = await checkChart(queueId, "2026-10-25", "2026-10-26", "60")
    assert.strictEqual(autumn60.length, 25)
    // the hour clocks go back is there twice, each with its own figures
    const twice = autumn60.filter((r) => r.start.slice(11, 16) === "02:00").map((r) => [r.start.slice(19), r.offered])
    assert.deepStrictEqual(twice, [["+02:00", 1], ["+01:00", 2]])
    const labels = await page.$$eval("#interval-table tbody tr th", (ths) => ths.map((th) => th.textContent))
    assert.includeMembers(labels, ["02:00 (+02:00)", "02:00 (+01:00)"])
    await shot("04-chart-fall-back-60")
  })

  it("pauses and resumes: pushes are staged while paused and applied on resume", async () => {
    await open(`#/integrations/${encodeURIComponent(integrationId)}`)
    await page.getByRole("heading", { level: 2, name: "Front desk push" }).waitFor()
    await page.click("button:has-text('Pause')")
    await page.locator(".detail .badge-paused").waitFor()
    assert.strictEqual((await api<{ status: string }>("GET", `/v1/integrations/${integrationId}`)).status, "paused")
    await push("/external-systems/contact-events", [contact("2026-03-29T12:41:00+02:00", true, true, 60)])
    const total = async () =>
      (await api<ReadonlyArray<Row>>(
        "GET",
        `/v1/intervals?queueId=${queueId}&from=2026-03-29T00:00:00&to=2026-03-30T00:00:00&timezone=Europe/Berlin`
      )).reduce((s, r) => s + r.offered, 0)
    assert.strictEqual(await total(), 6)
    await shot("05-paused")
    await page.click("button:has-text('Resume')")
    await page.locator(".detail .badge-active").waitFor()
    const deadline = Date.now() + 10_000
    while ((await total()) !== 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    assert.strictEqual(await total(), 7)
  })

  it("shows a live status on the timeline, and relabels it when the agent is mapped", async () => {
    const now = Date.now()
    const minutes = (m: number) => new Date(now + m * 60_000).toISOString()
    await push("/external-systems/agent-statuses", [
      { agentIdentifier: "ext-agent-7", activityIdentifier: "READY", startTime: minutes(-90), endTime: minutes(-30) },
      { agentIdentifier: "ext-agent-7", activityIdentifier: "LUNCH", startTime: minutes(-30), endTime: null }
    ])
    await page.click("nav >> text=Agent timeline")
    await page.getByRole("heading", { level: 1, name: "Agent timeline" }).waitFor()
    const row = page.locator(".gantt-row[data-agent='ext-agent-7']")
    await row.locator(".agent-label", { hasText: "ext-agent-7" }).waitFor()
    assert.strictEqual(await row.locator(".unmapped").count(), 1)
    await page.locator("#stream-state[data-state=live]").waitFor()

    // a status pushed now arrives over the stream without a reload
    await push("/external-systems/agent-statuses", [
      { agentIdentifier: "ext-agent-7", activityIdentifier: "TALKING", startTime: minutes(-1), endTime: null }
    ])
    await row.locator(".gantt-seg[data-activity=TALKING]").waitFor({ timeout: 10_000 })
    assert.strictEqual(await page.getAttribute("#stream-state", "data-events"), "1")
    // LUNCH now ends where TALKING starts: still one ongoing segment
    assert.strictEqual(await row.locator(".gantt-seg.ongoing").count(), 1)
    await shot("06-timeline-live")
    assert.deepStrictEqual(await violations(), [], "the timeline")

    // map the agent: the unmapped list shows its segments; the timeline then shows the employee
    await page.click("nav >> text=Mapping")
    await page.selectOption("#mapping-integration", integrationId)
    const unmapped = page.locator("tr[data-external-id='ext-agent-7']")
    await unmapped.waitFor()
    assert.strictEqual(await unmapped.locator("td.num").textContent(), "3")
    await shot("07-mapping")
    assert.deepStrictEqual(await violations(), [], "the mapping page")
    await unmapped.locator("input").fill("emp-007")
    await unmapped.locator("button").click()
    await unmapped.waitFor({ state: "detached" })
    await page.click("nav >> text=Agent timeline")
    await page.locator(".gantt-row[data-agent='ext-agent-7'] .agent-label", { hasText: "emp-007" }).waitFor()
    assert.strictEqual(await page.locator(".gantt-row[data-agent='ext-agent-7'] .unmapped").count(), 0)
    await shot("08-timeline-mapped")
  })

  it("creates a Five9 integration from the form: secrets stay password fields, its history import shows progress, an edit keeps the secret", async () => {
    await open("#/integrations")
    await page.click("button:has-text('New integration')")
    await page.selectOption("#new-connector", "five9")
    await page.fill("#new-name", "Five9 billing")
    await page.selectOption("#new-timezone", "UTC")
    await page.selectOption("#new-schedule", "15")
    await page.fill("#new-history", "1")
    // contacts only: the simulator has no login sessions report
    await page.locator("label.inline", { hasText: "Agent statuses" }).locator("input").uncheck()
    const config = five9.config()
    await page.fill("#cfg-username", config.username)
    assert.strictEqual(await page.getAttribute("#cfg-password", "type"), "password")
    await page.fill("#cfg-password", String(config.password))
    assert.strictEqual(await page.getAttribute("#cfg-baseUrl", "type"), "url")
    await page.fill("#cfg-baseUrl", String(config.baseUrl))
    await page.fill("#cfg-reportPollSeconds", "1")
    await page.click("button:has-text('Create integration')")
    await page.getByRole("heading", { level: 2, name: "Five9 billing" }).waitFor()
    const id = decodeURIComponent(new URL(page.url()).hash.split("/")[2] ?? "")
    five9Id = id
    const stored = await api<{ config: Record<string, unknown>; dataKinds: ReadonlyArray<string>; schedule: unknown }>(
      "GET",
      `/v1/integrations/${id}`
    )
    assert.deepStrictEqual(stored.dataKinds, ["contacts"])
    assert.deepStrictEqual(stored.schedule, { type: "historical", everyMinutes: 15 })
    assert.strictEqual(stored.config["password"], "<redacted>")
    assert.strictEqual(stored.config["reportPollSeconds"], 1)
    // the page reads the health again by itself: the history import finishes on it
    await page.locator("label[for=progress-history-import]", { hasText: "(done)" }).waitFor({ timeout: 30_000 })
    const progress = page.locator("#progress-history-import")
    assert.strictEqual(await progress.getAttribute("value"), await progress.getAttribute("max"))
    const health = await api<{ history: { windowsTotal: number } | null }>("GET", `/v1/integrations/${id}/health`)
    assert.strictEqual(await progress.getAttribute("max"), String(health.history!.windowsTotal))
    await page.locator("table.list caption", { hasText: "Recent import runs" }).waitFor()
    await shot("11-five9-history")

    // change it: only what changed is sent, and a secret left empty keeps its stored value
    await page.click(".detail button:has-text('Edit')")
    await page.fill("#edit-name", "Five9 billing EU")
    await page.selectOption("#edit-schedule", "30")
    assert.strictEqual(await page.getAttribute("#edit-password", "type"), "password")
    assert.strictEqual(await page.inputValue("#edit-password"), "")
    await shot("12-five9-edit")
    await page.click("button:has-text('Save changes')")
    await page.locator(".notice.ok", { hasText: "Saved" }).or(page.locator(".create .error")).waitFor()
    await shot("13-five9-saved")
    await page.getByRole("heading", { level: 2, name: "Five9 billing EU" }).waitFor()
    const changed = await api<{ name: string; schedule: unknown; config: Record<string, unknown> }>("GET", `/v1/integrations/${id}`)
    assert.deepStrictEqual(changed.schedule, { type: "historical", everyMinutes: 30 })
    assert.strictEqual(changed.config["username"], config.username)
    assert.strictEqual(changed.config["password"], "<redacted>")
    // the stored password still works: the connector's own check logs in with it
    await page.click(".detail button:has-text('Check')")
    await page.locator(".report h3", { hasText: "everything is ok" }).waitFor({ timeout: 20_000 })
  })

  it("runs the check, groups queues, deletes, signs in with a personal access token, and made no request outside the server", async () => {
    await open(`#/integrations/${encodeURIComponent(integrationId)}`)
    await page.click("button:has-text('Check')")
    await page.locator(".report").waitFor()
    assert.match((await page.locator(".report h3").textContent()) ?? "", /everything is ok/)
    await shot("09-check")
    assert.deepStrictEqual(await violations(), [], "an integration's page")
    await page.click("nav >> text=Queues and workloads")
    await page.locator("table.list >> text=FD-1").waitFor()
    await page.fill("#workload-name", "Reception")
    await page.click("button:has-text('Create workload')")
    const workload = page.locator("form.workload", { hasText: "Reception" })
    await workload.locator("label", { hasText: "Front desk" }).locator("input").check()
    await workload.locator("button").click()
    await page.locator("table.list td", { hasText: "Reception" }).waitFor()
    await shot("10-queues")
    assert.deepStrictEqual(await violations(), [], "the queues page")

    // delete asks first (the dialog is accepted here), then the integration shows as deleted
    await open(`#/integrations/${encodeURIComponent(five9Id)}`)
    await page.getByRole("heading", { level: 2, name: "Five9 billing EU" }).waitFor()
    await page.click("button:has-text('Delete')")
    await page.locator(".detail .badge-deleted").waitFor()
    assert.strictEqual((await api<{ status: string }>("GET", `/v1/integrations/${five9Id}`)).status, "deleted")
    assert.strictEqual(await page.locator(".detail button:has-text('Pause')").count(), 0)

    // a personal access token signs in too
    const pat = await api<{ token: string }>("POST", "/v1/access-tokens", { name: "console test" })
    await page.click("button:has-text('Sign out')")
    await page.fill("#token", pat.token)
    await page.click("button[type=submit]")
    await page.locator("table.list >> text=Front desk push").waitFor()

    assert.deepStrictEqual(external, [])
    assert.deepStrictEqual(pageErrors, [])
  })
})
