/** `acd-link --help` tells where and how to run the agent; `run --help` its progress option. */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
const help = (...args: ReadonlyArray<string>) => {
  const result = spawnSync(process.execPath, ["--import", "tsx", bin, ...args], { encoding: "utf8" })
  return { code: result.status, text: result.stdout + result.stderr }
}

describe("acd-link --help", () => {
  it("names the packaging: npx, Docker with /etc/acd-link, the systemd unit and the Windows service", () => {
    const { code, text } = help("--help")
    assert.strictEqual(code, 0, text)
    for (const needle of ["npx @acd-bridge/link", "/etc/acd-link/link.yaml", "acd-link.service", "Restart=on-failure", "NSSM", "run", "check", "status"]) {
      assert.include(text, needle)
    }
  }, 60_000)

  it("run --help describes the history progress and --progress-every", () => {
    const { code, text } = help("run", "--help")
    assert.strictEqual(code, 0, text)
    assert.include(text, "--progress-every")
    assert.include(text, "progress bar on a terminal")
  }, 60_000)
})
