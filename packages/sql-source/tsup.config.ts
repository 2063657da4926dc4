import { defineConfig } from "tsup"
import { options } from "../../tsup.base.js"

export default defineConfig(options())
