import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"

type Props = Record<string, Record<string, unknown>>

const propertiesOf = (schema: Schema.Schema.AnyNoContext): Props =>
  ConnectorRegistry.configJsonSchema(schema)["properties"] as Props

describe("connector settings in the config's JSON Schema", () => {
  it("a described setting keeps its description, its default and its filter's keywords", () => {
    const config = Schema.Struct({
      pageSize: Connector.settingWithDefault(Schema.Int.pipe(Schema.between(1, 500)), 100, "Rows per page."),
      region: Schema.String.pipe(Connector.describeSetting("The data centre's region."))
    })
    const properties = propertiesOf(config)
    const { title: _title, ...pageSize } = properties["pageSize"]!
    assert.deepStrictEqual(pageSize, { type: "integer", description: "Rows per page.", minimum: 1, maximum: 500, default: 100 })
    assert.strictEqual(properties["region"]!["description"], "The data centre's region.")
    // the default applies when the setting is missing, and the filter still refuses a bad value
    const decode = Schema.decodeUnknownEither(config)
    assert.deepStrictEqual(decode({ region: "eu" }), Either.right({ pageSize: 100, region: "eu" }))
    assert.isTrue(Either.isLeft(decode({ region: "eu", pageSize: 0 })))
  })

  it("a described secret is write-only and keeps its own description", () => {
    const config = Schema.Struct({
      password: Schema.Redacted(Schema.NonEmptyString).pipe(Connector.describeSetting("The API user's password.")),
      token: Schema.Redacted(Schema.String).annotations({ description: "A bearer token.", title: "Token" })
    })
    const properties = propertiesOf(config)
    assert.strictEqual(properties["password"]!["writeOnly"], true)
    assert.strictEqual(properties["password"]!["description"], "The API user's password.")
    assert.strictEqual(properties["password"]!["minLength"], 1)
    assert.strictEqual(properties["token"]!["writeOnly"], true)
    assert.strictEqual(properties["token"]!["description"], "A bearer token.")
    assert.strictEqual(properties["token"]!["title"], "Token")
  })

  it("a failed filter still says what is allowed, not the setting's description", () => {
    const config = Schema.Struct({
      pageSize: Connector.settingWithDefault(Schema.Int.pipe(Schema.between(1, 500)), 100, "Rows per page.")
    })
    const result = Schema.decodeUnknownEither(config)({ pageSize: 900 })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      const text = String(result.left.message)
      assert.include(text, "between 1 and 500")
      assert.notInclude(text, "Rows per page.")
    }
  })
})
