/**
 * Crashes and repeats, over real HTTP to a server child on a real SQLite file (`synchronous =
 * full`, the production setting):
 *
 * - **SIGKILL during pushes.** Several pushers send batches (each with its own queue, so a
 *   batch's presence reads back exactly, and an `Idempotency-Key`) while the server is killed
 *   with SIGKILL at a random moment, again and again. After each restart the file passes
 *   `PRAGMA integrity_check`, every batch that was answered 200 is there whole, every other
 *   batch is there whole or not at all, and the client's retries (same key, same body) of the
 *   unanswered ones — and of some answered ones — leave every batch applied exactly once.
 * - **Parallel repeats.** The same batch with the same key sent 20 times at once, and the same
 *   key with another body: applied once, every repeat answered as the first, the other body
 *   refused (409) without a change.
 * - **Batches refused whole.** One bad record anywhere in a large batch: 422 naming it, and
 *   not one record of the batch in the store.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { changedTables, sqliteIntegrity, sqliteRows, sqliteWatcher } from "./support/digest.js"
import { adminToken, type Answer, call, notAClientProblem, pushIntegration, type Server, sleep, startServer, tempDir } from "./support/harness.js"
import { summary } from "./support/summary.js"

/** SIGKILLs; `ACD_BRIDGE_RELIABILITY_KILLS` raises it for a long run. */
const KILLS = Number(process.env["ACD_BRIDGE_RELIABILITY_KILLS"] ?? 5)
const PUSHERS = 4
const RECORDS = 40

const counts = summary(import.meta.filename)
const dir = tempDir("acd-rel-crash-")
const database = `${dir.path}/crash.sqlite`
let server: Server
let integration: { id: string; apiKey: string }

const path = "/external-systems/contact-events"
const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000

/** Batch `name`: RECORDS contact events, all in queue `name`, spread over one hour. */
const batch = (name: string) => ({
  data: Array.from({ length: RECORDS }, (_, i) => ({
    properties: { offered: true, handled: i % 3 !== 0, duration: 1 + (i % 7) },
    queueName: `queue ${name}`,
    queueIdentifier: name,
    timestamp: new Date(hour + i * 90_000).toISOString(),
    channel: "calls"
  })),
  meta: { integrationConfigurationId: "" }
})

const push = (name: string, options: { signal?: AbortSignal } = {}) => {
  const body = batch(name)
  body.meta.integrationConfigurationId = integration.id
  return call<{ accepted: number }>(server, "POST", path, {
    token: integration.apiKey,
    json: body,
    headers: { "idempotency-key": `key-${name}` },
    ...options
  })
}

/** Contacts offered per queue identifier, straight from the file. */
const offeredByQueue = (): Map<string, number> =>
  new Map(
    sqliteRows<{ identifier: string; offered: number }>(
      database,
      `SELECT q.identifier, SUM(s.offered) AS offered FROM interval_stats s JOIN queues q ON q.id = s.queue_id
        WHERE q.integration_id = ? GROUP BY q.identifier`,
      integration.id
    ).map((r) => [r.identifier, r.offered])
  )

beforeAll(async () => {
  server = await startServer({ database, adapter: { rateLimit: false }, tokens: [] })
  integration = await pushIntegration(server, adminToken, "crash")
}, 120_000)

afterAll(async () => {
  await server?.kill()
  dir.remove()
  counts.flush()
})

describe("crashes and repeats", () => {
  it("SIGKILL during pushes loses, doubles and half-applies nothing; retries with the same key apply each batch once", async () => {
    /** every batch sent: whether it was answered 200 before the kill */
    const sent = new Map<string, "answered" | "unanswered">()
    const tally = { requests: 0, answered: 0, inFlightAtKill: 0, presentUnanswered: 0, retried: 0, losses: 0 }
    let seq = 0
    for (let kill = 0; kill < KILLS; kill++) {
      let stop = false
      const pusher = async (p: number) => {
        while (!stop) {
          const name = `k${kill}-p${p}-${seq++}`
          sent.set(name, "unanswered")
          tally.requests++
          try {
            const answer = await push(name)
            assert.strictEqual(answer.status, 200, `${name}: ${answer.status} ${answer.text}`)
            assert.deepStrictEqual(answer.body, { accepted: RECORDS })
            sent.set(name, "answered")
            tally.answered++
          } catch (error) {
            // the connection died with the server: the batch's fate is unknown to the client
            if (!stop || (error instanceof Error && error.name === "AssertionError")) throw error
            tally.inFlightAtKill++
            return
          }
        }
      }
      const pushers = Array.from({ length: PUSHERS }, (_, p) => pusher(p))
      // let the pushers get going, then kill at a random moment of their work
      await sleep(400 + Math.random() * 1_200)
      stop = true
      await server.kill()
      await Promise.all(pushers)

      assert.strictEqual(sqliteIntegrity(database), "ok", `the file is damaged after kill ${kill}`)
      const offered = offeredByQueue()
      for (const [name, fate] of sent) {
        const got = offered.get(name) ?? 0
        // answered: there whole; unanswered: whole or absent, never part of it, never twice
        const fine = fate === "answered" ? got === RECORDS : got === 0 || got === RECORDS
        if (!fine) tally.losses++
        assert.isTrue(fine, `after kill ${kill}: batch ${name} (${fate}) has ${got} of ${RECORDS} contacts`)
        if (fate === "unanswered" && got === RECORDS) tally.presentUnanswered++
      }

      server = await startServer({ database, adapter: { rateLimit: false }, tokens: [] })
      // the client retries what it got no answer for, and (as a client that lost the answer
      // would) a few that were answered: same key, same body
      const answered = [...sent].filter(([, fate]) => fate === "answered").map(([name]) => name)
      const retries = [...[...sent].filter(([, fate]) => fate === "unanswered").map(([name]) => name), ...answered.slice(-3)]
      for (const name of retries) {
        const answer = await push(name)
        tally.retried++
        assert.strictEqual(answer.status, 200, `retry ${name}: ${answer.status} ${answer.text}`)
        assert.deepStrictEqual(answer.body, { accepted: RECORDS }, `retry ${name}`)
        sent.set(name, "answered")
      }
    }
    // every batch exactly once; the integration's total is exactly what was sent
    const offered = offeredByQueue()
    const wrong = [...sent.keys()].filter((name) => offered.get(name) !== RECORDS)
    tally.losses += wrong.length
    assert.deepStrictEqual(wrong, [], `batches not applied exactly once: ${wrong.map((n) => `${n}=${offered.get(n)}`).join(", ")}`)
    assert.strictEqual([...offered.values()].reduce((a, b) => a + b, 0), sent.size * RECORDS)
    assert.strictEqual(offered.size, sent.size)
    assert.isAbove(tally.inFlightAtKill, 0, "no push was in flight at any kill: the test attacked nothing")
    counts.record({
      case: "SIGKILL during pushes, then retries",
      inputs: tally.requests + tally.retried,
      faults: KILLS,
      losses: tally.losses,
      note: `${KILLS} SIGKILLs under ${PUSHERS} pushers; ${sent.size} batches of ${RECORDS} (${tally.answered} answered before a kill, ` +
        `${tally.inFlightAtKill} in flight at a kill, ${tally.presentUnanswered} of those committed anyway); ${tally.retried} retries ` +
        `with the same key; integrity_check ok after every kill; every batch exactly once`
    })
  }, 240_000)

  it("20 parallel repeats of one batch with one key apply it once; the key with another body is refused whole", async () => {
    const watcher = sqliteWatcher(database)
    try {
      const before = offeredByQueue()
      const answers = await Promise.all(Array.from({ length: 20 }, () => push("parallel")))
      for (const answer of answers) {
        assert.strictEqual(answer.status, 200, answer.text)
        assert.deepStrictEqual(answer.body, { accepted: RECORDS })
      }
      const after = offeredByQueue()
      const applied = (after.get("parallel") ?? 0) - (before.get("parallel") ?? 0)
      // the same key, another body (another batch's records under this batch's key)
      const digest = watcher.digest()
      const other = batch("parallel-other")
      other.meta.integrationConfigurationId = integration.id
      const reused: Answer = await call(server, "POST", path, {
        token: integration.apiKey,
        json: other,
        headers: { "idempotency-key": "key-parallel" }
      })
      const changed = changedTables(digest, watcher.digest())
      counts.record({
        case: "parallel repeats with one Idempotency-Key",
        inputs: 21,
        faults: 20,
        losses: Math.abs(applied - RECORDS) / RECORDS + Object.keys(changed).length,
        note: `20 identical requests at once: all 200 {accepted:${RECORDS}}, applied ${applied / RECORDS}×; the key with another body: ${reused.status}, no change`
      })
      assert.strictEqual(applied, RECORDS, "applied other than once")
      assert.strictEqual(reused.status, 409, reused.text)
      assert.isUndefined(notAClientProblem(reused))
      assert.match((reused.body as { detail: string }).detail, /Idempotency-Key/)
      assert.deepStrictEqual(changed, {})
    } finally {
      watcher.close()
    }
  }, 60_000)

  it("one bad record anywhere in a large batch refuses the batch whole, naming it", async () => {
    const watcher = sqliteWatcher(database)
    let losses = 0
    const positions = [0, 1, 2_499, 4_998, 4_999]
    try {
      for (const bad of positions) {
        const name = `whole-${bad}`
        const body = {
          data: Array.from({ length: 5_000 }, (_, i) => ({
            properties: { offered: true, handled: true, duration: i === bad ? -1 : 1 },
            queueName: name,
            queueIdentifier: name,
            timestamp: new Date(hour + (i % 3_600) * 1_000).toISOString(),
            channel: "calls"
          })),
          meta: { integrationConfigurationId: integration.id }
        }
        const before = watcher.digest()
        const answer = await call<{ index?: number; field?: string }>(server, "POST", path, { token: integration.apiKey, json: body })
        const changed = changedTables(before, watcher.digest())
        if (Object.keys(changed).length > 0) losses++
        assert.strictEqual(answer.status, 422, answer.text.slice(0, 300))
        assert.isUndefined(notAClientProblem(answer))
        assert.strictEqual(answer.body.index, bad)
        // the field is named within the record `index` points at
        assert.strictEqual(answer.body.field, "properties.duration")
        assert.deepStrictEqual(changed, {}, `batch with a bad record at ${bad} changed the store`)
      }
    } finally {
      watcher.close()
      counts.record({
        case: "batches refused whole",
        inputs: positions.length * 5_000,
        faults: positions.length,
        losses,
        note: `${positions.length} batches of 5,000 records with one bad record (first, second, middle, last two): 422 naming it, nothing stored`
      })
    }
  }, 60_000)
})
