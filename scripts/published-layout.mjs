// Runs built code as it is published: `node --import ./scripts/published-layout.mjs <file>`.
//
// In this workspace a package's `exports` point at its TypeScript source (`src/index.ts`), so
// tests and `tsx` run the sources. Published packages point at `dist/` instead
// (`publishConfig.exports`). This hook resolves every `@acd-bridge/*` import to the built file
// of the same entry (`src/<entry>.ts` → `dist/<entry>.js`), so a built program such as
// `packages/server/bin/acd-bridge.js` runs on plain Node exactly as installed from the registry.
// A package that was not built fails with a message saying to run `pnpm build`.
import { register } from "node:module"

const hooks = `
import { existsSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"
export const resolve = async (specifier, context, next) => {
  const result = await next(specifier, context)
  if (!specifier.startsWith("@acd-bridge/")) return result
  const file = fileURLToPath(result.url)
  const source = /^(.*[\\\\/]packages[\\\\/][^\\\\/]+)[\\\\/]src[\\\\/](.+)\\.ts$/.exec(file)
  if (source === null) return result
  const built = source[1] + "/dist/" + source[2] + ".js"
  if (!existsSync(built)) throw new Error(specifier + ": " + built + " is missing: run pnpm build")
  return { ...result, url: pathToFileURL(built).href, format: "module" }
}`

register(`data:text/javascript,${encodeURIComponent(hooks)}`)
