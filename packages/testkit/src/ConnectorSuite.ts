/**
 * The connector conformance suite, after Airbyte's acceptance tests: one call gives a plugin
 * the cases every connector must pass, against the author's simulator of the source.
 *
 * ```ts
 * import { ConnectorSuite } from "@acd-bridge/testkit"
 *
 * ConnectorSuite.suite("acme", {
 *   connector: Acme.connector,
 *   config: { baseUrl: "https://acme.test", apiKey: "good" },
 *   badCredentialsConfig: { baseUrl: "https://acme.test", apiKey: "wrong" },
 *   layer: AcmeSimulator.layer,                  // provides what the connector's R needs
 *   windows: [{ from: "2026-03-02T00:00:00Z", to: "2026-03-02T06:00:00Z" }],
 *   rateLimit: AcmeSimulator.rateLimitNext,      // optional switches of the simulator
 *   malformed: AcmeSimulator.corruptNext
 * })
 * ```
 *
 * The cases (each in a fresh simulator, with `TestClock` set to `now`):
 *
 * - **spec**: the config decodes, invalid configs are refused with the field named, secrets are
 *   `Redacted` and never shown (`redact`, error messages);
 * - **check**: a good config passes with readable items; bad credentials fail with a reason;
 * - **windows**: every record lies in its window `[from, to)` (contact timestamps and aggregate
 *   starts inside, agent statuses overlapping), records are valid, and splitting a window in two
 *   loses and doubles nothing (a record at the split instant comes with the second half only);
 * - **splits at any instant** (the counting rule of `docs/counting.md`): a range cut into
 *   windows at arbitrary instants (seeded random cut sets at whole seconds, some inside the
 *   longest contacts, plus the `splits.cuts` you give) gives exactly the counts and sums of one
 *   read of the whole range, per queue, channel and UTC quarter-hour, so a contact whose legs
 *   fall in several windows counts once, whole; and every agent status that overlaps a window
 *   comes back whole, as in the whole read (`checkSplits`);
 * - **determinism**: reading the same window twice gives the same records;
 * - **time zones**: windows on local boundaries of zones with half- and quarter-hour offsets and
 *   on a DST day behave the same, and every instant is UTC;
 * - **empty windows**: an empty window, a window in the future (a checkpoint in the future) and
 *   the `emptyWindow` you name yield nothing;
 * - **typed errors**: bad credentials fail with `AuthFailed`, rate limits with `RateLimited`,
 *   malformed source data with `InvalidData`, transient trouble with `Transient`, never with a
 *   defect;
 * - **realtime** (when the connector has it): elements carry valid records and non-decreasing
 *   positions, and a stream opened at a position continues from there.
 *
 * @since 0.1.0
 */
import { Bucketing, ConnectorRegistry, Domain, BatchPlan } from "@acd-bridge/core"
import type { Connector } from "@acd-bridge/core"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { rng } from "./Scenario.js"

/** @since 0.1.0 @category models */
export interface WindowInput {
  readonly from: DateTime.DateTime.Input
  readonly to: DateTime.DateTime.Input
}

/**
 * What the suite needs. `C`/`I`/`R` are the connector's config, encoded config and
 * requirements; the simulator `layer` provides `R` and may provide more (`S`, e.g. a service
 * with the simulator's switches, which the switch effects may use).
 *
 * @since 0.1.0 @category models
 */
export interface Options<C, I, R extends S, E, S> {
  readonly connector: Connector.Connector<C, I, R>
  /** a config (encoded, as a host stores it) that the simulator accepts */
  readonly config: unknown
  /** a config whose credentials the simulator rejects */
  readonly badCredentialsConfig?: unknown
  /** configs the connector must refuse, with the field its error must name (default: `42`, `"x"`, `[]`) */
  readonly invalidConfigs?: ReadonlyArray<{ readonly config: unknown; readonly field?: string | undefined }> | undefined
  /** the simulator of the source; built fresh for every case */
  readonly layer: Layer.Layer<S, E>
  /** closed windows the simulator has data in (at least one) */
  readonly windows: ReadonlyArray<WindowInput>
  /** a closed window the simulator has no data in */
  readonly emptyWindow?: WindowInput | undefined
  /** the clock during the cases (default: a day after the last window ends) */
  readonly now?: DateTime.DateTime.Input | undefined
  /** zones whose local boundaries windows are cut at (default: UTC, Asia/Kolkata, Asia/Kathmandu, America/St_Johns, Europe/Berlin) */
  readonly timezones?: ReadonlyArray<string> | undefined
  /** a DST day of `timezones` to cut windows on (default: the day Europe/Berlin springs forward before `now`, if any data) */
  readonly dstWindow?: WindowInput | undefined
  /** simulator switch: the next request is rate limited */
  readonly rateLimit?: Effect.Effect<void, never, S> | undefined
  /** simulator switch: the next request returns data the connector can't read */
  readonly malformed?: Effect.Effect<void, never, S> | undefined
  /** simulator switch: the next request fails in a way worth retrying (5xx, timeout) */
  readonly transient?: Effect.Effect<void, never, S> | undefined
  /** the windows must hold at least one record in all (default true) */
  readonly expectRecords?: boolean | undefined
  /**
   * the "splits at any instant" case: ranges to cut (default `windows`), random cut sets per
   * range (default 4), more cut sets of your own (instants inside your simulator's long or
   * multi-visit contacts), the seed of the random cuts (default 1); `false` leaves the case out
   */
  readonly splits?: SplitOptions | false | undefined
  /** realtime cases: elements to take and the clock step between them (default 3 elements, 1 minute); false to leave out */
  readonly realtime?: { readonly elements?: number | undefined; readonly tick?: Duration.DurationInput | undefined } | false | undefined
}

/** @since 0.2.0 @category models */
export interface SplitOptions {
  readonly ranges?: ReadonlyArray<WindowInput> | undefined
  readonly cutSets?: number | undefined
  readonly cuts?: ReadonlyArray<ReadonlyArray<DateTime.DateTime.Input>> | undefined
  readonly seed?: number | undefined
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const ms = (input: DateTime.DateTime.Input): number => DateTime.toEpochMillis(DateTime.unsafeMake(input))
const utc = (t: number) => DateTime.unsafeMake(t)
const QUARTER = 900_000
const HOUR = 3_600_000
const DAY = 86_400_000

interface Merged {
  readonly contacts: Array<Domain.ContactEvent>
  readonly aggregates: Array<Domain.IntervalAggregate>
  readonly statuses: Array<Domain.AgentStatus>
}

const merge = (batches: Iterable<Domain.Batch>): Merged => {
  const out: Merged = { contacts: [], aggregates: [], statuses: [] }
  for (const b of batches) {
    for (const c of b.contacts) out.contacts.push(c)
    for (const a of b.aggregates) out.aggregates.push(a)
    for (const s of b.statuses) out.statuses.push(s)
  }
  return out
}

const size = (m: Merged) => m.contacts.length + m.aggregates.length + m.statuses.length

const key = (value: unknown): string =>
  JSON.stringify(value, (_, v) => (DateTime.isDateTime(v) ? DateTime.toEpochMillis(v) : v))

/** Records as sorted strings: contacts and aggregates as multisets, statuses as a set. */
const canonical = (m: Merged) => ({
  contacts: m.contacts.map(key).sort(),
  aggregates: m.aggregates.map(key).sort(),
  statuses: Array.from(new Set(m.statuses.map(key))).sort()
})

const isBatch = Schema.is(Domain.Batch)

const secretsOf = (value: unknown, out: Array<string> = []): Array<string> => {
  if (Redacted.isRedacted(value)) {
    const inner = Redacted.value(value)
    if (typeof inner === "string" && inner.length >= 3) out.push(inner)
  } else if (Array.isArray(value)) {
    for (const v of value) secretsOf(v, out)
  } else if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) secretsOf(v, out)
  }
  return out
}

/** Where a record falls outside its window, if it does. */
const outside = (m: Merged, from: number, to: number): Array<string> => {
  const problems: Array<string> = []
  const range = `[${new Date(from).toISOString()}, ${new Date(to).toISOString()})`
  for (const c of m.contacts) {
    const t = DateTime.toEpochMillis(c.timestamp)
    if (t < from || t >= to) problems.push(`contact at ${DateTime.formatIso(c.timestamp)} outside ${range}`)
    if (!DateTime.isUtc(c.timestamp)) problems.push(`contact timestamp ${String(c.timestamp)} is not UTC`)
  }
  for (const a of m.aggregates) {
    const t = DateTime.toEpochMillis(a.start)
    if (t < from || t >= to) problems.push(`aggregate starting ${DateTime.formatIso(a.start)} outside ${range}`)
  }
  for (const s of m.statuses) {
    const start = DateTime.toEpochMillis(s.start)
    const end = s.end === null ? null : DateTime.toEpochMillis(s.end)
    if (start >= to || (end !== null && end <= from)) {
      problems.push(`status ${s.agentIdentifier} ${DateTime.formatIso(s.start)} does not overlap ${range}`)
    }
    if (end !== null && end < start) problems.push(`status ${s.agentIdentifier} ends before it starts`)
  }
  return problems
}

/** The start of the local hour containing `t` in `zone` (UTC quarters only, as every offset in use). */
const localHour = (t: number, zone: DateTime.TimeZone): number => {
  const offset = DateTime.zonedOffset(DateTime.unsafeMakeZoned(t, { timeZone: zone }))
  return Math.floor((t + offset) / HOUR) * HOUR - offset
}

const defaultZones = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Europe/Berlin"]

// ---------------------------------------------------------------------------
// splits at any instant
// ---------------------------------------------------------------------------

const iso = (t: number) => new Date(t).toISOString()

/**
 * What a batch adds to each queue, channel and UTC quarter-hour (where the engine keeps it):
 * contact events summed as the engine sums them, plus interval aggregates. Keys are JSON
 * `[queueIdentifier, queueName, channel, quarter ISO]`.
 *
 * @since 0.2.0 @category splits
 */
export const countsOf = (batch: Pick<Domain.Batch, "contacts" | "aggregates">): Map<string, Domain.Measures> => {
  const out = new Map<string, Domain.Measures>()
  const add = (
    queue: { readonly queueIdentifier: string; readonly queueName: string; readonly channel: string },
    at: number,
    m: Domain.Measures
  ) => {
    const k = JSON.stringify([queue.queueIdentifier, queue.queueName, queue.channel, iso(Bucketing.quarterKey(at))])
    out.set(k, BatchPlan.addMeasures(out.get(k) ?? Domain.emptyMeasures, m))
  }
  for (const c of batch.contacts) add(c, DateTime.toEpochMillis(c.timestamp), BatchPlan.contactMeasures(c))
  for (const a of batch.aggregates) add(a, DateTime.toEpochMillis(a.start), BatchPlan.pickMeasures(a))
  return out
}

const statusKey = (s: Domain.AgentStatus) =>
  JSON.stringify([
    s.agentIdentifier,
    s.activityIdentifier,
    iso(DateTime.toEpochMillis(s.start)),
    s.end === null ? null : iso(DateTime.toEpochMillis(s.end))
  ])

/**
 * How reading `pieces` (windows that cut `whole`'s range) differs from one read of the range:
 * counts and sums per queue, channel and UTC quarter that differ, records outside their piece,
 * and statuses overlapping a piece that don't come back exactly as in the whole read (cut,
 * missing or extra). Empty when the pieces add up to the whole.
 *
 * @since 0.2.0 @category splits
 */
export const splitProblems = (
  whole: Domain.Batch,
  pieces: ReadonlyArray<{ readonly from: number; readonly to: number; readonly batch: Domain.Batch }>
): Array<string> => {
  const problems: Array<string> = []
  const cuts = pieces.slice(1).map((p) => iso(p.from)).join(", ")
  for (const p of pieces) problems.push(...outside(merge([p.batch]), p.from, p.to))
  const expected = countsOf(whole)
  const actual = countsOf({
    contacts: pieces.flatMap((p) => p.batch.contacts),
    aggregates: pieces.flatMap((p) => p.batch.aggregates)
  })
  for (const k of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(k) ?? Domain.emptyMeasures
    const a = actual.get(k) ?? Domain.emptyMeasures
    const differs = Domain.measureKeys.filter((m) => e[m] !== a[m])
    if (differs.length > 0) {
      const what = differs.map((m) => `${m} ${a[m]} (windows) vs ${e[m]} (whole read)`).join(", ")
      problems.push(`cut at ${cuts}: ${k} ${what}`)
    }
  }
  for (const p of pieces) {
    const window = `window [${iso(p.from)}, ${iso(p.to)})`
    const want = new Set(
      whole.statuses.filter((s) =>
        DateTime.toEpochMillis(s.start) < p.to && (s.end === null || DateTime.toEpochMillis(s.end) > p.from)
      ).map(statusKey)
    )
    const got = new Set(p.batch.statuses.map(statusKey))
    for (const k of got) if (!want.has(k)) problems.push(`${window}: status ${k} is not in the whole read (cut short?)`)
    for (const k of want) if (!got.has(k)) problems.push(`${window}: status ${k} of the whole read is missing`)
  }
  return problems
}

/**
 * Seeded cut sets for a range: each has one to three cuts at random whole seconds and, when the
 * whole read has handled contacts, one inside one of the ten longest (between its timestamp and
 * the end of its wait and handling, as far as the event tells).
 *
 * @since 0.2.0 @category splits
 */
export const randomCutSets = (
  range: { readonly from: number; readonly to: number },
  whole: Pick<Domain.Batch, "contacts">,
  count: number,
  seed: number
): Array<Array<number>> => {
  const random = rng(seed)
  const seconds = Math.floor((range.to - range.from) / 1000)
  if (seconds < 2) return []
  const longest = whole.contacts
    .filter((c) => c.handled)
    .map((c) => ({ at: DateTime.toEpochMillis(c.timestamp), span: (c.waitMs ?? 0) + c.durationMs }))
    .sort((a, b) => b.span - a.span || a.at - b.at)
    .slice(0, 10)
  const out: Array<Array<number>> = []
  for (let i = 0; i < count; i++) {
    const cuts = new Set<number>()
    for (let k = random.int(1, 3); k > 0; k--) cuts.add(range.from + random.int(1, seconds - 1) * 1000)
    if (longest.length > 0) {
      const c = longest[random.int(0, longest.length - 1)]!
      const t = c.at + Math.round((c.span * (0.2 + 0.6 * random.next())) / 1000) * 1000
      if (t > range.from && t < range.to) cuts.add(t)
    }
    out.push(Array.from(cuts).sort((a, b) => a - b))
  }
  return out
}

/**
 * Reads `range` whole, then in the windows of each cut set, and returns the `splitProblems` of
 * every cut set: empty when the connector counts each contact once, whole, wherever the cuts
 * fall. `pull` reads one window; keep the clock still, so every read sees the same source.
 *
 * @since 0.2.0 @category splits
 */
export const checkSplits = <E, R>(
  pull: (from: number, to: number) => Effect.Effect<Domain.Batch, E, R>,
  range: { readonly from: number; readonly to: number },
  cutSets: (whole: Domain.Batch) => ReadonlyArray<ReadonlyArray<number>>
): Effect.Effect<Array<string>, E, R> =>
  Effect.gen(function*() {
    const whole = yield* pull(range.from, range.to)
    const problems: Array<string> = []
    for (const set of cutSets(whole)) {
      const inner = Array.from(new Set(set)).filter((t) => t > range.from && t < range.to).sort((a, b) => a - b)
      const edges = [range.from, ...inner, range.to]
      const pieces: Array<{ from: number; to: number; batch: Domain.Batch }> = []
      for (let i = 0; i + 1 < edges.length; i++) {
        pieces.push({ from: edges[i]!, to: edges[i + 1]!, batch: yield* pull(edges[i]!, edges[i + 1]!) })
      }
      problems.push(...splitProblems(whole, pieces))
    }
    return problems
  })

// ---------------------------------------------------------------------------
// the suite
// ---------------------------------------------------------------------------

/**
 * Declares the conformance cases for a connector (call it at the top level of a test file).
 *
 * @since 0.1.0 @category suites
 */
export const suite = <C, I, R extends S, E, S>(name: string, options: Options<C, I, R, E, S>): void => {
  const { connector } = options
  if (options.windows.length === 0) throw new Error("ConnectorSuite: give at least one window")
  const windows = options.windows.map((w) => ({ from: ms(w.from), to: ms(w.to) }))
  const lastEnd = Math.max(...windows.map((w) => w.to))
  const now = options.now === undefined ? lastEnd + DAY : ms(options.now)
  const zones = options.timezones ?? defaultZones
  const decode = Schema.decodeUnknown(connector.configSchema)

  /** Runs a case with a fresh simulator and the clock at `now`. */
  const run = <A, E2>(body: Effect.Effect<A, E2, S>) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      return yield* body
    }).pipe(Effect.provide(options.layer))

  const config = Effect.orDie(decode(options.config))

  const pull = (c: C, from: number, to: number) =>
    Effect.gen(function*() {
      const read = connector.pull
      if (!read) return yield* Effect.dieMessage(`${connector.key} has no pull`)
      const batches = yield* Stream.runCollect(read(c, { from: utc(from), to: utc(to) }))
      for (const b of batches) {
        assert.isTrue(isBatch(b), `${connector.key}: a stream element is not a valid Batch`)
      }
      return merge(batches)
    })

  const expectFailure = <A>(effect: Effect.Effect<A, Connector.ConnectorError, R>, tag: Connector.ConnectorError["_tag"]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(effect)
      if (Exit.isSuccess(exit)) return assert.fail(`expected ${tag}, the read succeeded`)
      const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
      if (error === undefined) {
        return assert.fail(`expected a typed ${tag} failure, got a defect or an interruption:\n${Cause.pretty(exit.cause)}`)
      }
      assert.strictEqual(error._tag, tag)
      assert.isAbove(error.message.length, 0)
      return error
    })

  describe(`${name}: connector conformance (${connector.key})`, () => {
    // -------------------------------------------------------------------
    // spec
    // -------------------------------------------------------------------
    it.effect("spec: describes itself", () =>
      Effect.sync(() => {
        assert.match(connector.key, /^[a-z0-9][a-z0-9-]*$/, "key: lowercase letters, digits and dashes")
        assert.isAbove(connector.displayName.trim().length, 0)
        assert.isAbove(connector.deliveryModes.length, 0)
        assert.isAbove(connector.dataKinds.length, 0)
        assert.isTrue(
          connector.pull !== undefined || connector.realtime !== undefined,
          "a connector pulls windows, streams in realtime, or both"
        )
      }))

    it.effect("spec: the config decodes, invalid configs are refused naming the field, secrets never show", () =>
      run(Effect.gen(function*() {
        const context = yield* Effect.context<R>()
        const registered = ConnectorRegistry.register(connector, context)
        const configured = registered.configure(options.config)
        assert.isTrue(Either.isRight(configured), `the config is refused: ${Either.isLeft(configured) ? configured.left.message : ""}`)
        const invalid = options.invalidConfigs ?? [{ config: 42 }, { config: "x" }, { config: [] }]
        for (const { config: bad, field } of invalid) {
          const refused = registered.configure(bad)
          assert.isTrue(Either.isLeft(refused), `an invalid config was accepted: ${JSON.stringify(bad)}`)
          if (Either.isLeft(refused)) {
            assert.strictEqual(refused.left._tag, "InvalidConfig")
            assert.strictEqual(refused.left.connector, connector.key)
            if (field !== undefined) assert.strictEqual(refused.left.field, field)
            assert.isAbove(refused.left.reason.length, 0)
          }
        }
        const decoded = yield* config
        const secrets = secretsOf(decoded)
        const shown = JSON.stringify(registered.redact(options.config))
        for (const secret of secrets) {
          assert.notInclude(shown, secret, "redact shows a secret")
          assert.notInclude(String(decoded), secret)
          assert.notInclude(JSON.stringify(decoded), secret)
        }
        if (options.badCredentialsConfig !== undefined) {
          const badSecrets = secretsOf(Either.getOrUndefined(Schema.decodeUnknownEither(connector.configSchema)(options.badCredentialsConfig)))
          for (const secret of badSecrets) {
            assert.notInclude(JSON.stringify(registered.redact(options.badCredentialsConfig)), secret)
          }
        }
      })))

    // -------------------------------------------------------------------
    // check
    // -------------------------------------------------------------------
    it.effect("check: a good config passes and says what it checked", () =>
      run(Effect.gen(function*() {
        const context = yield* Effect.context<R>()
        const configured = Either.getOrThrow(ConnectorRegistry.register(connector, context).configure(options.config))
        const report = yield* configured.check
        assert.isTrue(report.ok, `check failed: ${JSON.stringify(report.items)}`)
        assert.isAbove(report.items.length, 0)
        for (const item of report.items) {
          assert.isAbove(item.name.trim().length, 0)
          assert.isAbove(item.detail.trim().length, 0)
        }
        assert.strictEqual(report.ok, report.items.every((i) => i.ok))
      })))

    if (options.badCredentialsConfig !== undefined) {
      const badConfig = options.badCredentialsConfig
      it.effect("check: bad credentials fail, with a reason and without the secret", () =>
        run(Effect.gen(function*() {
          const context = yield* Effect.context<R>()
          const configured = ConnectorRegistry.register(connector, context).configure(badConfig)
          assert.isTrue(Either.isRight(configured), "the bad-credentials config must still decode")
          const report = yield* Either.getOrThrow(configured).check
          assert.isFalse(report.ok)
          const failed = report.items.filter((i) => !i.ok)
          assert.isAbove(failed.length, 0)
          assert.isTrue(failed.every((i) => i.detail.trim().length > 0))
          const decoded = yield* Effect.orDie(decode(badConfig))
          for (const secret of secretsOf(decoded)) assert.notInclude(JSON.stringify(report), secret)
        })))

      if (connector.pull) {
        it.effect("errors: bad credentials fail the read with AuthFailed", () =>
          run(Effect.gen(function*() {
            const decoded = yield* Effect.orDie(decode(badConfig))
            const w = windows[0]!
            yield* expectFailure(pull(decoded, w.from, w.to), "AuthFailed")
          })))
      }
    }

    if (connector.pull) {
      // -----------------------------------------------------------------
      // windows
      // -----------------------------------------------------------------
      it.effect("windows: every record is valid and lies in its window [from, to)", () =>
        run(Effect.gen(function*() {
          const c = yield* config
          let total = 0
          for (const w of windows) {
            const m = yield* pull(c, w.from, w.to)
            assert.deepStrictEqual(outside(m, w.from, w.to), [])
            total += size(m)
          }
          if (options.expectRecords ?? true) assert.isAbove(total, 0, "the windows returned no record at all")
        })))

      it.effect("windows: splitting a window in two loses and doubles nothing", () =>
        run(Effect.gen(function*() {
          const c = yield* config
          for (const w of windows) {
            const whole = yield* pull(c, w.from, w.to)
            const cuts = [
              w.from + Math.floor((w.to - w.from) / QUARTER / 2) * QUARTER,
              w.from + Math.floor((w.to - w.from) / QUARTER / 3) * QUARTER
            ].filter((m) => m > w.from && m < w.to)
            for (const m of cuts) {
              const first = yield* pull(c, w.from, m)
              const second = yield* pull(c, m, w.to)
              assert.deepStrictEqual(outside(first, w.from, m), [])
              assert.deepStrictEqual(outside(second, m, w.to), [])
              const atCut = [...first.contacts].filter((x) => DateTime.toEpochMillis(x.timestamp) === m)
              assert.deepStrictEqual(atCut, [], "a record at the cut instant belongs to the second window")
              assert.deepStrictEqual(
                canonical(merge([first, second])),
                canonical(whole),
                `[${new Date(w.from).toISOString()}, ${new Date(m).toISOString()}) + [${new Date(m).toISOString()}, ${
                  new Date(w.to).toISOString()
                }) differs from the whole window`
              )
            }
          }
        })))

      if (options.splits !== false) {
        const split = options.splits ?? {}
        const ranges = (split.ranges ?? options.windows).map((w) => ({ from: ms(w.from), to: ms(w.to) }))
        const own = (split.cuts ?? []).map((set) => set.map(ms))
        it.effect("splits: cut at any instant, the windows add up to one read of the range; statuses come back whole", () =>
          run(Effect.gen(function*() {
            const c = yield* config
            const problems: Array<string> = []
            for (const [i, range] of ranges.entries()) {
              problems.push(
                ...(yield* checkSplits(
                  (from, to) => pull(c, from, to),
                  range,
                  (whole) => [
                    ...randomCutSets(range, whole, split.cutSets ?? 4, (split.seed ?? 1) + i),
                    ...own.filter((set) => set.some((t) => t > range.from && t < range.to))
                  ]
                ))
              )
            }
            assert.deepStrictEqual(problems.slice(0, 20), [], `${problems.length} differences`)
          })))
      }

      it.effect("determinism: reading the same window twice gives the same records", () =>
        run(Effect.gen(function*() {
          const c = yield* config
          for (const w of windows) {
            const first = yield* pull(c, w.from, w.to)
            const second = yield* pull(c, w.from, w.to)
            assert.deepStrictEqual(canonical(second), canonical(first))
          }
        })))

      it.effect("time zones: windows cut on local boundaries of odd-offset and DST zones", () =>
        run(Effect.gen(function*() {
          const c = yield* config
          const w = windows[0]!
          for (const name of zones) {
            const zone = Option.getOrThrow(DateTime.zoneMakeNamed(name))
            const start = localHour(w.from, zone) + HOUR
            const cuts = [start, start + HOUR, start + 2 * HOUR]
            const first = yield* pull(c, cuts[0]!, cuts[1]!)
            const second = yield* pull(c, cuts[1]!, cuts[2]!)
            const whole = yield* pull(c, cuts[0]!, cuts[2]!)
            assert.deepStrictEqual(outside(first, cuts[0]!, cuts[1]!), [], name)
            assert.deepStrictEqual(outside(second, cuts[1]!, cuts[2]!), [], name)
            assert.deepStrictEqual(canonical(merge([first, second])), canonical(whole), name)
          }
          if (options.dstWindow) {
            const from = ms(options.dstWindow.from)
            const to = ms(options.dstWindow.to)
            const m = yield* pull(c, from, to)
            assert.deepStrictEqual(outside(m, from, to), [])
            // the hours either side of the change, cut at the change
            const mid = from + Math.floor((to - from) / HOUR / 2) * HOUR
            assert.deepStrictEqual(canonical(merge([yield* pull(c, from, mid), yield* pull(c, mid, to)])), canonical(m))
          }
        })))

      it.effect("empty windows: nothing for an empty window, a window in the future, or a window without data", () =>
        run(Effect.gen(function*() {
          const c = yield* config
          const w = windows[0]!
          assert.strictEqual(size(yield* pull(c, w.from, w.from)), 0, "an empty window [t, t)")
          assert.strictEqual(size(yield* pull(c, now + DAY, now + 2 * DAY)), 0, "a window in the future")
          if (options.emptyWindow) {
            assert.strictEqual(size(yield* pull(c, ms(options.emptyWindow.from), ms(options.emptyWindow.to))), 0)
          }
        })))

      // -----------------------------------------------------------------
      // typed errors
      // -----------------------------------------------------------------
      const switches: ReadonlyArray<readonly [string, Effect.Effect<void, never, S> | undefined, Connector.ConnectorError["_tag"]]> = [
        ["rate limits", options.rateLimit, "RateLimited"],
        ["malformed source data", options.malformed, "InvalidData"],
        ["transient trouble", options.transient, "Transient"]
      ]
      for (const [what, toggle, tag] of switches) {
        if (toggle === undefined) continue
        it.effect(`errors: ${what} fail the read with ${tag}`, () =>
          run(Effect.gen(function*() {
            const c = yield* config
            const w = windows[0]!
            yield* toggle
            const error = yield* expectFailure(pull(c, w.from, w.to), tag)
            if (error?._tag === "RateLimited") assert.isAtLeast(error.retryAfterMs, 0)
            if (error?._tag === "InvalidData") {
              assert.isAbove(error.record.length, 0, "InvalidData names the record")
              assert.isAbove(error.reason.length, 0)
            }
          })))
      }
    }

    // -------------------------------------------------------------------
    // realtime
    // -------------------------------------------------------------------
    const realtime = connector.realtime
    if (realtime && options.realtime !== false) {
      const elements = Math.max(2, options.realtime?.elements ?? 3)
      const tick = Duration.decode(options.realtime?.tick ?? "1 minute")
      const take = (c: C, position: number | undefined) =>
        Effect.gen(function*() {
          const fiber = yield* Stream.runCollect(Stream.take(realtime(c, position), elements)).pipe(Effect.fork)
          for (let i = 0; i < elements * 20; i++) {
            const done = yield* Fiber.poll(fiber)
            if (Option.isSome(done)) break
            yield* TestClock.adjust(tick)
          }
          return Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        })

      it.effect("realtime: elements are valid, positions never go back, a stream opened at a position continues there", () =>
        run(Effect.gen(function*() {
          const c = yield* config
          const first = yield* take(c, undefined)
          assert.strictEqual(first.length, elements)
          let last: number | undefined
          for (const element of first) {
            assert.isTrue(isBatch(element), "a realtime element is not a valid Batch")
            for (const s of element.statuses) {
              if (s.end !== null) assert.isTrue(DateTime.lessThanOrEqualTo(s.start, s.end), "status ends before it starts")
            }
            if (element.position !== undefined) {
              if (last !== undefined) assert.isAtLeast(element.position, last, "positions go back")
              last = element.position
            }
          }
          if (last !== undefined) {
            const resumed = yield* take(c, last)
            for (const element of resumed) {
              if (element.position !== undefined) assert.isAtLeast(element.position, last)
            }
          }
        })))
    }
  })
}
