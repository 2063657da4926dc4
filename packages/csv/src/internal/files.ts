/**
 * File-system helpers wrapped in Effect with typed errors: hashing, listing a drop folder,
 * moving files to archive/failed without overwriting, writing `<name>.errors.csv`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { pipeline } from "node:stream/promises"
import { CsvFileError } from "../CsvError.js"
import type { CsvProblem } from "../CsvReader.js"

const reason = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

const attempt = <A>(file: string, operation: string, run: () => Promise<A>): Effect.Effect<A, CsvFileError> =>
  Effect.tryPromise({
    try: run,
    catch: (cause) => new CsvFileError({ path: file, operation, reason: reason(cause) })
  })

/** SHA-256 of a file's bytes, hex. @internal */
export const sha256 = (file: string): Effect.Effect<string, CsvFileError> =>
  attempt(file, "hash", async () => {
    const hash = createHash("sha256")
    await pipeline(fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), hash)
    return hash.digest("hex")
  })

/**
 * A file directly in `folder` with the same bytes as `file` (same size, then same SHA-256), if
 * any. Only files of the same size are hashed.
 *
 * @internal
 */
export const findContent = (
  folder: string,
  file: string,
  sha256Hex: string
): Effect.Effect<Option.Option<string>, CsvFileError> =>
  Effect.gen(function*() {
    const size = yield* attempt(file, "stat", () => fs.promises.stat(file)).pipe(Effect.map((s) => s.size))
    const candidates = yield* listFolder(folder, "*", true)
    for (const candidate of candidates) {
      if (candidate.size !== size || candidate.path === file) continue
      if ((yield* sha256(candidate.path)) === sha256Hex) return Option.some(candidate.path)
    }
    return Option.none()
  })

/** Size and modification time of a file. @internal */
export interface FileStat {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
}

/** A `*`/`?` wildcard pattern as a case-insensitive regular expression. @internal */
export const globToRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${
      pattern.split("").map((ch) => ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&"))
        .join("")
    }$`,
    "i"
  )

/** Whether a name is ours (error reports) or hidden, and never a data file. @internal */
export const isIgnored = (name: string): boolean =>
  name.startsWith(".") || name.toLowerCase().endsWith(".errors.csv") || name.endsWith(".partial")

/**
 * The regular files of `folder` whose names match `pattern` (not hidden, not error reports).
 * A folder that doesn't exist is empty when `missingOk`.
 *
 * @internal
 */
export const listFolder = (
  folder: string,
  pattern: string,
  missingOk = false
): Effect.Effect<ReadonlyArray<FileStat>, CsvFileError> =>
  attempt(folder, "list", async () => {
    const regex = globToRegExp(pattern)
    let entries: Array<fs.Dirent>
    try {
      entries = await fs.promises.readdir(folder, { withFileTypes: true })
    } catch (error) {
      if (missingOk && error instanceof Error && "code" in error && error.code === "ENOENT") return []
      throw error
    }
    const out: Array<FileStat> = []
    for (const entry of entries) {
      if (!entry.isFile() || isIgnored(entry.name) || !regex.test(entry.name)) continue
      const file = path.join(folder, entry.name)
      try {
        const stat = await fs.promises.stat(file)
        out.push({ path: file, size: stat.size, mtimeMs: stat.mtimeMs })
      } catch {
        // removed between readdir and stat: not there any more
      }
    }
    return out
  })

/** Stats of the listed files that exist. @internal */
export const statFiles = (files: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<FileStat>> =>
  Effect.promise(async () => {
    const out: Array<FileStat> = []
    for (const file of files) {
      try {
        const stat = await fs.promises.stat(file)
        if (stat.isFile()) out.push({ path: file, size: stat.size, mtimeMs: stat.mtimeMs })
      } catch {
        // not there (yet, or any more)
      }
    }
    return out
  })

const exists = async (file: string) => {
  try {
    await fs.promises.access(file)
    return true
  } catch {
    return false
  }
}

/**
 * Moves `file` into `folder` (created if needed) under its own name, or `name-<hash8>.ext`,
 * `name-<hash8>-2.ext`… when that is taken. Returns the new path.
 *
 * @internal
 */
export const moveInto = (file: string, folder: string, hash: string): Effect.Effect<string, CsvFileError> =>
  attempt(file, `move to ${folder}`, async () => {
    await fs.promises.mkdir(folder, { recursive: true })
    const ext = path.extname(file)
    const base = path.basename(file, ext)
    let target = path.join(folder, path.basename(file))
    for (let n = 1; await exists(target); n++) {
      target = path.join(folder, `${base}-${hash.slice(0, 8)}${n === 1 ? "" : `-${n}`}${ext}`)
    }
    try {
      await fs.promises.rename(file, target)
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "EXDEV") {
        const stat = await fs.promises.stat(file)
        await fs.promises.copyFile(file, target)
        // keep the modification time: `pull` reads archived files in that order
        await fs.promises.utimes(target, stat.atime, stat.mtime)
        await fs.promises.unlink(file)
      } else throw error
    }
    return target
  })

const quote = (value: string): string => /[",\r\n]/.test(value) ? `"${value.replace(/"/g, "\"\"")}"` : value

/** The path of the error report beside a (moved) data file: `calls.csv` → `calls.errors.csv`. @internal */
export const errorsPathFor = (file: string): string => {
  const ext = path.extname(file)
  return path.join(path.dirname(file), `${path.basename(file, ext)}.errors.csv`)
}

/**
 * Writes `line,column,reason` rows (UTF-8 with BOM, so spreadsheet programs read umlauts) beside
 * `file`; `omitted` problems beyond the kept ones are counted in a last row.
 *
 * @internal
 */
export const writeErrors = (
  file: string,
  problems: ReadonlyArray<CsvProblem>,
  omitted: number
): Effect.Effect<string, CsvFileError> => {
  const target = errorsPathFor(file)
  return attempt(target, "write", async () => {
    const rows = ["line,column,reason"]
    for (const p of problems) rows.push([p.line === null ? "" : String(p.line), p.column ?? "", p.reason].map(quote).join(","))
    if (omitted > 0) rows.push(["", "", `${omitted} more problems not listed`].map(quote).join(","))
    await fs.promises.writeFile(target, `\uFEFF${rows.join("\r\n")}\r\n`, "utf8")
    return target
  })
}
