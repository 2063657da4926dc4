/**
 * Rows as the drivers return them, and their decoding into domain values. PostgreSQL
 * returns BIGINT and SUM/COUNT as strings, SQLite returns numbers and 0/1 for booleans, so
 * every numeric column goes through `num` and every boolean through `bool`.
 */
import { Domain, Errors } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** A numeric column value from either driver. */
export type Num = number | string | bigint

export const num = (value: Num): number => (typeof value === "number" ? value : Number(value))
export const numOrNull = (value: Num | null): number | null => (value === null ? null : num(value))
export const bool = (value: boolean | Num): boolean =>
  value === true || value === 1 || value === "1" || value === "t" || value === "true" || value === 1n

const dateTime = (value: Num): DateTime.Utc => DateTime.unsafeMake(num(value))
const dateTimeOrNull = (value: Num | null): DateTime.Utc | null => (value === null ? null : dateTime(value))

/** Epoch milliseconds of a `DateTime`. */
export const millis = (value: DateTime.DateTime): number => DateTime.toEpochMillis(value)
export const millisOrNull = (value: DateTime.DateTime | null): number | null => (value === null ? null : millis(value))

const parseJson = (operation: string, text: string) =>
  Effect.try({
    try: (): unknown => JSON.parse(text),
    catch: (cause) => Errors.StorageError.fromCause(operation, cause, `stored JSON is unreadable: ${String(cause)}`)
  })

const decode = <A, I>(schema: Schema.Schema<A, I>, operation: string) => {
  const run = Schema.decodeUnknown(schema)
  return (value: unknown): Effect.Effect<A, Errors.StorageError> =>
    Effect.mapError(
      run(value),
      (error) => Errors.StorageError.fromCause(operation, error, `stored row does not decode: ${error.message}`)
    )
}

// ---------------------------------------------------------------------------
// integrations
// ---------------------------------------------------------------------------

export interface IntegrationRow {
  readonly id: string
  readonly tenant_id: string
  readonly name: string
  readonly connector: string
  readonly delivery_mode: string
  readonly data_kinds: string
  readonly schedule: string
  readonly timezone: string
  readonly config: string
  readonly history_depth_days: Num
  readonly status: string
  readonly failing: string | null
  readonly created_at: Num
  readonly updated_at: Num
  readonly deleted_at: Num | null
  readonly version: Num
  readonly link_id: string | null
}

export const integrationColumns = [
  "id",
  "tenant_id",
  "name",
  "connector",
  "delivery_mode",
  "data_kinds",
  "schedule",
  "timezone",
  "config",
  "history_depth_days",
  "status",
  "failing",
  "created_at",
  "updated_at",
  "deleted_at",
  "version",
  "link_id"
].join(", ")

/**
 * `config` is kept as `{"v": <config>}` so that an absent (undefined) config comes back as
 * undefined and `null` as null.
 */
export const integrationToRow = (i: Domain.Integration) => ({
  id: i.id,
  tenant_id: i.tenantId,
  name: i.name,
  connector: i.connector,
  delivery_mode: i.deliveryMode,
  data_kinds: JSON.stringify(i.dataKinds),
  schedule: JSON.stringify(i.schedule),
  timezone: i.timezone,
  config: JSON.stringify({ v: i.config }),
  history_depth_days: i.historyDepthDays,
  status: i.status,
  failing: i.failing,
  created_at: millis(i.createdAt),
  updated_at: millis(i.updatedAt),
  deleted_at: millisOrNull(i.deletedAt),
  version: i.version,
  link_id: i.linkId
})

const decodeIntegration = decode(Domain.Integration, "decode integration")

export const integrationFromRow = (row: IntegrationRow) =>
  Effect.gen(function*() {
    const dataKinds = yield* parseJson("decode integration", row.data_kinds)
    const schedule = yield* parseJson("decode integration", row.schedule)
    const config = yield* parseJson("decode integration", row.config)
    return yield* decodeIntegration({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      connector: row.connector,
      deliveryMode: row.delivery_mode,
      dataKinds,
      schedule,
      timezone: row.timezone,
      config: typeof config === "object" && config !== null && "v" in config ? config.v : undefined,
      historyDepthDays: num(row.history_depth_days),
      status: row.status,
      failing: row.failing,
      createdAt: dateTime(row.created_at),
      updatedAt: dateTime(row.updated_at),
      deletedAt: dateTimeOrNull(row.deleted_at),
      version: num(row.version),
      linkId: row.link_id
    })
  })

// ---------------------------------------------------------------------------
// queues, workloads
// ---------------------------------------------------------------------------

export interface QueueRow {
  readonly id: string
  readonly tenant_id: string
  readonly integration_id: string | null
  readonly identifier: string
  readonly name: string
  readonly channel: string
  readonly created_by_integration: boolean | Num
  readonly created_at: Num
}

export const queueColumns =
  "id, tenant_id, integration_id, identifier, name, channel, created_by_integration, created_at"

const decodeQueue = decode(Domain.Queue, "decode queue")

export const queueFromRow = (row: QueueRow) =>
  decodeQueue({
    id: row.id,
    tenantId: row.tenant_id,
    integrationId: row.integration_id,
    identifier: row.identifier,
    name: row.name,
    channel: row.channel,
    createdByIntegration: bool(row.created_by_integration),
    createdAt: dateTime(row.created_at)
  })

export interface WorkloadRow {
  readonly id: string
  readonly tenant_id: string
  readonly name: string
  readonly created_at: Num
}

const decodeWorkload = decode(Domain.Workload, "decode workload")

export const workloadFromRow = (row: WorkloadRow, queueIds: ReadonlyArray<string>) =>
  decodeWorkload({
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    queueIds,
    createdAt: dateTime(row.created_at)
  })

// ---------------------------------------------------------------------------
// keys, tokens, runs
// ---------------------------------------------------------------------------

export interface ApiKeyRow {
  readonly id: string
  readonly integration_id: string
  readonly tenant_id: string
  readonly prefix: string
  readonly hash: string
  readonly created_at: Num
  readonly revoked_at: Num | null
}

const decodeApiKey = decode(Domain.ApiKey, "decode api key")

export const apiKeyFromRow = (row: ApiKeyRow) =>
  decodeApiKey({
    id: row.id,
    integrationId: row.integration_id,
    tenantId: row.tenant_id,
    prefix: row.prefix,
    hash: row.hash,
    createdAt: dateTime(row.created_at),
    revokedAt: dateTimeOrNull(row.revoked_at)
  })

export interface AccessTokenRow {
  readonly id: string
  readonly tenant_id: string
  readonly user_id: string
  readonly name: string
  readonly prefix: string
  readonly hash: string
  readonly created_at: Num
  readonly revoked_at: Num | null
}

const decodeAccessToken = decode(Domain.AccessToken, "decode access token")

export const accessTokenFromRow = (row: AccessTokenRow) =>
  decodeAccessToken({
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    createdAt: dateTime(row.created_at),
    revokedAt: dateTimeOrNull(row.revoked_at)
  })

export interface ImportRunRow {
  readonly id: string
  readonly integration_id: string
  readonly kind: string
  readonly window_start: Num | null
  readonly window_end: Num | null
  readonly records_read: Num
  readonly records_applied: Num
  readonly records_rejected: Num
  readonly started_at: Num
  readonly duration_ms: Num
  readonly error: string | null
  readonly problems: string
}

const decodeImportRun = decode(Domain.ImportRun, "decode import run")

export const importRunFromRow = (row: ImportRunRow) =>
  Effect.flatMap(parseJson("decode import run", row.problems), (problems) =>
    decodeImportRun({
      id: row.id,
      integrationId: row.integration_id,
      kind: row.kind,
      windowStart: dateTimeOrNull(row.window_start),
      windowEnd: dateTimeOrNull(row.window_end),
      read: num(row.records_read),
      applied: num(row.records_applied),
      rejected: num(row.records_rejected),
      startedAt: dateTime(row.started_at),
      durationMs: num(row.duration_ms),
      error: row.error,
      problems
    }))

// ---------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------

/** Measure fields and their columns, in one order used everywhere. */
export const measureColumns: ReadonlyArray<readonly [keyof Domain.Measures, string]> = [
  ["offered", "offered"],
  ["handled", "handled"],
  ["handlingMs", "handling_ms"],
  ["unhandledMs", "unhandled_ms"],
  ["talkMs", "talk_ms"],
  ["holdMs", "hold_ms"],
  ["afterCallWorkMs", "after_call_work_ms"],
  ["waitMs", "wait_ms"],
  ["abandoned", "abandoned"],
  ["shortAbandoned", "short_abandoned"],
  ["breakout", "breakout"],
  ["answeredInThreshold", "answered_in_threshold"]
]

export interface IntervalStatRow {
  readonly integration_id: string
  readonly queue_id: string
  readonly channel: string
  readonly start_ms: Num
  readonly length_minutes: Num
  readonly offered: Num
  readonly handled: Num
  readonly handling_ms: Num
  readonly unhandled_ms: Num
  readonly talk_ms: Num
  readonly hold_ms: Num
  readonly after_call_work_ms: Num
  readonly wait_ms: Num
  readonly abandoned: Num
  readonly short_abandoned: Num
  readonly breakout: Num
  readonly answered_in_threshold: Num
}

export const intervalStatColumns = `integration_id, queue_id, channel, start_ms, length_minutes, ${
  measureColumns.map(([, c]) => c).join(", ")
}`

const decodeChannel = Schema.decodeUnknownSync(Domain.Channel)
const decodeLength = Schema.decodeUnknownSync(Domain.IntervalMinutes)

export const intervalStatFromRow = (row: IntervalStatRow) =>
  Effect.try({
    try: (): Domain.IntervalStat => ({
      integrationId: Domain.IntegrationId.make(row.integration_id),
      queueId: Domain.QueueId.make(row.queue_id),
      channel: decodeChannel(row.channel),
      start: num(row.start_ms),
      lengthMinutes: decodeLength(num(row.length_minutes)),
      offered: num(row.offered),
      handled: num(row.handled),
      handlingMs: num(row.handling_ms),
      unhandledMs: num(row.unhandled_ms),
      talkMs: num(row.talk_ms),
      holdMs: num(row.hold_ms),
      afterCallWorkMs: num(row.after_call_work_ms),
      waitMs: num(row.wait_ms),
      abandoned: num(row.abandoned),
      shortAbandoned: num(row.short_abandoned),
      breakout: num(row.breakout),
      answeredInThreshold: num(row.answered_in_threshold)
    }),
    catch: (cause) => Errors.StorageError.fromCause("decode interval stat", cause)
  })

export interface SegmentRow {
  readonly seq: Num
  readonly integration_id: string
  readonly agent_identifier: string
  readonly activity_identifier: string
  readonly start_ms: Num
  readonly end_ms: Num | null
}

export const segmentColumns = "seq, integration_id, agent_identifier, activity_identifier, start_ms, end_ms"

export const segmentFromRow = (row: SegmentRow): Domain.AgentSegment => ({
  integrationId: Domain.IntegrationId.make(row.integration_id),
  agentIdentifier: row.agent_identifier,
  activityIdentifier: row.activity_identifier,
  start: num(row.start_ms),
  end: numOrNull(row.end_ms)
})
