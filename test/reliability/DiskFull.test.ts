/**
 * A full disk and a read-only one under a server child: its SQLite file lives on a small tmpfs
 * mounted for the test (as root; CI runs the suite as root in its container). Pushes go on until
 * the file system is full; then the file system is remounted read-only; then given room again.
 *
 * What must hold: a push that can't be written is refused with a clear error (a problem body,
 * nothing of the batch stored, no stack trace), every batch answered 200 is there whole, the
 * file passes `PRAGMA integrity_check` throughout, and once there is room the same server
 * accepts pushes again without a restart; after a SIGKILL and a restart everything is still
 * there exactly once.
 *
 * When the tmpfs can't be mounted (not root, no CAP_SYS_ADMIN) the case can't be staged: the
 * test then asserts that the mount was refused for lack of privilege (any other failure fails
 * the test) and the summary says why nothing was injected.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { sqliteIntegrity, sqliteRows } from "./support/digest.js"
import { adminToken, type Answer, call, pushIntegration, type Server, StartFailed, startServer } from "./support/harness.js"
import { summary } from "./support/summary.js"

const counts = summary(import.meta.filename)
const mountPoint = mkdtempSync(join(tmpdir(), "acd-rel-disk-"))
const database = join(mountPoint, "disk.sqlite")
const RECORDS = 200
let mounted: { ok: true } | { ok: false; reason: string }
let server: Server | undefined
let integration: { id: string; apiKey: string }

const mount = (...args: ReadonlyArray<string>) => execFileSync("mount", args, { stdio: "pipe" })

beforeAll(async () => {
  try {
    mount("-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mountPoint)
    mounted = { ok: true }
  } catch (error) {
    mounted = { ok: false, reason: `${(error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error)}` }
    return
  }
  server = await startServer({ database, adapter: { rateLimit: false }, tokens: [] })
  integration = await pushIntegration(server, adminToken, "disk")
}, 120_000)

afterAll(async () => {
  await server?.kill()
  if (mounted?.ok) execFileSync("umount", ["-l", mountPoint])
  rmdirSync(mountPoint)
  counts.flush()
})

const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000

const push = (name: string): Promise<Answer> =>
  call(server!, "POST", "/external-systems/contact-events", {
    token: integration.apiKey,
    json: {
      data: Array.from({ length: RECORDS }, (_, i) => ({
        properties: { offered: true, handled: true, duration: 1 },
        // long names fill the disk sooner
        queueName: `${name} ${"n".repeat(200)}`,
        queueIdentifier: name,
        timestamp: new Date(hour + i * 15_000).toISOString(),
        channel: "calls"
      })),
      meta: { integrationConfigurationId: integration.id }
    }
  })

const offeredByQueue = (): Map<string, number> =>
  new Map(
    sqliteRows<{ identifier: string; offered: number }>(
      database,
      `SELECT q.identifier, SUM(s.offered) AS offered FROM interval_stats s JOIN queues q ON q.id = s.queue_id
        WHERE q.integration_id = ? GROUP BY q.identifier`,
      integration.id
    ).map((r) => [r.identifier, r.offered])
  )

/** Why an answer to a push that couldn't be written is not a clear refusal. */
const unclear = (answer: Answer): string | undefined => {
  if (answer.status < 400) return `accepted: ${answer.status}`
  if (!answer.contentType.startsWith("application/problem+json")) return `content type ${answer.contentType}`
  if (/\n\s+at |node_modules|\.ts:\d+|SQLITE_/.test(answer.text)) return `leaks internals: ${answer.text.slice(0, 300)}`
  return undefined
}

describe("disk full and read-only", () => {
  it("a full and a read-only file system: clear refusals, nothing half-written, recovery when space returns", async () => {
    if (!mounted.ok) {
      // not stageable here: only a refused privilege is an acceptable reason
      assert.match(mounted.reason, /permission|not permitted|only root|must be superuser/i, mounted.reason)
      counts.record({ case: "disk full and read-only", inputs: 0, faults: 0, losses: 0, note: `not staged: mounting a tmpfs was refused (${mounted.reason})` })
      return
    }
    const fates = new Map<string, "answered" | "refused">()
    const refusals: Array<string> = []
    let n = 0
    // 1. fill the disk
    let full: Answer | undefined
    while (full === undefined && n < 500) {
      const name = `fill-${n++}`
      const answer = await push(name)
      if (answer.status === 200) fates.set(name, "answered")
      else {
        fates.set(name, "refused")
        full = answer
      }
    }
    assert.isDefined(full, "2 MB never filled up")
    refusals.push(`${full!.status} "${(full!.body as { detail?: string }).detail ?? full!.text.slice(0, 100)}"`)
    assert.isUndefined(unclear(full!), full!.text)
    // a full disk is told apart from other failures: 503 with a time to come back
    assert.strictEqual(full!.status, 503, full!.text)
    assert.match((full!.body as { detail: string }).detail, /out of disk space/)
    assert.strictEqual((full!.body as { retryAfterSeconds?: number }).retryAfterSeconds, 60)
    // more pushes while full: each refused, the server alive
    for (let i = 0; i < 5; i++) {
      const name = `full-${i}`
      const answer = await push(name)
      fates.set(name, answer.status === 200 ? "answered" : "refused")
      if (answer.status !== 200) assert.isUndefined(unclear(answer), answer.text)
    }
    assert.strictEqual((await call(server!, "GET", "/health")).status, 200)
    assert.strictEqual(sqliteIntegrity(database), "ok", "damaged while full")
    // the answer stays generic (no internals to a client); the operator's log names the cause
    assert.match(server!.output(), /SQLITE_FULL|disk is full/, "the log doesn't say the disk is full")
    // typed all the way: the commit that failed is a StorageError, not a defect
    assert.match(server!.output(), /storage failed/)

    // 2. room again: the same server takes pushes without a restart
    mount("-o", "remount,size=64m", mountPoint)
    const after = await push("after-room")
    fates.set("after-room", after.status === 200 ? "answered" : "refused")
    assert.strictEqual(after.status, 200, `no recovery once there is room: ${after.text}`)

    // every answered batch whole, every refused one absent
    const check = (when: string) => {
      const offered = offeredByQueue()
      let losses = 0
      for (const [name, fate] of fates) {
        const got = offered.get(name) ?? 0
        const want = fate === "answered" ? RECORDS : 0
        if (got !== want) losses++
        assert.strictEqual(got, want, `${when}: batch ${name} (${fate}) has ${got} of ${RECORDS}`)
      }
      assert.strictEqual(sqliteIntegrity(database), "ok", `damaged ${when}`)
      return losses
    }
    let losses = check("after recovery")

    // 3. SIGKILL, and the file system read-only (a file system can't turn read-only under an
    // open file: "busy"): the server either refuses to start, saying why, or refuses pushes
    await server!.kill()
    mount("-o", "remount,ro", mountPoint)
    let readOnly: string
    try {
      server = await startServer({ database, adapter: { rateLimit: false }, tokens: [] })
      const answer = await push("read-only")
      fates.set("read-only", answer.status === 200 ? "answered" : "refused")
      assert.isUndefined(unclear(answer), answer.text)
      readOnly = `started; a push: ${answer.status}`
      if (answer.status !== 200) assert.match(server.output(), /SQLITE_READONLY|read-?only/i, "the log doesn't say the store is read-only")
      await server.kill()
    } catch (error) {
      if (!(error instanceof StartFailed)) throw error
      server = undefined
      // the operator reads why in the output: the store can't be written
      assert.match(error.output, /read-?only|SQLITE_READONLY|SQLITE_CANTOPEN|unable to open|EROFS/i, error.output.slice(-2000))
      readOnly = `refused to start (exit ${error.code}): ${/[^\n]*(read-?only|READONLY|CANTOPEN|unable to open|EROFS)[^\n]*/i.exec(error.output)?.[0]?.trim().slice(0, 160)}`
    }

    // 4. writable again: a restart on the same file has everything exactly once
    mount("-o", "remount,rw", mountPoint)
    server = await startServer({ database, adapter: { rateLimit: false }, tokens: [] })
    losses += check("after a restart")
    const last = await push("after-restart")
    assert.strictEqual(last.status, 200, last.text)

    const refused = [...fates.values()].filter((f) => f === "refused").length
    counts.record({
      case: "disk full and read-only",
      inputs: fates.size + 1,
      // the full disk, the SIGKILL, the read-only file system
      faults: 3,
      losses,
      note: `tmpfs of 2 MB full after ${n - 1} batches of ${RECORDS}: ${refused} pushes refused (${refusals.join("; ")}; the log says SQLITE_FULL); ` +
        `integrity ok; accepted again once remounted with room, no restart; read-only after a SIGKILL: ${readOnly}; writable again: every batch exactly once`
    })
  }, 180_000)
})
