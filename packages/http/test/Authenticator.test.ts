import { ConnectorRegistry, Engine, Storage } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Config from "effect/Config"
import { Authenticator, Security } from "../src/index.js"

const engine = Engine.layer.pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer())))

const build = (layer: Layer.Layer<Authenticator.Authenticator, unknown, never>) =>
  Effect.exit(Effect.scoped(Layer.build(layer)))

const failureOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

describe("Authenticator: the admin token is checked with a clear error", () => {
  it.effect("a missing token (an unset environment variable) fails with InvalidAdminToken, not a TypeError", () =>
    Effect.gen(function*() {
      // what `Redacted.make(process.env.ADMIN_TOKEN!)` gives when the variable is unset
      const unset = Redacted.make(undefined as unknown as string)
      const exit = yield* build(Authenticator.layer({ adminToken: unset, tenantId: "acme" }).pipe(Layer.provide(engine)))
      const failure = failureOf(exit)
      assert.isTrue(Option.isSome(failure), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "built")
      const error = Option.getOrThrow(failure) as Authenticator.InvalidAdminToken
      assert.strictEqual(error._tag, "InvalidAdminToken")
      assert.match(error.message, /no admin token/)
    }))

  it.effect("a short token fails with InvalidAdminToken saying the minimum", () =>
    Effect.gen(function*() {
      const exit = yield* build(
        Authenticator.layer({ adminToken: Redacted.make("short"), tenantId: "acme" }).pipe(Layer.provide(engine))
      )
      const error = Option.getOrThrow(failureOf(exit)) as Authenticator.InvalidAdminToken
      assert.match(error.message, /at least 16 characters/)
      assert.notInclude(error.message, "short")
    }))

  it.effect("layerConfig names the missing variable", () =>
    Effect.gen(function*() {
      const exit = yield* build(
        Authenticator.layerConfig({
          adminToken: Config.redacted("ACD_BRIDGE_ADMIN_TOKEN"),
          tenantId: Config.succeed("acme")
        }).pipe(Layer.provide(engine), Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map()))))
      )
      const failure = failureOf(exit)
      assert.isTrue(Option.isSome(failure))
      assert.include(String(failure.pipe(Option.getOrThrow)), "ACD_BRIDGE_ADMIN_TOKEN")
    }))
})

describe("Security.layerMetrics: the metrics token is checked with a clear error", () => {
  const authenticator = Authenticator.layer({ adminToken: Redacted.make("an-admin-token-of-some-length"), tenantId: "acme" })
    .pipe(Layer.provide(engine))

  it.effect("a short metrics token fails with InvalidMetricsToken (typed, not a defect) and doesn't print it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.scoped(Layer.build(Security.layerMetrics({ token: Redacted.make("tiny-token") }).pipe(Layer.provide(authenticator))))
      )
      const failure = failureOf(exit)
      assert.isTrue(Option.isSome(failure), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "built")
      const error = Option.getOrThrow(failure) as Security.InvalidMetricsToken
      assert.strictEqual(error._tag, "InvalidMetricsToken")
      assert.match(error.message, /at least 16 characters \(it has 10\)/)
      assert.notInclude(error.message, "tiny-token")
    }))

  it.effect("a token of 16 characters builds", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.scoped(Layer.build(Security.layerMetrics({ token: Redacted.make("x".repeat(16)) }).pipe(Layer.provide(authenticator))))
      )
      assert.isTrue(Exit.isSuccess(exit), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")
    }))
})
