import { DriverSuite, StorageSuite } from "@acd-bridge/testkit"
import * as Layer from "effect/Layer"
import { SqlStorage } from "../src/index.js"
import { freshPgDatabase, layerFromScoped, pgClient } from "./utils.js"

DriverSuite.suite(
  "PostgreSQL",
  layerFromScoped(freshPgDatabase, (url) => SqlStorage.layerDriver().pipe(Layer.provide(pgClient(url, 10))))
)
StorageSuite.suite("PostgreSQL", layerFromScoped(freshPgDatabase, (url) => SqlStorage.layerPg({ url })))
