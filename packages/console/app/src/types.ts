/**
 * The admin API's answers as the console reads them: the views of `@acd-bridge/http`'s `Api`
 * (instants are ISO-8601 text on the wire). Kept by hand because the app is browser code that
 * must not pull the server's packages into its bundle.
 */

export type DeliveryMode = "cloud" | "on-premise"
export type DataKind = "contacts" | "agentStatuses"
export type IntegrationStatus = "active" | "paused" | "deleted"
export type Schedule = { readonly type: "historical"; readonly everyMinutes: 15 | 30 | 60 } | { readonly type: "realtime" }

export interface Integration {
  readonly id: string
  readonly name: string
  readonly connector: string
  readonly deliveryMode: DeliveryMode
  readonly dataKinds: ReadonlyArray<DataKind>
  readonly schedule: Schedule
  readonly timezone: string
  readonly config: unknown
  readonly historyDepthDays: number
  readonly status: IntegrationStatus
  readonly failing: string | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly deletedAt: string | null
  readonly version?: number
}

export interface CreatedIntegration extends Integration {
  readonly warnings: ReadonlyArray<string>
}

export interface Connector {
  readonly key: string
  readonly displayName: string
  readonly deliveryModes: ReadonlyArray<DeliveryMode>
  readonly dataKinds: ReadonlyArray<DataKind>
  readonly pull: boolean
  readonly realtime: boolean
  readonly check: boolean
  readonly push: boolean
  readonly settleDelaySeconds: number | null
  readonly historyLimitDays: number | null
  readonly configSchema: JsonSchema
}

/** The part of JSON Schema (draft 2020-12) the connectors' config schemas use. */
export interface JsonSchema {
  readonly type?: string | ReadonlyArray<string>
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: boolean | JsonSchema
  readonly patternProperties?: Readonly<Record<string, JsonSchema>>
  readonly items?: JsonSchema | false
  readonly prefixItems?: ReadonlyArray<JsonSchema>
  readonly enum?: ReadonlyArray<unknown>
  readonly const?: unknown
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly writeOnly?: boolean
  readonly format?: string
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly description?: string
  readonly title?: string
  readonly $ref?: string
  readonly $defs?: Readonly<Record<string, JsonSchema>>
}

export interface CheckReport {
  readonly ok: boolean
  readonly items: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly detail: string }>
}

export interface ApiKeyCreated {
  readonly apiKey: string
  readonly prefix: string
}

export interface ImportRun {
  readonly id: string
  readonly kind: string
  readonly windowStart: string | null
  readonly windowEnd: string | null
  readonly read: number
  readonly applied: number
  readonly rejected: number
  readonly startedAt: string
  readonly durationMs: number
  readonly error: string | null
}

export interface BackfillProgress {
  readonly from: string
  readonly to: string
  readonly done: boolean
  readonly windowsDone: number
  readonly windowsTotal: number
  readonly remainingMs: number
  readonly records: number
  readonly recordsPerSecond: number | null
  readonly etaSeconds: number | null
}

export interface IntegrationHealth {
  readonly integrationId: string
  readonly status: IntegrationStatus
  readonly failing: string | null
  readonly scheduled: boolean
  readonly watermark: string | null
  readonly completeUntil: string | null
  readonly lagMs: number | null
  readonly stalled: boolean
  readonly warnings: ReadonlyArray<string>
  readonly retrying: {
    readonly attempts: number
    readonly since: string
    readonly nextAttemptAt: string | null
    readonly lastError: string | null
  } | null
  readonly rateLimitedUntil: string | null
  readonly history: BackfillProgress | null
  readonly gap: BackfillProgress | null
  readonly reimport: BackfillProgress | null
  readonly lastRun: ImportRun | null
  readonly lastError: { readonly at: string; readonly kind: string; readonly message: string } | null
}

export type Channel = "calls" | "chats" | "emails" | "social_media" | "documents" | "cases" | "back_office"

export interface Queue {
  readonly id: string
  readonly integrationId: string | null
  readonly identifier: string
  readonly name: string
  readonly channel: Channel
  readonly createdByIntegration: boolean
  readonly createdAt: string
  readonly workloadIds: ReadonlyArray<string>
}

export interface Workload {
  readonly id: string
  readonly name: string
  readonly queueIds: ReadonlyArray<string>
  readonly createdAt: string
}

export interface Unmapped {
  readonly agents: ReadonlyArray<{ readonly externalId: string; readonly segments: number }>
  readonly activities: ReadonlyArray<{ readonly externalId: string; readonly segments: number }>
}

export interface IntervalRow {
  readonly queueId: string
  readonly queueIdentifier: string
  readonly queueName: string
  readonly channel: Channel
  /** local time with offset in the requested zone */
  readonly start: string
  readonly end: string
  readonly offered: number
  readonly handled: number
  readonly handlingSeconds: number
  readonly ahtSeconds: number | null
  readonly abandoned: number
}

export interface AgentStatus {
  readonly integrationId: string
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  readonly startTime: string
  readonly endTime: string | null
  readonly employeeId: string | null
  readonly activityId: string | null
}

/** A problem body (`application/problem+json`). */
export interface Problem {
  readonly type?: string
  readonly title?: string
  readonly status?: number
  readonly detail?: string
  readonly field?: string
  readonly index?: number
}
