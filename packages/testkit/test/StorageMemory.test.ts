import { Storage, StorageDriver } from "@acd-bridge/core"
import { DriverSuite, StorageSuite } from "../src/index.js"

// the in-memory store must behave exactly like the SQL stores: the same suites run against all
DriverSuite.suite("memory", StorageDriver.layerMemory)
StorageSuite.suite("memory", Storage.layerMemory)
