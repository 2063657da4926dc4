/**
 * Cutting a window into slices, so that one query never covers more than a bounded span.
 */
import type { Connector } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import type { Dialect } from "./dialect.js"

/** The slice length that applies: the configured one, or 60 minutes on SQL Server. @internal */
export const sliceMinutesFor = (dialect: Dialect, configured: number | undefined): number | undefined =>
  configured ?? (dialect === "mssql" ? 60 : undefined)

/** [from, to) as consecutive [a, b) slices of at most `minutes`. @internal */
export const slices = (window: Connector.Window, minutes: number | undefined): ReadonlyArray<Connector.Window> => {
  const from = DateTime.toEpochMillis(window.from)
  const to = DateTime.toEpochMillis(window.to)
  if (minutes === undefined || to - from <= minutes * 60_000) return [window]
  const out: Array<Connector.Window> = []
  for (let t = from; t < to; t += minutes * 60_000) {
    out.push({ from: DateTime.unsafeMake(t), to: DateTime.unsafeMake(Math.min(to, t + minutes * 60_000)) })
  }
  return out
}
