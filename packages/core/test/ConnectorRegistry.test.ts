import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import type { InvalidConfig } from "../src/Errors.js"

enum Region {
  Europe = "eu",
  America = "us"
}

/** A config with nested structs, literals, an enum, a union, a record, a URL and a secret. */
const Config = Schema.Struct({
  source: Schema.Struct({
    url: Schema.URL,
    region: Schema.Enums(Region),
    password: Schema.Redacted(Schema.String)
  }),
  mode: Schema.Literal("full", "delta"),
  contacts: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  statuses: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  everyMinutes: Schema.optional(Schema.Literal(15, 30, 60)),
  filters: Schema.optional(Schema.Struct({
    queues: Schema.Array(Schema.String),
    skills: Schema.optional(Schema.Array(Schema.String))
  })),
  auth: Schema.optional(Schema.Union(
    Schema.Struct({ type: Schema.Literal("basic"), user: Schema.String }),
    Schema.Struct({ type: Schema.Literal("token"), token: Schema.Redacted(Schema.String) })
  )),
  labels: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})

const nested = Connector.make({
  key: "nested",
  displayName: "Nested",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts"],
  configSchema: Config
})

const good = {
  source: { url: "https://acd.example/api", region: "eu", password: "s3cret-pass" },
  mode: "delta"
}

const refuse = (config: unknown) =>
  Effect.gen(function*() {
    const registered = yield* (yield* ConnectorRegistry.ConnectorRegistry).get("nested")
    return Option.getOrThrow(Either.getLeft(registered.configure(config))) as InvalidConfig
  }).pipe(Effect.provide(ConnectorRegistry.layer(nested)))

const accept = (config: unknown) =>
  Effect.gen(function*() {
    const registered = yield* (yield* ConnectorRegistry.ConnectorRegistry).get("nested")
    return Either.isRight(registered.configure(config))
  }).pipe(Effect.provide(ConnectorRegistry.layer(nested)))

describe("ConnectorRegistry: config decoding", () => {
  it.effect("a complete config decodes, with its defaults; records take any key", () =>
    Effect.gen(function*() {
      assert.isTrue(yield* accept(good))
      assert.isTrue(
        yield* accept({
          ...good,
          everyMinutes: 30,
          filters: { queues: ["q1"] },
          auth: { type: "basic", user: "me" },
          labels: { anything: "goes", here: "too" }
        })
      )
    }))

  it.effect("an unknown key is refused by its path, with the closest known key suggested", () =>
    Effect.gen(function*() {
      const typo = yield* refuse({ ...good, contact: false })
      assert.strictEqual(typo.field, "contact")
      assert.match(typo.reason, /unknown key; did you mean "contacts"\?/)
      assert.match(typo.message, /Invalid configuration for connector "nested" at contact: unknown key/)

      const deep = yield* refuse({ ...good, filters: { queus: ["q1"] } })
      assert.strictEqual(deep.field, "filters.queus")
      assert.match(deep.reason, /did you mean "queues"\?/)

      const inSource = yield* refuse({ ...good, source: { ...good.source, regoin: "eu" } })
      assert.strictEqual(inSource.field, "source.regoin")
      assert.match(inSource.reason, /did you mean "region"\?/)

      const inUnion = yield* refuse({ ...good, auth: { type: "basic", user: "me", usr: "me" } })
      assert.strictEqual(inUnion.field, "auth.usr")
      assert.match(inUnion.reason, /did you mean "user"\?/)
    }))

  it.effect("without a close key, the known keys are listed; every unknown key is named", () =>
    Effect.gen(function*() {
      const far = yield* refuse({ ...good, frobnicate: 1 })
      assert.strictEqual(far.field, "frobnicate")
      assert.notMatch(far.reason, /did you mean/)
      assert.match(far.reason, /the keys here are: source, mode, contacts, statuses, everyMinutes, filters, auth, labels/)

      const several = yield* refuse({ ...good, contact: false, source: { ...good.source, pasword: "x" } })
      assert.strictEqual(several.field, "contact")
      assert.match(several.reason, /also unknown: source\.pasword/)
    }))

  it.effect("literals and enums list their allowed values and suggest the closest", () =>
    Effect.gen(function*() {
      const mode = yield* refuse({ ...good, mode: "fll" })
      assert.strictEqual(mode.field, "mode")
      assert.match(mode.reason, /must be one of "full", "delta" \(got "fll"\); did you mean "full"\?/)

      const region = yield* refuse({ ...good, source: { ...good.source, region: "europe" } })
      assert.strictEqual(region.field, "source.region")
      assert.match(region.reason, /must be one of "eu", "us" \(got "europe"\)/)

      const minutes = yield* refuse({ ...good, everyMinutes: 20 })
      assert.strictEqual(minutes.field, "everyMinutes")
      assert.match(minutes.reason, /must be one of 15, 30, 60 \(got 20\)/)

      const tag = yield* refuse({ ...good, auth: { type: "bearer", token: "t" } })
      assert.strictEqual(tag.field, "auth.type")
      assert.match(tag.reason, /must be one of "basic", "token" \(got "bearer"\)/)
    }))

  it.effect("other errors keep the schema's message; secrets are never shown", () =>
    Effect.gen(function*() {
      const url = yield* refuse({ ...good, source: { ...good.source, url: "not a url" } })
      assert.strictEqual(url.field, "source.url")
      assert.notMatch(url.reason, /unknown key/)

      const missing = yield* refuse({ source: good.source })
      assert.strictEqual(missing.field, "mode")
      assert.match(missing.reason, /is missing/)

      const secret = yield* refuse({ ...good, source: { ...good.source, password: 12345, passwrd: "hunter2" } })
      assert.notInclude(secret.message, "12345")
      assert.notInclude(secret.message, "hunter2")
      assert.strictEqual(secret.field, "source.passwrd")
      assert.match(secret.reason, /did you mean "password"\?/)

      const registered = yield* Effect.flatMap(ConnectorRegistry.ConnectorRegistry, (r) => r.get("nested")).pipe(
        Effect.provide(ConnectorRegistry.layer(nested))
      )
      // a stored config with a key this version doesn't know is still shown, without its secrets
      const shown = registered.redact({ ...good, contact: false })
      assert.deepStrictEqual(shown, {
        source: { url: "https://acd.example/api", region: "eu", password: "<redacted>" },
        mode: "delta",
        contacts: true,
        statuses: true
      })
      const decoded = Either.getOrThrow(Schema.decodeUnknownEither(Config)(good))
      assert.strictEqual(Redacted.value(decoded.source.password), "s3cret-pass")
    }))
})

describe("ConnectorRegistry: configs with untagged unions", () => {
  /** A connection given either as a URL or as a file: no literal tells the members apart. */
  const Untagged = Schema.Struct({
    connection: Schema.Union(
      Schema.Struct({ url: Schema.String, password: Schema.optional(Schema.Redacted(Schema.String)) }),
      Schema.Struct({ filename: Schema.String, readOnly: Schema.optional(Schema.Boolean) })
    )
  })
  const untagged = Connector.make({
    key: "untagged",
    displayName: "Untagged",
    deliveryModes: ["cloud"],
    dataKinds: ["contacts"],
    configSchema: Untagged
  })
  const issue = (config: unknown) => Option.getOrThrow(Either.getLeft(ConnectorRegistry.decodeConfig(untagged, config)))

  it("a typo in one member is reported against that member, not as the other member's keys", () => {
    const error = issue({ connection: { filename: "/data/x.sqlite", readOnyl: true } })
    assert.strictEqual(error.field, "connection.readOnyl")
    assert.include(error.reason, `did you mean "readOnly"`)
    assert.notInclude(error.reason, "filename")
  })

  it("a wrong value in the member that fits is reported as that value's problem", () => {
    const error = issue({ connection: { filename: "/data/x.sqlite", readOnly: "yes" } })
    assert.strictEqual(error.field, "connection.readOnly")
    assert.notInclude(error.reason, "unknown key")
  })
})
