/**
 * The records `LinkTasks` writes, built from what it was asked: a new task's fields, a
 * window's task, the import run of a result, and whether an open task offers a planned window.
 * Pure: ids and instants come from the caller.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import type { Integration, RejectedRecord } from "../../Domain.js"
import { ImportRunId } from "../../Domain.js"
import type { Link, SourceError } from "../../LinkModel.js"
import { LinkTask } from "../../LinkModel.js"
import type { ImportRunDraft } from "../../Storage.js"
import { sameCursors } from "../scheduler/windows.js"
import type { WindowOffer } from "./model.js"

/** A pending task of the integration with nothing offered yet: the fields every kind shares. */
const baseTask = (id: string, integration: Integration, at: number) => ({
  id,
  tenantId: integration.tenantId,
  integrationId: integration.id,
  linkId: integration.linkId,
  connector: integration.connector,
  state: "pending" as const,
  epoch: 0,
  leaseId: null,
  leasedBy: null,
  leaseUntil: null,
  attempts: 0,
  createdAt: at,
  updatedAt: at,
  finishedAt: null,
  answer: null,
  error: null,
  sourceError: null,
  file: null,
  position: null,
  progress: null,
  windowFrom: null,
  windowTo: null,
  watermarkStream: null,
  watermarkValue: null,
  planTask: null,
  snapshot: {}
})

/** The task that offers a planned window. */
export const windowTask = (id: string, integration: Integration, offer: WindowOffer, at: number) =>
  new LinkTask({
    ...baseTask(id, integration, at),
    kind: "window",
    runKind: offer.runKind,
    planTask: offer.planTask,
    windowFrom: offer.from,
    windowTo: offer.to,
    watermarkStream: offer.watermark?.stream ?? null,
    watermarkValue: offer.watermark?.value ?? null,
    snapshot: Object.fromEntries(offer.snapshot),
    progress: offer.progress ?? null
  })

/** The task of an integration's realtime stream, to start after `position`. */
export const realtimeTask = (id: string, integration: Integration, position: number | null, at: number) =>
  new LinkTask({ ...baseTask(id, integration, at), kind: "realtime", runKind: "realtime", position })

/** The task of a file a link found, held by that link from the start. */
export const fileTask = (
  id: string,
  integration: Integration,
  link: Link,
  file: { readonly name: string; readonly sha256: string },
  lease: { readonly leaseId: string; readonly at: number; readonly until: number }
) =>
  new LinkTask({
    ...baseTask(id, integration, lease.at),
    linkId: link.id,
    kind: "file",
    runKind: "pull",
    file: { name: file.name, sha256: file.sha256 },
    state: "leased",
    leaseId: lease.leaseId,
    leasedBy: link.id,
    leaseUntil: lease.until,
    attempts: 1
  })

/** The task failed with the link's error (or a refused result), its lease ended. */
export const failedTask = (task: LinkTask, at: number, error: SourceError) =>
  new LinkTask({
    ...task,
    state: "failed",
    epoch: task.epoch + 1,
    leaseUntil: null,
    updatedAt: at,
    finishedAt: at,
    error: error.message,
    sourceError: error
  })

/** Whether the open task offers exactly this planned window (bounds, kind, watermark, cursors). */
export const offers = (task: LinkTask, offer: WindowOffer) =>
  task.windowFrom === offer.from && task.windowTo === offer.to &&
  task.runKind === offer.runKind && task.watermarkStream === (offer.watermark?.stream ?? null) &&
  task.watermarkValue === (offer.watermark?.value ?? null) &&
  sameCursors(new Map(Object.entries(task.snapshot)), offer.snapshot)

/** The import run of a task's result (its first 1,000 problems kept). */
export const describeRun = (
  runId: string,
  task: LinkTask,
  started: number,
  counts: { read: number; applied: number; rejected: number },
  error: string | null,
  problems: ReadonlyArray<RejectedRecord> = []
): ImportRunDraft => ({
  id: ImportRunId.make(runId),
  integrationId: task.integrationId,
  kind: task.runKind,
  windowStart: task.windowFrom === null ? null : DateTime.unsafeMake(task.windowFrom),
  windowEnd: task.windowTo === null ? null : DateTime.unsafeMake(task.windowTo),
  read: counts.read,
  applied: counts.applied,
  rejected: counts.rejected,
  startedAt: DateTime.unsafeMake(started),
  error,
  problems: problems.slice(0, 1_000)
})
