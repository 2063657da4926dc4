/**
 * Turns the failure to decode a connector config into one issue a person can act on: the
 * path of the field and what is wrong with it. Keys the schema does not know are refused at
 * every level (a typo would otherwise decode and silently leave the default in place), with
 * the closest known key suggested; a value outside a set of literals (or an enum) lists the
 * allowed values. A value at or inside a secret is never shown.
 *
 * @internal
 */
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type { ParseOptions } from "effect/SchemaAST"
import * as AST from "effect/SchemaAST"

/** Decode options for configs: every issue, and keys the schema doesn't know are errors. */
export const strict: ParseOptions = { errors: "all", onExcessProperty: "error" }

/** What is wrong with a config: where (absent for the config as a whole) and why. */
export interface ConfigIssue {
  readonly field?: string
  readonly reason: string
}

/**
 * The edit distance of two strings (Levenshtein: insertions, deletions, substitutions), with
 * one row of memory. Keys are short, so the quadratic time doesn't matter.
 */
export const distance = (a: string, b: string): number => {
  if (a === b) return 0
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The candidate closest to `word` (ignoring case), when it is close enough to be the likely
 * intent: at most a third of the longer word's letters apart (at least one).
 */
export const closest = (word: string, candidates: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  if (best === undefined) return undefined
  return bestDistance <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined
}

// ---------------------------------------------------------------------------
// walking the schema
// ---------------------------------------------------------------------------

const maxDepth = 50

/** The schemas one path step leads to on the encoded (input) side. */
const encodedChildren = (ast: AST.AST, key: PropertyKey, depth = 0): ReadonlyArray<AST.AST> => {
  if (depth > maxDepth) return []
  switch (ast._tag) {
    case "TypeLiteral": {
      const property = ast.propertySignatures.find((p) => p.name === key)
      return property ? [property.type] : ast.indexSignatures.map((s) => s.type)
    }
    case "TupleType": {
      const index = typeof key === "number" ? key : Number(key)
      const element = Number.isInteger(index) ? ast.elements[index] : undefined
      return element ? [element.type] : ast.rest.map((r) => r.type)
    }
    case "Transformation":
      return encodedChildren(ast.from, key, depth + 1)
    case "Refinement":
      return encodedChildren(ast.from, key, depth + 1)
    case "Union":
      return ast.types.flatMap((t) => encodedChildren(t, key, depth + 1))
    case "Suspend":
      return encodedChildren(ast.f(), key, depth + 1)
    default:
      return []
  }
}

/** The schemas at `path` on the encoded side (several where unions branch). */
const encodedAt = (ast: AST.AST, path: ReadonlyArray<PropertyKey>): ReadonlyArray<AST.AST> =>
  path.reduce<ReadonlyArray<AST.AST>>((level, key) => level.flatMap((a) => encodedChildren(a, key)), [ast])

/** The members a schema stands for, through unions, refinements, transformations (input side). */
const members = (ast: AST.AST, depth = 0): ReadonlyArray<AST.AST> => {
  if (depth > maxDepth) return []
  switch (ast._tag) {
    case "Union":
      return ast.types.flatMap((t) => members(t, depth + 1))
    case "Refinement":
    case "Transformation":
      return members(ast.from, depth + 1)
    case "Suspend":
      return members(ast.f(), depth + 1)
    default:
      return [ast]
  }
}

/** The property names the structs at these schemas know, in declaration order. */
const keysOf = (asts: ReadonlyArray<AST.AST>): ReadonlyArray<string> => {
  const keys = new Set<string>()
  for (const member of asts.flatMap((a) => members(a))) {
    if (member._tag !== "TypeLiteral") continue
    for (const p of member.propertySignatures) if (typeof p.name === "string") keys.add(p.name)
  }
  return Array.from(keys)
}

type LiteralValue = string | number | boolean | bigint | null

/** The allowed values when every member is a literal or an enum (an optional's `undefined` aside). */
const literalsOf = (asts: ReadonlyArray<AST.AST>): ReadonlyArray<LiteralValue> | undefined => {
  const values: Array<LiteralValue> = []
  for (const member of asts.flatMap((a) => members(a))) {
    if (member._tag === "UndefinedKeyword") continue
    if (member._tag === "Literal") values.push(member.literal)
    else if (member._tag === "Enums") for (const [, value] of member.enums) values.push(value)
    else return undefined
  }
  return values.length > 0 ? Array.from(new Set(values)) : undefined
}

const isRedactedAst = (ast: AST.AST, seen: Set<AST.AST>): boolean => {
  if (seen.has(ast)) return false
  seen.add(ast)
  switch (ast._tag) {
    case "Declaration":
      return Option.exists(AST.getTypeConstructorAnnotation(ast), (t) => t._tag === "effect/Redacted")
    case "Transformation":
      return isRedactedAst(ast.to, seen) || isRedactedAst(ast.from, seen)
    case "Refinement":
      return isRedactedAst(ast.from, seen)
    case "Union":
      return ast.types.some((t) => isRedactedAst(t, seen))
    case "Suspend":
      return isRedactedAst(ast.f(), seen)
    default:
      return false
  }
}

/** The schemas a path step can lead to (both sides of transformations, every union member). */
const anyChildren = (ast: AST.AST, key: PropertyKey, depth = 0): ReadonlyArray<AST.AST> => {
  if (depth > maxDepth) return []
  switch (ast._tag) {
    case "TypeLiteral":
    case "TupleType":
      return encodedChildren(ast, key, depth)
    case "Transformation":
      return [...anyChildren(ast.from, key, depth + 1), ...anyChildren(ast.to, key, depth + 1)]
    case "Refinement":
      return anyChildren(ast.from, key, depth + 1)
    case "Union":
      return ast.types.flatMap((t) => anyChildren(t, key, depth + 1))
    case "Suspend":
      return anyChildren(ast.f(), key, depth + 1)
    default:
      return []
  }
}

/** Whether the value at `path` is, or sits inside, a `Redacted` field of the schema. */
export const isSecretPath = (ast: AST.AST, path: ReadonlyArray<PropertyKey>): boolean => {
  let level: ReadonlyArray<AST.AST> = [ast]
  for (const key of path) {
    if (level.some((a) => isRedactedAst(a, new Set()))) return true
    level = level.flatMap((a) => anyChildren(a, key))
    if (level.length === 0) return false
  }
  return level.some((a) => isRedactedAst(a, new Set()))
}

/** The encoded config with every value at or inside a secret replaced by `"<redacted>"`. */
export const hideSecrets = (ast: AST.AST, value: unknown, path: ReadonlyArray<PropertyKey> = []): unknown => {
  if (isSecretPath(ast, path)) return "<redacted>"
  if (Array.isArray(value)) return value.map((v, i) => hideSecrets(ast, v, [...path, i]))
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideSecrets(ast, v, [...path, k])]))
  }
  return value
}

// ---------------------------------------------------------------------------
// the issue
// ---------------------------------------------------------------------------

const fieldOf = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")

const show = (value: unknown): string => {
  const text = typeof value === "bigint" ? `${value}` : JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (at, key) => (at !== null && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[key] : undefined),
    input
  )

const startsWith = (path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey>): boolean =>
  prefix.length <= path.length && prefix.every((k, i) => path[i] === k)

type Issue = ParseResult.ParseIssue

const childrenOf = (issue: ParseResult.Composite): ReadonlyArray<Issue> =>
  Array.isArray(issue.issues) ? (issue.issues as ReadonlyArray<Issue>) : [issue.issues as Issue]

/** The input isn't of the member's kind at all (an object given where `undefined` or a string is expected). */
const wrongKind = (issue: Issue): boolean => {
  switch (issue._tag) {
    case "Type":
      return true
    case "Refinement":
      return issue.kind === "From" && wrongKind(issue.issue)
    case "Transformation":
      return issue.kind === "Encoded" && wrongKind(issue.issue)
    default:
      return false
  }
}

/** Leaf issues under `issue`, and how many of them are keys the schema lacks or misses. */
const fit = (issue: Issue): { readonly misfits: number; readonly leaves: number } => {
  switch (issue._tag) {
    case "Composite": {
      let misfits = 0
      let leaves = 0
      for (const child of childrenOf(issue)) {
        const f = fit(child)
        misfits += f.misfits
        leaves += f.leaves
      }
      return { misfits, leaves }
    }
    case "Pointer":
    case "Refinement":
    case "Transformation":
      return fit(issue.issue)
    case "Unexpected":
    case "Missing":
      return { misfits: 1, leaves: 1 }
    default:
      return { misfits: 0, leaves: 1 }
  }
}

/** Whether member issue `a` fits the input better than `b`. */
const fitsBetter = (a: Issue, b: Issue): boolean => {
  const kindA = wrongKind(a), kindB = wrongKind(b)
  if (kindA !== kindB) return kindB
  const fa = fit(a), fb = fit(b)
  return fa.misfits < fb.misfits || (fa.misfits === fb.misfits && fa.leaves < fb.leaves)
}

/**
 * The issue with every failed union reduced to the member the input fits best (of its kind,
 * then fewest unknown or missing keys, then fewest problems). Without it, a config meant for
 * one member of an untagged union is also reported against every other member: its keys show
 * as "unknown" there.
 */
export const bestMembers = (issue: Issue): Issue => {
  switch (issue._tag) {
    case "Composite": {
      const children = childrenOf(issue).map(bestMembers)
      if (issue.ast._tag === "Union" && children.length > 1) {
        return children.reduce((best, child) => (fitsBetter(child, best) ? child : best))
      }
      const [first, ...rest] = children
      return new ParseResult.Composite(issue.ast, issue.actual, rest.length === 0 ? first! : [first!, ...rest], issue.output)
    }
    case "Pointer":
      return new ParseResult.Pointer(issue.path, issue.actual, bestMembers(issue.issue))
    case "Refinement":
      return new ParseResult.Refinement(issue.ast, issue.actual, issue.kind, bestMembers(issue.issue))
    case "Transformation":
      return new ParseResult.Transformation(issue.ast, issue.actual, issue.kind, bestMembers(issue.issue))
    default:
      return issue
  }
}

/**
 * One issue for a config that failed to decode with `strict`: the first unknown key (naming
 * the others), else the first other issue. An optional field that failed also reports
 * "Expected undefined" at its own path; that echo is dropped when a deeper or sibling issue
 * says what is actually wrong.
 */
export const describe = (ast: AST.AST, input: unknown, error: ParseResult.ParseError): ConfigIssue => {
  const issues = ParseResult.ArrayFormatter.formatIssueSync(bestMembers(error.issue))
  const unknown = issues.filter((i) => i._tag === "Unexpected" && i.path.length > 0)
  if (unknown.length > 0) {
    const first = unknown[0]!
    const key = first.path[first.path.length - 1]!
    const known = keysOf(encodedAt(ast, first.path.slice(0, -1)))
    const suggestion = typeof key === "string" ? closest(key, known) : undefined
    const others = unknown.slice(1).map((i) => fieldOf(i.path))
    const reason = [
      suggestion !== undefined
        ? `unknown key; did you mean "${suggestion}"?`
        : known.length > 0
        ? `unknown key; the keys here are: ${known.join(", ")}`
        : "unknown key",
      others.length > 0 ? `also unknown: ${others.join(", ")}` : undefined
    ].filter((s) => s !== undefined).join("; ")
    return { field: fieldOf(first.path), reason }
  }
  const meaningful = issues.filter((i) =>
    !(i._tag === "Type" && i.message.startsWith("Expected undefined, actual") &&
      issues.some((other) => other !== i && startsWith(other.path, i.path)))
  )
  const first = meaningful[0] ?? issues[0]
  if (!first) return { reason: error.message }
  const field = first.path.length > 0 ? { field: fieldOf(first.path) } : {}
  if (isSecretPath(ast, first.path)) return { ...field, reason: "is not a valid secret (the value is not shown)" }
  if (first._tag === "Type") {
    const allowed = literalsOf(encodedAt(ast, first.path))
    if (allowed !== undefined) {
      const actual = valueAt(input, first.path)
      const suggestion = typeof actual === "string"
        ? closest(actual, allowed.filter((v): v is string => typeof v === "string"))
        : undefined
      return {
        ...field,
        reason: `must be one of ${allowed.map(show).join(", ")} (got ${show(actual)})${
          suggestion !== undefined ? `; did you mean ${show(suggestion)}?` : ""
        }`
      }
    }
  }
  return { ...field, reason: first.message }
}
