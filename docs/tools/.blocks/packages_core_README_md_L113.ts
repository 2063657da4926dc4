import { Storage, StorageDriver } from "@acd-bridge/core"

const myDriver: Effect.Effect<StorageDriver.StorageDriverShape> = Effect.gen(function*() {
  return {
    // one unit of work: everything inside commits together or not at all (nested: a savepoint)
    transaction: (effect) => /* BEGIN … effect … COMMIT, ROLLBACK on failure or interruption */,
    // serialise a rule's read-then-write where writers run concurrently; a no-op if units run one at a time
    lock: (scope, key, mode) => Effect.void,
    integrations: { insert, get, list, update /* compare-and-set on version */ },
    queues: { … }, workloads: { … }, mappings: { … }, apiKeys: { … }, accessTokens: { … },
    runs: { … }, cursors: { …, compareAndSet }, stats: { add, replace, clearWindow, query },
    segments: { load, loadWindow, write, query, counts }, staging: { … }, idempotency: { … }
  }
})

const StorageLive = Layer.effect(Storage.Storage, Effect.flatMap(myDriver, (driver) => Storage.make(driver)))
// or: Storage.layer.pipe(Layer.provide(Layer.effect(StorageDriver.StorageDriver, myDriver)))

export {}
