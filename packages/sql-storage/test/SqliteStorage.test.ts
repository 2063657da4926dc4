import { DriverSuite, StorageSuite } from "@acd-bridge/testkit"
import * as Layer from "effect/Layer"
import { SqlStorage } from "../src/index.js"
import { sqliteClient, tempSqliteFile } from "./utils.js"

DriverSuite.suite("SQLite", SqlStorage.layerDriver().pipe(Layer.provide(sqliteClient(tempSqliteFile()))))
StorageSuite.suite("SQLite", SqlStorage.layerSqlite({ filename: tempSqliteFile() }))
