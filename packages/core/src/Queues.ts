/**
 * Queues: created by integrations on first sight of (identifier, name), or by hand.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Channel, Queue, QueueId } from "./Domain.js"
import type { IntegrationId, TenantId, WorkloadId } from "./Domain.js"
import { QueueNotFound, QueueUndeletable } from "./Errors.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Storage } from "./Storage.js"

/** A queue with the workloads it sits in. @since 0.1.0 @category models */
export interface QueueView {
  readonly queue: Queue
  readonly workloadIds: ReadonlyArray<WorkloadId>
}

/** @since 0.1.0 @category models */
export const CreateQueue = Schema.Struct({
  identifier: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
  name: Schema.String.pipe(Schema.maxLength(255)),
  channel: Channel
})

const decodeQueueId = Schema.decodeOption(QueueId)

/**
 * @since 0.1.0 @category services
 */
export class Queues extends Effect.Service<Queues>()("@acd-bridge/core/Queues", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const keys = yield* KeyMaterial

    const list = Effect.fn("Queues.list")(function*(tenantId: TenantId, integrationId?: IntegrationId) {
      const queues = yield* storage.queues.list({ tenantId, integrationId })
      const memberships = yield* storage.queues.workloadIds(queues.map((q) => q.id))
      return queues.map((queue): QueueView => ({ queue, workloadIds: memberships.get(queue.id) ?? [] }))
    })

    const get = Effect.fn("Queues.get")(function*(tenantId: TenantId, id: string) {
      // text no id can be (blank, padded) names nothing; `make` would throw on it
      const key = decodeQueueId(id)
      const found = Option.isNone(key) ? Option.none<Queue>() : yield* storage.queues.get(key.value)
      if (Option.isNone(found) || found.value.tenantId !== tenantId) return yield* new QueueNotFound({ queueId: id })
      return found.value
    })

    /** A queue made by hand, e.g. for back-office work no integration reports. */
    const create = Effect.fn("Queues.create")(function*(tenantId: TenantId, input: typeof CreateQueue.Type) {
      const queue = new Queue({
        id: QueueId.make(keys.uuid()),
        tenantId,
        integrationId: null,
        identifier: input.identifier,
        name: input.name,
        channel: input.channel,
        createdByIntegration: false,
        createdAt: DateTime.unsafeMake(yield* Clock.currentTimeMillis)
      })
      yield* storage.queues.insert(queue)
      return queue
    })

    /** Queues created by an integration can't be deleted, whatever the integration's state. */
    const remove = Effect.fn("Queues.delete")(function*(tenantId: TenantId, id: string) {
      const queue = yield* get(tenantId, id)
      if (queue.createdByIntegration && queue.integrationId !== null) {
        return yield* new QueueUndeletable({ queueId: queue.id, integrationId: queue.integrationId })
      }
      yield* storage.queues.delete(queue.id)
    })

    return { list, get, create, delete: remove } as const
  }),
  dependencies: [KeyMaterial.Default]
}) {}
