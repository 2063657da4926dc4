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
import { Issues } from "@acd-bridge/core"
import * as Either from "effect/Either"
import { isUtf8 } from "node:buffer"
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
 * dropped). Validated by `node:buffer`'s `isUtf8` (SIMD) and decoded by `Buffer`: about a
 * third cheaper than a fatal `TextDecoder`, which this replaced (push bench profile).
 *
 * @since 0.1.0 @category decoding
 */
export const decodeUtf8 = (bytes: Uint8Array): Either.Either<string, MalformedBody> => {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.length - bom)
  if (isUtf8(buffer)) return Either.right(buffer.toString("utf8"))
  return Either.left(
    new MalformedBody({ reason: `the body is not UTF-8 (the byte at offset ${bom + firstInvalidByte(buffer)} is invalid); send UTF-8` })
  )
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

/**
 * Where the scan is: an object (the keys seen so far, the current one) or an array (the
 * current index). Keys are kept as hashes with their place in the text and only compared as
 * text when two hashes meet, so a scan creates no strings for well-formed bodies.
 */
interface Frame {
  object: boolean
  /** in an object, whether the next string is a key */
  expectKey: boolean
  index: number
  /** the current key: its text (an escaped key) or its span in the body */
  keyText: string | undefined
  keyStart: number
  keyEnd: number
  /** hash, start and end of every key seen, three entries per key */
  seen: Array<number>
  /** the text of escaped keys, by their start */
  escapedKeys: Map<number, string> | undefined
}

const fieldOf = Issues.fieldOf

const hexValue = (text: string, at: number): number => {
  const value = Number.parseInt(text.slice(at, at + 4), 16)
  return Number.isNaN(value) ? -1 : value
}

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/** The outcome of reading one string: where it ends, and what it held. */
interface StringScan {
  end: number
  hash: number
  escaped: boolean
  /** half of a surrogate pair without its partner */
  bad: boolean
}

/**
 * Reads the string that starts after the quote at `start`: its closing quote, a hash of its
 * raw text, whether it holds escapes, whether it is well-formed UTF-16. `end` is the text's
 * length when the string is not terminated.
 */
const readString = (text: string, start: number, out: StringScan): void => {
  const n = text.length
  let hash = 0
  let j = start
  out.escaped = false
  out.bad = false
  // the common case: no escape, no surrogate
  for (; j < n; j++) {
    const c = text.charCodeAt(j)
    if (c === QUOTE) {
      out.end = j
      out.hash = hash
      return
    }
    if (c === BACKSLASH || (c & 0xf800) === 0xd800) break
    hash = (Math.imul(hash, 31) + c) | 0
  }
  let pendingHigh = false
  for (; j < n; j++) {
    let unit = text.charCodeAt(j)
    if (unit === QUOTE) break
    if (unit === BACKSLASH) {
      out.escaped = true
      j++
      if (text.charCodeAt(j) === LOWER_U) {
        unit = hexValue(text, j + 1)
        j += 4
      } else {
        unit = 0
      }
    }
    if ((unit & 0xf800) === 0xd800) {
      if (unit <= 0xdbff) {
        if (pendingHigh) out.bad = true
        pendingHigh = true
      } else if (pendingHigh) {
        pendingHigh = false
      } else {
        out.bad = true
      }
    } else if (pendingHigh) {
      out.bad = true
    }
    if (out.bad) break
  }
  if (pendingHigh && !out.bad && j < n) out.bad = true
  out.end = j
  out.hash = hash
}

const keyOf = (frame: Frame, text: string): string =>
  frame.keyText ?? text.slice(frame.keyStart, frame.keyEnd)

/** The path to where the scan is, from the body's root. */
const pathOf = (stack: ReadonlyArray<Frame>, depth: number, text: string): Array<string | number> => {
  const path: Array<string | number> = []
  for (let d = 0; d < depth; d++) {
    const frame = stack[d]!
    path.push(frame.object ? keyOf(frame, text) : frame.index)
  }
  return path
}

/** Records the current key of `frame`; false when the object had it already. */
const addKey = (frame: Frame, text: string, hash: number): boolean => {
  const seen = frame.seen
  for (let k = 0; k < seen.length; k += 3) {
    if (seen[k] !== hash) continue
    const start = seen[k + 1]!
    const other = frame.escapedKeys?.get(start) ?? text.slice(start, seen[k + 2])
    if (other === keyOf(frame, text)) return false
  }
  seen.push(hash, frame.keyStart, frame.keyEnd)
  if (frame.keyText !== undefined) (frame.escapedKeys ??= new Map()).set(frame.keyStart, frame.keyText)
  return true
}

const hashOf = (key: string): number => {
  let hash = 0
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0
  return hash
}

/**
 * Checks nesting, duplicate keys and UTF-16 well-formedness in one pass. Syntax errors are
 * left to `JSON.parse`: on text that is not JSON the scan stops quietly or reports what it
 * saw first.
 */
const scan = (text: string, maxDepth: number): MalformedBody | MalformedText | undefined => {
  const stack: Array<Frame> = []
  const str: StringScan = { end: 0, hash: 0, escaped: false, bad: false }
  let depth = 0
  const n = text.length
  let i = 0
  // no backslash and no lone surrogate anywhere (two native scans): every string ends at the
  // next quote and holds nothing to check, so values are skipped with indexOf
  const plain = text.indexOf("\\") === -1 && isWellFormed(text)
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const frame = depth > 0 ? stack[depth - 1]! : undefined
      const isKey = frame !== undefined && frame.object && frame.expectKey
      if (plain && !isKey) {
        const end = text.indexOf("\"", i + 1)
        if (end === -1) return undefined // unterminated: JSON.parse says so
        i = end + 1
        continue
      }
      readString(text, i + 1, str)
      if (str.bad) {
        const path = pathOf(stack, depth, text)
        return new MalformedText({
          path: isKey ? path.slice(0, -1) : path,
          reason: `${isKey ? "a key" : "the text"} is not well-formed UTF-16 (half of a surrogate pair, e.g. an unpaired \\ud800); send Unicode text`
        })
      }
      if (str.end >= n) return undefined // unterminated: JSON.parse says so
      if (isKey) {
        let hash = str.hash
        frame.keyStart = i + 1
        frame.keyEnd = str.end
        frame.keyText = undefined
        if (str.escaped) {
          try {
            frame.keyText = JSON.parse(text.slice(i, str.end + 1)) as string
          } catch {
            return undefined
          }
          hash = hashOf(frame.keyText)
        }
        frame.expectKey = false
        if (!addKey(frame, text, hash)) {
          const key = keyOf(frame, text)
          const path = fieldOf(pathOf(stack, depth, text))
          return new MalformedBody({ reason: `duplicate key "${key}" (at ${path}): send each key once per object`, field: path })
        }
      }
      i = str.end + 1
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth >= maxDepth) {
        const where = fieldOf(pathOf(stack, Math.min(depth, 8), text))
        return new MalformedBody({
          reason: `arrays and objects are nested deeper than ${maxDepth} levels${where === "" ? "" : ` (at ${where}${depth > 8 ? "…" : ""})`}`
        })
      }
      const object = c === OPEN_OBJECT
      const frame = stack[depth]
      if (frame === undefined) {
        stack.push({
          object,
          expectKey: object,
          index: 0,
          keyText: undefined,
          keyStart: 0,
          keyEnd: 0,
          seen: [],
          escapedKeys: undefined
        })
      } else {
        // frames are reused between siblings, so a scan allocates little
        frame.object = object
        frame.expectKey = object
        frame.index = 0
        frame.keyText = undefined
        frame.keyStart = 0
        frame.keyEnd = 0
        frame.seen.length = 0
        frame.escapedKeys = undefined
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
