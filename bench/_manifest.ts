/**
 * Every row `pnpm bench` produces, by bench file: the runner reports (and the CI test fails on)
 * a row that a bench it ran did not produce.
 */
export interface ExpectedRow {
  readonly bench: string
  readonly name: string
}

const rowsOf = (bench: string, names: ReadonlyArray<string>): Array<ExpectedRow> => names.map((name) => ({ bench, name }))

export const expectedRows: ReadonlyArray<ExpectedRow> = [
  ...rowsOf("bucketing", ["bucketing: contacts → 15-min intervals, DST zone"]),
  ...rowsOf("segments", ["segments: statuses → segments → 15-min intervals"]),
  ...rowsOf("time-zones", [
    "time zones: wall-clock timestamps read in a DST zone (Time.parseIso)",
    "time zones: wall-clock timestamps read by DateTime.makeZoned per record"
  ]),
  ...rowsOf("ingest-sqlite", ["ingest → SQLite vs raw pre-summed upserts", "ingest → SQLite vs raw per-record upserts"]),
  ...rowsOf("ingest-pg", ["ingest → PostgreSQL vs raw pg multi-row upserts"]),
  ...rowsOf("push-http", [
    "push HTTP → SQLite",
    "push HTTP → SQLite: p99 latency",
    "push HTTP → SQLite: server CPU",
    "push HTTP → SQLite, Idempotency-Key",
    "push HTTP → SQLite, Idempotency-Key: p99 latency",
    "push HTTP → SQLite, Idempotency-Key: server CPU",
    "memory: server RSS idle",
    "memory: server RSS peak under push load",
    "memory: RSS growth per 1M pushed records"
  ]),
  ...rowsOf("push-pg", ["push HTTP → PostgreSQL", "push HTTP → PostgreSQL: p99 latency", "push HTTP → PostgreSQL: server CPU"]),
  ...rowsOf("csv-import", ["CSV file end to end", "CSV file end to end: peak RSS"]),
  ...rowsOf("realtime", [
    "realtime: push → SSE p99 at 20 statuses/s",
    "realtime: push → SSE p50 at 20 statuses/s",
    "realtime: requests refused at 20 statuses/s",
    "realtime: push → SSE p99 at 1,000 statuses/s",
    "realtime: push → SSE p50 at 1,000 statuses/s",
    "realtime: requests refused at 1,000 statuses/s",
    "realtime: single-status requests/s one process answers"
  ]),
  ...rowsOf("query", [
    "query: one queue, a month at 15 min: p99",
    "query: one queue, a year at 60 min (DST zone): p99",
    "query: all queues, a year at 60 min: p99",
    "query: all queues, whole range at 60 min: time",
    "query: all queues, whole range at 60 min: server peak RSS",
    "query: answer bytes per row"
  ]),
  ...rowsOf("batch-shapes", ["SQLite statement shapes: peak RSS, varied / same-size batches"]),
  ...rowsOf("memory-replace", ["memory store: window replace beside other integrations"]),
  ...rowsOf("link-soak", ["link soak: link RSS growth over the second half", "link soak: link RSS at the end"]),
  ...rowsOf("cluster", [
    "cluster: push records/s, 1 node",
    "cluster: push records/s, 2 nodes vs 1",
    "cluster: push records/s, 3 nodes vs 1",
    "cluster: push, 1 node: cores busy, node (baseline: PostgreSQL)",
    "cluster: push, 3 nodes: cores busy, nodes (baseline: PostgreSQL)",
    "cluster: scheduled windows/s, 3 nodes vs 1",
    "cluster: failover, default lease (15 s): min",
    "cluster: failover, default lease (15 s): median",
    "cluster: failover, default lease (15 s): max",
    "cluster: failover, short lease (3 s): min",
    "cluster: failover, short lease (3 s): median",
    "cluster: failover, short lease (3 s): max"
  ]),
  // target: the link ≥ 0.5 of the engine pulling the same database itself (ACD_BRIDGE_ON_PREMISE=local)
  ...rowsOf("link", ["link upload: records/s vs the engine pulling locally"])
]
