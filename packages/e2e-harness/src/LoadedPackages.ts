/**
 * Which packages a process loads: for child processes that check a package imports only what
 * the host's configuration needs (a connector loads the driver it uses and no other).
 *
 * Call `track()` before importing the package under test (with `await import(...)`): CommonJS
 * packages (pg, tedious, mysql2, better-sqlite3) are seen in the require cache, ES modules
 * (`@effect/sql-*`, the workspace's own packages) through a resolve hook registered here.
 * Imported through its own subpath (`@acd-bridge/e2e-harness/LoadedPackages`), it loads nothing
 * that would show up in its own report.
 */
import { createRequire, register } from "node:module"
import { MessageChannel } from "node:worker_threads"

/** @since 0.1.0 */
export interface Tracker {
  /** every file loaded since `track()`, and every CommonJS file loaded at all */
  readonly files: () => Promise<ReadonlyArray<string>>
  /**
   * the packages of those files: the name after the last `node_modules/`, or
   * `@acd-bridge/<name>` for a workspace package's `packages/<name>/src/` file; sorted
   */
  readonly packages: () => Promise<ReadonlyArray<string>>
}

const hook = `
let port
export const initialize = (data) => { port = data.port }
export const resolve = async (specifier, context, next) => {
  const result = await next(specifier, context)
  port.postMessage(result.url)
  return result
}`

/** the package a file belongs to */
const packageOf = (file: string): string | undefined => {
  const installed = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file)
  if (installed?.[1]) return installed[1].replace(/\\/g, "/")
  // workspace packages resolve to their real path
  const workspace = /[\\/]packages[\\/]([^\\/]+)[\\/]src[\\/]/.exec(file)
  return workspace?.[1] ? `@acd-bridge/${workspace[1]}` : undefined
}

/** @since 0.1.0 */
export const track = (): Tracker => {
  const resolved = new Set<string>()
  const { port1, port2 } = new MessageChannel()
  port1.on("message", (url: string) => resolved.add(url))
  port1.unref()
  register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] })
  const files = async () => {
    // the hook thread posts each resolution before answering it; one more turn delivers the last
    await new Promise((resolve) => setTimeout(resolve, 50))
    return [
      ...Object.keys(createRequire(import.meta.url).cache),
      ...[...resolved].filter((url) => url.startsWith("file:")).map((url) => decodeURIComponent(new URL(url).pathname))
    ]
  }
  return {
    files,
    packages: async () => {
      const names = new Set<string>()
      for (const file of await files()) {
        const name = packageOf(file)
        if (name !== undefined) names.add(name)
      }
      return [...names].sort()
    }
  }
}
