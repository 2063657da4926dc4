import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/index.ts", "src/Scenario.ts", "src/FakeSource.ts", "src/FakeConnector.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  outDir: "dist"
})
