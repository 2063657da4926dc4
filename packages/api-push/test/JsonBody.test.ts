import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import { JsonBody } from "../src/index.js"

const leftOf = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isRight(either)) throw new Error(`expected a failure, got ${JSON.stringify(either.right)}`)
  return either.left
}

/** Nesting of `value`: 0 for a scalar, 1 for `[]` or `{}`. */
const depthOf = (value: unknown): number =>
  typeof value === "object" && value !== null
    ? 1 + Math.max(0, ...Object.values(value).map(depthOf))
    : 0

describe("JsonBody.parseText", () => {
  it("reads what JSON.parse reads, for any JSON value within the depth limit", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
        const text = JSON.stringify(value)
        const parsed = JsonBody.parseText(text)
        return Either.isRight(parsed) && JSON.stringify(parsed.right) === text
      }),
      { numRuns: 1_000 }
    )
  })

  it("refuses nesting deeper than maxDepth, before building anything", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 8 }), (value, maxDepth) => {
        const parsed = JsonBody.parseText(JSON.stringify(value), { maxDepth })
        return Either.isRight(parsed) === depthOf(value) <= maxDepth
      }),
      { numRuns: 1_000 }
    )
    const error = leftOf(JsonBody.parseText(`{"a":[{"b":${"[".repeat(200_000)}${"]".repeat(200_000)}}]}`))
    assert.strictEqual(error._tag, "MalformedBody")
    assert.match(error.message, /nested deeper than 64 levels \(at a\.0\.b/)
    assert.isTrue(Either.isRight(JsonBody.parseText(`${"[".repeat(64)}${"]".repeat(64)}`)))
    assert.isTrue(Either.isLeft(JsonBody.parseText(`${"[".repeat(65)}${"]".repeat(65)}`)))
  })

  it("refuses a key twice in one object, naming it and its path (escaped spellings included)", () => {
    const cases: Array<[string, string]> = [
      [`{"a":1,"a":2}`, "a"],
      [`{"data":[{"x":1},{"p":{"d":-5,"d":1}}]}`, "data.1.p.d"],
      [`{"a":1,"\\u0061":2}`, "a"],
      [`{"k\\"q":1,"k\\u0022q":2}`, "k\"q"],
      [`{${Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(",")},"k39":0}`, "k39"]
    ]
    for (const [text, field] of cases) {
      const error = leftOf(JsonBody.parseText(text))
      assert.deepStrictEqual([error._tag, error._tag === "MalformedBody" ? error.field : undefined], ["MalformedBody", field], text)
      assert.match(error.message, /duplicate key/)
    }
    // the same key in sibling and nested objects is fine
    assert.isTrue(Either.isRight(JsonBody.parseText(`[{"a":1},{"a":2,"b":{"a":3}}]`)))
  })

  it("refuses half of a surrogate pair in any string, with the path to it", () => {
    const units = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }).map((codes) => String.fromCharCode(...codes))
    fc.assert(
      fc.property(units, (s) => {
        const parsed = JsonBody.parseText(JSON.stringify({ data: [{ q: s }] }))
        const lone = /\p{Cs}/u.test(s)
        if (!lone) return Either.isRight(parsed)
        return Either.isLeft(parsed) && parsed.left._tag === "MalformedText" && JSON.stringify(parsed.left.path) === "[\"data\",0,\"q\"]"
      }),
      { numRuns: 2_000 }
    )
    // raw (unescaped) halves, as a host may pass a JS string, and halves in keys
    const raw = leftOf(JsonBody.parseText(`{"a":["ok","x\ud800y"]}`))
    assert.deepStrictEqual([raw._tag, raw._tag === "MalformedText" ? raw.path : undefined], ["MalformedText", ["a", 1]])
    const key = leftOf(JsonBody.parseText(`{"a":{"\\udc00":1}}`))
    assert.deepStrictEqual([key._tag, key._tag === "MalformedText" ? key.path : undefined], ["MalformedText", ["a"]])
    assert.isTrue(Either.isRight(JsonBody.parseText(`{"a":"\\ud83c\\udfa7 \ud83c\udfa7"}`)))
  })

  it("leaves syntax errors to JSON.parse, as MalformedBody", () => {
    for (const text of ["", "  ", "{", "{\"a\":}", "[1,]", "\"unterminated", "{\"a\":\"\\u12\"}", "nul"]) {
      assert.strictEqual(leftOf(JsonBody.parseText(text))._tag, "MalformedBody", text)
    }
  })
})

describe("JsonBody.parse", () => {
  it("refuses bytes that are not UTF-8, saying where", () => {
    const cases: Array<[Array<number>, number]> = [
      [[0x7b, 0xff, 0x7d], 1],
      [[0x22, 0xc0, 0xaf, 0x22], 1],
      [[0x22, 0x61, 0xed, 0xa0, 0x80, 0x22], 2],
      [[0x22, 0xe2, 0x82, 0x22], 1],
      [[0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1]
    ]
    for (const [bytes, offset] of cases) {
      const error = leftOf(JsonBody.parse(new Uint8Array(bytes)))
      assert.strictEqual(error._tag, "MalformedBody")
      assert.include(error.message, `offset ${offset}`)
    }
    const ok = Either.getOrThrow(JsonBody.parse(new TextEncoder().encode(`{"q":"Ünïcødé 🎧"}`)))
    assert.deepStrictEqual(ok.json, { q: "Ünïcødé 🎧" })
    // a leading byte order mark is dropped (RFC 8259 lets a reader ignore it)
    const bom = Either.getOrThrow(JsonBody.parse(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(`{"q":1}`)])))
    assert.deepStrictEqual(bom.json, { q: 1 })
    const afterBom = leftOf(JsonBody.parse(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0xff, 0x7d])))
    assert.include(afterBom.message, "offset 4")
  })
})
