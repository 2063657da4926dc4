import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

// The app is served by the server under /admin, so every asset URL starts with /admin/.
export default defineConfig({
  root: fileURLToPath(new URL("./app", import.meta.url)),
  base: "/admin/",
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("./dist/app", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // the polyfill would be an inline script, which the console's CSP refuses
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 200
  }
})
