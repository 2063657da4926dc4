import { StorageSuite } from "../../testkit/src/index.js"
import * as Storage from "../src/Storage.js"

StorageSuite.suite("memory", Storage.layerMemory)
