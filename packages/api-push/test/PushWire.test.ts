import { Bucketing } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import { PushWire } from "../src/index.js"
import * as Validator from "../src/internal/validator.js"

const berlin = Either.getOrThrow(Bucketing.zone("Europe/Berlin"))

const contact = (overrides: Record<string, unknown> = {}) => ({
  properties: { offered: true, handled: true, duration: 200.1 },
  queueName: "Level 1 support",
  queueIdentifier: "1337_99",
  timestamp: "2026-03-29T01:30:00Z",
  channel: "calls",
  ...overrides
})

const leftOf = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isRight(either)) throw new Error("expected a failure")
  return either.left
}

describe("PushWire.decodeMeta and decodeData", () => {
  it("takes the id as a string or a number, compared as a string", () => {
    const fromString = Either.getOrThrow(PushWire.decodeMeta("contactEvents", { data: [1], meta: { integrationConfigurationId: "abc" } }))
    assert.strictEqual(fromString.integrationId, "abc")
    const fromNumber = Either.getOrThrow(PushWire.decodeMeta("agentStatuses", { data: [1], meta: { integrationConfigurationId: 4711 } }))
    assert.strictEqual(fromNumber.integrationId, "4711")
  })

  it("names the envelope field at fault", () => {
    const metaCases: Array<[unknown, string]> = [
      [null, "body"],
      [[], "body"],
      [{ data: [1] }, "meta"],
      [{ data: [1], meta: { integrationConfigurationId: null } }, "meta.integrationConfigurationId"],
      [{ data: [1], meta: { integrationConfigurationId: "" } }, "meta.integrationConfigurationId"],
      [{ data: [1], meta: { integrationConfigurationId: "x", externalSystem: 5 } }, "meta.externalSystem"]
    ]
    for (const [json, field] of metaCases) {
      const error = leftOf(PushWire.decodeMeta("contactEvents", json))
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.strictEqual(error.field, field, JSON.stringify(json))
    }
    const dataCases: Array<unknown> = [
      { meta: { integrationConfigurationId: "x" } },
      { data: {}, meta: { integrationConfigurationId: "x" } },
      { data: [], meta: { integrationConfigurationId: "x" } }
    ]
    for (const json of dataCases) {
      const error = leftOf(PushWire.decodeData("contactEvents", json, berlin))
      assert.deepStrictEqual([error._tag, error._tag === "InvalidRequest" ? error.field : undefined], ["InvalidRequest", "data"])
    }
  })
})

describe("PushWire.decodeContactEvents", () => {
  it("decodes to core contact events with integer milliseconds", () => {
    const events = Either.getOrThrow(PushWire.decodeContactEvents([
      contact(),
      contact({ properties: { offered: true, handled: false, duration: 0.0005 } }),
      contact({ properties: { offered: false, handled: true, duration: 59.9994 }, channel: "social_media" })
    ], berlin))
    assert.deepStrictEqual(events.map((e) => [e.durationMs, e.offered, e.handled, e.channel]), [
      [200_100, true, true, "calls"],
      [1, true, false, "calls"],
      [59_999, false, true, "social_media"]
    ])
    assert.strictEqual(DateTime.formatIso(events[0]!.timestamp), "2026-03-29T01:30:00.000Z")
    assert.strictEqual(events[0]!.queueIdentifier, "1337_99")
    assert.strictEqual(events[0]!.queueName, "Level 1 support")
  })

  it("reads timestamps without offset in the source zone, rejects times in the DST gap", () => {
    const events = Either.getOrThrow(PushWire.decodeContactEvents([
      contact({ timestamp: "2026-03-29T01:30:00" }),
      contact({ timestamp: "2026-03-29T03:30:00" }),
      contact({ timestamp: "2026-10-25T02:30:00" }),
      contact({ timestamp: "2026-10-25T02:30:00+01:00" })
    ], berlin))
    assert.deepStrictEqual(events.map((e) => DateTime.formatIso(e.timestamp)), [
      "2026-03-29T00:30:00.000Z",
      "2026-03-29T01:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:30:00.000Z"
    ])
    const gap = leftOf(PushWire.decodeContactEvents([contact(), contact({ timestamp: "2026-03-29T02:15:00" })], berlin))
    assert.deepStrictEqual([gap._tag === "InvalidRecord" ? gap.index : undefined, gap.field], [1, "timestamp"])
    assert.match(gap.reason, /does not exist in Europe\/Berlin/)
  })

  it("names the index and field of the first bad record", () => {
    const cases: Array<[unknown, string]> = [
      [contact({ properties: { offered: 1, handled: true, duration: 1 } }), "properties.offered"],
      [contact({ properties: { offered: true, handled: true } }), "properties.duration"],
      [contact({ properties: { offered: true, handled: true, duration: -0.5 } }), "properties.duration"],
      [contact({ properties: { offered: true, handled: true, duration: Infinity } }), "properties.duration"],
      [contact({ properties: { offered: true, handled: true, duration: Number.NaN } }), "properties.duration"],
      [contact({ properties: { offered: true, handled: true, duration: PushWire.maxDurationSeconds + 1 } }), "properties.duration"],
      [contact({ channel: "fax" }), "channel"],
      [contact({ channel: "back_office" }), "channel"],
      [contact({ queueIdentifier: "" }), "queueIdentifier"],
      [contact({ queueIdentifier: "q".repeat(256) }), "queueIdentifier"],
      [contact({ queueName: 5 }), "queueName"],
      [contact({ timestamp: "29.03.2026 01:30" }), "timestamp"],
      [contact({ timestamp: "" }), "timestamp"],
      [contact({ properties: "yes" }), "properties"],
      [42, "record"]
    ]
    for (const [bad, field] of cases) {
      const error = leftOf(PushWire.decodeContactEvents([contact(), contact(), bad], berlin))
      assert.strictEqual(error._tag, "InvalidRecord")
      assert.deepStrictEqual([error._tag === "InvalidRecord" ? error.index : undefined, error.field], [2, field], JSON.stringify(bad))
      assert.isNotEmpty(error.reason)
    }
  })

  it("refuses timestamps outside the acceptance window, naming the record", () => {
    const now = Date.parse("2026-03-10T12:00:00Z")
    const w = PushWire.window(now)
    const inside = Either.getOrThrow(PushWire.decodeContactEvents([
      contact({ timestamp: "2021-03-12T00:00:00Z" }),
      contact({ timestamp: "2026-03-11T11:59:59Z" })
    ], berlin, w))
    assert.strictEqual(inside.length, 2)
    const cases: Array<[string, RegExp]> = [
      ["0001-01-01T00:00:00Z", /older than the push API accepts \(more than 5 years before now/],
      ["2021-03-09T00:00:00Z", /older/],
      ["2026-03-11T12:00:01Z", /too far in the future \(more than 1 day after now/],
      ["9999-12-31T23:59:59Z", /future/]
    ]
    for (const [timestamp, reason] of cases) {
      const error = leftOf(PushWire.decodeContactEvents([contact({ timestamp: "2026-03-09T00:00:00Z" }), contact({ timestamp })], berlin, w))
      assert.deepStrictEqual([error._tag === "InvalidRecord" ? error.index : undefined, error.field], [1, "timestamp"], timestamp)
      assert.match(error.reason, reason)
    }
    const narrow = PushWire.window(now, { maxAge: "30 days", maxFuture: "1 hour" })
    const old = leftOf(PushWire.decodeAgentStatuses([{ agentIdentifier: "a", activityIdentifier: "b", startTime: "2026-02-01T00:00:00Z" }], berlin, narrow))
    assert.deepStrictEqual([old.field, /30 days/.test(old.reason)], ["startTime", true])
    const ahead = leftOf(PushWire.decodeAgentStatuses([
      { agentIdentifier: "a", activityIdentifier: "b", startTime: "2026-03-10T12:00:00Z", endTime: "2026-03-10T13:30:00Z" }
    ], berlin, narrow))
    assert.deepStrictEqual([ahead.field, /1 hour/.test(ahead.reason)], ["endTime", true])
  })

  it("keeps names verbatim (unicode, quotes, SQL)", () => {
    const names = ["Ünïcödé 客服 🎧", "'; DROP TABLE queues; --", "  padded  "]
    const events = Either.getOrThrow(PushWire.decodeContactEvents(names.map((queueName) => contact({ queueName })), berlin))
    assert.deepStrictEqual(events.map((e) => e.queueName), names)
  })
})

describe("PushWire.decodeAgentStatuses", () => {
  const status = (overrides: Record<string, unknown> = {}) => ({
    agentIdentifier: "a-7",
    activityIdentifier: "BREAK",
    startTime: "2026-03-02T09:00:00Z",
    endTime: "2026-03-02T09:15:00Z",
    ...overrides
  })

  it("decodes open and closed statuses", () => {
    const decoded = Either.getOrThrow(PushWire.decodeAgentStatuses([
      status(),
      status({ endTime: null }),
      status({ endTime: undefined }),
      status({ startTime: "2026-03-02T10:00:00", endTime: "2026-03-02T10:00:00" })
    ], berlin))
    assert.deepStrictEqual(decoded.map((s) => [DateTime.formatIso(s.start), s.end === null ? null : DateTime.formatIso(s.end)]), [
      ["2026-03-02T09:00:00.000Z", "2026-03-02T09:15:00.000Z"],
      ["2026-03-02T09:00:00.000Z", null],
      ["2026-03-02T09:00:00.000Z", null],
      ["2026-03-02T09:00:00.000Z", "2026-03-02T09:00:00.000Z"]
    ])
  })

  // an end before the start is core's rule (Ingest.validate): see PushApi.test.ts
  it("names the field of a bad status", () => {
    const cases: Array<[unknown, string]> = [
      [status({ agentIdentifier: "" }), "agentIdentifier"],
      [status({ activityIdentifier: 3 }), "activityIdentifier"],
      [status({ startTime: undefined }), "startTime"],
      [status({ endTime: "2026-03-29T02:30:00" }), "endTime"]
    ]
    for (const [bad, field] of cases) {
      const error = leftOf(PushWire.decodeAgentStatuses([status(), bad], berlin))
      assert.deepStrictEqual([error._tag === "InvalidRecord" ? error.index : undefined, error.field], [1, field], JSON.stringify(bad))
    }
  })
})

describe("the predicate compiled from the schemas agrees with them", () => {
  const special = fc.constantFrom<unknown>(
    null, undefined, true, false, 0, -0, -1, Number.POSITIVE_INFINITY, Number.NaN, PushWire.maxDurationSeconds, PushWire.maxDurationSeconds + 0.001,
    "", " ", "a\u0000b", "a\ud800", "\udfff", "🎧", "x".repeat(255), "x".repeat(256), "calls", "back_office", "fax", [], {}, [1],
    { offered: true }
  )
  const value = fc.oneof(special, fc.jsonValue())
  const mutate = <A extends object>(record: A, path: ReadonlyArray<string>, replacement: unknown): unknown => {
    const copy: Record<string, unknown> = { ...(record as Record<string, unknown>) }
    if (path.length === 1) {
      if (replacement === undefined) delete copy[path[0]!]
      else copy[path[0]!] = replacement
      return copy
    }
    copy[path[0]!] = mutate((copy[path[0]!] ?? {}) as object, path.slice(1), replacement)
    return copy
  }
  const check = <A, I>(
    schema: Schema.Schema<A, I>,
    fast: (u: unknown) => boolean,
    paths: ReadonlyArray<ReadonlyArray<string>>
  ) => {
    const valid = Arbitrary.make(schema)
    const decodeUnknown = Schema.decodeUnknownEither(schema)
    // every valid record is accepted by the predicate
    fc.assert(fc.property(valid, (record) => fast(record) && Either.isRight(decodeUnknown(record))), { numRuns: 500 })
    // the predicate accepts exactly what the schema accepts
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(valid, fc.constantFrom(...paths), value).map(([record, path, replacement]) => mutate(record as object, path, replacement)),
          value
        ),
        (candidate) => fast(candidate) === Either.isRight(decodeUnknown(candidate))
      ),
      { numRuns: 3_000 }
    )
  }

  it("compiles the wire schemas itself (no fallback to Schema.is)", () => {
    assert.isTrue(Validator.isCompiled(PushWire.ContactEventsBody.fields.data))
    assert.isTrue(Validator.isCompiled(PushWire.AgentStatusesBody.fields.data))
    assert.isTrue(Validator.isCompiled(PushWire.PushMeta))
  })

  it("for contact events", () => {
    check(PushWire.ContactEventRecord, Validator.compile(PushWire.ContactEventRecord), [
      ["properties"],
      ["properties", "offered"],
      ["properties", "handled"],
      ["properties", "duration"],
      ["queueName"],
      ["queueIdentifier"],
      ["timestamp"],
      ["channel"]
    ])
  })

  it("for agent statuses", () => {
    check(PushWire.AgentStatusRecord, Validator.compile(PushWire.AgentStatusRecord), [
      ["agentIdentifier"],
      ["activityIdentifier"],
      ["startTime"],
      ["endTime"]
    ])
  })
})
