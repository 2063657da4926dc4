/**
 * The guard's second check: `node-sql-parser` in the query's dialect must read the text as a
 * single SELECT whose tree holds no writing statement, no `SELECT … INTO`, no locking clause and
 * no forbidden function.
 *
 * @internal
 */
import * as Either from "effect/Either"
import { createRequire } from "node:module"
import type { AST, Parser } from "node-sql-parser"
import type { Dialect } from "./dialect.js"
import { dialectName } from "./dialect.js"
import { isForbiddenFunction } from "./denyList.js"

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

/** A function's name in node-sql-parser's tree (a string, or `{ name: [{ value }], schema }`), without its schema. */
const functionName = (name: unknown): string | undefined => {
  if (typeof name === "string") return name.split(".").pop()
  if (name === null || typeof name !== "object") return undefined
  const parts = (name as { name?: unknown }).name
  if (!Array.isArray(parts) || parts.length === 0) return undefined
  const last = parts[parts.length - 1] as { value?: unknown } | string
  return typeof last === "string" ? last : typeof last.value === "string" ? last.value : undefined
}

/**
 * Finds a writing statement, a SELECT … INTO, a locking clause or a forbidden function
 * anywhere in the parsed tree.
 */
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
  if (type === "function") {
    const name = functionName(record["name"])
    if (name !== undefined && isForbiddenFunction(name)) return `the function ${name}`
  }
  const locking = record["locking_read"]
  if (locking !== null && locking !== undefined && locking !== "") return "a locking clause"
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

export const checkParse = (sql: string, dialect: Dialect): Either.Either<void, string> => {
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

