/** `pnpm docs:check-code`: compiles every TypeScript block of the docs; exits 1 naming each failure. */
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { blocks, checkIncludes, compile, markdownFiles } from "./codeblocks.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const all = markdownFiles(root).flatMap((f) => blocks(root, f))
const findings = [...checkIncludes(root, all), ...compile(root, path.join(root, "docs/tools/.blocks"), all)]
for (const f of findings) process.stderr.write(`${f.where}: ${f.message}\n`)
process.stdout.write(`${all.length} blocks, ${findings.length} problems\n`)
process.exit(findings.length > 0 ? 1 : 0)
