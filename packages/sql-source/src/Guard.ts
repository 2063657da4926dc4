/**
 * The read-only guard: a configured query is accepted only when it is one reading statement
 * (`SELECT …` or `WITH … SELECT …`), and its `:from`/`:to` parameters are turned into the
 * driver's bound placeholders. Nothing is ever spliced into the SQL text.
 *
 * Two independent checks must both pass:
 *
 * 1. a dialect-aware tokenizer (strings, quoted identifiers, nested or flat comments, dollar
 *    quotes, `U&"…"`, MySQL `#` and `-- ` comments, backslash escapes tokenized both ways
 *    where the server may use either). First an allow-list of the statement's shape: exactly
 *    one statement, a SELECT or `WITH name AS (…), … SELECT`, each WITH query itself a
 *    SELECT/WITH/VALUES/TABLE (no data-modifying WITH). Then what may not appear anywhere:
 *    writing, session and procedure keywords as unquoted words; locking clauses (`FOR
 *    UPDATE/SHARE`, SQL Server lock hints, `NEXT VALUE FOR`); placeholders other than `:from`
 *    and `:to`; and — under any spelling of the name: quoted, escaped, in any case, qualified
 *    by a schema — the functions with side effects in `forbiddenFunctions`;
 * 2. `node-sql-parser` with the same dialect: the text must parse to a single `select`
 *    whose tree contains no writing statement, no `SELECT … INTO`, no locking clause and no
 *    forbidden function.
 *
 * The server then runs it read-only where it can, and `check` reports a login that could do
 * more than read (see the README): the guard is not the only line.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { Dialect } from "./internal/dialect.js"

export type { Dialect } from "./internal/dialect.js"
export {
  forbiddenFunctionPatterns,
  forbiddenFunctions,
  forbiddenWords,
  isForbiddenFunction
} from "./internal/denyList.js"
import { placeholder } from "./internal/dialect.js"
import { forbiddenWords, isForbiddenFunction, lockHints } from "./internal/denyList.js"
import { checkParse } from "./internal/parseCheck.js"
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

/** The next token that is neither whitespace nor a comment. */
const nextCode = (tokens: ReadonlyArray<Token>, index: number): Token | undefined => {
  for (let j = index + 1; j < tokens.length; j++) {
    const t = tokens[j]!
    if (t.kind !== "ws" && t.kind !== "comment") return t
  }
  return undefined
}

const wordOf = (t: Token | undefined): string | undefined => t?.kind === "word" ? t.text.toLowerCase() : undefined

/** The text between a quoted run's delimiters, doubled delimiters undone. */
const unquote = (text: string, open: string, close: string): string =>
  text.slice(open.length, text.length - close.length).split(close + close).join(close)

/**
 * Decodes a PostgreSQL `U&"…"` identifier: `\XXXX` and `\+XXXXXX` are code points, the
 * escape character doubled is itself; `UESCAPE 'c'` after it picks another escape
 * character. `undefined` when the escapes are malformed (the server refuses those).
 */
const decodeUnicodeIdentifier = (inner: string, escape: string): string | undefined => {
  let out = ""
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!
    if (c !== escape) {
      out += c
      continue
    }
    if (inner[i + 1] === escape) {
      out += escape
      i++
      continue
    }
    const long = inner[i + 1] === "+"
    const hex = long ? inner.slice(i + 2, i + 8) : inner.slice(i + 1, i + 5)
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== (long ? 6 : 4)) return undefined
    const code = parseInt(hex, 16)
    if (code > 0x10ffff) return undefined
    out += String.fromCodePoint(code)
    i += long ? 7 : 4
  }
  return out
}

/**
 * The name an identifier token stands for, as the server resolves it — unquoted, with its
 * escapes decoded — lower-cased (PostgreSQL's quoted names are case-sensitive, but refusing
 * `"DBLINK_EXEC"` too costs nothing). MySQL `"…"` strings count as well: under `ANSI_QUOTES`
 * they are identifiers. `undefined` for tokens that name nothing.
 */
const identifierName = (
  tokens: ReadonlyArray<Token>,
  index: number,
  dialect: Dialect
): string | undefined => {
  const t = tokens[index]!
  const text = t.text
  if (t.kind === "word") return text.toLowerCase()
  if (t.kind === "quotedIdent") {
    if (/^u&"/i.test(text)) {
      const after = nextCode(tokens, index)
      const clause = wordOf(after) === "uescape" ? nextCode(tokens, tokens.indexOf(after!)) : undefined
      const escape = clause?.kind === "string" ? unquote(clause.text, "'", "'") : "\\"
      // malformed escapes: the server refuses the query, and so does the parser
      return (decodeUnicodeIdentifier(unquote(text.slice(2), "\"", "\""), escape) ?? text).toLowerCase()
    }
    const open = text[0]!
    const close = open === "[" ? "]" : open
    return unquote(text, open, close).toLowerCase()
  }
  if (t.kind === "string" && dialect === "mysql" && text.startsWith("\"")) return unquote(text, "\"", "\"").toLowerCase()
  return undefined
}

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

/** The index of the ")" closing the "(" at `open`, or -1. */
const closing = (code: ReadonlyArray<Token>, open: number): number => {
  let depth = 0
  for (let j = open; j < code.length; j++) {
    if (code[j]!.text === "(") depth++
    else if (code[j]!.text === ")" && --depth === 0) return j
  }
  return -1
}

/** the first word inside a parenthesised query, past any further "(" */
const firstWordFrom = (code: ReadonlyArray<Token>, index: number): string => {
  let j = index
  while (code[j]?.text === "(") j++
  return wordOf(code[j]) ?? code[j]?.text ?? "nothing"
}

/**
 * The allowed shape of the statement, on the code tokens (no whitespace or comments): a
 * SELECT, or `WITH [RECURSIVE] name [(columns)] AS [[NOT] MATERIALIZED] (query), …` followed
 * by a SELECT, where each WITH query is itself a SELECT, a WITH, `VALUES` or `TABLE` — never a
 * data-modifying statement. Leading parentheses are allowed around the statement.
 */
const checkShape = (code: ReadonlyArray<Token>): string | undefined => {
  let k = 0
  while (code[k]?.text === "(") k++
  const first = wordOf(code[k])
  if (first === "select") return undefined
  if (first !== "with") return `it must start with SELECT or WITH, not ${JSON.stringify(code[k]?.text ?? "")}`
  k++
  if (wordOf(code[k]) === "recursive") k++
  for (;;) {
    const name = code[k]
    if (name?.kind !== "word" && name?.kind !== "quotedIdent") return "each WITH query must have a name"
    k++
    if (code[k]?.text === "(") {
      const end = closing(code, k)
      if (end < 0) return "its parentheses are not balanced"
      k = end + 1
    }
    if (wordOf(code[k]) !== "as") return `the WITH query ${name.text} must be followed by AS (…)`
    k++
    if (wordOf(code[k]) === "not") k++
    if (wordOf(code[k]) === "materialized") k++
    if (code[k]?.text !== "(") return `the WITH query ${name.text} must be followed by AS (…)`
    const end = closing(code, k)
    if (end < 0) return "its parentheses are not balanced"
    const inner = firstWordFrom(code, k + 1)
    if (inner !== "select" && inner !== "with" && inner !== "values" && inner !== "table") {
      return `the WITH query ${name.text} is ${JSON.stringify(inner.toUpperCase())}, not a SELECT: ` +
        "data-modifying WITH queries are not allowed"
    }
    k = end + 1
    if (code[k]?.text !== ",") break
    k++
  }
  const main = firstWordFrom(code, k)
  if (main !== "select") {
    return `after its WITH queries it must be a SELECT, not ${JSON.stringify(main.toUpperCase())}`
  }
  return undefined
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
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!
    const name = identifierName(tokens, k, dialect)
    if (name !== undefined && isForbiddenFunction(name)) {
      return Either.left(
        `it uses ${name} at ${where(sql, t.start)}, a function with side effects outside the query ` +
          "(or that runs SQL the guard does not see); it is refused however its name is quoted or qualified"
      )
    }
    if (t.kind === "word") {
      const word = t.text.toLowerCase()
      if (word === "for") {
        const lock = wordOf(nextCode(tokens, k))
        if (lock === "update" || lock === "share" || lock === "no" || lock === "key") {
          return Either.left(
            `it has a locking clause (FOR ${lock.toUpperCase()}…) at ${where(sql, t.start)}: ` +
              "a reporting query must not lock rows"
          )
        }
      }
      if (word === "next" && wordOf(nextCode(tokens, k)) === "value") {
        return Either.left(
          `it uses NEXT VALUE FOR at ${where(sql, t.start)}: it advances a sequence, which a rollback does not undo`
        )
      }
      if (dialect === "mssql" && lockHints.has(word)) {
        return Either.left(
          `it uses the table hint ${t.text.toUpperCase()} at ${where(sql, t.start)}: a reporting query must not ` +
            "take or hold locks"
        )
      }
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
  const shape = checkShape(body)
  if (shape !== undefined) return Either.left(shape)
  return Either.right(tokens)
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
