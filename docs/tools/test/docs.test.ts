import { ConnectorRegistry } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { blocks, checkIncludes } from "../src/codeblocks.js"
import { files } from "../src/files.js"
import * as HttpApiPage from "../src/httpApi.js"
import { connectors } from "../src/connectors.js"
import { rows, table } from "../src/jsonSchemaTable.js"
import { lint } from "../src/lintOpenApi.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

describe("generated reference pages", () => {
  it("are up to date with the code (run `pnpm docs:generate` when this fails)", () => {
    const stale = files(root).filter(([relative, content]) => {
      const target = path.join(root, relative)
      return !fs.existsSync(target) || fs.readFileSync(target, "utf8") !== content
    }).map(([relative]) => relative)
    assert.deepStrictEqual(stale, [])
  })

  it("lists every setting of a config, secrets marked, nested and union members included", () => {
    const config = Schema.Struct({
      baseUrl: Schema.String.annotations({ description: "The API origin" }),
      password: Schema.Redacted(Schema.String),
      paging: Schema.optional(Schema.Struct({ limit: Schema.Int.pipe(Schema.between(1, 5000)) })),
      source: Schema.Union(
        Schema.Struct({ kind: Schema.Literal("facts"), view: Schema.String }),
        Schema.Struct({ kind: Schema.Literal("aggregates"), table: Schema.String })
      )
    })
    const table = rows(ConnectorRegistry.configJsonSchema(config))
    const byPath = new Map(table.map((r) => [r.path, r]))
    assert.deepStrictEqual([...byPath.keys()].sort(), [
      "baseUrl", "paging", "paging.limit", "password", "source", "source.kind", "source.table", "source.view"
    ])
    assert.strictEqual(byPath.get("password")!.secret, true)
    assert.strictEqual(byPath.get("baseUrl")!.secret, false)
    assert.strictEqual(byPath.get("baseUrl")!.description, "The API origin")
    assert.strictEqual(byPath.get("paging")!.required, false)
    assert.strictEqual(byPath.get("paging.limit")!.type, "integer")
    assert.deepStrictEqual(byPath.get("paging.limit")!.notes, ["≥ 1", "≤ 5000"])
  })
})

describe("configuration tables", () => {
  it("say what a setting means first, then its constraints, then its default", () => {
    const config = Schema.Struct({
      pollSeconds: Schema.optionalWith(
        Schema.Number.pipe(Schema.between(1, 60)).annotations({ jsonSchema: { minimum: 1, maximum: 60, description: "How often to poll, in seconds.", default: 20 } }),
        { default: () => 20 }
      ),
      zone: Schema.optional(Schema.String)
    })
    const byPath = new Map(rows(ConnectorRegistry.configJsonSchema(config)).map((r) => [r.path, r]))
    assert.strictEqual(byPath.get("pollSeconds")!.default, "20")
    assert.strictEqual(byPath.get("zone")!.default, undefined)
    const line = table(ConnectorRegistry.configJsonSchema(config)).split("\n").find((l) => l.startsWith("| `pollSeconds`"))
    assert.strictEqual(line, "| `pollSeconds` | number | no | How often to poll, in seconds. ≥ 1; ≤ 60; default: `20` |")
  })

  it("describe every setting of every built-in connector (a setting added without a description fails here)", () => {
    const undocumented = connectors.flatMap((c) =>
      rows(ConnectorRegistry.configJsonSchema(c.configSchema)).filter((r) => r.description.trim() === "").map((r) => `${c.key}: ${r.path}`)
    )
    assert.deepStrictEqual(undocumented, [])
  })
})

describe("the OpenAPI document", () => {
  it("is clean under Redocly's recommended rules (servers, license, tag descriptions, no unused schemas)", async () => {
    const problems = await lint(HttpApiPage.spec())
    assert.deepStrictEqual(problems.map((p) => `${p.severity} ${p.rule}: ${p.message} (${p.where})`), [])
  })
})

describe("code blocks", () => {
  it("finds TypeScript blocks with their lines and checks included ones against their file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docs-blocks-"))
    fs.mkdirSync(path.join(dir, "src"))
    fs.writeFileSync(path.join(dir, "src/a.ts"), "const a = 1\n// #region shown\nexport const b = a + 1\n// #endregion\n")
    fs.writeFileSync(path.join(dir, "page.md"), [
      "# page",
      "<!-- include: src/a.ts#shown -->",
      "```ts",
      "export const b = a + 1",
      "```",
      "<!-- include: src/a.ts#shown -->",
      "```ts",
      "export const b = a + 2",
      "```",
      "```sh",
      "echo not typescript",
      "```",
      "```typescript",
      "const c: number = 1",
      "```"
    ].join("\n"))
    const found = blocks(dir, "page.md")
    assert.deepStrictEqual(found.map((b) => b.line), [3, 7, 13])
    assert.strictEqual(found[2]!.include, undefined)
    const findings = checkIncludes(dir, found)
    assert.deepStrictEqual(findings.map((f) => f.where), ["page.md:7"])
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
