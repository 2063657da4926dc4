/**
 * What the storage suites share: unique names (the suites' stores keep data between cases),
 * a fresh integration, and deep comparison of domain values as plain data.
 *
 * @internal
 */
import { Domain, LinkModel } from "@acd-bridge/core"
import { assert } from "@effect/vitest"
import * as DateTime from "effect/DateTime"

let counter = 0

/** A name no other case uses. */
export const unique = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`

export const T0 = Date.parse("2026-03-02T09:00:00Z")
export const at = (ms: number) => DateTime.unsafeMake(ms)

/** A fresh integration of a fresh tenant (or the given one). */
export const integration = (overrides: Partial<ConstructorParameters<typeof Domain.Integration>[0]> = {}) =>
  new Domain.Integration({
    id: Domain.IntegrationId.make(unique("int")),
    tenantId: Domain.TenantId.make(unique("tenant")),
    name: "Main ACD",
    connector: "api-push",
    deliveryMode: "cloud",
    dataKinds: ["contacts", "agentStatuses"],
    schedule: { type: "historical", everyMinutes: 15 },
    timezone: "Europe/Berlin",
    config: { folder: "/in", nested: { list: [1, 2, 3] } },
    historyDepthDays: 1095,
    status: "active",
    failing: null,
    createdAt: at(T0),
    updatedAt: at(T0),
    deletedAt: null,
    ...overrides
  })

/** Values as plain data (DateTime → epoch ms, class instances → objects) for deep comparison. */
export const plain = (value: unknown): unknown => {
  if (DateTime.isDateTime(value)) return DateTime.toEpochMillis(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value instanceof Map) return Array.from(value, ([k, v]) => [plain(k), plain(v)])
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

/** Deep equality of `plain` values. */
export const sameValue = (actual: unknown, expected: unknown, message?: string) =>
  assert.deepStrictEqual(plain(actual), plain(expected), message)

/** A registered link of the tenant. */
export const link = (tenantId: Domain.TenantId, overrides: Partial<ConstructorParameters<typeof LinkModel.Link>[0]> = {}) =>
  new LinkModel.Link({
    id: Domain.LinkId.make(unique("link")),
    tenantId,
    name: "Site",
    prefix: "acdl_abcdefg",
    hash: unique("hash"),
    createdAt: at(T0),
    revokedAt: null,
    lastSeenAt: null,
    agentVersion: null,
    protocol: null,
    serves: [],
    ...overrides
  })

/** A pending window task of the integration over [from, to). */
export const linkTask = (
  i: Domain.Integration,
  overrides: Partial<ConstructorParameters<typeof LinkModel.LinkTask>[0]> = {}
) =>
  new LinkModel.LinkTask({
    id: unique("task"),
    tenantId: i.tenantId,
    integrationId: i.id,
    linkId: null,
    connector: i.connector,
    kind: "window",
    runKind: "pull",
    planTask: "incremental",
    windowFrom: T0,
    windowTo: T0 + 900_000,
    watermarkStream: "incremental",
    watermarkValue: T0 + 900_000,
    snapshot: {},
    progress: null,
    file: null,
    position: null,
    state: "pending",
    epoch: 0,
    leaseId: null,
    leasedBy: null,
    leaseUntil: null,
    attempts: 0,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: null,
    answer: null,
    error: null,
    sourceError: null,
    ...overrides
  })
