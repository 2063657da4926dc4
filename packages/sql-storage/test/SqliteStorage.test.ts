import { StorageSuite } from "@acd-bridge/testkit"
import { SqlStorage } from "../src/index.js"
import { tempSqliteFile } from "./utils.js"

StorageSuite.suite("SQLite", SqlStorage.layerSqlite({ filename: tempSqliteFile() }))
