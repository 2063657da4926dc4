import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Connector from "../src/Connector.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import type { Batch, Integration } from "../src/Domain.js"
import { BatchJson, TenantId } from "../src/Domain.js"
import * as Engine from "../src/Engine.js"
import { Integrations } from "../src/Integrations.js"
import { Lifecycle } from "../src/Lifecycle.js"
import type { Link } from "../src/LinkModel.js"
import * as LinkModel from "../src/LinkModel.js"
import { Links } from "../src/Links.js"
import { layerOptions, LinkTasks } from "../src/LinkTasks.js"
import * as Storage from "../src/Storage.js"
import type { TestSourceShape } from "./schedulerFixtures.js"
import {
  advance,
  cleanImport,
  HOUR,
  iso,
  makeSource,
  MIN,
  PullConfig,
  snapshot,
  startScheduler,
  stored,
  tenant,
  TestSource
} from "./schedulerFixtures.js"

const other = TenantId.make("tenant-other")

/** The test source as an on-premise connector: the engine never reads it in link mode, the "link" does. */
const onPremConnector = Connector.make({
  key: "test-onprem",
  displayName: "Test on-premise source",
  deliveryModes: ["on-premise"],
  dataKinds: ["contacts", "agentStatuses"],
  configSchema: PullConfig,
  // the link holds the stream open; the engine only offers it
  realtime: () => Stream.never,
  pull: (config, window) =>
    Stream.unwrap(Effect.gen(function*() {
      const source = yield* TestSource
      return Stream.make(
        yield* source.read(
          Redacted.value(config.apiKey),
          DateTime.toEpochMillis(window.from),
          DateTime.toEpochMillis(window.to)
        )
      )
    }))
})

const linkEngine = (source: TestSourceShape) =>
  Engine.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        Storage.layerMemory,
        ConnectorRegistry.layer(onPremConnector).pipe(Layer.provide(Layer.succeed(TestSource, source))),
        LinkModel.layerOnPremise("link")
      )
    )
  )

const encode = Schema.encodeSync(BatchJson)
const body = (batch: Batch) => JSON.stringify(encode(batch))

const createOnPrem = (linkId?: string, historyDepthDays = 1) =>
  Effect.flatMap(Integrations, (s) =>
    s.create(tenant, {
      name: "On-premise ACD",
      connector: "test-onprem",
      deliveryMode: "on-premise",
      schedule: { type: "historical", everyMinutes: 15 },
      historyDepthDays,
      timezone: "Europe/Berlin",
      // the connection config (and its secret) is the link's: the engine keeps no secret
      config: {},
      ...(linkId === undefined ? {} : { linkId })
    })).pipe(Effect.map((r) => r.integration))

/** What a link does with one leased task: read the source at the clock's present, upload, commit. */
const runTask = (source: TestSourceShape, link: Link, taskId: string, from: number, to: number) =>
  Effect.gen(function*() {
    const tasks = yield* LinkTasks
    const now = yield* TestClock.currentTimeMillis
    const batch = snapshot(source.options, from, to, now)
    const half = Math.floor(batch.contacts.length / 2)
    const parts: Array<Batch> = [
      { contacts: batch.contacts.slice(0, half), aggregates: batch.aggregates, statuses: [] },
      { contacts: batch.contacts.slice(half), aggregates: [], statuses: batch.statuses }
    ]
    let records = 0
    for (const [n, part] of parts.entries()) {
      const size = part.contacts.length + part.aggregates.length + part.statuses.length
      records += size
      yield* tasks.putPart(link, taskId, "r1", { n, records: size, body: body(part) })
    }
    return yield* tasks.commit(link, taskId, { resultId: "r1", parts: parts.length, records })
  })

/** Leases and runs every task offered to the link until none is left. */
const drain = (source: TestSourceShape, link: Link, serves: ReadonlyArray<Integration["id"]>) =>
  Effect.gen(function*() {
    const tasks = yield* LinkTasks
    let done = 0
    while (true) {
      const leased = yield* tasks.lease(link, { serves, max: 1, waitMs: 0 })
      if (leased.length === 0) return done
      const task = leased[0]!.task
      yield* runTask(source, link, task.id, task.windowFrom!, task.windowTo!)
      done++
    }
  })

/**
 * An on-premise integration with `historyDepthDays` of history at 2026-03-02 09:07 UTC, the
 * scheduler started and idle (its first windows offered), and a link "Site" to take them.
 */
const siteWithHistory = (historyDepthDays = 1) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
    const integration = yield* createOnPrem(undefined, historyDepthDays)
    const { scheduler } = yield* startScheduler({ tenants: [tenant] })
    yield* scheduler.awaitIdle
    const { link } = yield* (yield* Links).create(tenant, { name: "Site" })
    return { integration, scheduler, link, tasks: yield* LinkTasks, storage: yield* Storage.Storage }
  })

describe("Links", () => {
  it.effect("a token is shown once, kept as a hash, authenticates until revoked", () =>
    Effect.gen(function*() {
      const links = yield* Links
      const storage = yield* Storage.Storage
      const { link, token } = yield* links.create(tenant, { name: "Site Berlin" })
      assert.isTrue(token.startsWith(LinkModel.tokenPrefix))
      assert.isAtLeast(token.length, 40)
      assert.strictEqual(link.prefix, token.slice(0, LinkModel.visibleLength))
      const kept = Option.getOrThrow(yield* storage.links.get(link.id))
      assert.notInclude(JSON.stringify(kept), token)
      assert.strictEqual(kept.hash.length, 64)
      assert.strictEqual(Option.getOrThrow(yield* links.authenticate(token)).id, link.id)
      assert.isTrue(Option.isNone(yield* links.authenticate(token + "x")))
      assert.isTrue(Option.isNone(yield* links.authenticate("acd_notalinktoken")))

      yield* TestClock.setTime(iso("2026-03-02T09:00:00Z"))
      const seen = yield* links.seen(link, { agentVersion: "1.2.3", protocol: 1, serves: [] })
      const listed = (yield* links.list(tenant)).find((l) => l.id === link.id)!
      assert.strictEqual(listed.agentVersion, "1.2.3")
      assert.strictEqual(listed.lastSeenAt?.toJSON(), "2026-03-02T09:00:00.000Z")
      assert.deepStrictEqual(seen.lastSeenAt, listed.lastSeenAt)

      yield* links.revoke(tenant, link.id)
      assert.isTrue(Option.isNone(yield* links.authenticate(token)))
      // another tenant can neither see nor revoke it
      const missing = yield* Effect.flip(links.revoke(other, link.id))
      assert.strictEqual(missing._tag, "LinkNotFound")
      assert.isFalse((yield* links.list(other)).some((l) => l.id === link.id))
    }).pipe(Effect.provide(linkEngine({} as TestSourceShape))))
})

describe("LinkTasks: the scheduler offers on-premise windows to links", () => {
  it.scoped("history and incremental windows go to the link and land exactly as a local pull would", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 5 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createOnPrem()
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        // the engine never reads the source itself
        assert.deepStrictEqual(yield* source.windows, [])
        const waiting = yield* scheduler.health(tenant, integration.id)
        assert.isNotNull(waiting.waitingForLinkSince)
        assert.isTrue(waiting.waitingForLink)
        assert.isTrue(waiting.warnings.some((w) => w.startsWith("waiting for a link")))

        const links = yield* Links
        const { link } = yield* links.create(tenant, { name: "Site" })
        const tasks = yield* LinkTasks
        const leased = yield* tasks.lease(link, { serves: [integration.id], max: 5, waitMs: 0 })
        // one window at a time: the next is planned from the cursors the first commits
        assert.strictEqual(leased.length, 1)
        const first = leased[0]!.task
        assert.deepStrictEqual([first.kind, first.windowFrom, first.windowTo, first.planTask], [
          "window",
          iso("2026-03-01T09:00:00Z"),
          iso("2026-03-02T09:00:00Z"),
          "history"
        ])
        const held = yield* scheduler.health(tenant, integration.id)
        assert.isNull(held.waitingForLinkSince)
        assert.isFalse(held.waitingForLink)
        assert.isFalse(held.warnings.some((w) => w.startsWith("waiting for a link")))

        const answer = yield* runTask(source, link, first.id, first.windowFrom!, first.windowTo!)
        assert.strictEqual(answer.outcome, "applied")
        assert.isAbove(answer.applied, 0)
        yield* scheduler.awaitIdle
        // a day of history is one window; the next interval closes at 09:15 and settles at 09:20
        assert.strictEqual(yield* drain(source, link, [integration.id]), 0)
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T09:00:00Z"))

        // two incremental runs: the new interval, then the look-back
        yield* advance(scheduler, 13 * MIN, MIN)
        assert.strictEqual(yield* drain(source, link, [integration.id]), 1)
        yield* scheduler.awaitIdle
        assert.strictEqual(yield* drain(source, link, [integration.id]), 1)
        yield* scheduler.awaitIdle
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T09:15:00Z"))

        const storage = yield* Storage.Storage
        const runs = yield* storage.runs.list(integration.id, 20)
        assert.deepStrictEqual(runs.map((r) => r.kind).sort(), ["history", "pull", "pull"])
        const clean = yield* cleanImport(source, integration, iso("2026-03-01T09:00:00Z"), iso("2026-03-02T09:15:00Z"))
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
        assert.isAbove(clean.intervals.length, 50)

        // a repeated upload of a committed task changes nothing and answers the first answer
        const again = yield* runTask(source, link, first.id, first.windowFrom!, first.windowTo!)
        assert.deepStrictEqual(again, answer)
        assert.strictEqual((yield* storage.runs.list(integration.id, 20)).length, runs.length)
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
        assert.deepStrictEqual(yield* source.windows, [])
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("a history of several days: the next window is offered ahead and commits still land in order", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 9 })
      return yield* Effect.gen(function*() {
        const { integration, scheduler, link, tasks, storage } = yield* siteWithHistory(3)
        // the newest day, and the day before it, planned from the cursors the first will commit:
        // a link reads the second while the first uploads
        const leased = yield* tasks.lease(link, { serves: [integration.id], max: 5, waitMs: 0 })
        assert.deepStrictEqual(leased.map((l) => [l.task.windowFrom, l.task.windowTo]), [
          [iso("2026-03-01T09:00:00Z"), iso("2026-03-02T09:00:00Z")],
          [iso("2026-02-28T09:00:00Z"), iso("2026-03-01T09:00:00Z")]
        ])
        const [first, second] = leased.map((l) => l.task)

        // the second's result arrives first: its commit waits for the first's, then applies
        const early = yield* Effect.fork(runTask(source, link, second!.id, second!.windowFrom!, second!.windowTo!))
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
        assert.isTrue(Option.isNone(yield* early.poll))
        assert.deepStrictEqual((yield* stored(storage, integration)).intervals, [])
        const answer = yield* runTask(source, link, first!.id, first!.windowFrom!, first!.windowTo!)
        assert.strictEqual(answer.outcome, "applied")
        const later = yield* Fiber.join(early)
        assert.strictEqual(later.outcome, "applied")
        assert.isAbove(later.applied, 0)
        yield* scheduler.awaitIdle

        // the scheduler found the task it had offered ahead: the third day is next, nothing was withdrawn
        const all = yield* storage.linkTasks.ofIntegration(integration.id, ["committed", "withdrawn", "pending", "leased"])
        assert.deepStrictEqual(all.map((t) => t.state), ["committed", "committed", "pending"])
        const [third] = yield* tasks.lease(link, { serves: [integration.id], max: 5, waitMs: 0 })
        assert.deepStrictEqual([third?.task.windowFrom, third?.task.windowTo], [
          iso("2026-02-27T09:00:00Z"),
          iso("2026-02-28T09:00:00Z")
        ])
        yield* runTask(source, link, third!.task.id, third!.task.windowFrom!, third!.task.windowTo!)
        yield* scheduler.awaitIdle
        assert.strictEqual((yield* scheduler.health(tenant, integration.id)).history?.done, true)
        const runs = yield* storage.runs.list(integration.id, 20)
        assert.deepStrictEqual(runs.map((r) => r.kind), ["history", "history", "history"])
        const clean = yield* cleanImport(source, integration, iso("2026-02-27T09:00:00Z"), iso("2026-03-02T09:00:00Z"))
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("with readAhead 2: two windows are offered ahead, and commits that arrive in reverse still land in order", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 9 })
      return yield* Effect.gen(function*() {
        const { integration, scheduler, link, tasks, storage } = yield* siteWithHistory(4)
        // the newest day, and the two days before it, each planned from
        // the cursors the commit before it will leave: a link reads them while the first uploads
        const leased = yield* tasks.lease(link, { serves: [integration.id], max: 5, waitMs: 0 })
        assert.deepStrictEqual(leased.map((l) => [l.task.windowFrom, l.task.windowTo]), [
          [iso("2026-03-01T09:00:00Z"), iso("2026-03-02T09:00:00Z")],
          [iso("2026-02-28T09:00:00Z"), iso("2026-03-01T09:00:00Z")],
          [iso("2026-02-27T09:00:00Z"), iso("2026-02-28T09:00:00Z")]
        ])
        const [first, second, third] = leased.map((l) => l.task)

        // the third's result arrives first, then the second's: each commit waits for the window
        // before it, then applies
        const latest = yield* Effect.fork(runTask(source, link, third!.id, third!.windowFrom!, third!.windowTo!))
        const early = yield* Effect.fork(runTask(source, link, second!.id, second!.windowFrom!, second!.windowTo!))
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
        assert.isTrue(Option.isNone(yield* latest.poll))
        assert.isTrue(Option.isNone(yield* early.poll))
        assert.deepStrictEqual((yield* stored(storage, integration)).intervals, [])
        const answer = yield* runTask(source, link, first!.id, first!.windowFrom!, first!.windowTo!)
        assert.strictEqual(answer.outcome, "applied")
        const later = yield* Fiber.join(early)
        assert.strictEqual(later.outcome, "applied")
        assert.isAbove(later.applied, 0)
        const last = yield* Fiber.join(latest)
        assert.strictEqual(last.outcome, "applied")
        assert.isAbove(last.applied, 0)
        yield* scheduler.awaitIdle

        // the scheduler found the tasks it had offered ahead: the fourth day is next, nothing was withdrawn
        const all = yield* storage.linkTasks.ofIntegration(integration.id, ["committed", "withdrawn", "pending", "leased"])
        assert.deepStrictEqual(all.map((t) => t.state), ["committed", "committed", "committed", "pending"])
        const [fourth] = yield* tasks.lease(link, { serves: [integration.id], max: 5, waitMs: 0 })
        assert.deepStrictEqual([fourth?.task.windowFrom, fourth?.task.windowTo], [
          iso("2026-02-26T09:00:00Z"),
          iso("2026-02-27T09:00:00Z")
        ])
        yield* runTask(source, link, fourth!.task.id, fourth!.task.windowFrom!, fourth!.task.windowTo!)
        yield* scheduler.awaitIdle
        assert.strictEqual((yield* scheduler.health(tenant, integration.id)).history?.done, true)
        const runs = yield* storage.runs.list(integration.id, 20)
        assert.deepStrictEqual(runs.map((r) => r.kind), ["history", "history", "history", "history"])
        const clean = yield* cleanImport(source, integration, iso("2026-02-26T09:00:00Z"), iso("2026-03-02T09:00:00Z"))
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
      }).pipe(Effect.provide(linkEngine(source).pipe(Layer.provide(layerOptions({ readAhead: 2 })))))
    }))

  it.scoped("a window offered ahead goes with the pause, and its early commit is refused", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 10 })
      return yield* Effect.gen(function*() {
        const { integration, scheduler, link, tasks, storage } = yield* siteWithHistory(3)
        const leased = yield* tasks.lease(link, { serves: [integration.id], max: 5, waitMs: 0 })
        assert.strictEqual(leased.length, 2)
        yield* (yield* Lifecycle).pause(tenant, integration.id)
        yield* advance(scheduler, 5 * MIN, MIN)
        assert.deepStrictEqual(yield* storage.linkTasks.ofIntegration(integration.id, ["pending", "leased"]), [])
        const gone = yield* Effect.flip(
          runTask(source, link, leased[1]!.task.id, leased[1]!.task.windowFrom!, leased[1]!.task.windowTo!)
        )
        assert.strictEqual(gone._tag, "TaskGone")
        assert.deepStrictEqual((yield* stored(storage, integration)).intervals, [])
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("an expired lease goes back to the queue: another link takes the task over", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 6 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createOnPrem()
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        const links = yield* Links
        const tasks = yield* LinkTasks
        const a = (yield* links.create(tenant, { name: "A" })).link
        const b = (yield* links.create(tenant, { name: "B" })).link
        const [held] = yield* tasks.lease(a, { serves: [integration.id], waitMs: 0 })
        assert.isDefined(held)
        // held: B gets nothing, even after a renewal extends it
        assert.deepStrictEqual(yield* tasks.lease(b, { serves: [integration.id], waitMs: 0 }), [])
        yield* TestClock.adjust(50_000)
        yield* tasks.renew(a, held!.task.id, held!.task.leaseId!)
        yield* TestClock.adjust(50_000)
        assert.deepStrictEqual(yield* tasks.lease(b, { serves: [integration.id], waitMs: 0 }), [])
        // A dies: 60 seconds after its last renewal B takes the task over
        yield* TestClock.adjust(10_001)
        const [taken] = yield* tasks.lease(b, { serves: [integration.id], waitMs: 0 })
        assert.strictEqual(taken?.task.id, held!.task.id)
        assert.strictEqual(taken?.task.attempts, 2)
        const lost = yield* Effect.flip(tasks.renew(a, held!.task.id, held!.task.leaseId!))
        assert.strictEqual(lost._tag, "LeaseLost")
        yield* runTask(source, b, taken!.task.id, taken!.task.windowFrom!, taken!.task.windowTo!)
        yield* scheduler.awaitIdle
        const health = yield* scheduler.health(tenant, integration.id)
        assert.isNotNull(health.history)
        assert.strictEqual(health.history?.windowsDone, 1)
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("pause withdraws the offered window and gives links no work; resume imports the gap once", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 7 })
      return yield* Effect.gen(function*() {
        const { integration, scheduler, link, tasks } = yield* siteWithHistory()
        yield* drain(source, link, [integration.id])
        yield* scheduler.awaitIdle
        yield* drain(source, link, [integration.id])
        yield* scheduler.awaitIdle
        const lifecycle = yield* Lifecycle
        yield* lifecycle.pause(tenant, integration.id)
        yield* advance(scheduler, 2 * HOUR, 5 * MIN)
        assert.deepStrictEqual(yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 }), [])
        const storage = yield* Storage.Storage
        assert.deepStrictEqual(yield* storage.linkTasks.ofIntegration(integration.id, ["pending", "leased"]), [])
        const watermark = (yield* scheduler.cursor(tenant, integration.id)).incremental
        assert.strictEqual(watermark, iso("2026-03-02T09:00:00Z"))

        yield* lifecycle.resume(tenant, integration.id)
        yield* scheduler.wake(tenant, integration.id)
        yield* scheduler.awaitIdle
        let windows = 0
        for (let i = 0; i < 20; i++) {
          const n = yield* drain(source, link, [integration.id])
          yield* scheduler.awaitIdle
          if (n === 0) break
          windows += n
        }
        assert.isAbove(windows, 0)
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).incremental, iso("2026-03-02T11:00:00Z"))
        const clean = yield* cleanImport(source, integration, iso("2026-03-01T09:00:00Z"), iso("2026-03-02T11:00:00Z"))
        assert.deepStrictEqual(yield* stored(storage, integration), clean)
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("a link of another tenant, or a revoked link, never gets or commits a task", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 8 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createOnPrem()
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        const links = yield* Links
        const tasks = yield* LinkTasks
        const stranger = (yield* links.create(other, { name: "Other tenant" })).link
        // even naming the integration, another tenant's link gets nothing
        assert.deepStrictEqual(yield* tasks.lease(stranger, { serves: [integration.id], waitMs: 0 }), [])
        const own = yield* links.create(tenant, { name: "Own" })
        const [held] = yield* tasks.lease(own.link, { serves: [integration.id], waitMs: 0 })
        const taskId = held!.task.id
        const notFound = yield* Effect.flip(
          tasks.commit(stranger, taskId, { resultId: "x", parts: 0, records: 0 })
        )
        assert.strictEqual(notFound._tag, "TaskNotFound")
        const notPut = yield* Effect.flip(tasks.putPart(stranger, taskId, "x", { n: 0, records: 0, body: "{}" }))
        assert.strictEqual(notPut._tag, "TaskNotFound")

        // revoking hands the task back at once, and the token stops working
        yield* links.revoke(tenant, own.link.id)
        assert.isTrue(Option.isNone(yield* links.authenticate(own.token)))
        const next = (yield* links.create(tenant, { name: "Replacement" })).link
        const [taken] = yield* tasks.lease(next, { serves: [integration.id], waitMs: 0 })
        assert.strictEqual(taken?.task.id, taskId)

        // an integration bound to one link is served by that link only
        const bound = yield* createOnPrem(next.id)
        yield* scheduler.wake(tenant, bound.id)
        yield* scheduler.awaitIdle
        const third = (yield* links.create(tenant, { name: "Third" })).link
        assert.deepStrictEqual(yield* tasks.lease(third, { serves: [bound.id], waitMs: 0 }), [])
        const [boundTask] = yield* tasks.lease(next, { serves: [bound.id], waitMs: 0 })
        assert.strictEqual(boundTask?.task.integrationId, bound.id)
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("a part decoded at its upload is committed as decoded, unless the stored text is another", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 11 })
      return yield* Effect.gen(function*() {
        const { integration, link, tasks, storage } = yield* siteWithHistory(3)
        const now = yield* TestClock.currentTimeMillis
        const contactsOf = (task: LinkModel.LinkTask) =>
          snapshot(source.options, task.windowFrom!, task.windowTo!, now).contacts
        const oneContact = (task: LinkModel.LinkTask): Batch => ({ contacts: contactsOf(task).slice(0, 1), aggregates: [], statuses: [] })
        const twoContacts = (task: LinkModel.LinkTask): Batch => ({ contacts: contactsOf(task).slice(0, 2), aggregates: [], statuses: [] })

        // the API hands over what it decoded from the text it stores: the commit takes that, and
        // doesn't read the text again (a text that isn't JSON would be refused otherwise)
        // the window and the one offered ahead of its commit
        const [first, second] = yield* tasks.lease(link, { serves: [integration.id], max: 2, waitMs: 0 })
        const one = first!.task
        assert.strictEqual(contactsOf(one).length >= 2, true)
        yield* tasks.putPart(link, one.id, "r", { n: 0, records: 2, body: "kept as uploaded", batch: twoContacts(one) })
        const answered = yield* tasks.commit(link, one.id, { resultId: "r", parts: 1, records: 2 })
        assert.strictEqual(answered.applied, 2)

        // another engine process (or a repeated upload there) stored another text for the part:
        // the stored text wins
        const two = second!.task
        assert.strictEqual(contactsOf(two).length >= 2, true)
        assert.notStrictEqual(two.id, one.id)
        yield* tasks.putPart(link, two.id, "r", { n: 0, records: 1, body: body(oneContact(two)), batch: oneContact(two) })
        yield* storage.linkTasks.putPart(two.id, "r", { n: 0, records: 2, body: body(twoContacts(two)) })
        const fromStorage = yield* tasks.commit(link, two.id, { resultId: "r", parts: 1, records: 2 })
        assert.strictEqual(fromStorage.applied, 2)
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("an invalid record fails the task with its run; the next run offers the window again", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 9 })
      return yield* Effect.gen(function*() {
        const { integration, scheduler, link, tasks } = yield* siteWithHistory()
        const [held] = yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 })
        const task = held!.task
        const before = yield* scheduler.cursor(tenant, integration.id)
        const bad = {
          contacts: [],
          aggregates: [],
          statuses: [{
            agentIdentifier: "a-1",
            activityIdentifier: "BREAK",
            start: "2026-03-02T08:00:00.000Z",
            end: "2026-03-02T07:00:00.000Z"
          }]
        }
        yield* tasks.putPart(link, task.id, "r", { n: 0, records: 1, body: JSON.stringify(bad) })
        const refused = yield* Effect.flip(tasks.commit(link, task.id, { resultId: "r", parts: 1, records: 1 }))
        assert.strictEqual(refused._tag, "InvalidRecord")
        const storage = yield* Storage.Storage
        const failed = Option.getOrThrow(yield* storage.linkTasks.get(task.id))
        assert.strictEqual(failed.state, "failed")
        const runs = yield* storage.runs.list(integration.id, 5)
        assert.strictEqual(runs.length, 1)
        assert.isNotNull(runs[0]!.error)
        yield* scheduler.awaitIdle
        // nothing moved; the same window is offered again at the next run
        assert.deepStrictEqual(yield* scheduler.cursor(tenant, integration.id), before)
        assert.deepStrictEqual(yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 }), [])
        yield* advance(scheduler, 15 * MIN, MIN)
        const offered: Array<readonly [number | null, number | null]> = []
        for (let i = 0; i < 5; i++) {
          const [next] = yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 })
          if (next === undefined) break
          assert.notStrictEqual(next.task.id, task.id)
          offered.push([next.task.windowFrom, next.task.windowTo])
          yield* runTask(source, link, next.task.id, next.task.windowFrom!, next.task.windowTo!)
          yield* scheduler.awaitIdle
        }
        // the new interval first, then the history window that failed
        assert.deepStrictEqual(offered, [
          [iso("2026-03-02T09:00:00Z"), iso("2026-03-02T09:15:00Z")],
          [task.windowFrom, task.windowTo]
        ])
      }).pipe(Effect.provide(linkEngine(source)))
    }))
})

describe("LinkTasks: files a link found, realtime streams", () => {
  const sha = (c: string) => c.repeat(64)

  it.scoped("a file: committed once; the same content finds its task; a bad row refuses it naming the line; other tenants can't offer it", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 11 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integration = yield* createOnPrem()
        const links = yield* Links
        const tasks = yield* LinkTasks
        const storage = yield* Storage.Storage
        const { link } = yield* links.create(tenant, { name: "File share" })
        const contacts = [0, 1, 2].map((i) => ({
          queueIdentifier: "q1",
          queueName: "Level 1",
          channel: "calls" as const,
          timestamp: DateTime.unsafeMake(iso("2026-03-01T08:00:00Z") + i * 15 * MIN),
          offered: true,
          handled: true,
          durationMs: 60_000
        }))
        const offered = yield* tasks.offerFile(link, { integrationId: integration.id, resultId: sha("a"), name: "calls.csv", sha256: sha("a") })
        assert.strictEqual(offered.kind, "file")
        assert.strictEqual(offered.state, "leased")
        assert.isBelow(offered.id.length, 100)
        // a file task is the offering link's: no poll hands it to anybody
        assert.deepStrictEqual(yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 }), [])
        yield* tasks.putPart(link, offered.id, sha("a"), { n: 0, records: 3, body: body({ contacts, aggregates: [], statuses: [] }) })
        const answer = yield* tasks.commit(link, offered.id, { resultId: sha("a"), parts: 1, records: 3 })
        assert.include(answer, { outcome: "applied", read: 3, applied: 3, rejected: 0 })
        // the same content again: the same task, with its answer; committing again changes nothing
        const again = yield* tasks.offerFile(link, { integrationId: integration.id, resultId: sha("a"), name: "copy.csv", sha256: sha("a") })
        assert.strictEqual(again.id, offered.id)
        assert.strictEqual(again.state, "committed")
        assert.deepStrictEqual(yield* tasks.commit(link, offered.id, { resultId: sha("a"), parts: 1, records: 3 }), answer)
        const offeredSum = Effect.map(
          storage.data.intervalStats({ tenantId: tenant, integrationId: integration.id, from: 0, to: Number.MAX_SAFE_INTEGER }),
          (rows) => rows.reduce((n, r) => n + r.offered, 0)
        )
        assert.strictEqual(yield* offeredSum, 3)

        // a file with a row the link could not read: refused whole, naming the row; the run keeps why
        const bad = yield* tasks.offerFile(link, { integrationId: integration.id, resultId: sha("b"), name: "bad.csv", sha256: sha("b") })
        yield* tasks.putPart(link, bad.id, sha("b"), { n: 0, records: 1, body: body({ contacts: contacts.slice(0, 1), aggregates: [], statuses: [] }) })
        const refused = yield* Effect.flip(tasks.commit(link, bad.id, {
          resultId: sha("b"),
          parts: 1,
          records: 1,
          rejected: 1,
          problems: [{ record: "bad.csv:3", field: "duration", reason: "\"abc\" is not a number of seconds" }]
        }))
        assert.strictEqual(refused._tag, "FileRejected")
        assert.include(refused.message, "bad.csv:3: duration: \"abc\" is not a number of seconds")
        const runs = yield* storage.runs.list(integration.id, 10)
        const failed = runs.find((r) => r.error !== null)!
        assert.include(failed.error!, "bad.csv:3")
        assert.deepStrictEqual(failed.problems.map((p) => p.record), ["bad.csv:3"])
        assert.strictEqual(failed.rejected, 1)
        assert.strictEqual(yield* offeredSum, 3)

        // another tenant's link: the integration does not exist for it
        const stranger = (yield* links.create(other, { name: "Other tenant" })).link
        const notFound = yield* Effect.flip(
          tasks.offerFile(stranger, { integrationId: integration.id, resultId: sha("c"), name: "x.csv", sha256: sha("c") })
        )
        assert.strictEqual(notFound._tag, "IntegrationNotFound")
      }).pipe(Effect.provide(linkEngine(source)))
    }))

  it.scoped("a realtime schedule: the scheduler offers the stream as a task, batches apply with their position, pause withdraws it", () =>
    Effect.gen(function*() {
      const source = yield* makeSource({ seed: 12 })
      return yield* Effect.gen(function*() {
        yield* TestClock.setTime(iso("2026-03-02T09:07:00Z"))
        const integrations = yield* Integrations
        const { integration } = yield* integrations.create(tenant, {
          name: "Agent states",
          connector: "test-onprem",
          deliveryMode: "on-premise",
          dataKinds: ["agentStatuses"],
          schedule: { type: "realtime" },
          historyDepthDays: 1,
          timezone: "UTC",
          config: {}
        })
        const { scheduler } = yield* startScheduler({ tenants: [tenant] })
        yield* scheduler.awaitIdle
        const links = yield* Links
        const tasks = yield* LinkTasks
        const storage = yield* Storage.Storage
        const { link } = yield* links.create(tenant, { name: "Site" })
        const [leased] = yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 })
        assert.strictEqual(leased?.task.kind, "realtime")
        const task = leased!.task
        const status = {
          agentIdentifier: "a-1",
          activityIdentifier: "READY",
          start: DateTime.unsafeMake(iso("2026-03-02T09:00:00Z")),
          end: null
        }
        const applied = yield* tasks.realtime(link, task.id, task.leaseId!, {
          position: 42,
          batch: { contacts: [], aggregates: [], statuses: [status] }
        })
        assert.deepStrictEqual(applied, { applied: 1 })
        assert.strictEqual((yield* scheduler.cursor(tenant, integration.id)).realtime, 42)
        // the scheduler finds the open task on its next steps instead of offering another
        yield* advance(scheduler, 5 * MIN, MIN)
        assert.deepStrictEqual((yield* storage.linkTasks.ofIntegration(integration.id, ["pending", "leased"])).map((t) => t.id), [task.id])

        yield* (yield* Lifecycle).pause(tenant, integration.id)
        yield* scheduler.wake(tenant, integration.id)
        yield* scheduler.awaitIdle
        const gone = yield* Effect.flip(tasks.realtime(link, task.id, task.leaseId!, { batch: { contacts: [], aggregates: [], statuses: [status] } }))
        assert.strictEqual(gone._tag, "TaskGone")
        assert.deepStrictEqual(yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 }), [])

        yield* (yield* Lifecycle).resume(tenant, integration.id)
        yield* scheduler.wake(tenant, integration.id)
        yield* scheduler.awaitIdle
        const [reopened] = yield* tasks.lease(link, { serves: [integration.id], waitMs: 0 })
        assert.strictEqual(reopened?.task.kind, "realtime")
        assert.notStrictEqual(reopened?.task.id, task.id)
        assert.strictEqual(reopened?.task.position, 42)
      }).pipe(Effect.provide(linkEngine(source)))
    }))
})
