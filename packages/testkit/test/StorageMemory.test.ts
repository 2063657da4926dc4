import { Storage } from "@acd-bridge/core"
import { StorageSuite } from "../src/index.js"

// the in-memory store must behave exactly like the SQL stores: the same suite runs against all
StorageSuite.suite("memory", Storage.layerMemory)
