/**
 * The read-only guard: a configured query is accepted only when it is one reading statement
 * (`SELECT …` or `WITH … SELECT …`), and its `:from`/`:to` parameters are turned into the
 * driver's bound placeholders. Nothing is ever spliced into the SQL text.
 *
 * Two independent checks must both pass:
 *
 * 1. a dialect-aware tokenizer (strings, quoted identifiers, nested or flat comments, dollar
 *    quotes, MySQL `#` and `-- ` comments, backslash escapes tokenized both ways where the
 *    server may use either): exactly one statement, starting with SELECT or WITH, none of the
 *    writing or session keywords outside strings, comments and quoted identifiers, no
 *    placeholders other than `:from` and `:to`;
 * 2. `node-sql-parser` with the same dialect: the text must parse to a single `select`
 *    whose tree contains no writing statement and no `SELECT … INTO`.
 *
 * The server then runs it read-only where it can (see the README).
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { createRequire } from "node:module"
import type { AST, Parser } from "node-sql-parser"
import type { Dialect } from "./internal/dialect.js"

export type { Dialect } from "./internal/dialect.js"
import { dialectName, placeholder } from "./internal/dialect.js"
import type { Token } from "./internal/tokenizer.js"
import { lineColumn, tokenize, TokenizeError } from "./internal/tokenizer.js"

/**
 * A configured query was refused before it ran.
 *
 * @since 0.1.0 @category errors
 */
export class QueryRefused extends Schema.TaggedError<QueryRefused>()("QueryRefused", {
  /** which query: `contacts`, `agentStatuses`, `realtime` */
  query: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The ${this.query} query was refused: ${this.reason}`
  }
}

/** The named parameters a query may use. @since 0.1.0 @category models */
export type ParameterName = "from" | "to"

/**
 * A query that passed the guard, rewritten for its driver.
 *
 * @since 0.1.0 @category models
 */
export interface PreparedQuery {
  readonly dialect: Dialect
  /** the SQL text with `:from`/`:to` replaced by the driver's placeholders */
  readonly text: string
  /** which value each placeholder takes, in order */
  readonly parameters: ReadonlyArray<ParameterName>
}

/**
 * Words that write, change the session, call procedures or reach outside the database.
 * They are refused anywhere outside strings, comments and quoted identifiers (quote a
 * column that happens to carry one of these names).
 *
 * @since 0.1.0 @category constants
 */
export const forbiddenWords: ReadonlySet<string> = new Set([
  "insert",
  "update",
  "delete",
  "merge",
  "upsert",
  "truncate",
  "drop",
  "alter",
  "create",
  "rename",
  "grant",
  "revoke",
  "deny",
  "copy",
  "call",
  "exec",
  "execute",
  "do",
  "set",
  "reset",
  "into",
  "lock",
  "unlock",
  "begin",
  "commit",
  "rollback",
  "savepoint",
  "release",
  "prepare",
  "deallocate",
  "listen",
  "notify",
  "unlisten",
  "vacuum",
  "reindex",
  "cluster",
  "refresh",
  "discard",
  "checkpoint",
  "attach",
  "detach",
  "pragma",
  "load",
  "handler",
  "outfile",
  "dumpfile",
  "kill",
  "shutdown",
  "returning",
  "declare",
  "use",
  "backup",
  "restore",
  "dbcc",
  "bulk",
  "openrowset",
  "openquery",
  "opendatasource",
  "openxml",
  "xp_cmdshell",
  "waitfor",
  // functions with side effects that a read-only transaction does not stop
  "pg_terminate_backend",
  "pg_cancel_backend",
  "pg_reload_conf",
  "pg_rotate_logfile",
  "pg_promote",
  "pg_switch_wal",
  "pg_read_file",
  "pg_read_binary_file",
  "pg_ls_dir",
  "pg_stat_file",
  "set_config",
  "lo_import",
  "lo_export",
  "lo_unlink",
  "dblink",
  "dblink_exec",
  "dblink_connect",
  "load_file",
  "load_extension",
  "writefile",
  "readfile",
  "edit",
  "fts3_tokenizer",
  "get_lock",
  "release_lock"
])

/** `REPLACE(…)` is a string function everywhere; `REPLACE INTO` writes. */
const replaceIsFunction = (tokens: ReadonlyArray<Token>, index: number): boolean => {
  for (let j = index + 1; j < tokens.length; j++) {
    const t = tokens[j]!
    if (t.kind === "ws" || t.kind === "comment") continue
    return t.text === "("
  }
  return false
}

const where = (sql: string, offset: number) => {
  const { column, line } = lineColumn(sql, offset)
  return `line ${line}, column ${column}`
}

/** The tokenizer's verdict under one reading of backslashes. */
const checkTokens = (
  sql: string,
  dialect: Dialect,
  backslashEscapes: boolean
): Either.Either<ReadonlyArray<Token>, string> => {
  const tokens = tokenize(sql, dialect, { backslashEscapes })
  if (tokens instanceof TokenizeError) return Either.left(`${tokens.reason} (${where(sql, tokens.position)})`)
  const code = tokens.filter((t) => t.kind !== "ws" && t.kind !== "comment")
  if (code.length === 0) return Either.left("the query is empty")
  // one trailing semicolon is tolerated
  const body = code[code.length - 1]!.kind === "semicolon" ? code.slice(0, -1) : code
  const semicolon = body.find((t) => t.kind === "semicolon")
  if (semicolon) {
    return Either.left(
      `it contains more than one statement (a ";" at ${where(sql, semicolon.start)}); ` +
        "only a single SELECT is allowed"
    )
  }
  const first = body.find((t) => t.text !== "(")
  const firstWord = first?.kind === "word" ? first.text.toLowerCase() : undefined
  if (firstWord !== "select" && firstWord !== "with") {
    return Either.left(`it must start with SELECT or WITH, not ${JSON.stringify(first?.text ?? "")}`)
  }
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!
    if (t.kind === "word") {
      const word = t.text.toLowerCase()
      if (word === "replace" && !replaceIsFunction(tokens, k)) {
        return Either.left(`it uses REPLACE at ${where(sql, t.start)}: only reading queries are allowed`)
      }
      if (forbiddenWords.has(word)) {
        return Either.left(
          `it uses ${t.text.toUpperCase()} at ${where(sql, t.start)}: only reading queries are allowed` +
            " (quote a column of that name as an identifier)"
        )
      }
    } else if (t.kind === "placeholder") {
      return Either.left(
        `it uses ${JSON.stringify(t.text)} at ${where(sql, t.start)}; ` +
          "the only parameters are :from and :to, and session variables are not allowed"
      )
    } else if (t.kind === "param" && t.name !== "from" && t.name !== "to") {
      return Either.left(
        `it uses the unknown parameter ${t.text} at ${where(sql, t.start)}; the only parameters are :from and :to`
      )
    }
  }
  return Either.right(tokens)
}

const parserDatabase: Record<Dialect, string> = {
  pg: "postgresql",
  mysql: "mysql",
  mssql: "transactsql",
  sqlite: "sqlite"
}

const require = createRequire(import.meta.url)
const parsers = new Map<Dialect, Parser>()
const parserFor = (dialect: Dialect): Parser => {
  let parser = parsers.get(dialect)
  if (!parser) {
    // one dialect's grammar only (the package's full build holds all of them)
    const mod = require(`node-sql-parser/build/${parserDatabase[dialect]}`) as { Parser: new() => Parser }
    parser = new mod.Parser()
    parsers.set(dialect, parser)
  }
  return parser
}

const writingTypes = new Set([
  "insert",
  "update",
  "delete",
  "replace",
  "merge",
  "create",
  "drop",
  "alter",
  "truncate",
  "rename",
  "grant",
  "revoke",
  "call",
  "exec",
  "execute",
  "set",
  "lock",
  "unlock",
  "use",
  "transaction",
  "declare",
  "load_data",
  "show"
])

/** Finds a writing statement or a SELECT … INTO anywhere in the parsed tree. */
const findWrite = (node: unknown, depth = 0): string | undefined => {
  if (depth > 200 || node === null || typeof node !== "object") return undefined
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findWrite(item, depth + 1)
      if (found) return found
    }
    return undefined
  }
  const record = node as Record<string, unknown>
  const type = record["type"]
  if (typeof type === "string" && writingTypes.has(type.toLowerCase())) return type.toUpperCase()
  const into = record["into"]
  if (into !== null && typeof into === "object") {
    const i = into as Record<string, unknown>
    if ((i["position"] !== null && i["position"] !== undefined) || (i["expr"] !== null && i["expr"] !== undefined)) {
      return "SELECT … INTO"
    }
  }
  for (const key of Object.keys(record)) {
    const found = findWrite(record[key], depth + 1)
    if (found) return found
  }
  return undefined
}

const checkParse = (sql: string, dialect: Dialect): Either.Either<void, string> => {
  let ast: AST | Array<AST>
  try {
    ast = parserFor(dialect).astify(sql, { database: parserDatabase[dialect] })
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error)
    return Either.left(
      `the ${dialectName[dialect]} SQL parser could not read it (${detail}). ` +
        "Queries are only run when they can be verified as a single SELECT; " +
        "for syntax the parser does not know, create a view in the database and SELECT from the view"
    )
  }
  const statements = Array.isArray(ast) ? ast : [ast]
  if (statements.length !== 1) return Either.left("it contains more than one statement")
  const statement = statements[0]!
  if (statement.type !== "select") {
    return Either.left(`it is a ${String(statement.type).toUpperCase()} statement; only a single SELECT is allowed`)
  }
  const write = findWrite(statement)
  if (write) return Either.left(`it contains ${write}; only reading queries are allowed`)
  return Either.void
}

/**
 * Checks a configured query and rewrites its `:from`/`:to` parameters into the dialect's
 * placeholders (`$1`/`$2` on PostgreSQL, `@1`/`@2` on SQL Server, `?` per occurrence on
 * MySQL and SQLite).
 *
 * @since 0.1.0 @category constructors
 */
export const prepare = (
  dialect: Dialect,
  sql: string,
  query: string
): Either.Either<PreparedQuery, QueryRefused> => {
  const refuse = (reason: string) => Either.left(new QueryRefused({ query, reason }))
  // Where the server may or may not treat a backslash as an escape, both readings must pass.
  const readings = dialect === "pg" || dialect === "mysql" ? [dialect === "mysql", dialect !== "mysql"] : [false]
  let tokens: ReadonlyArray<Token> | undefined
  for (const backslashEscapes of readings) {
    const checked = checkTokens(sql, dialect, backslashEscapes)
    if (Either.isLeft(checked)) return refuse(checked.left)
    tokens ??= checked.right
  }
  const parsed = checkParse(sql, dialect)
  if (Either.isLeft(parsed)) return refuse(parsed.left)

  const style = placeholder[dialect]
  const parameters: Array<ParameterName> = []
  let text = ""
  // a trailing semicolon would make some drivers expect a second statement
  const code = tokens!.filter((t) => t.kind !== "ws" && t.kind !== "comment")
  const trailing = code[code.length - 1]!.kind === "semicolon" ? code[code.length - 1] : undefined
  for (const t of tokens!) {
    if (t === trailing) continue
    if (t.kind === "param") {
      const name = t.name as ParameterName
      let index = style.reusable ? parameters.indexOf(name) : -1
      if (index < 0) {
        parameters.push(name)
        index = parameters.length - 1
      }
      text += style.text(index)
    } else {
      text += t.text
    }
  }
  return Either.right({ dialect, text, parameters })
}
