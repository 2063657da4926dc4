/**
 * Reading a report whose results Five9 cuts at a row cap, without trusting a configured figure.
 *
 * Five9 documents a cap of 50,000 records for `getReportResultCsv` and of 5,000 (or 50,000:
 * its pages disagree) for `getReportResult`; a domain may cut lower, and a cut result looks
 * complete. A result of N rows for [from, to) is:
 *
 * - **suspect** when N is one of the documented caps, at least the configured `maxRows`, or at
 *   least a cap this read has already proven: it is not used; the range is read again as two
 *   halves, recursively;
 * - **trusted** when N is at most the largest result this connector has already verified for
 *   the report (a cap can't be below a complete result), or N < 2;
 * - else **verified**: the two halves are read; when both have rows and their counts add up
 *   to N, the result was complete (and so are the halves: a cut result of C rows would need
 *   halves of fewer than C rows each adding up to C, i.e. a true count of C). When they add
 *   up to more, the result was cut at N: N is a proven cap for the rest of this read and the
 *   halves are read on, recursively. When one half is empty, the other is verified the same way.
 *
 * A range that can't be split any more (one second: report criteria have whole seconds) and is
 * still suspect fails with `InvalidData`; nothing of the read is imported. One that merely can't
 * be verified (all its rows at one TIMESTAMP, no cap known yet) is taken as it is.
 *
 * @internal
 */
import { Connector } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { Table } from "./reports.js"

/** The row caps Five9 documents: `getReportResult` (5,000 on its method page) and `getReportResultCsv` (50,000). */
export const documentedCaps: ReadonlyArray<number> = [5_000, 50_000]

const SECOND = 1000

/** What a connector remembers per report: the largest result it verified complete. */
export interface CapMemory {
  trustedUpTo: number
}

export interface CappedOptions<E, R> {
  /** reads [from, to) once */
  readonly run: (from: number, to: number) => Effect.Effect<Table, E, R>
  /** folder/report, for errors */
  readonly report: string
  /** results of this many rows are never trusted */
  readonly maxRows: number
  readonly memory: CapMemory
}

const iso = (t: number) => new Date(t).toISOString()

const concat = (a: Table, b: Table): Table => {
  // a row at the edge of two halves comes once even if a report's end were inclusive ([U])
  const seen = new Set(a.rows.map((r) => r.join("\u0000")))
  return {
    header: a.header.length > 0 ? a.header : b.header,
    rows: [...a.rows, ...b.rows.filter((r) => !seen.has(r.join("\u0000")))]
  }
}

/** Reads [from, to) (whole seconds) whole, splitting it where a result may have been cut. */
export const readCapped = <E, R>(
  options: CappedOptions<E, R>,
  from: number,
  to: number
): Effect.Effect<Table, E | Connector.InvalidData, R> => {
  const { maxRows, memory, report, run } = options
  const suspect = (n: number, proven: number) => n >= maxRows || documentedCaps.includes(n) || n >= proven
  const midpoint = (a: number, b: number) => a + Math.floor((b - a) / (2 * SECOND)) * SECOND
  const read = (
    a: number,
    b: number,
    given: Table | undefined,
    proven: number
  ): Effect.Effect<Table, E | Connector.InvalidData, R> =>
    Effect.gen(function*() {
      const table = given ?? (yield* run(a, b))
      const n = table.rows.length
      if (n < 2) return table
      const splittable = b - a >= 2 * SECOND
      if (suspect(n, proven)) {
        if (!splittable) {
          return yield* new Connector.InvalidData({
            record: `${report} [${iso(a)}, ${iso(b)})`,
            reason: `Five9 returned ${n} rows for one second (${iso(a)}), which is its row cap for this report: ` +
              `more rows than it returns for one request lie at a single instant, so the range can't be split further; ` +
              `nothing of the window was imported`
          })
        }
        const mid = midpoint(a, b)
        return concat(yield* read(a, mid, undefined, proven), yield* read(mid, b, undefined, proven))
      }
      if (n <= memory.trustedUpTo || !splittable) return table
      const mid = midpoint(a, b)
      const left = yield* run(a, mid)
      const right = yield* run(mid, b)
      const sum = left.rows.length + right.rows.length
      if (sum === n && left.rows.length > 0 && right.rows.length > 0) {
        memory.trustedUpTo = Math.max(memory.trustedUpTo, n)
        return table
      }
      // cut at n (or written to meanwhile): the halves, each read on as far as needed
      const cap = sum > n ? Math.min(proven, n) : proven
      return concat(yield* read(a, mid, left, cap), yield* read(mid, b, right, cap))
    })
  return read(from, to, undefined, Number.POSITIVE_INFINITY)
}
