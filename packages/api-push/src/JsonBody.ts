/**
 * Reading a JSON request body strictly, for the push routes and for any host's JSON routes:
 *
 * - the bytes must be UTF-8 (`JSON.parse` over a lenient decoder would silently turn a bad
 *   byte into U+FFFD and store an identifier the source never sent);
 * - containers may nest at most `maxDepth` levels (default 64), checked before anything is
 *   built, so a hostile body costs a linear scan and nothing more;
 * - a key may appear once per object (`JSON.parse` lets the last one win, so
 *   `"duration":-5,"duration":1` would pass a check the first value fails);
 * - strings, keys included, must be well-formed UTF-16: a `\ud800` escape without its pair is
 *   refused with the path of the value (stores can't keep it: one would be written altered).
 *
 * The scan runs over the text once, before `JSON.parse`, which then builds the value.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** Default deepest nesting of arrays and objects. @since 0.1.0 @category constants */
export const defaultMaxDepth = 64

/**
 * The body can't be read as JSON: not UTF-8, not JSON, nested too deep, or a key twice in one
 * object. `field` is the path of the offending key or container, when there is one.
 *
 * @since 0.1.0 @category errors
 */
export class MalformedBody extends Schema.TaggedError<MalformedBody>()("MalformedBody", {
  reason: Schema.String,
  field: Schema.optional(Schema.String)
}) {
  override get message() {
    return `The request body is not valid JSON: ${this.reason}`
  }
}

/**
 * A string of the body (a value or a key) is not well-formed UTF-16: it holds half of a
 * surrogate pair. `path` leads to the value, from the body's root.
 *
 * @since 0.1.0 @category errors
 */
export class MalformedText extends Schema.TaggedError<MalformedText>()("MalformedText", {
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** @since 0.1.0 @category models */
export interface Options {
  /** Deepest nesting of arrays and objects (the body's root is level 1). Default 64. */
  readonly maxDepth?: number | undefined
}

const fatal = new TextDecoder("utf-8", { fatal: true })

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence. */
const firstInvalidByte = (bytes: Uint8Array): number => {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1
    if (need < 0) return i
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]
      if (c === undefined || (c & 0xc0) !== 0x80) return i
    }
    const second = bytes[i + 1] ?? 0
    // overlong forms, encoded surrogates and code points above U+10FFFF
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second >= 0xa0) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second >= 0x90)) {
      return i
    }
    i += need + 1
  }
  return i
}

/**
 * The bytes as text, refusing anything that is not UTF-8 (a leading byte order mark is
 * dropped).
 *
 * @since 0.1.0 @category decoding
 */
export const decodeUtf8 = (bytes: Uint8Array): Either.Either<string, MalformedBody> => {
  try {
    return Either.right(fatal.decode(bytes))
  } catch {
    return Either.left(
      new MalformedBody({ reason: `the body is not UTF-8 (the byte at offset ${firstInvalidByte(bytes)} is invalid); send UTF-8` })
    )
  }
}

// ---------------------------------------------------------------------------
// the scan
// ---------------------------------------------------------------------------

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c
const LOWER_U = 0x75

/** Where the scan is: an object (its keys so far, the current one) or an array (the current index). */
interface Frame {
  object: boolean
  /** in an object, whether the next string is a key */
  expectKey: boolean
  key: string
  index: number
  keys: Array<string> | undefined
  set: Set<string> | undefined
}

/** The path to where the scan is (frames are reused between values, so a scan allocates little). */
const pathOf = (stack: ReadonlyArray<Frame>, depth: number): Array<string | number> => {
  const path: Array<string | number> = []
  for (let d = 0; d < depth; d++) {
    const frame = stack[d]!
    path.push(frame.object ? frame.key : frame.index)
  }
  return path
}

/** `data.3.properties`: the path as a field name. @since 0.1.0 @category utils */
export const fieldOf = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")

const hexValue = (text: string, at: number): number => {
  const value = Number.parseInt(text.slice(at, at + 4), 16)
  return Number.isNaN(value) ? -1 : value
}

/** Keys seen in one object: a short list, a set once the object is large. */
const addKey = (frame: Frame, key: string): boolean => {
  if (frame.set !== undefined) {
    if (frame.set.has(key)) return false
    frame.set.add(key)
    return true
  }
  const keys = frame.keys ??= []
  for (let k = 0; k < keys.length; k++) if (keys[k] === key) return false
  keys.push(key)
  if (keys.length > 16) frame.set = new Set(keys)
  return true
}

/**
 * Checks nesting, duplicate keys and UTF-16 well-formedness in one pass. Syntax errors are
 * left to `JSON.parse`: on text that is not JSON the scan stops quietly or reports what it
 * saw first.
 */
const scan = (text: string, maxDepth: number): MalformedBody | MalformedText | undefined => {
  const stack: Array<Frame> = []
  let depth = 0
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i + 1
      let j = start
      let escaped = false
      let pendingHigh = false
      let bad = false
      for (; j < n; j++) {
        let unit = text.charCodeAt(j)
        if (unit === QUOTE) break
        if (unit === BACKSLASH) {
          escaped = true
          j++
          if (text.charCodeAt(j) === LOWER_U) {
            unit = hexValue(text, j + 1)
            j += 4
          } else {
            unit = 0
          }
        }
        if (unit >= 0xd800 && unit <= 0xdfff) {
          if (unit <= 0xdbff) {
            if (pendingHigh) bad = true
            pendingHigh = true
          } else if (pendingHigh) {
            pendingHigh = false
          } else {
            bad = true
          }
        } else if (pendingHigh) {
          bad = true
        }
        if (bad) break
      }
      if (pendingHigh && !bad && j < n) bad = true
      const frame = depth > 0 ? stack[depth - 1]! : undefined
      const isKey = frame !== undefined && frame.object && frame.expectKey
      if (bad) {
        const path = pathOf(stack, depth)
        return new MalformedText({
          path: isKey ? path.slice(0, -1) : path,
          reason: `${isKey ? "a key" : "the text"} is not well-formed UTF-16 (half of a surrogate pair, e.g. an unpaired \\ud800); send Unicode text`
        })
      }
      if (j >= n) return undefined // unterminated: JSON.parse says so
      if (isKey) {
        let key: string
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string
          } catch {
            return undefined
          }
        } else {
          key = text.slice(start, j)
        }
        frame.key = key
        frame.expectKey = false
        if (!addKey(frame, key)) {
          const path = pathOf(stack, depth)
          return new MalformedBody({
            reason: `duplicate key "${key}" (at ${fieldOf(path)}): send each key once per object`,
            field: fieldOf(path)
          })
        }
      }
      i = j + 1
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth >= maxDepth) {
        const where = fieldOf(pathOf(stack, Math.min(depth, 8)))
        return new MalformedBody({
          reason: `arrays and objects are nested deeper than ${maxDepth} levels${where === "" ? "" : ` (at ${where}${depth > 8 ? "…" : ""})`}`
        })
      }
      const object = c === OPEN_OBJECT
      const frame = stack[depth]
      if (frame === undefined) {
        stack.push({ object, expectKey: object, key: "", index: 0, keys: undefined, set: undefined })
      } else {
        if (frame.keys !== undefined) frame.keys.length = 0
        frame.object = object
        frame.expectKey = object
        frame.key = ""
        frame.index = 0
        frame.set = undefined
      }
      depth++
      i++
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--
      i++
    } else if (c === COMMA) {
      if (depth > 0) {
        const frame = stack[depth - 1]!
        if (frame.object) frame.expectKey = true
        else frame.index++
      }
      i++
    } else {
      i++
    }
  }
  return undefined
}

/**
 * Parses JSON text strictly (see the module's description).
 *
 * @since 0.1.0 @category decoding
 */
export const parseText = (text: string, options: Options = {}): Either.Either<unknown, MalformedBody | MalformedText> => {
  if (text.trim() === "") return Either.left(new MalformedBody({ reason: "the body is empty; send JSON" }))
  const problem = scan(text, options.maxDepth ?? defaultMaxDepth)
  if (problem !== undefined) return Either.left(problem)
  try {
    return Either.right(JSON.parse(text))
  } catch (error) {
    return Either.left(new MalformedBody({ reason: error instanceof Error ? error.message : String(error) }))
  }
}

/**
 * A request body (bytes, or text a host already decoded) parsed strictly: UTF-8, then
 * `parseText`. Returns the text as well, for hashing (idempotency).
 *
 * @since 0.1.0 @category decoding
 */
export const parse = (
  body: string | Uint8Array,
  options: Options = {}
): Either.Either<{ readonly text: string; readonly json: unknown }, MalformedBody | MalformedText> => {
  const text = typeof body === "string" ? Either.right(body) : decodeUtf8(body)
  if (Either.isLeft(text)) return Either.left(text.left)
  return Either.map(parseText(text.right, options), (json) => ({ text: text.right, json }))
}

// ---------------------------------------------------------------------------
// describing schema failures
// ---------------------------------------------------------------------------

/**
 * What a failed decoding says, at its first issue: the path and a message. Where the issues
 * at that path are alternatives (`"calls" | "chats" | …`), the message names all of them
 * ("must be one of …"), not only the first.
 *
 * @since 0.1.0 @category utils
 */
export const describeIssues = (
  issues: ReadonlyArray<{ readonly _tag?: string; readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>
): { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } | undefined => {
  const head = issues[0]
  if (head === undefined) return undefined
  const first = { path: head.path, message: head.message }
  const samePath = (p: ReadonlyArray<PropertyKey>) => p.length === first.path.length && p.every((k, i) => k === first.path[i])
  const alternatives: Array<string> = []
  let actual: string | undefined
  for (const issue of issues) {
    if (!samePath(issue.path)) continue
    const match = /^Expected (.+), actual (.+)$/s.exec(issue.message)
    if (match === null) return first
    actual ??= match[2]
    // an optional field also "expects undefined": not something a client sends
    for (const expected of match[1]!.split(" | ")) {
      if (expected !== "undefined" && !alternatives.includes(expected)) alternatives.push(expected)
    }
  }
  if (alternatives.length < 2) return first
  return { path: first.path, message: `must be one of ${alternatives.join(", ")}; got ${actual}` }
}

/**
 * `describeIssues` for a `ParseError`.
 *
 * @since 0.1.0 @category utils
 */
export const describe = (error: ParseResult.ParseError): { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } =>
  describeIssues(ParseResult.ArrayFormatter.formatErrorSync(error)) ?? { path: [], message: error.message }
