import type { IntegrationId } from "../Domain.js"
import type { IngestRun, ResumeRun } from "../Storage.js"

/** @internal */
export const resumeRunRecord = (integrationId: IntegrationId, run: ResumeRun, applied: number): IngestRun => ({
  id: run.id,
  integrationId,
  kind: "resume",
  windowStart: null,
  windowEnd: null,
  read: applied,
  applied,
  rejected: 0,
  startedAt: run.startedAt,
  error: null,
  problems: []
})
