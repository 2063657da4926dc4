/** `acd-link` as a customer's IT runs it: a real process, its output and its exit code. */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

const run = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += String(d)))
    child.stderr.on("data", (d) => (err += String(d)))
    child.on("exit", (code) => resolve({ code, out, err }))
  })

describe("acd-link commands", () => {
  const dir = mkdtempSync(join(tmpdir(), "acd-link-cli-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const write = (name: string, text: string) => {
    const file = join(dir, name)
    writeFileSync(file, text)
    return file
  }

  it("a configuration that doesn't fit: exit 2, each problem with its key and line, no secret", async () => {
    const file = write("bad.yaml", "engine:\n  url: engine.example.com\n  token: hunter2-secret\nintegrations: []\n")
    const result = await run(["status", "--config", file])
    assert.strictEqual(result.code, 2)
    assert.include(result.err, "line 2: engine.url: must be an http(s) URL")
    assert.include(result.err, "line 3: engine.token")
    assert.include(result.err, "line 4: integrations")
    assert.notInclude(result.err + result.out, "hunter2")
  }, 60_000)

  it("status shows the outbox; check reports each integration and the engine, exit 1 when one fails", async () => {
    const file = write(
      "link.yaml",
      [
        "engine:",
        "  url: http://127.0.0.1:9",
        "  token: acdl_not-a-real-token",
        `outbox: ${join(dir, "outbox.sqlite")}`,
        "integrations:",
        "  - id: int-1",
        "    connector: sql",
        "    config: {}",
        ""
      ].join("\n")
    )
    const status = await run(["status", "--config", file])
    assert.strictEqual(status.code, 0, status.err)
    assert.include(status.out, "outbox: 0 result(s) waiting for upload, 0 parked")
    const check = await run(["check", "--config", file])
    assert.strictEqual(check.code, 1)
    assert.match(check.out, /✗ int-1 \(sql\): /)
    assert.match(check.out, /✗ engine http:\/\/127\.0\.0\.1:9: /)
    assert.notInclude(check.out, "acdl_not-a-real-token")
  }, 60_000)
})
