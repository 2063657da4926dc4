/**
 * How rows are split into multi-row statements.
 *
 * Every distinct row count is a distinct SQL text, and SQLite's client keeps a prepared
 * statement per text (up to 200, for 10 minutes). A compiled 275-row, 16-column upsert takes
 * about 420 KB of native memory, so batches of every size from 1 to 500 could hold some 80 MB
 * for nothing. Splitting a count into powers of two (1, 2, 4 … `max`) keeps a statement kind
 * to at most log2(max) + 1 texts, compiled once each, for at most log2(max) extra statements
 * per call.
 *
 * @internal
 */

/** Rows per multi-row statement at most (16 columns × 128 stays far below both engines' bind limits). @internal */
export const maxRows = 128

/**
 * `items` in order, cut into runs whose lengths are powers of two no larger than `max`:
 * as many runs of `max` as fit, then the binary digits of the rest, largest first.
 *
 * @internal
 */
export const statementBatches = <A>(items: ReadonlyArray<A>, max: number = maxRows): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  let i = 0
  while (items.length - i >= max) {
    out.push(items.slice(i, i + max))
    i += max
  }
  for (let size = max >> 1; size >= 1; size >>= 1) {
    if (items.length - i >= size) {
      out.push(items.slice(i, i + size))
      i += size
    }
  }
  return out
}
