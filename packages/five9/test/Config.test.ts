/**
 * The config is checked when it is set, not when the first import runs: URLs are http(s) URLs
 * with a host, the host a host name, enums literal unions that list their values, numbers in
 * their ranges; each refusal names the field.
 */
import { ConnectorRegistry } from "@acd-bridge/core"
import type { Errors } from "@acd-bridge/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { Five9 } from "../src/index.js"

const good = { username: "api.user@example.com", password: "s3cret" }

const configure = (config: unknown) =>
  Effect.gen(function*() {
    const registered = yield* (yield* ConnectorRegistry.ConnectorRegistry).get("five9")
    return registered.configure(config)
  }).pipe(
    Effect.provide(ConnectorRegistry.layer(Five9.make()).pipe(Layer.provide([FetchHttpClient.layer, Five9.layer])))
  )

const refuse = (config: unknown) =>
  Effect.map(configure(config), (r) => Option.getOrThrow(Either.getLeft(r)) as Errors.InvalidConfig)

describe("Five9 config", () => {
  it("decodes with its defaults and a redacted password", () => {
    const c = Schema.decodeUnknownSync(Five9.Config)(good)
    assert.strictEqual(c.host, "api.five9.com")
    assert.strictEqual(c.timezone, "America/Los_Angeles")
    assert.strictEqual(c.callLog.folder, "Call Log Reports")
    assert.strictEqual(c.callLog.queueColumn, "CAMPAIGN")
    assert.strictEqual(c.agentStates.report, "Agent State Details")
    assert.strictEqual(c.maxRows, 50_000)
    assert.strictEqual(c.maxContactSpanHours, 4)
    assert.strictEqual(c.shortAbandonSeconds, 5)
    assert.strictEqual(c.agentStates.loggedOut, "Logged Out")
    assert.isTrue(Redacted.isRedacted(c.password))
  })

  it.effect("a good config with every option decodes", () =>
    Effect.gen(function*() {
      const result = yield* configure({
        ...good,
        baseUrl: "https://five9.proxy.example:8443/base",
        host: "api.eu.five9.com",
        adminApiVersion: "v9_5",
        callLog: { folder: "Shared Reports (injixo)", report: "Call Log with Skills", queueColumn: "SKILL", channel: "calls" },
        agentStates: { loggedOut: false, sessions: false },
        maxContactSpanHours: 6,
        shortAbandonSeconds: 5,
        serviceLevelSeconds: 20
      })
      assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left.message : "")
    }))

  it.effect("URLs, hosts and versions are checked, naming the field", () =>
    Effect.gen(function*() {
      for (const baseUrl of ["ftp://five9.example", "not a url", "https://", "api.five9.com"]) {
        const e = yield* refuse({ ...good, baseUrl })
        assert.strictEqual(e.field, "baseUrl", baseUrl)
        assert.match(e.reason, /http/)
      }
      for (const host of ["https://api.five9.com", "api.five9.com/wsadmin", "api five9"]) {
        const e = yield* refuse({ ...good, host })
        assert.strictEqual(e.field, "host", host)
      }
      const version = yield* refuse({ ...good, adminApiVersion: "13" })
      assert.strictEqual(version.field, "adminApiVersion")
      assert.match(version.reason, /v13/)
      const user = yield* refuse({ ...good, username: "api:user" })
      assert.strictEqual(user.field, "username")
      assert.match(user.reason, /":"/)
    }))

  it.effect("enums list their values; numbers stay in their ranges", () =>
    Effect.gen(function*() {
      const channel = yield* refuse({ ...good, callLog: { channel: "phone" } })
      assert.strictEqual(channel.field, "callLog.channel")
      assert.match(channel.reason, /must be one of "calls", "chats"/)
      const kinds = yield* refuse({ ...good, import: ["contacts", "states"] })
      assert.match(kinds.field ?? "", /^import/)
      assert.match(kinds.reason, /"contacts", "agentStatuses"/)
      for (
        const [field, value] of [
          ["maxContactSpanHours", 0],
          ["maxContactSpanHours", 100],
          ["shortAbandonSeconds", -1],
          ["serviceLevelSeconds", 100_000],
          ["maxRows", 1],
          ["operationsLimitBackoffSeconds", 0]
        ] as const
      ) {
        const e = yield* refuse({ ...good, [field]: value })
        assert.strictEqual(e.field, field, `${field} ${value}`)
      }
      const days = yield* refuse({ ...good, agentStates: { sessions: { searchDays: 0 } } })
      assert.match(days.field ?? "", /^agentStates\.sessions/)
      assert.match(days.reason, /between 1 and 366|searchDays/)
    }))

  it.effect("logged-out time needs the login sessions report", () =>
    Effect.gen(function*() {
      const e = yield* refuse({ ...good, agentStates: { sessions: false } })
      assert.match(e.field ?? "", /^agentStates/)
      assert.match(e.reason, /loggedOut/)
    }))
})
