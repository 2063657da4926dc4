import { StorageSuite } from "@acd-bridge/testkit"
import { SqlStorage } from "../src/index.js"
import { freshPgDatabase, layerFromScoped } from "./utils.js"

StorageSuite.suite("PostgreSQL", layerFromScoped(freshPgDatabase, (url) => SqlStorage.layerPg({ url })))
