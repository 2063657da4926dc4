/**
 * The sql connector: reads contacts (per contact or per interval) and agent statuses from a
 * customer's database with one configured SELECT per data kind. On-premise: it runs next to
 * the database (in `link` or an engine on the customer's network).
 *
 * @since 0.1.0
 */
import { Connector, type Domain } from "@acd-bridge/core"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { PreparedQuery } from "./Guard.js"
import { prepare } from "./Guard.js"
import type { SqlConfigEncoded } from "./SqlConfig.js"
import { SqlConfig } from "./SqlConfig.js"
import { dialectName } from "./internal/dialect.js"
import { classify } from "./internal/errors.js"
import type { LoginPrivileges } from "./internal/privileges.js"
import { readOnlyGrant } from "./internal/privileges.js"
import type { ColumnSpec, Layout, RowProblem } from "./internal/rows.js"
import { columnSpecs, decodeAggregate, decodeContact, decodeStatus } from "./internal/rows.js"
import type { Column, Row, Source, SourceFailure } from "./internal/source.js"
import { defaultPorts, describeTarget, open } from "./internal/source.js"
import type { TimeContext } from "./internal/values.js"
import { describe, formatParameter } from "./internal/values.js"
import { sliceMinutesFor, slices } from "./internal/window.js"

/** The connector's key. @since 0.1.0 @category constants */
export const key = "sql"

/** Which configured query: `contacts`, `agentStatuses` or `realtime`. @since 0.1.0 @category models */
export type QueryName = "contacts" | "agentStatuses" | "realtime"

interface Plan {
  readonly name: QueryName
  readonly prepared: PreparedQuery
  readonly layout: Layout
}

const plans = (config: SqlConfig, which: ReadonlyArray<QueryName>): Either.Either<Array<Plan>, Connector.InvalidData> => {
  const out: Array<Plan> = []
  for (const name of which) {
    const sql = name === "contacts"
      ? config.contacts?.query
      : name === "agentStatuses"
      ? config.agentStatuses?.query
      : config.realtime?.query ?? config.agentStatuses?.query
    if (sql === undefined) continue
    const prepared = prepare(config.driver, sql, name)
    if (Either.isLeft(prepared)) {
      return Either.left(new Connector.InvalidData({ record: `${name} query`, reason: prepared.left.reason }))
    }
    const layout: Layout = name === "contacts" ? config.contacts!.layout : "status"
    out.push({ name, prepared: prepared.right, layout })
  }
  return Either.right(out)
}

const timeContext = (config: SqlConfig): TimeContext => ({
  zone: DateTime.zoneUnsafeMakeNamed(config.timezone),
  numeric: config.numericTimestamps
})

const parameterValues = (config: SqlConfig, prepared: PreparedQuery, window: Connector.Window) => {
  const zone = DateTime.zoneUnsafeMakeNamed(config.parameters.timezone ?? config.timezone)
  return prepared.parameters.map((p) =>
    formatParameter(p === "from" ? window.from : window.to, config.parameters.format, zone)
  )
}

const sourceOptions = (config: SqlConfig) => ({
  driver: config.driver,
  connection: config.connection,
  queryTimeoutMs: Math.round(config.queryTimeoutSeconds * 1000),
  connectTimeoutMs: Math.round(config.connectTimeoutSeconds * 1000)
})

const failureContext = (config: SqlConfig, phase: string) => ({
  dialect: config.driver,
  phase,
  target: describeTarget(config.connection, defaultPorts[config.driver]),
  timeoutSeconds: config.queryTimeoutSeconds
})

const openSource = (config: SqlConfig) =>
  open(sourceOptions(config)).pipe(Effect.mapError((f) => classify(f.cause, failureContext(config, "connect"))))

type Decoded =
  | { readonly _tag: "contact"; readonly value: Domain.ContactEvent }
  | { readonly _tag: "aggregate"; readonly value: Domain.IntervalAggregate }
  | { readonly _tag: "status"; readonly value: Domain.AgentStatus }

const decode = (config: SqlConfig, plan: Plan, ctx: TimeContext) => (row: Row): Either.Either<Decoded, RowProblem> => {
  switch (plan.layout) {
    case "contact":
      return Either.map(decodeContact(row, ctx), (value) => ({ _tag: "contact" as const, value }))
    case "interval":
      return Either.map(
        decodeAggregate(row, ctx, config.contacts?.intervalMinutes),
        (value) => ({ _tag: "aggregate" as const, value })
      )
    case "status":
      return Either.map(decodeStatus(row, ctx), (value) => ({ _tag: "status" as const, value }))
  }
}

/** Whether a record belongs to [from, to): by timestamp or interval start; statuses by overlap. */
const inWindow = (window: Connector.Window) => {
  const from = DateTime.toEpochMillis(window.from)
  const to = DateTime.toEpochMillis(window.to)
  return (d: Decoded): boolean => {
    // an empty window [t, t) holds nothing, not even a status running across t
    if (to <= from) return false
    switch (d._tag) {
      case "contact":
        return d.value.timestamp.epochMillis >= from && d.value.timestamp.epochMillis < to
      case "aggregate":
        return d.value.start.epochMillis >= from && d.value.start.epochMillis < to
      case "status":
        return d.value.start.epochMillis < to && (d.value.end === null || d.value.end.epochMillis > from)
    }
  }
}

const toBatch = (records: Chunk.Chunk<Decoded>): Domain.Batch => {
  const contacts: Array<Domain.ContactEvent> = []
  const aggregates: Array<Domain.IntervalAggregate> = []
  const statuses: Array<Domain.AgentStatus> = []
  for (const d of records) {
    if (d._tag === "contact") contacts.push(d.value)
    else if (d._tag === "aggregate") aggregates.push(d.value)
    else statuses.push(d.value)
  }
  return { contacts, aggregates, statuses }
}

/** Streams one query's rows over a window, decoded; the first bad row fails the stream. */
const readRecords = (
  source: Source,
  config: SqlConfig,
  plan: Plan,
  window: Connector.Window,
  sliced = true
): Stream.Stream<Decoded, Connector.ConnectorError> =>
  Stream.suspend(() => {
    const ctx = timeContext(config)
    const decodeRow = decode(config, plan, ctx)
    let index = 0
    const parts = sliced ? slices(window, sliceMinutesFor(config.driver, config.sliceMinutes)) : [window]
    return Stream.fromIterable(parts).pipe(
      Stream.flatMap((slice) =>
        source.rows(plan.prepared, parameterValues(config, plan.prepared, slice)).pipe(
          Stream.mapError((f: SourceFailure) => classify(f.cause, failureContext(config, plan.name)))
        )
      ),
      Stream.mapChunksEffect((rows) => {
        const out: Array<Decoded> = []
        for (const row of rows) {
          index++
          const decoded = decodeRow(row)
          if (Either.isLeft(decoded)) {
            return Effect.fail(
              new Connector.InvalidData({
                record: `${plan.name} row ${index}`,
                reason: `column ${decoded.left.column}: ${decoded.left.reason}`
              })
            )
          }
          out.push(decoded.right)
        }
        return Effect.succeed(Chunk.unsafeFromArray(out))
      }),
      Stream.filter(inWindow(window))
    )
  })

/**
 * Reads a window: the contacts query, then the agent statuses query, each run once (or once
 * per slice) with `:from`/`:to` bound to the window; rows outside [from, to) are dropped so
 * a re-imported window never adds data beyond its bounds.
 *
 * @since 0.1.0 @category reading
 */
export const pull = (config: SqlConfig, window: Connector.Window): Stream.Stream<Domain.Batch, Connector.ConnectorError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const planned = yield* plans(config, ["contacts", "agentStatuses"])
    const source = yield* openSource(config)
    return Stream.concatAll(Chunk.fromIterable(planned.map((plan) => readRecords(source, config, plan, window)))).pipe(
      Stream.rechunk(config.batchSize),
      Stream.chunks,
      Stream.map(toBatch)
    )
  }))

const statusKey = (s: Domain.AgentStatus) =>
  `${s.agentIdentifier}\u0000${s.activityIdentifier}\u0000${s.start.epochMillis}\u0000${s.end?.epochMillis ?? ""}`

/**
 * Polls agent statuses every `realtime.pollSeconds` (default 10) over the last
 * `realtime.lookbackMinutes`, emitting the statuses that are new or changed since the
 * previous poll (all of them on the first poll). One connection pool is kept open for the
 * stream's lifetime.
 *
 * @since 0.1.0 @category reading
 */
export const realtime = (config: SqlConfig): Stream.Stream<Domain.Batch, Connector.ConnectorError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const [plan] = yield* plans(config, ["realtime"])
    if (plan === undefined) {
      return yield* new Connector.InvalidData({
        record: "realtime query",
        reason: "realtime polling needs realtime.query or an agentStatuses query"
      })
    }
    const source = yield* openSource(config)
    const pollSeconds = config.realtime?.pollSeconds ?? 10
    const lookbackMs = (config.realtime?.lookbackMinutes ?? 720) * 60_000
    let previous = new Set<string>()
    const poll = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const window = { from: DateTime.unsafeMake(now - lookbackMs), to: DateTime.unsafeMake(now + 1) }
      // one query per poll: slicing is for long historical windows
      const records = yield* Stream.runCollect(readRecords(source, config, plan, window, false))
      const current = new Set<string>()
      const changed: Array<Domain.AgentStatus> = []
      for (const d of records) {
        if (d._tag !== "status") continue
        const k = statusKey(d.value)
        current.add(k)
        if (!previous.has(k)) changed.push(d.value)
      }
      previous = current
      return changed
    })
    return Stream.repeatEffectWithSchedule(poll, Schedule.spaced(Duration.seconds(pollSeconds))).pipe(
      Stream.filter((changed) => changed.length > 0),
      Stream.map((statuses): Domain.Batch => ({ contacts: [], aggregates: [], statuses }))
    )
  }))

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

const categoryWords: Record<Column["category"], string> = {
  text: "text",
  number: "a number",
  boolean: "true/false",
  timestamp: "a timestamp",
  date: "a date without time",
  unknown: "of an unknown type"
}

/** Compares a result's columns with what the layout needs, in an administrator's words. */
const compareColumns = (
  name: QueryName,
  specs: ReadonlyArray<ColumnSpec>,
  columns: ReadonlyArray<Column>
): Connector.CheckItem => {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c] as const))
  const problems: Array<string> = []
  const missing = specs.filter((s) => s.required && !byName.has(s.name))
  if (missing.length > 0) {
    problems.push(
      `it returns no column ${missing.map((s) => `"${s.name}" (${s.expects})`).join(", ")}; ` +
        `name the columns with AS, e.g. SELECT q.id AS ${missing[0]!.name}`
    )
  }
  for (const spec of specs) {
    const column = byName.get(spec.name)
    if (!column || column.category === "unknown" || column.category === "date") {
      if (column?.category === "date") {
        problems.push(`column "${spec.name}" is a date without time; it must be ${spec.expects}`)
      }
      continue
    }
    if (!spec.accepts.includes(column.category)) {
      problems.push(
        `column "${spec.name}" is ${categoryWords[column.category]}${column.type ? ` (${column.type})` : ""}; ` +
          `it must be ${spec.expects}`
      )
    }
  }
  const known = new Set(specs.map((s) => s.name))
  const unused = columns.filter((c) => !known.has(c.name.toLowerCase())).map((c) => c.name)
  return {
    name: `${name} columns`,
    ok: problems.length === 0,
    detail: problems.length > 0
      ? `The ${name} query: ${problems.join("; ")}.`
      : `The ${name} query returns the expected columns` +
        (unused.length > 0 ? ` (not used: ${unused.join(", ")})` : "") + "."
  }
}

const describeError = (e: Connector.ConnectorError): string => e.message

/**
 * What the login may do beyond reading, as check items. `login privileges` fails for a login
 * that can reach outside the database or take over the server (superuser, running programs,
 * writing the server's files, granting itself roles): the read-only transaction does not stop
 * dblink to its own database or admin functions, and the guard's list of functions can't know
 * a customer's own. Write privileges and CREATE are reported as `login privileges (warning)`,
 * which does not fail the check (the contract has no warning level: its detail starts with
 * "Warning:"). Each finding comes with the statement that takes it away.
 */
const privilegeItems = (
  dialect: SqlConfig["driver"],
  result: Either.Either<LoginPrivileges | undefined, Connector.ConnectorError>
): Array<Connector.CheckItem> => {
  if (Either.isLeft(result)) {
    return [{
      name: "login privileges (warning)",
      ok: true,
      detail: `Warning: the login's privileges could not be checked (${describeError(result.left)}). ` +
        "Make sure it can only read."
    }]
  }
  const privileges = result.right
  if (privileges === undefined) return []
  const login = JSON.stringify(privileges.login)
  const fails = privileges.findings.filter((f) => f.severity === "fail")
  const warns = privileges.findings.filter((f) => f.severity === "warn")
  const grant = readOnlyGrant(dialect, privileges.login)
  const items: Array<Connector.CheckItem> = [
    fails.length > 0
      ? {
        name: "login privileges",
        ok: false,
        detail: `The login ${login} can do far more than read, and the read-only transaction does not stop all ` +
          `of it: ${fails.map((f) => f.problem).join("; ")}. Fix: ${fails.map((f) => f.fix).join(" ")} ` +
          `Better, give the connector a login that can only read: ${grant}`
      }
      : {
        name: "login privileges",
        ok: true,
        detail: `The login ${login} is not a superuser and can't reach outside the database.`
      }
  ]
  if (warns.length > 0) {
    items.push({
      name: "login privileges (warning)",
      ok: true,
      detail: `Warning: the login ${login} can write. Queries run read-only, which stops plain writes but not ` +
        `every function: ${warns.map((f) => f.problem).join("; ")}. Fix: ${warns.map((f) => f.fix).join(" ")}`
    })
  }
  return items
}

/**
 * Tests a configuration: connects (a rejected login is reported as such, an unreachable host
 * as unreachable), reports what the login may do beyond reading (a superuser or a login that
 * can reach outside the database fails the check, one that can write gets a warning item,
 * each with the GRANT/REVOKE that fixes it), runs each query on an empty window and compares the columns it returns
 * with the ones its layout needs (names and, where the driver reports them, types), then
 * reads a sample of the last 24 hours and reports the first row that can't be read.
 *
 * @since 0.1.0 @category checking
 */
export const check = (config: SqlConfig): Effect.Effect<Connector.CheckReport> =>
  Effect.scoped(Effect.gen(function*() {
    const items: Array<Connector.CheckItem> = []
    const target = describeTarget(config.connection, defaultPorts[config.driver])
    const opened = yield* Effect.either(openSource(config))
    if (Either.isLeft(opened)) {
      const e = opened.left
      items.push({
        name: "connection",
        ok: false,
        detail: e._tag === "AuthFailed"
          ? `The database refused the login or the database: ${e.reason}`
          : e._tag === "Transient"
          ? `Could not reach the database: ${e.reason}`
          : describeError(e)
      })
      return { ok: false, items }
    }
    const source = opened.right
    items.push({ name: "connection", ok: true, detail: `Connected to ${dialectName[config.driver]} at ${target}.` })
    const privileges = yield* Effect.either(
      source.privileges.pipe(Effect.mapError((f) => classify(f.cause, failureContext(config, "privileges"))))
    )
    items.push(...privilegeItems(config.driver, privileges))
    const planned = plans(config, ["contacts", "agentStatuses", ...(config.realtime?.query ? ["realtime" as const] : [])])
    if (Either.isLeft(planned)) {
      items.push({ name: planned.left.record, ok: false, detail: planned.left.reason })
      return { ok: false, items }
    }
    const now = yield* Clock.currentTimeMillis
    const instant = DateTime.unsafeMake(now - (now % 60_000))
    const empty: Connector.Window = { from: instant, to: instant }
    const recent: Connector.Window = { from: DateTime.unsafeMake(now - 24 * 3600_000), to: DateTime.unsafeMake(now) }
    for (const plan of planned.right) {
      items.push({ name: `${plan.name} query`, ok: true, detail: `The ${plan.name} query is a single read-only SELECT.` })
      const specs = columnSpecs(plan.layout, plan.layout === "interval" && config.contacts?.intervalMinutes !== undefined)
      const columns = yield* Effect.either(
        source.columns(plan.prepared, parameterValues(config, plan.prepared, empty)).pipe(
          Effect.mapError((f) => classify(f.cause, failureContext(config, plan.name)))
        )
      )
      if (Either.isLeft(columns)) {
        items.push({ name: `${plan.name} runs`, ok: false, detail: describeError(columns.left) })
        continue
      }
      items.push({ name: `${plan.name} runs`, ok: true, detail: `The ${plan.name} query runs on an empty window.` })
      if (columns.right !== undefined) items.push(compareColumns(plan.name, specs, columns.right))
      // a sample of real rows: values the column types don't reveal (a channel spelled
      // differently, text in a timestamp column)
      const sample = yield* Effect.either(
        source.rows(plan.prepared, parameterValues(config, plan.prepared, recent)).pipe(
          Stream.take(100),
          Stream.runCollect,
          Effect.mapError((f) => classify(f.cause, failureContext(config, plan.name)))
        )
      )
      if (Either.isLeft(sample)) {
        items.push({ name: `${plan.name} sample`, ok: false, detail: describeError(sample.left) })
        continue
      }
      const rows = Chunk.toReadonlyArray(sample.right)
      if (columns.right === undefined && rows.length > 0) {
        items.push(
          compareColumns(
            plan.name,
            specs,
            Object.keys(rows[0]!).map((name) => ({ name, type: undefined, category: "unknown" as const }))
          )
        )
      }
      const decodeRow = decode(config, plan, timeContext(config))
      let problem: Option.Option<string> = Option.none()
      for (let i = 0; i < rows.length && Option.isNone(problem); i++) {
        const d = decodeRow(rows[i]!)
        if (Either.isLeft(d)) {
          const value = rows[i]![d.left.column] ?? rows[i]![d.left.column.toUpperCase()]
          problem = Option.some(
            `Row ${i + 1} of the last 24 hours can't be read: column "${d.left.column}": ${d.left.reason}` +
              (value !== undefined && !d.left.reason.includes(describe(value)) ? ` (value ${describe(value)})` : "") +
              "."
          )
        }
      }
      items.push({
        name: `${plan.name} sample`,
        ok: Option.isNone(problem),
        detail: Option.getOrElse(
          problem,
          () =>
            rows.length === 0
              ? `No ${plan.name} rows in the last 24 hours to sample.`
              : `The first ${rows.length} ${plan.name} rows of the last 24 hours read correctly.`
        )
      })
    }
    return { ok: items.every((i) => i.ok), items }
  }))

/**
 * Builds the connector value; `key` and `displayName` can be changed to register it twice.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (
  options: { readonly key?: string; readonly displayName?: string } = {}
): Connector.Connector<SqlConfig, SqlConfigEncoded> =>
  Connector.make({
    key: options.key ?? key,
    displayName: options.displayName ?? "SQL database (PostgreSQL, MySQL, SQL Server, SQLite)",
    deliveryModes: ["on-premise"],
    dataKinds: ["contacts", "agentStatuses"],
    configSchema: SqlConfig,
    pull,
    realtime,
    check
  })

/**
 * The sql connector, ready to register: `ConnectorRegistry.layer(SqlConnector.connector)`.
 *
 * @since 0.1.0 @category connectors
 */
export const connector: Connector.Connector<SqlConfig, SqlConfigEncoded> = make()
