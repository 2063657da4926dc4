/**
 * Workloads group queues for forecasting. A queue may sit in several workloads; a deleted
 * integration's queues stay where they are but can't join a workload.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { QueueId, Workload, WorkloadId } from "./Domain.js"
import type { TenantId } from "./Domain.js"
import { QueueOfDeletedIntegration, WorkloadNotFound } from "./Errors.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Queues } from "./Queues.js"
import { Storage } from "./Storage.js"

/** @since 0.1.0 @category models */
export const CreateWorkload = Schema.Struct({
  name: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)),
  queueIds: Schema.Array(Schema.String)
})

const decodeWorkloadId = Schema.decodeOption(WorkloadId)

/**
 * @since 0.1.0 @category services
 */
export class Workloads extends Effect.Service<Workloads>()("@acd-bridge/core/Workloads", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const queues = yield* Queues
    const keys = yield* KeyMaterial

    /** Every new member must exist in the tenant and not belong to a deleted integration. */
    const checkJoining = Effect.fn(function*(tenantId: TenantId, ids: ReadonlyArray<string>) {
      const out: Array<QueueId> = []
      for (const id of ids) {
        const queue = yield* queues.get(tenantId, id)
        if (queue.integrationId !== null) {
          const integration = yield* storage.integrations.get(queue.integrationId)
          if (Option.isSome(integration) && integration.value.status === "deleted") {
            return yield* new QueueOfDeletedIntegration({ queueId: queue.id, integrationId: queue.integrationId })
          }
        }
        if (!out.includes(queue.id)) out.push(queue.id)
      }
      return out
    })

    const create = Effect.fn("Workloads.create")(function*(tenantId: TenantId, input: typeof CreateWorkload.Type) {
      const queueIds = yield* checkJoining(tenantId, input.queueIds)
      const workload = new Workload({
        id: WorkloadId.make(keys.uuid()),
        tenantId,
        name: input.name,
        queueIds,
        createdAt: DateTime.unsafeMake(yield* Clock.currentTimeMillis)
      })
      yield* storage.workloads.insert(workload)
      return workload
    })

    const get = Effect.fn("Workloads.get")(function*(tenantId: TenantId, id: string) {
      // text no id can be (blank, padded) names nothing; `make` would throw on it
      const key = decodeWorkloadId(id)
      const found = Option.isNone(key) ? Option.none<Workload>() : yield* storage.workloads.get(key.value)
      if (Option.isNone(found) || found.value.tenantId !== tenantId) {
        return yield* new WorkloadNotFound({ workloadId: id })
      }
      return found.value
    })

    /**
     * Replaces the workload's queues. Members that stay are not re-checked, so a deleted
     * integration's queue keeps its place; only queues that join are.
     */
    const setQueues = Effect.fn("Workloads.setQueues")(
      function*(tenantId: TenantId, id: string, queueIds: ReadonlyArray<string>) {
        const workload = yield* get(tenantId, id)
        const current = new Set<string>(workload.queueIds)
        const joining = yield* checkJoining(tenantId, queueIds.filter((q) => !current.has(q)))
        const staying = workload.queueIds.filter((q) => queueIds.includes(q))
        const ordered = queueIds.map((q) => QueueId.make(q)).filter((q, i, all) =>
          (staying.includes(q) || joining.includes(q)) && all.indexOf(q) === i
        )
        yield* storage.workloads.setQueues(workload.id, ordered)
        return new Workload({ ...workload, queueIds: ordered })
      }
    )

    const list = (tenantId: TenantId) => storage.workloads.list(tenantId)

    return { create, get, setQueues, list } as const
  }),
  dependencies: [Queues.Default, KeyMaterial.Default]
}) {}
