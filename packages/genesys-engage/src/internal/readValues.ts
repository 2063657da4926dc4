/**
 * Reading Info Mart values: instants are UTC epoch seconds, 15-minute keys the interval start
 * in epoch seconds; numbers may come back as strings or bigints depending on the driver.
 *
 * @internal
 */
import { Connector } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { GenesysConfig, TableName } from "../GenesysConfig.js"

export const QUARTER_S = 900

/** The name a standard table has in this deployment (schema-qualified when configured). @internal */
export const table = (config: GenesysConfig, name: TableName): string => {
  const actual = config.tables[name] ?? name
  return config.schema === undefined ? actual : `${config.schema}.${actual}`
}

export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ")

export const invalid = (record: string, reason: string) => new Connector.InvalidData({ record, reason })

/**
 * Reads an integer the driver returned (PostgreSQL gives BIGINT and SUM as strings).
 * `null`/`undefined` give `null`.
 */
export const intOrNull = (value: unknown, record: string, field: string): Effect.Effect<number | null, Connector.InvalidData> => {
  if (value === null || value === undefined) return Effect.succeed(null)
  const n = typeof value === "number"
    ? value
    : typeof value === "bigint"
    ? Number(value)
    : typeof value === "string" && /^\s*-?\d+(\.0+)?\s*$/.test(value)
    ? Number(value)
    : Number.NaN
  if (!Number.isSafeInteger(n)) {
    return Effect.fail(invalid(record, `${field} is ${JSON.stringify(String(value))}, not a whole number`))
  }
  return Effect.succeed(n)
}

export const int = (value: unknown, record: string, field: string): Effect.Effect<number, Connector.InvalidData> =>
  Effect.flatMap(intOrNull(value, record, field), (n) =>
    n === null ? Effect.fail(invalid(record, `${field} is empty`)) : Effect.succeed(n))

export const nonNegative = (value: unknown, record: string, field: string): Effect.Effect<number, Connector.InvalidData> =>
  Effect.flatMap(int(value, record, field), (n) =>
    n < 0 ? Effect.fail(invalid(record, `${field} is negative (${n})`)) : Effect.succeed(n))

export const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : typeof value === "string" ? value : String(value)

export const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/** Seconds bounds of a window given in epoch ms: instants t (s) with from ≤ t·1000 < to. */
export const secondsOf = (fromMs: number, toMs: number) => ({ from: Math.ceil(fromMs / 1000), to: Math.ceil(toMs / 1000) })

export const mediaCodes = (config: GenesysConfig) => Object.keys(config.channels)

