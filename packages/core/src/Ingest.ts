/**
 * The one way data enters the stores. A batch is validated, then applied whole or not at all,
 * with the queues it creates and the run that records it, in one unit of work.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { AgentStatuses } from "./AgentStatuses.js"
import { batchSize, ImportRun, ImportRunId, IntegrationId } from "./Domain.js"
import type { Batch, ImportRunKind, Integration, RejectedRecord } from "./Domain.js"
import { Forbidden, IntegrationNotFound, InvalidRecord } from "./Errors.js"
import { KeyMaterial } from "./KeyMaterial.js"
import type { Principal } from "./Principal.js"
import type { IngestOutcome, ImportRunDraft } from "./Storage.js"
import { Storage } from "./Storage.js"

/** Idempotency records are honoured this long. @since 0.1.0 @category constants */
export const idempotencyTtlMs = 24 * 60 * 60 * 1000

/** Default bound of records staged while an integration is paused. @since 0.1.0 @category constants */
export const defaultStagingLimit = 1_000_000

/**
 * What a host may set on `Ingest`. Every field has a default.
 *
 * @since 0.1.0 @category models
 */
export interface Options {
  /**
   * Most records a paused integration may hold staged (default `defaultStagingLimit`,
   * 1,000,000); a push past it fails with `StagingFull` (HTTP 429). A whole number ≥ 0.
   */
  readonly stagingLimit?: number | undefined
}

/**
 * Options with every default filled in.
 *
 * @since 0.1.0 @category models
 */
export interface ResolvedOptions {
  readonly stagingLimit: number
}

/**
 * Fills in the defaults; dies with `IllegalArgumentException` on a staging limit that is not
 * a whole number ≥ 0 (a `NaN` limit would never be reached, so staging would be unbounded).
 *
 * @since 0.1.0 @category constructors
 */
export const resolveOptions = (options: Options = {}): ResolvedOptions => {
  const stagingLimit = options.stagingLimit ?? defaultStagingLimit
  if (!Number.isSafeInteger(stagingLimit) || stagingLimit < 0) {
    throw new Cause.IllegalArgumentException(
      `Ingest: stagingLimit must be a whole number >= 0, got ${String(options.stagingLimit)}`
    )
  }
  return { stagingLimit }
}

/**
 * `Ingest`'s options, read once when its layer is built; without them the defaults hold.
 * `layerOptions` sets them.
 *
 * @since 0.1.0 @category tags
 */
export class IngestOptions extends Context.Reference<IngestOptions>()("@acd-bridge/core/IngestOptions", {
  defaultValue: (): ResolvedOptions => resolveOptions()
}) {}

/**
 * Sets `Ingest`'s options for the layers built on it. Provide it under `Engine.layer`, which
 * builds `Ingest`:
 *
 * ```ts
 * const EngineLive = Engine.layer.pipe(
 *   Layer.provide(Ingest.layerOptions({ stagingLimit: 50_000 })),
 *   Layer.provideMerge(Layer.mergeAll(storage, registry))
 * )
 * ```
 *
 * An invalid option fails the layer when it is built (a defect), not on the first push.
 *
 * @since 0.1.0 @category layers
 */
export const layerOptions = (options: Options): Layer.Layer<IngestOptions> =>
  Layer.sync(IngestOptions, () => resolveOptions(options))

/**
 * Rules a batch must meet beyond its schema: a status must not end before it starts.
 *
 * @since 0.1.0 @category validation
 */
export const validate = (batch: Batch): Option.Option<InvalidRecord> => {
  for (let i = 0; i < batch.statuses.length; i++) {
    const s = batch.statuses[i]!
    if (s.end !== null && DateTime.lessThan(s.end, s.start)) {
      return Option.some(new InvalidRecord({ index: i, field: "endTime", reason: "endTime is before startTime" }))
    }
  }
  return Option.none()
}

/** @since 0.1.0 @category models */
export interface PushOptions {
  readonly idempotencyKey?: string | undefined
  /** A digest of the request body, so a reused key with another body is caught. */
  readonly requestHash?: string | undefined
}

/**
 * Who pushes into which integration, once it is established that they may (see
 * `Ingest.resolveTarget`): the integration is read once per push and passed on.
 *
 * @since 0.1.0 @category models
 */
export interface Target {
  readonly principal: Principal
  readonly integration: Integration
}

/** @since 0.1.0 @category models */
export interface WindowImport {
  readonly integration: Integration
  readonly batch: Batch
  readonly kind: ImportRunKind
  /** replace the integration's data in [from, to) (epoch ms) */
  readonly window?: { readonly from: number; readonly to: number } | undefined
  readonly watermark?: { readonly stream: string; readonly value: number } | undefined
  /** commit only while this lease epoch holds (`IngestRequest.fence`) */
  readonly fence?: { readonly stream: string; readonly epoch: number } | undefined
  /** commit only while the cursors still equal these (`IngestRequest.expectedCursors`) */
  readonly expectedCursors?: ReadonlyMap<string, number> | undefined
  readonly rejected?: number | undefined
  /** the rejected records, kept on the run (the first 1,000) */
  readonly problems?: ReadonlyArray<RejectedRecord> | undefined
  /**
   * `false`: don't record a run for this call, because the caller records one run for several
   * calls (a file applied in chunks, each with the file's progress as watermark).
   */
  readonly recordRun?: boolean | undefined
  /**
   * The run to record with this call instead of one that describes its batch: a caller that
   * applies one source in several calls (`recordRun: false`) records the whole source's run
   * with its last call, in that call's unit of work, so the run exists exactly when the last
   * part was applied.
   */
  readonly runSummary?: ImportRunSummary | undefined
}

/**
 * What an import run says, for `WindowImport.runSummary`.
 *
 * @since 0.1.0 @category models
 */
export interface ImportRunSummary {
  /** when the run started, epoch ms (the store measures the duration up to its write) */
  readonly started: number
  readonly read: number
  readonly applied: number
  readonly rejected: number
  readonly window?: { readonly from: number; readonly to: number } | undefined
  readonly error?: string | null | undefined
  /** the first 1,000 are kept */
  readonly problems?: ReadonlyArray<RejectedRecord> | undefined
}

/**
 * @since 0.1.0 @category services
 */
export class Ingest extends Effect.Service<Ingest>()("@acd-bridge/core/Ingest", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const statuses = yield* AgentStatuses
    const keys = yield* KeyMaterial
    const { stagingLimit } = yield* IngestOptions

    /** A run without its duration: the store measures that when it writes it with the data. */
    const describeRun = (integrationId: IntegrationId, kind: ImportRunKind, summary: ImportRunSummary): ImportRunDraft => ({
      id: ImportRunId.make(keys.uuid()),
      integrationId,
      kind,
      windowStart: summary.window ? DateTime.unsafeMake(summary.window.from) : null,
      windowEnd: summary.window ? DateTime.unsafeMake(summary.window.to) : null,
      read: summary.read,
      applied: summary.applied,
      rejected: summary.rejected,
      startedAt: DateTime.unsafeMake(summary.started),
      error: summary.error ?? null,
      problems: (summary.problems ?? []).slice(0, 1_000)
    })

    /**
     * Records a run on its own, in a unit of work of its own: for failed runs, and for callers
     * that apply with `recordRun: false` and record one run for several calls.
     */
    const record = (
      integrationId: IntegrationId,
      kind: ImportRunKind,
      started: number,
      counts: { read: number; applied: number; rejected: number },
      window: { from: number; to: number } | undefined,
      error: string | null,
      problems: ReadonlyArray<RejectedRecord> = []
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (finished) =>
        storage.runs.insert(
          new ImportRun({
            ...describeRun(integrationId, kind, { started, ...counts, window, error, problems }),
            durationMs: Math.max(0, finished - started)
          })
        ))

    /**
     * Whether `principal` may push into the integration, and the integration: an API key only
     * into its own (`Forbidden`), anyone only within their tenant (`IntegrationNotFound`). One
     * read. Whether it was deleted is checked where it can't change underneath: in the unit of
     * work that applies the batch (`IntegrationDeleted`).
     */
    const resolveTarget = Effect.fn("Ingest.resolveTarget")(function*(principal: Principal, integrationId: string) {
      if (principal._tag === "IntegrationKey" && principal.integrationId !== integrationId) {
        return yield* new Forbidden({
          reason: `This API key belongs to integration ${principal.integrationId}, not ${integrationId}`
        })
      }
      // text no id can be (blank, padded) names nothing; `make` would throw on it
      const key = Schema.decodeOption(IntegrationId)(integrationId)
      const found = Option.isNone(key) ? Option.none<Integration>() : yield* storage.integrations.get(key.value)
      if (Option.isNone(found) || found.value.tenantId !== principal.tenantId) {
        return yield* new IntegrationNotFound({ integrationId })
      }
      return { principal, integration: found.value } satisfies Target
    })

    /**
     * A push into a resolved target: validates and applies the batch with its run in one unit
     * of work (or stages it while paused, when the resume that applies it is what gets
     * recorded). A repeated Idempotency-Key returns the first answer and applies and records
     * nothing.
     */
    const pushTo = Effect.fn("Ingest.pushTo")(
      function*(target: Target, batch: Batch, options: PushOptions = {}) {
        const integration = target.integration
        const invalid = validate(batch)
        if (Option.isSome(invalid)) return yield* invalid.value
        const started = yield* Clock.currentTimeMillis
        const accepted = batchSize(batch)
        const outcome: IngestOutcome = yield* storage.data.ingest({
          integrationId: integration.id,
          batch,
          mode: "push",
          idempotency: options.idempotencyKey
            ? { key: options.idempotencyKey, requestHash: options.requestHash ?? "", ttlMs: idempotencyTtlMs }
            : undefined,
          stagingLimit,
          now: started,
          run: describeRun(integration.id, "push", { started, read: accepted, applied: accepted, rejected: 0 })
        }).pipe(
          // a push carries no fence (any node accepts pushes) and expects no cursors, so neither can refuse it
          Effect.catchTags({ OwnershipLost: (error) => Effect.die(error), CursorsMoved: (error) => Effect.die(error) })
        )
        if (outcome._tag === "Applied") {
          yield* statuses.publish(integration.tenantId, integration.id, batch.statuses)
        }
        yield* Effect.annotateCurrentSpan({ integrationId: integration.id, outcome: outcome._tag })
        return outcome
      }
    )

    /** `resolveTarget`, then `pushTo`. */
    const push = (principal: Principal, integrationId: string, batch: Batch, options: PushOptions = {}) =>
      Effect.flatMap(resolveTarget(principal, integrationId), (target) => pushTo(target, batch, options))

    /**
     * A window read by a pull connector: replaces the integration's data in the window and
     * commits the watermark and the run in the same unit of work. Fails with
     * `IntegrationNotActive` while paused (nothing applied or recorded; the gap is imported on
     * resume).
     */
    const importWindow = Effect.fn("Ingest.importWindow")(function*(input: WindowImport) {
      const invalid = validate(input.batch)
      if (Option.isSome(invalid)) return yield* invalid.value
      const started = yield* Clock.currentTimeMillis
      const applied = batchSize(input.batch)
      const rejected = input.rejected ?? 0
      // the caller's summary of a multi-call source, or this call's own run unless it records none
      const summary: ImportRunSummary | undefined = input.runSummary ??
        (input.recordRun === false
          ? undefined
          : { started, read: applied + rejected, applied, rejected, window: input.window, problems: input.problems })
      const outcome = yield* storage.data.ingest({
        integrationId: input.integration.id,
        batch: input.batch,
        mode: "pull",
        replaceWindow: input.window,
        watermark: input.watermark,
        fence: input.fence,
        expectedCursors: input.expectedCursors,
        stagingLimit,
        now: started,
        run: summary === undefined ? undefined : describeRun(input.integration.id, input.kind, summary)
      })
      if (input.kind === "realtime") {
        yield* statuses.publish(input.integration.tenantId, input.integration.id, input.batch.statuses)
      }
      return outcome
    })

    return { push, resolveTarget, pushTo, importWindow, record } as const
  }),
  dependencies: [AgentStatuses.Default, KeyMaterial.Default]
}) {}
