/**
 * Vitest global setup: a throwaway PostgreSQL cluster for the tests.
 *
 * Unless `ACD_BRIDGE_TEST_PG_URL` is already set (then that server is used as it is), this
 * creates a fresh cluster with `initdb` in a temp directory, starts it with `pg_ctl` on a free
 * loopback port (127.0.0.1 only, its socket in the temp directory), creates a database, and
 * exports its URL as `ACD_BRIDGE_TEST_PG_URL` (also `provide`d as `acdBridgeTestPgUrl`). The
 * teardown stops the cluster and removes the directory. As root, initdb and pg_ctl run as the
 * `postgres` OS user (initdb refuses root).
 *
 * The cluster runs with fsync off: it only ever lives for one test run.
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type {} from "vitest"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    acdBridgeTestPgUrl: string
  }
}

const ENV = "ACD_BRIDGE_TEST_PG_URL"

const findBinDir = (): string | undefined => {
  const fromEnv = process.env["ACD_BRIDGE_PG_BIN"]
  const candidates: Array<string> = fromEnv ? [fromEnv] : []
  const root = "/usr/lib/postgresql"
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a))
    for (const v of versions) candidates.push(path.join(root, v, "bin"))
  }
  return candidates.find((dir) =>
    ["initdb", "pg_ctl", "postgres", "createdb"].every((bin) => fs.existsSync(path.join(dir, bin)))
  )
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root. */
const run = (bin: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): string => {
  const [command, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]]
  try {
    return execFileSync(command, argv, { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${path.basename(bin)} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`)
  }
}

const ownedBy = (user: string): { uid: number; gid: number } => ({
  uid: Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim()),
  gid: Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim())
})

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const given = process.env[ENV]
  if (given) {
    project.provide("acdBridgeTestPgUrl", given)
    return undefined
  }
  const binDir = findBinDir()
  if (!binDir) {
    throw new Error(
      "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin. " +
        "Install them with `bash scripts/ensure-postgres.sh` (as root), or set ACD_BRIDGE_TEST_PG_URL " +
        "to a PostgreSQL database whose user may create databases."
    )
  }
  const bin = (name: string) => path.join(binDir, name)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acd-bridge-pg-"))
  const dataDir = path.join(dir, "data")
  const pwFile = path.join(dir, "pw")
  const logFile = path.join(dir, "postgres.log")
  const password = randomBytes(18).toString("hex")
  fs.writeFileSync(pwFile, password + "\n", { mode: 0o600 })
  fs.writeFileSync(logFile, "")
  if (isRoot) {
    const { gid, uid } = ownedBy("postgres")
    for (const p of [dir, pwFile, logFile]) fs.chownSync(p, uid, gid)
  }
  fs.chmodSync(dir, 0o700)

  let started = false
  const stop = () => {
    if (started) {
      try {
        run(bin("pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"])
      } catch {
        // already gone
      }
      started = false
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }

  try {
    run(bin("initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=scram-sha-256",
      `--pwfile=${pwFile}`,
      "-E",
      "UTF8",
      "--no-locale",
      "--no-sync"
    ])
    let port = 0
    for (let attempt = 0; !started; attempt++) {
      port = await freePort()
      try {
        run(bin("pg_ctl"), [
          "-D",
          dataDir,
          "-l",
          logFile,
          "-w",
          "-t",
          "60",
          "-o",
          `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=300`,
          "start"
        ])
        started = true
      } catch (error) {
        if (attempt >= 2) {
          throw new Error(`${(error as Error).message}\n${fs.readFileSync(logFile, "utf8").slice(-4000)}`)
        }
      }
    }
    const database = "acd_bridge_test"
    run(bin("createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", database], {
      ...process.env,
      PGPASSWORD: password
    })
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/${database}`
    process.env[ENV] = url
    project.provide("acdBridgeTestPgUrl", url)
  } catch (error) {
    stop()
    throw error
  }
  return () => {
    delete process.env[ENV]
    stop()
  }
}
