import { ConnectorRegistry, Domain, Engine, type Errors, Integrations, Intervals, Storage } from "@acd-bridge/core"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { CsvConfigEncoded } from "../src/CsvConfig.js"
import { CsvConfig } from "../src/CsvConfig.js"
import * as CsvConnector from "../src/CsvConnector.js"
import { CsvImporter } from "../src/CsvImporter.js"

export const tenant = Domain.TenantId.make("tenant-csv")

/** A fresh temporary folder, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "acd-csv-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

export const write = (dir: string, name: string, content: string | Buffer): string => {
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
  return file
}

export const decode = (config: CsvConfigEncoded) => Schema.decodeUnknownSync(CsvConfig)(config)

/** The engine with the csv connector, memory storage, and the importer. */
export type TestServices = Engine.Services | CsvImporter | Storage.Storage | ConnectorRegistry.ConnectorRegistry

export const storageLayer = (storage: Layer.Layer<Storage.Storage> = Storage.layerMemory): Layer.Layer<TestServices> =>
  CsvImporter.Default.pipe(
    Layer.provideMerge(Engine.layer),
    Layer.provideMerge(Layer.mergeAll(storage, ConnectorRegistry.layer(CsvConnector.connector)))
  )

export const TestEngine: Layer.Layer<TestServices> = storageLayer()

export type CreateError =
  | Errors.UnknownConnector
  | Errors.DeliveryModeNotSupported
  | Errors.InvalidRequest
  | Errors.InvalidConfig
  | Errors.StorageError

export const createIntegration = (
  config: CsvConfigEncoded,
  timezone = "Europe/Berlin"
): Effect.Effect<Domain.Integration, CreateError, Integrations.Integrations> =>
  Effect.flatMap(Integrations.Integrations, (s) =>
    s.create(tenant, { name: "CSV", connector: "csv", timezone, config })).pipe(
      Effect.map((r) => r.integration)
    )

/** Interval totals of an integration over a range, per queue and interval. */
export interface Total {
  readonly queue: string
  readonly name: string
  readonly channel: Domain.Channel
  readonly start: string
  readonly offered: number
  readonly handled: number
  readonly handlingSeconds: number
  readonly unhandledSeconds: number
}

export const totals = (
  integrationId: Domain.IntegrationId,
  from: string,
  to: string,
  length: 15 | 30 | 60 = 15,
  timezone = "Europe/Berlin"
): Effect.Effect<ReadonlyArray<Total>, Errors.InvalidRequest | Errors.StorageError, Intervals.Intervals> =>
  Effect.flatMap(Intervals.Intervals, (s) =>
    s.query(tenant, {
      integrationId,
      from: DateTime.unsafeMake(from),
      to: DateTime.unsafeMake(to),
      length,
      timezone
    })).pipe(
      Effect.map((rows) =>
        rows.map((r) => ({
          queue: r.queueIdentifier,
          name: r.queueName,
          channel: r.channel,
          start: r.start,
          offered: r.offered,
          handled: r.handled,
          handlingSeconds: r.handlingSeconds,
          unhandledSeconds: r.unhandledSeconds
        }))
      )
    )

export const sum = (rows: ReadonlyArray<{ readonly offered: number; readonly handled: number; readonly handlingSeconds: number }>) =>
  rows.reduce(
    (acc, r) => ({
      offered: acc.offered + r.offered,
      handled: acc.handled + r.handled,
      handlingSeconds: Math.round((acc.handlingSeconds + r.handlingSeconds) * 1000) / 1000
    }),
    { offered: 0, handled: 0, handlingSeconds: 0 }
  )

export const contactsConfig = (folder: string, extra: Partial<Record<string, unknown>> = {}): CsvConfigEncoded =>
  ({
    source: { folder },
    layout: "contacts",
    channel: "calls",
    timestampFormat: "YYYY-MM-DD HH:mm:ss",
    columns: {
      queueIdentifier: "Queue",
      queueName: "Queue name",
      timestamp: "Start",
      offered: "Offered",
      handled: "Handled",
      duration: "Duration"
    },
    ...extra
  }) as CsvConfigEncoded

export const contactsHeader = "Queue,Queue name,Start,Offered,Handled,Duration\n"
