/**
 * A part of a result as the engine takes it: `Domain.BatchJson` text.
 *
 * The records come from a connector, which built them as `Domain` values (its rows decoded
 * with their schemas), so the link writes them out directly: each record as it is with its
 * instants as ISO strings. That is the text `Schema.encode(Domain.BatchJson)` gives (a test
 * holds them equal) at a fraction of its cost — encoding a window of a few thousand records
 * with the schema took about six times as long as this and was the largest part of a link's
 * CPU per window. The engine validates every part it receives (`BatchJson` decode), so a
 * record a connector got wrong is still refused there, naming the part.
 *
 * @internal
 */
import type { Domain } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"

const iso = (at: DateTime.Utc) => DateTime.formatIso(at)

/** The batch as `Domain.BatchJson` text. */
export const partText = (batch: Domain.Batch): string =>
  JSON.stringify({
    contacts: batch.contacts.map((c) => ({ ...c, timestamp: iso(c.timestamp) })),
    aggregates: batch.aggregates.map((a) => ({ ...a, start: iso(a.start) })),
    statuses: batch.statuses.map((s) => ({ ...s, start: iso(s.start), end: s.end === null ? null : iso(s.end) }))
  })

/** Splits a batch into parts of at most `size` records of each kind (one part at least), as text. */
export const toParts = (batch: Domain.Batch, size: number): Array<string> => {
  const slice = <A>(items: ReadonlyArray<A>, i: number) => items.slice(i * size, (i + 1) * size)
  const count = Math.max(1, Math.ceil(Math.max(batch.contacts.length, batch.aggregates.length, batch.statuses.length) / size))
  const parts: Array<string> = []
  for (let i = 0; i < count; i++) {
    parts.push(partText({
      contacts: slice(batch.contacts, i),
      aggregates: slice(batch.aggregates, i),
      statuses: slice(batch.statuses, i)
    }))
  }
  return parts
}
