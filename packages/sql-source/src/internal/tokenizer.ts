/**
 * A SQL tokenizer that knows, per dialect, where strings, quoted identifiers and comments
 * begin and end. It errs towards "this is code": a construct it is not sure about is left
 * visible to the guard rather than hidden inside a comment or a string.
 */
import type { Dialect } from "./dialect.js"

/** @internal */
export type TokenKind =
  | "ws"
  | "comment"
  | "word"
  | "quotedIdent"
  | "string"
  | "number"
  | "param"
  | "placeholder"
  | "semicolon"
  | "op"

/** @internal */
export interface Token {
  readonly kind: TokenKind
  readonly text: string
  readonly start: number
  /** for `param`: the parameter name without the colon, lower-cased */
  readonly name?: string
}

/** @internal */
export interface TokenizeOptions {
  /**
   * Whether a backslash escapes the next character inside ordinary '…' (and, for MySQL,
   * "…") literals. MySQL does this unless NO_BACKSLASH_ESCAPES; PostgreSQL only when
   * standard_conforming_strings is off. The guard tokenizes both ways where a server may
   * do either.
   */
  readonly backslashEscapes: boolean
}

/** @internal */
export class TokenizeError {
  constructor(readonly reason: string, readonly position: number) {}
}

const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c)
const isWordPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c)
const isDigit = (c: string) => c >= "0" && c <= "9"
const isSpace = (c: string) => /\s/.test(c)

/** @internal */
export const tokenize = (
  sql: string,
  dialect: Dialect,
  options: TokenizeOptions
): ReadonlyArray<Token> | TokenizeError => {
  const tokens: Array<Token> = []
  const n = sql.length
  let i = 0
  const push = (kind: TokenKind, start: number, end: number, name?: string) => {
    tokens.push(name === undefined ? { kind, text: sql.slice(start, end), start } : {
      kind,
      text: sql.slice(start, end),
      start,
      name
    })
  }

  /** end index (exclusive) of a quoted run starting at `start` (the opening quote) */
  const quoted = (start: number, close: string, backslash: boolean): number | TokenizeError => {
    let j = start + 1
    while (j < n) {
      const c = sql[j]!
      if (backslash && c === "\\") {
        j += 2
        continue
      }
      if (c === close) {
        if (sql[j + 1] === close) {
          j += 2
          continue
        }
        return j + 1
      }
      j++
    }
    return new TokenizeError(`a quoted text opened with ${sql[start]} is never closed`, start)
  }

  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1] ?? ""

    if (isSpace(c)) {
      let j = i + 1
      while (j < n && isSpace(sql[j]!)) j++
      push("ws", i, j)
      i = j
      continue
    }

    // line comments
    const mysqlDashComment = dialect === "mysql"
      ? c === "-" && next === "-" && (i + 2 >= n || isSpace(sql[i + 2]!) || sql.charCodeAt(i + 2) < 32)
      : c === "-" && next === "-"
    if (mysqlDashComment || (dialect === "mysql" && c === "#")) {
      let j = i
      while (j < n && sql[j] !== "\n" && sql[j] !== "\r") j++
      push("comment", i, j)
      i = j
      continue
    }

    // block comments: nested in PostgreSQL and SQL Server, flat in MySQL and SQLite
    if (c === "/" && next === "*") {
      if (dialect === "mysql" && sql[i + 2] === "!") {
        return new TokenizeError("MySQL executable comments (/*! … */) are not allowed", i)
      }
      const nests = dialect === "pg" || dialect === "mssql"
      let depth = 1
      let j = i + 2
      while (j < n && depth > 0) {
        if (nests && sql[j] === "/" && sql[j + 1] === "*") {
          depth++
          j += 2
        } else if (sql[j] === "*" && sql[j + 1] === "/") {
          depth--
          j += 2
        } else {
          j++
        }
      }
      if (depth > 0) return new TokenizeError("a comment opened with /* is never closed", i)
      push("comment", i, j)
      i = j
      continue
    }

    // PostgreSQL escape strings E'…' (backslash escapes always on)
    if (dialect === "pg" && (c === "E" || c === "e") && next === "'" && !isWordPart(sql[i - 1] ?? " ")) {
      const end = quoted(i + 1, "'", true)
      if (end instanceof TokenizeError) return end
      push("string", i, end)
      i = end
      continue
    }

    // PostgreSQL Unicode escapes: identifiers U&"…" and strings U&'…' (the backslash there
    // starts a code point, never escapes a quote)
    if (
      dialect === "pg" && (c === "U" || c === "u") && next === "&" && (sql[i + 2] === "\"" || sql[i + 2] === "'") &&
      !isWordPart(sql[i - 1] ?? " ")
    ) {
      const quote = sql[i + 2]!
      const end = quoted(i + 2, quote, false)
      if (end instanceof TokenizeError) return end
      push(quote === "\"" ? "quotedIdent" : "string", i, end)
      i = end
      continue
    }

    if (c === "'") {
      const end = quoted(i, "'", options.backslashEscapes)
      if (end instanceof TokenizeError) return end
      push("string", i, end)
      i = end
      continue
    }

    if (c === "\"") {
      // a string in MySQL (unless ANSI_QUOTES), an identifier elsewhere
      const isString = dialect === "mysql"
      const end = quoted(i, "\"", isString && options.backslashEscapes)
      if (end instanceof TokenizeError) return end
      push(isString ? "string" : "quotedIdent", i, end)
      i = end
      continue
    }

    if (c === "`" && (dialect === "mysql" || dialect === "sqlite")) {
      const end = quoted(i, "`", false)
      if (end instanceof TokenizeError) return end
      push("quotedIdent", i, end)
      i = end
      continue
    }

    if (c === "[" && (dialect === "mssql" || dialect === "sqlite")) {
      const end = quoted(i, "]", false)
      if (end instanceof TokenizeError) return end
      push("quotedIdent", i, end)
      i = end
      continue
    }

    if (c === "$") {
      if (dialect === "pg") {
        const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i))
        if (m) {
          const tag = m[0]
          const close = sql.indexOf(tag, i + tag.length)
          if (close < 0) return new TokenizeError(`a dollar-quoted text opened with ${tag} is never closed`, i)
          push("string", i, close + tag.length)
          i = close + tag.length
          continue
        }
      }
      if (isDigit(next) || (dialect === "sqlite" && isWordStart(next))) {
        let j = i + 1
        while (j < n && isWordPart(sql[j]!)) j++
        push("placeholder", i, j)
        i = j
        continue
      }
      push("op", i, i + 1)
      i++
      continue
    }

    if (c === ":") {
      if (next === ":") {
        push("op", i, i + 2)
        i += 2
        continue
      }
      if (isWordStart(next)) {
        let j = i + 1
        while (j < n && isWordPart(sql[j]!)) j++
        push("param", i, j, sql.slice(i + 1, j).toLowerCase())
        i = j
        continue
      }
      push("op", i, i + 1)
      i++
      continue
    }

    if (c === "?" && dialect !== "pg") {
      let j = i + 1
      while (j < n && isDigit(sql[j]!)) j++
      push("placeholder", i, j)
      i = j
      continue
    }

    if (c === "@" && dialect !== "pg") {
      let j = i + 1
      while (j < n && (sql[j] === "@" || isWordPart(sql[j]!))) j++
      push("placeholder", i, j)
      i = j
      continue
    }

    if (c === ";") {
      push("semicolon", i, i + 1)
      i++
      continue
    }

    if (isDigit(c) || (c === "." && isDigit(next))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i))!
      push("number", i, i + m[0].length)
      i += m[0].length
      continue
    }

    if (isWordStart(c)) {
      let j = i + 1
      while (j < n && isWordPart(sql[j]!)) j++
      push("word", i, j)
      i = j
      continue
    }

    push("op", i, i + 1)
    i++
  }
  return tokens
}

/** 1-based line and column of an offset, for messages. @internal */
export const lineColumn = (sql: string, offset: number): { line: number; column: number } => {
  const before = sql.slice(0, offset)
  const lines = before.split("\n")
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 }
}
