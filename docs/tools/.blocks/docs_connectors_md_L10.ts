import { Connector } from "@acd-bridge/core"

export const connector = Connector.make({
  key: "acme",                          // lowercase, digits, dashes; integrations refer to it
  displayName: "Acme Cloud ACD",
  deliveryModes: ["cloud"],             // "cloud" (the engine reads) and/or "on-premise" (the link agent reads)
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: AcmeConfig,             // Schema: JSON in, typed config out
  settleDelay: "3 minutes",             // how long after an interval closes its figures are final
  historyLimitDays: 400,                // how far back the source keeps data
  pull: (config, window) => ...,        // Stream<Batch, ConnectorError, R>
  realtime: (config, position) => ...,  // optional: Stream<RealtimeBatch, ConnectorError, R>
  check: (config) => ...                // Effect<CheckReport, never, R>
})

export {}
