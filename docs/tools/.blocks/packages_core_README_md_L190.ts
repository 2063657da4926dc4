const Host = Scheduler.layer({ tenants: [tenantId] }).pipe(Layer.provideMerge(EngineLive))

const scheduler = yield* Scheduler.Scheduler
yield* scheduler.watch(otherTenant)                    // schedule another tenant's integrations too
yield* scheduler.wake(tenantId, id)                    // react now (after resume, a config or cursor change)
yield* scheduler.reimport(tenantId, id, { from, to })  // import a range again (replaces)
yield* scheduler.health(tenantId, id)                  // lag, failing and why, retrying, rate limit, stall, backfill progress
const events = yield* scheduler.subscribe(tenantId, id) // Stream of committed windows (scoped)

export {}
