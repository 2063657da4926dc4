/**
 * Delimiter detection: the first lines are parsed with csv-parse once per candidate (`,` `;`
 * tab `|`) and the candidate that splits them into the same number (> 1) of fields on most
 * lines wins; ties go to the one with more fields. csv-parse's own `delimiter_auto` counts
 * characters inside quoted fields too and fails on quoted multi-line fields, so it is not used.
 *
 * @internal
 */
import { parse } from "csv-parse/sync"

const CANDIDATES = [",", ";", "\t", "|"] as const

const MAX_LINES = 50

/**
 * The most likely delimiter of a decoded sample; `,` when nothing fits better.
 *
 * @internal
 */
export const sniffDelimiter = (sample: string): string => {
  const end = sample.lastIndexOf("\n")
  const text = end === -1 ? sample : sample.slice(0, end + 1)
  let best: { delimiter: string; agreeing: number; fields: number } = { delimiter: ",", agreeing: 0, fields: 1 }
  for (const delimiter of CANDIDATES) {
    let records: Array<Array<string>>
    try {
      records = parse(text, {
        delimiter,
        bom: true,
        relax_column_count: true,
        relax_quotes: true,
        skip_empty_lines: true,
        skip_records_with_error: true,
        to_line: MAX_LINES
      }) as Array<Array<string>>
    } catch {
      continue
    }
    const counts = new Map<number, number>()
    for (const r of records) counts.set(r.length, (counts.get(r.length) ?? 0) + 1)
    let fields = 1
    let agreeing = 0
    for (const [n, times] of counts) {
      if (n > 1 && (times > agreeing || (times === agreeing && n > fields))) {
        fields = n
        agreeing = times
      }
    }
    if (agreeing > best.agreeing || (agreeing === best.agreeing && agreeing > 0 && fields > best.fields)) {
      best = { delimiter, agreeing, fields }
    }
  }
  return best.delimiter
}
