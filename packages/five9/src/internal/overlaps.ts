/**
 * Five9 may report overlapping states for one agent (Ready 13:00:00–13:00:05 together with On
 * Call 13:00:00–13:03:00). As injixo documents for its Five9 connector, the longer of two
 * overlapping states is trimmed to start where the shorter one ends; a longer state that
 * started earlier is cut around the shorter one.
 */
export interface Span {
  readonly start: number
  readonly end: number
}

export const trimOverlaps = <S extends Span>(states: ReadonlyArray<S>): Array<S> => {
  const sorted = [...states].sort((a, b) => a.start - b.start || (a.end - a.start) - (b.end - b.start))
  const out: Array<S> = []
  for (const s of sorted) {
    let cur = s
    const last = out[out.length - 1]
    if (last !== undefined && cur.start < last.end) {
      if (cur.end - cur.start >= last.end - last.start || cur.start === last.start) {
        cur = { ...cur, start: last.end }
      } else {
        out[out.length - 1] = { ...last, end: cur.start }
        out.push(cur)
        if (last.end > cur.end) out.push({ ...last, start: cur.end })
        continue
      }
    }
    if (cur.end > cur.start) out.push(cur)
  }
  return out.sort((a, b) => a.start - b.start)
}
