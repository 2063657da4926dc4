/**
 * A connector over `FakeSource`, for examples and tests of the engine: it reaches the source
 * through its `R` (provide `FakeSource.layer(...)` to the registry layer), reads windows in
 * pages, has a live feed with positions, and reports credentials in `check`.
 *
 * Over a source in scenario mode it counts as `docs/counting.md` says: it reads the records of
 * `[from, to + maxContactSpan)` (a contact's legs come up to the maximum contact span after its
 * queue entry, in later windows), and emits one contact event per queue visit that entered its
 * queue in `[from, to)`, at that instant, at that queue, with the talk, hold and after-call
 * work of the visit's agent legs (consult legs count nowhere). So every visit counts exactly
 * once, whole, however the range is cut into windows. (The records carry their own instants;
 * a source that keys every record of a contact by the contact's start would need the read
 * behind `from` instead.)
 *
 * ```ts
 * const Registry = ConnectorRegistry.layer(FakeConnector.connector).pipe(Layer.provide(FakeSource.layer({ seed: 1 })))
 * yield* integrations.create(tenantId, { name: "Fake", connector: "fake", config: FakeConnector.config })
 * ```
 *
 * @since 0.1.0
 */
import { Connector } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { FakeSource } from "./FakeSource.js"
import type { LegRecord, SourceRecord, VisitRecord } from "./FakeSource.js"

/**
 * The fake connector's config: the API key is a secret.
 *
 * @since 0.1.0 @category models
 */
export const Config = Schema.Struct({
  apiKey: Schema.Redacted(Schema.String.pipe(Schema.minLength(4))),
  /** an optional account name, only shown */
  account: Schema.optional(Schema.NonEmptyTrimmedString),
  /** the longest a contact lasts from its start, in hours (default 4): how far past a window's end its legs are read */
  maxContactSpanHours: Schema.optional(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(48)))
})

/** @since 0.1.0 @category models */
export type Config = typeof Config.Type

/**
 * The connector (key `"fake"`).
 *
 * @since 0.1.0 @category connectors
 */
export const connector = Connector.make({
  key: "fake",
  displayName: "Fake ACD (testkit)",
  deliveryModes: ["cloud", "on-premise"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: Config,
  pull: (config, window) =>
    Stream.unwrap(Effect.map(FakeSource, (source) => {
      const from = window.from.epochMillis
      const to = window.to.epochMillis
      const read = source.read(config.apiKey, { from, to })
      if (source.scenario === undefined) return read
      const spanMs = (config.maxContactSpanHours ?? 4) * 3_600_000
      const visits = Stream.runCollect(source.records(config.apiKey, { from, to: to + spanMs })).pipe(
        Effect.map((pages) => visitEvents(Chunk.toReadonlyArray(pages).flat(), from, to)),
        Effect.map((contacts): Domain.Batch => ({ contacts, aggregates: [], statuses: [] }))
      )
      return Stream.concat(read, Stream.fromEffect(visits))
    })),
  realtime: (config, position) => Stream.unwrap(Effect.map(FakeSource, (source) => source.live(config.apiKey, position))),
  check: (config) => Effect.flatMap(FakeSource, (source) => source.verify(config.apiKey))
})

/** One contact event per visit record that entered its queue in [from, to), with its agent legs. */
const visitEvents = (records: ReadonlyArray<SourceRecord>, from: number, to: number): Array<Domain.ContactEvent> => {
  const legs = new Map<string, Array<LegRecord>>()
  const visits: Array<VisitRecord> = []
  for (const r of records) {
    if (r.kind === "visit") {
      if (r.at >= from && r.at < to) visits.push(r)
    } else if (r.legKind === "agent") {
      const key = `${r.contactId}|${r.visit}`
      const list = legs.get(key)
      if (list) list.push(r)
      else legs.set(key, [r])
    }
  }
  return visits.map((v) => {
    let talkMs = 0, holdMs = 0, afterCallWorkMs = 0
    for (const l of legs.get(`${v.contactId}|${v.visit}`) ?? []) {
      talkMs += l.talkMs
      holdMs += l.holdMs
      afterCallWorkMs += l.afterCallWorkMs
    }
    const handled = v.outcome === "answered"
    return {
      queueIdentifier: v.queueIdentifier,
      queueName: v.queueName,
      channel: v.channel,
      timestamp: DateTime.unsafeMake(v.at),
      offered: true,
      handled,
      durationMs: handled ? talkMs + holdMs + afterCallWorkMs : v.waitMs,
      talkMs,
      holdMs,
      afterCallWorkMs,
      waitMs: v.waitMs,
      abandoned: v.outcome === "abandoned",
      shortAbandoned: v.shortAbandoned,
      breakout: v.outcome === "breakout"
    }
  })
}

/** A config the fake source accepts by default (encoded form). @since 0.1.0 @category fixtures */
export const config = { apiKey: "fake-secret" } as const

/** A config whose key the fake source rejects. @since 0.1.0 @category fixtures */
export const badCredentials = { apiKey: "wrong-key" } as const
