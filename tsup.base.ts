import type { Options } from "tsup"

/**
 * tsup bundles the JavaScript only. Declarations come from `tsc -b` (build/tsc/src), which
 * writes one file per module: a single bundled .d.ts can't name the types a package re-exports
 * through namespaces (`Ingest.PushOptions`), a per-module one can.
 */
export const options = (entry: Array<string> = ["src/index.ts"]): Options => ({
  entry,
  format: ["esm"],
  dts: false,
  clean: true,
  sourcemap: true,
  target: "node20",
  outDir: "dist"
})
