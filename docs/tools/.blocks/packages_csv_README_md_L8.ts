import { ConnectorRegistry, Domain, Engine, Storage } from "@acd-bridge/core"
import { CsvConnector, CsvImporter } from "@acd-bridge/csv"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const Host = CsvImporter.CsvImporter.Default.pipe(
  Layer.provideMerge(Engine.layer),
  Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, ConnectorRegistry.layer(CsvConnector.connector)))
)

// watch an integration's drop folder every 30 s until interrupted
const program = (integration: Domain.Integration) =>
  Effect.flatMap(CsvImporter.CsvImporter, (importer) => importer.watch(integration, "30 seconds"))

export {}
