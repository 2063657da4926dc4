/**
 * Every TypeScript block in the docs and READMEs is compiled. A block is either a complete
 * module (imports included) compiled as it stands, or a copy of a file under the repository
 * marked by `<!-- include: path/to/file.ts -->` (optionally `#name` for the lines between
 * `// #region name` and `// #endregion`) on the line before it, checked to match the file
 * character for character — the file itself is compiled by the typecheck.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

export interface Block {
  readonly file: string
  readonly line: number
  readonly code: string
  readonly include?: { readonly path: string; readonly region?: string | undefined } | undefined
}

const ignoredDirs = new Set(["node_modules", "dist", "build", ".blocks", "data", ".git"])

/** The Markdown files the docs check covers, relative to the root. */
export const markdownFiles = (root: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (ignoredDirs.has(entry.name) || entry.name.startsWith(".")) continue
      const relative = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(relative)
      else if (entry.name.endsWith(".md")) out.push(relative)
    }
  }
  out.push("README.md")
  walk("docs")
  for (const group of ["packages", "examples"]) {
    for (const pkg of fs.readdirSync(path.join(root, group))) {
      const readme = path.join(group, pkg, "README.md")
      if (fs.existsSync(path.join(root, readme))) out.push(readme)
    }
  }
  return out.sort()
}

export const blocks = (root: string, file: string): ReadonlyArray<Block> => {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split(/\r?\n/)
  const out: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]!)
    if (open === null) continue
    const indent = open[1]!.length
    const start = i
    const body: Array<string> = []
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent))
    const marker = /<!--\s*include:\s*([^#\s]+)(?:#(\S+))?\s*-->/.exec(lines[start - 1] ?? "")
    out.push({
      file,
      line: start + 1,
      code: body.join("\n") + "\n",
      include: marker === null ? undefined : { path: marker[1]!, region: marker[2] }
    })
  }
  return out
}

const region = (text: string, name: string | undefined): string | undefined => {
  if (name === undefined) return text
  const lines = text.split(/\r?\n/)
  const from = lines.findIndex((l) => l.trim() === `// #region ${name}`)
  const to = lines.findIndex((l, i) => i > from && l.trim() === "// #endregion")
  if (from < 0 || to < 0) return undefined
  const body = lines.slice(from + 1, to)
  const indent = Math.min(...body.filter((l) => l.trim() !== "").map((l) => /^\s*/.exec(l)![0].length))
  return body.map((l) => l.slice(indent)).join("\n") + "\n"
}

export interface Finding {
  readonly where: string
  readonly message: string
}

/** An included block must equal its file (or region). */
export const checkIncludes = (root: string, all: ReadonlyArray<Block>): ReadonlyArray<Finding> =>
  all.flatMap((b): ReadonlyArray<Finding> => {
    if (b.include === undefined) return []
    const where = `${b.file}:${b.line}`
    const target = path.join(root, b.include.path)
    if (!fs.existsSync(target)) return [{ where, message: `includes ${b.include.path}, which does not exist` }]
    const expected = region(fs.readFileSync(target, "utf8"), b.include.region)
    if (expected === undefined) return [{ where, message: `${b.include.path} has no region "${b.include.region}"` }]
    return expected === b.code ? [] : [{ where, message: `differs from ${b.include.path}${b.include.region ? `#${b.include.region}` : ""}: copy the file's text into the block` }]
  })

/**
 * Compiles the standalone blocks as modules in `dir` (inside the repository so workspace
 * packages resolve), with the repository's compiler options.
 */
export const compile = (root: string, dir: string, all: ReadonlyArray<Block>): ReadonlyArray<Finding> => {
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const byFile = new Map<string, Block>()
  for (const b of all) {
    if (b.include !== undefined) continue
    const name = `${b.file.replace(/[^A-Za-z0-9]+/g, "_")}_L${b.line}.ts`
    const file = path.join(dir, name)
    // relative imports are written from the Markdown file's folder, as a reader sees them
    const code = b.code.replace(/(from\s+")(\.\.?\/[^"]+)(")/g, (_m, open: string, spec: string, close: string) => {
      const target = path.resolve(root, path.dirname(b.file), spec)
      const relative = path.relative(dir, target).split(path.sep).join("/")
      return `${open}${relative.startsWith(".") ? relative : `./${relative}`}${close}`
    })
    // `export {}` keeps every block a module, so top-level names don't collide across blocks
    fs.writeFileSync(file, `${code}\nexport {}\n`)
    byFile.set(path.resolve(file), b)
  }
  const config = ts.readConfigFile(path.join(root, "tsconfig.base.json"), ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    emitDeclarationOnly: false,
    incremental: false,
    // blocks show the API; an unused import in an excerpt is not an error a reader cares about
    noUnusedLocals: false,
    noUnusedParameters: false
  }
  const program = ts.createProgram([...byFile.keys()], options)
  return ts.getPreEmitDiagnostics(program).flatMap((d): ReadonlyArray<Finding> => {
    const source = d.file === undefined ? undefined : byFile.get(path.resolve(d.file.fileName))
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n")
    if (source === undefined || d.file === undefined || d.start === undefined) {
      return [{ where: d.file?.fileName ?? "compiler", message }]
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start)
    return [{ where: `${source.file}:${source.line + 1 + line}`, message }]
  })
}
