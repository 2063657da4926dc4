/**
 * Domain values of acd-bridge: identifiers, integrations, queues, workloads, the records
 * connectors deliver, what the stores keep, and the records of keys and import runs.
 *
 * Durations and second sums are kept as integer milliseconds so that every sum is exact
 * (a 60-minute interval is then exactly the sum of its four quarter-hours); they are
 * turned into decimal seconds on output only.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------
// identifiers
// ---------------------------------------------------------------------------

/** @since 0.1.0 @category ids */
export const TenantId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/TenantId"))
/** @since 0.1.0 @category ids */
export type TenantId = typeof TenantId.Type
/** @since 0.1.0 @category ids */
export const IntegrationId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/IntegrationId"))
/** @since 0.1.0 @category ids */
export type IntegrationId = typeof IntegrationId.Type
/** @since 0.1.0 @category ids */
export const QueueId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/QueueId"))
/** @since 0.1.0 @category ids */
export type QueueId = typeof QueueId.Type
/** @since 0.1.0 @category ids */
export const WorkloadId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/WorkloadId"))
/** @since 0.1.0 @category ids */
export type WorkloadId = typeof WorkloadId.Type
/** @since 0.1.0 @category ids */
export const UserId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/UserId"))
/** @since 0.1.0 @category ids */
export type UserId = typeof UserId.Type
/** @since 0.1.0 @category ids */
export const ImportRunId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/ImportRunId"))
/** @since 0.1.0 @category ids */
export type ImportRunId = typeof ImportRunId.Type
/** An on-premise `link` agent registered in a tenant. @since 0.3.0 @category ids */
export const LinkId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("@acd-bridge/LinkId"))
/** @since 0.3.0 @category ids */
export type LinkId = typeof LinkId.Type

// ---------------------------------------------------------------------------
// enumerations
// ---------------------------------------------------------------------------

/**
 * Contact channels. The first six are the push API's wire values; `back_office` is for
 * work items that never pass an ACD.
 *
 * @since 0.1.0 @category models
 */
export const Channel = Schema.Literal("calls", "chats", "emails", "social_media", "documents", "cases", "back_office")
/** @since 0.1.0 @category models */
export type Channel = typeof Channel.Type

/** @since 0.1.0 @category models */
export const DeliveryMode = Schema.Literal("cloud", "on-premise")
/** @since 0.1.0 @category models */
export type DeliveryMode = typeof DeliveryMode.Type

/** @since 0.1.0 @category models */
export const DataKind = Schema.Literal("contacts", "agentStatuses")
/** @since 0.1.0 @category models */
export type DataKind = typeof DataKind.Type

/** @since 0.1.0 @category models */
export const IntegrationStatus = Schema.Literal("active", "paused", "deleted")
/** @since 0.1.0 @category models */
export type IntegrationStatus = typeof IntegrationStatus.Type

/** @since 0.1.0 @category models */
export const IntervalMinutes = Schema.Literal(15, 30, 60)
/** @since 0.1.0 @category models */
export type IntervalMinutes = typeof IntervalMinutes.Type

/**
 * How an integration imports: historically every 15, 30 or 60 minutes, or in realtime.
 *
 * @since 0.1.0 @category models
 */
export const Schedule = Schema.Union(
  Schema.Struct({ type: Schema.Literal("historical"), everyMinutes: IntervalMinutes }),
  Schema.Struct({ type: Schema.Literal("realtime") })
)
/** @since 0.1.0 @category models */
export type Schedule = typeof Schedule.Type

// ---------------------------------------------------------------------------
// integrations, queues, workloads
// ---------------------------------------------------------------------------

/**
 * An integration: one connector importing one tenant's data. `config` is the connector
 * config in its encoded (JSON) form; decode it with the connector's schema to use it.
 *
 * @since 0.1.0 @category models
 */
export class Integration extends Schema.Class<Integration>("@acd-bridge/Integration")({
  id: IntegrationId,
  tenantId: TenantId,
  name: Schema.NonEmptyTrimmedString,
  connector: Schema.NonEmptyTrimmedString,
  deliveryMode: DeliveryMode,
  dataKinds: Schema.Array(DataKind),
  schedule: Schedule,
  timezone: Schema.String,
  config: Schema.Unknown,
  historyDepthDays: Schema.Int.pipe(Schema.positive()),
  status: IntegrationStatus,
  /** Why the integration's schedule is stopped (e.g. rejected credentials); null when healthy. */
  failing: Schema.NullOr(Schema.String),
  createdAt: Schema.DateTimeUtcFromSelf,
  updatedAt: Schema.DateTimeUtcFromSelf,
  deletedAt: Schema.NullOr(Schema.DateTimeUtcFromSelf),
  /**
   * Counts the stored changes of the integration's state (pause, resume, failing, config,
   * delete); 0 when created. A change made on what a caller read earlier names the version it
   * read, and the store applies it only if the integration is still at that version.
   */
  version: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
  /**
   * On-premise integrations read by a `link` agent: the link that serves it, or null for any
   * link of the tenant that holds its configuration (see `Links`).
   */
  linkId: Schema.optionalWith(Schema.NullOr(LinkId), { default: () => null })
}) {}

/** @since 0.1.0 @category models */
export class Queue extends Schema.Class<Queue>("@acd-bridge/Queue")({
  id: QueueId,
  tenantId: TenantId,
  integrationId: Schema.NullOr(IntegrationId),
  identifier: Schema.String,
  name: Schema.String,
  channel: Channel,
  createdByIntegration: Schema.Boolean,
  createdAt: Schema.DateTimeUtcFromSelf
}) {}

/** @since 0.1.0 @category models */
export class Workload extends Schema.Class<Workload>("@acd-bridge/Workload")({
  id: WorkloadId,
  tenantId: TenantId,
  name: Schema.NonEmptyTrimmedString,
  queueIds: Schema.Array(QueueId),
  createdAt: Schema.DateTimeUtcFromSelf
}) {}

// ---------------------------------------------------------------------------
// what connectors deliver
// ---------------------------------------------------------------------------

const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
const QueueKeyFields = {
  queueIdentifier: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
  queueName: Schema.String.pipe(Schema.maxLength(255)),
  channel: Channel
}

/**
 * One contact event (the push API's shape). Offer and handling are independent flags so a
 * source may send them as two events. Durations are integer milliseconds.
 *
 * @since 0.1.0 @category models
 */
export const ContactEvent = Schema.Struct({
  ...QueueKeyFields,
  timestamp: Schema.DateTimeUtcFromSelf,
  offered: Schema.Boolean,
  handled: Schema.Boolean,
  durationMs: NonNegativeInt,
  talkMs: Schema.optional(NonNegativeInt),
  holdMs: Schema.optional(NonNegativeInt),
  afterCallWorkMs: Schema.optional(NonNegativeInt),
  waitMs: Schema.optional(NonNegativeInt),
  /** the caller hung up while waiting in the queue (short abandons included) */
  abandoned: Schema.optional(Schema.Boolean),
  /** an abandon within the source's short-abandon threshold (a subset of `abandoned`) */
  shortAbandoned: Schema.optional(Schema.Boolean),
  /**
   * the contact left the queue without an agent and without hanging up: routed elsewhere
   * (overflow to another queue, voicemail, callback, an announcement). Not an abandon.
   */
  breakout: Schema.optional(Schema.Boolean),
  answeredInThreshold: Schema.optional(Schema.Boolean)
})
/** @since 0.1.0 @category models */
export type ContactEvent = typeof ContactEvent.Type

/**
 * The counts and sums kept per queue, channel and interval. All integers; durations in ms.
 *
 * @since 0.1.0 @category models
 */
export const Measures = Schema.Struct({
  offered: NonNegativeInt,
  handled: NonNegativeInt,
  /** sum of the durations of handled contacts (AHT = handlingMs / handled) */
  handlingMs: NonNegativeInt,
  /** sum of the durations of contacts that were not handled, kept out of AHT */
  unhandledMs: NonNegativeInt,
  talkMs: NonNegativeInt,
  holdMs: NonNegativeInt,
  afterCallWorkMs: NonNegativeInt,
  waitMs: NonNegativeInt,
  /** contacts that hung up while waiting (short abandons included) */
  abandoned: NonNegativeInt,
  /** abandons within the source's short-abandon threshold: a subset of `abandoned` */
  shortAbandoned: NonNegativeInt,
  /** contacts that left the queue without an agent and without hanging up (routed elsewhere) */
  breakout: NonNegativeInt,
  answeredInThreshold: NonNegativeInt
})
/** @since 0.1.0 @category models */
export type Measures = typeof Measures.Type

/** @since 0.1.0 @category constructors */
export const emptyMeasures: Measures = {
  offered: 0,
  handled: 0,
  handlingMs: 0,
  unhandledMs: 0,
  talkMs: 0,
  holdMs: 0,
  afterCallWorkMs: 0,
  waitMs: 0,
  abandoned: 0,
  shortAbandoned: 0,
  breakout: 0,
  answeredInThreshold: 0
}

/** @since 0.1.0 @category models */
export const measureKeys: ReadonlyArray<keyof Measures> = Object.keys(emptyMeasures) as Array<keyof Measures>

/**
 * An interval aggregate from an interval-based source: it replaces what the integration had
 * stored for that queue, channel and interval.
 *
 * @since 0.1.0 @category models
 */
export const IntervalAggregate = Schema.Struct({
  ...QueueKeyFields,
  start: Schema.DateTimeUtcFromSelf,
  lengthMinutes: IntervalMinutes,
  ...Measures.fields
})
/** @since 0.1.0 @category models */
export type IntervalAggregate = typeof IntervalAggregate.Type

/**
 * An agent's activity from `start` to `end` (`end` null: still ongoing).
 *
 * @since 0.1.0 @category models
 */
export const AgentStatus = Schema.Struct({
  agentIdentifier: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
  activityIdentifier: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
  start: Schema.DateTimeUtcFromSelf,
  end: Schema.NullOr(Schema.DateTimeUtcFromSelf)
})
/** @since 0.1.0 @category models */
export type AgentStatus = typeof AgentStatus.Type

/**
 * What one unit of ingest carries. It is applied whole or not at all.
 *
 * @since 0.1.0 @category models
 */
export const Batch = Schema.Struct({
  contacts: Schema.Array(ContactEvent),
  aggregates: Schema.Array(IntervalAggregate),
  statuses: Schema.Array(AgentStatus)
})
/** @since 0.1.0 @category models */
export type Batch = typeof Batch.Type

/** @since 0.1.0 @category constructors */
export const emptyBatch: Batch = { contacts: [], aggregates: [], statuses: [] }

/** @since 0.1.0 @category models */
export const batchSize = (batch: Batch): number =>
  batch.contacts.length + batch.aggregates.length + batch.statuses.length

/**
 * A batch in its JSON form, as kept in staging and by the on-premise outbox.
 *
 * @since 0.1.0 @category models
 */
export const BatchJson = Schema.Struct({
  contacts: Schema.Array(Schema.Struct({ ...ContactEvent.fields, timestamp: Schema.DateTimeUtc })),
  aggregates: Schema.Array(Schema.Struct({ ...IntervalAggregate.fields, start: Schema.DateTimeUtc })),
  statuses: Schema.Array(
    Schema.Struct({ ...AgentStatus.fields, start: Schema.DateTimeUtc, end: Schema.NullOr(Schema.DateTimeUtc) })
  )
})

// ---------------------------------------------------------------------------
// what the stores keep
// ---------------------------------------------------------------------------

/**
 * A stored row of interval statistics: per queue and channel, keyed by the UTC start of a
 * 15-minute quarter (or of the aggregate's own interval when a source reports 30/60 minutes).
 *
 * @since 0.1.0 @category models
 */
export interface IntervalStat extends Measures {
  readonly integrationId: IntegrationId
  readonly queueId: QueueId
  readonly channel: Channel
  /** UTC epoch milliseconds */
  readonly start: number
  readonly lengthMinutes: IntervalMinutes
}

/**
 * A stored agent segment. Per integration and agent, segments never overlap.
 *
 * @since 0.1.0 @category models
 */
export interface AgentSegment {
  readonly integrationId: IntegrationId
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  /** UTC epoch milliseconds */
  readonly start: number
  /** UTC epoch milliseconds; null while the activity is ongoing */
  readonly end: number | null
}

/** @since 0.1.0 @category models */
export const AgentMapping = Schema.Struct({
  externalId: Schema.String.pipe(Schema.minLength(1)),
  employeeId: Schema.String.pipe(Schema.minLength(1))
})
/** @since 0.1.0 @category models */
export type AgentMapping = typeof AgentMapping.Type

/** @since 0.1.0 @category models */
export const ActivityMapping = Schema.Struct({
  externalId: Schema.String.pipe(Schema.minLength(1)),
  activityId: Schema.String.pipe(Schema.minLength(1))
})
/** @since 0.1.0 @category models */
export type ActivityMapping = typeof ActivityMapping.Type

/**
 * A stored API key: only its SHA-256 hash and a short visible prefix are kept.
 *
 * @since 0.1.0 @category models
 */
export class ApiKey extends Schema.Class<ApiKey>("@acd-bridge/ApiKey")({
  id: Schema.String,
  integrationId: IntegrationId,
  tenantId: TenantId,
  prefix: Schema.String,
  hash: Schema.String,
  createdAt: Schema.DateTimeUtcFromSelf,
  revokedAt: Schema.NullOr(Schema.DateTimeUtcFromSelf)
}) {}

/**
 * A personal access token of a tenant's user, for the admin API and for pushing.
 *
 * @since 0.1.0 @category models
 */
export class AccessToken extends Schema.Class<AccessToken>("@acd-bridge/AccessToken")({
  id: Schema.String,
  tenantId: TenantId,
  userId: UserId,
  name: Schema.String,
  prefix: Schema.String,
  hash: Schema.String,
  createdAt: Schema.DateTimeUtcFromSelf,
  revokedAt: Schema.NullOr(Schema.DateTimeUtcFromSelf)
}) {}

/** @since 0.1.0 @category models */
export const ImportRunKind = Schema.Literal("push", "pull", "history", "resume", "reimport", "realtime")
/** @since 0.1.0 @category models */
export type ImportRunKind = typeof ImportRunKind.Type

/**
 * A record a run rejected: where it was (`file.csv:12`, `record 4`), which field, and why.
 *
 * @since 0.1.0 @category models
 */
export const RejectedRecord = Schema.Struct({
  record: Schema.String,
  field: Schema.NullOr(Schema.String),
  reason: Schema.String
})
/** @since 0.1.0 @category models */
export type RejectedRecord = typeof RejectedRecord.Type

/**
 * The record of one import: the integration's health is read from these.
 *
 * @since 0.1.0 @category models
 */
export class ImportRun extends Schema.Class<ImportRun>("@acd-bridge/ImportRun")({
  id: ImportRunId,
  integrationId: IntegrationId,
  kind: ImportRunKind,
  windowStart: Schema.NullOr(Schema.DateTimeUtcFromSelf),
  windowEnd: Schema.NullOr(Schema.DateTimeUtcFromSelf),
  read: NonNegativeInt,
  applied: NonNegativeInt,
  rejected: NonNegativeInt,
  startedAt: Schema.DateTimeUtcFromSelf,
  durationMs: NonNegativeInt,
  error: Schema.NullOr(Schema.String),
  /** rejected records (at most the first 1,000 are kept) */
  problems: Schema.optionalWith(Schema.Array(RejectedRecord), { default: () => [] })
}) {}
