import { defineConfig } from "tsup"
import { options } from "../../tsup.base.js"

// only the Node entry (where the built app lies, and its routes); Vite builds the app into
// dist/app first, so tsup must not clean dist
export default defineConfig({ ...options(["src/index.ts"]), clean: false })
