/**
 * What the scheduler's parts share: the services they run on, the outcome of one step of an
 * integration's fiber, what a fiber is doing, and small helpers over integrations.
 *
 * @internal
 */
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import type * as Effect from "effect/Effect"
import type { IntervalLength } from "../../Bucketing.js"
import { zone as resolveZone } from "../../Bucketing.js"
import type { ConnectorError } from "../../Connector.js"
import type { ConnectorRegistry, Registered } from "../../ConnectorRegistry.js"
import type { Integration } from "../../Domain.js"
import type {
  IdempotencyKeyReused,
  IntegrationDeleted,
  IntegrationNotActive,
  IntegrationNotFound,
  InvalidRecord,
  OwnershipLost,
  StagingFull,
  StorageError
} from "../../Errors.js"
import type { Ingest } from "../../Ingest.js"
import type { Fence, OwnershipShape } from "../../Ownership.js"
import type { LinkTasksShape } from "../../LinkTasks.js"
import type { ResolvedOptions, Task } from "../../Scheduler.js"
import type { StorageShape } from "../../Storage.js"
import type * as Plan from "../schedulePlan.js"

/** The services every part of the scheduler runs on. */
export interface Deps {
  readonly options: ResolvedOptions
  readonly storage: StorageShape
  readonly registry: ConnectorRegistry["Type"]
  readonly ingest: Ingest
  /** which integrations this node runs (every one, unless a cluster host says otherwise) */
  readonly ownership: OwnershipShape
  /**
   * Set when on-premise integrations are read by `link` agents (`LinkModel.layerOnPremise("link")`):
   * their windows are offered as tasks instead of being pulled here.
   */
  readonly links: LinkTasksShape | undefined
}

/** Whether the integration's windows go to a link as tasks instead of being pulled here. */
export const viaLink = (deps: Deps, integration: Integration): boolean =>
  deps.links !== undefined && integration.deliveryMode === "on-premise"

/** A defect in one line: an error's name and message, or the value as JSON where it has one. */
const describeDefect = (defect: unknown): string => {
  if (defect instanceof Error) return `${defect.name}: ${defect.message}`
  if (typeof defect === "string") return defect
  try {
    return JSON.stringify(defect) ?? String(defect)
  } catch {
    return String(defect)
  }
}

/**
 * Code that died instead of failing (a thrown exception, `Effect.die`), turned into a failure
 * so that it is recorded, counted and retried like any other.
 */
export class Defect extends Data.TaggedError("Defect")<{
  /** the connector's code died, or the scheduler's own step */
  readonly where: "connector" | "scheduler"
  readonly defect: unknown
}> {
  override get message() {
    return `${this.where === "connector" ? "The connector" : "The import"} failed unexpectedly: ${
      describeDefect(this.defect)
    }`
  }
}

/** Everything a window, a realtime batch or a step can fail with. */
export type WindowError =
  | ConnectorError
  | Defect
  | StorageError
  | IntegrationNotActive
  | IntegrationDeleted
  | IntegrationNotFound
  | InvalidRecord
  | StagingFull
  | IdempotencyKeyReused
  | OwnershipLost

/** What an integration's fiber does after one step. */
export type Outcome =
  /** step again at once; `succeeded` starts the backoff over */
  | { readonly _tag: "Again"; readonly succeeded: boolean }
  /** wait until an instant; a wakeable wait ends early on `wake` */
  | {
    readonly _tag: "Wait"
    readonly until: number
    readonly wakeable: boolean
    /** the source asked to wait (for health) */
    readonly rateLimited?: Task | undefined
  }
  /** wait with the backoff; `reset` starts it over (the source was healthy until now) */
  | { readonly _tag: "Backoff"; readonly reset?: boolean | undefined }
  | { readonly _tag: "Stop" }

export const again: Outcome = { _tag: "Again", succeeded: true }
export const retry: Outcome = { _tag: "Again", succeeded: false }
export const stop: Outcome = { _tag: "Stop" }

/** What an integration's fiber is doing, for `awaitIdle` and health. */
export type FiberState =
  | { readonly _tag: "Busy" }
  | {
    readonly _tag: "Waiting"
    readonly until: number
    readonly wakeable: boolean
    readonly rateLimited?: Task | undefined
    /** waiting out the backoff after a failure */
    readonly backoff?: boolean | undefined
  }
  /** a realtime stream is open and waiting for the source */
  | { readonly _tag: "Streaming" }
  /** a window is offered to a link, waiting for a link to run it (idle: it waits for the outside) */
  | { readonly _tag: "Linked"; readonly taskId: string }

/** An integration's fiber as the rest of the scheduler reaches it. */
export interface Handle {
  /** opened by `wake`: ends a wakeable wait */
  readonly latch: Effect.Latch
  /** held while cursors are compared and written, so an operator's change and a commit never interleave */
  readonly lock: Effect.Semaphore
  /** `wake` was called since the fiber last started a step */
  woken: boolean
}

/** What one integration's fiber remembers between steps. */
export interface Life {
  /** the schedule (re)started: more than one missing interval becomes a resume gap */
  resumed: boolean
  /** `updatedAt` of the integration at the last step: a change (pause, resume, config) is a restart */
  seen: number | undefined
  /** the lease this node holds on the integration, checked by every commit (none on a single node) */
  fence: Fence | undefined
}

export const toUtc = (ms: number): DateTime.Utc => DateTime.unsafeMake(ms)

export const cadenceOf = (integration: Integration): IntervalLength | undefined =>
  integration.schedule.type === "historical" ? integration.schedule.everyMinutes : undefined

/** The planner's view of an integration's timing, or none for realtime schedules. */
export const timingOf = (
  options: ResolvedOptions,
  integration: Integration,
  registered: Registered
): Plan.Timing | undefined => {
  const cadence = cadenceOf(integration)
  if (cadence === undefined) return undefined
  return {
    cadence,
    zone: Either.getOrElse(resolveZone(integration.timezone), () => DateTime.zoneMakeOffset(0)),
    settleMs: registered.settleDelayMs ?? options.settleDelayMs,
    lookbackMs: options.lookbackMs,
    chunkMs: options.chunkMs,
    order: options.historyOrder
  }
}

/** How many days of history the first connect imports: the integration's depth, capped by the source. */
export const historyDays = (integration: Integration, registered: Registered): number =>
  Math.max(1, Math.min(integration.historyDepthDays, registered.historyLimitDays ?? Number.POSITIVE_INFINITY))
