import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { parse } from "../src/LinkConfig.js"

const valid = `engine:
  url: https://engine.example.com
  token: acdl_secretsecretsecret
outbox: /var/lib/acd-link/outbox.sqlite
integrations:
  - id: int-1
    connector: sql
    config:
      dialect: postgres
      password: hunter2
`

describe("LinkConfig", () => {
  it("reads YAML and JSON, with defaults, the token kept redacted", () => {
    const yaml = Either.getOrThrow(parse("link.yaml", valid))
    assert.strictEqual(yaml.engine.url, "https://engine.example.com")
    assert.strictEqual(Redacted.value(yaml.engine.token), "acdl_secretsecretsecret")
    assert.notInclude(String(yaml.engine.token), "secret")
    assert.strictEqual(yaml.wait, 30)
    assert.strictEqual(yaml.partSize, 5_000)
    assert.strictEqual(yaml.watchSeconds, 10)
    assert.deepStrictEqual(yaml.integrations[0]?.config, { dialect: "postgres", password: "hunter2" })
    const json = Either.getOrThrow(parse("link.json", JSON.stringify({
      engine: { url: "http://127.0.0.1:8080", token: "acdl_x" },
      integrations: [{ id: "a", connector: "csv", config: {} }]
    })))
    assert.strictEqual(json.outbox, "./acd-link-outbox.sqlite")
  })

  it("names the key and its line for every problem, and never prints the token", () => {
    const bad = valid
      .replace("https://engine.example.com", "engine.example.com")
      .replace("acdl_secretsecretsecret", "wrong-secret-value")
      .replace("connector: sql", "connector: oracle")
    const error = Either.getLeft(parse("link.yaml", bad))
    assert.isTrue(error._tag === "Some")
    const message = error._tag === "Some" ? error.value.message : ""
    assert.include(message, "link.yaml is not a valid link configuration")
    assert.include(message, "line 2: engine.url: must be an http(s) URL")
    assert.include(message, "line 3: engine.token: must be a link token (acdl_…)")
    assert.match(message, /line 7: integrations\.0\.connector: .*"csv"/)
    assert.notInclude(message, "wrong-secret-value")
  })

  it("reports a YAML syntax error with its line", () => {
    const error = Either.getLeft(parse("link.yaml", "engine:\n  url: [unclosed\n"))
    assert.isTrue(error._tag === "Some" && /line \d+:/.test(error.value.message))
  })
})
