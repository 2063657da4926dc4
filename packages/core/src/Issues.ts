/**
 * What a failed decoding of a request says (push records, admin bodies, query parameters):
 * the path of its first issue and a message. Where the issues at that path are alternatives
 * (`"calls" | "chats" | …`), the message names every one of them ("must be one of …"), not
 * only the first, which is all `ArrayFormatter`'s first issue says.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"

/**
 * An issue as `ParseResult.ArrayFormatter` (and the platform's `HttpApiDecodeError`) give it.
 *
 * @since 0.1.0 @category models
 */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const expected = /^Expected (.+), actual (.+)$/s

/**
 * The first issue, with every alternative at its path named.
 *
 * @since 0.1.0 @category formatting
 */
export const describeIssues = (issues: ReadonlyArray<Issue>): Issue | undefined => {
  const head = issues[0]
  if (head === undefined) return undefined
  const first: Issue = { path: head.path, message: head.message }
  const samePath = (p: ReadonlyArray<PropertyKey>) => p.length === first.path.length && p.every((k, i) => k === first.path[i])
  const alternatives: Array<string> = []
  let actual: string | undefined
  for (const issue of issues) {
    if (!samePath(issue.path)) continue
    const match = expected.exec(issue.message)
    if (match === null) return first
    actual ??= match[2]
    // an optional field also "expects undefined": not something a client sends
    for (const alternative of match[1]!.split(" | ")) {
      if (alternative !== "undefined" && !alternatives.includes(alternative)) alternatives.push(alternative)
    }
  }
  if (alternatives.length < 2) return first
  return { path: first.path, message: `must be one of ${alternatives.join(", ")}; got ${actual}` }
}

/**
 * `describeIssues` for a `ParseError`.
 *
 * @since 0.1.0 @category formatting
 */
export const describe = (error: ParseResult.ParseError): Issue =>
  describeIssues(ParseResult.ArrayFormatter.formatErrorSync(error)) ?? { path: [], message: error.message }

/**
 * A path as a field name: `data.3.properties`.
 *
 * @since 0.1.0 @category formatting
 */
export const fieldOf = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")
