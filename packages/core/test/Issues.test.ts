import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Issues from "../src/Issues.js"

describe("Issues.describe", () => {
  const schema = Schema.Struct({
    channel: Schema.Literal("calls", "chats", "emails"),
    length: Schema.optional(Schema.Literal("15", "30", "60")),
    id: Schema.Union(Schema.String, Schema.Number)
  })
  const describeOf = (u: unknown) => {
    const result = Schema.decodeUnknownEither(schema)(u)
    if (Either.isRight(result)) throw new Error("expected a failure")
    return Issues.describe(result.left)
  }

  it("names every allowed value of a union, not only the first", () => {
    assert.deepStrictEqual(describeOf({ channel: "fax", id: 1 }), {
      path: ["channel"],
      message: "must be one of \"calls\", \"chats\", \"emails\"; got \"fax\""
    })
    // an optional field's "undefined" is not offered as a choice
    assert.deepStrictEqual(describeOf({ channel: "calls", length: "45", id: 1 }), {
      path: ["length"],
      message: "must be one of \"15\", \"30\", \"60\"; got \"45\""
    })
    assert.strictEqual(describeOf({ channel: "calls", id: true }).message, "must be one of string, number; got true")
  })

  it("keeps any other first issue as it is", () => {
    assert.deepStrictEqual(describeOf({ id: 1 }), { path: ["channel"], message: "is missing" })
    assert.strictEqual(Issues.fieldOf(["data", 3, "properties"]), "data.3.properties")
  })
})
