import { defineConfig } from "tsup"
import { options } from "../../tsup.base.js"

// the simulator is an entry of its own, so the main entry never loads it (nor the testkit)
export default defineConfig(options(["src/index.ts", "src/simulator.ts"]))
