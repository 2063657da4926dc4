/**
 * The views of the HTTP contract: the domain classes' fields as they go over the wire. Part of
 * `Api` (re-exported there); kept apart so the route definitions read on their own.
 *
 * @internal
 */
import { Domain } from "@acd-bridge/core"
import * as Schema from "effect/Schema"
import * as Struct from "effect/Struct"

// ---------------------------------------------------------------------------
// views
// ---------------------------------------------------------------------------

/** An instant: ISO-8601 text on the wire. */
export const Instant = Schema.DateTimeUtc

// The views are the domain classes' fields, with instants as ISO-8601 text on the wire and the
// fields a caller must not see (tenant ids of tenant-scoped rows) left out. Handlers return
// domain values; encoding drops whatever a view doesn't list.

/**
 * An integration as the API shows it: `config` with secrets replaced by `"<redacted>"`, and
 * never its API key.
 *
 * @since 0.1.0 @category schemas
 */
export const IntegrationView = Schema.Struct({
  ...Domain.Integration.fields,
  createdAt: Instant,
  updatedAt: Instant,
  deletedAt: Schema.NullOr(Instant)
}).annotations({ identifier: "Integration" })

/** @since 0.1.0 @category schemas */
export const CreatedIntegration = Schema.Struct({
  ...IntegrationView.fields,
  /** e.g. another integration has the same name */
  warnings: Schema.Array(Schema.String)
}).annotations({ identifier: "CreatedIntegration" })

/**
 * A connector this engine offers, and how to configure it.
 *
 * @since 0.2.0 @category schemas
 */
export const ConnectorView = Schema.Struct({
  key: Schema.String.annotations({ description: "What `connector` names when an integration is created" }),
  displayName: Schema.String.annotations({ description: "The connector's name for people" }),
  deliveryModes: Schema.Array(Domain.DeliveryMode).annotations({
    description: "Where it can run: `cloud` (the engine reads the source) or `on-premise` (next to the source)"
  }),
  dataKinds: Schema.Array(Domain.DataKind).annotations({ description: "What it imports" }),
  pull: Schema.Boolean.annotations({
    description: "Imports historical windows (schedule `historical`), so ranges can be re-imported"
  }),
  realtime: Schema.Boolean.annotations({ description: "Holds a live stream open (schedule `realtime`)" }),
  check: Schema.Boolean.annotations({
    description: "Has a check of its own (`POST /v1/integrations/{id}/check`); without it the check validates the config"
  }),
  push: Schema.Boolean.annotations({ description: "Fed by the push API (neither pull nor realtime)" }),
  settleDelaySeconds: Schema.NullOr(Schema.Number).annotations({
    description: "How long after an interval closes its figures are complete at the source; null: the scheduler's default"
  }),
  historyLimitDays: Schema.NullOr(Schema.Int).annotations({
    description: "How many days back the source keeps data (caps an integration's history depth); null: no known limit"
  }),
  configSchema: Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
    description:
      "The connector config as JSON Schema (draft 2020-12), generated from its Effect Schema: secrets are `writeOnly`, " +
      "choices are `enum`"
  })
}).annotations({ identifier: "Connector", description: "A connector this engine offers" })

/**
 * What a connector's check found, item by item (never a secret).
 *
 * @since 0.2.0 @category schemas
 */
export const CheckReportView = Schema.Struct({
  ok: Schema.Boolean.annotations({ description: "Every item is ok" }),
  items: Schema.Array(
    Schema.Struct({
      name: Schema.String.annotations({ description: "What was checked (connection, credentials, a table, a report…)" }),
      ok: Schema.Boolean,
      detail: Schema.String.annotations({ description: "What was found, and what to do when it is wrong" })
    }).annotations({ identifier: "CheckItem" })
  )
}).annotations({ identifier: "CheckReport", description: "What the connector's check found" })

/**
 * A personal access token as listed: never the token, never its hash.
 *
 * @since 0.2.0 @category schemas
 */
export const AccessTokenView = Schema.Struct({
  id: Schema.String.annotations({ description: "What `DELETE /v1/access-tokens/{id}` names" }),
  name: Schema.String.annotations({ description: "What the token is for (a laptop, a script)" }),
  userId: Schema.String.annotations({ description: "The user the token acts as" }),
  prefix: Schema.String.annotations({ description: "The token's first characters, to recognise it" }),
  createdAt: Instant,
  revokedAt: Schema.NullOr(Instant).annotations({ description: "When it was revoked; null while it works" })
}).annotations({ identifier: "AccessToken", description: "A personal access token (the token itself is shown once)" })

/** @since 0.2.0 @category schemas */
export const AccessTokenCreated = Schema.Struct({
  ...AccessTokenView.fields,
  token: Schema.String.annotations({ description: "The token: shown once, store it now. Send it as `Authorization: Bearer <token>`" })
}).annotations({ identifier: "AccessTokenCreated" })

/** @since 0.2.0 @category schemas */
export const CreateAccessToken = Schema.Struct({
  name: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)).annotations({
    description: "What the token is for"
  }),
  userId: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)).annotations({
    description: "The user the token acts as (default `admin`)"
  }))
}).annotations({ identifier: "CreateAccessToken" })

/** @since 0.1.0 @category schemas */
export const ApiKeyCreated = Schema.Struct({
  /** shown once: store it now */
  apiKey: Schema.String,
  prefix: Schema.String
}).annotations({ identifier: "ApiKeyCreated" })

/** @since 0.1.0 @category schemas */
export const RunView = Schema.Struct({
  ...Domain.ImportRun.fields,
  windowStart: Schema.NullOr(Instant),
  windowEnd: Schema.NullOr(Instant),
  startedAt: Instant,
  problems: Schema.Array(Domain.RejectedRecord)
}).annotations({ identifier: "ImportRun" })

const BackfillProgressView = Schema.Struct({
  from: Instant,
  to: Instant,
  done: Schema.Boolean,
  windowsDone: Schema.Int,
  windowsTotal: Schema.Int,
  remainingMs: Schema.Number.annotations({ description: "Milliseconds of the range still to import" }),
  records: Schema.Int.annotations({ description: "Records its windows applied (from the recent import runs)" }),
  recordsPerSecond: Schema.NullOr(Schema.Number).annotations({
    description: "Pace of its recent windows; null until two are done"
  }),
  etaSeconds: Schema.NullOr(Schema.Number).annotations({
    description: "Seconds until it is imported at that pace; null when done or unknown"
  })
}).annotations({ identifier: "BackfillProgress", description: "Progress of a history import, resume gap or re-import" })

/**
 * An integration's import health (core `Scheduler.health`).
 *
 * @since 0.2.0 @category schemas
 */
export const IntegrationHealthView = Schema.Struct({
  integrationId: Schema.String,
  status: Domain.IntegrationStatus,
  failing: Schema.NullOr(Schema.String).annotations({
    description: "Why the schedule is stopped or keeps failing (rejected credentials, a refused config, failures in a row)"
  }),
  scheduled: Schema.Boolean.annotations({
    description: "This engine runs the integration's schedule (false for push integrations, for on-premise ones a " +
      "link runs, and on an engine without a scheduler)"
  }),
  waitingForLink: Schema.Boolean.annotations({
    description: "An on-premise integration this engine leaves to a link agent next to the source: nothing imports " +
      "it until a link serves it (a warning says so too)"
  }),
  waitingForLinkSince: Schema.NullOr(Instant).annotations({
    description: "Where links serve on-premise integrations: since when a planned window has waited for a link to lease it"
  }),
  watermark: Schema.NullOr(Instant).annotations({ description: "The committed incremental watermark" }),
  completeUntil: Schema.NullOr(Instant).annotations({
    description: "Everything after the history cutoff is imported up to here"
  }),
  lagMs: Schema.NullOr(Schema.Number).annotations({ description: "Now minus completeUntil" }),
  stalled: Schema.Boolean.annotations({
    description: "Runs keep reading data but nothing is imported after completeUntil"
  }),
  warnings: Schema.Array(Schema.String).annotations({
    description: "What needs attention, as sentences: failing, retrying, rate limited, stalled, lagging"
  }),
  retrying: Schema.NullOr(Schema.Struct({
    attempts: Schema.Int,
    since: Instant,
    nextAttemptAt: Schema.NullOr(Instant),
    lastError: Schema.NullOr(Schema.String)
  })).annotations({ description: "Attempts failed in a row, retried with backoff; null after a success" }),
  rateLimitedUntil: Schema.NullOr(Instant).annotations({ description: "The source asked to wait until then" }),
  history: Schema.NullOr(BackfillProgressView).annotations({ description: "The first import of the history" }),
  gap: Schema.NullOr(BackfillProgressView).annotations({ description: "What was missed while nothing ran" }),
  reimport: Schema.NullOr(BackfillProgressView).annotations({ description: "A re-import asked for" }),
  realtimePosition: Schema.NullOr(Schema.Number).annotations({
    description: "The source position after the last applied realtime batch"
  }),
  lastRun: Schema.NullOr(RunView),
  lastError: Schema.NullOr(Schema.Struct({
    at: Instant,
    kind: Domain.ImportRunKind,
    message: Schema.String
  })).annotations({ description: "The newest failed run, while no run succeeded after it" })
}).annotations({ identifier: "IntegrationHealth", description: "An integration's import health" })

/** @since 0.1.0 @category schemas */
export const QueueView = Schema.Struct({
  ...Struct.omit(Domain.Queue.fields, "tenantId"),
  createdAt: Instant,
  workloadIds: Schema.Array(Domain.WorkloadId)
}).annotations({ identifier: "Queue" })

/** @since 0.1.0 @category schemas */
export const WorkloadView = Schema.Struct({
  ...Struct.omit(Domain.Workload.fields, "tenantId"),
  createdAt: Instant
}).annotations({ identifier: "Workload" })

/** @since 0.1.0 @category schemas */
export const SetQueues = Schema.Struct({ queueIds: Schema.Array(Schema.String) }).annotations({
  identifier: "SetWorkloadQueues"
})

const IdentifierCount = Schema.Struct({ externalId: Schema.String, segments: Schema.Int })

/** @since 0.1.0 @category schemas */
export const UnmappedView = Schema.Struct({
  agents: Schema.Array(IdentifierCount),
  activities: Schema.Array(IdentifierCount)
}).annotations({ identifier: "Unmapped" })

/**
 * One interval of one queue and channel. `start`/`end` are local times with offset in the
 * requested zone; seconds are decimal; `ahtSeconds` is null when nothing was handled.
 *
 * @since 0.1.0 @category schemas
 */
export const IntervalRow = Schema.Struct({
  queueId: Schema.String,
  queueIdentifier: Schema.String,
  queueName: Schema.String,
  channel: Domain.Channel,
  start: Schema.String,
  end: Schema.String,
  offered: Schema.Int,
  handled: Schema.Int,
  handlingSeconds: Schema.Number,
  ahtSeconds: Schema.NullOr(Schema.Number),
  unhandledSeconds: Schema.Number,
  talkSeconds: Schema.Number,
  holdSeconds: Schema.Number,
  afterCallWorkSeconds: Schema.Number,
  waitSeconds: Schema.Number,
  abandoned: Schema.Int,
  shortAbandoned: Schema.Int,
  breakout: Schema.Int,
  answeredInThreshold: Schema.Int
}).annotations({ identifier: "IntervalRow" })

const TimeParam = Schema.String.annotations({
  description: "ISO-8601 instant (e.g. 2026-03-29T00:00:00Z); without an offset it is read in `timezone`"
})

/** @since 0.1.0 @category schemas */
export const IntervalParams = Schema.Struct({
  integrationId: Schema.optional(Schema.String),
  queueId: Schema.optional(Schema.String),
  from: TimeParam,
  to: TimeParam,
  length: Schema.optional(Schema.Literal("15", "30", "60")),
  timezone: Schema.optional(Schema.String.annotations({
    description: "IANA zone the intervals are aligned to and labelled in; default: the integration's zone, else UTC"
  })),
  fill: Schema.optional(Schema.Literal("zero", "none"))
})

/**
 * An agent status with its mappings: core's `AgentStatus` with the wire's names for its
 * instants (`startTime`, `endTime`).
 *
 * @since 0.1.0 @category schemas
 */
export const StatusView = Schema.Struct({
  integrationId: Domain.IntegrationId,
  ...Struct.pick(Domain.AgentStatus.fields, "agentIdentifier", "activityIdentifier"),
  start: Schema.propertySignature(Instant).pipe(Schema.fromKey("startTime")),
  end: Schema.propertySignature(Schema.NullOr(Instant)).pipe(Schema.fromKey("endTime")),
  employeeId: Schema.NullOr(Schema.String),
  activityId: Schema.NullOr(Schema.String)
}).annotations({ identifier: "AgentStatus" })

/** @since 0.1.0 @category schemas */
export const StatusParams = Schema.Struct({
  integrationId: Schema.optional(Schema.String),
  agentIdentifier: Schema.optional(Schema.String),
  from: TimeParam,
  to: TimeParam
})

/** @since 0.1.0 @category schemas */
export const Health = Schema.Struct({
  status: Schema.Literal("ok").annotations({ description: "The engine answers and its store is reachable (else 503)" }),
  storage: Schema.Struct({
    latencyMs: Schema.Number.annotations({ description: "How long a read of the store took for this answer" })
  }),
  scheduler: Schema.Boolean.annotations({
    description: "This engine runs core's Scheduler (pull and realtime imports); false: push only"
  }),
  startedAt: Instant.annotations({ description: "When the HTTP adapter started" }),
  uptimeSeconds: Schema.Number.annotations({ description: "Seconds since startedAt" })
}).annotations({ identifier: "Health", description: "Liveness and readiness of the engine" })
