/**
 * The drop-folder file helpers `CsvImporter` uses, for hosts that keep a file ledger of their
 * own (the on-premise `link` agent): hashing a file's content, listing a folder, moving a file
 * to `archive/` or `failed/` without overwriting, and writing `<name>.errors.csv` beside it.
 *
 * @since 0.3.0
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { CsvFileError } from "./CsvError.js"
import type { CsvProblem } from "./CsvReader.js"
import * as Files from "./internal/files.js"

/** Size and modification time of a file. @since 0.3.0 @category models */
export type FileStat = Files.FileStat

/** SHA-256 of a file's bytes, hex. @since 0.3.0 @category files */
export const sha256: (file: string) => Effect.Effect<string, CsvFileError> = Files.sha256

/**
 * The regular files of `folder` whose names match `pattern` (`*`/`?` wildcards), not hidden
 * and not error reports. A missing folder is empty when `missingOk`.
 *
 * @since 0.3.0 @category files
 */
export const listFolder: (
  folder: string,
  pattern: string,
  missingOk?: boolean
) => Effect.Effect<ReadonlyArray<FileStat>, CsvFileError> = Files.listFolder

/**
 * Moves `file` into `folder` (created if needed) under its own name, or a name with the
 * content hash's first 8 characters when that is taken. Returns the new path.
 *
 * @since 0.3.0 @category files
 */
export const moveInto: (file: string, folder: string, hash: string) => Effect.Effect<string, CsvFileError> =
  Files.moveInto

/**
 * Writes `<name>.errors.csv` (line, column, reason of each problem) beside `file`; returns its path.
 *
 * @since 0.3.0 @category files
 */
export const writeErrors: (
  file: string,
  problems: ReadonlyArray<CsvProblem>,
  omitted: number
) => Effect.Effect<string, CsvFileError> = Files.writeErrors

/**
 * A file directly in `folder` with the same bytes as `file` (same size, then same SHA-256), if
 * any: whether an archive holds a content already.
 *
 * @since 0.3.0 @category files
 */
export const findContent: (
  folder: string,
  file: string,
  sha256Hex: string
) => Effect.Effect<Option.Option<string>, CsvFileError> = Files.findContent
