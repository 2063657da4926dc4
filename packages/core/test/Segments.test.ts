import { assert, describe, it } from "@effect/vitest"
import type * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import type { IntervalLength } from "../src/Bucketing.js"
import * as Bucketing from "../src/Bucketing.js"
import * as Segments from "../src/Segments.js"

interface Status extends Segments.Segment {
  readonly id: string
}

const s = (id: string, start: number, end: number | null): Status => ({ id, start, end })

/** Open segments are measured up to here; every generated start is well before it. */
const HORIZON = 1_500

const endOf = (x: Segments.Segment, horizon = HORIZON) => x.end ?? horizon

const assertWellFormed = (list: ReadonlyArray<Segments.Segment>) => {
  for (const [k, x] of list.entries()) {
    if (x.end !== null) assert.isTrue(x.end > x.start, `zero or negative length piece ${x.start}-${x.end}`)
    const next = list[k + 1]
    if (next !== undefined) {
      assert.isTrue(x.end !== null && x.end <= next.start, `overlap or unsorted at ${k}`)
    }
  }
}

/** Measure of the union of the segments, open ones running to HORIZON. */
const unionMeasure = (list: ReadonlyArray<Segments.Segment>) => {
  const spans = list.map((x) => [x.start, endOf(x)] as const).filter(([a, b]) => b > a).sort((a, b) => a[0] - b[0])
  let total = 0
  let reached = Number.NEGATIVE_INFINITY
  for (const [a, b] of spans) {
    const from = Math.max(a, reached)
    if (b > from) total += b - from
    reached = Math.max(reached, b)
  }
  return total
}

const covers = (x: Segments.Segment, t: number) => x.start <= t && (x.end === null || t < x.end)

/** Who owns instant t after painting the segments in order: the last one covering it. */
const paintedOwner = (initial: ReadonlyArray<Status>, incoming: ReadonlyArray<Status>, t: number) => {
  let owner = initial.find((x) => covers(x, t))?.id
  for (const x of incoming) if (covers(x, t)) owner = x.id
  return owner
}

/** Ownership only changes at segment edges, so probing at each edge and just before it suffices. */
const probes = (...lists: ReadonlyArray<ReadonlyArray<Segments.Segment>>): ReadonlyArray<number> => {
  const points = new Set<number>([-1, HORIZON])
  for (const list of lists) {
    for (const x of list) {
      for (const edge of [x.start, x.end ?? HORIZON]) {
        points.add(edge)
        points.add(edge - 1)
      }
    }
  }
  return [...points]
}

const ownerIn = (list: ReadonlyArray<Status>, t: number) => {
  const found = list.filter((x) => covers(x, t))
  assert.isAtMost(found.length, 1)
  return found[0]?.id
}

/** Segments with unique ids; about one in five is open, some have zero length. */
const incomingList = (prefix: string) =>
  fc.array(
    fc.tuple(
      fc.integer({ min: 0, max: 1000 }),
      fc.option(fc.integer({ min: 0, max: 300 }), { freq: 4, nil: null })
    ),
    { maxLength: 25 }
  ).map((xs) => xs.map(([start, length], k) => s(`${prefix}${k}`, start, length === null ? null : start + length)))

/** A valid stored state: whatever applying some segments to nothing gives. */
const storedState = incomingList("old").map((xs) => Segments.applyAll<Status>([], xs))

describe("Segments.apply", () => {
  it("inserts into an empty list", () => {
    assert.deepStrictEqual(Segments.apply([], s("a", 10, 20)), [s("a", 10, 20)])
  })

  it("a new open segment closes the previous open one at its start", () => {
    assert.deepStrictEqual(Segments.apply([s("a", 0, null)], s("b", 10, null)), [s("a", 0, 10), s("b", 10, null)])
  })

  it("a closed segment inside an open one splits it; the open rest keeps running", () => {
    assert.deepStrictEqual(Segments.apply([s("a", 0, null)], s("b", 10, 20)), [
      s("a", 0, 10),
      s("b", 10, 20),
      s("a", 20, null)
    ])
  })

  it("replaces what it overlaps and keeps the outer parts with their own fields", () => {
    const existing = [s("a", 0, 10), s("b", 10, 20), s("c", 20, 30), s("d", 40, 50)]
    assert.deepStrictEqual(Segments.apply(existing, s("x", 5, 25)), [
      s("a", 0, 5),
      s("x", 5, 25),
      s("c", 25, 30),
      s("d", 40, 50)
    ])
    assert.deepStrictEqual(Segments.apply(existing, s("x", 30, 40)), [...existing.slice(0, 3), s("x", 30, 40), s("d", 40, 50)])
    assert.deepStrictEqual(Segments.apply(existing, s("x", -5, 0)), [s("x", -5, 0), ...existing])
  })

  it("an open segment removes everything at or after its start", () => {
    const existing = [s("a", 0, 10), s("b", 10, 20), s("c", 30, null)]
    assert.deepStrictEqual(Segments.apply(existing, s("x", 15, null)), [s("a", 0, 10), s("b", 10, 15), s("x", 15, null)])
    assert.deepStrictEqual(Segments.apply(existing, s("x", 0, null)), [s("x", 0, null)])
  })

  it("a zero-length segment changes nothing", () => {
    const existing = [s("a", 0, null)]
    assert.strictEqual(Segments.apply(existing, s("x", 5, 5)), existing)
  })

  it("untouched segments stay the same objects", () => {
    const a = s("a", 0, 10)
    const result = Segments.apply([a, s("b", 10, 20)], s("x", 15, 25))
    assert.strictEqual(result[0], a)
  })
})

describe("Segments.applyAll properties", () => {
  it("property: sorted, non-overlapping, no zero-length pieces", () => {
    fc.assert(fc.property(storedState, incomingList("new"), (initial, incoming) => {
      assertWellFormed(initial)
      assertWellFormed(Segments.applyAll(initial, incoming))
    }))
  })

  it("property: covered time never exceeds the union of everything applied", () => {
    fc.assert(fc.property(incomingList("new"), (incoming) => {
      const result = Segments.applyAll<Status>([], incoming)
      const covered = result.reduce((sum, x) => sum + (endOf(x) - x.start), 0)
      assert.isAtMost(covered, unionMeasure(incoming))
      // nothing is lost either: the union is covered exactly
      assert.strictEqual(covered, unionMeasure(incoming))
    }))
  })

  it("property: the last applied segment is fully present", () => {
    fc.assert(fc.property(storedState, incomingList("new"), (initial, incoming) => {
      const last = incoming[incoming.length - 1]
      fc.pre(last !== undefined && (last.end === null || last.end > last.start))
      const result = Segments.applyAll(initial, incoming)
      assert.isTrue(result.some((x) => x.id === last!.id && x.start === last!.start && x.end === last!.end))
    }))
  })

  it("property: applying the same sequence twice equals applying it once", () => {
    fc.assert(fc.property(storedState, incomingList("new"), (initial, incoming) => {
      const once = Segments.applyAll(initial, incoming)
      assert.deepStrictEqual(Segments.applyAll(once, incoming), once)
    }))
  })

  it("property: every instant belongs to the segment applied last that covers it", () => {
    fc.assert(fc.property(storedState, incomingList("new"), (initial, incoming) => {
      const result = Segments.applyAll(initial, incoming)
      for (const t of probes(initial, incoming, result)) {
        assert.strictEqual(ownerIn(result, t), paintedOwner(initial, incoming, t), `at ${t}`)
      }
    }), { numRuns: 500 })
  })
})

describe("Segments.clearWindow", () => {
  it("cuts closed segments at both edges and splits one spanning the window", () => {
    assert.deepStrictEqual(Segments.clearWindow([s("a", 0, 15), s("b", 15, 25), s("c", 25, 40)], 10, 30), [
      s("a", 0, 10),
      s("c", 30, 40)
    ])
    assert.deepStrictEqual(Segments.clearWindow([s("a", 0, 40)], 10, 30), [s("a", 0, 10), s("a", 30, 40)])
  })

  it("cuts an open segment that started earlier at from and removes one starting inside", () => {
    assert.deepStrictEqual(Segments.clearWindow([s("a", 0, null)], 10, 30), [s("a", 0, 10)])
    assert.deepStrictEqual(Segments.clearWindow([s("a", 0, 10), s("b", 10, null)], 10, 30), [s("a", 0, 10)])
    assert.deepStrictEqual(Segments.clearWindow([s("a", 0, 20), s("b", 20, null)], 10, 30), [s("a", 0, 10)])
    // at or after the window's end: not touched
    const later = [s("a", 0, 5), s("b", 30, null)]
    assert.deepStrictEqual(Segments.clearWindow(later, 10, 30), later)
  })

  it("an empty window changes nothing", () => {
    const existing = [s("a", 0, null)]
    assert.strictEqual(Segments.clearWindow(existing, 10, 10), existing)
  })

  it("property: nothing is left in the window, everything else stays as it was", () => {
    fc.assert(
      fc.property(storedState, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 400 }), (initial, from, span) => {
        const to = from + span
        const result = Segments.clearWindow(initial, from, to)
        assertWellFormed(result)
        for (const t of probes(initial, result, [{ start: from, end: to }])) {
          const before = initial.find((x) => covers(x, t))
          const expected = t >= from && t < to
            ? undefined
            : t >= to && before?.end === null && before.start < to
            ? undefined
            : before?.id
          assert.strictEqual(ownerIn(result, t), expected)
        }
      }),
      { numRuns: 500 }
    )
  })
})

describe("re-importing windows (clearWindow, then the source's statuses overlapping the window, whole)", () => {
  /** One agent's timeline at the source: statuses in order, with holes; the last may still run. */
  const timeline = fc.array(
    fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 200 }), fc.boolean()),
    { minLength: 1, maxLength: 12 }
  ).map((xs) => {
    const out: Array<Status> = []
    let at = 0
    for (const [k, [hole, length, open]] of xs.entries()) {
      const start = at + hole
      const last = k === xs.length - 1
      out.push(s(`st${k}`, start, last && open ? null : start + length))
      at = start + length
    }
    return out
  })

  it("property: every status overlapping the re-read range ends up as the source reports it, in any window order", () => {
    fc.assert(
      fc.property(
        timeline,
        fc.integer({ min: 0, max: 1400 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.integer({ min: 0, max: HORIZON }), { maxLength: 10 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 11, maxLength: 11 }),
        (truth, readAt, lateBy, before, cuts, order) => {
          // the store holds what the source said at `readAt`, when it wrote ends `lateBy` late:
          // a status whose end wasn't written yet was open
          const reported = truth.filter((x) => x.start < readAt).map((x) =>
            x.end !== null && x.end + lateBy <= readAt ? x : s(x.id, x.start, null)
          )
          let current = Segments.applyAll<Status>([], reported)
          // the re-read starts at least as early as any end written after `readAt`
          const from = Math.max(0, readAt - lateBy - before)
          const end = 100_000
          const edges = [...new Set([from, ...cuts.filter((c) => c > from), end])].sort((a, b) => a - b)
          const windows = edges.slice(0, -1).map((f, k) => ({ from: f, to: edges[k + 1]!, key: order[k] ?? 0 }))
          for (const w of [...windows].sort((a, b) => a.key - b.key)) {
            current = Segments.clearWindow(current, w.from, w.to)
            current = Segments.applyAll(
              current,
              truth.filter((x) => x.start < w.to && (x.end === null || x.end > w.from))
            )
          }
          assert.deepStrictEqual(current, truth)
        }
      ),
      { numRuns: 1000 }
    )
  })
})

describe("Segments.splitAtBoundaries", () => {
  const tz = (name: string): DateTime.TimeZone => Either.getOrThrow(Bucketing.zone(name))
  const berlin = tz("Europe/Berlin")
  const utc = (iso: string) => Date.parse(iso)

  it("splits across Berlin's spring-forward gap by local hours", () => {
    // 00:30 +01:00 to 03:30 +02:00: two real hours
    const segment = { start: utc("2026-03-28T23:30:00Z"), end: utc("2026-03-29T01:30:00Z") }
    assert.deepStrictEqual(Segments.splitAtBoundaries(segment, 60, berlin, 0), [
      { intervalStart: utc("2026-03-28T23:00:00Z"), ms: 30 * 60_000 },
      { intervalStart: utc("2026-03-29T00:00:00Z"), ms: 60 * 60_000 },
      { intervalStart: utc("2026-03-29T01:00:00Z"), ms: 30 * 60_000 }
    ])
  })

  it("runs an open segment until openUntil; nothing for no duration", () => {
    const open = { start: utc("2026-01-01T10:10:00Z"), end: null }
    assert.deepStrictEqual(Segments.splitAtBoundaries(open, 30, tz("UTC"), utc("2026-01-01T10:40:00Z")), [
      { intervalStart: utc("2026-01-01T10:00:00Z"), ms: 20 * 60_000 },
      { intervalStart: utc("2026-01-01T10:30:00Z"), ms: 10 * 60_000 }
    ])
    assert.deepStrictEqual(Segments.splitAtBoundaries(open, 30, tz("UTC"), open.start), [])
    assert.deepStrictEqual(Segments.splitAtBoundaries(open, 30, tz("UTC"), open.start - 1), [])
    assert.deepStrictEqual(Segments.splitAtBoundaries({ start: 5, end: 5 }, 15, tz("UTC"), 0), [])
  })

  it("property: the parts sum to the duration and each lies in its interval", () => {
    const zones = ["Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "America/New_York"].map(tz)
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom<IntervalLength>(15, 30, 60),
        // spans both 2026 transitions of every zone above
        fc.integer({ min: utc("2026-03-01T00:00:00Z"), max: utc("2026-11-30T00:00:00Z") }),
        fc.integer({ min: 0, max: 36 * 3_600_000 }),
        fc.boolean(),
        (zone, length, start, duration, open) => {
          const end = start + duration
          const parts = Segments.splitAtBoundaries({ start, end: open ? null : end }, length, zone, end)
          assert.strictEqual(parts.reduce((sum, p) => sum + p.ms, 0), duration)
          let at = start
          for (const p of parts) {
            assert.isTrue(p.ms > 0)
            assert.strictEqual(p.intervalStart, Bucketing.intervalStart(at, length, zone))
            assert.isAtMost(at + p.ms, Bucketing.intervalEnd(p.intervalStart, length, zone))
            at += p.ms
          }
        }
      ),
      { numRuns: 300 }
    )
  })
})
