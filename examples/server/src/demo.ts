/**
 * The demo tenant: every way data arrives, on one server.
 *
 * - **Push**: the integration "Demo ACD" (`api-push`) and the feeder (`feeder.ts`), a pretend
 *   ACD posting contacts and agent statuses to the push API over real HTTP.
 * - **Cloud pull**: the integration "Vonage (simulated)" (`vonage`), imported by the server's
 *   scheduler from a local simulator of the Vonage Insights Stats API
 *   (`@acd-bridge/vonage/simulator`) that serves a live contact centre: a seeded testkit
 *   `Scenario` from yesterday to tomorrow, shown up to the present as time goes by. Its first
 *   import reads the last day (newest first), so its intervals show within seconds; then every
 *   15 minutes after Vonage's settle delay.
 */
import { PushConnector } from "@acd-bridge/api-push"
import { ApiKeys, Integrations, Scheduler } from "@acd-bridge/core"
import type { Server } from "@acd-bridge/server"
import * as Scenario from "@acd-bridge/testkit/Scenario"
import { Vonage } from "@acd-bridge/vonage"
import { VonageSimulator } from "@acd-bridge/vonage/simulator"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** The push integration's name. */
export const pushName = "Demo ACD"
/** The simulated cloud integration's name. */
export const vonageName = "Vonage (simulated)"
/** The zone the demo's contact centres work in. */
export const timezone = "Europe/Berlin"

const HOUR = 3_600_000

/** The push integration: found again after a restart, created on first start. A fresh API key each start. */
export const setUpPush = (started: Server.Started) =>
  Effect.gen(function*() {
    const integrations = yield* Integrations.Integrations
    const existing = (yield* integrations.list(started.tenantId)).find((i) =>
      i.connector === PushConnector.key && i.name === pushName && i.status !== "deleted"
    )
    const integration = existing ??
      (yield* integrations.create(started.tenantId, { name: pushName, connector: PushConnector.key, timezone }))
        .integration
    const { apiKey } = yield* (yield* ApiKeys.ApiKeys).generate(started.tenantId, integration.id)
    return { integration, apiKey, created: existing === undefined }
  })

/**
 * The simulated Vonage contact centre and its integration: the simulator listens on a new
 * port at every start, so an existing integration gets the new address (a config change,
 * which also wakes it).
 */
export const setUpVonage = (started: Server.Started, seed = 1) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const scenario = Scenario.generate({
      seed,
      from: Math.floor((now - 26 * HOUR) / HOUR) * HOUR,
      to: Math.ceil((now + 24 * HOUR) / HOUR) * HOUR,
      timezone,
      queues: [
        { identifier: "billing", name: "Billing", channel: "calls", dailyPeak: 40, talkMeanSeconds: 300 },
        { identifier: "webchat", name: "Web Chat", channel: "chats", dailyPeak: 20, talkMeanSeconds: 420 }
      ],
      agents: 10,
      // the centre is open around the clock, so the demo shows traffic whenever it is started
      openingHour: 0,
      closingHour: 24
    })
    const simulator = yield* VonageSimulator.make(scenario, { now })
    // the simulated source shows what happened up to now, as time goes by
    yield* Effect.forkScoped(
      Clock.currentTimeMillis.pipe(
        Effect.flatMap((t) => Effect.sync(() => simulator.setNow(t))),
        Effect.repeat(Schedule.spaced("5 seconds"))
      )
    )
    const integrations = yield* Integrations.Integrations
    const existing = (yield* integrations.list(started.tenantId)).find((i) =>
      i.connector === Vonage.connector.key && i.name === vonageName && i.status !== "deleted"
    )
    const integration = existing === undefined
      ? (yield* integrations.create(started.tenantId, {
        name: vonageName,
        connector: Vonage.connector.key,
        deliveryMode: "cloud",
        schedule: { type: "historical", everyMinutes: 15 },
        timezone,
        historyDepthDays: 1,
        config: simulator.config()
      })).integration
      : yield* integrations.updateConfig(started.tenantId, existing.id, simulator.config())
    // start importing now rather than at the scheduler's next look
    yield* Effect.serviceOption(Scheduler.Scheduler).pipe(
      Effect.flatMap((scheduler) => scheduler._tag === "Some" ? Effect.ignore(scheduler.value.wake(started.tenantId, integration.id)) : Effect.void)
    )
    return { integration, simulator, created: existing === undefined }
  })
