/**
 * Errors of the CSV connector. Rejected rows are not errors (they are `CsvProblem`s of a
 * result); these are the failures that stop a file: the file system, or a file that can't be
 * imported at all.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Reading, hashing, listing or moving a file failed (missing, not readable, disk full…).
 *
 * @since 0.1.0 @category errors
 */
export class CsvFileError extends Schema.TaggedError<CsvFileError>()("CsvFileError", {
  path: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Could not ${this.operation} ${this.path}: ${this.reason}`
  }
}

/**
 * A file was rejected as a whole (strict mode with bad rows, columns missing from the header,
 * an empty file). `problems` counts the rejected rows; the first one is quoted.
 *
 * @since 0.1.0 @category errors
 */
export class CsvFileRejected extends Schema.TaggedError<CsvFileRejected>()("CsvFileRejected", {
  file: Schema.String,
  line: Schema.NullOr(Schema.Number),
  column: Schema.NullOr(Schema.String),
  reason: Schema.String,
  problems: Schema.Number
}) {
  override get message() {
    const where = `${this.file}${this.line === null ? "" : `:${this.line}`}${this.column === null ? "" : ` (${this.column})`}`
    return `${where}: ${this.reason}${this.problems > 1 ? ` (and ${this.problems - 1} more problems)` : ""}`
  }
}

/**
 * @since 0.1.0 @category errors
 */
export type CsvError = CsvFileError | CsvFileRejected
