import { Connector, ConnectorRegistry, Domain, Engine, Ingest, Integrations, Intervals, Principal } from "@acd-bridge/core"
import { SqlStorage } from "@acd-bridge/sql-storage"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

const push = Connector.make({
  key: "api-push",
  displayName: "Push API",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: Schema.Struct({})
})
const tenantId = Domain.TenantId.make("demo")

const program = Effect.gen(function*() {
  const { integration } = yield* (yield* Integrations.Integrations).create(tenantId, { name: "ACD", connector: "api-push" })
  const contacts = ["09:02", "09:14", "09:20"].map((t) => ({
    queueIdentifier: "1337_99",
    queueName: "Level 1 support",
    channel: "calls" as const,
    timestamp: DateTime.unsafeMake(`2026-03-02T${t}:00Z`),
    offered: true,
    handled: true,
    durationMs: 200_100
  }))
  yield* (yield* Ingest.Ingest).push(Principal.Admin({ tenantId }), integration.id, { ...Domain.emptyBatch, contacts })
  return yield* (yield* Intervals.Intervals).query(tenantId, {
    from: DateTime.unsafeMake("2026-03-02T00:00:00Z"),
    to: DateTime.unsafeMake("2026-03-03T00:00:00Z"),
    length: 15,
    timezone: "Europe/Berlin"
  })
})

const HostLayer = Engine.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(SqlStorage.layerSqlite({ filename: "./acd-bridge.sqlite" }), ConnectorRegistry.layer(push))
  )
)

Effect.runPromise(program.pipe(Effect.provide(HostLayer))).then((rows) => console.table(rows))
// 10:00+01:00 offered 2, handled 2, AHT 200.1 s; 10:15+01:00 offered 1 …

export {}
