import { Storage } from "@acd-bridge/core"
import * as Layer from "effect/Layer"
import { StorageDriver } from "@acd-bridge/core"
import { DriverSuite, StorageSuite } from "../src/index.js"
import * as HostDriver from "./fixtures/hostDriver.js"

// a host's own driver, as small as it gets, passes the driver suite; `Storage.make` then gives
// it every rule of storage, which the whole storage suite checks
const driver = Layer.effect(StorageDriver.StorageDriver, HostDriver.make)
DriverSuite.suite("a minimal host driver", driver)
StorageSuite.suite("a minimal host driver", Storage.layer.pipe(Layer.provide(driver)))
