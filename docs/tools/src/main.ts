/**
 * Writes the generated reference pages, or with `--check` fails when any of them is out of
 * date (CI runs the check, so docs can't drift from the code).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { files } from "./files.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const check = process.argv.includes("--check")
const stale: Array<string> = []
for (const [relative, content] of files(root)) {
  const target = path.join(root, relative)
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined
  if (current === content) continue
  if (check) stale.push(relative)
  else {
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, content)
    process.stdout.write(`wrote ${relative}\n`)
  }
}
if (stale.length > 0) {
  process.stderr.write(`out of date (run \`pnpm docs:generate\`): ${stale.join(", ")}\n`)
  process.exit(1)
}
